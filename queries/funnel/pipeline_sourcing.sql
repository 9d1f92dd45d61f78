-- pipeline_sourcing: marketing-sourced versus marketing-influenced pipeline, by month of
-- opportunity creation. Definitions: docs/attribution.md#pipeline_sourcing. Every
-- column counts new-business opportunities, except expansion_renewal_opportunities and
-- expansion_renewal_pipeline (the expansion and renewal deals created in the month).
--   marketing_sourced: the opportunity's first marketing touch in its lookback window
--     (at or before created_at) comes before its first sales touch in that window, or
--     there is no sales touch (touch evidence, whatever the CRM says);
--   recorded_marketing: opportunities whose `source` is 'marketing' in the CRM;
--   influenced: any marketing touch in the window.
-- grain: month
-- columns: month date, opportunities int, pipeline decimal(18,2),
-- columns: marketing_sourced_opportunities int,
-- columns: marketing_sourced_pipeline decimal(18,2),
-- columns: recorded_marketing_opportunities int,
-- columns: recorded_marketing_pipeline decimal(18,2), influenced_opportunities int,
-- columns: influenced_pipeline decimal(18,2), expansion_renewal_opportunities int,
-- columns: expansion_renewal_pipeline decimal(18,2)
WITH first_marketing AS (
    SELECT opportunity_id, MIN(ts) AS ts
    FROM attribution_spans
    WHERE before_creation AND kind = 'marketing'
    GROUP BY opportunity_id
),
first_sales AS (
    SELECT o.opportunity_id, MIN(t.ts) AS ts
    FROM opportunities o
    JOIN contacts c ON c.account_id = o.account_id
    JOIN touches t ON t.contact_id = c.contact_id AND t.kind = 'sales' AND t.ts <= o.created_at
    CROSS JOIN params p
    WHERE date_part('epoch', o.created_at) - date_part('epoch', t.ts) <= p.lookback_days * 86400.0
    GROUP BY o.opportunity_id
),
classified AS (
    SELECT
        CAST(date_trunc('month', o.created_at) AS DATE) AS month,
        o.amount,
        o.type = 'new_business' AS new_business,
        o.source = 'marketing' AS recorded_marketing,
        fm.ts IS NOT NULL AS influenced,
        fm.ts IS NOT NULL AND (fs.ts IS NULL OR fm.ts < fs.ts) AS marketing_sourced
    FROM opportunities o
    LEFT JOIN first_marketing fm ON fm.opportunity_id = o.opportunity_id
    LEFT JOIN first_sales fs ON fs.opportunity_id = o.opportunity_id
)
SELECT
    month,
    CAST(SUM(CASE WHEN new_business THEN 1 ELSE 0 END) AS BIGINT) AS opportunities,
    CAST(SUM(CASE WHEN new_business THEN amount ELSE 0 END) AS DECIMAL(18, 2)) AS pipeline,
    CAST(SUM(CASE WHEN new_business AND marketing_sourced THEN 1 ELSE 0 END) AS BIGINT) AS marketing_sourced_opportunities,
    CAST(SUM(CASE WHEN new_business AND marketing_sourced THEN amount ELSE 0 END) AS DECIMAL(18, 2)) AS marketing_sourced_pipeline,
    CAST(SUM(CASE WHEN new_business AND recorded_marketing THEN 1 ELSE 0 END) AS BIGINT) AS recorded_marketing_opportunities,
    CAST(SUM(CASE WHEN new_business AND recorded_marketing THEN amount ELSE 0 END) AS DECIMAL(18, 2)) AS recorded_marketing_pipeline,
    CAST(SUM(CASE WHEN new_business AND influenced THEN 1 ELSE 0 END) AS BIGINT) AS influenced_opportunities,
    CAST(SUM(CASE WHEN new_business AND influenced THEN amount ELSE 0 END) AS DECIMAL(18, 2)) AS influenced_pipeline,
    CAST(SUM(CASE WHEN new_business THEN 0 ELSE 1 END) AS BIGINT) AS expansion_renewal_opportunities,
    CAST(SUM(CASE WHEN new_business THEN 0 ELSE amount END) AS DECIMAL(18, 2)) AS expansion_renewal_pipeline
FROM classified
GROUP BY month
ORDER BY month
