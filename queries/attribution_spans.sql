-- attribution_spans: eligible touches of each opportunity's account in its lookback
-- window, up to created_at (up to closed_at for won opportunities). Helper of
-- attribution_journey, materialised once because three journeys read it. Only
-- accounts with an opportunity are joined, which keeps the join small.
-- grain: opportunity_id, touch_id
-- publish: false
WITH opp_accounts AS (
    SELECT DISTINCT account_id FROM opportunities
),
eligible AS (
    SELECT t.touch_id, c.account_id, t.ts, t.channel, t.campaign_id, t.kind
    FROM touches t
    JOIN contacts c ON c.contact_id = t.contact_id
    JOIN opp_accounts a ON a.account_id = c.account_id
    CROSS JOIN params p
    WHERE t.kind = 'marketing' OR p.include_sales_touches
)
SELECT
    o.opportunity_id,
    e.touch_id,
    e.ts,
    e.channel,
    e.campaign_id,
    e.kind,
    e.ts <= o.created_at AS before_creation,
    (date_part('epoch', o.created_at) - date_part('epoch', e.ts)) / 86400.0 AS days_before
FROM opportunities o
JOIN eligible e ON e.account_id = o.account_id
CROSS JOIN params p
WHERE date_part('epoch', o.created_at) - date_part('epoch', e.ts) <= p.lookback_days * 86400.0
  AND e.ts <= CASE WHEN o.status = 'won' THEN o.closed_at ELSE o.created_at END
