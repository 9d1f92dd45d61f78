-- attribution_journey_totals: what each opportunity's journeys add up to, one row per
-- opportunity: the lengths of its window (after the path transform), milestone and
-- revenue journeys (0 without touches), the position of its lead-creation touch, the
-- time-decay weights' total, and what its credit rows carry (months, amount, won).
-- Helper of attribution_credit, materialised once because each of its model slices
-- reads it. Definitions: docs/attribution.md.
-- grain: opportunity_id
-- ordered: opportunity_id
WITH counts AS (
    SELECT
        opportunity_id,
        COALESCE(MAX(window_rn), 0) AS window_touches,
        COUNT(CASE WHEN before_creation THEN 1 END) AS milestone_touches,
        COUNT(touch_id) AS revenue_touches,
        MAX(CASE WHEN is_lead_creation THEN rn END) AS lead_creation_rn,
        MIN(CASE WHEN kept THEN days_before END) AS latest_days_before
    FROM attribution_journey
    GROUP BY opportunity_id
),
-- Time-decay weights are relative to the latest kept touch (its weight is 1: the same
-- shares, and no total underflows) and totalled in exact decimals, so the credits do
-- not depend on the order parallel partitions add in.
decay AS (
    SELECT
        j.opportunity_id,
        CAST(SUM(CAST(power(2.0, -(j.days_before - c.latest_days_before) / p.half_life_days) AS DECIMAL(38, 30))) AS DOUBLE)
            AS decay_total
    FROM counts c
    JOIN attribution_journey j ON j.opportunity_id = c.opportunity_id AND j.kept
    CROSS JOIN params p
    GROUP BY j.opportunity_id
)
SELECT
    o.opportunity_id,
    CAST(date_trunc('month', o.created_at) AS DATE) AS opportunity_month,
    CAST(date_trunc('month', o.closed_at) AS DATE) AS closed_month,
    CAST(o.amount AS DOUBLE) AS amount,
    o.status = 'won' AS won,
    CAST(COALESCE(c.window_touches, 0) AS BIGINT) AS window_touches,
    CAST(COALESCE(c.milestone_touches, 0) AS BIGINT) AS milestone_touches,
    CAST(COALESCE(c.revenue_touches, 0) AS BIGINT) AS revenue_touches,
    CAST(c.lead_creation_rn AS BIGINT) AS lead_creation_rn,
    c.latest_days_before,
    d.decay_total
FROM opportunities o
LEFT JOIN counts c ON c.opportunity_id = o.opportunity_id
LEFT JOIN decay d ON d.opportunity_id = o.opportunity_id
