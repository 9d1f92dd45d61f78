-- object: opportunity_contact_role
-- opportunity_contacts from Salesforce OpportunityContactRole; Role through
-- map_contact_role (an unmapped role is `unknown`).
SELECT
    r.opportunity_id,
    r.contact_id,
    COALESCE(m.mapped, 'unknown') AS role
FROM opportunity_contact_role r
LEFT JOIN map_contact_role m ON m.value = r.role
