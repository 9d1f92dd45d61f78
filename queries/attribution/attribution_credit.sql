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
-- Every row carries its opportunity's months, amount and outcome from
-- attribution_journey_totals (one row per opportunity: a small hash table), and the
-- journey rows keep their order (opportunity_id, ts, touch_id), so each model's rows
-- reach the writer in grain order without a sort of the ledger.
WITH journey AS (
    SELECT
        j.opportunity_id, j.touch_id, j.ts, j.channel, j.campaign_id, j.before_creation, j.days_before,
        j.rn, j.kept, j.window_rn,
        t.opportunity_month, t.closed_month, t.amount, t.won,
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
        CASE WHEN j.rn = 1 THEN 1 ELSE 0 END + CASE WHEN j.rn = j.lc_rn THEN 1 ELSE 0 END
          + CASE WHEN j.rn = j.milestone_touches THEN 1 ELSE 0 END AS w_milestones,
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
-- W-shaped credit (the milestone journey: touches before creation) and the full-path
-- revenue share (the revenue journey: every touch; read for won opportunities).
milestone_shares AS (
    SELECT
        *,
        CASE
            WHEN touch_id IS NULL OR NOT before_creation THEN 0.0
            WHEN w_others > 0 THEN wm * w_milestones + CASE WHEN w_milestones = 0 THEN (1.0 - 3 * wm) / w_others ELSE 0.0 END
            WHEN wm > 0.0 THEN w_milestones / 3.0
            ELSE 1.0 / milestone_touches
        END AS w_shaped_credit,
        CASE
            WHEN touch_id IS NULL THEN 0.0
            WHEN f_others > 0 THEN
                (fm * f_milestones + CASE WHEN f_milestones = 0 THEN (1.0 - 4 * fm) / f_others ELSE 0.0 END)
                / CASE WHEN f_milestone_count = 4 THEN 1.0 ELSE 1.0 - fm END
            WHEN fm > 0.0 THEN f_milestones / CAST(f_milestone_count AS DOUBLE)
            ELSE 1.0 / revenue_touches
        END AS full_path_share
    FROM milestones
),
-- One branch per model (a model's slice reads only its own); revenue_share is the
-- credit, except for full_path. The journey's last row per opportunity (touch_id NULL,
-- channel '(none)') is the model's '(none)' row, with credit 1, when the model's journey
-- is empty: lead_creation and w_shaped credit the milestone journey, full_path credits
-- it too and splits revenue over the revenue journey, the others read the window.
window_journeys AS (
    SELECT *, touch_id IS NULL AS is_none
    FROM journey
    WHERE kept OR (touch_id IS NULL AND window_touches = 0)
),
milestone_journeys AS (
    SELECT *, touch_id IS NULL AS is_none
    FROM milestone_shares
    WHERE before_creation OR (touch_id IS NULL AND milestone_touches = 0)
),
rule_rows AS (
    SELECT 'first_touch' AS model, opportunity_id, opportunity_month, closed_month, touch_id, ts, channel, campaign_id, amount, won,
           CASE WHEN is_none OR window_rn = 1 THEN 1.0 ELSE 0.0 END AS credit,
           CASE WHEN is_none OR window_rn = 1 THEN 1.0 ELSE 0.0 END AS revenue_share
    FROM window_journeys
    UNION ALL
    SELECT 'last_touch', opportunity_id, opportunity_month, closed_month, touch_id, ts, channel, campaign_id, amount, won,
           CASE WHEN is_none OR window_rn = window_touches THEN 1.0 ELSE 0.0 END,
           CASE WHEN is_none OR window_rn = window_touches THEN 1.0 ELSE 0.0 END
    FROM window_journeys
    UNION ALL
    SELECT 'linear', opportunity_id, opportunity_month, closed_month, touch_id, ts, channel, campaign_id, amount, won, linear_credit, linear_credit AS revenue_share
    FROM (SELECT *, CASE WHEN is_none THEN 1.0 ELSE 1.0 / window_touches END AS linear_credit FROM window_journeys)
    UNION ALL
    SELECT 'time_decay', opportunity_id, opportunity_month, closed_month, touch_id, ts, channel, campaign_id, amount, won, decay_credit, decay_credit AS revenue_share
    FROM (
        SELECT j.*,
               CASE WHEN j.is_none THEN 1.0
                    ELSE power(2.0, -(j.days_before - j.latest_days_before) / p.half_life_days) / j.decay_total
               END AS decay_credit
        FROM window_journeys j CROSS JOIN params p
    )
    UNION ALL
    SELECT 'position_based', opportunity_id, opportunity_month, closed_month, touch_id, ts, channel, campaign_id, amount, won, position_credit, position_credit AS revenue_share
    FROM (
        SELECT j.*,
               CASE
                   WHEN j.is_none OR j.window_touches = 1 THEN 1.0
                   -- Two touches and no first or last weight: an equal split, never 0/0.
                   WHEN j.window_touches = 2 AND p.position_first + p.position_last = 0.0 THEN 0.5
                   WHEN j.window_touches = 2 AND j.window_rn = 1 THEN p.position_first / (p.position_first + p.position_last)
                   WHEN j.window_touches = 2 THEN p.position_last / (p.position_first + p.position_last)
                   WHEN j.window_rn = 1 THEN p.position_first
                   WHEN j.window_rn = j.window_touches THEN p.position_last
                   ELSE p.position_middle / (j.window_touches - 2)
               END AS position_credit
        FROM window_journeys j CROSS JOIN params p
    )
    UNION ALL
    SELECT 'lead_creation', opportunity_id, opportunity_month, closed_month, touch_id, ts, channel, campaign_id, amount, won,
           CASE WHEN is_none OR rn = lc_rn THEN 1.0 ELSE 0.0 END,
           CASE WHEN is_none OR rn = lc_rn THEN 1.0 ELSE 0.0 END
    FROM milestone_journeys
    UNION ALL
    SELECT 'w_shaped', opportunity_id, opportunity_month, closed_month, touch_id, ts, channel, campaign_id, amount, won,
           CASE WHEN is_none THEN 1.0 ELSE w_shaped_credit END,
           CASE WHEN is_none THEN 1.0 ELSE w_shaped_credit END
    FROM milestone_journeys
    UNION ALL
    -- Every journey touch is a full_path row: its W-shaped credit (0 after creation) and
    -- its share of the revenue journey; the '(none)' row takes what an empty journey
    -- leaves (the pipeline, or the revenue, or both).
    SELECT 'full_path', opportunity_id, opportunity_month, closed_month, touch_id, ts, channel, campaign_id, amount, won,
           CASE WHEN touch_id IS NULL THEN CASE WHEN milestone_touches = 0 THEN 1.0 ELSE 0.0 END
                ELSE w_shaped_credit END,
           CASE WHEN touch_id IS NULL THEN CASE WHEN revenue_touches = 0 THEN 1.0 ELSE 0.0 END
                ELSE full_path_share END
    FROM milestone_shares
)
SELECT
    model,
    opportunity_id,
    opportunity_month,
    closed_month,
    touch_id,
    ts AS touch_ts,
    channel,
    campaign_id,
    credit,
    credit * amount AS pipeline_credit,
    CASE WHEN won THEN revenue_share * amount ELSE 0.0 END AS revenue_credit
FROM rule_rows
WHERE credit > 0.0 OR (won AND revenue_share > 0.0)
-- No ORDER BY: the pipeline writes published rows in grain order, one model at a time
-- (`-- slices:`): at 10M touches of long journeys the whole ledger is 15M rows.
