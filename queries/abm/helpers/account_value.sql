-- account_value: what each account has been worth, as of the report end. Helper for
-- the ICP segments and the look-alikes.
--   revenue: realised subscription revenue to date, sum over subscriptions of
--        mrr x days active up to the report end / 30.4375;
--   customer_months: days from the first subscription start to the last day with a
--        subscription (or the report end) / 30.4375;
--   is_customer: a subscription is active on the report month's last day; accounts
--        that have no subscription rows at all count as customers when they have a
--        won opportunity (teams without subscription data);
--   was_customer: is_customer, or had a subscription, or won an opportunity;
--   churned: had subscriptions, none active at the report end;
--   value: revenue when the account has subscriptions, else the won amount; the
--        best customers for look-alikes are the ones of highest value.
-- grain: account_id
WITH subs AS (
    SELECT
        s.account_id,
        s.start_date,
        CASE WHEN s.end_date IS NULL OR s.end_date > p.report_end_date
             THEN p.report_end_date ELSE s.end_date END AS stop,
        s.mrr,
        CASE WHEN s.end_date IS NULL OR s.end_date >= p.report_end_date THEN 1 ELSE 0 END AS active
    FROM subscriptions s CROSS JOIN params p
),
sub_accounts AS (
    SELECT
        account_id,
        CAST(SUM(CAST(CAST(mrr AS DOUBLE) * (date_part('epoch', CAST(stop AS TIMESTAMP))
            - date_part('epoch', CAST(start_date AS TIMESTAMP))) / 86400.0 AS DECIMAL(38, 12))) AS DOUBLE) / 30.4375 AS revenue,
        (date_part('epoch', CAST(MAX(stop) AS TIMESTAMP))
            - date_part('epoch', CAST(MIN(start_date) AS TIMESTAMP))) / 86400.0 / 30.4375 AS customer_months,
        MAX(active) AS active
    FROM subs
    GROUP BY account_id
),
won AS (
    SELECT account_id, CAST(SUM(amount) AS DOUBLE) AS won_amount
    FROM opportunities
    WHERE status = 'won'
    GROUP BY account_id
)
SELECT
    a.account_id,
    COALESCE(s.revenue, 0.0) AS revenue,
    COALESCE(s.customer_months, 0.0) AS customer_months,
    CASE WHEN s.account_id IS NOT NULL THEN s.active = 1 ELSE w.account_id IS NOT NULL END AS is_customer,
    s.account_id IS NOT NULL OR w.account_id IS NOT NULL AS was_customer,
    COALESCE(s.active = 0, false) AS churned,
    CASE WHEN s.account_id IS NOT NULL THEN s.revenue ELSE COALESCE(w.won_amount, 0.0) END AS value
FROM accounts a
LEFT JOIN sub_accounts s ON s.account_id = a.account_id
LEFT JOIN won w ON w.account_id = a.account_id
