-- attribution_channel: month of opportunity creation x channel x model, every rule
-- model plus 'markov' side by side. Definitions: docs/attribution.md.
--   opportunities: fractional opportunities (sum of credit); pipeline, revenue: credited
--   amounts (revenue of won opportunities, by creation month: a cohort view);
--   spend: spend of the same month and channel; roas = revenue / spend;
--   pipeline_per_spend = pipeline / spend (both NULL when the inputs hold no touch that
--   attribution counts: no marketing touches, nor touches with include_sales_touches).
-- markov rows: each opportunity's credit is split over the distinct channels of its
-- window journey in proportion to their Markov removal effects (equally when those are
-- all zero), so they too sum to 1 per opportunity and reconcile with bookings; none
-- when no journey ended lost (attribution_markov is then empty).
-- grain: month, channel, model
-- columns: month date, channel text, model text, opportunities float, pipeline float,
-- columns: revenue float, spend float, roas float, pipeline_per_spend float
WITH models AS (
    SELECT model FROM attribution_models
    -- No markov rows at all when the model was not fitted (not even zero rows for spend).
    WHERE kind = 'rule' OR EXISTS (SELECT 1 FROM attribution_markov)
),
journey_channels AS (
    SELECT DISTINCT j.opportunity_id, j.channel, COALESCE(m.removal_effect, 0.0) AS removal_effect
    FROM attribution_journey j
    LEFT JOIN attribution_markov m ON m.channel = j.channel
    WHERE j.kept
),
markov_split AS (
    SELECT
        opportunity_id,
        channel,
        CASE
            WHEN CAST(SUM(CAST(removal_effect AS DECIMAL(38, 30))) OVER (PARTITION BY opportunity_id) AS DOUBLE) > 0.0
                THEN removal_effect / CAST(SUM(CAST(removal_effect AS DECIMAL(38, 30))) OVER (PARTITION BY opportunity_id) AS DOUBLE)
            ELSE 1.0 / COUNT(*) OVER (PARTITION BY opportunity_id)
        END AS credit
    FROM journey_channels
),
markov_rows AS (
    SELECT
        CAST(date_trunc('month', o.created_at) AS DATE) AS month,
        COALESCE(s.channel, '(none)') AS channel,
        COALESCE(s.credit, 1.0) AS credit,
        COALESCE(s.credit, 1.0) * CAST(o.amount AS DOUBLE) AS pipeline_credit,
        CASE WHEN o.status = 'won' THEN COALESCE(s.credit, 1.0) * CAST(o.amount AS DOUBLE) ELSE 0.0 END AS revenue_credit
    FROM opportunities o
    LEFT JOIN markov_split s ON s.opportunity_id = o.opportunity_id
    -- A Markov chain fitted on converting journeys only has nothing to remove: when no
    -- journey ended lost the model is not fitted, and there are no markov rows.
    WHERE EXISTS (SELECT 1 FROM attribution_markov)
),
credited AS (
    SELECT opportunity_month AS month, channel, model,
           CAST(SUM(credit) AS DOUBLE) AS opportunities,
           CAST(SUM(pipeline_credit) AS DOUBLE) AS pipeline,
           CAST(SUM(revenue_credit) AS DOUBLE) AS revenue
    FROM attribution_credit_cells
    GROUP BY opportunity_month, channel, model
    UNION ALL
    SELECT month, channel, 'markov', CAST(SUM(CAST(credit AS DECIMAL(38, 18))) AS DOUBLE), CAST(SUM(CAST(pipeline_credit AS DECIMAL(38, 12))) AS DOUBLE),
           CAST(SUM(CAST(revenue_credit AS DECIMAL(38, 12))) AS DOUBLE)
    FROM markov_rows
    GROUP BY month, channel
),
spend_by_month AS (
    SELECT CAST(date_trunc('month', month) AS DATE) AS month, channel, CAST(SUM(amount) AS DOUBLE) AS spend
    FROM spend
    GROUP BY 1, 2
),
-- Whether any touch can earn credit: without one, every channel's ROAS would read 0
-- for want of touches, not of results, so it is NULL.
attributable AS (
    SELECT available AS attributable FROM coverage WHERE fact = 'attributable_touches'
),
keys AS (
    SELECT month, channel, model FROM credited
    UNION
    SELECT s.month, s.channel, m.model FROM spend_by_month s CROSS JOIN models m
)
SELECT
    k.month,
    k.channel,
    k.model,
    COALESCE(c.opportunities, 0.0) AS opportunities,
    COALESCE(c.pipeline, 0.0) AS pipeline,
    COALESCE(c.revenue, 0.0) AS revenue,
    s.spend,
    CASE WHEN at.attributable THEN COALESCE(c.revenue, 0.0) / NULLIF(s.spend, 0.0) END AS roas,
    CASE WHEN at.attributable THEN COALESCE(c.pipeline, 0.0) / NULLIF(s.spend, 0.0) END
        AS pipeline_per_spend
FROM keys k
CROSS JOIN attributable at
LEFT JOIN credited c ON c.month = k.month AND c.channel = k.channel AND c.model = k.model
LEFT JOIN spend_by_month s ON s.month = k.month AND s.channel = k.channel
ORDER BY k.month, k.channel, k.model
