-- icp_levels: the ICP model's features of every CRM account, one row per feature level:
-- industry, size_band, region, segment (industry / size_band / region) and one row
-- per technology (firmographics). Helper of icp_feature_weights and icp_account_fit.
-- grain: account_id, feature, level
-- needs: won_new_business, lost_new_business, firmographic_variety
SELECT id AS account_id, 'industry' AS feature, industry AS level FROM firmographics WHERE source = 'account'
UNION ALL
SELECT id AS account_id, 'size_band' AS feature, size_band AS level FROM firmographics WHERE source = 'account'
UNION ALL
SELECT id AS account_id, 'region' AS feature, region AS level FROM firmographics WHERE source = 'account'
UNION ALL
SELECT id AS account_id, 'segment' AS feature, industry || ' / ' || size_band || ' / ' || region AS level
FROM firmographics WHERE source = 'account'
UNION ALL
SELECT id AS account_id, 'technology' AS feature, technology AS level
FROM firmographic_technologies WHERE source = 'account'
