-- roi_maturation: how the ROI of a month's spend matures. For each spend month M and
-- channel: the credit (params.attribution_model) earned by touches dated in M,
-- accumulated over months_after = 0..12 as their opportunities are created (pipeline)
-- and won (revenue, at the month of closed_at); spend of M; roi = (cumulative_revenue
-- - spend) / spend (NULL when the inputs hold no touch attribution counts). Only months
-- after M up to the report month exist: a young spend
-- month has fewer rows. Reading roi at months_after 0 or 1 for a 3-6 month sales cycle
-- is what understates channels.
-- grain: spend_month, channel, months_after
-- columns: spend_month date, channel text, months_after int, spend float,
-- columns: cumulative_pipeline float, cumulative_revenue float, roi float
-- The model's credit by touch month, channel and the months its opportunity was created
-- and closed: far fewer rows than touches to join to the 13 months after each spend
-- month. Sums are exact decimals (the same in every run). date_trunc on a timestamp
-- without its time zone is several times faster (the instants are UTC).
WITH touch_credit AS (
    SELECT
        CAST(date_trunc('month', CAST(c.touch_ts AS TIMESTAMP)) AS DATE) AS spend_month,
        c.channel,
        c.opportunity_month,
        c.closed_month,
        SUM(CAST(c.pipeline_credit AS DECIMAL(38, 12))) AS pipeline_credit,
        SUM(CAST(c.revenue_credit AS DECIMAL(38, 12))) AS revenue_credit
    FROM attribution_credit c
    CROSS JOIN params p
    WHERE c.model = p.attribution_model AND c.touch_ts IS NOT NULL
    GROUP BY 1, 2, 3, 4
),
spend_by_month AS (
    SELECT CAST(date_trunc('month', month) AS DATE) AS spend_month, channel, CAST(SUM(amount) AS DOUBLE) AS spend
    FROM spend
    GROUP BY 1, 2
),
cells AS (
    SELECT spend_month, channel FROM spend_by_month
    UNION
    SELECT spend_month, channel FROM touch_credit
),
series AS (
    SELECT spend_month, channel,
           CAST(unnest(generate_series(spend_month, CAST(spend_month + INTERVAL '12 months' AS DATE),
                                       INTERVAL '1 month')) AS DATE) AS as_of_month
    FROM cells
),
grid AS (
    SELECT s.spend_month, s.channel, s.as_of_month,
           CAST((date_part('year', s.as_of_month) - date_part('year', s.spend_month)) * 12
                + date_part('month', s.as_of_month) - date_part('month', s.spend_month) AS BIGINT) AS months_after
    FROM series s CROSS JOIN params p
    WHERE s.as_of_month <= p.report_month
)
SELECT
    g.spend_month,
    g.channel,
    g.months_after,
    s.spend,
    COALESCE(CAST(SUM(CASE WHEN t.opportunity_month <= g.as_of_month THEN t.pipeline_credit END) AS DOUBLE), 0.0) AS cumulative_pipeline,
    COALESCE(CAST(SUM(CASE WHEN t.closed_month <= g.as_of_month THEN t.revenue_credit END) AS DOUBLE), 0.0) AS cumulative_revenue,
    CASE WHEN MAX(at.attributable) THEN
        (COALESCE(CAST(SUM(CASE WHEN t.closed_month <= g.as_of_month THEN t.revenue_credit END) AS DOUBLE), 0.0) - s.spend)
        / NULLIF(s.spend, 0.0) END AS roi
FROM grid g
-- Without a touch attribution counts, ROI would read -100% for want of touches: NULL.
CROSS JOIN (
    SELECT available AS attributable FROM coverage WHERE fact = 'attributable_touches'
) at
LEFT JOIN spend_by_month s ON s.spend_month = g.spend_month AND s.channel = g.channel
LEFT JOIN touch_credit t ON t.spend_month = g.spend_month AND t.channel = g.channel
GROUP BY g.spend_month, g.channel, g.months_after, s.spend
ORDER BY g.spend_month, g.channel, g.months_after
