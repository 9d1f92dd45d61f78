-- object: campaign_member
-- marketing touches from Salesforce CampaignMember: one per member that responded
-- (HasResponded), at FirstRespondedDate (else the member's CreatedDate), on the
-- campaign's channel. A lead member counts for the contact it was converted to; an
-- unconverted lead is no contact and gives no touch.
SELECT
    'cm-' || m.id AS touch_id,
    COALESCE(m.contact_id, l.converted_contact_id) AS contact_id,
    (COALESCE(m.first_responded_date, m.created_date)) AS ts,
    COALESCE(ch.mapped, 'other') AS channel,
    'marketing' AS kind,
    'campaign_response' AS activity,
    m.campaign_id
FROM campaign_member m
LEFT JOIN lead l ON l.id = m.lead_id
LEFT JOIN campaign c ON c.id = m.campaign_id
LEFT JOIN map_campaign_channel ch ON ch.value = c.type
WHERE lower(trim(m.has_responded)) IN ('true', '1', 't', 'yes', 'y')
  AND COALESCE(m.contact_id, l.converted_contact_id) IS NOT NULL
