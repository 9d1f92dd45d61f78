-- funnel_stage_entries: every lifecycle stage entry with its month and its contact's
-- lead-source channel. Helper of funnel_monthly, materialised once because its
-- counts and both conversion cohorts read it five times.
-- grain: contact_id, stage, ts
-- requires: lifecycle
SELECT
    l.contact_id,
    l.stage,
    l.ts,
    CAST(date_trunc('month', CAST(l.ts AS TIMESTAMP)) AS DATE) AS month,
    cc.channel
FROM lifecycle l
JOIN contact_channel cc ON cc.contact_id = l.contact_id
