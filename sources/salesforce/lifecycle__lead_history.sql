-- object: lead_history
-- lifecycle stages from Salesforce LeadHistory: each change of the lead status field
-- ([columns.lead_status_field], Status), on the contact the lead was converted to, at
-- the change's CreatedDate; stage = NewValue through map_lead_status.
--   No row when NewValue maps to `ignored` (a status that is no stage entry, or a value
--   the map does not know), nor when OldValue maps to the same stage (a move between two
--   values of one stage is no new entry). A stage entered twice is two entries.
--   Unconverted leads are no contacts and give nothing; so do the `created` row (the
--   lead stage is the lead's CreatedDate, lifecycle__lead.sql) and other fields' rows.
--   Soft-deleted history rows (IsDeleted) are dropped when read.
-- The status_changes block is the same in lifecycle__lead.sql, where the stages it gives a
-- lead replace that lead's MQL date field and ConvertedDate.
WITH converted AS (
    SELECT * FROM lead
    WHERE lower(trim(is_converted)) IN ('true', '1', 't', 'yes', 'y') AND converted_contact_id IS NOT NULL
      AND converted_contact_id IN (SELECT id FROM contact)
),
status_changes AS (
    SELECT DISTINCT h.lead_id, c.converted_contact_id AS contact_id, n.mapped AS stage,
           h.created_date AS ts
    FROM lead_history h
    JOIN converted c ON c.id = h.lead_id
    JOIN map_lead_status n ON n.value = h.new_value
    LEFT JOIN map_lead_status o ON o.value = h.old_value
    WHERE replace(lower(trim(h.field)), '_', '') = replace('{{lead_status_field}}', '_', '')
      AND n.mapped <> 'ignored'
      AND (o.mapped IS NULL OR o.mapped <> n.mapped)
)
SELECT DISTINCT contact_id, stage, ts
FROM status_changes
