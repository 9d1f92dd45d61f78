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
-- The entries are view__lead_status_changes.sql (shared with lifecycle__lead.sql).
SELECT DISTINCT contact_id, stage, ts
FROM lead_status_changes
