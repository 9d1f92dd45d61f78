-- object: company
-- accounts from HubSpot companies. Definitions: docs/sources.md#hubspot. Each column
-- takes the UI label's column, else the connector's internal name.
--   account_id: Record ID / hs_object_id / id;
--   domain: Company Domain Name / domain without scheme, `www.`, path, port or query,
--     lower case;
--   industry: words capitalised, `_` as a space (the label `Computer Software` and the
--     internal value `COMPUTER_SOFTWARE` are both `Computer Software`);
--   employees: Number of Employees / numberofemployees, a trailing `.0` dropped (a
--     connector's number column writes `150.0`);
--   country: Country/Region / country; annual_revenue: Annual Revenue / annualrevenue;
--   created_at: Create Date / createdate.
SELECT
    COALESCE(record_id, hs_object_id, id) AS account_id,
    COALESCE(company_name, name) AS name,
    NULLIF(lower(regexp_replace(regexp_replace(COALESCE(company_domain_name, domain), '^[a-zA-Z]+://', ''),
                                '^www\.|[/:?#].*$', '', 'g')), '') AS domain,
    initcap(replace(industry, '_', ' ')) AS industry,
    regexp_replace(COALESCE(number_of_employees, numberofemployees), '\.0+$', '') AS employees,
    COALESCE(country_region, country) AS country,
    COALESCE(annual_revenue, annualrevenue) AS annual_revenue,
    (COALESCE(create_date, createdate)) AS created_at
FROM company
