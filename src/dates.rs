//! What the dates in the inputs say about the report: the latest plausible activity
//! (which sets the default `--month`), rows dated after the day of the run (typos and
//! placeholders such as 2099-01-01, which must not move the report month), and rows
//! far past the report month. One rule, used by `run` and `validate`.

use chrono::{Datelike, NaiveDate};
use datafusion::arrow::array::{AsArray, Date32Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Date32Type};
use serde::Serialize;

use crate::config::Month;
use crate::error::{Error, Result};
use crate::load::{LoadedData, LoadedTable};

/// Rows dated after the day revalign runs cannot be history (a typo, a placeholder
/// such as 2099-01-01): the default report month ignores them and the run warns.
/// Rows dated after the report month's end by more than this many days are reported
/// too (they are ignored by a run for that month, which is right when re-running an
/// old month, and a sign of a wrong `--month` otherwise).
pub const LATE_ROWS_MARGIN_DAYS: i64 = 92;

/// One dated value: where it is and which row holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DatedRow {
    #[serde(serialize_with = "iso_date")]
    pub date: NaiveDate,
    pub table: String,
    pub column: String,
    /// The row's id (primary key), or its position when the table has none.
    pub row: String,
}

fn iso_date<S: serde::Serializer>(date: &NaiveDate, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_str(date)
}

/// Rows of one date column past some day: how many, and the latest of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowsAfter {
    pub rows: usize,
    pub latest: DatedRow,
}

/// Call `visit` with every date and timestamp column of the loaded inputs, as days.
fn visit_date_columns(
    loaded: &LoadedData,
    mut visit: impl FnMut(&str, &LoadedTable, &str, &Date32Array),
) {
    for (name, table) in &loaded.tables {
        let schema = table.batch.schema();
        for field in schema.fields() {
            if !matches!(
                field.data_type(),
                DataType::Timestamp(_, _) | DataType::Date32
            ) {
                continue;
            }
            let column = table
                .batch
                .column_by_name(field.name())
                .expect("own column");
            let Ok(days) = cast(column, &DataType::Date32) else {
                continue;
            };
            visit(name, table, field.name(), days.as_primitive::<Date32Type>());
        }
    }
}

/// The latest day in `days` that `keep` accepts, with its first row and how many
/// days `keep` accepts.
fn latest_where(days: &Date32Array, keep: impl Fn(i32) -> bool) -> Option<(i32, usize, usize)> {
    let mut best: Option<(i32, usize)> = None;
    let mut count = 0;
    for (row, day) in days.iter().enumerate() {
        let Some(day) = day.filter(|d| keep(*d)) else {
            continue;
        };
        count += 1;
        if best.is_none_or(|(b, _)| day > b) {
            best = Some((day, row));
        }
    }
    best.map(|(day, row)| (day, row, count))
}

fn dated_row(table: &LoadedTable, name: &str, column: &str, day: i32, row: usize) -> DatedRow {
    let id = table
        .spec
        .primary_key
        .and_then(|pk| table.batch.column_by_name(pk))
        .and_then(|c| c.as_string_opt::<i32>().map(|s| s.value(row).to_string()))
        .unwrap_or_else(|| format!("row {}", row + 1));
    DatedRow {
        date: crate::config::days_to_date(day),
        table: name.to_string(),
        column: column.to_string(),
        row: id,
    }
}

/// The rows of one date column dated after `after` and up to `until` (days).
fn rows_between(
    table: &LoadedTable,
    name: &str,
    column: &str,
    days: &Date32Array,
    (after, until): (i32, i32),
) -> Option<RowsAfter> {
    let (last, row, rows) = latest_where(days, |d| d > after && d <= until)?;
    Some(RowsAfter {
        rows,
        latest: dated_row(table, name, column, last, row),
    })
}

/// What the dates of the inputs say about the report month.
#[derive(Debug, Clone, Default)]
pub struct DateScan {
    /// The latest activity dated on or before the day of the run: sets the default
    /// month.
    pub latest: Option<DatedRow>,
    /// Per table and column: rows dated after the day of the run.
    pub future: Vec<RowsAfter>,
    /// The day of the run.
    pub today: NaiveDate,
}

impl DateScan {
    /// Scan `loaded`; `today` is the day of the run.
    pub fn new(loaded: &LoadedData, today: NaiveDate) -> DateScan {
        let today_days = crate::config::date_to_days(today);
        let after_today = (
            today_days,
            crate::config::date_to_days(crate::config::MAX_DATE),
        );
        let mut scan = DateScan {
            today,
            ..DateScan::default()
        };
        visit_date_columns(loaded, |name, table, column, days| {
            scan.future
                .extend(rows_between(table, name, column, days, after_today));
            // The activity columns of the table (schema.rs) set how far the data goes.
            let activity =
                crate::schema::table(name).is_some_and(|t| t.activity_columns.contains(&column));
            if !activity {
                return;
            }
            if let Some((day, row, _)) = latest_where(days, |d| d <= today_days) {
                let candidate = dated_row(table, name, column, day, row);
                if scan.latest.as_ref().is_none_or(|l| candidate.date > l.date) {
                    scan.latest = Some(candidate);
                }
            }
        });
        scan
    }

    /// The default report month: the last complete month of the latest plausible
    /// activity (the month of that date when it falls on the month's last day, else
    /// the month before).
    pub fn default_month(&self) -> Result<Month> {
        let latest = self.latest.as_ref().ok_or_else(|| {
            Error::NoData(
                "no dated rows up to today in touches, lifecycle, opportunities or \
                 subscriptions; pass --month"
                    .into(),
            )
        })?;
        let date = latest.date;
        let month = Month::of(date);
        let is_last_day = (date + chrono::Duration::days(1)).month() != date.month();
        Ok(if is_last_day { month } else { month.prev() })
    }
}

/// The day of the run (UTC).
pub fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

/// The warnings a run prints and records: rows the report cannot place in time.
pub fn date_warnings(scan: &DateScan, month: Month, loaded: &LoadedData) -> Vec<String> {
    let mut warnings = Vec::new();
    for f in &scan.future {
        warnings.push(format!(
            "{}.{}: {} row(s) dated after today, latest {} ({}); they do not set the \
             default report month",
            f.latest.table, f.latest.column, f.rows, f.latest.date, f.latest.row
        ));
    }
    let late_after = month.next().first_day() + chrono::Duration::days(LATE_ROWS_MARGIN_DAYS);
    let late_window = (
        crate::config::date_to_days(late_after),
        crate::config::date_to_days(scan.today),
    );
    let mut late = Vec::new();
    visit_date_columns(loaded, |name, table, column, days| {
        late.extend(rows_between(table, name, column, days, late_window));
    });
    for l in late {
        warnings.push(format!(
            "{}.{}: {} row(s) dated more than {LATE_ROWS_MARGIN_DAYS} days after report month \
             {month}, latest {} ({}); the {month} report ignores them",
            l.latest.table, l.latest.column, l.rows, l.latest.date, l.latest.row
        ));
    }
    warnings
}
