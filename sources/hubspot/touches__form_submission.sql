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
-- `form-<form>@<time>-<contact id>`. The SQL is view__form_fills.sql, shared with
-- touches__contact_form_submission.sql.
SELECT touch_id, contact_id, ts, channel, kind, activity, campaign_id
FROM form_fills
WHERE origin = 'form_submission'
