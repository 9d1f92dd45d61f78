-- object: lead
-- lifecycle stages of converted leads, on the contact each was converted to:
-- `lead` at the lead's CreatedDate, `mql` at the custom date field
-- [columns.lead_mql_date] (MQL_Date__c by default) when set, `sql` at ConvertedDate.
-- Unconverted leads are no contacts and are not loaded (their count is in the summary
-- as the Lead rows read minus the converted ones).
WITH converted AS (
    SELECT * FROM lead
    WHERE lower(trim(is_converted)) IN ('true', '1', 't', 'yes', 'y') AND converted_contact_id IS NOT NULL
      AND converted_contact_id IN (SELECT id FROM contact)
)
SELECT converted_contact_id AS contact_id, 'lead' AS stage,
       (created_date) AS ts
FROM converted
UNION ALL
SELECT converted_contact_id, 'mql', ({{lead_mql_date}})
FROM converted WHERE {{lead_mql_date}} IS NOT NULL
UNION ALL
SELECT converted_contact_id, 'sql', (converted_date)
FROM converted WHERE converted_date IS NOT NULL
