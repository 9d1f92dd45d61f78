-- icp_account_fit: every account's ICP fit under each trained model (train_set 'all'
-- and 'holdout', see icp_feature_weights).
--   icp_logit = logit(p0) + the weights of the account's industry, size_band and
--        region and of each of its technologies (a naive-Bayes style sum; levels
--        never seen in training weigh 0);
--   icp_score = 1 / (1 + exp(-icp_logit)), a win probability on the training scale;
--   tier by score rank among all accounts: A the top 10%, B the next 20%, C the next
--        30%, D the rest (ties share the better tier); top_features (train_set
--        'all' only): the three levels with the largest positive weights, so a reader
--        sees why.
-- grain: train_set, account_id
WITH models AS (
    SELECT DISTINCT train_set, overall_win_rate AS p0 FROM icp_feature_weights
),
contributions AS (
    SELECT m.train_set, l.account_id, l.feature, l.level, COALESCE(w.weight, 0.0) AS weight
    FROM models m
    CROSS JOIN icp_levels l
    LEFT JOIN icp_feature_weights w
        ON w.train_set = m.train_set AND w.feature = l.feature AND w.level = l.level
    WHERE l.feature <> 'segment'
),
sums AS (
    SELECT
        train_set,
        account_id,
        -- rounded so that the order of summation cannot split ties
        CAST(SUM(CAST(weight AS DECIMAL(38, 18))) AS DOUBLE) AS weight_sum
    FROM contributions
    GROUP BY train_set, account_id
),
top_ranked AS (
    SELECT
        account_id,
        feature || '=' || level AS contribution,
        ROW_NUMBER() OVER (PARTITION BY account_id ORDER BY weight DESC, feature, level) AS r
    FROM contributions
    WHERE train_set = 'all' AND weight > 0
),
top3 AS (
    SELECT
        account_id,
        concat_ws(', ', MAX(CASE WHEN r = 1 THEN contribution END),
                        MAX(CASE WHEN r = 2 THEN contribution END),
                        MAX(CASE WHEN r = 3 THEN contribution END)) AS top_features
    FROM top_ranked
    WHERE r <= 3
    GROUP BY account_id
),
scored AS (
    SELECT
        s.train_set,
        s.account_id,
        CASE WHEN m.p0 <= 0 OR m.p0 >= 1 THEN m.p0
             ELSE 1.0 / (1.0 + exp(-(ln(m.p0 / (1 - m.p0)) + s.weight_sum))) END AS icp_score,
        t.top_features
    FROM sums s
    JOIN models m ON m.train_set = s.train_set
    LEFT JOIN top3 t ON s.train_set = 'all' AND t.account_id = s.account_id
),
ranked AS (
    SELECT
        *,
        CAST(RANK() OVER (PARTITION BY train_set ORDER BY icp_score DESC) - 1 AS DOUBLE)
            / COUNT(*) OVER (PARTITION BY train_set) AS score_rank_share
    FROM scored
)
SELECT
    train_set,
    account_id,
    icp_score,
    CASE
        WHEN score_rank_share < 0.1 THEN 'A'
        WHEN score_rank_share < 0.3 THEN 'B'
        WHEN score_rank_share < 0.6 THEN 'C'
        ELSE 'D'
    END AS tier,
    top_features
FROM ranked
