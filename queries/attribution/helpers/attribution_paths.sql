-- attribution_paths: channel paths of closed opportunities for the Markov model
-- (src/models/markov.rs), aggregated: one row per distinct path with its conversions
-- (won), null outcomes (lost) and won revenue. A path is the channel sequence of the
-- opportunity's window journey ('>'-separated; '>' inside a channel name becomes '_').
-- Open opportunities and opportunities without touches are not paths.
-- grain: path
WITH journeys AS (
    SELECT
        o.opportunity_id,
        o.status,
        o.amount,
        array_to_string(array_agg(replace(j.channel, '>', '_') ORDER BY j.window_rn), '>') AS path
    FROM opportunities o
    JOIN attribution_journey j ON j.opportunity_id = o.opportunity_id AND j.kept
    WHERE o.status IN ('won', 'lost')
    GROUP BY o.opportunity_id, o.status, o.amount
)
SELECT
    path,
    CAST(SUM(CASE WHEN status = 'won' THEN 1 ELSE 0 END) AS BIGINT) AS conversions,
    CAST(SUM(CASE WHEN status = 'lost' THEN 1 ELSE 0 END) AS BIGINT) AS nulls,
    -- An exact decimal sum: the same in every run.
    CAST(SUM(CASE WHEN status = 'won' THEN amount END) AS DOUBLE) AS revenue
FROM journeys
GROUP BY path
ORDER BY path
