-- object: meeting
-- sales touches from HubSpot meetings that took place (Meeting outcome /
-- hs_meeting_outcome not `NO_SHOW` / `No Show` or `CANCELED` / `Canceled`), one per
-- associated contact that is in the contacts export (Associated Contact ID(s) /
-- contact_id; `;`-separated ids are split), at Meeting start time /
-- hs_meeting_start_time, else Activity date / hs_timestamp, activity `meeting`.
-- touch_id: `meeting-<id>-<contact id>`.
WITH e AS (
    SELECT
        COALESCE(record_id, hs_object_id) AS id,
        COALESCE(meeting_start_time, hs_meeting_start_time, activity_date, hs_timestamp) AS at,
        u AS contact_ids
    FROM (SELECT *, unnest(string_to_array(COALESCE(associated_contact_ids, associated_contact_id,
                                                   contact_id), ';')) AS u
          FROM meeting
          WHERE COALESCE(associated_contact_ids, associated_contact_id, contact_id) IS NOT NULL
            AND (COALESCE(meeting_outcome, hs_meeting_outcome) IS NULL
                 OR lower(replace(COALESCE(meeting_outcome, hs_meeting_outcome), ' ', '_'))
                    NOT IN ('no_show', 'canceled', 'cancelled')))
)
SELECT
    'meeting-' || e.id || '-' || trim(e.contact_ids) AS touch_id,
    trim(e.contact_ids) AS contact_id,
    (e.at) AS ts,
    'sales' AS channel,
    'sales' AS kind,
    'meeting' AS activity,
    CAST(NULL AS VARCHAR) AS campaign_id
FROM e
JOIN contact c ON COALESCE(c.record_id, c.hs_object_id, c.id) = trim(e.contact_ids)
