-- attribution_milestones: W-shaped (milestone journey) and full-path (revenue journey)
-- credit per opportunity x touch before the models are named: the milestones each touch
-- holds and its share. Helper of attribution_credit, materialised once because
-- two models read it (and because a filter on the journey below these windows trips
-- Ballista, datafusion-ballista#1296). Definitions: docs/attribution.md.
-- grain: journey, opportunity_id, touch_id
-- Milestones: FT = first touch, LC = lead-creation touch (FT when there is none),
-- OC = last touch at or before created_at, CW = last touch at or before closed_at.
WITH milestone_flags AS (
    SELECT
        *,
        CASE WHEN rn = 1 THEN 1 ELSE 0 END
          + CASE WHEN is_lead_creation OR (NOT has_lead_creation AND rn = 1) THEN 1 ELSE 0 END
          + CASE WHEN before_creation AND rn = MAX(CASE WHEN before_creation THEN rn END)
                      OVER (PARTITION BY journey, opportunity_id) THEN 1 ELSE 0 END
          + CASE WHEN journey = 'revenue' AND rn = n THEN 1 ELSE 0 END AS milestones
    FROM attribution_journey
    WHERE journey IN ('milestone', 'revenue')
),
milestone_raw AS (
    SELECT
        f.*,
        CASE WHEN f.journey = 'revenue' THEN p.full_path_milestone ELSE p.w_shaped_milestone END AS m,
        CASE WHEN f.journey = 'revenue' THEN 4 ELSE 3 END AS slots,
        SUM(CASE WHEN f.milestones = 0 THEN 1 ELSE 0 END) OVER (PARTITION BY f.journey, f.opportunity_id) AS others
    FROM milestone_flags f CROSS JOIN params p
),
-- Coinciding milestones add their weights; the rest (1 - slots x m) is shared by the
-- other touches, or goes to the milestones pro rata when there are none: dividing by
-- the total raw weight does both.
milestone_weighted AS (
    SELECT
        journey, opportunity_id, touch_id, ts, channel, campaign_id, milestones,
        m * milestones + CASE WHEN milestones = 0 THEN (1.0 - slots * m) / others ELSE 0.0 END AS raw
    FROM milestone_raw
)
-- A milestone weight of 0 on a journey of milestones only leaves every raw weight 0:
-- the touches then share the credit equally (never 0/0).
-- The total is summed in exact decimals: the same in every run, whatever order the
-- partition's rows arrive in.
SELECT journey, opportunity_id, touch_id, ts, channel, campaign_id, milestones,
       CASE WHEN total > 0.0 THEN raw / total
            ELSE 1.0 / COUNT(*) OVER (PARTITION BY journey, opportunity_id) END AS credit
FROM (
    SELECT *, CAST(SUM(CAST(raw AS DECIMAL(38, 30))) OVER (PARTITION BY journey, opportunity_id) AS DOUBLE) AS total
    FROM milestone_weighted
)
