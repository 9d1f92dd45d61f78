-- object: account
-- accounts from Salesforce Account. Definitions: docs/sources.md#salesforce.
--   domain: Website without scheme, `www.`, path, port or query, lower case.
SELECT
    id AS account_id,
    name,
    NULLIF(lower(regexp_replace(regexp_replace(website, '^[a-zA-Z]+://', ''),
                                '^www\.|[/:?#].*$', '', 'g')), '') AS domain,
    industry,
    number_of_employees AS employees,
    billing_country AS country,
    annual_revenue,
    (created_date) AS created_at
FROM account
