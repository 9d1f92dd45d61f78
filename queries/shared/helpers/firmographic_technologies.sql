-- firmographic_technologies: one row per CRM account or provider company and technology
-- it uses: the `;`-separated `technologies` list split, trimmed, lower-cased,
-- de-duplicated, blanks dropped. Helper of firmographics, icp_levels and icp_segments
-- (they join these rows instead of unnesting a list column, which Ballista's plan
-- serialisation cannot do inside a larger query; docs/benchmarks.md, Ballista).
-- grain: source, id, technology
SELECT DISTINCT source, id, lower(trim(tech)) AS technology
FROM (
    SELECT 'account' AS source, account_id AS id, unnest(string_to_array(technologies, ';')) AS tech
    FROM accounts
    WHERE technologies IS NOT NULL
    UNION ALL
    SELECT 'company', company_id, unnest(string_to_array(technologies, ';'))
    FROM companies
    WHERE technologies IS NOT NULL
) t
WHERE trim(tech) <> ''
