-- object: contact
-- contacts from Salesforce Contact (roles come from OpportunityContactRole).
SELECT
    id AS contact_id,
    account_id,
    title,
    email,
    (created_date) AS created_at
FROM contact
