-- object: contact
-- contacts from HubSpot contacts.
--   contact_id: Record ID / hs_object_id / id;
--   account_id: Associated Company ID / associatedcompanyid (the primary company; a
--     contact without one is rejected: `missing value`);
--   role: Buying Role / hs_buying_role through map_buying_role / map_hs_buying_role
--     (otherwise unknown);
--   title: Job Title / jobtitle; email: Email; created_at: Create Date / createdate.
-- Fivetran's layout: the internal names prefixed `property_` (property_associatedcompanyid,
-- property_hs_buying_role through map_property_hs_buying_role, property_jobtitle,
-- property_email, property_createdate), taken after the other spellings.
SELECT
    COALESCE(c.record_id, c.hs_object_id, c.id) AS contact_id,
    COALESCE(c.associated_company_id, c.associatedcompanyid, c.property_associatedcompanyid) AS account_id,
    COALESCE(mu.mapped, mi.mapped, mp.mapped, 'unknown') AS role,
    COALESCE(c.job_title, c.jobtitle, c.property_jobtitle) AS title,
    COALESCE(c.email, c.property_email) AS email,
    (COALESCE(c.create_date, c.createdate, c.property_createdate)) AS created_at
FROM contact c
LEFT JOIN map_buying_role mu ON mu.value = c.buying_role
LEFT JOIN map_hs_buying_role mi ON mi.value = c.hs_buying_role
LEFT JOIN map_property_hs_buying_role mp ON mp.value = c.property_hs_buying_role
