-- attribution_paths: the window journeys of closed opportunities, step by step, for the
-- Markov model (src/models/markov.rs), which counts the distinct channel paths with
-- their conversions (won), null outcomes (lost) and won revenue. One row per touch the
-- window journey keeps, in journey order, with the opportunity's status and amount.
-- Open opportunities and opportunities without touches are not paths.
-- grain: opportunity_id, touch_id
-- ordered: opportunity_id, ts, touch_id
SELECT j.opportunity_id, j.ts, j.touch_id, j.channel, c.status, c.amount
-- The small side first: DataFusion builds its hash table on the left side of a join;
-- the journey, stored in the order (opportunity_id, ts, touch_id), streams through
-- in that order, so nothing is sorted.
FROM (
    SELECT opportunity_id, status, amount
    FROM opportunities
    WHERE status IN ('won', 'lost')
) c
JOIN attribution_journey j ON j.opportunity_id = c.opportunity_id AND j.kept
