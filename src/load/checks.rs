//! The checks of a table: its columns against the spec (schema faults), then, after
//! conversion, the row rules, foreign keys, duplicate ids and natural keys of
//! `schema.rs` (row faults, collected per row: the first fault of a row is reported).

use std::collections::{BTreeMap, HashSet};

use chrono::DateTime;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Date32Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Date32Type, TimestampMicrosecondType};

use super::LoadedData;
use crate::error::{Error, Result};
use crate::schema::{Kind, NaturalKey, RowRule, TableSpec};

/// Schema check of one source: required columns present, no unknown columns.
pub fn check_columns<'a>(
    spec: &TableSpec,
    names: impl Iterator<Item = &'a str>,
    source: &str,
) -> Result<()> {
    let names: Vec<&str> = names.collect();
    for name in &names {
        if spec.column(name).is_none() {
            return Err(Error::UnknownColumn {
                file: source.into(),
                table: spec.name.into(),
                column: name.to_string(),
                known: spec
                    .columns
                    .iter()
                    .map(|c| c.name)
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }
    for col in spec.columns.iter().filter(|c| c.required) {
        if !names.contains(&col.name) {
            return Err(Error::MissingColumn {
                file: source.into(),
                table: spec.name.into(),
                column: col.name.into(),
            });
        }
    }
    Ok(())
}

#[derive(Debug, Clone)]
pub(super) struct Fault {
    pub(super) column: &'static str,
    pub(super) reason: String,
    pub(super) raw: String,
}

/// Row faults by row number; a row keeps its first fault. Sparse, because faults are
/// rare and tables can have tens of millions of rows.
pub(super) type Faults = BTreeMap<usize, Fault>;

pub(super) fn fault(
    faults: &mut Faults,
    row: usize,
    column: &'static str,
    reason: impl Into<String>,
    raw: impl Into<String>,
) {
    faults.entry(row).or_insert_with(|| Fault {
        column,
        reason: reason.into(),
        raw: raw.into(),
    });
}

pub(super) fn strings<'a>(batch: &'a RecordBatch, name: &str) -> Option<&'a StringArray> {
    batch.column_by_name(name).map(|a| a.as_string::<i32>())
}

/// The value of `column` in `row` as it was in the file (trimmed, as the conversion
/// saw it) when the source held it as text (CSV, JSON lines, text Parquet columns);
/// else `formatted` (typed Parquet values).
fn raw_text(
    raw: &RecordBatch,
    column: &str,
    row: usize,
    formatted: impl FnOnce() -> String,
) -> String {
    let text = raw.column_by_name(column).and_then(|a| {
        if a.is_null(row) {
            return None;
        }
        match a.data_type() {
            DataType::Utf8 => Some(a.as_string::<i32>().value(row)),
            DataType::LargeUtf8 => Some(a.as_string::<i64>().value(row)),
            DataType::Utf8View => Some(a.as_string_view().value(row)),
            _ => None,
        }
    });
    match text {
        Some(t) => t.trim().to_string(),
        None => formatted(),
    }
}

/// The table's row rules (`TableSpec::row_rules`). `raw` is the part as read, for the
/// raw value of a fault.
pub(super) fn check_rows(
    spec: &TableSpec,
    batch: &RecordBatch,
    raw: &RecordBatch,
    faults: &mut Faults,
) {
    for rule in spec.row_rules {
        match *rule {
            RowRule::NotBefore { later, earlier } => {
                not_before(spec, batch, raw, later, earlier, faults)
            }
            RowRule::NotNegative(column) => {
                let values = batch
                    .column_by_name(column)
                    .expect("money column")
                    .as_primitive::<datafusion::arrow::datatypes::Decimal128Type>();
                for row in 0..values.len() {
                    if values.is_valid(row) && values.value(row) < 0 {
                        fault(
                            faults,
                            row,
                            spec.column(column).expect("column").name,
                            format!("negative {column}"),
                            raw_text(raw, column, row, || format_cents(values.value(row))),
                        );
                    }
                }
            }
            RowRule::ClosedWhenDecided => {
                let closed = ts_col(batch, "closed_at");
                let status = strings(batch, "status").expect("status");
                for row in 0..batch.num_rows() {
                    if status.is_valid(row) && status.value(row) != "open" && closed.is_null(row) {
                        fault(faults, row, "closed_at", "won/lost without closed_at", "");
                    }
                }
            }
        }
    }
}

/// Rule `NotBefore`: `later` is not before `earlier` (two timestamps or two dates).
fn not_before(
    spec: &TableSpec,
    batch: &RecordBatch,
    raw: &RecordBatch,
    later: &'static str,
    earlier: &'static str,
    faults: &mut Faults,
) {
    let reason = format!("{later} before {earlier}");
    let column = spec.column(later).expect("row rule column").name;
    if matches!(spec.column(later).map(|c| c.kind), Some(Kind::Timestamp)) {
        let (end, start) = (ts_col(batch, later), ts_col(batch, earlier));
        for row in 0..batch.num_rows() {
            if end.is_valid(row) && start.is_valid(row) && end.value(row) < start.value(row) {
                let text = raw_text(raw, later, row, || format_micros(end.value(row)));
                fault(faults, row, column, reason.clone(), text);
            }
        }
    } else {
        let (end, start) = (date_col(batch, later), date_col(batch, earlier));
        for row in 0..batch.num_rows() {
            if end.is_valid(row) && start.is_valid(row) && end.value(row) < start.value(row) {
                let text = raw_text(raw, later, row, || format_days(end.value(row)));
                fault(faults, row, column, reason.clone(), text);
            }
        }
    }
}

/// Dangling foreign keys, then duplicate primary keys. The first *valid* copy of an
/// id is kept: a row already faulted (unparseable value, row rule, dangling reference)
/// does not claim its id, so a later valid copy loads instead of being rejected as a
/// duplicate of a row that is not loaded either.
pub(super) fn check_keys(
    spec: &TableSpec,
    batch: &RecordBatch,
    earlier: &LoadedData,
    faults: &mut Faults,
) {
    for key in spec.foreign_keys {
        let Some(target) = earlier.tables.get(key.table) else {
            continue;
        };
        let target_pk = target
            .spec
            .primary_key
            .expect("foreign keys point to primary keys");
        let known: HashSet<&str> = strings(&target.batch, target_pk)
            .expect("pk")
            .iter()
            .flatten()
            .collect();
        let values = strings(batch, key.column).expect("foreign key column");
        for row in 0..values.len() {
            if values.is_valid(row) && !known.contains(values.value(row)) {
                fault(
                    faults,
                    row,
                    key.column,
                    format!("dangling foreign key to {}", key.table),
                    values.value(row),
                );
            }
        }
    }
    if let Some(pk) = spec.primary_key {
        let ids = strings(batch, pk).expect("primary key column");
        let mut seen: HashSet<&str> = HashSet::with_capacity(ids.len());
        for row in 0..ids.len() {
            if faults.contains_key(&row) || ids.is_null(row) {
                continue;
            }
            if !seen.insert(ids.value(row)) {
                fault(faults, row, pk, "duplicate id", ids.value(row));
            }
        }
    }
    // A stage entry given twice (same contact, stage and time) is one entry, and a
    // target given twice (same metric, month and segment) has no single value: the
    // copies are rejected, so every output counts an entry once.
    if let Some(NaturalKey {
        columns,
        reported_on: column,
        reason,
    }) = spec.natural_key
    {
        use datafusion::arrow::util::display::array_value_to_string;
        let arrays: Vec<&ArrayRef> = columns
            .iter()
            .map(|c| batch.column_by_name(c).expect("natural key column"))
            .collect();
        let column: &'static str = spec.column(column).expect("column").name;
        let mut seen: HashSet<String> = HashSet::with_capacity(batch.num_rows());
        for row in 0..batch.num_rows() {
            if faults.contains_key(&row) {
                continue;
            }
            let key = arrays
                .iter()
                .map(|a| {
                    if a.is_null(row) {
                        String::new()
                    } else {
                        array_value_to_string(a, row).unwrap_or_default()
                    }
                })
                .collect::<Vec<_>>()
                .join(" ");
            if !seen.insert(key.clone()) {
                fault(faults, row, column, reason, &key);
            }
        }
    }
}

fn ts_col(batch: &RecordBatch, name: &str) -> TimestampMicrosecondArray {
    batch
        .column_by_name(name)
        .expect("column")
        .as_primitive::<TimestampMicrosecondType>()
        .clone()
}

fn date_col(batch: &RecordBatch, name: &str) -> Date32Array {
    batch
        .column_by_name(name)
        .expect("column")
        .as_primitive::<Date32Type>()
        .clone()
}

fn format_micros(v: i64) -> String {
    DateTime::from_timestamp_micros(v)
        .map(|t| t.to_rfc3339())
        .unwrap_or_default()
}

fn format_days(v: i32) -> String {
    crate::config::days_to_date(v).to_string()
}

fn format_cents(v: i128) -> String {
    let sign = if v < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", v.abs() / 100, v.abs() % 100)
}
