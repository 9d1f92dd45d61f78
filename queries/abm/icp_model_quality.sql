-- icp_model_quality: does the ICP score rank deals it has not seen? The model is
-- trained on new-business opportunities closed before params.icp_cutoff
-- (icp_holdout_months before the report month's end; train_set 'holdout' of
-- icp_feature_weights and icp_account_fit) and tested on the ones closed from the
-- cutoff to the report end, each scored by its account.
--   auc: probability that a won test opportunity scores above a lost one (ties count
--        half), by the rank-sum (Mann-Whitney) formula with average ranks for ties;
--   auc_std_error: Hanley & McNeil (1982);
--   verdict: 'beats random' when auc - 1.96 auc_std_error > 0.5, 'does not beat
--        random' otherwise, 'not enough held-out outcomes' without both a won and a
--        lost test opportunity (auc NULL);
--   per tier (tier 'all' = every test opportunity): test opportunities, won, win_rate.
--        Tiers are the holdout model's (A top 10% of accounts by score, B next 20%,
--        C next 30%, D the rest).
-- grain: tier
-- columns: tier text, train_cutoff date, train_opportunities int,
-- columns: test_opportunities int, test_won int, win_rate float, auc float,
-- columns: auc_std_error float, verdict text
-- needs: closed_before_icp_cutoff
WITH closed AS (
    SELECT o.account_id, CASE WHEN o.status = 'won' THEN 1 ELSE 0 END AS won, o.closed_at
    FROM opportunities o
    WHERE o.type = 'new_business' AND o.status IN ('won', 'lost')
),
train AS (
    SELECT COUNT(*) AS train_opportunities
    FROM closed c CROSS JOIN params p
    WHERE c.closed_at < p.icp_cutoff
),
test AS (
    SELECT c.won, f.icp_score, f.tier
    FROM closed c
    CROSS JOIN params p
    JOIN icp_account_fit f ON f.train_set = 'holdout' AND f.account_id = c.account_id
    WHERE c.closed_at >= p.icp_cutoff
),
ranked AS (
    SELECT
        won,
        CAST(RANK() OVER (ORDER BY icp_score) AS DOUBLE)
            + (COUNT(*) OVER (PARTITION BY icp_score) - 1) / 2.0 AS avg_rank
    FROM test
),
rank_sums AS (
    SELECT
        CAST(COALESCE(SUM(won), 0) AS DOUBLE) AS n_pos,
        CAST(COUNT(*) - COALESCE(SUM(won), 0) AS DOUBLE) AS n_neg,
        SUM(CASE WHEN won = 1 THEN avg_rank END) AS pos_rank_sum
    FROM ranked
),
auc AS (
    SELECT
        n_pos,
        n_neg,
        CASE WHEN n_pos > 0 AND n_neg > 0
             THEN (pos_rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg) END AS auc
    FROM rank_sums
),
auc_se AS (
    SELECT
        auc,
        sqrt((auc * (1 - auc)
              + (n_pos - 1) * (auc / (2 - auc) - auc * auc)
              + (n_neg - 1) * (2 * auc * auc / (1 + auc) - auc * auc)) / (n_pos * n_neg)) AS auc_std_error
    FROM auc
),
tiers AS (
    SELECT column1 AS tier FROM (VALUES ('all'), ('A'), ('B'), ('C'), ('D')) t
),
-- Each test opportunity counts in its tier and in 'all' (one grouped pass; a UNION ALL
-- with a global aggregate returned the 'all' row twice on Ballista).
by_tier AS (
    SELECT g.tier, COUNT(*) AS opportunities, CAST(COALESCE(SUM(x.won), 0) AS BIGINT) AS won
    FROM test x
    JOIN tiers g ON g.tier = x.tier OR g.tier = 'all'
    GROUP BY g.tier
)
SELECT
    t.tier,
    CAST(p.icp_cutoff AS DATE) AS train_cutoff,
    tr.train_opportunities,
    COALESCE(b.opportunities, 0) AS test_opportunities,
    COALESCE(b.won, 0) AS test_won,
    CAST(b.won AS DOUBLE) / NULLIF(b.opportunities, 0) AS win_rate,
    a.auc,
    a.auc_std_error,
    CASE
        WHEN a.auc IS NULL THEN 'not enough held-out outcomes'
        WHEN a.auc - 1.96 * a.auc_std_error > 0.5 THEN 'beats random'
        ELSE 'does not beat random'
    END AS verdict
FROM tiers t
CROSS JOIN params p
CROSS JOIN train tr
CROSS JOIN auc_se a
LEFT JOIN by_tier b ON b.tier = t.tier
ORDER BY t.tier
