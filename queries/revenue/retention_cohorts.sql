-- retention_cohorts: cohort month (month of an account's first MRR) x months since.
--   customers: cohort accounts with MRR at the end of the month (reactivated ones count);
--   logo_retention = customers / cohort_customers;
--   mrr: the cohort's MRR that month; net_mrr_retention = mrr / the cohort's MRR in
--   its first month (expansion and reactivation included).
-- grain: cohort_month, months_since
-- columns: cohort_month date, months_since int, cohort_customers int, customers int,
-- columns: logo_retention float, mrr decimal(18,2), initial_mrr decimal(18,2),
-- columns: net_mrr_retention float
-- requires: subscriptions
WITH cohorts AS (
    SELECT account_id, month AS cohort_month
    FROM mrr_account_month
    WHERE movement = 'new'
),
cohort_rows AS (
    SELECT
        c.cohort_month,
        CAST((date_part('year', m.month) - date_part('year', c.cohort_month)) * 12
             + date_part('month', m.month) - date_part('month', c.cohort_month) AS BIGINT) AS months_since,
        m.mrr
    FROM cohorts c
    JOIN mrr_account_month m ON m.account_id = c.account_id AND m.month >= c.cohort_month
),
cells AS (
    SELECT
        cohort_month,
        months_since,
        CAST(SUM(CASE WHEN mrr > 0 THEN 1 ELSE 0 END) AS BIGINT) AS customers,
        CAST(SUM(mrr) AS DECIMAL(18, 2)) AS mrr
    FROM cohort_rows
    GROUP BY cohort_month, months_since
),
initial AS (
    SELECT cohort_month, customers AS cohort_customers, mrr AS initial_mrr
    FROM cells
    WHERE months_since = 0
)
SELECT
    c.cohort_month,
    c.months_since,
    i.cohort_customers,
    c.customers,
    CAST(c.customers AS DOUBLE) / i.cohort_customers AS logo_retention,
    c.mrr,
    i.initial_mrr,
    CAST(c.mrr AS DOUBLE) / CAST(i.initial_mrr AS DOUBLE) AS net_mrr_retention
FROM cells c
JOIN initial i ON i.cohort_month = c.cohort_month
ORDER BY c.cohort_month, c.months_since
