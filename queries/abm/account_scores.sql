-- account_scores: one row per CRM account, the shared list sales and marketing work
-- from.
--   icp_score, tier, top_features: icp_account_fit, model trained on every
--        opportunity closed by the report end (weights in icp_feature_weights);
--   is_customer: account_value (active subscription at the report end);
--   lookalike_score, lookalike_of: lookalike_scores (similarity to the best
--        customers); lookalike_rank: 1 = most similar, over accounts that never were
--        customers (NULL for customers and former customers); equal scores rank by
--        the value of the customer they resemble, then account_id;
--   engagement: time-decayed touches (marketing and sales) of the account's contacts
--        in the engagement_window_days before the report end, each weighing
--        0.5 ^ (age in days / engagement_half_life_days); touches_in_window counts them;
--   committee: the five roles economic_buyer, technical_buyer, procurement,
--        influencer, champion. roles_covered = roles with a contact of that role;
--        committee_coverage = roles_covered / 5; roles_engaged = roles with a contact
--        touched in the engagement window; missing_roles = the roles not engaged, in
--        that order, ';'-separated (whom a rep should reach next).
-- grain: account_id
-- columns: account_id text, name text, industry text, size_band text, region text,
-- columns: is_target bool, icp_score float, tier text, top_features text,
-- columns: is_customer bool, lookalike_score float, lookalike_of text,
-- columns: lookalike_rank int, engagement float, touches_in_window int,
-- columns: roles_covered int, committee_coverage float, roles_engaged int,
-- columns: missing_roles text
WITH recent AS (
    SELECT
        t.contact_id,
        COUNT(*) AS touches,
        CAST(SUM(CAST(power(0.5, (date_part('epoch', p.report_end) - date_part('epoch', t.ts))
                       / 86400.0 / p.engagement_half_life_days) AS DECIMAL(38, 30))) AS DOUBLE) AS engagement
    FROM touches t
    CROSS JOIN params p
    WHERE date_part('epoch', p.report_end) - date_part('epoch', t.ts) <= p.engagement_window_days * 86400
    GROUP BY t.contact_id
),
-- One pass over the contacts and their recent touches gives both the engagement
-- and the committee (committee_role NULL: not a committee role).
role_status AS (
    SELECT
        c.account_id,
        CASE WHEN c.role IN ('economic_buyer', 'technical_buyer', 'procurement', 'influencer', 'champion')
             THEN c.role END AS committee_role,
        SUM(r.touches) AS touches,
        CAST(SUM(CAST(r.engagement AS DECIMAL(38, 30))) AS DOUBLE) AS engagement,
        MAX(CASE WHEN r.contact_id IS NOT NULL THEN 1 ELSE 0 END) AS engaged
    FROM contacts c
    LEFT JOIN recent r ON r.contact_id = c.contact_id
    GROUP BY 1, 2
),
account_status AS (
    SELECT
        account_id,
        SUM(touches) AS touches,
        CAST(SUM(CAST(engagement AS DECIMAL(38, 30))) AS DOUBLE) AS engagement,
        COUNT(committee_role) AS roles_covered,
        SUM(CASE WHEN committee_role IS NOT NULL THEN engaged END) AS roles_engaged,
        MAX(CASE WHEN committee_role = 'economic_buyer' THEN engaged END) AS economic_buyer,
        MAX(CASE WHEN committee_role = 'technical_buyer' THEN engaged END) AS technical_buyer,
        MAX(CASE WHEN committee_role = 'procurement' THEN engaged END) AS procurement,
        MAX(CASE WHEN committee_role = 'influencer' THEN engaged END) AS influencer,
        MAX(CASE WHEN committee_role = 'champion' THEN engaged END) AS champion
    FROM role_status
    GROUP BY account_id
)
SELECT
    f.id AS account_id,
    f.name,
    f.industry,
    f.size_band,
    f.region,
    f.is_target,
    fit.icp_score,
    fit.tier,
    fit.top_features,
    COALESCE(v.is_customer, false) AS is_customer,
    l.lookalike_score,
    l.lookalike_of,
    l.lookalike_rank,
    COALESCE(cm.engagement, 0.0) AS engagement,
    CAST(COALESCE(cm.touches, 0) AS BIGINT) AS touches_in_window,
    CAST(COALESCE(cm.roles_covered, 0) AS BIGINT) AS roles_covered,
    -- NULL when no contact has a committee role at all (coverage: contact_roles).
    CASE WHEN (SELECT available FROM coverage WHERE fact = 'contact_roles')
         THEN COALESCE(cm.roles_covered, 0) / 5.0 END AS committee_coverage,
    CASE WHEN (SELECT available FROM coverage WHERE fact = 'contact_roles')
         THEN CAST(COALESCE(cm.roles_engaged, 0) AS BIGINT) END AS roles_engaged,
    concat_ws(';',
        CASE WHEN COALESCE(cm.economic_buyer, 0) = 0 THEN 'economic_buyer' END,
        CASE WHEN COALESCE(cm.technical_buyer, 0) = 0 THEN 'technical_buyer' END,
        CASE WHEN COALESCE(cm.procurement, 0) = 0 THEN 'procurement' END,
        CASE WHEN COALESCE(cm.influencer, 0) = 0 THEN 'influencer' END,
        CASE WHEN COALESCE(cm.champion, 0) = 0 THEN 'champion' END) AS missing_roles
FROM firmographics f
LEFT JOIN icp_account_fit fit ON fit.train_set = 'all' AND fit.account_id = f.id
LEFT JOIN account_value v ON v.account_id = f.id
LEFT JOIN lookalike_scores l ON l.source = 'account' AND l.id = f.id
LEFT JOIN account_status cm ON cm.account_id = f.id
WHERE f.source = 'account'
ORDER BY f.id
