-- mrr_account_month: MRR of every customer account at the end of every month, from
-- the month of the first subscription start to the report month, with its movement
-- against the month before. Helper for the revenue outputs.
--   mrr: sum of the subscriptions active on the month's last day (start_date <= day,
--        end_date empty or after the day; end_date is exclusive);
--   movement: new (first MRR ever), reactivation (from zero after having had MRR),
--        expansion, contraction, churn (to zero); NULL when unchanged.
-- grain: account_id, month
-- requires: subscriptions
WITH month_ends AS (
    SELECT month, month_last_day AS month_end FROM month_spine
    WHERE month >= (SELECT CAST(date_trunc('month', MIN(start_date)) AS DATE) FROM subscriptions)
),
customers AS (
    SELECT DISTINCT account_id FROM subscriptions
),
snapshot AS (
    SELECT
        c.account_id,
        me.month,
        CAST(COALESCE(SUM(s.mrr), 0) AS DECIMAL(18, 2)) AS mrr
    FROM customers c
    CROSS JOIN month_ends me
    LEFT JOIN subscriptions s
        ON s.account_id = c.account_id
       AND s.start_date <= me.month_end
       AND (s.end_date IS NULL OR s.end_date > me.month_end)
    GROUP BY c.account_id, me.month
),
with_history AS (
    SELECT
        account_id,
        month,
        mrr,
        COALESCE(LAG(mrr) OVER (PARTITION BY account_id ORDER BY month), CAST(0 AS DECIMAL(18, 2))) AS prev_mrr,
        COALESCE(MAX(CASE WHEN mrr > 0 THEN 1 ELSE 0 END) OVER (
            PARTITION BY account_id ORDER BY month
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS had_mrr_before
    FROM snapshot
)
SELECT
    account_id,
    month,
    mrr,
    prev_mrr,
    CASE
        WHEN prev_mrr = 0 AND mrr > 0 AND had_mrr_before = 0 THEN 'new'
        WHEN prev_mrr = 0 AND mrr > 0 THEN 'reactivation'
        WHEN prev_mrr > 0 AND mrr = 0 THEN 'churn'
        WHEN mrr > prev_mrr THEN 'expansion'
        WHEN mrr < prev_mrr THEN 'contraction'
    END AS movement
FROM with_history
