-- attribution_credit: the credit ledger, opportunity x touch x model. For every model
-- each opportunity's credits sum to 1; an opportunity with no touch in a model's
-- journey gets one row with channel '(none)' and credit 1. pipeline_credit = credit x
-- amount; revenue_credit = credit x amount for won opportunities (full_path: its own
-- revenue split over the journey extended to closed_at). Rows with zero credit and
-- zero revenue credit are left out. Definitions: docs/attribution.md.
-- grain: model, opportunity_id, touch_ts, touch_id
-- slices: model in SELECT model FROM attribution_models WHERE kind = 'rule'
-- columns: model text, opportunity_id text, opportunity_month date, closed_month date,
-- columns: touch_id text, touch_ts timestamp, channel text, campaign_id text,
-- columns: credit float, pipeline_credit float, revenue_credit float
WITH win AS (
    SELECT * FROM attribution_journey WHERE journey = 'window'
),
-- Time-decay weights and their sum per opportunity, as an aggregate joined back (a
-- window over the whole opportunity would hand on its input as one large batch).
-- Weights are relative to the opportunity's latest touch (its weight is 1: the shares
-- are the same, and no total underflows), and totalled in exact decimals, so the
-- credits do not depend on the order parallel partitions add in.
latest AS (
    SELECT opportunity_id, MIN(days_before) AS days_before FROM win GROUP BY opportunity_id
),
decay AS (
    SELECT w.opportunity_id, w.touch_id, w.ts, w.channel, w.campaign_id,
           power(2.0, -(w.days_before - l.days_before) / p.half_life_days) AS weight
    FROM win w
    JOIN latest l ON l.opportunity_id = w.opportunity_id
    CROSS JOIN params p
),
decay_totals AS (
    SELECT opportunity_id, CAST(SUM(CAST(weight AS DECIMAL(38, 30))) AS DOUBLE) AS total_weight
    FROM decay GROUP BY opportunity_id
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
    SELECT 'time_decay', d.opportunity_id, d.touch_id, d.ts, d.channel, d.campaign_id,
           d.weight / t.total_weight
    FROM decay_totals t
    JOIN decay d ON d.opportunity_id = t.opportunity_id
    UNION ALL
    SELECT 'position_based', w.opportunity_id, w.touch_id, w.ts, w.channel, w.campaign_id,
           CASE
               WHEN w.n = 1 THEN 1.0
               -- Two touches and no first or last weight: an equal split, never 0/0.
               WHEN w.n = 2 AND p.position_first + p.position_last = 0.0 THEN 0.5
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
),
models AS (
    SELECT model FROM attribution_models WHERE kind = 'rule'
),
touch_rows AS (
    SELECT model, opportunity_id, touch_id, ts, channel, campaign_id, credit, credit AS revenue_share FROM window_rules
    UNION ALL
    SELECT model, opportunity_id, touch_id, ts, channel, campaign_id, credit, credit AS revenue_share FROM lead_creation_rule
    UNION ALL
    SELECT 'w_shaped', opportunity_id, touch_id, ts, channel, campaign_id, credit, credit AS revenue_share FROM w_shaped
    UNION ALL
    SELECT model, opportunity_id, touch_id, ts, channel, campaign_id, credit, revenue_share FROM full_path
),
-- Which journeys each opportunity has: a model's credits sum to 1 over a non-empty
-- journey, so an empty journey, not a sum of credits, tells where '(none)' goes (the
-- sum would evaluate every model a second time).
journeys_present AS (
    SELECT opportunity_id,
           MAX(CASE WHEN journey = 'window' THEN 1 ELSE 0 END) AS has_window,
           MAX(CASE WHEN journey = 'milestone' THEN 1 ELSE 0 END) AS has_milestone,
           MAX(CASE WHEN journey = 'revenue' THEN 1 ELSE 0 END) AS has_revenue
    FROM attribution_journey
    GROUP BY opportunity_id
),
-- An opportunity whose journey is empty for a model (or, for full_path, whose revenue
-- journey is) gets the '(none)' channel for what is missing. The journeys of the
-- models: lead_creation and w_shaped credit the milestone journey, full_path credits
-- it too and splits revenue over the revenue journey, the others read the window.
none_rows AS (
    SELECT
        m.model,
        o.opportunity_id,
        CAST(NULL AS VARCHAR) AS touch_id,
        arrow_cast(NULL, 'Timestamp(Microsecond, Some("UTC"))') AS ts,
        '(none)' AS channel,
        CAST(NULL AS VARCHAR) AS campaign_id,
        CASE WHEN COALESCE(CASE WHEN m.model IN ('lead_creation', 'w_shaped', 'full_path')
                                THEN j.has_milestone ELSE j.has_window END, 0) = 0
             THEN 1.0 ELSE 0.0 END AS credit,
        CASE WHEN COALESCE(CASE WHEN m.model = 'full_path' THEN j.has_revenue
                                WHEN m.model IN ('lead_creation', 'w_shaped') THEN j.has_milestone
                                ELSE j.has_window END, 0) = 0
             THEN 1.0 ELSE 0.0 END AS revenue_share
    FROM opportunities o
    CROSS JOIN models m
    LEFT JOIN journeys_present j ON j.opportunity_id = o.opportunity_id
),
all_rows AS (
    SELECT model, opportunity_id, touch_id, ts, channel, campaign_id, credit, revenue_share FROM touch_rows
    UNION ALL
    SELECT model, opportunity_id, touch_id, ts, channel, campaign_id, credit, revenue_share
    FROM none_rows
    WHERE credit > 0.0 OR revenue_share > 0.0
)
SELECT
    r.model,
    r.opportunity_id,
    CAST(date_trunc('month', o.created_at) AS DATE) AS opportunity_month,
    CAST(date_trunc('month', o.closed_at) AS DATE) AS closed_month,
    r.touch_id,
    r.ts AS touch_ts,
    r.channel,
    r.campaign_id,
    r.credit,
    r.credit * CAST(o.amount AS DOUBLE) AS pipeline_credit,
    CASE WHEN o.status = 'won' THEN r.revenue_share * CAST(o.amount AS DOUBLE) ELSE 0.0 END AS revenue_credit
-- opportunities first: DataFusion builds its hash table on the left side of a join.
FROM opportunities o
JOIN all_rows r ON r.opportunity_id = o.opportunity_id
WHERE r.credit > 0.0 OR (o.status = 'won' AND r.revenue_share > 0.0)
-- No ORDER BY: the pipeline sorts published rows by the grain, one model at a time
-- (`-- slices:`): at 10M touches of long journeys the whole ledger is 15M rows.
