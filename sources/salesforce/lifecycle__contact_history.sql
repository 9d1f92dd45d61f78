-- object: contact_history
-- lifecycle stages from Salesforce ContactHistory: each change of the contact lifecycle
-- field [columns.contact_lifecycle_field] (Lifecycle_Stage__c), at the change's
-- CreatedDate; stage = NewValue through map_contact_lifecycle_stage.
--   No row when NewValue maps to `ignored` (a value that is no stage entry, or one the
--   map does not know), nor when OldValue maps to the same stage. A stage entered twice
--   is two entries. The `created` row and other fields' rows give nothing; history of a
--   contact that is not in the Contact export gives nothing (as for converted leads).
--   Converted and direct contacts alike: a converted contact's history starts at its
--   conversion, and adds to the stages its lead gave.
-- The lifecycle_changes block is the same in lifecycle__contact.sql, where an mql it
-- gives a direct contact replaces the contact's MQL date field.
WITH lifecycle_changes AS (
    SELECT DISTINCT h.contact_id, n.mapped AS stage, h.created_date AS ts
    FROM contact_history h
    JOIN map_contact_lifecycle_stage n ON n.value = h.new_value
    LEFT JOIN map_contact_lifecycle_stage o ON o.value = h.old_value
    WHERE replace(lower(trim(h.field)), '_', '') = replace('{{contact_lifecycle_field}}', '_', '')
      AND h.contact_id IN (SELECT id FROM contact)
      AND n.mapped <> 'ignored'
      AND (o.mapped IS NULL OR o.mapped <> n.mapped)
)
SELECT contact_id, stage, ts
FROM lifecycle_changes
