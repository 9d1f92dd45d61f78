//! The aligned scorecard: one row per metric of the catalogue in `reports/scorecard.toml`
//! (embedded; `--reports DIR` reads `DIR/scorecard.toml` instead), each with its owner,
//! this month's value, the target from the `targets` input, attainment, a RAG status,
//! last month's value and the change.
//!
//! A metric is SQL over the run's tables, so a RevOps analyst adds one by editing TOML.
//! A metric whose table was skipped (its inputs are absent) stays on the scorecard with
//! no value and a note naming what is missing, rather than vanishing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, RecordBatch, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Date32Type, Field, Float64Type, Schema};
use datafusion::prelude::SessionContext;
use serde::Deserialize;

use crate::config::Month;
use crate::error::{Error, Result};

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
            if !crate::pipeline::is_safe_name(&m.key) {
                return Err(bad(format!(
                    "metric key `{}` must match ^[a-z0-9_]+$",
                    m.key
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

    /// `dir/scorecard.toml` when present, else the built-in catalogue.
    pub fn load(dir: Option<&Path>) -> Result<(PathBuf, Catalogue)> {
        let (path, text) = crate::pipeline::report_file(dir, "scorecard.toml")?;
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

fn days(month: Month) -> i32 {
    crate::config::date_to_days(month.first_day())
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
        if months.is_valid(r)
            && months.value(r) == days(month)
            && segment.is_null(r)
            && target.is_valid(r)
        {
            out.insert(metric.value(r).to_string(), target.value(r));
        }
    }
    Ok(out)
}

/// Compute the scorecard. `skipped` maps skipped tables to their missing inputs.
pub async fn compute(
    ctx: &SessionContext,
    catalogue: &Catalogue,
    source: &Path,
    month: Month,
    skipped: &BTreeMap<String, Vec<String>>,
    targets: Option<&RecordBatch>,
) -> Result<RecordBatch> {
    let targets = targets_of(targets, month)?;
    let (this, prev) = (days(month), days(month.prev()));
    let mut rows: Vec<[Option<String>; 7]> = Vec::new();
    let mut nums: Vec<[Option<f64>; 5]> = Vec::new();
    for m in &catalogue.metric {
        let query = m.query();
        let words = crate::pipeline::sql_identifiers(&query);
        let missing: BTreeSet<&String> = skipped
            .iter()
            .filter(|(t, _)| words.contains(*t))
            .flat_map(|(_, m)| m)
            .collect();
        let target = targets.get(&m.key).copied();
        let (mut actual, mut previous, mut note) = (None, None, None);
        if missing.is_empty() {
            let wrap = |e| Error::Query {
                query: format!("scorecard metric {}", m.key),
                file: source.display().to_string(),
                source: e,
            };
            // Metric SQL comes from a user-editable catalogue: read-only.
            let batches = crate::pipeline::read_only_sql(ctx, &query)
                .await
                .map_err(wrap)?
                .collect()
                .await
                .map_err(wrap)?;
            for b in &batches {
                let months = b.column(0).as_primitive::<Date32Type>();
                let values = b.column(1).as_primitive::<Float64Type>();
                for r in 0..b.num_rows() {
                    if months.is_null(r) || values.is_null(r) || !values.value(r).is_finite() {
                        continue;
                    }
                    if months.value(r) == this {
                        actual = Some(values.value(r));
                    } else if months.value(r) == prev {
                        previous = Some(values.value(r));
                    }
                }
            }
            if actual.is_none() {
                note = Some("no value this month".to_string());
            } else if target.is_none() {
                note = Some("no target".to_string());
            }
        } else {
            let missing: Vec<&str> = missing.into_iter().map(String::as_str).collect();
            note = Some(format!("skipped: missing {}", missing.join(", ")));
        }
        let att = match (actual, target) {
            (Some(a), Some(t)) => attainment(a, t, m.direction),
            _ => None,
        };
        let st = match (actual, target) {
            (Some(a), Some(_)) if att.is_none() && m.direction == Direction::Lower && a == 0.0 => {
                Some("green")
            }
            _ => att.map(|x| status(x, m.green.unwrap_or(1.0), m.amber.unwrap_or(0.9))),
        };
        rows.push([
            Some(m.key.clone()),
            Some(m.label.clone()),
            Some(m.owner.as_str().to_string()),
            Some(m.unit.as_str().to_string()),
            Some(m.direction.as_str().to_string()),
            st.map(str::to_string),
            note,
        ]);
        nums.push([
            actual,
            target,
            att,
            previous,
            actual.zip(previous).map(|(a, p)| a - p),
        ]);
    }
    build(rows, nums)
}

fn build(rows: Vec<[Option<String>; 7]>, nums: Vec<[Option<f64>; 5]>) -> Result<RecordBatch> {
    let text = |i: usize| -> ArrayRef {
        Arc::new(StringArray::from(
            rows.iter().map(|r| r[i].clone()).collect::<Vec<_>>(),
        ))
    };
    let num = |i: usize| -> ArrayRef {
        Arc::new(Float64Array::from(
            nums.iter().map(|r| r[i]).collect::<Vec<_>>(),
        ))
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
    ]));
    Ok(RecordBatch::try_new(
        schema,
        vec![
            text(0),
            text(1),
            text(2),
            text(3),
            text(4),
            num(0),
            num(1),
            num(2),
            text(5),
            num(3),
            num(4),
            text(6),
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
}
