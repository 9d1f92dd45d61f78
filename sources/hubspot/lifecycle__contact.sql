-- object: contact
-- lifecycle stages from HubSpot contacts' lifecycle-stage dates, one row per date set:
--   lead        Became a Lead Date / hs_lifecyclestage_lead_date
--   mql         Became a Marketing Qualified Lead Date / hs_lifecyclestage_marketingqualifiedlead_date
--   sql         Became a Sales Qualified Lead Date / hs_lifecyclestage_salesqualifiedlead_date
--   opportunity Became an Opportunity Date / hs_lifecyclestage_opportunity_date
--   customer    Became a Customer Date / hs_lifecyclestage_customer_date
-- Fivetran's layout: the same names prefixed `property_` (property_hs_lifecyclestage_lead_date, ...).
-- (HubSpot has no sales-accepted stage; subscriber, evangelist and other are not read.)
WITH c AS (
    SELECT
        COALESCE(record_id, hs_object_id, id) AS contact_id,
        COALESCE(became_a_lead_date, hs_lifecyclestage_lead_date, property_hs_lifecyclestage_lead_date) AS lead_at,
        COALESCE(became_a_marketing_qualified_lead_date,
                 hs_lifecyclestage_marketingqualifiedlead_date,
                 property_hs_lifecyclestage_marketingqualifiedlead_date) AS mql_at,
        COALESCE(became_a_sales_qualified_lead_date,
                 hs_lifecyclestage_salesqualifiedlead_date,
                 property_hs_lifecyclestage_salesqualifiedlead_date) AS sql_at,
        COALESCE(became_an_opportunity_date, hs_lifecyclestage_opportunity_date,
                 property_hs_lifecyclestage_opportunity_date) AS opportunity_at,
        COALESCE(became_a_customer_date, hs_lifecyclestage_customer_date,
                 property_hs_lifecyclestage_customer_date) AS customer_at
    FROM contact
)
SELECT contact_id, 'lead' AS stage, (lead_at) AS ts
FROM c WHERE lead_at IS NOT NULL
UNION ALL
SELECT contact_id, 'mql', (mql_at)
FROM c WHERE mql_at IS NOT NULL
UNION ALL
SELECT contact_id, 'sql', (sql_at)
FROM c WHERE sql_at IS NOT NULL
UNION ALL
SELECT contact_id, 'opportunity', (opportunity_at)
FROM c WHERE opportunity_at IS NOT NULL
UNION ALL
SELECT contact_id, 'customer', (customer_at)
FROM c WHERE customer_at IS NOT NULL
