-- object: form_submission
-- marketing touches from HubSpot form submissions: the UI's export of a form's
-- submissions (Conversion Date, Email, Page URL, Form name / Form when present) or a
-- connector's form-submission rows (contact_id, timestamp, form_id, page_url, title,
-- conversion_id). One per submission of a known contact (contact_id when it is in the
-- contacts export, else the contact whose e-mail is the submission's Email, any case,
-- trimmed; a submission of no known contact gives no touch), at Conversion Date /
-- timestamp (epoch milliseconds read too), activity `form_fill`, on the channel
-- map_form_name gives the form's name (Form name / Form / title) or else its form_id
-- (otherwise `web`); no campaign.
-- touch_id: `form-<conversion_id>-<contact id>`, or without a conversion id
-- `form-<form>@<time>-<contact id>`.
WITH ids AS (
    SELECT DISTINCT COALESCE(record_id, hs_object_id, id) AS contact_id
    FROM contact
),
by_email AS (
    SELECT lower(trim(COALESCE(email, property_email))) AS email,
           MIN(COALESCE(record_id, hs_object_id, id)) AS contact_id
    FROM contact
    WHERE COALESCE(email, property_email) IS NOT NULL
    GROUP BY lower(trim(COALESCE(email, property_email)))
),
f AS (
    SELECT
        f.conversion_id,
        COALESCE(f.form_name, f.form, f.title, f.form_id) AS form,
        CASE WHEN COALESCE(f.conversion_date, f."timestamp") ~ '^[0-9]{13}$'
             THEN CAST(to_timestamp_millis(CAST(COALESCE(f.conversion_date, f."timestamp") AS BIGINT)) AS VARCHAR)
             ELSE COALESCE(f.conversion_date, f."timestamp") END AS at,
        COALESCE(mn.mapped, mi.mapped, 'web') AS channel,
        COALESCE(i.contact_id, b.contact_id) AS contact_id
    FROM form_submission f
    LEFT JOIN ids i ON i.contact_id = f.contact_id
    LEFT JOIN by_email b ON b.email = lower(trim(f.email))
    LEFT JOIN map_form_name mn ON mn.value = COALESCE(f.form_name, f.form, f.title)
    LEFT JOIN map_form_name mi ON mi.value = f.form_id
)
SELECT
    concat('form-', COALESCE(f.conversion_id, concat(f.form, '@', f.at)), '-', f.contact_id) AS touch_id,
    f.contact_id,
    (f.at) AS ts,
    f.channel,
    'marketing' AS kind,
    'form_fill' AS activity,
    CAST(NULL AS VARCHAR) AS campaign_id
FROM f
WHERE f.contact_id IS NOT NULL
