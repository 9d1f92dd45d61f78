-- object: company
-- accounts from HubSpot companies. Definitions: docs/sources.md#hubspot. Each column
-- takes the UI label's column, else the connector's internal name.
--   account_id: Record ID / hs_object_id / id;
--   domain: Company Domain Name / domain, lower case, without scheme, `www.` (any case:
--     `WWW.Example.com` is example.com), path, port or query;
--   industry: words capitalised, `_` as a space (the label `Computer Software` and the
--     internal value `COMPUTER_SOFTWARE` are both `Computer Software`);
--   employees: Number of Employees / numberofemployees, a trailing `.0` dropped (a
--     connector's number column writes `150.0`);
--   country: Country/Region / country; annual_revenue: Annual Revenue / annualrevenue;
--   created_at: Create Date / createdate.
-- Fivetran's layout: the internal names prefixed `property_` (property_name,
-- property_domain, ...), taken after the other spellings.
SELECT
    COALESCE(record_id, hs_object_id, id) AS account_id,
    COALESCE(company_name, name, property_name) AS name,
    NULLIF(regexp_replace(regexp_replace(lower(COALESCE(company_domain_name, domain, property_domain)),
                                         '^[a-z]+://', ''),
                          '^www\.|[/:?#].*$', '', 'g'), '') AS domain,
    initcap(replace(COALESCE(industry, property_industry), '_', ' ')) AS industry,
    regexp_replace(COALESCE(number_of_employees, numberofemployees, property_numberofemployees), '\.0+$', '') AS employees,
    COALESCE(country_region, country, property_country) AS country,
    COALESCE(annual_revenue, annualrevenue, property_annualrevenue) AS annual_revenue,
    (COALESCE(create_date, createdate, property_createdate)) AS created_at
FROM company
