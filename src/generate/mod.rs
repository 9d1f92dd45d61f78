//! Deterministic synthetic funnel data: the built-in demo and benchmark inputs.
//!
//! The generator simulates a growing B2B SaaS company so that every output tells a
//! true story, not noise:
//! - ten marketing channels with different volumes, costs and lead quality;
//! - accounts with firmographics and technologies; a hidden ICP fit drives how much
//!   they engage, how often their MQLs become SQLs, how often they win and how long
//!   they stay;
//! - MQLs that sales often never touches, or touches only once or twice;
//! - three-to-six-month sales cycles, so one-month ROI understates channels;
//! - buying committees: opportunities that engage more roles win more often;
//! - subscriptions with heterogeneous churn (a beta mix of monthly hazards, as the
//!   sBG model assumes), expansions, contractions and reactivations;
//! - spend per channel and campaign, fully loaded costs and monthly targets;
//! - a data provider's company universe (`companies`), five times the CRM, with the
//!   CRM accounts inside it.
//!
//! Same options, same bytes: each account draws from its own seeded ChaCha stream,
//! and every aggregate is kept in ordered maps.
//!
//! One submodule per thing generated: `market` (channels, industries, regions, roles:
//! what is drawn from), `companies` (firmographics, the provider universe), `journeys`
//! (an account's contacts, touches, stages, opportunities and committees), `revenue`
//! (subscriptions), `spend` (spend, costs, targets); `sink` writes the files.

mod companies;
mod journeys;
mod market;
mod revenue;
pub mod sink;
mod spend;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use chrono::NaiveDate;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::config::{date_to_days, Month};
use crate::error::{IoContext, Result};
use crate::schema;
use companies::prospect_companies;
use journeys::account;
pub use sink::FileFormat;
use sink::Sink;
use spend::spend_costs_targets;

/// Options of `revalign generate` (and of the demo data).
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    pub accounts: usize,
    pub months: u32,
    pub seed: u64,
    pub format: FileFormat,
    /// Last month of data; the demo ends in October 2026.
    pub end: Month,
    /// The shape of the journeys (the demo's by default).
    pub shape: Shape,
}

/// The shape of the generated journeys: companies differ a lot in how many contacts
/// an account has, how many touches a contact gets and when, and how many channels
/// they market on; attribution cost follows the shape, not the touch count alone.
/// Every knob at its default gives the demo data, byte for byte.
#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    /// Multiplier on every contact's marketing touch rate (and on its cap of 400).
    pub touch_rate: f64,
    /// Multiplier on the mean number of contacts per account (and on its cap of 14).
    pub contacts: f64,
    /// How touches spread over a contact's life: 1 is even; k > 1 draws them as
    /// u^(1/k), crowding them toward the end (dense recent touches, so more
    /// opportunities have their first touch long before the lookback window).
    pub recency: f64,
    /// Marketing channels: the demo's 10, fewer, or more (extra paid channels
    /// `channel_11`, ...).
    pub channels: usize,
    /// Mean number of extra opportunities per account (expansions once a customer),
    /// at random times: more opportunities whose lookback windows hold the touches.
    pub extra_opportunities: f64,
}

impl Default for Shape {
    fn default() -> Self {
        Shape {
            touch_rate: 1.0,
            contacts: 1.0,
            recency: 1.0,
            channels: 10,
            extra_opportunities: 0.0,
        }
    }
}

impl Shape {
    /// The named shapes of the benchmark matrix (docs/benchmarks.md).
    pub const NAMES: &'static [&'static str] =
        &["demo", "long_journeys", "wide_accounts", "many_channels"];

    pub fn named(name: &str) -> Option<Shape> {
        let demo = Shape::default();
        Some(match name {
            "demo" => demo,
            // More touches, crowded into recent months, and more opportunities whose
            // windows hold them: 1.6 attribution credit rows per touch at 10M touches
            // (the demo: 0.59; issue 17's independently generated set: 1.8).
            "long_journeys" => Shape {
                touch_rate: 1.2,
                recency: 2.0,
                extra_opportunities: 1.2,
                ..demo
            },
            // Four times the contacts per account, a quarter of the touches each.
            "wide_accounts" => Shape {
                touch_rate: 0.25,
                contacts: 4.0,
                ..demo
            },
            // 50 marketing channels (Markov attribution at scale).
            "many_channels" => Shape {
                channels: 50,
                ..demo
            },
            _ => return None,
        })
    }
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            accounts: 2000,
            months: 36,
            seed: 42,
            format: FileFormat::Parquet,
            end: Month {
                year: 2026,
                month: 10,
            },
            shape: Shape::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct GenerateSummary {
    pub rows: BTreeMap<String, usize>,
    pub millis: u128,
}

const DAY: i64 = 86_400_000_000;
const HOUR: i64 = 3_600_000_000;

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn epoch() -> NaiveDate {
    crate::config::days_to_date(0)
}

fn micros_of(d: NaiveDate) -> i64 {
    (d - epoch()).num_days() * DAY
}

fn date_of(micros: i64) -> NaiveDate {
    epoch() + chrono::Duration::days(micros.div_euclid(DAY))
}

fn days_of(micros: i64) -> i32 {
    micros.div_euclid(DAY) as i32
}

fn month_index(start: Month, micros: i64) -> i32 {
    start.months_until(Month::of(date_of(micros)))
}

/// All output tables of one generation.
struct Sinks {
    accounts: Sink,
    contacts: Sink,
    campaigns: Sink,
    touches: Sink,
    lifecycle: Sink,
    opportunities: Sink,
    opportunity_contacts: Sink,
    subscriptions: Sink,
    spend: Sink,
    costs: Sink,
    targets: Sink,
    companies: Sink,
}

/// Aggregates kept across accounts for spend and targets.
#[derive(Default)]
struct Totals {
    /// (month index, channel index, campaign or "") -> marketing touches.
    touches: BTreeMap<(i32, usize, String), i64>,
    mqls: BTreeMap<i32, i64>,
    pipeline: BTreeMap<i32, i64>,
    bookings: BTreeMap<i32, i64>,
}

struct Ids {
    contact: u64,
    touch: u64,
    opportunity: u64,
    subscription: u64,
    buf: String,
}

impl Ids {
    fn next(&mut self, prefix: char, kind: u8) -> &str {
        let n = match kind {
            0 => &mut self.contact,
            1 => &mut self.touch,
            2 => &mut self.opportunity,
            _ => &mut self.subscription,
        };
        *n += 1;
        let v = *n;
        self.buf.clear();
        let width = if kind == 1 { 9 } else { 7 };
        let _ = write!(self.buf, "{prefix}{v:0width$}");
        &self.buf
    }
}

struct Ctx {
    start: Month,
    start_us: i64,
    end_us: i64,
    months: i32,
    shape: Shape,
    channels: Vec<market::Channel>,
}

struct Contact {
    id: String,
    role: &'static str,
    created: i64,
    lead_channel: Option<usize>,
}

/// Generate a data set into `out` (created if needed).
pub fn generate(out: &Path, options: &GenerateOptions) -> Result<GenerateSummary> {
    let started = Instant::now();
    std::fs::create_dir_all(out).at(out)?;
    let format = options.format;
    let mut sinks = Sinks {
        accounts: Sink::create(out, &schema::ACCOUNTS, format)?,
        contacts: Sink::create(out, &schema::CONTACTS, format)?,
        campaigns: Sink::create(out, &schema::CAMPAIGNS, format)?,
        touches: Sink::create(out, &schema::TOUCHES, format)?,
        lifecycle: Sink::create(out, &schema::LIFECYCLE, format)?,
        opportunities: Sink::create(out, &schema::OPPORTUNITIES, format)?,
        opportunity_contacts: Sink::create(out, &schema::OPPORTUNITY_CONTACTS, format)?,
        subscriptions: Sink::create(out, &schema::SUBSCRIPTIONS, format)?,
        spend: Sink::create(out, &schema::SPEND, format)?,
        costs: Sink::create(out, &schema::COSTS, format)?,
        targets: Sink::create(out, &schema::TARGETS, format)?,
        companies: Sink::create(out, &schema::COMPANIES, format)?,
    };
    let months = options.months.max(1) as i32;
    let start = options.end.plus(-(months - 1));
    let ctx = Ctx {
        start,
        start_us: micros_of(start.first_day()),
        end_us: micros_of(options.end.next().first_day()),
        months,
        shape: options.shape.clone(),
        channels: market::channels(options.shape.channels),
    };
    // Campaigns: one per channel and quarter.
    let mut quarter = Month {
        year: start.year,
        month: (start.month - 1) / 3 * 3 + 1,
    };
    while quarter <= options.end {
        for ch in ctx.channels.iter().filter(|c| c.campaigns) {
            let id = campaign_id(ch.name, quarter);
            let q = (quarter.month - 1) / 3 + 1;
            let first = quarter.first_day();
            let last = quarter.plus(3).first_day() - chrono::Duration::days(1);
            sinks
                .campaigns
                .text(&id)
                .text(&format!(
                    "{} {} Q{q}",
                    ch.name.replace('_', " "),
                    quarter.year
                ))
                .text(ch.name)
                .date(date_to_days(first))
                .date(date_to_days(last));
            sinks.campaigns.end_row()?;
        }
        quarter = quarter.plus(3);
    }
    let mut totals = Totals::default();
    let mut ids = Ids {
        contact: 0,
        touch: 0,
        opportunity: 0,
        subscription: 0,
        buf: String::new(),
    };
    for a in 0..options.accounts {
        let seed = options
            .seed
            .wrapping_add((a as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        account(a, &mut rng, &ctx, &mut sinks, &mut totals, &mut ids)?;
    }
    spend_costs_targets(options, &ctx, &mut sinks, &totals)?;
    prospect_companies(options, &mut sinks.companies)?;

    let mut rows = BTreeMap::new();
    macro_rules! finish {
        ($($t:ident),*) => { $( rows.insert(stringify!($t).to_string(), sinks.$t.finish()?); )* };
    }
    finish!(
        accounts,
        contacts,
        campaigns,
        touches,
        lifecycle,
        opportunities,
        opportunity_contacts,
        subscriptions,
        spend,
        costs,
        targets,
        companies
    );
    Ok(GenerateSummary {
        rows,
        millis: started.elapsed().as_millis(),
    })
}

fn campaign_id(channel: &str, month: Month) -> String {
    format!(
        "CMP-{}-{}Q{}",
        channel,
        month.year,
        (month.month - 1) / 3 + 1
    )
}
