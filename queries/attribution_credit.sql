-- attribution_credit: the credit ledger, opportunity x touch x model. For every model
-- each opportunity's credits sum to 1; an opportunity with no touch in a model's
-- journey gets one row with channel '(none)' and credit 1. pipeline_credit = credit x
-- amount; revenue_credit = credit x amount for won opportunities (full_path: its own
-- revenue split over the journey extended to closed_at). Rows with zero credit and
-- zero revenue credit are left out. Definitions: docs/attribution.md.
-- grain: model, opportunity_id, touch_ts, touch_id
WITH models AS (
    SELECT * FROM (VALUES ('first_touch'), ('lead_creation'), ('last_touch'), ('linear'),
                          ('time_decay'), ('position_based'), ('w_shaped'), ('full_path')) AS m(model)
),
totals AS (
    SELECT model, opportunity_id, SUM(credit) AS credit, SUM(revenue_share) AS revenue_share
    FROM attribution_touch_credit
    GROUP BY model, opportunity_id
),
-- An opportunity whose journey is empty for a model (or, for full_path, whose revenue
-- journey is) gets the '(none)' channel for what is missing.
none_rows AS (
    SELECT
        m.model,
        o.opportunity_id,
        CAST(NULL AS VARCHAR) AS touch_id,
        arrow_cast(NULL, 'Timestamp(Microsecond, Some("UTC"))') AS ts,
        '(none)' AS channel,
        CAST(NULL AS VARCHAR) AS campaign_id,
        CASE WHEN COALESCE(t.credit, 0.0) = 0.0 THEN 1.0 ELSE 0.0 END AS credit,
        CASE WHEN COALESCE(t.revenue_share, 0.0) = 0.0 THEN 1.0 ELSE 0.0 END AS revenue_share
    FROM opportunities o
    CROSS JOIN models m
    LEFT JOIN totals t ON t.model = m.model AND t.opportunity_id = o.opportunity_id
),
all_rows AS (
    SELECT model, opportunity_id, touch_id, ts, channel, campaign_id, credit, revenue_share FROM attribution_touch_credit
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
FROM all_rows r
JOIN opportunities o ON o.opportunity_id = r.opportunity_id
WHERE r.credit > 0.0 OR (o.status = 'won' AND r.revenue_share > 0.0)
ORDER BY r.model, r.opportunity_id, r.ts, r.touch_id
