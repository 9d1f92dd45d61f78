-- attribution_journey: the touches each opportunity's attribution models see, one row
-- per opportunity x touch x journey kind. Definitions: docs/attribution.md.
--   eligible touches: marketing touches (and sales touches when
--     params.include_sales_touches) of every contact of the opportunity's account;
--   journey 'window': touches in [created_at - lookback_days, created_at];
--   journey 'milestone': the window plus the lead-creation (LC) touch when it is older
--     than the window (lead_creation, w_shaped, full_path see this one);
--   journey 'revenue': the milestone journey extended to closed_at, for won
--     opportunities (full_path revenue credit).
-- LC: the last marketing touch of the account at or before the earliest `lead` stage
-- entry of any account contact (else the earliest `mql`), capped at created_at.
-- params.path_transform applies to the window journey (the models that use it and the
-- Markov paths): none; exposure (consecutive touches of the same channel collapse
-- into their first); first (only the first touch of each channel); frequency (one step
-- per channel, its first touch, with the channel's touch count in `steps`). Milestone
-- journeys are never transformed: milestones are specific touches.
-- Columns: rn / n order the touches by ts then touch_id within each journey; steps is
-- the number of raw touches a kept touch stands for.
-- grain: opportunity_id, journey, touch_id
WITH spans AS (
    SELECT * FROM attribution_spans
),
opps AS (
    SELECT opportunity_id, status FROM opportunities
),
lead_creation AS (
    SELECT opportunity_id, touch_id FROM attribution_lead_creation
),
lc_older_than_window AS (
    SELECT opportunity_id, touch_id, ts, channel, campaign_id, TRUE AS before_creation, days_before
    FROM attribution_lead_creation
    WHERE older_than_window
),
-- The transforms' windows run for `none` too: skipping them (a filter on params.path_transform
-- that empties their input) halves this stage locally but stalls Ballista 55 with no
-- scheduler error (tried 2026-12-01, docs/benchmarks.md).
window_marked AS (
    SELECT
        *,
        COALESCE(LAG(channel) OVER (PARTITION BY opportunity_id ORDER BY ts, touch_id) <> channel, TRUE) AS starts_run,
        ROW_NUMBER() OVER (PARTITION BY opportunity_id, channel ORDER BY ts, touch_id) AS channel_rank,
        COUNT(*) OVER (PARTITION BY opportunity_id, channel) AS channel_touches
    FROM spans
    WHERE before_creation
),
window_runs AS (
    SELECT
        *,
        SUM(CASE WHEN starts_run THEN 1 ELSE 0 END) OVER (PARTITION BY opportunity_id ORDER BY ts, touch_id
                                                          ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS run_id
    FROM window_marked
),
window_steps AS (
    SELECT
        w.*,
        COUNT(*) OVER (PARTITION BY w.opportunity_id, w.run_id) AS run_length,
        p.path_transform
    FROM window_runs w CROSS JOIN params p
),
journeys AS (
    SELECT 'window' AS journey, opportunity_id, touch_id, ts, channel, campaign_id, before_creation, days_before,
           CASE path_transform WHEN 'exposure' THEN run_length WHEN 'frequency' THEN channel_touches ELSE 1 END AS steps
    FROM window_steps
    WHERE path_transform = 'none'
       OR (path_transform = 'exposure' AND starts_run)
       OR (path_transform IN ('first', 'frequency') AND channel_rank = 1)
    UNION ALL
    SELECT 'milestone', opportunity_id, touch_id, ts, channel, campaign_id, before_creation, days_before, 1
    FROM spans WHERE before_creation
    UNION ALL
    SELECT 'milestone', opportunity_id, touch_id, ts, channel, campaign_id, before_creation, days_before, 1
    FROM lc_older_than_window
    UNION ALL
    SELECT 'revenue', s.opportunity_id, s.touch_id, s.ts, s.channel, s.campaign_id, s.before_creation, s.days_before, 1
    FROM opps o JOIN spans s ON s.opportunity_id = o.opportunity_id
    WHERE o.status = 'won'
    UNION ALL
    SELECT 'revenue', l.opportunity_id, l.touch_id, l.ts, l.channel, l.campaign_id, l.before_creation, l.days_before, 1
    FROM opps o JOIN lc_older_than_window l ON l.opportunity_id = o.opportunity_id
    WHERE o.status = 'won'
)
SELECT
    j.journey,
    j.opportunity_id,
    j.touch_id,
    j.ts,
    j.channel,
    j.campaign_id,
    j.before_creation,
    j.days_before,
    CAST(j.steps AS BIGINT) AS steps,
    COALESCE(j.touch_id = lc.touch_id, FALSE) AS is_lead_creation,
    lc.touch_id IS NOT NULL AS has_lead_creation,
    ROW_NUMBER() OVER (PARTITION BY j.journey, j.opportunity_id ORDER BY j.ts, j.touch_id) AS rn,
    COUNT(*) OVER (PARTITION BY j.journey, j.opportunity_id) AS n
-- The small side first: DataFusion builds its hash table on the left side of a join.
FROM lead_creation lc
RIGHT JOIN journeys j ON j.opportunity_id = lc.opportunity_id
