-- object: lead
-- lifecycle stages of converted leads, on the contact each was converted to:
-- `lead` at the lead's CreatedDate, `mql` at the custom date field
-- [columns.lead_mql_date] (MQL_Date__c by default) when set, `sql` at ConvertedDate.
-- Unconverted leads are no contacts and are not loaded (their count is in the summary
-- as the Lead rows read minus the converted ones).
-- With a LeadHistory export, the lead's status history wins: when it gives the lead an
-- `mql` (or `sql`) entry, the MQL date field (or ConvertedDate) is not read for that lead
-- (the history has the time, and every entry: view__lead_status_changes.sql).
SELECT converted_contact_id AS contact_id, 'lead' AS stage,
       (created_date) AS ts
FROM converted_leads
UNION ALL
SELECT converted_contact_id, 'mql', ({{lead_mql_date}})
FROM converted_leads WHERE {{lead_mql_date}} IS NOT NULL
  AND id NOT IN (SELECT lead_id FROM lead_status_changes WHERE stage = 'mql')
UNION ALL
SELECT converted_contact_id, 'sql', (converted_date)
FROM converted_leads WHERE converted_date IS NOT NULL
  AND id NOT IN (SELECT lead_id FROM lead_status_changes WHERE stage = 'sql')
