-- buying_committee: does working more of the buying committee win more deals? Closed
-- new-business opportunities (won or lost, as of the report end) by the number of
-- committee roles covered by their close (opportunity_roles: on the opportunity, or
-- engaged from lookback_days before creation up to the close).
--   roles_covered 0..5; coverage = roles_covered / 5;
--   win_rate = won / closed; avg_deal = average amount of the won ones;
--   avg_days_to_close = average days from creation to close over the closed ones.
-- grain: roles_covered
-- columns: roles_covered int, coverage float, opportunities int, won int,
-- columns: win_rate float, avg_deal float, avg_days_to_close float
-- needs: buying_roles, lost_new_business
WITH closed AS (
    SELECT
        o.opportunity_id,
        o.status,
        o.amount,
        o.closed_at,
        (date_part('epoch', o.closed_at) - date_part('epoch', o.created_at)) / 86400.0 AS days_to_close
    FROM opportunities o
    WHERE o.status IN ('won', 'lost') AND o.type = 'new_business'
),
covered AS (
    SELECT c.opportunity_id, c.status, c.amount, c.days_to_close, COUNT(r.role) AS roles_covered
    FROM closed c
    LEFT JOIN opportunity_roles r
        ON r.opportunity_id = c.opportunity_id AND r.covered_at <= c.closed_at
    GROUP BY c.opportunity_id, c.status, c.amount, c.days_to_close
)
SELECT
    roles_covered,
    roles_covered / 5.0 AS coverage,
    COUNT(*) AS opportunities,
    CAST(SUM(CASE WHEN status = 'won' THEN 1 ELSE 0 END) AS BIGINT) AS won,
    CAST(SUM(CASE WHEN status = 'won' THEN 1 ELSE 0 END) AS DOUBLE) / COUNT(*) AS win_rate,
    CAST(AVG(CASE WHEN status = 'won' THEN amount END) AS DOUBLE) AS avg_deal,
    CAST(SUM(CAST(days_to_close AS DECIMAL(38, 12))) AS DOUBLE) / COUNT(days_to_close) AS avg_days_to_close
FROM covered
GROUP BY roles_covered
ORDER BY roles_covered
