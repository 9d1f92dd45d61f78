-- The contacts' ids (Record ID / hs_object_id / id): a touch naming a contact_id
-- outside the contacts export belongs to no known contact.
SELECT DISTINCT COALESCE(record_id, hs_object_id, id) AS contact_id
FROM contact
