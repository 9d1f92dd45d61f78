-- object: deal
-- opportunity_contacts from a deals export's Associated Contact IDs (`;`-separated),
-- for the deals no deal_contact file gives contacts for, each pair once; role: the
-- contact's Buying Role / hs_buying_role / property_hs_buying_role through map_buying_role /
-- map_hs_buying_role / map_property_hs_buying_role
-- (otherwise unknown).
WITH pairs AS (
    SELECT opportunity_id, trim(u) AS contact_id
    FROM (SELECT COALESCE(record_id, hs_object_id, deal_id) AS opportunity_id,
                 unnest(string_to_array(associated_contact_ids, ';')) AS u
          FROM deal
          WHERE associated_contact_ids IS NOT NULL)
)
SELECT DISTINCT
    p.opportunity_id,
    p.contact_id,
    COALESCE(mu.mapped, mi.mapped, mp.mapped, 'unknown') AS role
FROM pairs p
LEFT JOIN contact c ON COALESCE(c.record_id, c.hs_object_id, c.id) = p.contact_id
LEFT JOIN map_buying_role mu ON mu.value = c.buying_role
LEFT JOIN map_hs_buying_role mi ON mi.value = c.hs_buying_role
LEFT JOIN map_property_hs_buying_role mp ON mp.value = c.property_hs_buying_role
WHERE p.contact_id <> ''
  AND p.opportunity_id NOT IN (SELECT deal_id FROM deal_contact WHERE deal_id IS NOT NULL)
