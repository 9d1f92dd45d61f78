-- buying_committee: does working more of the buying committee win more deals? Closed
-- new-business opportunities (won or lost, as of the report end) by coverage bucket: the number of
-- distinct known roles (contacts.role other than 'unknown') among the opportunity's
-- contacts in opportunity_contacts: '0' (none known or no contact roles), '1', '2',
-- '3', '4+'.
--   win_rate = won / closed; avg_deal = average amount of the won ones;
--   avg_days_to_close = average days from creation to close over the closed ones.
-- grain: coverage
-- requires: opportunity_contacts
WITH roles AS (
    SELECT oc.opportunity_id, COUNT(DISTINCT c.role) AS known_roles
    FROM opportunity_contacts oc
    JOIN contacts c ON c.contact_id = oc.contact_id
    WHERE c.role <> 'unknown'
    GROUP BY oc.opportunity_id
),
closed AS (
    SELECT
        o.opportunity_id,
        o.status,
        o.amount,
        (date_part('epoch', o.closed_at) - date_part('epoch', o.created_at)) / 86400.0 AS days_to_close,
        COALESCE(r.known_roles, 0) AS known_roles
    FROM opportunities o
    LEFT JOIN roles r ON r.opportunity_id = o.opportunity_id
    WHERE o.status IN ('won', 'lost') AND o.type = 'new_business'
)
SELECT
    CASE WHEN known_roles >= 4 THEN '4+' ELSE CAST(known_roles AS VARCHAR) END AS coverage,
    COUNT(*) AS opportunities,
    CAST(SUM(CASE WHEN status = 'won' THEN 1 ELSE 0 END) AS BIGINT) AS won,
    CAST(SUM(CASE WHEN status = 'won' THEN 1 ELSE 0 END) AS DOUBLE) / COUNT(*) AS win_rate,
    AVG(CASE WHEN status = 'won' THEN CAST(amount AS DOUBLE) END) AS avg_deal,
    AVG(days_to_close) AS avg_days_to_close
FROM closed
GROUP BY 1
ORDER BY 1
