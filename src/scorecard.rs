//! The aligned scorecard: one row per metric of the catalogue in `reports/scorecard.toml`
//! (embedded; `--reports DIR` reads `DIR/scorecard.toml` instead), each with its owner,
//! this month's value, the target from the `targets` input, attainment, a RAG status,
//! last month's value and the change.
//!
//! A metric is SQL over the run's tables, so a RevOps analyst adds one by editing TOML.
//! A metric the inputs cannot support (a fact it `needs` is missing from `coverage`, or
//! a table it reads was skipped) stays on the scorecard with status `n/a` and a note
//! saying why, never a number. A cohort metric (`matures_after_days`) is read on the
//! latest cohort whose window has closed by the end of the report month; the report
//! month's own value is shown beside it as provisional.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Date32Array, Float64Array, RecordBatch, StringArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Date32Type, Field, Float64Type, Schema};
use datafusion::prelude::SessionContext;
use serde::Deserialize;

use crate::config::Month;
use crate::error::{Error, Result};

/// Who owns a metric, and the report section a chart appears in: one set of values
/// for `scorecard.toml` and `charts.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Owner {
    Marketing,
    Sales,
    CustomerSuccess,
    Shared,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Count,
    Currency,
    Ratio,
    Multiple,
    Days,
    Months,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Higher,
    Lower,
}

/// The report section of a chart (the same values as a metric's owner).
pub type Section = Owner;

impl Owner {
    pub fn as_str(self) -> &'static str {
        match self {
            Owner::Marketing => "marketing",
            Owner::Sales => "sales",
            Owner::CustomerSuccess => "customer_success",
            Owner::Shared => "shared",
        }
    }
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "count",
            Unit::Currency => "currency",
            Unit::Ratio => "ratio",
            Unit::Multiple => "multiple",
            Unit::Days => "days",
            Unit::Months => "months",
        }
    }
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Higher => "higher",
            Direction::Lower => "lower",
        }
    }
}

/// One metric of the catalogue.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricDef {
    pub key: String,
    pub label: String,
    pub owner: Owner,
    pub table: Option<String>,
    pub value: Option<String>,
    pub filter: Option<String>,
    pub month_column: Option<String>,
    pub sql: Option<String>,
    pub unit: Unit,
    pub direction: Direction,
    pub green: Option<f64>,
    pub amber: Option<f64>,
    /// Facts of `coverage` the metric needs.
    #[serde(default)]
    pub needs: Vec<String>,
    /// A month with no rows reads 0 (counts and sums: zero bookings is a value), not
    /// "no value".
    #[serde(default)]
    pub zero_when_no_rows: bool,
    /// Its place among the headline KPIs at the top of the report (1 first), if any.
    pub headline: Option<u32>,
    /// A cohort metric: SQL expression over `params` giving the days after a cohort
    /// month's end until its last member's window closes (e.g. `sla_hours / 24.0`).
    pub matures_after_days: Option<String>,
}

impl MetricDef {
    /// The query returning (month, value) rows.
    pub fn query(&self) -> String {
        match (&self.sql, &self.table, &self.value) {
            (Some(sql), _, _) => format!("SELECT CAST(month AS DATE) AS month, CAST(value AS DOUBLE) AS value FROM ({sql}) AS metric"),
            (None, Some(table), Some(value)) => {
                let month = self.month_column.as_deref().unwrap_or("month");
                let filter = self.filter.as_deref().unwrap_or("TRUE");
                format!(
                    "SELECT CAST({month} AS DATE) AS month, CAST({value} AS DOUBLE) AS value FROM {table} WHERE {filter} GROUP BY {month}"
                )
            }
            _ => unreachable!("validated"),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    pub metric: Vec<MetricDef>,
}

impl Catalogue {
    pub fn parse(source: &Path, text: &str) -> Result<Catalogue> {
        let bad = |message: String| Error::Config {
            file: source.to_path_buf(),
            message,
        };
        let catalogue: Catalogue = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        let mut keys = BTreeSet::new();
        for m in &catalogue.metric {
            if !crate::query::is_safe_name(&m.key) {
                return Err(bad(format!(
                    "metric key `{}` must match ^[a-z0-9_]+$",
                    m.key
                )));
            }
            crate::coverage::check_needs(&m.needs)
                .map_err(|e| bad(format!("metric `{}`: {e}", m.key)))?;
            // An empty month is 0 for a count or a sum, never for a rate or an average.
            if m.zero_when_no_rows && !matches!(m.unit, Unit::Count | Unit::Currency) {
                return Err(bad(format!(
                    "metric `{}`: zero_when_no_rows applies to counts and currency sums only \
                     (unit `{}`: a month without rows has no {} value, not 0)",
                    m.key,
                    m.unit.as_str(),
                    m.unit.as_str()
                )));
            }
            if !keys.insert(m.key.clone()) {
                return Err(bad(format!("metric `{}` is defined twice", m.key)));
            }
            let simple = m.table.is_some() && m.value.is_some();
            if m.sql.is_some() == simple
                || (m.sql.is_some() && (m.table.is_some() || m.value.is_some()))
            {
                return Err(bad(format!(
                    "metric `{}`: give either `sql`, or `table` and `value`",
                    m.key
                )));
            }
        }
        Ok(catalogue)
    }

    /// The headline KPIs' metric keys, in their `headline` order.
    pub fn headline(&self) -> Vec<&str> {
        let mut h: Vec<(u32, &str)> = self
            .metric
            .iter()
            .filter_map(|m| m.headline.map(|n| (n, m.key.as_str())))
            .collect();
        h.sort();
        h.into_iter().map(|(_, k)| k).collect()
    }

    /// `dir/scorecard.toml` when present, else the built-in catalogue.
    pub fn load(dir: Option<&Path>) -> Result<(PathBuf, Catalogue)> {
        let (path, text) = crate::catalog::report_file(dir, "scorecard.toml")?;
        let catalogue = Catalogue::parse(&path, &text)?;
        Ok((path, catalogue))
    }
}

/// A value as a person reads it: counts and money with thousands separators, ratios
/// as percentages, multiples as `2.18x`.
pub fn format_value(value: f64, unit: &str) -> String {
    fn thousands(v: f64) -> String {
        let s = format!("{:.0}", v.abs());
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        if v < 0.0 {
            format!("-{out}")
        } else {
            out
        }
    }
    // Beyond a trillion a value is no longer read digit by digit.
    if value.abs() >= 1e15 {
        return format!("{value:.3e}");
    }
    match unit {
        "count" | "currency" => thousands(value),
        "ratio" => format!("{:.1}%", value * 100.0),
        "multiple" => format!("{value:.2}x"),
        "days" => format!("{value:.0} days"),
        "months" => format!("{value:.1} months"),
        _ => format!("{value}"),
    }
}

/// RAG status of an attainment.
pub fn status(attainment: f64, green: f64, amber: f64) -> &'static str {
    if attainment >= green {
        "green"
    } else if attainment >= amber {
        "amber"
    } else {
        "red"
    }
}

/// Attainment against target: actual/target when higher is better, target/actual when
/// lower is better. `None` when it is undefined (zero denominator).
pub fn attainment(actual: f64, target: f64, direction: Direction) -> Option<f64> {
    let (num, den) = match direction {
        Direction::Higher => (actual, target),
        Direction::Lower => (target, actual),
    };
    (den != 0.0).then(|| num / den)
}

/// Warnings about `targets` rows that can never be used: metric keys that are not on
/// the scorecard (a typo would otherwise leave its metric without target, silently).
pub fn target_warnings(targets: Option<&RecordBatch>, catalogue: &Catalogue) -> Vec<String> {
    let Some(t) = targets else { return vec![] };
    let metric = t
        .column_by_name("metric")
        .expect("metric")
        .as_string::<i32>();
    let unknown: BTreeSet<&str> = (0..t.num_rows())
        .filter(|&r| metric.is_valid(r))
        .map(|r| metric.value(r))
        .filter(|k| !catalogue.metric.iter().any(|m| m.key == *k))
        .collect();
    unknown
        .into_iter()
        .map(|k| {
            format!(
                "targets: metric `{k}` is not on the scorecard, its targets are not used (keys: {})",
                catalogue.metric.iter().map(|m| m.key.as_str()).collect::<Vec<_>>().join(", ")
            )
        })
        .collect()
}

/// Targets of the month: metric key -> target (rows without a segment).
fn targets_of(targets: Option<&RecordBatch>, month: Month) -> Result<BTreeMap<String, f64>> {
    let mut out = BTreeMap::new();
    let Some(t) = targets else { return Ok(out) };
    let months = t
        .column_by_name("month")
        .expect("month")
        .as_primitive::<Date32Type>();
    let metric = t
        .column_by_name("metric")
        .expect("metric")
        .as_string::<i32>();
    let target = cast(
        t.column_by_name("target").expect("target"),
        &DataType::Float64,
    )?;
    let target = target.as_primitive::<Float64Type>();
    let segment = t.column_by_name("segment").expect("segment");
    for r in 0..t.num_rows() {
        // A target dated any day of the month is that month's target.
        if months.is_valid(r)
            && Month::of(crate::config::days_to_date(months.value(r))) == month
            && segment.is_null(r)
            && target.is_valid(r)
        {
            out.insert(metric.value(r).to_string(), target.value(r));
        }
    }
    Ok(out)
}

/// Run catalogue SQL read-only (it comes from a user-editable file); errors name the
/// metric and the file.
async fn catalogue_sql(
    ctx: &SessionContext,
    sql: &str,
    what: String,
    source: &Path,
) -> Result<Vec<RecordBatch>> {
    let wrap = |e| Error::Query {
        query: what.clone(),
        file: source.display().to_string(),
        source: e,
    };
    crate::engine::read_only_sql(ctx, sql)
        .await
        .map_err(wrap)?
        .collect()
        .await
        .map_err(wrap)
}

/// One metric's values by month (days since the epoch), from its query.
async fn values_by_month(
    ctx: &SessionContext,
    m: &MetricDef,
    source: &Path,
) -> Result<BTreeMap<i32, f64>> {
    let batches = catalogue_sql(
        ctx,
        &m.query(),
        format!("scorecard metric {}", m.key),
        source,
    )
    .await?;
    let mut out = BTreeMap::new();
    for b in &batches {
        let months = b.column(0).as_primitive::<Date32Type>();
        let values = b.column(1).as_primitive::<Float64Type>();
        for r in 0..b.num_rows() {
            if months.is_valid(r) && values.is_valid(r) && values.value(r).is_finite() {
                out.insert(months.value(r), values.value(r));
            }
        }
    }
    Ok(out)
}

/// Days after a cohort month's end until its window closes: the metric's
/// `matures_after_days` expression over `params`.
async fn maturity_days(
    ctx: &SessionContext,
    m: &MetricDef,
    expr: &str,
    source: &Path,
) -> Result<f64> {
    let sql = format!("SELECT CAST({expr} AS DOUBLE) AS days FROM params");
    let what = format!("scorecard metric {} (matures_after_days)", m.key);
    let batches = catalogue_sql(ctx, &sql, what, source).await?;
    let days = batches
        .iter()
        .find(|b| b.num_rows() > 0)
        .map(|b| b.column(0).as_primitive::<Float64Type>())
        .filter(|c| c.is_valid(0))
        .map(|c| c.value(0));
    match days {
        Some(d) if d.is_finite() && (0.0..=MAX_MATURITY_DAYS).contains(&d) => Ok(d),
        _ => Err(Error::Config {
            file: source.to_path_buf(),
            message: format!(
                "metric `{}`: matures_after_days `{expr}` must give a number of days between \
                 0 and {MAX_MATURITY_DAYS}",
                m.key
            ),
        }),
    }
}

/// The longest cohort window a metric may declare (ten years).
pub const MAX_MATURITY_DAYS: f64 = 3650.0;

/// The latest cohort month, at or before `month`, whose window (`days` after the
/// cohort month's end) has closed by the end of `month`.
pub fn latest_matured(month: Month, days: f64) -> Month {
    let end = days_of(month.next());
    let mut m = month;
    // Bounded: a window longer than the calendar stops at the earliest month.
    for _ in 0..12 * 400 {
        if f64::from(end - days_of(m.next())) >= days {
            break;
        }
        m = m.prev();
    }
    m
}

fn days_of(month: Month) -> i32 {
    crate::config::date_to_days(month.first_day())
}

/// One computed row of the scorecard (a metric's values for the report month).
#[derive(Default)]
struct Row {
    actual: Option<f64>,
    actual_month: Option<Month>,
    previous: Option<f64>,
    provisional: Option<f64>,
    status: Option<String>,
    note: Option<String>,
}

/// One row of the `scorecard` output, as written.
pub struct ScorecardRow<'a> {
    pub metric: &'a MetricDef,
    pub actual: Option<f64>,
    pub target: Option<f64>,
    pub attainment: Option<f64>,
    /// green, amber, red or n/a.
    pub status: Option<String>,
    pub previous: Option<f64>,
    pub note: Option<String>,
    /// The month the actual was read on (a cohort metric's latest matured cohort).
    pub actual_month: Option<Month>,
    /// The report month's own value when the actual is an earlier cohort's.
    pub provisional: Option<f64>,
}

/// Compute the scorecard. `skipped` maps skipped tables to why they were skipped.
pub async fn compute(
    ctx: &SessionContext,
    catalogue: &Catalogue,
    source: &Path,
    month: Month,
    coverage: &crate::coverage::Coverage,
    skipped: &BTreeMap<String, Vec<String>>,
    targets: Option<&RecordBatch>,
) -> Result<RecordBatch> {
    let targets = targets_of(targets, month)?;
    let mut rows: Vec<ScorecardRow> = Vec::new();
    for m in &catalogue.metric {
        let words = crate::query::sql_identifiers(&m.query());
        let mut reasons = coverage.unmet(&m.needs);
        reasons.extend(coverage.ended_before(&m.needs, month));
        reasons.extend(coverage.all_ended_before(month));
        for (_, why) in skipped.iter().filter(|(t, _)| words.contains(*t)) {
            for r in why {
                if !reasons.contains(r) {
                    reasons.push(r.clone());
                }
            }
        }
        let target = targets.get(&m.key).copied();
        let mut row = Row::default();
        // The month the metric is read on: the report month, or for a cohort metric the
        // latest cohort whose window has closed. A gap in the export there is n/a too.
        let read_month = match (&m.matures_after_days, reasons.is_empty()) {
            (Some(expr), true) => latest_matured(month, maturity_days(ctx, m, expr, source).await?),
            _ => month,
        };
        reasons.extend(coverage.gap_in(&m.needs, read_month));
        if reasons.is_empty() {
            let values = values_by_month(ctx, m, source).await?;
            let value_of = |mo: Month| {
                values
                    .get(&days_of(mo))
                    .copied()
                    .or(m.zero_when_no_rows.then_some(0.0))
            };
            row.actual = value_of(read_month);
            row.actual_month = Some(read_month);
            // A previous month in a gap of the export has no value to compare with.
            row.previous = coverage
                .gap_in(&m.needs, read_month.prev())
                .is_empty()
                .then(|| value_of(read_month.prev()))
                .flatten();
            if read_month != month {
                row.provisional = value_of(month);
                let open = match row.provisional {
                    Some(v) => format!(
                        "{month} so far {} (provisional)",
                        format_value(v, m.unit.as_str())
                    ),
                    None => format!("{month} has no value yet"),
                };
                row.note = Some(format!(
                    "cohort of {read_month}, the latest whose window has closed; {open}"
                ));
            }
            if row.actual.is_none() {
                row.note = Some(match read_month == month {
                    true => "no value this month".to_string(),
                    false => format!("no value for the cohort of {read_month}"),
                });
            } else if target.is_none() && row.note.is_none() {
                row.note = Some("no target".to_string());
            } else if target == Some(0.0) && m.direction == Direction::Higher {
                row.note = Some("target 0: attainment is undefined".to_string());
            }
        } else {
            row.status = Some("n/a".to_string());
            row.note = Some(crate::coverage::not_measurable(&reasons));
        }
        let att = match (row.actual, target) {
            (Some(a), Some(t)) => attainment(a, t, m.direction),
            _ => None,
        };
        if row.status.is_none() {
            row.status = match (row.actual, target) {
                (Some(a), Some(_))
                    if att.is_none() && m.direction == Direction::Lower && a == 0.0 =>
                {
                    Some("green".to_string())
                }
                _ => att
                    .map(|x| status(x, m.green.unwrap_or(1.0), m.amber.unwrap_or(0.9)).to_string()),
            };
        }
        rows.push(ScorecardRow {
            metric: m,
            actual: row.actual,
            target,
            attainment: att,
            status: row.status,
            previous: row.previous,
            note: row.note,
            actual_month: row.actual.and(row.actual_month),
            provisional: row.provisional,
        });
    }
    build(&rows)
}

fn build(rows: &[ScorecardRow]) -> Result<RecordBatch> {
    let text = |f: &dyn Fn(&ScorecardRow) -> Option<String>| -> ArrayRef {
        Arc::new(StringArray::from(rows.iter().map(f).collect::<Vec<_>>()))
    };
    let num = |f: &dyn Fn(&ScorecardRow) -> Option<f64>| -> ArrayRef {
        Arc::new(Float64Array::from(rows.iter().map(f).collect::<Vec<_>>()))
    };
    let schema = Arc::new(Schema::new(vec![
        Field::new("metric", DataType::Utf8, false),
        Field::new("label", DataType::Utf8, false),
        Field::new("owner", DataType::Utf8, false),
        Field::new("unit", DataType::Utf8, false),
        Field::new("direction", DataType::Utf8, false),
        Field::new("actual", DataType::Float64, true),
        Field::new("target", DataType::Float64, true),
        Field::new("attainment", DataType::Float64, true),
        Field::new("status", DataType::Utf8, true),
        Field::new("previous", DataType::Float64, true),
        Field::new("change", DataType::Float64, true),
        Field::new("note", DataType::Utf8, true),
        Field::new("actual_month", DataType::Date32, true),
        Field::new("provisional", DataType::Float64, true),
    ]));
    Ok(RecordBatch::try_new(
        schema,
        vec![
            text(&|r| Some(r.metric.key.clone())),
            text(&|r| Some(r.metric.label.clone())),
            text(&|r| Some(r.metric.owner.as_str().to_string())),
            text(&|r| Some(r.metric.unit.as_str().to_string())),
            text(&|r| Some(r.metric.direction.as_str().to_string())),
            num(&|r| r.actual),
            num(&|r| r.target),
            num(&|r| r.attainment),
            text(&|r| r.status.clone()),
            num(&|r| r.previous),
            num(&|r| r.actual.zip(r.previous).map(|(a, p)| a - p)),
            text(&|r| r.note.clone()),
            Arc::new(Date32Array::from(
                rows.iter()
                    .map(|r| r.actual_month.map(days_of))
                    .collect::<Vec<_>>(),
            )),
            num(&|r| r.provisional),
        ],
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attainment_and_status_in_both_directions() {
        assert_eq!(attainment(90.0, 100.0, Direction::Higher), Some(0.9));
        assert_eq!(status(0.9, 1.0, 0.9), "amber");
        assert_eq!(status(1.1, 1.0, 0.9), "green");
        assert_eq!(status(0.89, 1.0, 0.9), "red");
        let lower = attainment(120.0, 100.0, Direction::Lower).unwrap();
        assert!((lower - 100.0 / 120.0).abs() < 1e-12);
        assert_eq!(status(lower, 1.0, 0.9), "red");
        assert_eq!(attainment(0.0, 100.0, Direction::Lower), None);
        assert_eq!(attainment(5.0, 0.0, Direction::Higher), None);
    }

    #[test]
    fn values_are_formatted_for_people() {
        assert_eq!(format_value(1234567.4, "currency"), "1,234,567");
        assert_eq!(format_value(-1200.0, "count"), "-1,200");
        assert_eq!(format_value(0.4567, "ratio"), "45.7%");
        assert_eq!(format_value(2.184, "multiple"), "2.18x");
        assert_eq!(format_value(16.24, "months"), "16.2 months");
    }

    #[test]
    fn the_latest_matured_cohort() {
        let m = |s: &str| s.parse::<Month>().unwrap();
        // A one-day window: last month's cohort has closed by the end of this one.
        assert_eq!(latest_matured(m("2026-11"), 1.0), m("2026-10"));
        // No window: this month's cohort is complete at its end.
        assert_eq!(latest_matured(m("2026-11"), 0.0), m("2026-11"));
        // 30 days: October (ends 11-01) closes 12-01 = the end of November.
        assert_eq!(latest_matured(m("2026-11"), 30.0), m("2026-10"));
        // 30 days after a February: the January cohort closes 03-03, after the end of
        // February (03-01); December's cohort is the latest closed.
        assert_eq!(latest_matured(m("2026-02"), 30.0), m("2025-12"));
        assert_eq!(latest_matured(m("2026-11"), 90.0), m("2026-08"));
    }
}
