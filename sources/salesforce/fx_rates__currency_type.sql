-- object: currency_type
-- fx_rates from Salesforce CurrencyType (one rate per currency, in force from the
-- first date revalign carries), for the currencies DatedConversionRate does not give.
--   rate: 1 / ConversionRate, as for DatedConversionRate.
SELECT
    c.iso_code AS currency,
    '1900-01-01' AS start_date,
    CAST(1.0 / TRY_CAST(c.conversion_rate AS DOUBLE) AS VARCHAR) AS rate
FROM currency_type c
WHERE c.iso_code NOT IN (SELECT iso_code FROM dated_conversion_rate WHERE iso_code IS NOT NULL)
