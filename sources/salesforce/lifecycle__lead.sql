-- object: lead
-- lifecycle stages of converted leads, on the contact each was converted to:
-- `lead` at the lead's CreatedDate, `mql` at the custom date field
-- [columns.lead_mql_date] (MQL_Date__c by default) when set, `sql` at ConvertedDate.
-- Unconverted leads are no contacts and are not loaded (their count is in the summary
-- as the Lead rows read minus the converted ones).
WITH converted AS (
    SELECT * FROM lead
    WHERE lower(is_converted) IN ('true', '1') AND converted_contact_id IS NOT NULL
      AND converted_contact_id IN (SELECT id FROM contact)
)
SELECT converted_contact_id AS contact_id, 'lead' AS stage,
       left(replace(created_date, 'T', ' '), 19) AS ts
FROM converted
UNION ALL
SELECT converted_contact_id, 'mql', left(replace({{lead_mql_date}}, 'T', ' '), 19)
FROM converted WHERE {{lead_mql_date}} IS NOT NULL
UNION ALL
SELECT converted_contact_id, 'sql', left(replace(converted_date, 'T', ' '), 19)
FROM converted WHERE converted_date IS NOT NULL
