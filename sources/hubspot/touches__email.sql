-- object: email
-- sales touches from HubSpot (one-to-one, sales) e-mails: one per associated contact
-- that is in the contacts export (Associated Contact ID(s) / contact_id; `;`-separated
-- ids are split), at Activity date / hs_timestamp, activity `sales_email`. Marketing
-- e-mails are not this object. touch_id: `email-<id>-<contact id>`.
WITH e AS (
    SELECT
        COALESCE(record_id, hs_object_id) AS id,
        COALESCE(activity_date, hs_timestamp) AS at,
        u AS contact_ids
    FROM (SELECT *, unnest(string_to_array(COALESCE(associated_contact_ids, associated_contact_id,
                                                   contact_id), ';')) AS u
          FROM email
          WHERE COALESCE(associated_contact_ids, associated_contact_id, contact_id) IS NOT NULL)
)
SELECT
    'email-' || e.id || '-' || trim(e.contact_ids) AS touch_id,
    trim(e.contact_ids) AS contact_id,
    (e.at) AS ts,
    'sales' AS channel,
    'sales' AS kind,
    'sales_email' AS activity,
    CAST(NULL AS VARCHAR) AS campaign_id
FROM e
JOIN contact c ON COALESCE(c.record_id, c.hs_object_id, c.id) = trim(e.contact_ids)
