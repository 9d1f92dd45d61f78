-- object: task
-- sales touches from Salesforce Task: completed calls, e-mails and other tasks whose
-- WhoId is a contact, at CompletedDateTime (else ActivityDate, else CreatedDate);
-- TaskSubtype (else Type) through map_task_activity.
SELECT
    'task-' || t.id AS touch_id,
    t.who_id AS contact_id,
    (COALESCE(t.completed_date_time, t.activity_date, t.created_date)) AS ts,
    'sales' AS channel,
    'sales' AS kind,
    COALESCE(m.mapped, 'other') AS activity,
    CAST(NULL AS VARCHAR) AS campaign_id
FROM task t
JOIN contact c ON c.id = t.who_id
LEFT JOIN map_task_activity m ON m.value = COALESCE(t.task_subtype, t.type)
WHERE t.status IS NULL OR lower(t.status) IN ('completed', 'closed')
