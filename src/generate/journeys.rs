//! One account's funnel: its contacts, marketing and sales touches, lifecycle stages,
//! opportunities and buying committees, and sales follow-up of MQLs.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma, LogNormal, Poisson};

use super::companies::{
    company_name, company_row, firmographics, Firmographics, COMPANIES_PER_ACCOUNT,
};
use super::market::{pick_channel, pick_weighted, ROLES};
use super::revenue::subscriptions;
use super::{
    campaign_id, date_of, month_index, sigmoid, Contact, Ctx, Ids, Sinks, Totals, DAY, HOUR,
};
use crate::config::Month;
use crate::error::Result;

/// Simulate one account's whole history.
pub(super) fn account(
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
    let n_contacts = (2 + Poisson::new((1.0 + (employees as f64).ln() / 2.0) * ctx.shape.contacts)
        .expect("poisson")
        .sample(rng) as usize)
        .min((14.0 * ctx.shape.contacts).round() as usize);
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
        let rate_per_day = 1.5 / 30.0 * engagement * rng.gen_range(0.3..1.7) * ctx.shape.touch_rate;
        let n = (Poisson::new((rate_per_day * active_days).max(1e-9))
            .expect("poisson")
            .sample(rng) as usize)
            .min((400.0 * ctx.shape.touch_rate).round() as usize);
        let recency = ctx.shape.recency;
        let mut times: Vec<i64> = (0..n)
            .map(|_| {
                let u = rng.gen::<f64>();
                // recency > 1 crowds the touches toward the end of the contact's life.
                let u = if recency == 1.0 {
                    u
                } else {
                    u.powf(1.0 / recency)
                };
                created + (u * (ctx.end_us - created) as f64) as i64
            })
            .collect();
        times.sort_unstable();
        let primary = pick_channel(rng, &ctx.channels);
        for (k, &ts) in times.iter().enumerate() {
            let chi = if k == 0 || rng.gen::<f64>() < 0.5 {
                primary
            } else {
                pick_channel(rng, &ctx.channels)
            };
            let ch = &ctx.channels[chi];
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
                        ctx.channels[primary].quality,
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
        let quality = primary
            .lead_channel
            .map_or(1.0, |i| ctx.channels[i].quality);
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
    if ctx.shape.extra_opportunities > 0.0 {
        extra_opportunities(
            rng,
            ctx,
            s,
            ids,
            totals,
            &account_id,
            &contacts,
            arrival,
            customer_since,
            employees,
        )?;
    }
    Ok(())
}

/// Shape knob: more opportunities per account (expansions once a customer, new
/// business before), at random times of the account's life, so more of its touches
/// fall in some opportunity's lookback window. Never drawn for the demo shape.
#[allow(clippy::too_many_arguments)]
fn extra_opportunities(
    rng: &mut ChaCha8Rng,
    ctx: &Ctx,
    s: &mut Sinks,
    ids: &mut Ids,
    totals: &mut Totals,
    account_id: &str,
    contacts: &[Contact],
    arrival: i64,
    customer_since: Option<i64>,
    employees: i64,
) -> Result<()> {
    let first = arrival + 30 * DAY;
    if first >= ctx.end_us {
        return Ok(());
    }
    let n = Poisson::new(ctx.shape.extra_opportunities)
        .expect("poisson")
        .sample(rng) as usize;
    for _ in 0..n {
        let created = first + (rng.gen::<f64>() * (ctx.end_us - first) as f64) as i64;
        let contact = &contacts[rng.gen_range(0..contacts.len())];
        if contact.created > created {
            continue;
        }
        let cycle_days = LogNormal::new((90f64).ln(), 0.4)
            .expect("lognormal")
            .sample(rng)
            .clamp(20.0, 365.0);
        let closed = created + (cycle_days * DAY as f64) as i64;
        let is_closed = closed < ctx.end_us;
        let won = rng.gen::<f64>() < 0.35;
        let amount = ((4000.0 * (employees as f64 / 200.0).powf(0.45)) / 100.0)
            .round()
            .max(10.0) as i64
            * 100
            * 100;
        let kind = match customer_since {
            Some(since) if since < created => "expansion",
            _ => "new_business",
        };
        let opportunity_id = ids.next('O', 2).to_string();
        s.opportunities
            .text(&opportunity_id)
            .text(account_id)
            .ts(created)
            .opt_ts(is_closed.then_some(closed))
            .text(match (is_closed, won) {
                (false, _) => "open",
                (true, true) => "won",
                (true, false) => "lost",
            })
            .money(amount)
            .text(kind)
            .text(if contact.lead_channel.is_some() {
                "marketing"
            } else {
                "sales"
            })
            .text(&contact.id);
        s.opportunities.end_row()?;
        s.opportunity_contacts
            .text(&opportunity_id)
            .text(&contact.id)
            .text(contact.role);
        s.opportunity_contacts.end_row()?;
        *totals
            .pipeline
            .entry(month_index(ctx.start, created))
            .or_default() += amount;
        if is_closed && won {
            *totals
                .bookings
                .entry(month_index(ctx.start, closed))
                .or_default() += amount;
        }
    }
    Ok(())
}

pub(super) fn sales_activity(rng: &mut ChaCha8Rng) -> &'static str {
    ["call", "sales_email", "meeting"][rng.gen_range(0..3)]
}

#[allow(clippy::too_many_arguments)]
pub(super) fn emit_touch(
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

pub(super) fn stage(s: &mut Sinks, contact: &str, stage: &str, ts: i64) -> Result<()> {
    s.lifecycle.text(contact).text(stage).ts(ts).opt_text(None);
    s.lifecycle.end_row()
}

/// Sales follow-up of one MQL; returns the SQL time when it converts.
#[allow(clippy::too_many_arguments)]
pub(super) fn follow_up(
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
