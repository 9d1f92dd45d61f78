-- Stage entries from the contact's dated lifecycle fields; the lead entry keeps the
-- CRM's LeadSource as its reason.
SELECT "Id" AS contact_id, 'lead' AS stage, "CreatedDate" AS ts, "LeadSource" AS reason FROM sf_contact
UNION ALL
SELECT "Id", 'mql', "MQL_Date__c", CAST(NULL AS VARCHAR) FROM sf_contact WHERE "MQL_Date__c" IS NOT NULL
UNION ALL
SELECT "Id", 'sql', "SQL_Date__c", CAST(NULL AS VARCHAR) FROM sf_contact WHERE "SQL_Date__c" IS NOT NULL
