-- lookalikes: the data provider's companies ranked by resemblance to the best
-- customers (lookalike_scores), so marketing gets new companies to target.
--   account_id / is_account: the CRM account the company is (firmographics link:
--        domain, else company_id = account_id); is_customer: that account is a
--        customer at the report end;
--   lookalike_score, lookalike_of, lookalike_rank: lookalike_scores, ranked over
--        companies whose account never was a customer (NULL for customers and former
--        customers).
-- grain: company_id
-- columns: company_id text, name text, domain text, industry text, size_band text,
-- columns: region text, technologies text, account_id text, is_account bool,
-- columns: is_customer bool, lookalike_score float, lookalike_of text,
-- columns: lookalike_rank int
-- requires: companies
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
    l.lookalike_score,
    l.lookalike_of,
    l.lookalike_rank
FROM firmographics f
LEFT JOIN lookalike_scores l ON l.source = 'company' AND l.id = f.id
LEFT JOIN account_value v ON v.account_id = f.account_id
WHERE f.source = 'company'
ORDER BY f.id
