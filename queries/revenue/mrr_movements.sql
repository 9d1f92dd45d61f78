-- mrr_movements: the monthly MRR bridge and the rates derived from it. One row per
-- month. Exact decimals: starting + new + expansion + reactivation - contraction -
-- churned = ending, every month. Definitions: docs/metrics.md#mrr_movements.
--   customer_churn_rate = churned_customers / customers_start
--   gross_mrr_churn_rate = (churned + contraction) / starting MRR
--   net_mrr_churn_rate = (churned + contraction - expansion - reactivation) / starting MRR
--   nrr_12m / grr_12m: MRR now of the accounts that had MRR 12 months ago, over their
--     MRR then (GRR caps each account at its MRR then); NULL before 12 months of history
--   arpa = ending MRR / customers_end
-- grain: month
-- columns: month date, starting_mrr decimal(18,2), new_mrr decimal(18,2),
-- columns: expansion_mrr decimal(18,2), contraction_mrr decimal(18,2),
-- columns: churned_mrr decimal(18,2), reactivation_mrr decimal(18,2),
-- columns: ending_mrr decimal(18,2), customers_start int, new_customers int,
-- columns: reactivated_customers int, churned_customers int, customers_end int,
-- columns: customer_churn_rate float, gross_mrr_churn_rate float,
-- columns: net_mrr_churn_rate float, nrr_12m float, grr_12m float, arpa float
-- requires: subscriptions
WITH bridge AS (
    SELECT
        month,
        SUM(prev_mrr) AS starting_mrr,
        SUM(CASE WHEN movement = 'new' THEN mrr ELSE 0 END) AS new_mrr,
        SUM(CASE WHEN movement = 'expansion' THEN mrr - prev_mrr ELSE 0 END) AS expansion_mrr,
        SUM(CASE WHEN movement = 'contraction' THEN prev_mrr - mrr ELSE 0 END) AS contraction_mrr,
        SUM(CASE WHEN movement = 'churn' THEN prev_mrr ELSE 0 END) AS churned_mrr,
        SUM(CASE WHEN movement = 'reactivation' THEN mrr ELSE 0 END) AS reactivation_mrr,
        SUM(mrr) AS ending_mrr,
        SUM(CASE WHEN prev_mrr > 0 THEN 1 ELSE 0 END) AS customers_start,
        SUM(CASE WHEN movement = 'new' THEN 1 ELSE 0 END) AS new_customers,
        SUM(CASE WHEN movement = 'reactivation' THEN 1 ELSE 0 END) AS reactivated_customers,
        SUM(CASE WHEN movement = 'churn' THEN 1 ELSE 0 END) AS churned_customers,
        SUM(CASE WHEN mrr > 0 THEN 1 ELSE 0 END) AS customers_end
    FROM mrr_account_month
    GROUP BY month
),
year_over_year AS (
    SELECT
        now.month,
        SUM(now.mrr) AS mrr_now,
        SUM(CASE WHEN now.mrr < before.mrr THEN now.mrr ELSE before.mrr END) AS mrr_now_capped,
        SUM(before.mrr) AS mrr_before
    FROM mrr_account_month now
    JOIN mrr_account_month before
        ON before.account_id = now.account_id
       AND before.month = CAST(now.month - INTERVAL '12 months' AS DATE)
    WHERE before.mrr > 0
    GROUP BY now.month
)
SELECT
    b.month,
    CAST(b.starting_mrr AS DECIMAL(18, 2)) AS starting_mrr,
    CAST(b.new_mrr AS DECIMAL(18, 2)) AS new_mrr,
    CAST(b.expansion_mrr AS DECIMAL(18, 2)) AS expansion_mrr,
    CAST(b.contraction_mrr AS DECIMAL(18, 2)) AS contraction_mrr,
    CAST(b.churned_mrr AS DECIMAL(18, 2)) AS churned_mrr,
    CAST(b.reactivation_mrr AS DECIMAL(18, 2)) AS reactivation_mrr,
    CAST(b.ending_mrr AS DECIMAL(18, 2)) AS ending_mrr,
    CAST(b.customers_start AS BIGINT) AS customers_start,
    CAST(b.new_customers AS BIGINT) AS new_customers,
    CAST(b.reactivated_customers AS BIGINT) AS reactivated_customers,
    CAST(b.churned_customers AS BIGINT) AS churned_customers,
    CAST(b.customers_end AS BIGINT) AS customers_end,
    CAST(b.churned_customers AS DOUBLE) / NULLIF(b.customers_start, 0) AS customer_churn_rate,
    CAST(b.churned_mrr + b.contraction_mrr AS DOUBLE) / NULLIF(CAST(b.starting_mrr AS DOUBLE), 0) AS gross_mrr_churn_rate,
    CAST(b.churned_mrr + b.contraction_mrr - b.expansion_mrr - b.reactivation_mrr AS DOUBLE)
        / NULLIF(CAST(b.starting_mrr AS DOUBLE), 0) AS net_mrr_churn_rate,
    CAST(y.mrr_now AS DOUBLE) / CAST(y.mrr_before AS DOUBLE) AS nrr_12m,
    CAST(y.mrr_now_capped AS DOUBLE) / CAST(y.mrr_before AS DOUBLE) AS grr_12m,
    CAST(b.ending_mrr AS DOUBLE) / NULLIF(b.customers_end, 0) AS arpa
FROM bridge b
LEFT JOIN year_over_year y ON y.month = b.month
ORDER BY b.month
