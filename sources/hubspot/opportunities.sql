-- object: deal
-- opportunities from HubSpot deals.
--   opportunity_id: Record ID / hs_object_id / deal_id;
--   account_id: Associated Company ID / associatedcompanyid, else the first of
--     Associated Company IDs (`;`-separated);
--   status: Deal Stage / dealstage through map_deal_stage / map_dealstage (won, lost;
--     otherwise open);
--   closed_at: Close Date / closedate of won and lost deals (an open deal's is a forecast);
--   amount: Amount;
--   type: Deal Type / dealtype through map_deal_type / map_dealtype (otherwise
--     new_business); source: unknown (deals carry no lead source);
--   primary_contact_id: none (HubSpot has no primary contact on a deal);
--   currency: Currency / deal_currency_code (multi-currency portals).
-- Fivetran's layout: deal_id and the internal names prefixed `property_`
-- (property_createdate, property_closedate, property_amount, property_dealstage through
-- map_property_dealstage, property_dealtype through map_property_dealtype,
-- property_deal_currency_code), taken after the other spellings; the account from the
-- deal_company association when the deal row names none: the primary one (type_id 5,
-- HubSpot's primary deal-to-company association), else the smallest company id.
WITH d AS (
    SELECT
        COALESCE(d.record_id, d.hs_object_id, d.deal_id) AS opportunity_id,
        COALESCE(d.associated_company_id, d.associatedcompanyid,
                 NULLIF(trim(split_part(d.associated_company_ids, ';', 1)), ''),
                 dc.company_id) AS account_id,
        (COALESCE(d.create_date, d.createdate, d.property_createdate)) AS created_at,
        (COALESCE(d.close_date, d.closedate, d.property_closedate)) AS close_at,
        COALESCE(ms.mapped, mi.mapped, mp.mapped, 'open') AS status,
        COALESCE(d.amount, d.property_amount) AS amount,
        COALESCE(tu.mapped, ti.mapped, tp.mapped, 'new_business') AS type,
        COALESCE(d.deal_currency_code, d.currency, d.property_deal_currency_code) AS currency
    FROM deal d
    LEFT JOIN map_deal_stage ms ON ms.value = d.deal_stage
    LEFT JOIN map_dealstage mi ON mi.value = d.dealstage
    LEFT JOIN map_deal_type tu ON tu.value = d.deal_type
    LEFT JOIN map_dealtype ti ON ti.value = d.dealtype
    LEFT JOIN map_property_dealstage mp ON mp.value = d.property_dealstage
    LEFT JOIN map_property_dealtype tp ON tp.value = d.property_dealtype
    LEFT JOIN (SELECT deal_id,
                      COALESCE(MIN(CASE WHEN type_id = '5' THEN company_id END),
                               MIN(company_id)) AS company_id
               FROM deal_company GROUP BY deal_id) dc
        ON dc.deal_id = COALESCE(d.record_id, d.hs_object_id, d.deal_id)
)
SELECT
    opportunity_id,
    account_id,
    created_at,
    CASE WHEN status IN ('won', 'lost') THEN close_at END AS closed_at,
    status,
    amount,
    type,
    'unknown' AS source,
    CAST(NULL AS VARCHAR) AS primary_contact_id,
    currency
FROM d
