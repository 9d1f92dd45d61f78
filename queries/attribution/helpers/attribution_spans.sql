-- attribution_spans: eligible touches of each opportunity's account in its lookback
-- window, up to created_at (up to closed_at for won opportunities). Helper of
-- attribution_journey, materialised once because three journeys read it. Only
-- accounts with an opportunity are joined, which keeps the join small.
-- grain: opportunity_id, touch_id
-- Small tables first: DataFusion builds its hash tables on the left side of a join,
-- and touches must stay on the streaming (right) side. The parameters ride along on
-- the small sides, so their conditions are join filters, not a pass over all touches.
WITH opp_contacts AS (
    SELECT c.contact_id, c.account_id, p.include_sales_touches
    FROM contacts c
    CROSS JOIN params p
    WHERE c.account_id IN (SELECT account_id FROM opportunities)
),
eligible AS (
    SELECT t.touch_id, c.account_id, t.ts, t.channel, t.campaign_id, t.kind
    FROM opp_contacts c
    JOIN touches t ON t.contact_id = c.contact_id
        AND (t.kind = 'marketing' OR c.include_sales_touches)
),
opps AS (
    SELECT o.opportunity_id, o.account_id, o.created_at,
           CASE WHEN o.status = 'won' THEN o.closed_at ELSE o.created_at END AS span_end,
           p.lookback_days * 86400.0 AS lookback_seconds
    FROM opportunities o
    CROSS JOIN params p
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
FROM opps o
JOIN eligible e ON e.account_id = o.account_id
    AND date_part('epoch', o.created_at) - date_part('epoch', e.ts) <= o.lookback_seconds
    AND e.ts <= o.span_end
