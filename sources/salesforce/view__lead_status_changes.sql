-- Stage entries from LeadHistory (empty without it): each change of the lead status
-- field of a converted lead, on its contact, at the change's CreatedDate, stage =
-- NewValue through map_lead_status; none when NewValue maps to `ignored` or OldValue
-- maps to the same stage. lifecycle__lead_history.sql gives them;
-- lifecycle__lead.sql reads no date field for a stage they give the same lead.
SELECT DISTINCT h.lead_id, c.converted_contact_id AS contact_id, n.mapped AS stage,
       h.created_date AS ts
FROM lead_history h
JOIN converted_leads c ON c.id = h.lead_id
JOIN map_lead_status n ON n.value = h.new_value
LEFT JOIN map_lead_status o ON o.value = h.old_value
WHERE replace(lower(trim(h.field)), '_', '') = replace('{{lead_status_field}}', '_', '')
  AND n.mapped <> 'ignored'
  AND (o.mapped IS NULL OR o.mapped <> n.mapped)
