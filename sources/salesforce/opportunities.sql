-- object: opportunity
-- opportunities from Salesforce Opportunity.
--   status: won when IsWon, lost when IsClosed and not IsWon, else open;
--   closed_at: CloseDate of closed opportunities (an open one's CloseDate is a forecast);
--   type, source: Type and LeadSource through map_opportunity_type and map_lead_source;
--   primary_contact_id: the OpportunityContactRole with IsPrimary;
--   currency: CurrencyIsoCode (multi-currency orgs; converted with fx_rates).
WITH primary_roles AS (
    SELECT opportunity_id, MIN(contact_id) AS contact_id
    FROM opportunity_contact_role
    WHERE lower(trim(is_primary)) IN ('true', '1', 't', 'yes', 'y')
    GROUP BY opportunity_id
)
SELECT
    o.id AS opportunity_id,
    o.account_id,
    (o.created_date) AS created_at,
    CASE WHEN lower(trim(o.is_closed)) IN ('true', '1', 't', 'yes', 'y') OR lower(trim(o.is_won)) IN ('true', '1', 't', 'yes', 'y')
         THEN (o.close_date) END AS closed_at,
    CASE WHEN lower(trim(o.is_won)) IN ('true', '1', 't', 'yes', 'y') THEN 'won'
         WHEN lower(trim(o.is_closed)) IN ('true', '1', 't', 'yes', 'y') THEN 'lost'
         ELSE 'open' END AS status,
    o.amount,
    COALESCE(mt.mapped, 'new_business') AS type,
    COALESCE(ms.mapped, 'unknown') AS source,
    p.contact_id AS primary_contact_id,
    o.currency_iso_code AS currency
FROM opportunity o
LEFT JOIN map_opportunity_type mt ON mt.value = o.type
LEFT JOIN map_lead_source ms ON ms.value = o.lead_source
LEFT JOIN primary_roles p ON p.opportunity_id = o.id
