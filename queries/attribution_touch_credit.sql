-- attribution_touch_credit: each rule model's credit and revenue share per
-- opportunity x touch (before the '(none)' rows and amounts). Helper of
-- attribution_credit, materialised once because it reads it twice (for the totals that
-- decide the '(none)' rows, and for the rows themselves). Definitions:
-- docs/attribution.md.
-- grain: model, opportunity_id, touch_id
-- publish: false
WITH win AS (
    SELECT * FROM attribution_journey WHERE journey = 'window'
),
window_rules AS (
    SELECT 'first_touch' AS model, opportunity_id, touch_id, ts, channel, campaign_id,
           CASE WHEN rn = 1 THEN 1.0 ELSE 0.0 END AS credit
    FROM win
    UNION ALL
    SELECT 'last_touch', opportunity_id, touch_id, ts, channel, campaign_id,
           CASE WHEN rn = n THEN 1.0 ELSE 0.0 END
    FROM win
    UNION ALL
    SELECT 'linear', opportunity_id, touch_id, ts, channel, campaign_id, 1.0 / n
    FROM win
    UNION ALL
    SELECT 'time_decay', w.opportunity_id, w.touch_id, w.ts, w.channel, w.campaign_id,
           power(2.0, -w.days_before / p.half_life_days)
               / SUM(power(2.0, -w.days_before / p.half_life_days)) OVER (PARTITION BY w.opportunity_id)
    FROM win w CROSS JOIN params p
    UNION ALL
    SELECT 'position_based', w.opportunity_id, w.touch_id, w.ts, w.channel, w.campaign_id,
           CASE
               WHEN w.n = 1 THEN 1.0
               WHEN w.n = 2 AND w.rn = 1 THEN p.position_first / (p.position_first + p.position_last)
               WHEN w.n = 2 THEN p.position_last / (p.position_first + p.position_last)
               WHEN w.rn = 1 THEN p.position_first
               WHEN w.rn = w.n THEN p.position_last
               ELSE p.position_middle / (w.n - 2)
           END
    FROM win w CROSS JOIN params p
),
lead_creation_rule AS (
    SELECT 'lead_creation' AS model, opportunity_id, touch_id, ts, channel, campaign_id,
           CASE WHEN is_lead_creation OR (NOT has_lead_creation AND rn = 1) THEN 1.0 ELSE 0.0 END AS credit
    FROM attribution_journey
    WHERE journey = 'milestone'
),
w_shaped AS (
    SELECT opportunity_id, touch_id, ts, channel, campaign_id, credit
    FROM attribution_milestones WHERE journey = 'milestone'
),
full_path_revenue AS (
    SELECT opportunity_id, touch_id, ts, channel, campaign_id, credit AS revenue_share
    FROM attribution_milestones WHERE journey = 'revenue'
),
full_path AS (
    SELECT
        'full_path' AS model,
        COALESCE(w.opportunity_id, r.opportunity_id) AS opportunity_id,
        COALESCE(w.touch_id, r.touch_id) AS touch_id,
        COALESCE(w.ts, r.ts) AS ts,
        COALESCE(w.channel, r.channel) AS channel,
        COALESCE(w.campaign_id, r.campaign_id) AS campaign_id,
        COALESCE(w.credit, 0.0) AS credit,
        COALESCE(r.revenue_share, 0.0) AS revenue_share
    FROM w_shaped w
    FULL OUTER JOIN full_path_revenue r
        ON r.opportunity_id = w.opportunity_id AND r.touch_id = w.touch_id
)
SELECT model, opportunity_id, touch_id, ts, channel, campaign_id, credit, credit AS revenue_share FROM window_rules
UNION ALL
SELECT model, opportunity_id, touch_id, ts, channel, campaign_id, credit, credit AS revenue_share FROM lead_creation_rule
UNION ALL
SELECT 'w_shaped', opportunity_id, touch_id, ts, channel, campaign_id, credit, credit AS revenue_share FROM w_shaped
UNION ALL
SELECT model, opportunity_id, touch_id, ts, channel, campaign_id, credit, revenue_share FROM full_path
