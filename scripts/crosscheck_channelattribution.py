"""Cross-check revalign's attribution against the ChannelAttribution package (PyPI).

Usage (after `revalign generate --out DATA` and `revalign run --data DATA --out OUT`):
    pip install duckdb pandas channelattribution matplotlib
    python3 scripts/crosscheck_channelattribution.py DATA OUT YYYY-MM

Paths are rebuilt from the published `attribution_credit` table (the linear model has a
row for every window touch), for closed opportunities with at least one touch; a path
converts when the opportunity was won. ChannelAttribution's heuristic first / last /
linear conversions must equal revalign's credit sums exactly; its Markov results are
simulated, so they agree with revalign's exact solution only within sampling noise.
"""
import sys

import duckdb
from ChannelAttribution import heuristic_models, markov_model

data, out, month = sys.argv[1], sys.argv[2], sys.argv[3]
credit = f"read_parquet('{out}/tables/attribution_credit/report_month={month}/*.parquet')"
opps = f"read_parquet('{data}/opportunities.parquet')"
closed = f"""
  SELECT c.opportunity_id, c.model, c.channel, c.credit, c.touch_ts, c.touch_id,
         (c.revenue_credit > 0 OR o.status = 'won') AS won
  FROM {credit} c JOIN {opps} o USING (opportunity_id)
  WHERE o.status IN ('won', 'lost') AND o.closed_at < DATE '{month}-01' + INTERVAL 1 MONTH
    AND c.touch_id IS NOT NULL"""
paths = duckdb.sql(f"""
  SELECT string_agg(channel, '>' ORDER BY touch_ts, touch_id) AS path,
         MAX(CASE WHEN won THEN 1 ELSE 0 END) AS conv, 1 - MAX(CASE WHEN won THEN 1 ELSE 0 END) AS null_
  FROM ({closed}) WHERE model = 'linear' GROUP BY opportunity_id""").df()
agg = paths.groupby("path", as_index=False)[["conv", "null_"]].sum()

ours = duckdb.sql(f"""
  SELECT channel, model, SUM(credit) AS conversions FROM ({closed})
  WHERE won AND model IN ('first_touch', 'last_touch', 'linear') GROUP BY ALL""").df()
theirs = heuristic_models(agg, "path", "conv", flg_pro=False)
worst = 0.0
for model, col in [("first_touch", "first_touch"), ("last_touch", "last_touch"), ("linear", "linear_touch")]:
    for _, row in theirs.iterrows():
        mine = ours[(ours.model == model) & (ours.channel == row.channel_name)].conversions.sum()
        worst = max(worst, abs(mine - row[col]))
print(f"heuristics: {len(agg)} distinct paths, {int(agg.conv.sum())} conversions; "
      f"largest |revalign - ChannelAttribution| over first/last/linear x channels = {worst:.2e}")

markov = duckdb.sql(f"SELECT channel, conversions, share FROM read_parquet('{out}/tables/attribution_markov/report_month={month}/*.parquet')").df()
sim = markov_model(agg, "path", "conv", var_null="null_", order=1, nsim_start=1e6, seed=0, verbose=False, flg_pro=False)
res = sim["result"] if isinstance(sim, dict) else sim
print("markov (order 1): channel, revalign exact conversions, ChannelAttribution simulated")
for _, row in res.sort_values("channel_name").iterrows():
    mine = markov[markov.channel == row.channel_name].conversions.sum()
    print(f"  {row.channel_name:<16} {mine:9.3f} {row.total_conversions:9.3f}  diff {row.total_conversions - mine:+.3f}")
