-- month_spine: the queries' one calendar of months, from the first month of any dated
-- input (the earliest first_date in coverage) to the report month. An output that
-- starts later (at its first subscription, its first opportunity) filters it.
--   month: the first day of the month;
--   month_last_day: its last day (a DATE: "active on the month's last day");
--   month_end: the first instant after the month, UTC (timestamps compare `< month_end`).
-- grain: month
WITH months AS (
    SELECT CAST(unnest(generate_series(
               CAST(date_trunc('month', MIN(c.first_date)) AS DATE),
               MAX(p.report_month),
               INTERVAL '1 month')) AS DATE) AS month
    FROM coverage c CROSS JOIN params p
)
SELECT
    month,
    CAST(month + INTERVAL '1 month' - INTERVAL '1 day' AS DATE) AS month_last_day,
    arrow_cast(CAST(month + INTERVAL '1 month' AS TIMESTAMP),
               'Timestamp(Microsecond, Some("UTC"))') AS month_end
FROM months
