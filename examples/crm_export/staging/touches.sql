-- Campaign responses are marketing touches; Tasks logged by reps are sales touches.
SELECT
    "Id" AS touch_id,
    "ContactId" AS contact_id,
    "RespondedDate" AS ts,
    CASE "Channel"
        WHEN 'Paid Search' THEN 'paid_search'
        WHEN 'Organic Search' THEN 'organic_search'
        WHEN 'Event' THEN 'events'
        ELSE lower("Channel")
    END AS channel,
    'marketing' AS kind,
    'campaign_response' AS activity,
    "CampaignId" AS campaign_id
FROM sf_campaign_member
UNION ALL
SELECT
    "Id",
    "WhoId",
    "ActivityDate",
    'sales',
    'sales',
    CASE "Type" WHEN 'Email' THEN 'sales_email' ELSE lower("Type") END,
    CAST(NULL AS VARCHAR)
FROM sf_task
