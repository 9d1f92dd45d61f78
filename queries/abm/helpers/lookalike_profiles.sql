-- lookalike_profiles: the prospects of the look-alike ranking and their profile, for
-- lookalike_scores. Prospects are accounts that never were customers (account_value)
-- and companies not linked to an account that was. A profile is one distinct
-- (industry, size_band, region, technologies); profile_id numbers them so the
-- similarity is computed once per profile, not per prospect.
-- grain: source, id
WITH prospects AS (
    SELECT f.source, f.id, f.industry, f.size_band, f.region, f.tech_key
    FROM firmographics f
    LEFT JOIN account_value v ON v.account_id = f.account_id
    WHERE NOT COALESCE(v.was_customer, false)
)
SELECT
    source,
    id,
    DENSE_RANK() OVER (ORDER BY industry, size_band, region, tech_key) AS profile_id,
    industry,
    size_band,
    region,
    tech_key
FROM prospects
