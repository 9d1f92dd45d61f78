//! Subscriptions of won accounts: starts, expansions, contractions, churn (a beta mix
//! of monthly hazards, as the sBG model assumes) and reactivations.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Beta, Distribution};

use super::{date_of, days_of, micros_of, month_index, Ctx, Ids, Sinks, Totals, DAY};
use crate::config::Month;
use crate::error::Result;

/// Subscription history of a customer from its first win.
#[allow(clippy::too_many_arguments)]
pub(super) fn subscriptions(
    rng: &mut ChaCha8Rng,
    ctx: &Ctx,
    s: &mut Sinks,
    ids: &mut Ids,
    totals: &mut Totals,
    account_id: &str,
    contact_id: &str,
    won_at: i64,
    amount: i64,
    fit: f64,
) -> Result<()> {
    struct Row {
        id: String,
        start: i32,
        end: Option<i32>,
        mrr: i64,
        product: &'static str,
    }
    let base_mrr = (amount / 12).max(100);
    let mean_hazard = (0.035 * (1.55 - fit)).clamp(0.005, 0.2);
    let alpha = 1.1;
    let hazard = Beta::new(alpha, alpha * (1.0 - mean_hazard) / mean_hazard)
        .expect("beta")
        .sample(rng);
    let mut rows: Vec<Row> = vec![Row {
        id: ids.next('S', 3).to_string(),
        start: days_of(won_at),
        end: None,
        mrr: base_mrr,
        product: "core",
    }];
    let mut active = true;
    let mut month = Month::of(date_of(won_at)).next();
    let last = Month::of(date_of(ctx.end_us - 1));
    while month <= last {
        let day = micros_of(month.first_day()) + rng.gen_range(0..27) * DAY;
        let d = days_of(day);
        let u = rng.gen::<f64>();
        if active {
            if u < hazard {
                for r in rows.iter_mut().filter(|r| r.end.is_none()) {
                    r.end = Some(d);
                }
                active = false;
            } else if u < hazard + 0.022 * (0.5 + fit) {
                let mrr = (base_mrr as f64 * rng.gen_range(0.15..0.5)) as i64;
                rows.push(Row {
                    id: ids.next('S', 3).to_string(),
                    start: d,
                    end: None,
                    mrr,
                    product: "addon",
                });
                let opportunity_id = ids.next('O', 2).to_string();
                s.opportunities
                    .text(&opportunity_id)
                    .text(account_id)
                    .ts(day - 30 * DAY)
                    .ts(day)
                    .text("won")
                    .money(mrr * 12)
                    .text("expansion")
                    .text("customer_success")
                    .text(contact_id);
                s.opportunities.end_row()?;
                *totals
                    .bookings
                    .entry(month_index(ctx.start, day))
                    .or_default() += mrr * 12;
            } else if u < hazard + 0.022 * (0.5 + fit) + 0.012 {
                if let Some(addon) = rows
                    .iter_mut()
                    .find(|r| r.end.is_none() && r.product == "addon")
                {
                    addon.end = Some(d);
                } else if let Some(core) = rows.iter_mut().find(|r| r.end.is_none()) {
                    core.end = Some(d);
                    let mrr = (core.mrr as f64 * rng.gen_range(0.6..0.9)) as i64;
                    rows.push(Row {
                        id: ids.next('S', 3).to_string(),
                        start: d,
                        end: None,
                        mrr,
                        product: "core",
                    });
                }
            }
        } else if u < 0.035 {
            let mrr = (base_mrr as f64 * rng.gen_range(0.7..1.1)) as i64;
            rows.push(Row {
                id: ids.next('S', 3).to_string(),
                start: d,
                end: None,
                mrr,
                product: "core",
            });
            active = true;
        }
        month = month.next();
    }
    for r in rows {
        s.subscriptions
            .text(&r.id)
            .text(account_id)
            .date(r.start)
            .opt_date(r.end)
            .money(r.mrr)
            .text(r.product);
        s.subscriptions.end_row()?;
    }
    Ok(())
}
