-- object: contact
-- contacts from HubSpot contacts.
--   contact_id: Record ID / hs_object_id / id;
--   account_id: Associated Company ID / associatedcompanyid (the primary company; a
--     contact without one is rejected: `missing value`);
--   role: Buying Role / hs_buying_role through map_buying_role / map_hs_buying_role
--     (otherwise unknown);
--   title: Job Title / jobtitle; email: Email; created_at: Create Date / createdate.
SELECT
    COALESCE(c.record_id, c.hs_object_id, c.id) AS contact_id,
    COALESCE(c.associated_company_id, c.associatedcompanyid) AS account_id,
    COALESCE(mu.mapped, mi.mapped, 'unknown') AS role,
    COALESCE(c.job_title, c.jobtitle) AS title,
    c.email,
    (COALESCE(c.create_date, c.createdate)) AS created_at
FROM contact c
LEFT JOIN map_buying_role mu ON mu.value = c.buying_role
LEFT JOIN map_hs_buying_role mi ON mi.value = c.hs_buying_role
