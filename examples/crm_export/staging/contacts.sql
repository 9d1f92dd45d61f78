-- Salesforce Contact export -> canonical contacts, with buying-committee roles
-- derived from job titles.
SELECT
    "Id" AS contact_id,
    "AccountId" AS account_id,
    CASE
        WHEN "Title" ILIKE '%CFO%' OR "Title" ILIKE 'VP%' THEN 'economic_buyer'
        WHEN "Title" ILIKE '%CTO%' OR "Title" ILIKE '%IT %' THEN 'technical_buyer'
        WHEN "Title" ILIKE '%procurement%' THEN 'procurement'
        ELSE 'unknown'
    END AS role,
    "Title" AS title,
    "Email" AS email,
    "CreatedDate" AS created_at
FROM sf_contact
