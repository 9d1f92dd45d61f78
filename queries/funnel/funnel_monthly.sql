-- funnel_monthly: the lead-to-revenue funnel, month x lead-source channel, plus an
-- 'all' row per month. Definitions: docs/metrics.md#funnel_monthly.
--   leads, mqls, sals, sqls: stage entries in the month (a contact entering a stage
--     twice counts twice);
--   opportunities: new-business opportunities created in the month; won: new business
--     closed won in the month; expansion_renewal_opportunities / _won: the same for
--     expansion and renewal deals (reported apart, never mixed into the funnel);
--   mql_to_sql_rate: of the contacts whose MQL entry falls in the month (first entry
--     in that month), the share with an SQL entry within params.conversion_window_days
--     after it (NULL when the inputs have no SQL stage entries at all);
--   sql_to_opp_rate: likewise from SQL entry to an `opportunity` stage entry (NULL when
--     the inputs never use the opportunity stage);
--   cohort_matured: the month's cohorts have had their whole conversion window by the
--     report end (the rates of later months are still provisional);
--   opp_to_won_rate: of the new-business opportunities created in the month, the share
--     won by the report end (NULL when the inputs hold no lost new business: a win rate
--     over won deals only would read 100%);
--   median_days_mql_to_sql: over the MQL cohort's contacts that reached SQL in the window.
-- grain: month, channel
-- columns: month date, channel text, leads int, mqls int, sals int, sqls int,
-- columns: opportunities int, won int, mql_to_sql_rate float, sql_to_opp_rate float,
-- columns: opp_to_won_rate float, median_days_mql_to_sql float, mql_cohort_contacts int,
-- columns: sql_cohort_contacts int, expansion_renewal_opportunities int,
-- columns: expansion_renewal_won int, cohort_matured bool
-- requires: lifecycle
WITH stage_entries AS (
    SELECT contact_id, stage, ts, month, channel FROM funnel_stage_entries
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
    CROSS JOIN params p
    LEFT JOIN stage_entries s
        ON s.contact_id = m.contact_id AND s.stage = 'sql' AND s.ts >= m.mql_at
       AND date_part('epoch', s.ts) - date_part('epoch', m.mql_at)
           < p.conversion_window_days * 86400.0
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
    CROSS JOIN params p
    LEFT JOIN stage_entries s
        ON s.contact_id = q.contact_id AND s.stage = 'opportunity' AND s.ts >= q.sql_at
       AND date_part('epoch', s.ts) - date_part('epoch', q.sql_at)
           < p.conversion_window_days * 86400.0
    GROUP BY q.month, q.channel, q.contact_id
),
opportunity_facts AS (
    SELECT
        CAST(date_trunc('month', o.created_at) AS DATE) AS created_month,
        CAST(date_trunc('month', o.closed_at) AS DATE) AS closed_month,
        o.status,
        o.type = 'new_business' AS new_business,
        oc.channel
    FROM opportunities o
    JOIN opportunity_channel oc ON oc.opportunity_id = o.opportunity_id
),
facts AS (
    SELECT month, channel, leads, mqls, sals, sqls,
           0 AS opportunities, 0 AS won, 0 AS er_opportunities, 0 AS er_won,
           0 AS mql_cohort, 0 AS mql_reached_sql, CAST(NULL AS DOUBLE) AS days_mql_to_sql,
           0 AS sql_cohort, 0 AS sql_reached_opp, 0 AS opp_cohort, 0 AS opp_won
    FROM stage_counts
    UNION ALL
    SELECT month, channel, 0, 0, 0, 0, 0, 0, 0, 0,
           1,
           CASE WHEN sql_at IS NOT NULL THEN 1 ELSE 0 END,
           (date_part('epoch', sql_at) - date_part('epoch', mql_at)) / 86400.0,
           0, 0, 0, 0
    FROM mql_outcome
    UNION ALL
    SELECT month, channel, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, CAST(NULL AS DOUBLE),
           1, reached_opportunity, 0, 0
    FROM sql_outcome
    UNION ALL
    SELECT created_month, channel, 0, 0, 0, 0,
           CASE WHEN new_business THEN 1 ELSE 0 END, 0,
           CASE WHEN new_business THEN 0 ELSE 1 END, 0,
           0, 0, CAST(NULL AS DOUBLE), 0, 0,
           CASE WHEN new_business THEN 1 ELSE 0 END,
           CASE WHEN new_business AND status = 'won' THEN 1 ELSE 0 END
    FROM opportunity_facts
    UNION ALL
    SELECT closed_month, channel, 0, 0, 0, 0, 0,
           CASE WHEN new_business THEN 1 ELSE 0 END, 0,
           CASE WHEN new_business THEN 0 ELSE 1 END,
           0, 0, CAST(NULL AS DOUBLE), 0, 0, 0, 0
    FROM opportunity_facts
    WHERE status = 'won'
),
-- What the inputs can measure (coverage): a rate the inputs cannot support is NULL.
measurable AS (
    SELECT
        COALESCE(MAX(CASE WHEN fact = 'stage_sql' THEN available END), FALSE) AS has_sql,
        COALESCE(MAX(CASE WHEN fact = 'stage_opportunity' THEN available END), FALSE) AS has_opp,
        COALESCE(MAX(CASE WHEN fact = 'lost_new_business' THEN available END), FALSE) AS has_lost
    FROM coverage
),
totals AS (
    SELECT
        month,
        COALESCE(channel, 'all') AS channel,
        SUM(leads) AS leads, SUM(mqls) AS mqls, SUM(sals) AS sals, SUM(sqls) AS sqls,
        SUM(opportunities) AS opportunities, SUM(won) AS won,
        SUM(er_opportunities) AS er_opportunities, SUM(er_won) AS er_won,
        SUM(mql_reached_sql) AS mql_reached_sql, SUM(mql_cohort) AS mql_cohort,
        SUM(sql_reached_opp) AS sql_reached_opp, SUM(sql_cohort) AS sql_cohort,
        SUM(opp_won) AS opp_won, SUM(opp_cohort) AS opp_cohort,
        median(days_mql_to_sql) AS median_days_mql_to_sql
    FROM facts
    GROUP BY GROUPING SETS ((month, channel), (month))
)
SELECT
    t.month,
    t.channel,
    CAST(t.leads AS BIGINT) AS leads,
    CAST(t.mqls AS BIGINT) AS mqls,
    CAST(t.sals AS BIGINT) AS sals,
    CAST(t.sqls AS BIGINT) AS sqls,
    CAST(t.opportunities AS BIGINT) AS opportunities,
    CAST(t.won AS BIGINT) AS won,
    CASE WHEN m.has_sql THEN CAST(t.mql_reached_sql AS DOUBLE) / NULLIF(t.mql_cohort, 0) END
        AS mql_to_sql_rate,
    CASE WHEN m.has_opp THEN CAST(t.sql_reached_opp AS DOUBLE) / NULLIF(t.sql_cohort, 0) END
        AS sql_to_opp_rate,
    CASE WHEN m.has_lost THEN CAST(t.opp_won AS DOUBLE) / NULLIF(t.opp_cohort, 0) END
        AS opp_to_won_rate,
    CASE WHEN m.has_sql THEN t.median_days_mql_to_sql END AS median_days_mql_to_sql,
    CAST(t.mql_cohort AS BIGINT) AS mql_cohort_contacts,
    CAST(t.sql_cohort AS BIGINT) AS sql_cohort_contacts,
    CAST(t.er_opportunities AS BIGINT) AS expansion_renewal_opportunities,
    CAST(t.er_won AS BIGINT) AS expansion_renewal_won,
    date_part('epoch', CAST(t.month + INTERVAL '1 month' AS TIMESTAMP))
        + p.conversion_window_days * 86400.0 <= date_part('epoch', p.report_end) AS cohort_matured
FROM totals t CROSS JOIN measurable m CROSS JOIN params p
ORDER BY 1, 2
