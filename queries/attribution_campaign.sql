-- attribution_campaign: month of opportunity creation x campaign x model (rule models),
-- the campaign grain of attribution_channel. Touches without a campaign are under
-- campaign_id NULL of their channel. spend: spend rows of the same month and campaign.
-- grain: month, channel, campaign_id, model
WITH credited AS (
    SELECT opportunity_month AS month, channel, campaign_id, model,
           SUM(credit) AS opportunities, SUM(pipeline_credit) AS pipeline, SUM(revenue_credit) AS revenue
    FROM attribution_credit
    GROUP BY opportunity_month, channel, campaign_id, model
),
spend_by_campaign AS (
    SELECT CAST(date_trunc('month', month) AS DATE) AS month, campaign_id, CAST(SUM(amount) AS DOUBLE) AS spend
    FROM spend
    WHERE campaign_id IS NOT NULL
    GROUP BY 1, 2
)
SELECT
    c.month,
    c.channel,
    c.campaign_id,
    c.model,
    c.opportunities,
    c.pipeline,
    c.revenue,
    s.spend,
    c.revenue / NULLIF(s.spend, 0.0) AS roas
FROM credited c
LEFT JOIN spend_by_campaign s ON s.month = c.month AND s.campaign_id = c.campaign_id
ORDER BY c.month, c.channel, c.campaign_id, c.model
