-- Stage entries from ContactHistory (empty without it): each change of the contact
-- lifecycle field of a contact in the Contact export, at the change's CreatedDate,
-- stage = NewValue through map_contact_lifecycle_stage; none when NewValue maps to
-- `ignored` or OldValue maps to the same stage. lifecycle__contact_history.sql gives
-- them; lifecycle__contact.sql reads no MQL date field for a contact they give an mql.
SELECT DISTINCT h.contact_id, n.mapped AS stage, h.created_date AS ts
FROM contact_history h
JOIN map_contact_lifecycle_stage n ON n.value = h.new_value
LEFT JOIN map_contact_lifecycle_stage o ON o.value = h.old_value
WHERE replace(lower(trim(h.field)), '_', '') = replace('{{contact_lifecycle_field}}', '_', '')
  AND h.contact_id IN (SELECT id FROM contact)
  AND n.mapped <> 'ignored'
  AND (o.mapped IS NULL OR o.mapped <> n.mapped)
