-- contact_channel: one row per contact with its lead-source channel, the channel of
-- its first marketing touch (earliest ts, then touch_id) as of the report end, or
-- '(none)' when it has no marketing touch. Helper for the funnel views.
-- grain: contact_id
WITH first_marketing_touch AS (
    SELECT
        contact_id,
        first_by(channel, ts, touch_id) AS channel,
        MIN(ts) AS first_touch_at
    FROM touches
    WHERE kind = 'marketing'
    GROUP BY contact_id
)
SELECT
    c.contact_id,
    c.account_id,
    COALESCE(f.channel, '(none)') AS channel,
    f.first_touch_at
FROM contacts c
LEFT JOIN first_marketing_touch f ON f.contact_id = c.contact_id
