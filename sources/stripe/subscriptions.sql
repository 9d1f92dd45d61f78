-- object: stripe_subscriptions
-- subscriptions from a Stripe subscriptions export, one row per subscription whose
-- status is revenue (map_status). Definitions: docs/sources.md#stripe.
--   account_id: the customer metadata field [columns.account_link], else the CRM
--     account whose domain is the customer e-mail's domain (crm_accounts);
--   start_date: `Start (UTC)`; end_date (exclusive): `Ended At (UTC)`, or for a
--     canceled subscription without it `Canceled At`, then `Current Period End`;
--   mrr: `Amount` (per unit, in the currency's major unit, as the Dashboard writes it)
--     x `Quantity`, per month: yearly / 12, weekly x 52 / 12, daily x 365 / 12, and
--     divided by `Interval Count` (every 3 months: / 3); rounded to the cent. The
--     interval goes through map_interval (`annual` = "year" in --mapping reads it as
--     yearly); an unmapped one (listed in the summary) or an amount,
--     quantity or count that is no number leaves mrr empty: the row is a reject.
--   currency: `Currency` (lower case as Stripe writes it; converted with fx_rates);
--   Dates are passed on as text: an unparseable one is a reject, not a failed run.
WITH subs AS (
    SELECT s.*, COALESCE(ms.mapped, 'not_revenue') AS revenue_status,
           NULLIF(lower(split_part(s.customer_email, '@', 2)), '') AS email_domain
    FROM stripe_subscriptions s
    LEFT JOIN map_status ms ON ms.value = s.status
),
by_domain AS (
    SELECT lower(domain) AS domain, MIN(account_id) AS account_id
    FROM crm_accounts
    WHERE domain IS NOT NULL
    GROUP BY lower(domain)
)
SELECT
    s.id AS subscription_id,
    COALESCE(s.{{account_link}}, d.account_id) AS account_id,
    left(s.start_utc, 10) AS start_date,
    left(COALESCE(s.ended_at_utc,
                  CASE WHEN s.status IN ('canceled', 'incomplete_expired')
                       THEN COALESCE(s.canceled_at_utc, s.current_period_end_utc) END), 10) AS end_date,
    CAST(ROUND(
        TRY_CAST(s.amount AS DOUBLE) * TRY_CAST(COALESCE(s.quantity, '1') AS DOUBLE)
        * CASE mi.mapped
              WHEN 'month' THEN 1.0 WHEN 'year' THEN 1.0 / 12 WHEN 'week' THEN 52.0 / 12
              WHEN 'day' THEN 365.0 / 12 END
        / TRY_CAST(COALESCE(s.interval_count, '1') AS DOUBLE), 2) AS VARCHAR) AS mrr,
    COALESCE(s.product, s.plan) AS product,
    s.currency
FROM subs s
LEFT JOIN by_domain d ON d.domain = s.email_domain
LEFT JOIN map_interval mi ON mi.value = s.interval
WHERE s.revenue_status = 'revenue'
