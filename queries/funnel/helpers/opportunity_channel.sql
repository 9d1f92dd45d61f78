-- opportunity_channel: one row per opportunity with its lead-source channel: the
-- channel of its primary contact when that contact has a marketing touch; else of the
-- account contact whose first marketing touch is earliest (ties: contact_id); else
-- '(none)'. Helper for the funnel views.
-- grain: opportunity_id
WITH account_first_channel AS (
    SELECT
        account_id,
        first_by(channel, first_touch_at, contact_id) AS channel
    FROM contact_channel
    WHERE first_touch_at IS NOT NULL
    GROUP BY account_id
)
SELECT
    o.opportunity_id,
    COALESCE(primary_contact.channel, account_first.channel, '(none)') AS channel
FROM opportunities o
LEFT JOIN contact_channel primary_contact
    ON primary_contact.contact_id = o.primary_contact_id
   AND primary_contact.first_touch_at IS NOT NULL
LEFT JOIN account_first_channel account_first
    ON account_first.account_id = o.account_id
