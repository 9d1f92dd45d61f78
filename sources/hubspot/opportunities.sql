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
WITH d AS (
    SELECT
        COALESCE(d.record_id, d.hs_object_id, d.deal_id) AS opportunity_id,
        COALESCE(d.associated_company_id, d.associatedcompanyid,
                 NULLIF(trim(split_part(d.associated_company_ids, ';', 1)), '')) AS account_id,
        (COALESCE(d.create_date, d.createdate)) AS created_at,
        (COALESCE(d.close_date, d.closedate)) AS close_at,
        COALESCE(ms.mapped, mi.mapped, 'open') AS status,
        d.amount,
        COALESCE(tu.mapped, ti.mapped, 'new_business') AS type,
        COALESCE(d.deal_currency_code, d.currency) AS currency
    FROM deal d
    LEFT JOIN map_deal_stage ms ON ms.value = d.deal_stage
    LEFT JOIN map_dealstage mi ON mi.value = d.dealstage
    LEFT JOIN map_deal_type tu ON tu.value = d.deal_type
    LEFT JOIN map_dealtype ti ON ti.value = d.dealtype
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
