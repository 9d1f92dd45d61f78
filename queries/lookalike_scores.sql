-- lookalike_scores: how closely each prospect resembles the best customers. Helper
-- for account_scores (CRM accounts) and lookalikes (the companies universe).
--   seeds: the params.lookalike_seed_customers accounts of highest value
--        (account_value: realised revenue, or won amount without subscriptions);
--   prospects: accounts that never were customers, and companies not linked to an
--        account that was;
--   similarity(prospect, seed) = (same industry + same size_band + same region
--        + Jaccard of the technology sets) / 4, in [0, 1]; two empty technology sets
--        count as identical;
--   lookalike_score = the highest similarity to any seed; lookalike_of = that seed
--        (the most valuable one among equals).
-- Computed per distinct profile (industry, size_band, region, technologies), so the
-- cost grows with the number of profiles x seeds, not with the universe.
-- grain: source, id
-- publish: false
WITH seeds AS (
    SELECT v.account_id, v.value, f.industry, f.size_band, f.region, f.tech_key
    FROM (
        SELECT account_id, value,
               ROW_NUMBER() OVER (ORDER BY value DESC, account_id) AS value_rank
        FROM account_value
        WHERE was_customer AND value > 0
    ) v
    JOIN firmographics f ON f.source = 'account' AND f.id = v.account_id
    CROSS JOIN params p
    WHERE v.value_rank <= p.lookalike_seed_customers
),
prospects AS (
    SELECT f.source, f.id, f.industry, f.size_band, f.region, f.tech_key
    FROM firmographics f
    LEFT JOIN account_value v ON v.account_id = f.account_id
    WHERE NOT COALESCE(v.was_customer, false)
),
profiles AS (
    SELECT DISTINCT industry, size_band, region, tech_key FROM prospects
),
profile_techs AS (
    SELECT industry, size_band, region, tech_key, unnest(string_to_array(tech_key, ';')) AS technology
    FROM profiles WHERE tech_key <> ''
),
seed_techs AS (
    SELECT account_id, unnest(string_to_array(tech_key, ';')) AS technology
    FROM seeds WHERE tech_key <> ''
),
shared AS (
    SELECT pt.industry, pt.size_band, pt.region, pt.tech_key, st.account_id, COUNT(*) AS shared_techs
    FROM profile_techs pt
    JOIN seed_techs st ON st.technology = pt.technology
    GROUP BY pt.industry, pt.size_band, pt.region, pt.tech_key, st.account_id
),
pairs AS (
    SELECT
        pr.industry, pr.size_band, pr.region, pr.tech_key,
        s.account_id AS seed_id,
        s.value AS seed_value,
        (CASE WHEN pr.industry = s.industry THEN 1.0 ELSE 0.0 END
         + CASE WHEN pr.size_band = s.size_band THEN 1.0 ELSE 0.0 END
         + CASE WHEN pr.region = s.region THEN 1.0 ELSE 0.0 END
         + CASE
               WHEN pr.tech_key = '' AND s.tech_key = '' THEN 1.0
               ELSE CAST(COALESCE(sh.shared_techs, 0) AS DOUBLE)
                    / (COALESCE(cardinality(string_to_array(NULLIF(pr.tech_key, ''), ';')), 0)
                       + COALESCE(cardinality(string_to_array(NULLIF(s.tech_key, ''), ';')), 0)
                       - COALESCE(sh.shared_techs, 0))
           END) / 4.0 AS similarity
    FROM profiles pr
    CROSS JOIN seeds s
    LEFT JOIN shared sh
        ON sh.industry = pr.industry AND sh.size_band = pr.size_band
       AND sh.region = pr.region AND sh.tech_key = pr.tech_key
       AND sh.account_id = s.account_id
),
best AS (
    SELECT
        industry, size_band, region, tech_key,
        MAX(similarity) AS lookalike_score,
        first_value(seed_id ORDER BY similarity DESC, seed_value DESC, seed_id) AS lookalike_of
    FROM pairs
    GROUP BY industry, size_band, region, tech_key
)
SELECT p.source, p.id, b.lookalike_score, b.lookalike_of
FROM prospects p
JOIN best b
    ON b.industry = p.industry AND b.size_band = p.size_band
   AND b.region = p.region AND b.tech_key = p.tech_key
