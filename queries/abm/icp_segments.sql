-- icp_segments: which kinds of company win, stay and pay. One row for all accounts,
-- one per industry x size_band x region segment with accounts, and one per
-- technology found in accounts.technologies (an account is in every technology row it
-- lists). Outcomes as of the report end:
--   opportunities, won, win_rate: closed new-business opportunities of the segment's
--        accounts; smoothed_win_rate: shrunk toward the overall rate by the
--        beta-binomial prior of icp_feature_weights (feature 'segment' or
--        'technology', train_set 'all'); lift = smoothed_win_rate / overall win rate;
--   avg_deal: average amount of the won ones;
--   customers: accounts with subscriptions; churned_customers: those with none active
--        at the report end; churn_rate: monthly logo churn hazard, churned customers
--        per customer-month (account_value), shrunk toward the overall hazard with a
--        prior of 120 customer-months: (churned + 120 h0) / (customer_months + 120);
--   arpa: realised revenue per customer-month; ltv = arpa x gross_margin / churn_rate
--        (NULL without customers or churn);
--   lift_rank: 1 = highest lift within the segment_type.
-- grain: segment_type, industry, size_band, region, technology
-- columns: segment_type text, industry text, size_band text, region text,
-- columns: technology text, accounts int, opportunities int, won int, win_rate float,
-- columns: smoothed_win_rate float, lift float, avg_deal float, customers int,
-- columns: churned_customers int, churn_rate float, arpa float, ltv float,
-- columns: lift_rank int
WITH accts AS (
    SELECT
        f.id AS account_id,
        f.industry,
        f.size_band,
        f.region,
        v.customer_months,
        v.revenue,
        CASE WHEN v.customer_months > 0 THEN 1 ELSE 0 END AS customer,
        CASE WHEN v.churned THEN 1 ELSE 0 END AS churned
    FROM firmographics f
    JOIN account_value v ON v.account_id = f.id
    WHERE f.source = 'account'
),
members AS (
    SELECT 'all' AS segment_type, CAST(NULL AS VARCHAR) AS industry, CAST(NULL AS VARCHAR) AS size_band,
           CAST(NULL AS VARCHAR) AS region, CAST(NULL AS VARCHAR) AS technology, 'all' AS level,
           customer_months, revenue, customer, churned
    FROM accts
    UNION ALL
    SELECT 'segment' AS segment_type, industry, size_band, region, CAST(NULL AS VARCHAR) AS technology,
           industry || ' / ' || size_band || ' / ' || region AS level,
           customer_months, revenue, customer, churned
    FROM accts
    UNION ALL
    SELECT 'technology' AS segment_type, CAST(NULL AS VARCHAR) AS industry, CAST(NULL AS VARCHAR) AS size_band,
           CAST(NULL AS VARCHAR) AS region, technology, technology AS level,
           customer_months, revenue, customer, churned
    FROM accts a
    JOIN firmographic_technologies t ON t.source = 'account' AND t.id = a.account_id
),
segments AS (
    SELECT
        segment_type,
        industry,
        size_band,
        region,
        technology,
        level,
        COUNT(*) AS accounts,
        CAST(SUM(customer) AS BIGINT) AS customers,
        CAST(SUM(churned) AS BIGINT) AS churned_customers,
        CAST(SUM(CAST(customer_months AS DECIMAL(38, 12))) AS DOUBLE) AS customer_months,
        CAST(SUM(CAST(revenue AS DECIMAL(38, 12))) AS DOUBLE) AS revenue
    FROM members
    GROUP BY segment_type, industry, size_band, region, technology, level
),
overall AS (
    SELECT
        accounts AS all_accounts,
        CASE WHEN customer_months > 0 THEN churned_customers / customer_months END AS h0
    FROM segments
    WHERE segment_type = 'all'
),
win_rates AS (
    SELECT
        CASE feature WHEN 'segment' THEN 'segment' ELSE 'technology' END AS segment_type,
        level, opportunities, won, win_rate, smoothed_win_rate, overall_win_rate, avg_deal
    FROM icp_feature_weights
    WHERE train_set = 'all' AND feature IN ('segment', 'technology')
),
overall_wins AS (
    SELECT
        COUNT(*) AS opportunities,
        CAST(SUM(CASE WHEN status = 'won' THEN 1 ELSE 0 END) AS BIGINT) AS won,
        CAST(AVG(CASE WHEN status = 'won' THEN amount END) AS DOUBLE) AS avg_deal
    FROM opportunities
    WHERE type = 'new_business' AND status IN ('won', 'lost')
),
joined AS (
    SELECT
        s.*,
        CASE WHEN s.segment_type = 'all' THEN ow.opportunities ELSE COALESCE(w.opportunities, 0) END AS opportunities,
        CASE WHEN s.segment_type = 'all' THEN ow.won ELSE COALESCE(w.won, 0) END AS won,
        CASE WHEN s.segment_type = 'all' AND ow.opportunities > 0
             THEN CAST(ow.won AS DOUBLE) / ow.opportunities ELSE w.win_rate END AS win_rate,
        CASE WHEN s.segment_type = 'all' AND ow.opportunities > 0
             THEN CAST(ow.won AS DOUBLE) / ow.opportunities
             ELSE COALESCE(w.smoothed_win_rate, CAST(ow.won AS DOUBLE) / NULLIF(ow.opportunities, 0)) END AS smoothed_win_rate,
        CAST(ow.won AS DOUBLE) / NULLIF(ow.opportunities, 0) AS overall_win_rate,
        CASE WHEN s.segment_type = 'all' THEN ow.avg_deal ELSE w.avg_deal END AS avg_deal,
        CASE WHEN s.customers > 0 AND o.h0 IS NOT NULL
             THEN (s.churned_customers + 120.0 * o.h0) / (s.customer_months + 120.0) END AS churn_rate,
        CASE WHEN s.customer_months > 0 THEN s.revenue / s.customer_months END AS arpa
    FROM segments s
    CROSS JOIN overall o
    CROSS JOIN overall_wins ow
    LEFT JOIN win_rates w ON w.segment_type = s.segment_type AND w.level = s.level
)
SELECT
    j.segment_type,
    j.industry,
    j.size_band,
    j.region,
    j.technology,
    j.accounts,
    j.opportunities,
    j.won,
    j.win_rate,
    j.smoothed_win_rate,
    j.smoothed_win_rate / NULLIF(j.overall_win_rate, 0) AS lift,
    j.avg_deal,
    j.customers,
    j.churned_customers,
    j.churn_rate,
    j.arpa,
    CASE WHEN j.churn_rate > 0 THEN j.arpa * p.gross_margin / j.churn_rate END AS ltv,
    CAST(ROW_NUMBER() OVER (
        PARTITION BY j.segment_type
        ORDER BY j.smoothed_win_rate / NULLIF(j.overall_win_rate, 0) DESC NULLS LAST, j.level) AS BIGINT) AS lift_rank
FROM joined j
CROSS JOIN params p
ORDER BY j.segment_type, j.industry, j.size_band, j.region, j.technology
