-- Salesforce Opportunity export -> canonical opportunities.
SELECT
    "Id" AS opportunity_id,
    "AccountId" AS account_id,
    "CreatedDate" AS created_at,
    "CloseDate" AS closed_at,
    CASE "StageName" WHEN 'Closed Won' THEN 'won' WHEN 'Closed Lost' THEN 'lost' ELSE 'open' END AS status,
    "Amount" AS amount,
    lower(replace("Type", ' ', '_')) AS type,
    'marketing' AS source,
    "ContactId" AS primary_contact_id
FROM sf_opportunity
