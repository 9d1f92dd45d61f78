-- attribution_campaign: month of opportunity creation x campaign x model (rule models),
-- the campaign grain of attribution_channel. Touches without a campaign are under
-- campaign_id NULL of their channel.
--   spend: the campaign's spend rows of the month, on the row of the channel the spend
--     rows name (once per campaign, month and spend channel: a campaign whose touches
--     carry two channels does not count its spend twice); campaigns with spend but no
--     credited opportunity are kept with zero credit; roas = revenue / spend.
-- grain: month, channel, campaign_id, model
-- columns: month date, channel text, campaign_id text, model text, opportunities float,
-- columns: pipeline float, revenue float, spend float, roas float
WITH models AS (
    SELECT model FROM attribution_models WHERE kind = 'rule'
),
credited AS (
    SELECT opportunity_month AS month, channel, campaign_id, model,
           CAST(credit AS DOUBLE) AS opportunities,
           CAST(pipeline_credit AS DOUBLE) AS pipeline,
           CAST(revenue_credit AS DOUBLE) AS revenue
    FROM attribution_credit_cells
),
spend_by_campaign AS (
    SELECT CAST(date_trunc('month', month) AS DATE) AS month, channel, campaign_id,
           CAST(SUM(amount) AS DOUBLE) AS spend
    FROM spend
    WHERE campaign_id IS NOT NULL
    GROUP BY 1, 2, 3
),
keys AS (
    SELECT month, channel, campaign_id, model FROM credited
    UNION
    SELECT s.month, s.channel, s.campaign_id, m.model FROM spend_by_campaign s CROSS JOIN models m
)
SELECT
    k.month,
    k.channel,
    k.campaign_id,
    k.model,
    COALESCE(c.opportunities, 0.0) AS opportunities,
    COALESCE(c.pipeline, 0.0) AS pipeline,
    COALESCE(c.revenue, 0.0) AS revenue,
    s.spend,
    COALESCE(c.revenue, 0.0) / NULLIF(s.spend, 0.0) AS roas
FROM keys k
LEFT JOIN credited c
    ON c.month = k.month AND c.channel = k.channel AND c.model = k.model
   AND c.campaign_id IS NOT DISTINCT FROM k.campaign_id
LEFT JOIN spend_by_campaign s
    ON s.month = k.month AND s.channel = k.channel AND s.campaign_id = k.campaign_id
ORDER BY k.month, k.channel, k.campaign_id, k.model
