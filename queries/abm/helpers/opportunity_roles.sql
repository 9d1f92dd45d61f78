-- opportunity_roles: when each buying-committee role became covered on each
-- opportunity. The committee is the five roles economic_buyer, technical_buyer,
-- procurement, influencer and champion (end_user and unknown do not count). A role is
-- covered by a contact of the opportunity's account with that role
--   - listed on the opportunity in opportunity_contacts: covered from its creation. The
--     role is the opportunity contact role when it is given (Salesforce
--     OpportunityContactRole.Role, lower-cased, spaces as underscores; 'Decision Maker'
--     counts as economic_buyer, 'Executive Sponsor' as champion, 'Evaluator' as
--     technical_buyer, 'Business User' as end_user), else contacts.role;
--   - or engaged: a touch (marketing or sales) from lookback_days before the
--     opportunity's creation up to its close (or the report end), with contacts.role:
--     covered from the first such touch.
-- covered_at is the earliest of these; a role is covered "by" a date when
-- covered_at <= that date.
-- grain: opportunity_id, role
WITH committee_contacts AS (
    SELECT contact_id, account_id, role
    FROM contacts
    WHERE role IN ('economic_buyer', 'technical_buyer', 'procurement', 'influencer', 'champion')
),
listed AS (
    SELECT oc.opportunity_id, o.created_at,
           CASE WHEN oc.role IS NULL OR trim(oc.role) = '' THEN c.role
                ELSE CASE replace(lower(trim(oc.role)), ' ', '_')
                         WHEN 'decision_maker' THEN 'economic_buyer'
                         WHEN 'executive_sponsor' THEN 'champion'
                         WHEN 'evaluator' THEN 'technical_buyer'
                         WHEN 'business_user' THEN 'end_user'
                         ELSE replace(lower(trim(oc.role)), ' ', '_') END
           END AS role
    FROM opportunity_contacts oc
    JOIN contacts c ON c.contact_id = oc.contact_id
    JOIN opportunities o ON o.opportunity_id = oc.opportunity_id
),
on_opportunity AS (
    SELECT opportunity_id, role, created_at AS covered_at
    FROM listed
    WHERE role IN ('economic_buyer', 'technical_buyer', 'procurement', 'influencer', 'champion')
),
engaged AS (
    SELECT o.opportunity_id, c.role, MIN(t.ts) AS covered_at
    FROM opportunities o
    JOIN committee_contacts c ON c.account_id = o.account_id
    JOIN touches t ON t.contact_id = c.contact_id
    CROSS JOIN params p
    WHERE date_part('epoch', o.created_at) - date_part('epoch', t.ts) <= p.lookback_days * 86400
      AND (o.closed_at IS NULL OR t.ts <= o.closed_at)
    GROUP BY o.opportunity_id, c.role
)
SELECT opportunity_id, role, MIN(covered_at) AS covered_at
FROM (
    SELECT opportunity_id, role, covered_at FROM on_opportunity
    UNION ALL
    SELECT opportunity_id, role, covered_at FROM engaged
) r
GROUP BY opportunity_id, role
