-- object: lead
-- lifecycle stages of converted leads, on the contact each was converted to:
-- `lead` at the lead's CreatedDate, `mql` at the custom date field
-- [columns.lead_mql_date] (MQL_Date__c by default) when set, `sql` at ConvertedDate.
-- Unconverted leads are no contacts and are not loaded (their count is in the summary
-- as the Lead rows read minus the converted ones).
-- With a LeadHistory export, the lead's status history wins: when it gives the lead an
-- `mql` (or `sql`) entry, the MQL date field (or ConvertedDate) is not read for that lead
-- (the history has the time, and every entry; lifecycle__lead_history.sql gives them).
WITH converted AS (
    SELECT * FROM lead
    WHERE lower(trim(is_converted)) IN ('true', '1', 't', 'yes', 'y') AND converted_contact_id IS NOT NULL
      AND converted_contact_id IN (SELECT id FROM contact)
),
-- As in lifecycle__lead_history.sql (empty without a LeadHistory file).
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
SELECT converted_contact_id AS contact_id, 'lead' AS stage,
       (created_date) AS ts
FROM converted
UNION ALL
SELECT converted_contact_id, 'mql', ({{lead_mql_date}})
FROM converted WHERE {{lead_mql_date}} IS NOT NULL
  AND id NOT IN (SELECT lead_id FROM status_changes WHERE stage = 'mql')
UNION ALL
SELECT converted_contact_id, 'sql', (converted_date)
FROM converted WHERE converted_date IS NOT NULL
  AND id NOT IN (SELECT lead_id FROM status_changes WHERE stage = 'sql')
