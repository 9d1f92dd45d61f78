-- funnel_monthly: the lead-to-revenue funnel, month x lead-source channel, plus an
-- 'all' row per month. Definitions: docs/metrics.md#funnel_monthly.
--   leads, mqls, sals, sqls: stage entries in the month (a contact entering a stage
--     twice counts twice);
--   opportunities: opportunities created in the month; won: closed won in the month;
--   mql_to_sql_rate: of the contacts whose MQL entry falls in the month (first entry
--     in that month), the share with an SQL entry at or after it, by the report end;
--   sql_to_opp_rate: likewise from SQL entry to an `opportunity` stage entry;
--   opp_to_won_rate: of the opportunities created in the month, the share won;
--   median_days_mql_to_sql: over the MQL cohort's contacts that reached SQL.
-- grain: month, channel
-- requires: lifecycle, touches
WITH stage_entries AS (
    SELECT
        l.contact_id,
        l.stage,
        l.ts,
        CAST(date_trunc('month', l.ts) AS DATE) AS month,
        cc.channel
    FROM lifecycle l
    JOIN contact_channel cc ON cc.contact_id = l.contact_id
),
stage_counts AS (
    SELECT
        month,
        channel,
        CASE WHEN stage = 'lead' THEN 1 ELSE 0 END AS leads,
        CASE WHEN stage = 'mql' THEN 1 ELSE 0 END AS mqls,
        CASE WHEN stage = 'sal' THEN 1 ELSE 0 END AS sals,
        CASE WHEN stage = 'sql' THEN 1 ELSE 0 END AS sqls
    FROM stage_entries
    WHERE stage IN ('lead', 'mql', 'sal', 'sql')
),
mql_cohort AS (
    SELECT month, channel, contact_id, MIN(ts) AS mql_at
    FROM stage_entries
    WHERE stage = 'mql'
    GROUP BY month, channel, contact_id
),
mql_outcome AS (
    SELECT
        m.month,
        m.channel,
        m.mql_at,
        MIN(s.ts) AS sql_at
    FROM mql_cohort m
    LEFT JOIN stage_entries s
        ON s.contact_id = m.contact_id AND s.stage = 'sql' AND s.ts >= m.mql_at
    GROUP BY m.month, m.channel, m.contact_id, m.mql_at
),
sql_cohort AS (
    SELECT month, channel, contact_id, MIN(ts) AS sql_at
    FROM stage_entries
    WHERE stage = 'sql'
    GROUP BY month, channel, contact_id
),
sql_outcome AS (
    SELECT
        q.month,
        q.channel,
        MAX(CASE WHEN s.contact_id IS NOT NULL THEN 1 ELSE 0 END) AS reached_opportunity
    FROM sql_cohort q
    LEFT JOIN stage_entries s
        ON s.contact_id = q.contact_id AND s.stage = 'opportunity' AND s.ts >= q.sql_at
    GROUP BY q.month, q.channel, q.contact_id
),
opportunity_facts AS (
    SELECT
        CAST(date_trunc('month', o.created_at) AS DATE) AS created_month,
        CAST(date_trunc('month', o.closed_at) AS DATE) AS closed_month,
        o.status,
        oc.channel
    FROM opportunities o
    JOIN opportunity_channel oc ON oc.opportunity_id = o.opportunity_id
),
facts AS (
    SELECT month, channel, leads, mqls, sals, sqls,
           0 AS opportunities, 0 AS won,
           0 AS mql_cohort, 0 AS mql_reached_sql, CAST(NULL AS DOUBLE) AS days_mql_to_sql,
           0 AS sql_cohort, 0 AS sql_reached_opp, 0 AS opp_cohort, 0 AS opp_won
    FROM stage_counts
    UNION ALL
    SELECT month, channel, 0, 0, 0, 0, 0, 0,
           1,
           CASE WHEN sql_at IS NOT NULL THEN 1 ELSE 0 END,
           (date_part('epoch', sql_at) - date_part('epoch', mql_at)) / 86400.0,
           0, 0, 0, 0
    FROM mql_outcome
    UNION ALL
    SELECT month, channel, 0, 0, 0, 0, 0, 0, 0, 0, CAST(NULL AS DOUBLE),
           1, reached_opportunity, 0, 0
    FROM sql_outcome
    UNION ALL
    SELECT created_month, channel, 0, 0, 0, 0, 1, 0, 0, 0, CAST(NULL AS DOUBLE), 0, 0,
           1, CASE WHEN status = 'won' THEN 1 ELSE 0 END
    FROM opportunity_facts
    UNION ALL
    SELECT closed_month, channel, 0, 0, 0, 0, 0, 1, 0, 0, CAST(NULL AS DOUBLE), 0, 0, 0, 0
    FROM opportunity_facts
    WHERE status = 'won'
)
SELECT
    month,
    COALESCE(channel, 'all') AS channel,
    CAST(SUM(leads) AS BIGINT) AS leads,
    CAST(SUM(mqls) AS BIGINT) AS mqls,
    CAST(SUM(sals) AS BIGINT) AS sals,
    CAST(SUM(sqls) AS BIGINT) AS sqls,
    CAST(SUM(opportunities) AS BIGINT) AS opportunities,
    CAST(SUM(won) AS BIGINT) AS won,
    CAST(SUM(mql_reached_sql) AS DOUBLE) / NULLIF(SUM(mql_cohort), 0) AS mql_to_sql_rate,
    CAST(SUM(sql_reached_opp) AS DOUBLE) / NULLIF(SUM(sql_cohort), 0) AS sql_to_opp_rate,
    CAST(SUM(opp_won) AS DOUBLE) / NULLIF(SUM(opp_cohort), 0) AS opp_to_won_rate,
    median(days_mql_to_sql) AS median_days_mql_to_sql,
    CAST(SUM(mql_cohort) AS BIGINT) AS mql_cohort_contacts,
    CAST(SUM(sql_cohort) AS BIGINT) AS sql_cohort_contacts
FROM facts
GROUP BY GROUPING SETS ((month, channel), (month))
ORDER BY 1, 2
