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
-- publish: false
WITH eligible AS (
    SELECT t.touch_id, c.account_id, t.ts, t.channel, t.campaign_id, t.kind
    FROM touches t
    JOIN contacts c ON c.contact_id = t.contact_id
    CROSS JOIN params p
    WHERE t.kind = 'marketing' OR p.include_sales_touches
),
opps AS (
    SELECT opportunity_id, account_id, created_at, closed_at, status FROM opportunities
),
spans AS (
    SELECT
        o.opportunity_id,
        e.touch_id,
        e.ts,
        e.channel,
        e.campaign_id,
        e.ts <= o.created_at AS before_creation,
        (date_part('epoch', o.created_at) - date_part('epoch', e.ts)) / 86400.0 AS days_before
    FROM opps o
    JOIN eligible e ON e.account_id = o.account_id
    CROSS JOIN params p
    WHERE date_part('epoch', o.created_at) - date_part('epoch', e.ts) <= p.lookback_days * 86400.0
      AND e.ts <= CASE WHEN o.status = 'won' THEN o.closed_at ELSE o.created_at END
),
lead_entry AS (
    SELECT
        c.account_id,
        COALESCE(MIN(CASE WHEN l.stage = 'lead' THEN l.ts END),
                 MIN(CASE WHEN l.stage = 'mql' THEN l.ts END)) AS lead_at
    FROM lifecycle l
    JOIN contacts c ON c.contact_id = l.contact_id
    GROUP BY c.account_id
),
lead_creation AS (
    SELECT
        o.opportunity_id,
        first_value(e.touch_id ORDER BY e.ts DESC, e.touch_id DESC) AS touch_id
    FROM opps o
    JOIN lead_entry le ON le.account_id = o.account_id
    JOIN eligible e
        ON e.account_id = o.account_id
       AND e.kind = 'marketing'
       AND e.ts <= CASE WHEN le.lead_at < o.created_at THEN le.lead_at ELSE o.created_at END
    WHERE le.lead_at IS NOT NULL
    GROUP BY o.opportunity_id
),
lc_older_than_window AS (
    SELECT
        lc.opportunity_id,
        e.touch_id,
        e.ts,
        e.channel,
        e.campaign_id,
        TRUE AS before_creation,
        (date_part('epoch', o.created_at) - date_part('epoch', e.ts)) / 86400.0 AS days_before
    FROM lead_creation lc
    JOIN opps o ON o.opportunity_id = lc.opportunity_id
    JOIN eligible e ON e.touch_id = lc.touch_id
    CROSS JOIN params p
    WHERE date_part('epoch', o.created_at) - date_part('epoch', e.ts) > p.lookback_days * 86400.0
),
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
    FROM spans s JOIN opps o ON o.opportunity_id = s.opportunity_id
    WHERE o.status = 'won'
    UNION ALL
    SELECT 'revenue', l.opportunity_id, l.touch_id, l.ts, l.channel, l.campaign_id, l.before_creation, l.days_before, 1
    FROM lc_older_than_window l JOIN opps o ON o.opportunity_id = l.opportunity_id
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
FROM journeys j
LEFT JOIN lead_creation lc ON lc.opportunity_id = j.opportunity_id
