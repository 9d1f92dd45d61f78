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
-- Small tables first: DataFusion builds its hash tables on the left side of a join,
-- and touches must stay on the streaming (right) side.
capped_contacts AS (
    SELECT c.contact_id, c.account_id
    FROM contacts c
    WHERE c.account_id IN (SELECT account_id FROM capped)
),
marketing AS (
    SELECT t.touch_id, c.account_id, t.ts, t.channel, t.campaign_id
    FROM capped_contacts c
    JOIN touches t ON t.contact_id = c.contact_id
    WHERE t.kind = 'marketing'
),
last_before AS (
    SELECT
        k.opportunity_id,
        k.created_at,
        first_value(m.touch_id ORDER BY m.ts DESC, m.touch_id DESC) AS touch_id,
        first_value(m.ts ORDER BY m.ts DESC, m.touch_id DESC) AS ts,
        first_value(m.channel ORDER BY m.ts DESC, m.touch_id DESC) AS channel,
        first_value(m.campaign_id ORDER BY m.ts DESC, m.touch_id DESC) AS campaign_id
    FROM capped k
    JOIN marketing m ON m.account_id = k.account_id AND m.ts <= k.lead_at
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
