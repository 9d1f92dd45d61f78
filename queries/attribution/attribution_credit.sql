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
WITH journey AS (
    SELECT
        j.opportunity_id, j.touch_id, j.ts, j.channel, j.campaign_id, j.before_creation, j.days_before,
        j.rn, j.kept, j.window_rn,
        t.window_touches, t.milestone_touches, t.revenue_touches, t.latest_days_before, t.decay_total,
        -- Without an LC touch, LC is the first touch.
        COALESCE(t.lead_creation_rn, 1) AS lc_rn
    -- The small side first: DataFusion builds its hash table on the left side of a join.
    FROM attribution_journey_totals t
    JOIN attribution_journey j ON j.opportunity_id = t.opportunity_id
),
-- Milestones as positions: FT = 1, LC = lc_rn, OC = milestone_touches (the last touch at
-- or before created_at), CW = revenue_touches (the last touch at or before closed_at);
-- 1 <= lc_rn <= milestone_touches <= revenue_touches. Coinciding milestones add their
-- weights; the rest (1 - slots x m) goes to the other touches equally, or, when there
-- are none, the milestones share the credit pro rata (equally when m = 0).
milestones AS (
    SELECT
        j.*,
        p.w_shaped_milestone AS wm,
        p.full_path_milestone AS fm,
        CASE WHEN j.before_creation THEN
            CASE WHEN j.rn = 1 THEN 1 ELSE 0 END + CASE WHEN j.rn = j.lc_rn THEN 1 ELSE 0 END
              + CASE WHEN j.rn = j.milestone_touches THEN 1 ELSE 0 END
        END AS w_milestones,
        j.milestone_touches - 1 - CASE WHEN j.lc_rn > 1 THEN 1 ELSE 0 END
            - CASE WHEN j.milestone_touches > j.lc_rn THEN 1 ELSE 0 END AS w_others,
        CASE WHEN j.rn = 1 THEN 1 ELSE 0 END + CASE WHEN j.rn = j.lc_rn THEN 1 ELSE 0 END
          + CASE WHEN j.milestone_touches > 0 AND j.rn = j.milestone_touches THEN 1 ELSE 0 END
          + CASE WHEN j.rn = j.revenue_touches THEN 1 ELSE 0 END AS f_milestones,
        -- Without a touch before creation there is no OC: three milestones, not four.
        CASE WHEN j.milestone_touches > 0 THEN 4 ELSE 3 END AS f_milestone_count,
        j.revenue_touches - 1 - CASE WHEN j.lc_rn > 1 THEN 1 ELSE 0 END
            - CASE WHEN j.milestone_touches > j.lc_rn THEN 1 ELSE 0 END
            - CASE WHEN j.revenue_touches > GREATEST(j.milestone_touches, j.lc_rn) THEN 1 ELSE 0 END AS f_others
    FROM journey j
    CROSS JOIN params p
),
milestone_shares AS (
    SELECT
        opportunity_id, touch_id, ts, channel, campaign_id, before_creation, w_milestones,
        CASE
            WHEN NOT before_creation THEN 0.0
            WHEN w_others > 0 THEN wm * w_milestones + CASE WHEN w_milestones = 0 THEN (1.0 - 3 * wm) / w_others ELSE 0.0 END
            WHEN wm > 0.0 THEN w_milestones / 3.0
            ELSE 1.0 / milestone_touches
        END AS w_shaped_credit,
        CASE
            WHEN f_others > 0 THEN
                (fm * f_milestones + CASE WHEN f_milestones = 0 THEN (1.0 - 4 * fm) / f_others ELSE 0.0 END)
                / CASE WHEN f_milestone_count = 4 THEN 1.0 ELSE 1.0 - fm END
            WHEN fm > 0.0 THEN f_milestones / CAST(f_milestone_count AS DOUBLE)
            ELSE 1.0 / revenue_touches
        END AS full_path_share
    FROM milestones
),
window_rules AS (
    SELECT 'first_touch' AS model, opportunity_id, touch_id, ts, channel, campaign_id,
           CASE WHEN window_rn = 1 THEN 1.0 ELSE 0.0 END AS credit
    FROM journey WHERE kept
    UNION ALL
    SELECT 'last_touch', opportunity_id, touch_id, ts, channel, campaign_id,
           CASE WHEN window_rn = window_touches THEN 1.0 ELSE 0.0 END
    FROM journey WHERE kept
    UNION ALL
    SELECT 'linear', opportunity_id, touch_id, ts, channel, campaign_id, 1.0 / window_touches
    FROM journey WHERE kept
    UNION ALL
    SELECT 'time_decay', j.opportunity_id, j.touch_id, j.ts, j.channel, j.campaign_id,
           power(2.0, -(j.days_before - j.latest_days_before) / p.half_life_days) / j.decay_total
    FROM journey j CROSS JOIN params p WHERE j.kept
    UNION ALL
    SELECT 'position_based', j.opportunity_id, j.touch_id, j.ts, j.channel, j.campaign_id,
           CASE
               WHEN j.window_touches = 1 THEN 1.0
               -- Two touches and no first or last weight: an equal split, never 0/0.
               WHEN j.window_touches = 2 AND p.position_first + p.position_last = 0.0 THEN 0.5
               WHEN j.window_touches = 2 AND j.window_rn = 1 THEN p.position_first / (p.position_first + p.position_last)
               WHEN j.window_touches = 2 THEN p.position_last / (p.position_first + p.position_last)
               WHEN j.window_rn = 1 THEN p.position_first
               WHEN j.window_rn = j.window_touches THEN p.position_last
               ELSE p.position_middle / (j.window_touches - 2)
           END
    FROM journey j CROSS JOIN params p WHERE j.kept
),
models AS (
    SELECT model FROM attribution_models WHERE kind = 'rule'
),
touch_rows AS (
    SELECT model, opportunity_id, touch_id, ts, channel, campaign_id, credit, credit AS revenue_share FROM window_rules
    UNION ALL
    SELECT 'lead_creation', opportunity_id, touch_id, ts, channel, campaign_id,
           CASE WHEN rn = lc_rn THEN 1.0 ELSE 0.0 END AS credit,
           CASE WHEN rn = lc_rn THEN 1.0 ELSE 0.0 END AS revenue_share
    FROM journey WHERE before_creation
    UNION ALL
    SELECT 'w_shaped', opportunity_id, touch_id, ts, channel, campaign_id, w_shaped_credit, w_shaped_credit AS revenue_share
    FROM milestone_shares WHERE before_creation
    UNION ALL
    -- Every journey touch is a full_path row: its W-shaped credit (0 after creation) and
    -- its share of the revenue journey (read for won opportunities only).
    SELECT 'full_path', opportunity_id, touch_id, ts, channel, campaign_id, w_shaped_credit, full_path_share
    FROM milestone_shares
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
                                THEN t.milestone_touches ELSE t.window_touches END, 0) = 0
             THEN 1.0 ELSE 0.0 END AS credit,
        CASE WHEN COALESCE(CASE WHEN m.model = 'full_path' THEN t.revenue_touches
                                WHEN m.model IN ('lead_creation', 'w_shaped') THEN t.milestone_touches
                                ELSE t.window_touches END, 0) = 0
             THEN 1.0 ELSE 0.0 END AS revenue_share
    FROM opportunities o
    CROSS JOIN models m
    LEFT JOIN attribution_journey_totals t ON t.opportunity_id = o.opportunity_id
),
all_rows AS (
    SELECT model, opportunity_id, touch_id, ts, channel, campaign_id, credit, revenue_share FROM touch_rows
    UNION ALL
    SELECT model, opportunity_id, touch_id, ts, channel, campaign_id, credit, revenue_share
    FROM none_rows
    WHERE credit > 0.0 OR revenue_share > 0.0
),
-- Months and amounts per opportunity before the join: date_trunc on a UTC timestamp is
-- slow per row, and there are far fewer opportunities than credit rows.
opps AS (
    SELECT opportunity_id,
           CAST(date_trunc('month', created_at) AS DATE) AS opportunity_month,
           CAST(date_trunc('month', closed_at) AS DATE) AS closed_month,
           CAST(amount AS DOUBLE) AS amount,
           status = 'won' AS won
    FROM opportunities
)
SELECT
    r.model,
    r.opportunity_id,
    o.opportunity_month,
    o.closed_month,
    r.touch_id,
    r.ts AS touch_ts,
    r.channel,
    r.campaign_id,
    r.credit,
    r.credit * o.amount AS pipeline_credit,
    CASE WHEN o.won THEN r.revenue_share * o.amount ELSE 0.0 END AS revenue_credit
-- opportunities first: DataFusion builds its hash table on the left side of a join.
FROM opps o
JOIN all_rows r ON r.opportunity_id = o.opportunity_id
WHERE r.credit > 0.0 OR (o.won AND r.revenue_share > 0.0)
-- No ORDER BY: the pipeline sorts published rows by the grain, one model at a time
-- (`-- slices:`): at 10M touches of long journeys the whole ledger is 15M rows.
