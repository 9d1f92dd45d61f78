-- object: event
-- sales touches from Salesforce Event: meetings with a contact (WhoId), at
-- StartDateTime (else ActivityDateTime, else CreatedDate).
SELECT
    'event-' || e.id AS touch_id,
    e.who_id AS contact_id,
    (COALESCE(e.start_date_time, e.activity_date_time, e.created_date)) AS ts,
    'sales' AS channel,
    'sales' AS kind,
    'meeting' AS activity,
    CAST(NULL AS VARCHAR) AS campaign_id
FROM event e
JOIN contact c ON c.id = e.who_id
