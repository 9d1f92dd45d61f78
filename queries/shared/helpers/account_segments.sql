-- account_segments: the segments of each customer account (accounts with a
-- subscription), one row per segment type:
--   all; industry and size_band as in firmographics ('(unknown)' when empty; size
--   bands 1-49, 50-199, 200-999, 1000-4999, 5000+); channel = acquisition channel, the
--   first-touch channel of the account's first won opportunity (first marketing touch
--   of any account contact in the lookback window before its creation), '(none)'
--   when there is none.
-- grain: account_id, segment_type
-- requires: subscriptions
WITH customers AS (
    SELECT DISTINCT account_id FROM subscriptions
),
first_won AS (
    SELECT account_id, first_by(opportunity_id, closed_at, opportunity_id) AS opportunity_id
    FROM opportunities
    WHERE status = 'won'
    GROUP BY account_id
),
first_touch AS (
    SELECT
        fw.account_id,
        first_by(t.channel, t.ts, t.touch_id) AS channel
    FROM first_won fw
    JOIN opportunities o ON o.opportunity_id = fw.opportunity_id
    JOIN contacts c ON c.account_id = o.account_id
    JOIN touches t ON t.contact_id = c.contact_id
    CROSS JOIN params p
    WHERE t.kind = 'marketing'
      AND t.ts <= o.created_at
      AND date_part('epoch', o.created_at) - date_part('epoch', t.ts) <= p.lookback_days * 86400
    GROUP BY fw.account_id
)
SELECT account_id, 'all' AS segment_type, 'all' AS segment FROM customers
UNION ALL
SELECT c.account_id, 'industry', f.industry
FROM customers c JOIN firmographics f ON f.source = 'account' AND f.id = c.account_id
UNION ALL
SELECT c.account_id, 'size_band', f.size_band
FROM customers c JOIN firmographics f ON f.source = 'account' AND f.id = c.account_id
UNION ALL
SELECT c.account_id, 'channel', COALESCE(f.channel, '(none)')
FROM customers c LEFT JOIN first_touch f ON f.account_id = c.account_id
