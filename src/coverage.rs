//! What the inputs can and cannot support.
//!
//! A real export is rarely complete: a lead list with won deals only has no lost
//! opportunities, so a win rate from it would read 100%. Before any query runs, the
//! run counts the rows behind each fact of [`crate::schema`] (one per input table, plus
//! the derived facts such as `sales_touches` or `lost_opportunities`) as of the report
//! month. The result is the `coverage` output and a table the queries, scorecard and
//! charts can read. Whatever declares a need (`-- needs:` in a query header, `needs` in
//! `reports/*.toml`) that a fact does not meet is reported as not measurable, with the
//! fact's reason, instead of as a number.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Date32Array, Int64Array, RecordBatch, StringArray,
};
use datafusion::arrow::datatypes::{DataType, Date32Type, Field, Int64Type, Schema, SchemaRef};
use datafusion::prelude::SessionContext;
use serde::Serialize;

use crate::config::{days_to_date, Month};
use crate::error::Result;
use crate::schema::{self, Fact, DERIVED_FACTS, TABLES};

/// Tables of dated events: a month after their last row is not covered by the inputs.
pub const EVENT_TABLES: [&str; 5] = ["touches", "lifecycle", "opportunities", "spend", "costs"];

/// Tables whose months between their first and last should all have rows (a month
/// without any touch, stage entry or deal created or closed is a gap in the export, not
/// a quiet month); spend and costs may pause.
pub const GAP_TABLES: [&str; 3] = ["touches", "lifecycle", "opportunities"];

/// The start of every "cannot measure" note.
pub const NOT_MEASURABLE: &str = "not measurable from these inputs";

/// One fact about the inputs as of the report month.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FactRow {
    pub fact: String,
    pub description: String,
    pub available: bool,
    pub rows: i64,
    pub first_date: Option<String>,
    pub last_date: Option<String>,
    /// Why it is not available ("no lost opportunities"), when it is not.
    pub reason: Option<String>,
    /// Months (YYYY-MM) between the table's first and last that have no row: gaps in
    /// the export (input tables of [`GAP_TABLES`] only).
    pub gap_months: Vec<String>,
}

/// Every fact of a run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Coverage {
    pub facts: Vec<FactRow>,
}

/// Check that every name in `needs` is a fact; `Err` names the first that is not.
pub fn check_needs(needs: &[String]) -> std::result::Result<(), String> {
    for need in needs {
        if !schema::fact_keys().any(|k| k == need) {
            return Err(format!(
                "unknown fact `{need}` in needs (facts: {})",
                schema::fact_keys().collect::<Vec<_>>().join(", ")
            ));
        }
    }
    Ok(())
}

impl Coverage {
    /// Count every fact in `ctx`, where the inputs (as of the report month) and `params`
    /// are registered; `absent` are the input tables not given.
    pub async fn compute(ctx: &SessionContext, absent: &[&str]) -> Result<Coverage> {
        let mut facts = Vec::new();
        for t in TABLES {
            let f = Fact {
                key: t.name,
                what: t.name,
                table: t.name,
                filter: "TRUE",
                date: t.date_column(),
                sql: None,
            };
            facts.push(count(ctx, &f, absent).await?);
        }
        for f in DERIVED_FACTS {
            facts.push(count(ctx, f, absent).await?);
        }
        Ok(Coverage { facts })
    }

    pub fn get(&self, key: &str) -> Option<&FactRow> {
        self.facts.iter().find(|f| f.fact == key)
    }

    /// The reasons the unmet facts of `needs` give, in order (empty: all met).
    pub fn unmet(&self, needs: &[String]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for need in needs {
            if let Some(reason) = self.get(need).and_then(|f| f.reason.clone()) {
                if !out.contains(&reason) {
                    out.push(reason);
                }
            }
        }
        out
    }

    /// The event tables among `needs` (their facts' tables) whose rows end before the
    /// report month: a month after the export's end is not a month without activity.
    pub fn ended_before(&self, needs: &[String], month: Month) -> Vec<String> {
        let start = month.first_day().to_string();
        let mut out: Vec<String> = Vec::new();
        for need in needs {
            let table = schema::fact_table(need);
            if !EVENT_TABLES.contains(&table) {
                continue;
            }
            let Some(last) = self
                .get(table)
                .filter(|f| f.available)
                .and_then(|f| f.last_date.clone())
            else {
                continue;
            };
            let reason = format!("`{table}` ends {last}, before the report month {month}");
            if last < start && !out.contains(&reason) {
                out.push(reason);
            }
        }
        out
    }

    /// When every input ends before the report month: the reason no metric can be read
    /// for it ("the inputs end 2026-10-31, before the report month 2026-12").
    pub fn all_ended_before(&self, month: Month) -> Option<String> {
        let last = self
            .facts
            .iter()
            // Event tables and subscriptions (seen as of the report month: later start
            // and end dates are not in them) only: reference data carries planned dates
            // (a campaign's end next quarter) that say nothing of where the export stops.
            .filter(|f| {
                f.available
                    && (EVENT_TABLES.contains(&f.fact.as_str()) || f.fact == "subscriptions")
            })
            .filter_map(|f| f.last_date.clone())
            .max()?;
        (last < month.first_day().to_string())
            .then(|| format!("the inputs end {last}, before the report month {month}"))
    }

    /// The gaps among `needs`' tables that `month` falls in ("`touches` has no rows in
    /// 2026-05, a gap in the export").
    pub fn gap_in(&self, needs: &[String], month: Month) -> Vec<String> {
        let m = month.to_string();
        let mut out: Vec<String> = Vec::new();
        for need in needs {
            let table = schema::fact_table(need);
            if let Some(f) = self.get(table).filter(|f| f.gap_months.contains(&m)) {
                let reason = format!("`{}` has no rows in {m}, a gap in the export", f.fact);
                if !out.contains(&reason) {
                    out.push(reason);
                }
            }
        }
        out
    }

    /// The reason for a table that was not given ("no `spend` input").
    pub fn absent_reason(table: &str) -> String {
        format!("no `{table}` input")
    }

    /// Warnings a person should read before trusting the report: event tables that end
    /// well before the report month.
    pub fn warnings(&self, month: Month) -> Vec<String> {
        let start = month.first_day();
        let mut out = Vec::new();
        for key in EVENT_TABLES {
            let Some(last) = self
                .get(key)
                .filter(|f| f.available)
                .and_then(|f| f.last_date.as_deref())
                .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            else {
                continue;
            };
            if last < start {
                let last_month = Month {
                    year: chrono::Datelike::year(&last),
                    month: chrono::Datelike::month(&last),
                };
                let months = (month.year - last_month.year) * 12 + month.month as i32
                    - last_month.month as i32;
                out.push(format!(
                    "{key} end {last}, {months} month{} before the report month {month}: \
                     what is read from them is empty for the months after",
                    if months == 1 { "" } else { "s" }
                ));
            }
        }
        for f in self.facts.iter().filter(|f| !f.gap_months.is_empty()) {
            out.push(format!(
                "{} have no rows in {} (between {} and {}): a gap in the export; metrics \
                 read on those months are not measurable",
                f.fact,
                f.gap_months.join(", "),
                f.first_date.as_deref().unwrap_or("?"),
                f.last_date.as_deref().unwrap_or("?"),
            ));
        }
        out
    }

    pub fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("fact", DataType::Utf8, false),
            Field::new("description", DataType::Utf8, false),
            Field::new("available", DataType::Boolean, false),
            Field::new("rows", DataType::Int64, false),
            Field::new("first_date", DataType::Date32, true),
            Field::new("last_date", DataType::Date32, true),
            Field::new("reason", DataType::Utf8, true),
            Field::new("gap_months", DataType::Utf8, true),
        ]))
    }

    /// The `coverage` output.
    pub fn to_batch(&self) -> Result<RecordBatch> {
        let date = |d: &Option<String>| {
            d.as_deref()
                .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                .map(crate::config::date_to_days)
        };
        let f = &self.facts;
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from_iter_values(f.iter().map(|r| &r.fact))),
            Arc::new(StringArray::from_iter_values(
                f.iter().map(|r| &r.description),
            )),
            Arc::new(BooleanArray::from(
                f.iter().map(|r| r.available).collect::<Vec<_>>(),
            )),
            Arc::new(Int64Array::from_iter_values(f.iter().map(|r| r.rows))),
            Arc::new(Date32Array::from(
                f.iter().map(|r| date(&r.first_date)).collect::<Vec<_>>(),
            )),
            Arc::new(Date32Array::from(
                f.iter().map(|r| date(&r.last_date)).collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(
                f.iter().map(|r| r.reason.clone()).collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(
                f.iter()
                    .map(|r| (!r.gap_months.is_empty()).then(|| r.gap_months.join(", ")))
                    .collect::<Vec<_>>(),
            )),
        ];
        Ok(RecordBatch::try_new(Coverage::schema(), columns)?)
    }
}

async fn count(ctx: &SessionContext, f: &Fact, absent: &[&str]) -> Result<FactRow> {
    let is_table = schema::table(f.key).is_some();
    let description = if is_table {
        format!("rows of the `{}` input", f.key)
    } else {
        f.what.to_string()
    };
    if absent.contains(&f.table) {
        let reason = Coverage::absent_reason(f.table);
        return Ok(FactRow {
            fact: f.key.to_string(),
            description,
            available: false,
            rows: 0,
            first_date: None,
            last_date: None,
            reason: Some(reason),
            gap_months: vec![],
        });
    }
    let last_dates: Vec<String> = match schema::table(f.key) {
        Some(spec) => spec
            .date_columns()
            .map(|c| format!("MAX(CAST({c} AS DATE))"))
            .collect(),
        None => vec![],
    };
    let sql = match (f.sql, f.date) {
        // An input table ends at its latest date in any date column (an opportunity
        // closed after the last one was created).
        (None, Some(date)) if last_dates.len() > 1 => format!(
            "SELECT COUNT(*) AS rows, MIN(CAST({date} AS DATE)) AS first_date, \
             greatest({}) AS last_date FROM {}",
            last_dates.join(", "),
            f.table
        ),
        (Some(sql), _) => format!(
            "SELECT CAST(rows AS BIGINT) AS rows, CAST(NULL AS DATE) AS first_date, \
             CAST(NULL AS DATE) AS last_date FROM ({sql}) AS fact"
        ),
        (None, Some(date)) => format!(
            "SELECT COUNT(*) AS rows, MIN(CAST({date} AS DATE)) AS first_date, \
             MAX(CAST({date} AS DATE)) AS last_date FROM {} WHERE {}",
            f.table, f.filter
        ),
        (None, None) => format!(
            "SELECT COUNT(*) AS rows, CAST(NULL AS DATE) AS first_date, \
             CAST(NULL AS DATE) AS last_date FROM {} WHERE {}",
            f.table, f.filter
        ),
    };
    let batches = ctx.sql(&sql).await?.collect().await?;
    let b = batches.iter().find(|b| b.num_rows() > 0);
    let rows = b.map_or(0, |b| b.column(0).as_primitive::<Int64Type>().value(0));
    let date = |i: usize| {
        b.and_then(|b| {
            let c = b.column(i).as_primitive::<Date32Type>();
            c.is_valid(0).then(|| days_to_date(c.value(0)).to_string())
        })
    };
    let available = rows > 0;
    let reason = (!available).then(|| {
        if is_table {
            format!("no `{}` rows up to the report month", f.key)
        } else {
            format!("no {}", f.what)
        }
    });
    let gap_months = match schema::table(f.key) {
        Some(spec) if available && GAP_TABLES.contains(&spec.name) => gaps(ctx, spec).await?,
        _ => vec![],
    };
    Ok(FactRow {
        fact: f.key.to_string(),
        description,
        available,
        rows,
        first_date: date(1),
        last_date: date(2),
        reason,
        gap_months,
    })
}

/// The months between a table's first and last month (over all its date columns) in
/// which it has no row.
async fn gaps(ctx: &SessionContext, spec: &schema::TableSpec) -> Result<Vec<String>> {
    let selects: Vec<String> = spec
        .date_columns()
        .map(|c| {
            format!(
                // Without the time zone (the instants are UTC): date_trunc on a zoned
                // timestamp is several times slower, seconds at 10M touches.
                "SELECT CAST(date_trunc('month', CAST({c} AS TIMESTAMP)) AS DATE) AS month \
                 FROM {t} WHERE {c} IS NOT NULL",
                t = spec.name
            )
        })
        .collect();
    let sql = format!(
        "SELECT DISTINCT month FROM ({}) AS m",
        selects.join(" UNION ALL ")
    );
    let mut present: std::collections::BTreeSet<Month> = std::collections::BTreeSet::new();
    for b in ctx.sql(&sql).await?.collect().await? {
        let c = b.column(0).as_primitive::<Date32Type>();
        present.extend(
            (0..c.len())
                .filter(|&r| c.is_valid(r))
                .map(|r| Month::of(days_to_date(c.value(r)))),
        );
    }
    let (Some(&first), Some(&last)) = (present.first(), present.last()) else {
        return Ok(vec![]);
    };
    let mut out = Vec::new();
    let mut m = first;
    while m < last {
        if !present.contains(&m) {
            out.push(m.to_string());
        }
        m = m.next();
    }
    Ok(out)
}

/// "not measurable from these inputs: no lost opportunities; no spend input".
pub fn not_measurable(reasons: &[String]) -> String {
    format!("{NOT_MEASURABLE}: {}", reasons.join("; "))
}
