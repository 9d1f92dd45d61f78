-- target_list_health: is the ABM target list being worked? Per month, from the month
-- of the first opportunity to the report month. Target accounts are the accounts with
-- is_target (the list as it stands; accounts created after the month end are left
-- out of that month, from the denominator and from every count alike).
--   engaged_target_accounts: target accounts with a touch (marketing or sales) of any
--        contact in the month; engaged_share = engaged / target accounts;
--   target_accounts_with_mql: with a contact entering the mql stage in the month;
--   target_accounts_with_open_opportunity: with an opportunity open at the month end
--        (created by then, not closed by then);
--   pipeline_target / pipeline_non_target: amount of the opportunities created in the
--        month (as pipeline_sourcing.pipeline) from target / other accounts;
--   open_opportunities: new-business opportunities open at the month end;
--   open_committee_coverage: their average committee coverage by the month end
--        (roles covered by then / 5, opportunity_roles); NULL when the inputs hold no
--        buying roles at all (coverage fact buying_roles).
-- grain: month
-- columns: month date, target_accounts int, engaged_target_accounts int,
-- columns: engaged_share float, target_accounts_with_mql int,
-- columns: target_accounts_with_open_opportunity int, pipeline_target decimal(18,2),
-- columns: pipeline_non_target decimal(18,2), open_opportunities int,
-- columns: open_committee_coverage float
-- needs: target_accounts
WITH month_ends AS (
    SELECT month, month_end FROM month_spine
    WHERE month >= (SELECT CAST(date_trunc('month', MIN(created_at)) AS DATE) FROM opportunities)
),
targets AS (
    SELECT account_id, created_at FROM accounts WHERE is_target
),
target_counts AS (
    SELECT me.month, COUNT(t.account_id) AS target_accounts
    FROM month_ends me
    LEFT JOIN targets t ON t.created_at IS NULL OR t.created_at < me.month_end
    GROUP BY me.month
),
engaged AS (
    SELECT me.month, COUNT(DISTINCT c.account_id) AS engaged
    FROM touches tc
    JOIN contacts c ON c.contact_id = tc.contact_id
    JOIN targets t ON t.account_id = c.account_id
    JOIN month_ends me ON me.month = CAST(date_trunc('month', CAST(tc.ts AS TIMESTAMP)) AS DATE)
    WHERE t.created_at IS NULL OR t.created_at < me.month_end
    GROUP BY me.month
),
with_mql AS (
    SELECT me.month, COUNT(DISTINCT c.account_id) AS with_mql
    FROM lifecycle l
    JOIN contacts c ON c.contact_id = l.contact_id
    JOIN targets t ON t.account_id = c.account_id
    JOIN month_ends me ON me.month = CAST(date_trunc('month', CAST(l.ts AS TIMESTAMP)) AS DATE)
    WHERE l.stage = 'mql' AND (t.created_at IS NULL OR t.created_at < me.month_end)
    GROUP BY me.month
),
open_at_end AS (
    SELECT me.month, o.opportunity_id, o.account_id, o.type, me.month_end
    FROM month_ends me
    JOIN opportunities o
        ON o.created_at < me.month_end AND (o.closed_at IS NULL OR o.closed_at >= me.month_end)
),
open_targets AS (
    SELECT oe.month, COUNT(DISTINCT oe.account_id) AS with_open
    FROM open_at_end oe
    JOIN targets t ON t.account_id = oe.account_id
    WHERE t.created_at IS NULL OR t.created_at < oe.month_end
    GROUP BY oe.month
),
open_coverage AS (
    SELECT month, COUNT(*) AS open_opportunities, CAST(SUM(roles) AS DOUBLE) / (5.0 * COUNT(*)) AS open_committee_coverage
    FROM (
        SELECT oe.month, oe.opportunity_id, COUNT(r.role) AS roles
        FROM open_at_end oe
        LEFT JOIN opportunity_roles r
            ON r.opportunity_id = oe.opportunity_id AND r.covered_at < oe.month_end
        WHERE oe.type = 'new_business'
        GROUP BY oe.month, oe.opportunity_id
    ) x
    GROUP BY month
),
pipeline AS (
    SELECT
        CAST(date_trunc('month', o.created_at) AS DATE) AS month,
        CAST(SUM(CASE WHEN a.is_target THEN o.amount ELSE 0 END) AS DECIMAL(18, 2)) AS pipeline_target,
        CAST(SUM(CASE WHEN a.is_target THEN 0 ELSE o.amount END) AS DECIMAL(18, 2)) AS pipeline_non_target
    FROM opportunities o
    JOIN accounts a ON a.account_id = o.account_id
    GROUP BY 1
)
SELECT
    tc.month,
    tc.target_accounts,
    COALESCE(e.engaged, 0) AS engaged_target_accounts,
    CAST(COALESCE(e.engaged, 0) AS DOUBLE) / NULLIF(tc.target_accounts, 0) AS engaged_share,
    COALESCE(m.with_mql, 0) AS target_accounts_with_mql,
    COALESCE(ot.with_open, 0) AS target_accounts_with_open_opportunity,
    COALESCE(pl.pipeline_target, CAST(0 AS DECIMAL(18, 2))) AS pipeline_target,
    COALESCE(pl.pipeline_non_target, CAST(0 AS DECIMAL(18, 2))) AS pipeline_non_target,
    COALESCE(oc.open_opportunities, 0) AS open_opportunities,
    CASE WHEN (SELECT available FROM coverage WHERE fact = 'buying_roles')
         THEN oc.open_committee_coverage END AS open_committee_coverage
FROM target_counts tc
LEFT JOIN engaged e ON e.month = tc.month
LEFT JOIN with_mql m ON m.month = tc.month
LEFT JOIN open_targets ot ON ot.month = tc.month
LEFT JOIN open_coverage oc ON oc.month = tc.month
LEFT JOIN pipeline pl ON pl.month = tc.month
ORDER BY tc.month
