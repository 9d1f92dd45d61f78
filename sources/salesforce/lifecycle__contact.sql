-- object: contact
-- lifecycle stages of contacts created directly (not from a converted lead): `lead`
-- at the contact's CreatedDate, `mql` at [columns.contact_mql_date] when set.
-- With a ContactHistory export, the contact's lifecycle field history wins: when it gives
-- the contact an `mql` entry, the MQL date field is not read for that contact
-- (view__contact_lifecycle_changes.sql).
WITH direct AS (
    SELECT * FROM contact
    WHERE id NOT IN (SELECT converted_contact_id FROM lead
                     WHERE converted_contact_id IS NOT NULL
                       AND lower(trim(is_converted)) IN ('true', '1', 't', 'yes', 'y'))
)
SELECT id AS contact_id, 'lead' AS stage, (created_date) AS ts
FROM direct WHERE created_date IS NOT NULL
UNION ALL
SELECT id, 'mql', ({{contact_mql_date}})
FROM direct WHERE {{contact_mql_date}} IS NOT NULL
  AND id NOT IN (SELECT contact_id FROM contact_lifecycle_changes WHERE stage = 'mql')
