-- object: subscription
-- subscriptions from the Stripe tables a connector syncs (subscription,
-- subscription_item, price or plan, customer; product, discount, coupon when present),
-- one row per subscription whose status is revenue (map_subscription_status, the same
-- statuses as the Dashboard export). Definitions: docs/sources.md#stripe.
--   account_id: the key [columns.account_link] names (`account_id (metadata)` -> key
--     `account_id`, any case, with or without underscores) in the customer's JSON
--     `metadata`, else in the subscription's, else the CRM account whose domain is the
--     customer's `email` domain (crm_accounts);
--   start_date: `start_date`, else `created`; end_date (exclusive): `ended_at`, or for
--     a canceled (or incomplete_expired) subscription without it `canceled_at`, then
--     `current_period_end` (as the Dashboard export); a scheduled cancellation
--     (cancel_at_period_end, cancel_at) is not an end until Stripe ends it. Timestamps
--     are cut to their UTC date (offsets converted, epoch seconds read); one that does
--     not parse is passed on as written and rejected.
--   mrr: the sum over the subscription's items of the price's `unit_amount` (else
--     `unit_amount_decimal`; a plan's `amount` / `amount_decimal`), an integer in the
--     currency's minor unit: / 100, / 1 for Stripe's zero-decimal currencies (JPY,
--     KRW, ...), / 1000 for its three-decimal ones (BHD, JOD, KWD, OMR, TND); x the
--     item's `quantity` (empty: 1); per month as the Dashboard export (year / 12,
--     week x 52 / 12, day x 365 / 12 through map_recurring_interval / map_plan_interval,
--     / `recurring_interval_count` / `interval_count`). A metered price (usage type
--     `metered`) adds nothing (usage is not a recurring rate). Coupons whose duration
--     map_coupon_duration marks `applied` (default: forever only) lower it: every
--     `percent_off` (several multiply), then every `amount_off` (minor units of the
--     coupon's currency, only when that is the subscription's), per month by the
--     subscription's interval; never below 0. The subscription's own discounts, else
--     its customer's. Rounded to the cent once, after the sum. An item whose price is
--     missing, whose amount, quantity or count is no number, or whose interval is
--     unmapped, and a subscription without items, leave mrr empty: the row is a reject.
--   product: the items' product names (product file), else product ids, else price
--     nicknames, distinct, sorted, `; `-joined;
--   currency: `currency` of the subscription, else of its prices.
WITH subs AS (
    SELECT s.*,
           COALESCE(s.customer_id, s.customer) AS cust,
           COALESCE(ms.mapped, 'not_revenue') AS revenue_status
    FROM subscription s
    LEFT JOIN map_subscription_status ms ON ms.value = s.status
),
meta_key AS (
    SELECT '(?i)"' || regexp_replace(regexp_replace('{{account_link}}', '_metadata$', ''),
                                     '_', '_?', 'g')
           || '"\s*:\s*"?([^",}]*)' AS pattern
),
items AS (
    SELECT
        COALESCE(i.subscription_id, i.subscription) AS sub_id,
        CASE WHEN p.id IS NOT NULL THEN COALESCE(p.unit_amount, p.unit_amount_decimal)
             ELSE COALESCE(pl.amount, pl.amount_decimal) END AS amount_minor,
        lower(CASE WHEN p.id IS NOT NULL THEN p.currency ELSE pl.currency END) AS currency,
        CASE WHEN p.id IS NOT NULL THEN mp.mapped ELSE mpl.mapped END AS billing_interval,
        CASE WHEN p.id IS NOT NULL THEN p.recurring_interval_count
             ELSE pl.interval_count END AS interval_count,
        lower(CASE WHEN p.id IS NOT NULL THEN p.recurring_usage_type
                   ELSE pl.usage_type END) AS usage_type,
        COALESCE(i.quantity, '1') AS quantity,
        COALESCE(pr.name, CASE WHEN p.id IS NOT NULL THEN COALESCE(p.product_id, p.product)
                               ELSE COALESCE(pl.product_id, pl.product) END,
                 CASE WHEN p.id IS NOT NULL THEN p.nickname ELSE pl.nickname END) AS product
    FROM subscription_item i
    LEFT JOIN price p ON p.id = COALESCE(i.price_id, i.plan_id)
    LEFT JOIN plan pl ON pl.id = COALESCE(i.plan_id, i.price_id) AND p.id IS NULL
    LEFT JOIN map_recurring_interval mp ON mp.value = p.recurring_interval
    LEFT JOIN map_plan_interval mpl ON mpl.value = pl.interval
    LEFT JOIN product pr
        ON pr.id = CASE WHEN p.id IS NOT NULL THEN COALESCE(p.product_id, p.product)
                        ELSE COALESCE(pl.product_id, pl.product) END
),
priced AS (
    SELECT
        sub_id, currency, product,
        -- per month, for one unit of the currency's major unit
        CASE billing_interval
            WHEN 'month' THEN 1.0 WHEN 'year' THEN 1.0 / 12 WHEN 'week' THEN 52.0 / 12
            WHEN 'day' THEN 365.0 / 12 END
            / TRY_CAST(COALESCE(interval_count, '1') AS DOUBLE) AS per_month,
        CASE WHEN usage_type = 'metered' THEN 0.0
             ELSE TRY_CAST(amount_minor AS DOUBLE)
                  / CASE WHEN currency IN ('bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw',
                                           'mga', 'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf',
                                           'xof', 'xpf') THEN 1.0
                         WHEN currency IN ('bhd', 'jod', 'kwd', 'omr', 'tnd') THEN 1000.0
                         ELSE 100.0 END
                  * TRY_CAST(quantity AS DOUBLE)
                  * CASE billing_interval
                        WHEN 'month' THEN 1.0 WHEN 'year' THEN 1.0 / 12
                        WHEN 'week' THEN 52.0 / 12 WHEN 'day' THEN 365.0 / 12 END
                  / TRY_CAST(COALESCE(interval_count, '1') AS DOUBLE) END AS item_mrr
    FROM items
),
per_sub AS (
    SELECT
        sub_id,
        -- any item without a value leaves the whole MRR empty, never a partial sum
        CASE WHEN COUNT(*) = COUNT(item_mrr) THEN SUM(item_mrr) END AS list_mrr,
        MIN(per_month) AS per_month,
        MIN(currency) AS currency,
        array_to_string(array_sort(array_distinct(array_agg(product))), '; ') AS product
    FROM priced
    GROUP BY sub_id
),
discounts AS (
    SELECT
        COALESCE(d.subscription_id, d.subscription,
                 CASE WHEN lower(d.type) = 'subscription' THEN d.type_id END) AS sub_id,
        CASE WHEN COALESCE(d.subscription_id, d.subscription,
                           CASE WHEN lower(d.type) = 'subscription' THEN d.type_id END) IS NULL
             THEN COALESCE(d.customer_id, d.customer,
                           CASE WHEN lower(d.type) = 'customer' THEN d.type_id END) END AS cust,
        TRY_CAST(c.percent_off AS DOUBLE) AS percent_off,
        TRY_CAST(c.amount_off AS DOUBLE) AS amount_off,
        lower(c.currency) AS currency
    FROM discount d
    JOIN coupon c ON c.id = COALESCE(d.coupon_id, d.coupon)
    JOIN map_coupon_duration md ON md.value = c.duration AND md.mapped = 'applied'
),
by_domain AS (
    SELECT lower(domain) AS domain, MIN(account_id) AS account_id
    FROM crm_accounts
    WHERE domain IS NOT NULL
    GROUP BY lower(domain)
),
linked AS (
    SELECT
        s.*,
        COALESCE(lower(s.currency), ps.currency) AS sub_currency,
        ps.list_mrr, ps.per_month, ps.product AS products,
        COALESCE(NULLIF(trim(regexp_match(c.metadata, k.pattern)[1]), ''),
                 NULLIF(trim(regexp_match(s.metadata, k.pattern)[1]), ''),
                 d.account_id) AS account_id,
        CASE WHEN s.ended_at IS NOT NULL THEN s.ended_at
             WHEN s.status IN ('canceled', 'incomplete_expired')
             THEN COALESCE(s.canceled_at, s.current_period_end) END AS end_raw,
        COALESCE(s.start_date, s.created) AS start_raw
    FROM subs s
    CROSS JOIN meta_key k
    LEFT JOIN per_sub ps ON ps.sub_id = s.id
    LEFT JOIN customer c ON c.id = s.cust
    LEFT JOIN by_domain d ON d.domain = NULLIF(lower(split_part(c.email, '@', 2)), '')
    WHERE s.revenue_status = 'revenue'
),
applied AS (
    -- the subscription's own discounts, else its customer's
    SELECT l.id AS sub_id, l.sub_currency, d.percent_off, d.amount_off, d.currency
    FROM linked l
    JOIN discounts d ON d.sub_id = l.id
    UNION ALL
    SELECT l.id, l.sub_currency, d.percent_off, d.amount_off, d.currency
    FROM linked l
    JOIN discounts d ON d.cust = l.cust
    WHERE l.id NOT IN (SELECT sub_id FROM discounts WHERE sub_id IS NOT NULL)
),
off AS (
    SELECT
        sub_id,
        CASE WHEN COUNT(percent_off) = 0 THEN 1.0
             WHEN MAX(percent_off) >= 100 THEN 0.0
             WHEN COUNT(percent_off) = 1 THEN 1.0 - MAX(percent_off) / 100
             ELSE exp(SUM(ln(1.0 - percent_off / 100))) END AS percent_factor,
        SUM(CASE WHEN amount_off IS NOT NULL
                  AND (currency IS NULL OR currency = sub_currency)
                 THEN amount_off
                      / CASE WHEN currency IN ('bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw',
                                               'mga', 'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf',
                                               'xof', 'xpf') THEN 1.0
                             WHEN currency IN ('bhd', 'jod', 'kwd', 'omr', 'tnd') THEN 1000.0
                             ELSE 100.0 END END) AS amount_off
    FROM applied
    GROUP BY sub_id
),
discounted AS (
    SELECT
        l.id,
        l.list_mrr * COALESCE(o.percent_factor, 1.0)
        - COALESCE(o.amount_off * l.per_month, 0.0) AS mrr
    FROM linked l
    LEFT JOIN off o ON o.sub_id = l.id
)
SELECT
    l.id AS subscription_id,
    l.account_id,
    CASE WHEN l.start_raw ~ '^[0-9]{9,10}$'
         THEN CAST(CAST(to_timestamp_seconds(CAST(l.start_raw AS BIGINT)) AS DATE) AS VARCHAR)
         ELSE COALESCE(CAST(CAST(TRY_CAST(l.start_raw AS TIMESTAMP) AS DATE) AS VARCHAR),
                       l.start_raw) END AS start_date,
    CASE WHEN l.end_raw ~ '^[0-9]{9,10}$'
         THEN CAST(CAST(to_timestamp_seconds(CAST(l.end_raw AS BIGINT)) AS DATE) AS VARCHAR)
         ELSE COALESCE(CAST(CAST(TRY_CAST(l.end_raw AS TIMESTAMP) AS DATE) AS VARCHAR),
                       l.end_raw) END AS end_date,
    CAST(ROUND(CASE WHEN x.mrr < 0 THEN 0.0 ELSE x.mrr END, 2) AS VARCHAR) AS mrr,
    NULLIF(l.products, '') AS product,
    l.sub_currency AS currency
FROM linked l
JOIN discounted x ON x.id = l.id
