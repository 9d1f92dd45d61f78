-- object: contact_form_submission
-- marketing touches from Fivetran's `contact_form_submission` table, read as the
-- form_submission part reads a form_submission file (touches__form_submission.sql): a
-- connector's form-submission rows (contact_id, timestamp, form_id, page_url, title,
-- conversion_id). One per submission of a known contact (contact_id when it is in the
-- contacts export, else the contact whose e-mail is the submission's Email, any case,
-- trimmed; a submission of no known contact gives no touch), at Conversion Date /
-- timestamp (epoch milliseconds read too), activity `form_fill`, on the channel
-- map_form_title gives the form's name (Form name / Form / title) or else its form_id
-- (otherwise `web`); no campaign.
-- touch_id: `form-<conversion_id>-<contact id>`, or without a conversion id
-- `form-<form>@<time>-<contact id>`. The SQL is view__form_fills.sql.
SELECT touch_id, contact_id, ts, channel, kind, activity, campaign_id
FROM form_fills
WHERE origin = 'contact_form_submission'
