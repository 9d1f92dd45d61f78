-- object: campaign
-- spend from Salesforce Campaign.ActualCost when no spend file is given: the whole
-- cost in the month the campaign starts (`YYYY-MM` of StartDate: an unparseable date is a
-- reject of spend, not a failed run), on its channel.
SELECT
    left(c.start_date, 7) AS month,
    COALESCE(m.mapped, 'other') AS channel,
    c.id AS campaign_id,
    c.actual_cost AS amount
FROM campaign c
LEFT JOIN map_campaign_channel m ON m.value = c.type
WHERE c.actual_cost IS NOT NULL AND c.start_date IS NOT NULL
