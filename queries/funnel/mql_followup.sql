-- mql_followup: does sales follow up the MQLs marketing hands over? One row per MQL
-- month x lead-source channel, plus an 'all' row per month. Each MQL stage entry is
-- one MQL. Definitions: docs/metrics.md#mql_followup.
--   followed_up_in_sla: the first sales touch of the contact at or after the MQL
--     entry comes within params.sla_hours;
--   never_touched / touched_1_2 / touched_3_plus: number of sales touches in the
--     params.followup_window_days days after the MQL entry (0, 1-2, 3 or more);
--   median_hours_to_first_sales_touch: over MQLs that got a sales touch by the report end;
--   followup_window_complete: every MQL of the row has had its full follow-up window
--     before the report end (recent months are still in flight).
-- grain: month, channel
-- columns: month date, channel text, mqls int, followed_up_in_sla int, sla_rate float,
-- columns: never_touched int, touched_1_2 int, touched_3_plus int,
-- columns: never_touched_rate float, median_hours_to_first_sales_touch float,
-- columns: followup_window_complete bool
-- needs: stage_mql, sales_touches
-- requires: lifecycle, touches
WITH mql_entries AS (
    SELECT
        l.contact_id,
        l.ts AS mql_at,
        CAST(date_trunc('month', CAST(l.ts AS TIMESTAMP)) AS DATE) AS month,
        cc.channel
    FROM lifecycle l
    JOIN contact_channel cc ON cc.contact_id = l.contact_id
    WHERE l.stage = 'mql'
),
sales_touches AS (
    SELECT contact_id, ts FROM touches WHERE kind = 'sales'
),
per_mql AS (
    SELECT
        m.contact_id,
        m.mql_at,
        m.month,
        m.channel,
        (date_part('epoch', MIN(s.ts)) - date_part('epoch', m.mql_at)) / 3600.0
            AS hours_to_first_sales_touch,
        SUM(CASE
                WHEN s.ts IS NOT NULL
                 AND date_part('epoch', s.ts) - date_part('epoch', m.mql_at)
                     <= p.followup_window_days * 86400
                THEN 1 ELSE 0 END) AS touches_in_window
    FROM mql_entries m
    CROSS JOIN params p
    LEFT JOIN sales_touches s ON s.contact_id = m.contact_id AND s.ts >= m.mql_at
    GROUP BY m.contact_id, m.mql_at, m.month, m.channel, p.followup_window_days
)
SELECT
    month,
    COALESCE(channel, 'all') AS channel,
    COUNT(*) AS mqls,
    CAST(SUM(CASE WHEN hours_to_first_sales_touch <= p.sla_hours THEN 1 ELSE 0 END) AS BIGINT)
        AS followed_up_in_sla,
    CAST(SUM(CASE WHEN hours_to_first_sales_touch <= p.sla_hours THEN 1 ELSE 0 END) AS DOUBLE)
        / COUNT(*) AS sla_rate,
    CAST(SUM(CASE WHEN touches_in_window = 0 THEN 1 ELSE 0 END) AS BIGINT) AS never_touched,
    CAST(SUM(CASE WHEN touches_in_window BETWEEN 1 AND 2 THEN 1 ELSE 0 END) AS BIGINT) AS touched_1_2,
    CAST(SUM(CASE WHEN touches_in_window >= 3 THEN 1 ELSE 0 END) AS BIGINT) AS touched_3_plus,
    CAST(SUM(CASE WHEN touches_in_window = 0 THEN 1 ELSE 0 END) AS DOUBLE) / COUNT(*)
        AS never_touched_rate,
    median(hours_to_first_sales_touch) AS median_hours_to_first_sales_touch,
    MAX(date_part('epoch', mql_at)) + MAX(p.followup_window_days) * 86400
        <= MAX(date_part('epoch', p.report_end)) AS followup_window_complete
FROM per_mql
CROSS JOIN params p
GROUP BY GROUPING SETS ((month, channel), (month))
ORDER BY 1, 2
