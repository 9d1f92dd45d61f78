-- Each e-mail address (Email / email / property_email, lower case, trimmed) with its
-- contact, the smallest id when two contacts share it: how e-mail events and form
-- submissions find their contact.
SELECT lower(trim(COALESCE(email, property_email))) AS email,
       MIN(COALESCE(record_id, hs_object_id, id)) AS contact_id
FROM contact
WHERE COALESCE(email, property_email) IS NOT NULL
GROUP BY lower(trim(COALESCE(email, property_email)))
