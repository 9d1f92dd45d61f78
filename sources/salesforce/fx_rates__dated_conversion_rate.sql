-- object: dated_conversion_rate
-- fx_rates from Salesforce DatedConversionRate (advanced currency management).
--   currency: IsoCode; start_date: StartDate (Salesforce starts the first period on
--     0001-01-01: read as 1900-01-01, the first date revalign carries);
--   rate: 1 / ConversionRate (Salesforce gives units of the currency per unit of the
--     corporate currency; an amount converts as amount / ConversionRate).
SELECT
    iso_code AS currency,
    CASE WHEN left(start_date, 10) < '1900-01-01' THEN '1900-01-01'
         ELSE left(start_date, 10) END AS start_date,
    CAST(1.0 / TRY_CAST(conversion_rate AS DOUBLE) AS VARCHAR) AS rate
FROM dated_conversion_rate
