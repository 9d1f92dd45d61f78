-- unit_economics: acquisition cost against lifetime value, month x segment.
-- Segments (account_segments): all; industry; size_band; channel (acquisition channel).
-- Definitions: docs/metrics.md#unit_economics.
--   new_customers: accounts whose first MRR falls in the month;
--   cac: acquisition cost of the trailing 3 months (media spend + marketing and sales
--     costs) over new customers of the same 3 months. For a channel: that channel's
--     spend over its new customers, plus the costs over all new customers (costs are
--     shared per new customer); for industry and size band: the blended CAC. NULL
--     without spend or cost data, or without new customers;
--   arpa: ending MRR / customers at month end;
--   customer_churn: pooled monthly logo churn over the trailing 6 months
--     (churned customers / customers at month start, summed over the 6 months);
--   ltv = arpa x gross_margin / customer_churn; ltv_to_cac = ltv / cac;
--   cac_payback_months = cac / (arpa x gross_margin);
--   sbg_*: the sBG retention fit of the segment (src/models/sbg.rs) on all cohorts
--     observed by the report end, on the report month's rows; projected_ltv =
--     gross_margin x arpa x discounted expected lifetime in months.
-- grain: month, segment_type, segment
-- columns: month date, segment_type text, segment text, new_customers int,
-- columns: new_customers_3m int, customers int, cac float, arpa float,
-- columns: customer_churn float, ltv float, ltv_to_cac float, cac_payback_months float,
-- columns: sbg_alpha float, sbg_beta float, sbg_del_months float, projected_ltv float,
-- columns: sbg_reason text
-- requires: subscriptions
WITH months AS (
    SELECT DISTINCT month FROM mrr_account_month
),
segments AS (
    SELECT DISTINCT segment_type, segment FROM account_segments
),
activity AS (
    SELECT
        s.segment_type,
        s.segment,
        m.month,
        SUM(CASE WHEN m.movement = 'new' THEN 1 ELSE 0 END) AS new_customers,
        SUM(CASE WHEN m.prev_mrr > 0 THEN 1 ELSE 0 END) AS customers_start,
        SUM(CASE WHEN m.movement = 'churn' THEN 1 ELSE 0 END) AS churned_customers,
        SUM(CASE WHEN m.mrr > 0 THEN 1 ELSE 0 END) AS customers_end,
        SUM(m.mrr) AS ending_mrr
    FROM mrr_account_month m
    JOIN account_segments s ON s.account_id = m.account_id
    GROUP BY s.segment_type, s.segment, m.month
),
spend_by_month AS (
    SELECT CAST(date_trunc('month', month) AS DATE) AS month, channel, SUM(amount) AS amount
    FROM spend
    GROUP BY 1, 2
),
media_by_month AS (
    SELECT month, SUM(amount) AS amount FROM spend_by_month GROUP BY month
),
costs_by_month AS (
    SELECT CAST(date_trunc('month', month) AS DATE) AS month, SUM(amount) AS amount
    FROM costs
    WHERE function IN ('marketing', 'sales')
    GROUP BY 1
),
grid AS (
    SELECT
        g.segment_type,
        g.segment,
        mo.month,
        COALESCE(a.new_customers, 0) AS new_customers,
        COALESCE(a.customers_start, 0) AS customers_start,
        COALESCE(a.churned_customers, 0) AS churned_customers,
        COALESCE(a.customers_end, 0) AS customers_end,
        COALESCE(CAST(a.ending_mrr AS DOUBLE), 0.0) AS ending_mrr,
        COALESCE(CAST(sc.amount AS DOUBLE), 0.0) AS segment_media,
        COALESCE(CAST(mm.amount AS DOUBLE), 0.0) AS media,
        COALESCE(CAST(cm.amount AS DOUBLE), 0.0) AS costs
    FROM segments g
    CROSS JOIN months mo
    LEFT JOIN activity a
        ON a.segment_type = g.segment_type AND a.segment = g.segment AND a.month = mo.month
    LEFT JOIN spend_by_month sc
        ON g.segment_type = 'channel' AND sc.channel = g.segment AND sc.month = mo.month
    LEFT JOIN media_by_month mm ON mm.month = mo.month
    LEFT JOIN costs_by_month cm ON cm.month = mo.month
),
trailing AS (
    SELECT
        *,
        SUM(new_customers) OVER (PARTITION BY segment_type, segment ORDER BY month
                                 ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS new_3m,
        -- Money sums to the cent: a sliding window subtracts what leaves it, and the
        -- float residue (-9e-13 after three months without spend) would make CAC a
        -- tiny negative and LTV : CAC -3.5e16.
        round(SUM(segment_media) OVER (PARTITION BY segment_type, segment ORDER BY month
                                 ROWS BETWEEN 2 PRECEDING AND CURRENT ROW), 2) AS segment_media_3m,
        round(SUM(media + costs) OVER (PARTITION BY segment_type, segment ORDER BY month
                                 ROWS BETWEEN 2 PRECEDING AND CURRENT ROW), 2) AS acquisition_cost_3m,
        round(SUM(costs) OVER (PARTITION BY segment_type, segment ORDER BY month
                         ROWS BETWEEN 2 PRECEDING AND CURRENT ROW), 2) AS costs_3m,
        SUM(churned_customers) OVER (PARTITION BY segment_type, segment ORDER BY month
                                     ROWS BETWEEN 5 PRECEDING AND CURRENT ROW) AS churned_6m,
        SUM(customers_start) OVER (PARTITION BY segment_type, segment ORDER BY month
                                   ROWS BETWEEN 5 PRECEDING AND CURRENT ROW) AS start_6m
    FROM grid
),
-- New customers of the 'all' segment over the trailing three months, summed from `grid`
-- rather than read from `trailing`: a filter on a PARTITION BY column above a window
-- trips Ballista (docs/benchmarks.md, Ballista).
all_segment AS (
    SELECT g.month, SUM(h.new_customers) AS all_new_3m
    FROM grid g
    JOIN grid h
        ON h.segment_type = 'all'
       AND h.month <= g.month
       AND h.month > CAST(g.month - INTERVAL '3 months' AS DATE)
    WHERE g.segment_type = 'all'
    GROUP BY g.month
),
cost_data AS (
    SELECT (SELECT COUNT(*) FROM spend) + (SELECT COUNT(*) FROM costs) AS cost_rows
),
measured AS (
    SELECT
        t.*,
        CASE
            WHEN cd.cost_rows = 0 OR t.new_3m = 0 THEN NULL
            WHEN t.segment_type = 'channel'
                THEN t.segment_media_3m / t.new_3m + t.costs_3m / NULLIF(a.all_new_3m, 0)
            ELSE t.acquisition_cost_3m / NULLIF(a.all_new_3m, 0)
        END + 0.0 AS cac,
        t.ending_mrr / NULLIF(t.customers_end, 0) AS arpa,
        CAST(t.churned_6m AS DOUBLE) / NULLIF(t.start_6m, 0) AS customer_churn
    FROM trailing t
    JOIN all_segment a ON a.month = t.month
    CROSS JOIN cost_data cd
)
SELECT
    m.month,
    m.segment_type,
    m.segment,
    CAST(m.new_customers AS BIGINT) AS new_customers,
    CAST(m.new_3m AS BIGINT) AS new_customers_3m,
    CAST(m.customers_end AS BIGINT) AS customers,
    m.cac,
    m.arpa,
    m.customer_churn,
    m.arpa * p.gross_margin / NULLIF(m.customer_churn, 0) AS ltv,
    -- CAC of 0 (no spend or costs in the window) has no ratio; `> 0` also keeps a
    -- rounded -0.0 from dividing to -infinity.
    m.arpa * p.gross_margin / NULLIF(m.customer_churn, 0)
        / CASE WHEN m.cac > 0 THEN m.cac END AS ltv_to_cac,
    CASE WHEN m.cac > 0 THEN m.cac / NULLIF(m.arpa * p.gross_margin, 0)
         WHEN m.cac = 0 THEN 0.0 END AS cac_payback_months,
    CASE WHEN m.month = p.report_month THEN f.sbg_alpha END AS sbg_alpha,
    CASE WHEN m.month = p.report_month THEN f.sbg_beta END AS sbg_beta,
    CASE WHEN m.month = p.report_month THEN f.sbg_del_months END AS sbg_del_months,
    CASE WHEN m.month = p.report_month THEN p.gross_margin * m.arpa * f.sbg_del_months END AS projected_ltv,
    CASE WHEN m.month = p.report_month THEN f.sbg_reason ELSE 'fitted for the report month only' END AS sbg_reason
FROM measured m
CROSS JOIN params p
LEFT JOIN sbg_fit f ON f.segment_type = m.segment_type AND f.segment = m.segment
ORDER BY m.month, m.segment_type, m.segment
