-- object: contact
-- contacts from Salesforce Contact (roles come from OpportunityContactRole).
SELECT
    id AS contact_id,
    account_id,
    title,
    email,
    left(replace(created_date, 'T', ' '), 19) AS created_at
FROM contact
