-- object: call
-- sales touches from HubSpot calls: completed calls (Call status / hs_call_status
-- `COMPLETED`, any case, or empty), one per associated contact that is in the contacts
-- export (Associated Contact ID(s) / contact_id; `;`-separated ids are split), at
-- Activity date / hs_timestamp, activity `call`. touch_id: `call-<id>-<contact id>`.
WITH e AS (
    SELECT
        COALESCE(record_id, hs_object_id) AS id,
        COALESCE(activity_date, hs_timestamp) AS at,
        u AS contact_ids
    FROM (SELECT *, unnest(string_to_array(COALESCE(associated_contact_ids, associated_contact_id,
                                                   contact_id), ';')) AS u
          FROM "call"
          WHERE COALESCE(associated_contact_ids, associated_contact_id, contact_id) IS NOT NULL
            AND (COALESCE(call_status, hs_call_status) IS NULL
                 OR lower(COALESCE(call_status, hs_call_status)) = 'completed'))
)
SELECT
    'call-' || e.id || '-' || trim(e.contact_ids) AS touch_id,
    trim(e.contact_ids) AS contact_id,
    (e.at) AS ts,
    'sales' AS channel,
    'sales' AS kind,
    'call' AS activity,
    CAST(NULL AS VARCHAR) AS campaign_id
FROM e
JOIN contact c ON COALESCE(c.record_id, c.hs_object_id, c.id) = trim(e.contact_ids)
