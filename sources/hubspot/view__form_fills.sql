-- Form submissions of both exports as marketing touches, for touches__form_submission.sql
-- (a form's submissions exported from the UI, object form_submission) and
-- touches__contact_form_submission.sql (the connector's contact_form_submission
-- table): `origin` says which. Definitions: touches__form_submission.sql.
WITH submissions AS (
    SELECT 'form_submission' AS origin, f.conversion_id, f.form_name, f.form, f.title, f.form_id, f.conversion_date,
           f."timestamp", f.contact_id, f.email,
           mn.mapped AS by_name, mi.mapped AS by_id
    FROM form_submission f
    LEFT JOIN map_form_name mn ON mn.value = COALESCE(f.form_name, f.form, f.title)
    LEFT JOIN map_form_name mi ON mi.value = f.form_id
    UNION ALL
    SELECT 'contact_form_submission', f.conversion_id, f.form_name, f.form, f.title, f.form_id, f.conversion_date,
           f."timestamp", f.contact_id, f.email,
           mn.mapped, mi.mapped
    FROM contact_form_submission f
    LEFT JOIN map_form_title mn ON mn.value = COALESCE(f.form_name, f.form, f.title)
    LEFT JOIN map_form_title mi ON mi.value = f.form_id
),
f AS (
    SELECT
        f.origin,
        f.conversion_id,
        COALESCE(f.form_name, f.form, f.title, f.form_id) AS form,
        CASE WHEN COALESCE(f.conversion_date, f."timestamp") ~ '^[0-9]{13}$'
             THEN CAST(to_timestamp_millis(CAST(COALESCE(f.conversion_date, f."timestamp") AS BIGINT)) AS VARCHAR)
             ELSE COALESCE(f.conversion_date, f."timestamp") END AS at,
        COALESCE(f.by_name, f.by_id, 'web') AS channel,
        COALESCE(i.contact_id, b.contact_id) AS contact_id
    FROM submissions f
    LEFT JOIN contact_ids i ON i.contact_id = f.contact_id
    LEFT JOIN contact_emails b ON b.email = lower(trim(f.email))
)
SELECT
    f.origin,
    concat('form-', COALESCE(f.conversion_id, concat(f.form, '@', f.at)), '-', f.contact_id) AS touch_id,
    f.contact_id,
    (f.at) AS ts,
    f.channel,
    'marketing' AS kind,
    'form_fill' AS activity,
    CAST(NULL AS VARCHAR) AS campaign_id
FROM f
WHERE f.contact_id IS NOT NULL
