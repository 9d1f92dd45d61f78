-- object: campaign
-- spend from Salesforce Campaign.ActualCost when no spend file is given: the whole
-- cost in the month the campaign starts, on its channel.
SELECT
    CAST(date_trunc('month', CAST(left(c.start_date, 10) AS DATE)) AS DATE) AS month,
    COALESCE(m.mapped, 'other') AS channel,
    c.id AS campaign_id,
    c.actual_cost AS amount
FROM campaign c
LEFT JOIN map_campaign_channel m ON m.value = c.type
WHERE c.actual_cost IS NOT NULL AND c.start_date IS NOT NULL
