-- object: campaign
-- campaigns from Salesforce Campaign; Type through map_campaign_channel.
SELECT
    c.id AS campaign_id,
    c.name,
    COALESCE(m.mapped, 'other') AS channel,
    left(c.start_date, 10) AS start_date,
    left(c.end_date, 10) AS end_date
FROM campaign c
LEFT JOIN map_campaign_channel m ON m.value = c.type
