-- lookalike_scores: how closely each prospect (lookalike_profiles) resembles the best
-- customers. Helper for account_scores (CRM accounts) and lookalikes (the companies
-- universe).
--   seeds: the params.lookalike_seed_customers accounts of highest value
--        (account_value: realised revenue, or won amount without subscriptions),
--        seed_rank 1 = the most valuable;
--   similarity(prospect, seed) = (same industry + same size_band + same region
--        + Jaccard of the technology sets) / 4, in [0, 1]; two empty technology sets
--        count as identical;
--   lookalike_score = the highest similarity to any seed; lookalike_of = that seed
--        (the most valuable one among equals);
--   lookalike_rank: 1 = most similar, per source (accounts, companies); equal scores
--        rank by the value of the seed they resemble, then id.
-- Computed per profile x seed. The best seed is found with one MAX over a key that
-- orders by similarity (to 1e-9), then by seed value: similarity x 1e9 x 1e6 +
-- (1e6 - seed_rank).
-- grain: source, id
WITH seeds AS (
    SELECT v.account_id, v.value, v.seed_rank, f.industry, f.size_band, f.region, f.tech_key,
           COALESCE(cardinality(string_to_array(NULLIF(f.tech_key, ''), ';')), 0) AS n_techs
    FROM (
        SELECT account_id, value,
               CAST(ROW_NUMBER() OVER (ORDER BY value DESC, account_id) AS BIGINT) AS seed_rank
        FROM account_value
        WHERE was_customer AND value > 0
    ) v
    JOIN firmographics f ON f.source = 'account' AND f.id = v.account_id
    CROSS JOIN params p
    WHERE v.seed_rank <= p.lookalike_seed_customers
),
profiles AS (
    SELECT DISTINCT profile_id, industry, size_band, region, tech_key,
           COALESCE(cardinality(string_to_array(NULLIF(tech_key, ''), ';')), 0) AS n_techs
    FROM lookalike_profiles
),
profile_techs AS (
    SELECT profile_id, unnest(string_to_array(tech_key, ';')) AS technology
    FROM profiles WHERE tech_key <> ''
),
seed_techs AS (
    SELECT seed_rank, unnest(string_to_array(tech_key, ';')) AS technology
    FROM seeds WHERE tech_key <> ''
),
shared AS (
    SELECT pt.profile_id, st.seed_rank, COUNT(*) AS shared_techs
    FROM profile_techs pt
    JOIN seed_techs st ON st.technology = pt.technology
    GROUP BY pt.profile_id, st.seed_rank
),
-- Similarity grows with the shared technologies, so the best seed is the best of:
-- every pair scored as if it shared none (no join), and the pairs that share some,
-- scored with their count. A pair in both scores higher in the second.
attributes AS (
    SELECT
        pr.profile_id,
        s.seed_rank,
        CASE WHEN pr.industry = s.industry THEN 1.0 ELSE 0.0 END
        + CASE WHEN pr.size_band = s.size_band THEN 1.0 ELSE 0.0 END
        + CASE WHEN pr.region = s.region THEN 1.0 ELSE 0.0 END AS matches,
        pr.n_techs + s.n_techs AS n_techs
    FROM profiles pr
    CROSS JOIN seeds s
),
pairs AS (
    SELECT
        profile_id,
        seed_rank,
        (matches + CASE WHEN n_techs = 0 THEN 1.0 ELSE 0.0 END) / 4.0 AS similarity
    FROM attributes
    UNION ALL
    SELECT
        sh.profile_id,
        sh.seed_rank,
        (CASE WHEN pr.industry = s.industry THEN 1.0 ELSE 0.0 END
         + CASE WHEN pr.size_band = s.size_band THEN 1.0 ELSE 0.0 END
         + CASE WHEN pr.region = s.region THEN 1.0 ELSE 0.0 END
         + CAST(sh.shared_techs AS DOUBLE) / (pr.n_techs + s.n_techs - sh.shared_techs)) / 4.0
            AS similarity
    FROM shared sh
    JOIN profiles pr ON pr.profile_id = sh.profile_id
    JOIN seeds s ON s.seed_rank = sh.seed_rank
),
best AS (
    SELECT
        profile_id,
        MAX(CAST(round(similarity * 1e9) AS BIGINT) * 1000000 + (1000000 - seed_rank)) AS best_key
    FROM pairs
    GROUP BY profile_id
)
SELECT
    p.source,
    p.id,
    CAST(b.best_key / 1000000 AS DOUBLE) / 1e9 AS lookalike_score,
    s.account_id AS lookalike_of,
    CAST(ROW_NUMBER() OVER (
        PARTITION BY p.source
        ORDER BY b.best_key / 1000000 DESC, s.value DESC, p.id) AS BIGINT) AS lookalike_rank
FROM lookalike_profiles p
JOIN best b ON b.profile_id = p.profile_id
JOIN seeds s ON s.seed_rank = 1000000 - b.best_key % 1000000
