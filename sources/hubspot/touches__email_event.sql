-- object: email_event
-- marketing touches from HubSpot marketing e-mail events (the email events API's layout,
-- a connector's `email_event` table): one per event whose type map_email_event_type
-- gives a channel (default: CLICK -> `email`; OPEN, SENT, DELIVERED, BOUNCE, ... and
-- unmapped types -> `no touch`), not flagged filtered_event (HubSpot's filter of bot
-- and scanner events), at `created` (epoch milliseconds, as the API writes it, are
-- read too), activity `email_<type>` in lower case (`email_click`), campaign_id the
-- event's email_campaign_id. The contact: the event's contact_id when the export has
-- one that is in the contacts export, else the contact whose e-mail (Email / email /
-- property_email, any case, trimmed) is the recipient's (the smallest contact id when
-- two share it); an event of no known contact gives no touch.
-- touch_id: `email_event-<id>`. Contacts are found through view__contact_ids.sql and
-- view__contact_emails.sql.
WITH e AS (
    SELECT
        e.id,
        e.type,
        CASE WHEN e.created ~ '^[0-9]{13}$'
             THEN CAST(to_timestamp_millis(CAST(e.created AS BIGINT)) AS VARCHAR)
             ELSE e.created END AS at,
        e.email_campaign_id,
        m.mapped AS channel,
        COALESCE(i.contact_id, b.contact_id) AS contact_id
    FROM email_event e
    JOIN map_email_event_type m ON m.value = e.type
    LEFT JOIN contact_ids i ON i.contact_id = e.contact_id
    LEFT JOIN contact_emails b ON b.email = lower(trim(e.recipient))
    WHERE m.mapped <> 'no touch'
      AND lower(COALESCE(e.filtered_event, 'false')) NOT IN ('true', '1', 't', 'yes', 'y')
)
SELECT
    concat('email_event-', e.id) AS touch_id,
    e.contact_id,
    (e.at) AS ts,
    e.channel,
    'marketing' AS kind,
    concat('email_', lower(e.type)) AS activity,
    e.email_campaign_id AS campaign_id
FROM e
WHERE e.contact_id IS NOT NULL
