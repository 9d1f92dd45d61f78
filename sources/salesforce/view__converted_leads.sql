-- Converted leads whose converted contact is in the Contact export: the leads that
-- give lifecycle stages (lifecycle__lead.sql, lifecycle__lead_history.sql).
SELECT * FROM lead
WHERE lower(trim(is_converted)) IN ('true', '1', 't', 'yes', 'y') AND converted_contact_id IS NOT NULL
  AND converted_contact_id IN (SELECT id FROM contact)
