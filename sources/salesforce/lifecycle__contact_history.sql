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
-- The entries are view__contact_lifecycle_changes.sql (shared with lifecycle__contact.sql).
SELECT contact_id, stage, ts
FROM contact_lifecycle_changes
