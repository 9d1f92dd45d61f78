-- attribution_paths: channel paths of closed opportunities for the Markov model
-- (src/models/markov.rs), aggregated: one row per distinct path with its conversions
-- (won), null outcomes (lost) and won revenue. A path is the channel sequence of the
-- opportunity's window journey ('>'-separated; '>' inside a channel name becomes '_').
-- Open opportunities and opportunities without touches are not paths.
-- grain: path
WITH closed AS (
    SELECT opportunity_id, status, amount
    FROM opportunities
    WHERE status IN ('won', 'lost')
),
-- The journey is stored in the order (opportunity_id, ts, touch_id): the paths are
-- built from it as it streams, without sorting.
journeys AS (
    SELECT
        j.opportunity_id,
        array_to_string(array_agg(replace(j.channel, '>', '_') ORDER BY j.ts, j.touch_id), '>') AS path
    -- The small side first: DataFusion builds its hash table on the left side of a join.
    FROM closed c
    JOIN attribution_journey j ON j.opportunity_id = c.opportunity_id AND j.kept
    GROUP BY j.opportunity_id
)
SELECT
    j.path,
    CAST(SUM(CASE WHEN c.status = 'won' THEN 1 ELSE 0 END) AS BIGINT) AS conversions,
    CAST(SUM(CASE WHEN c.status = 'lost' THEN 1 ELSE 0 END) AS BIGINT) AS nulls,
    -- An exact decimal sum: the same in every run.
    CAST(SUM(CASE WHEN c.status = 'won' THEN c.amount END) AS DOUBLE) AS revenue
FROM closed c
JOIN journeys j ON j.opportunity_id = c.opportunity_id
GROUP BY j.path
ORDER BY j.path
