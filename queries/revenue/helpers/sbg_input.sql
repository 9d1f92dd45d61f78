-- sbg_input: survival data for the sBG retention fit (src/models/sbg.rs), one row per
-- customer account and segment: its cohort (month of first MRR), the months observed
-- since (to the report month), and after how many months it first churned (NULL if
-- never). A reactivated account counts as churned at its first churn.
-- grain: segment_type, segment, account_id
-- requires: subscriptions
WITH cohorts AS (
    SELECT account_id, month AS cohort_month FROM mrr_account_month WHERE movement = 'new'
),
first_churn AS (
    SELECT account_id, MIN(month) AS churn_month FROM mrr_account_month WHERE movement = 'churn' GROUP BY account_id
)
SELECT
    s.segment_type,
    s.segment,
    c.account_id,
    c.cohort_month,
    CAST((date_part('year', p.report_month) - date_part('year', c.cohort_month)) * 12
         + date_part('month', p.report_month) - date_part('month', c.cohort_month) AS BIGINT) AS months_observed,
    CAST((date_part('year', f.churn_month) - date_part('year', c.cohort_month)) * 12
         + date_part('month', f.churn_month) - date_part('month', c.cohort_month) AS BIGINT) AS churned_after_months
FROM cohorts c
JOIN account_segments s ON s.account_id = c.account_id
LEFT JOIN first_churn f ON f.account_id = c.account_id
CROSS JOIN params p
ORDER BY s.segment_type, s.segment, c.account_id
