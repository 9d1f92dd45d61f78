//! Spend per channel and campaign, fully loaded costs and monthly targets, from the
//! totals of the generated funnel.

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{Ctx, GenerateOptions, Sinks, Totals};
use crate::config::date_to_days;
use crate::error::Result;

pub(super) fn spend_costs_targets(
    options: &GenerateOptions,
    ctx: &Ctx,
    s: &mut Sinks,
    totals: &Totals,
) -> Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed ^ 0x5EED_5EED);
    let scale = options.accounts as f64 / 2000.0;
    let mut marketing_spend: BTreeMap<i32, i64> = BTreeMap::new();
    // Spend: media cost of the touches, with monthly noise; fixed content production.
    let mut spend_rows: BTreeMap<(i32, usize, String), i64> = BTreeMap::new();
    for ((m, chi, campaign), n) in &totals.touches {
        if *m < 0 || *m >= ctx.months || ctx.channels[*chi].cost_per_touch == 0 {
            continue;
        }
        let noise = rng.gen_range(0.85..1.15);
        let cents = (*n as f64 * ctx.channels[*chi].cost_per_touch as f64 * noise) as i64;
        *spend_rows.entry((*m, *chi, campaign.clone())).or_default() += cents;
    }
    for ((m, chi, campaign), cents) in spend_rows {
        let month = ctx.start.plus(m).first_day();
        s.spend
            .date(date_to_days(month))
            .text(ctx.channels[chi].name)
            .opt_text((!campaign.is_empty()).then_some(campaign.as_str()))
            .money(cents);
        s.spend.end_row()?;
        *marketing_spend.entry(m).or_default() += cents;
    }
    for m in 0..ctx.months {
        let day = date_to_days(ctx.start.plus(m).first_day());
        let growth = 0.7 + 0.6 * m as f64 / ctx.months as f64;
        let media = *marketing_spend.get(&m).unwrap_or(&0);
        let rows = [
            (
                "marketing",
                media / 2 + (1_200_000.0 * scale * growth) as i64,
            ),
            ("sales", (3_500_000.0 * scale * growth) as i64),
            ("customer_success", (1_000_000.0 * scale * growth) as i64),
        ];
        for (function, cents) in rows {
            s.costs.date(day).text(function).money(cents);
            s.costs.end_row()?;
        }
        // Targets: volume targets 8% above the trailing three months, fixed rate targets.
        let trailing = |map: &BTreeMap<i32, i64>| -> Option<f64> {
            (m >= 3).then(|| {
                (m - 3..m)
                    .map(|i| *map.get(&i).unwrap_or(&0) as f64)
                    .sum::<f64>()
                    / 3.0
                    * 1.08
            })
        };
        let mut targets: Vec<(&str, f64)> = vec![
            ("mql_sla_rate", 0.6),
            ("never_touched_share", 0.25),
            ("mql_to_sql_rate", 0.2),
            ("win_rate", 0.5),
            ("avg_sales_cycle_days", 110.0),
            ("ltv_to_cac", 3.0),
            ("cac_payback_months", 12.0),
            ("nrr", 1.05),
            ("grr", 0.85),
            ("logo_churn_rate", 0.02),
            ("target_account_engagement", 0.95),
            ("open_committee_coverage", 0.6),
        ];
        if let Some(t) = trailing(&totals.mqls) {
            targets.push(("mqls", t.round()));
        }
        if let Some(t) = trailing(&totals.pipeline) {
            targets.push(("pipeline_created", (t / 100.0).round()));
        }
        if let Some(t) = trailing(&totals.bookings) {
            targets.push(("bookings", (t / 100.0).round()));
        }
        for (metric, target) in targets {
            s.targets
                .date(day)
                .text(metric)
                .float(target)
                .opt_text(None);
            s.targets.end_row()?;
        }
    }
    Ok(())
}
