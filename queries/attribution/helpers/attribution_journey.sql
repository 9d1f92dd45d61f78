-- attribution_journey: every touch an opportunity's attribution models see, one row per
-- opportunity x touch, numbered in one pass (one sort, no window over whole partitions).
-- Definitions: docs/attribution.md.
--   rows: the opportunity's spans (eligible touches from created_at - lookback_days to
--     created_at, and on to closed_at for won opportunities) plus its lead-creation (LC)
--     touch when that is older than the window;
--   rn: position by ts then touch_id. The LC touch older than the window is always
--     first and the touches after creation always last, so the milestone journey
--     (lead_creation, w_shaped, full_path credit) is the rows before_creation, the
--     revenue journey (full_path revenue, won opportunities) is every row, and a
--     milestone's position is its rn in both;
--   in_window: in the window journey (before_creation, not the older LC touch);
--   kept, window_rn: whether the window journey keeps the touch after
--     params.path_transform, and its position there (NULL when not kept): none keeps
--     every window touch; exposure the first of each run of one channel; first and
--     frequency the first touch of each channel (frequency's counts feed no model);
--   and one last row per opportunity without a touch (touch_id NULL, channel '(none)').
-- LC: the last marketing touch of the account at or before the earliest `lead` stage
-- entry of any account contact (else the earliest `mql`), capped at created_at.
-- Per-opportunity counts and sums are in attribution_journey_totals.
-- grain: opportunity_id, touch_id
-- ordered: opportunity_id, ts, touch_id
WITH lead_creation AS (
    SELECT opportunity_id, touch_id, ts, channel, campaign_id, days_before, older_than_window
    FROM attribution_lead_creation
),
seen AS (
    SELECT opportunity_id, touch_id, ts, channel, campaign_id, before_creation, days_before,
           before_creation AS in_window
    FROM attribution_spans
    UNION ALL
    SELECT opportunity_id, touch_id, ts, channel, campaign_id, TRUE, days_before, FALSE
    FROM lead_creation
    WHERE older_than_window
    UNION ALL
    -- One row per opportunity after its touches (a NULL ts sorts last), touch_id NULL and
    -- channel '(none)': attribution_credit turns it into the '(none)' row of a model
    -- whose journey is empty, in the same ordered stream as the touches.
    SELECT opportunity_id, CAST(NULL AS VARCHAR), arrow_cast(NULL, 'Timestamp(Microsecond, Some("UTC"))'),
           '(none)', CAST(NULL AS VARCHAR), FALSE, CAST(NULL AS DOUBLE), FALSE
    FROM opportunities
),
-- Running counts only (a frame up to the current row), all over one ordering: one sort,
-- and the windows stream. DataFusion evaluates a streaming window function row by row,
-- so each costs about as much as the sort: with the parameters read as constants, the
-- planner drops the ones the chosen path transform does not read (only exposure reads
-- the runs, only first and frequency the distinct channels).
numbered AS (
    SELECT
        *,
        ROW_NUMBER() OVER (PARTITION BY opportunity_id ORDER BY ts, touch_id) AS rn,
        in_window AND NOT (COALESCE(LAG(in_window) OVER (PARTITION BY opportunity_id ORDER BY ts, touch_id), FALSE)
                           AND LAG(channel) OVER (PARTITION BY opportunity_id ORDER BY ts, touch_id) IS NOT DISTINCT FROM channel)
            AS starts_run,
        COUNT(DISTINCT CASE WHEN in_window THEN channel END)
            OVER (PARTITION BY opportunity_id ORDER BY ts, touch_id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
            AS channels_so_far
    FROM seen
),
runs AS (
    SELECT
        *,
        SUM(CASE WHEN starts_run THEN 1 ELSE 0 END)
            OVER (PARTITION BY opportunity_id ORDER BY ts, touch_id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
            AS runs_so_far,
        channels_so_far > COALESCE(LAG(channels_so_far) OVER (PARTITION BY opportunity_id ORDER BY ts, touch_id), 0)
            AS first_of_channel
    FROM numbered
),
-- Per opportunity: its LC touch, and how many rows come before its window (the LC
-- touch older than the window, always first), so a window touch's position in the
-- window is rn minus that.
context AS (
    SELECT o.opportunity_id, lc.touch_id AS lc_touch_id,
           CASE WHEN lc.older_than_window THEN 1 ELSE 0 END AS rows_before_window
    FROM opportunities o
    LEFT JOIN lead_creation lc ON lc.opportunity_id = o.opportunity_id
),
transformed AS (
    SELECT
        r.*,
        c.lc_touch_id,
        r.in_window AND CASE
            WHEN p.path_transform = 'exposure' THEN r.starts_run
            WHEN p.path_transform IN ('first', 'frequency') THEN r.first_of_channel
            ELSE TRUE
        END AS kept,
        CASE
            WHEN p.path_transform = 'exposure' THEN r.runs_so_far
            WHEN p.path_transform IN ('first', 'frequency') THEN r.channels_so_far
            ELSE CAST(r.rn AS BIGINT) - c.rows_before_window
        END AS kept_so_far
    -- The small side first: DataFusion builds its hash table on the left side of a join.
    FROM context c
    JOIN runs r ON r.opportunity_id = c.opportunity_id
    CROSS JOIN params p
)
SELECT
    opportunity_id,
    touch_id,
    ts,
    channel,
    campaign_id,
    before_creation,
    days_before,
    CAST(rn AS BIGINT) AS rn,
    in_window,
    kept,
    CASE WHEN kept THEN CAST(kept_so_far AS BIGINT) END AS window_rn,
    COALESCE(touch_id = lc_touch_id, FALSE) AS is_lead_creation,
    lc_touch_id IS NOT NULL AS has_lead_creation
FROM transformed
