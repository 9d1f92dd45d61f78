-- Salesforce Account export -> canonical accounts.
SELECT
    "Id" AS account_id,
    "Name" AS name,
    "Website" AS domain,
    lower("Industry") AS industry,
    "NumberOfEmployees" AS employees,
    "BillingCountry" AS country
FROM sf_account
