-- firmographics: one profile per CRM account and per company of the data provider's
-- universe (`companies`), in one shape, for the ICP and look-alike outputs.
--   industry, region: as given, '(unknown)' when empty;
--   size_band by employees: 1-49, 50-199, 200-999, 1000-4999, 5000+, '(unknown)';
--   technologies: the `;`-separated list, trimmed, lower-cased, de-duplicated and
--        sorted (firmographic_technologies), NULL when there is none; tech_key is the same list joined by ';'
--        ('' when none);
--   company link: a company is the account whose domain matches (lower-cased,
--        leading 'www.' removed; the smallest account_id when several share one),
--        else the account whose account_id equals its company_id.
-- grain: source, id
WITH entities AS (
    SELECT 'account' AS source, account_id AS id, name, domain, industry, employees,
           region, COALESCE(is_target, false) AS is_target
    FROM accounts
    UNION ALL
    SELECT 'company', company_id, name, domain, industry, employees, region, false
    FROM companies
),
tech_lists AS (
    SELECT source, id, array_sort(array_agg(technology)) AS technologies
    FROM firmographic_technologies
    GROUP BY source, id
),
domain_accounts AS (
    SELECT regexp_replace(lower(trim(domain)), '^www\.', '') AS domain_key,
           MIN(account_id) AS account_id
    FROM accounts
    WHERE domain IS NOT NULL AND trim(domain) <> ''
    GROUP BY 1
),
company_links AS (
    SELECT c.company_id, COALESCE(d.account_id, a.account_id) AS account_id
    FROM companies c
    LEFT JOIN domain_accounts d
        ON d.domain_key = regexp_replace(lower(trim(c.domain)), '^www\.', '')
    LEFT JOIN accounts a ON a.account_id = c.company_id
)
SELECT
    e.source,
    e.id,
    CASE WHEN e.source = 'account' THEN e.id ELSE l.account_id END AS account_id,
    e.name,
    e.domain,
    COALESCE(NULLIF(trim(e.industry), ''), '(unknown)') AS industry,
    CASE
        WHEN e.employees IS NULL THEN '(unknown)'
        WHEN e.employees < 50 THEN '1-49'
        WHEN e.employees < 200 THEN '50-199'
        WHEN e.employees < 1000 THEN '200-999'
        WHEN e.employees < 5000 THEN '1000-4999'
        ELSE '5000+'
    END AS size_band,
    COALESCE(NULLIF(trim(e.region), ''), '(unknown)') AS region,
    t.technologies,
    COALESCE(array_to_string(t.technologies, ';'), '') AS tech_key,
    e.is_target
FROM entities e
LEFT JOIN tech_lists t ON t.source = e.source AND t.id = e.id
LEFT JOIN company_links l ON e.source = 'company' AND l.company_id = e.id
