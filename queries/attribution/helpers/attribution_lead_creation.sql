-- attribution_lead_creation: the lead-creation (LC) touch of each opportunity: the
-- last marketing touch of the account at or before the earliest `lead` stage entry of
-- any account contact (else the earliest `mql`), capped at created_at; with whether it
-- is older than the lookback window. Helper of attribution_journey.
-- grain: opportunity_id
WITH lead_entry AS (
    SELECT
        c.account_id,
        COALESCE(MIN(CASE WHEN l.stage = 'lead' THEN l.ts END),
                 MIN(CASE WHEN l.stage = 'mql' THEN l.ts END)) AS lead_at
    FROM lifecycle l
    JOIN contacts c ON c.contact_id = l.contact_id
    GROUP BY c.account_id
),
capped AS (
    SELECT o.opportunity_id, o.account_id, o.created_at,
           CASE WHEN le.lead_at < o.created_at THEN le.lead_at ELSE o.created_at END AS lead_at
    FROM opportunities o
    JOIN lead_entry le ON le.account_id = o.account_id
    WHERE le.lead_at IS NOT NULL
),
-- The opportunities meet their accounts' contacts first (a small table), and marketing
-- touches stream past it once: "at or before lead_at" is a join filter, so only the
-- candidate touches are copied. DataFusion builds its hash table on the left side of a
-- join: touches stay on the right.
capped_contacts AS (
    SELECT k.opportunity_id, k.created_at, k.lead_at, c.contact_id
    FROM capped k
    JOIN contacts c ON c.account_id = k.account_id
),
last_before AS (
    SELECT
        k.opportunity_id,
        k.created_at,
        first_value(t.touch_id ORDER BY t.ts DESC, t.touch_id DESC) AS touch_id,
        first_value(t.ts ORDER BY t.ts DESC, t.touch_id DESC) AS ts,
        first_value(t.channel ORDER BY t.ts DESC, t.touch_id DESC) AS channel,
        first_value(t.campaign_id ORDER BY t.ts DESC, t.touch_id DESC) AS campaign_id
    FROM capped_contacts k
    JOIN touches t ON t.contact_id = k.contact_id AND t.kind = 'marketing' AND t.ts <= k.lead_at
    GROUP BY k.opportunity_id, k.created_at
)
SELECT
    l.opportunity_id,
    l.touch_id,
    l.ts,
    l.channel,
    l.campaign_id,
    (date_part('epoch', l.created_at) - date_part('epoch', l.ts)) / 86400.0 AS days_before,
    date_part('epoch', l.created_at) - date_part('epoch', l.ts) > p.lookback_days * 86400.0 AS older_than_window
FROM last_before l
CROSS JOIN params p
