-- attribution_spans: eligible touches of each opportunity's account in its lookback
-- window, up to created_at (up to closed_at for won opportunities). Helper of
-- attribution_journey, materialised once because three journeys read it.
-- grain: opportunity_id, touch_id
-- The opportunities meet their accounts' contacts first (a small table), and touches
-- stream past it once: the window is a join filter, so only the touches an
-- opportunity sees are ever copied. DataFusion builds its hash table on the left side
-- of a join: touches stay on the right.
WITH opp_contacts AS (
    SELECT
        o.opportunity_id,
        c.contact_id,
        o.created_at,
        CASE WHEN o.status = 'won' THEN o.closed_at ELSE o.created_at END AS span_end,
        p.lookback_days * 86400.0 AS lookback_seconds,
        p.include_sales_touches
    FROM opportunities o
    CROSS JOIN params p
    JOIN contacts c ON c.account_id = o.account_id
)
SELECT
    oc.opportunity_id,
    t.touch_id,
    t.ts,
    t.channel,
    t.campaign_id,
    t.kind,
    t.ts <= oc.created_at AS before_creation,
    (date_part('epoch', oc.created_at) - date_part('epoch', t.ts)) / 86400.0 AS days_before
FROM opp_contacts oc
JOIN touches t ON t.contact_id = oc.contact_id
    AND (t.kind = 'marketing' OR oc.include_sales_touches)
    AND date_part('epoch', oc.created_at) - date_part('epoch', t.ts) <= oc.lookback_seconds
    AND t.ts <= oc.span_end
