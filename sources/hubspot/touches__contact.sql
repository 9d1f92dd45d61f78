-- object: contact
-- marketing touches from HubSpot contacts' Original Source / hs_analytics_source: one
-- per contact with a source, at the contact's Create Date / createdate, on the channel
-- map_original_source / map_hs_analytics_source give it (otherwise other), activity
-- `original_source`. touch_id: `source-<contact id>`. Fivetran's layout:
-- property_hs_analytics_source through map_property_hs_analytics_source, at
-- property_createdate.
SELECT
    'source-' || COALESCE(c.record_id, c.hs_object_id, c.id) AS touch_id,
    COALESCE(c.record_id, c.hs_object_id, c.id) AS contact_id,
    (COALESCE(c.create_date, c.createdate, c.property_createdate)) AS ts,
    COALESCE(mu.mapped, mi.mapped, mp.mapped, 'other') AS channel,
    'marketing' AS kind,
    'original_source' AS activity,
    CAST(NULL AS VARCHAR) AS campaign_id
FROM contact c
LEFT JOIN map_original_source mu ON mu.value = c.original_source
LEFT JOIN map_hs_analytics_source mi ON mi.value = c.hs_analytics_source
LEFT JOIN map_property_hs_analytics_source mp ON mp.value = c.property_hs_analytics_source
WHERE COALESCE(c.original_source, c.hs_analytics_source, c.property_hs_analytics_source) IS NOT NULL
