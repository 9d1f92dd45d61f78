-- object: deal_contact
-- opportunity_contacts from HubSpot deal-contact associations (Deal ID / deal_id,
-- Contact ID / contact_id), each pair once; role: the contact's Buying Role /
-- hs_buying_role / property_hs_buying_role through map_buying_role /
-- map_hs_buying_role / map_property_hs_buying_role (otherwise unknown).
SELECT DISTINCT
    a.deal_id AS opportunity_id,
    a.contact_id,
    COALESCE(mu.mapped, mi.mapped, mp.mapped, 'unknown') AS role
FROM deal_contact a
LEFT JOIN contact c ON COALESCE(c.record_id, c.hs_object_id, c.id) = a.contact_id
LEFT JOIN map_buying_role mu ON mu.value = c.buying_role
LEFT JOIN map_hs_buying_role mi ON mi.value = c.hs_buying_role
LEFT JOIN map_property_hs_buying_role mp ON mp.value = c.property_hs_buying_role
