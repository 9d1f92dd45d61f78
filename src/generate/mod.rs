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

pub mod sink;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use chrono::NaiveDate;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Beta, Distribution, Gamma, LogNormal, Poisson};
use serde::Serialize;

use crate::config::{date_to_days, Month};
use crate::error::{IoContext, Result};
use crate::schema;
pub use sink::FileFormat;
use sink::Sink;

/// Options of `revalign generate` (and of the demo data).
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    pub accounts: usize,
    pub months: u32,
    pub seed: u64,
    pub format: FileFormat,
    /// Last month of data; the demo ends in October 2026.
    pub end: Month,
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

struct Channel {
    name: &'static str,
    /// Share of marketing touch volume.
    weight: f64,
    /// Media cost of one touch, in cents.
    cost_per_touch: i64,
    /// Multiplier on MQL-to-SQL conversion and win rate.
    quality: f64,
    activities: &'static [&'static str],
    campaigns: bool,
}

const CHANNELS: &[Channel] = &[
    Channel {
        name: "organic_search",
        weight: 0.16,
        cost_per_touch: 112,
        quality: 1.0,
        activities: &["page_view", "form_fill"],
        campaigns: false,
    },
    Channel {
        name: "paid_search",
        weight: 0.14,
        cost_per_touch: 950,
        quality: 0.9,
        activities: &["ad_click", "form_fill"],
        campaigns: true,
    },
    Channel {
        name: "content",
        weight: 0.12,
        cost_per_touch: 350,
        quality: 1.1,
        activities: &["content_download", "form_fill"],
        campaigns: true,
    },
    Channel {
        name: "email",
        weight: 0.14,
        cost_per_touch: 37,
        quality: 0.8,
        activities: &["email_click"],
        campaigns: true,
    },
    Channel {
        name: "programmatic",
        weight: 0.12,
        cost_per_touch: 550,
        quality: 0.5,
        activities: &["ad_click"],
        campaigns: true,
    },
    Channel {
        name: "social",
        weight: 0.10,
        cost_per_touch: 400,
        quality: 0.6,
        activities: &["ad_click", "social_engagement"],
        campaigns: true,
    },
    Channel {
        name: "events",
        weight: 0.04,
        cost_per_touch: 6000,
        quality: 1.5,
        activities: &["event_visit", "meeting_booked"],
        campaigns: true,
    },
    Channel {
        name: "webinar",
        weight: 0.07,
        cost_per_touch: 1300,
        quality: 1.3,
        activities: &["webinar"],
        campaigns: true,
    },
    Channel {
        name: "referral",
        weight: 0.04,
        cost_per_touch: 225,
        quality: 1.7,
        activities: &["form_fill"],
        campaigns: false,
    },
    Channel {
        name: "direct",
        weight: 0.07,
        cost_per_touch: 0,
        quality: 1.2,
        activities: &["page_view", "form_fill"],
        campaigns: false,
    },
];

const INDUSTRIES: &[(&str, f64, f64)] = &[
    ("software", 0.22, 0.6),
    ("fintech", 0.12, 0.45),
    ("healthcare", 0.12, 0.1),
    ("manufacturing", 0.14, 0.0),
    ("retail", 0.12, -0.3),
    ("logistics", 0.10, 0.05),
    ("education", 0.08, -0.4),
    ("media", 0.10, -0.15),
];

const REGIONS: &[(&str, f64, f64, &[&str])] = &[
    ("north_america", 0.45, 0.25, &["US", "CA"]),
    ("emea", 0.33, 0.1, &["GB", "DE", "FR", "NL", "SE"]),
    ("apac", 0.16, -0.05, &["AU", "SG", "JP", "IN"]),
    ("latam", 0.06, -0.3, &["BR", "MX"]),
];

const TECHNOLOGIES: &[(&str, f64, f64)] = &[
    ("salesforce", 0.35, 0.25),
    ("hubspot", 0.25, 0.0),
    ("snowflake", 0.18, 0.4),
    ("aws", 0.45, 0.1),
    ("azure", 0.25, 0.0),
    ("gcp", 0.15, 0.05),
    ("marketo", 0.12, 0.15),
    ("zendesk", 0.2, 0.0),
    ("sap", 0.12, -0.1),
    ("shopify", 0.1, -0.25),
];

const ROLES: &[(&str, f64)] = &[
    ("end_user", 0.24),
    ("influencer", 0.2),
    ("technical_buyer", 0.15),
    ("champion", 0.1),
    ("economic_buyer", 0.1),
    ("procurement", 0.08),
    ("unknown", 0.13),
];

const NAME_A: &[&str] = &[
    "North", "Blue", "Bright", "Iron", "Silver", "Swift", "Green", "Red", "Stone", "Clear",
    "Summit", "Harbor",
];
const NAME_B: &[&str] = &[
    "wind", "field", "bridge", "works", "labs", "point", "line", "gate", "leaf", "path", "forge",
    "wave",
];

fn pick_weighted<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T], weight: impl Fn(&T) -> f64) -> &'a T {
    let total: f64 = items.iter().map(&weight).sum();
    let mut x = rng.gen::<f64>() * total;
    for item in items {
        x -= weight(item);
        if x <= 0.0 {
            return item;
        }
    }
    items.last().expect("non-empty")
}

/// Index of a channel drawn by touch-volume weight.
fn pick_channel(rng: &mut ChaCha8Rng) -> usize {
    let chosen = pick_weighted(rng, CHANNELS, |c| c.weight);
    CHANNELS
        .iter()
        .position(|c| std::ptr::eq(c, chosen))
        .expect("one of CHANNELS")
}

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
    };
    // Campaigns: one per channel and quarter.
    let mut quarter = Month {
        year: start.year,
        month: (start.month - 1) / 3 * 3 + 1,
    };
    while quarter <= options.end {
        for ch in CHANNELS.iter().filter(|c| c.campaigns) {
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

/// The reference-firmographics universe (`companies`) is this many times the CRM.
const COMPANIES_PER_ACCOUNT: usize = 5;

fn company_id(n: usize) -> String {
    format!("CO{:07}", n + 1)
}

/// What a data provider knows about a company, plus the hidden ICP fit it implies.
struct Firmographics {
    industry: &'static (&'static str, f64, f64),
    region: &'static (&'static str, f64, f64, &'static [&'static str]),
    country: &'static str,
    employees: i64,
    techs: Vec<&'static str>,
    /// Linear ICP fit before the random account-level term and the sigmoid.
    fit_raw: f64,
}

fn firmographics(rng: &mut ChaCha8Rng) -> Firmographics {
    let industry = pick_weighted(rng, INDUSTRIES, |x| x.1);
    let region = pick_weighted(rng, REGIONS, |x| x.1);
    let country = region.3[rng.gen_range(0..region.3.len())];
    let employees = (LogNormal::new((300f64).ln(), 1.3)
        .expect("lognormal")
        .sample(rng) as i64)
        .clamp(5, 150_000);
    let mut techs: Vec<&str> = Vec::new();
    let mut fit_raw = industry.2 + region.2 + rng.gen::<f64>() * 0.6 - 0.3;
    fit_raw += match employees {
        0..=49 => -0.5,
        50..=199 => 0.1,
        200..=4999 => 0.45,
        _ => 0.2,
    };
    for t in TECHNOLOGIES {
        if rng.gen::<f64>() < t.1 {
            techs.push(t.0);
            fit_raw += t.2;
        }
    }
    Firmographics {
        industry,
        region,
        country,
        employees,
        techs,
        fit_raw,
    }
}

/// A made-up company name ending in `suffix`, and its domain.
fn company_name(rng: &mut ChaCha8Rng, suffix: &str) -> (String, String) {
    let name = format!(
        "{}{} {suffix}",
        NAME_A[rng.gen_range(0..NAME_A.len())],
        NAME_B[rng.gen_range(0..NAME_B.len())],
    );
    let domain = format!("{}.example", name.to_lowercase().replace(' ', "-"));
    (name, domain)
}

fn company_row(
    sink: &mut Sink,
    n: usize,
    domain: &str,
    name: &str,
    f: &Firmographics,
) -> Result<()> {
    sink.text(&company_id(n))
        .text(domain)
        .text(name)
        .text(f.industry.0)
        .int(f.employees)
        .text(f.region.0)
        .text(f.country)
        .text(&f.techs.join(";"));
    sink.end_row()
}

/// Companies of the provider's universe that are not (yet) CRM accounts: the
/// look-alike prospects. Each draws from its own seeded stream.
fn prospect_companies(options: &GenerateOptions, sink: &mut Sink) -> Result<()> {
    for a in 0..options.accounts {
        for k in 1..COMPANIES_PER_ACCOUNT {
            let n = a * COMPANIES_PER_ACCOUNT + k;
            let seed = (options.seed ^ 0xC0FF_EE00_D15C_0DE5_u64)
                .wrapping_add((n as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let f = firmographics(&mut rng);
            let (name, domain) = company_name(&mut rng, &format!("Co {}", n + 1));
            company_row(sink, n, &domain, &name, &f)?;
        }
    }
    Ok(())
}

/// Simulate one account's whole history.
fn account(
    a: usize,
    rng: &mut ChaCha8Rng,
    ctx: &Ctx,
    s: &mut Sinks,
    totals: &mut Totals,
    ids: &mut Ids,
) -> Result<()> {
    let firmo = firmographics(rng);
    let Firmographics {
        industry,
        region,
        country,
        employees,
        ref techs,
        fit_raw,
    } = firmo;
    let fit = sigmoid(1.8 * fit_raw - 0.6);
    let is_target = (fit > 0.55 && rng.gen::<f64>() < 0.55) || rng.gen::<f64>() < 0.03;
    let span = ctx.end_us - ctx.start_us;
    let arrival = ctx.start_us + (rng.gen::<f64>() * (span - 30 * DAY) as f64) as i64;
    let account_id = format!("A{:06}", a + 1);
    let (name, domain) = company_name(rng, &(a + 1).to_string());
    let revenue_cents = employees * rng.gen_range(120_000..260_000) * 100;
    s.accounts
        .text(&account_id)
        .text(&name)
        .text(&domain)
        .text(industry.0)
        .int(employees)
        .text(region.0)
        .text(country)
        .money(revenue_cents)
        .text(&techs.join(";"))
        .boolean(is_target)
        .ts(arrival);
    s.accounts.end_row()?;
    // The account is also a company of the data provider's universe.
    company_row(
        &mut s.companies,
        a * COMPANIES_PER_ACCOUNT,
        &domain,
        &name,
        &firmo,
    )?;

    // Contacts and their marketing journeys.
    let n_contacts = (2 + Poisson::new(1.0 + (employees as f64).ln() / 2.0)
        .expect("poisson")
        .sample(rng) as usize)
        .min(14);
    let mut contacts: Vec<Contact> = Vec::with_capacity(n_contacts);
    let mut opportunity_triggers: Vec<(i64, usize, &'static str)> = Vec::new(); // (ts, contact, source)
    let engagement = Gamma::new(2.0, 0.5).expect("gamma").sample(rng)
        * (0.5 + 0.9 * fit)
        * if is_target { 1.4 } else { 1.0 };
    for ci in 0..n_contacts {
        let created = arrival + (rng.gen::<f64>() * 150.0 * DAY as f64) as i64;
        if created >= ctx.end_us {
            continue;
        }
        let role = pick_weighted(rng, ROLES, |r| r.1).0;
        let contact_id = ids.next('C', 0).to_string();
        s.contacts
            .text(&contact_id)
            .text(&account_id)
            .text(role)
            .text(&role.replace('_', " "))
            .text(&format!("contact{}@{}", ci + 1, domain))
            .ts(created);
        s.contacts.end_row()?;
        let mut contact = Contact {
            id: contact_id,
            role,
            created,
            lead_channel: None,
        };
        // Marketing touches: a Poisson process over the contact's life.
        let active_days = (ctx.end_us - created) as f64 / DAY as f64;
        let rate_per_day = 1.5 / 30.0 * engagement * rng.gen_range(0.3..1.7);
        let n = (Poisson::new((rate_per_day * active_days).max(1e-9))
            .expect("poisson")
            .sample(rng) as usize)
            .min(400);
        let mut times: Vec<i64> = (0..n)
            .map(|_| created + (rng.gen::<f64>() * (ctx.end_us - created) as f64) as i64)
            .collect();
        times.sort_unstable();
        let primary = pick_channel(rng);
        for (k, &ts) in times.iter().enumerate() {
            let chi = if k == 0 || rng.gen::<f64>() < 0.5 {
                primary
            } else {
                pick_channel(rng)
            };
            let ch = &CHANNELS[chi];
            let activity = ch.activities[rng.gen_range(0..ch.activities.len())];
            let campaign = ch
                .campaigns
                .then(|| campaign_id(ch.name, Month::of(date_of(ts))));
            emit_touch(
                s,
                ids,
                &contact.id,
                ts,
                ch.name,
                "marketing",
                activity,
                campaign.as_deref(),
            )?;
            let key = (
                month_index(ctx.start, ts),
                chi,
                campaign.unwrap_or_default(),
            );
            *totals.touches.entry(key).or_default() += 1;
        }
        if let Some(&first) = times.first() {
            contact.lead_channel = Some(primary);
            let lead_at = first + 5 * 60_000_000;
            if lead_at < ctx.end_us {
                stage(s, &contact.id, "lead", lead_at)?;
            }
            let threshold = rng.gen_range(2..=4usize);
            if times.len() >= threshold && rng.gen::<f64>() < 0.3 + 0.5 * fit {
                let mql_at = times[threshold - 1] + rng.gen_range(HOUR..48 * HOUR);
                if mql_at < ctx.end_us {
                    stage(s, &contact.id, "mql", mql_at)?;
                    *totals
                        .mqls
                        .entry(month_index(ctx.start, mql_at))
                        .or_default() += 1;
                    if let Some(sql_at) = follow_up(
                        rng,
                        ctx,
                        s,
                        ids,
                        &contact,
                        mql_at,
                        fit,
                        is_target,
                        CHANNELS[primary].quality,
                    )? {
                        opportunity_triggers.push((sql_at, contacts.len(), "marketing"));
                    }
                }
            }
        }
        contacts.push(contact);
    }
    if contacts.is_empty() {
        return Ok(());
    }
    // Outbound prospecting by sales: sales-sourced opportunities.
    if rng.gen::<f64>() < 0.2 + 0.35 * is_target as u8 as f64 {
        let ci = rng.gen_range(0..contacts.len());
        let mut t = contacts[ci].created.max(arrival + 20 * DAY)
            + (rng.gen::<f64>() * 300.0 * DAY as f64) as i64;
        for _ in 0..rng.gen_range(2..=5) {
            if t >= ctx.end_us {
                break;
            }
            emit_touch(
                s,
                ids,
                &contacts[ci].id,
                t,
                "sales",
                "sales",
                sales_activity(rng),
                None,
            )?;
            t += rng.gen_range(DAY..6 * DAY);
        }
        if t < ctx.end_us && rng.gen::<f64>() < 0.45 {
            stage(s, &contacts[ci].id, "sql", t)?;
            opportunity_triggers.push((t, ci, "sales"));
        }
    }
    opportunity_triggers.sort();
    let mut busy_until = i64::MIN;
    let mut customer_since: Option<i64> = None;
    let mut first_win: Option<(i64, i64)> = None; // (closed_at, amount cents)
    for (trigger, ci, source) in opportunity_triggers {
        if trigger < busy_until || customer_since.is_some() || rng.gen::<f64>() > 0.8 {
            continue;
        }
        let created = trigger + rng.gen_range(DAY..14 * DAY);
        if created >= ctx.end_us {
            continue;
        }
        let opportunity_id = ids.next('O', 2).to_string();
        let primary = &contacts[ci];
        stage(s, &primary.id, "opportunity", created)?;
        // Buying committee: distinct roles engaged beyond the primary contact.
        let engage_p =
            0.22 + 0.25 * is_target as u8 as f64 + 0.1 * (contacts.len() >= 6) as u8 as f64;
        let mut members = vec![ci];
        let mut roles = vec![primary.role];
        for (cj, c) in contacts.iter().enumerate() {
            if cj != ci
                && c.created <= created
                && !roles.contains(&c.role)
                && rng.gen::<f64>() < engage_p
            {
                members.push(cj);
                roles.push(c.role);
            }
        }
        let distinct_known_roles = roles.iter().filter(|r| **r != "unknown").count().max(1);
        let quality = primary.lead_channel.map_or(1.0, |i| CHANNELS[i].quality);
        let p_win = (0.75 * fit - 0.2
            + 0.075 * (distinct_known_roles as f64 - 1.0)
            + 0.08 * (quality - 1.0))
            .clamp(0.03, 0.85);
        let won = rng.gen::<f64>() < p_win;
        let cycle_days = LogNormal::new((115f64).ln(), 0.35)
            .expect("lognormal")
            .sample(rng)
            .clamp(30.0, 365.0);
        let closed = created + (cycle_days * DAY as f64) as i64;
        let amount = ((9000.0
            * (employees as f64 / 200.0).powf(0.45)
            * LogNormal::new(0.0, 0.35).expect("lognormal").sample(rng))
            / 100.0)
            .round()
            .max(10.0) as i64
            * 100
            * 100;
        let is_closed = closed < ctx.end_us;
        s.opportunities
            .text(&opportunity_id)
            .text(&account_id)
            .ts(created)
            .opt_ts(is_closed.then_some(closed))
            .text(if !is_closed {
                "open"
            } else if won {
                "won"
            } else {
                "lost"
            })
            .money(amount)
            .text("new_business")
            .text(source)
            .text(&primary.id);
        s.opportunities.end_row()?;
        *totals
            .pipeline
            .entry(month_index(ctx.start, created))
            .or_default() += amount;
        for &m in &members {
            s.opportunity_contacts
                .text(&opportunity_id)
                .text(&contacts[m].id)
                .text(contacts[m].role);
            s.opportunity_contacts.end_row()?;
            // Sales works the committee through the cycle.
            for _ in 0..rng.gen_range(1..=3) {
                let t = created + (rng.gen::<f64>() * (closed - created) as f64) as i64;
                if t < ctx.end_us {
                    emit_touch(
                        s,
                        ids,
                        &contacts[m].id,
                        t,
                        "sales",
                        "sales",
                        sales_activity(rng),
                        None,
                    )?;
                }
            }
        }
        busy_until = if is_closed { closed } else { i64::MAX };
        if is_closed && won {
            stage(s, &primary.id, "customer", closed)?;
            customer_since = Some(closed);
            first_win = Some((closed, amount));
            *totals
                .bookings
                .entry(month_index(ctx.start, closed))
                .or_default() += amount;
        }
    }
    if let Some((closed, amount)) = first_win {
        subscriptions(
            rng,
            ctx,
            s,
            ids,
            totals,
            &account_id,
            &contacts[0].id,
            closed,
            amount,
            fit,
        )?;
    }
    Ok(())
}

fn sales_activity(rng: &mut ChaCha8Rng) -> &'static str {
    ["call", "sales_email", "meeting"][rng.gen_range(0..3)]
}

#[allow(clippy::too_many_arguments)]
fn emit_touch(
    s: &mut Sinks,
    ids: &mut Ids,
    contact: &str,
    ts: i64,
    channel: &str,
    kind: &str,
    activity: &str,
    campaign: Option<&str>,
) -> Result<()> {
    let id = ids.next('T', 1);
    s.touches
        .text(id)
        .text(contact)
        .ts(ts)
        .text(channel)
        .text(kind)
        .text(activity)
        .opt_text(campaign);
    s.touches.end_row()
}

fn stage(s: &mut Sinks, contact: &str, stage: &str, ts: i64) -> Result<()> {
    s.lifecycle.text(contact).text(stage).ts(ts).opt_text(None);
    s.lifecycle.end_row()
}

/// Sales follow-up of one MQL; returns the SQL time when it converts.
#[allow(clippy::too_many_arguments)]
fn follow_up(
    rng: &mut ChaCha8Rng,
    ctx: &Ctx,
    s: &mut Sinks,
    ids: &mut Ids,
    contact: &Contact,
    mql_at: i64,
    fit: f64,
    is_target: bool,
    quality: f64,
) -> Result<Option<i64>> {
    let never = 0.55 - 0.18 * is_target as u8 as f64 - 0.15 * fit;
    let u = rng.gen::<f64>();
    let n_touches = if u < never {
        0
    } else if u < never + 0.27 {
        rng.gen_range(1..=2)
    } else {
        rng.gen_range(3..=7)
    };
    if n_touches == 0 {
        if mql_at + 60 * DAY < ctx.end_us {
            let outcome = if rng.gen::<f64>() < 0.6 {
                "recycled"
            } else {
                "disqualified"
            };
            stage(s, &contact.id, outcome, mql_at + 60 * DAY)?;
        }
        return Ok(None);
    }
    let first_delay = (LogNormal::new((20f64).ln(), 1.2)
        .expect("lognormal")
        .sample(rng)
        * HOUR as f64) as i64;
    let mut t = mql_at + first_delay.max(5 * 60_000_000);
    let first_touch = t;
    for _ in 0..n_touches {
        if t >= ctx.end_us {
            return Ok(None);
        }
        emit_touch(
            s,
            ids,
            &contact.id,
            t,
            "sales",
            "sales",
            sales_activity(rng),
            None,
        )?;
        t += (LogNormal::new((3.0f64).ln(), 0.8)
            .expect("lognormal")
            .sample(rng)
            * DAY as f64) as i64;
    }
    if rng.gen::<f64>() > 0.75 {
        return Ok(None);
    }
    let sal_at = first_touch + rng.gen_range(HOUR..72 * HOUR);
    if sal_at >= ctx.end_us {
        return Ok(None);
    }
    stage(s, &contact.id, "sal", sal_at)?;
    let depth = if n_touches >= 3 { 1.5 } else { 1.0 };
    let p_sql = ((0.16 + 0.4 * fit) * quality * depth).min(0.9);
    if rng.gen::<f64>() > p_sql {
        if sal_at + 45 * DAY < ctx.end_us {
            stage(s, &contact.id, "disqualified", sal_at + 45 * DAY)?;
        }
        return Ok(None);
    }
    let sql_at = sal_at
        + (LogNormal::new((10f64).ln(), 0.7)
            .expect("lognormal")
            .sample(rng)
            * DAY as f64) as i64;
    if sql_at >= ctx.end_us {
        return Ok(None);
    }
    stage(s, &contact.id, "sql", sql_at)?;
    Ok(Some(sql_at))
}

/// Subscription history of a customer from its first win.
#[allow(clippy::too_many_arguments)]
fn subscriptions(
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

fn spend_costs_targets(
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
        if *m < 0 || *m >= ctx.months || CHANNELS[*chi].cost_per_touch == 0 {
            continue;
        }
        let noise = rng.gen_range(0.85..1.15);
        let cents = (*n as f64 * CHANNELS[*chi].cost_per_touch as f64 * noise) as i64;
        *spend_rows.entry((*m, *chi, campaign.clone())).or_default() += cents;
    }
    for ((m, chi, campaign), cents) in spend_rows {
        let month = ctx.start.plus(m).first_day();
        s.spend
            .date(date_to_days(month))
            .text(CHANNELS[chi].name)
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
