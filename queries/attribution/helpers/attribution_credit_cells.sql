-- attribution_credit_cells: the credit ledger summed once per model, opportunity month,
-- channel and campaign, for attribution_channel and attribution_campaign (each would
-- otherwise scan the whole ledger: 15M rows at 10M touches of long journeys). The sums
-- are exact decimals, so summing them again (over campaigns, for the channel grain)
-- gives the same value as summing the ledger's rows directly.
-- grain: model, opportunity_month, channel, campaign_id
SELECT
    model,
    opportunity_month,
    channel,
    campaign_id,
    SUM(CAST(credit AS DECIMAL(38, 18))) AS credit,
    SUM(CAST(pipeline_credit AS DECIMAL(38, 12))) AS pipeline_credit,
    SUM(CAST(revenue_credit AS DECIMAL(38, 12))) AS revenue_credit
FROM attribution_credit
GROUP BY model, opportunity_month, channel, campaign_id
