-- object: contact
-- lifecycle stages of contacts created directly (not from a converted lead): `lead`
-- at the contact's CreatedDate, `mql` at [columns.contact_mql_date] when set.
-- With a ContactHistory export, the contact's lifecycle field history wins: when it gives
-- the contact an `mql` entry, the MQL date field is not read for that contact
-- (lifecycle__contact_history.sql gives the entries).
WITH direct AS (
    SELECT * FROM contact
    WHERE id NOT IN (SELECT converted_contact_id FROM lead
                     WHERE converted_contact_id IS NOT NULL
                       AND lower(trim(is_converted)) IN ('true', '1', 't', 'yes', 'y'))
),
-- As in lifecycle__contact_history.sql (empty without a ContactHistory file).
lifecycle_changes AS (
    SELECT DISTINCT h.contact_id, n.mapped AS stage, h.created_date AS ts
    FROM contact_history h
    JOIN map_contact_lifecycle_stage n ON n.value = h.new_value
    LEFT JOIN map_contact_lifecycle_stage o ON o.value = h.old_value
    WHERE replace(lower(trim(h.field)), '_', '') = replace('{{contact_lifecycle_field}}', '_', '')
      AND h.contact_id IN (SELECT id FROM contact)
      AND n.mapped <> 'ignored'
      AND (o.mapped IS NULL OR o.mapped <> n.mapped)
)
SELECT id AS contact_id, 'lead' AS stage, (created_date) AS ts
FROM direct WHERE created_date IS NOT NULL
UNION ALL
SELECT id, 'mql', ({{contact_mql_date}})
FROM direct WHERE {{contact_mql_date}} IS NOT NULL
  AND id NOT IN (SELECT contact_id FROM lifecycle_changes WHERE stage = 'mql')
