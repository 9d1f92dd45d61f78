-- mrr_account_month: MRR of every customer account at the end of every month, from
-- the month of the first subscription start to the report month, with its movement
-- against the month before. Helper for the revenue outputs.
--   mrr: sum of the subscriptions active on the month's last day (start_date <= day,
--        end_date empty or after the day; end_date is exclusive);
--   movement: new (first MRR ever), reactivation (from zero after having had MRR),
--        expansion, contraction, churn (to zero); NULL when unchanged.
-- grain: account_id, month
-- requires: subscriptions
-- No window: the month before is summed in the same pass (a subscription joins a month
-- when it is active at its end or at the previous month's end), and "had MRR before" is
-- whether the account's first month with MRR is earlier. mrr is never negative
-- (loader rule), so an account has MRR at a month's end exactly when a subscription
-- with mrr > 0 is active then; and a subscription active at no month end is one that
-- ends within its first month.
WITH month_ends AS (
    SELECT month, month_last_day AS month_end, CAST(month - INTERVAL '1 day' AS DATE) AS prev_month_end
    FROM month_spine
    WHERE month >= (SELECT CAST(date_trunc('month', MIN(start_date)) AS DATE) FROM subscriptions)
),
customers AS (
    SELECT
        account_id,
        MIN(CASE WHEN s.mrr > 0
                  AND (s.end_date IS NULL
                       OR s.end_date > CAST(date_trunc('month', s.start_date) + INTERVAL '1 month' - INTERVAL '1 day' AS DATE))
                 THEN CAST(date_trunc('month', s.start_date) AS DATE) END) AS first_mrr_month
    FROM subscriptions s
    GROUP BY account_id
),
snapshot AS (
    SELECT
        c.account_id,
        me.month,
        c.first_mrr_month,
        CAST(COALESCE(SUM(CASE WHEN s.start_date <= me.month_end
                                AND (s.end_date IS NULL OR s.end_date > me.month_end)
                               THEN s.mrr END), 0) AS DECIMAL(18, 2)) AS mrr,
        CAST(COALESCE(SUM(CASE WHEN s.start_date <= me.prev_month_end
                                AND (s.end_date IS NULL OR s.end_date > me.prev_month_end)
                               THEN s.mrr END), 0) AS DECIMAL(18, 2)) AS prev_mrr
    FROM customers c
    CROSS JOIN month_ends me
    LEFT JOIN subscriptions s
        ON s.account_id = c.account_id
       AND s.start_date <= me.month_end
       AND (s.end_date IS NULL OR s.end_date > me.prev_month_end)
    GROUP BY c.account_id, me.month, c.first_mrr_month
)
SELECT
    account_id,
    month,
    mrr,
    prev_mrr,
    CASE
        WHEN prev_mrr = 0 AND mrr > 0 AND NOT COALESCE(first_mrr_month < month, FALSE) THEN 'new'
        WHEN prev_mrr = 0 AND mrr > 0 THEN 'reactivation'
        WHEN prev_mrr > 0 AND mrr = 0 THEN 'churn'
        WHEN mrr > prev_mrr THEN 'expansion'
        WHEN mrr < prev_mrr THEN 'contraction'
    END AS movement
FROM snapshot
