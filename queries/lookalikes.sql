-- lookalikes: the data provider's companies ranked by resemblance to the best
-- customers (lookalike_scores), so marketing gets new companies to target.
--   account_id / is_account: the CRM account the company is (firmographics link:
--        domain, else company_id = account_id); is_customer: that account is a
--        customer at the report end;
--   lookalike_rank: 1 = most similar, over companies whose account never was a
--        customer (NULL for customers and former customers); equal scores rank by the
--        value of the customer they resemble, then company_id.
-- grain: company_id
-- requires: companies
WITH ranked AS (
    SELECT
        l.id AS company_id,
        l.lookalike_score,
        l.lookalike_of,
        ROW_NUMBER() OVER (ORDER BY l.lookalike_score DESC, v.value DESC, l.id) AS lookalike_rank
    FROM lookalike_scores l
    JOIN account_value v ON v.account_id = l.lookalike_of
    WHERE l.source = 'company'
)
SELECT
    f.id AS company_id,
    f.name,
    f.domain,
    f.industry,
    f.size_band,
    f.region,
    f.tech_key AS technologies,
    f.account_id,
    f.account_id IS NOT NULL AS is_account,
    COALESCE(v.is_customer, false) AS is_customer,
    r.lookalike_score,
    r.lookalike_of,
    CAST(r.lookalike_rank AS BIGINT) AS lookalike_rank
FROM firmographics f
LEFT JOIN ranked r ON r.company_id = f.id
LEFT JOIN account_value v ON v.account_id = f.account_id
WHERE f.source = 'company'
ORDER BY f.id
