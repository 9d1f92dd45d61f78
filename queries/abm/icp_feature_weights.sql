-- icp_feature_weights: the explainable ICP model. For every firmographic feature level
-- (industry, size_band, region, technology, and the industry / size_band / region
-- segment) the closed new-business opportunities of its accounts, the raw win rate,
-- the win rate shrunk toward the overall rate, and the weight the level adds to an
-- account's ICP log-odds.
--   train_set 'all': opportunities closed by the report end (the model behind
--        account_scores); 'holdout': closed before params.icp_cutoff (the model that
--        icp_model_quality tests on the later closes).
--   Smoothing (empirical Bayes, beta-binomial): per train_set and feature, the
--        intra-level correlation rho of won/lost outcomes is estimated by the one-way
--        ANOVA estimator for binary data (Fleiss 1981; Ridout, Demetrio & Firth 1999),
--        which stays unbiased though the pooled rate is estimated from the same data:
--        over the K levels with closes (n_i closes, rate r_i, N = sum n_i, pooled rate
--        p_bar), MSB = sum n_i (r_i - p_bar)^2 / (K - 1), MSW = sum n_i r_i (1 - r_i) /
--        (N - K), n0 = (N - sum n_i^2 / N) / (K - 1), rho = (MSB - MSW) / (MSB + (n0 - 1)
--        MSW); undefined or <= 1e-6 -> 1e-6 (levels pooled to p0), >= 0.999 -> 0.999.
--        The prior Beta(m p0, m (1 - p0)) has strength m = 1/rho - 1 pseudo-opportunities
--        and smoothed_win_rate = (won + m p0) / (n + m). docs/metrics.md has the details.
--   weight = logit(smoothed_win_rate) - logit(p0) (0 when p0 is 0 or 1).
-- grain: train_set, feature, level
-- columns: train_set text, feature text, level text, opportunities int, won int,
-- columns: win_rate float, smoothed_win_rate float, overall_win_rate float,
-- columns: prior_strength float, avg_deal float, weight float
WITH closed AS (
    SELECT o.account_id, CASE WHEN o.status = 'won' THEN 1 ELSE 0 END AS won, o.amount, o.closed_at
    FROM opportunities o
    WHERE o.type = 'new_business' AND o.status IN ('won', 'lost')
),
labelled AS (
    SELECT 'all' AS train_set, account_id, won, amount FROM closed
    UNION ALL
    SELECT 'holdout' AS train_set, c.account_id, c.won, c.amount
    FROM closed c CROSS JOIN params p
    WHERE c.closed_at < p.icp_cutoff
),
overall AS (
    SELECT train_set, CAST(SUM(won) AS DOUBLE) / COUNT(*) AS p0
    FROM labelled
    GROUP BY train_set
),
counts AS (
    SELECT
        l.train_set,
        v.feature,
        v.level,
        COUNT(*) AS opportunities,
        CAST(SUM(l.won) AS BIGINT) AS won,
        CAST(AVG(CASE WHEN l.won = 1 THEN l.amount END) AS DOUBLE) AS avg_deal
    FROM labelled l
    JOIN icp_levels v ON v.account_id = l.account_id
    GROUP BY l.train_set, v.feature, v.level
),
-- The prior is estimated from the levels' own spread. One-way ANOVA of the 0/1
-- outcomes by level (Fleiss 1981; Ridout, Demetrio & Firth 1999): the pooled
-- rate p_bar of the levels is estimated from the same data, so the between-level sum
-- of squares has K - 1 degrees of freedom and is set against the within-level one:
--   BSS = sum n_i (r_i - p_bar)^2, WSS = sum n_i r_i (1 - r_i),
--   MSB = BSS / (K - 1), MSW = WSS / (N - K), n0 = (N - sum n_i^2 / N) / (K - 1),
--   rho = (MSB - MSW) / (MSB + (n0 - 1) MSW)   (at most 1).
-- Undefined (K < 2, N = K, or no variance at all) or rho <= 1e-6: rho = 1e-6, so the
-- levels are pooled to p0 (m = 999999); rho >= 0.999: rho = 0.999 (m = 0.001001), so
-- a level won or lost throughout keeps a finite weight.
level_totals AS (
    SELECT
        train_set,
        feature,
        COUNT(*) AS k,
        SUM(opportunities) AS n_total,
        CAST(SUM(won) AS DOUBLE) / SUM(opportunities) AS p_bar,
        CAST(SUM(opportunities * opportunities) AS DOUBLE) / SUM(opportunities) AS n_sq_over_n,
        CAST(SUM(CAST(CAST(won AS DOUBLE) * (opportunities - won) / opportunities AS DECIMAL(38, 12))) AS DOUBLE) AS wss
    FROM counts
    GROUP BY train_set, feature
),
moments AS (
    SELECT
        t.train_set,
        t.feature,
        t.k,
        t.n_total,
        t.wss,
        t.n_sq_over_n,
        CAST(SUM(CAST(c.opportunities * (CAST(c.won AS DOUBLE) / c.opportunities - t.p_bar)
                            * (CAST(c.won AS DOUBLE) / c.opportunities - t.p_bar) AS DECIMAL(38, 18))) AS DOUBLE) AS bss
    FROM level_totals t
    JOIN counts c ON c.train_set = t.train_set AND c.feature = t.feature
    GROUP BY t.train_set, t.feature, t.k, t.n_total, t.wss, t.n_sq_over_n
),
mean_squares AS (
    SELECT
        train_set,
        feature,
        bss / NULLIF(k - 1, 0) AS msb,
        wss / NULLIF(n_total - k, 0) AS msw,
        (n_total - n_sq_over_n) / NULLIF(k - 1, 0) AS n0
    FROM moments
),
intraclass AS (
    SELECT
        train_set,
        feature,
        (msb - msw) / NULLIF(msb + (n0 - 1.0) * msw, 0.0) AS rho
    FROM mean_squares
),
priors AS (
    SELECT
        i.train_set,
        i.feature,
        o.p0,
        1.0 / GREATEST(LEAST(COALESCE(i.rho, 1e-6), 0.999), 1e-6) - 1.0 AS prior_strength
    FROM intraclass i
    JOIN overall o ON o.train_set = i.train_set
),
smoothed AS (
    SELECT
        c.train_set,
        c.feature,
        c.level,
        c.opportunities,
        c.won,
        CAST(c.won AS DOUBLE) / c.opportunities AS win_rate,
        c.avg_deal,
        p.p0 AS overall_win_rate,
        p.prior_strength,
        (c.won + p.prior_strength * p.p0) / (c.opportunities + p.prior_strength) AS smoothed_win_rate
    FROM counts c
    JOIN priors p ON p.train_set = c.train_set AND p.feature = c.feature
)
SELECT
    train_set,
    feature,
    level,
    opportunities,
    won,
    win_rate,
    smoothed_win_rate,
    overall_win_rate,
    prior_strength,
    avg_deal,
    CASE
        WHEN overall_win_rate <= 0 OR overall_win_rate >= 1 THEN 0.0
        ELSE ln(smoothed_win_rate / (1 - smoothed_win_rate))
           - ln(overall_win_rate / (1 - overall_win_rate))
    END AS weight
FROM smoothed
ORDER BY train_set, feature, level
