//! The checks of a table: its columns against the spec (schema faults), then, after
//! conversion, the row rules, foreign keys, duplicate ids and natural keys of
//! `schema.rs` (row faults, collected per row: the first fault of a row is reported).

use std::collections::BTreeMap;
use std::hash::BuildHasher;

use chrono::DateTime;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Date32Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Date32Type, TimestampMicrosecondType};
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::common::hash_map::Entry;
use datafusion::common::{HashMap, HashSet};

use super::LoadedData;
use crate::error::{Error, Result};
use crate::parallel::join;
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
        let known = target
            .key_index
            .get_or_init(|| KeyIndex::new(strings(&target.batch, target_pk).expect("pk")));
        let values = strings(batch, key.column).expect("foreign key column");
        for row in dangling_rows(values, known) {
            fault(
                faults,
                row,
                key.column,
                format!("dangling foreign key to {}", key.table),
                values.value(row),
            );
        }
    }
    if let Some(pk) = spec.primary_key {
        let ids = strings(batch, pk).expect("primary key column");
        let claims = |row: usize| ids.is_valid(row) && !faults.contains_key(&row);
        for row in repeated_rows(ids.len(), claims, |row| ids.value(row).as_bytes()) {
            fault(faults, row, pk, "duplicate id", ids.value(row));
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
        let arrays: Vec<ArrayRef> = columns
            .iter()
            .map(|c| batch.column_by_name(c).expect("natural key column").clone())
            .collect();
        let column: &'static str = spec.column(column).expect("column").name;
        // The key's values as comparable bytes (arrow's row format), formatted as text
        // only for a copy's reject.
        let converter = RowConverter::new(
            arrays
                .iter()
                .map(|a| SortField::new(a.data_type().clone()))
                .collect(),
        )
        .expect("row format of natural key columns");
        let rows = converter
            .convert_columns(&arrays)
            .expect("row format of natural key columns");
        let claims = |row: usize| !faults.contains_key(&row);
        for row in repeated_rows(batch.num_rows(), claims, |row| rows.row(row).data()) {
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
            fault(faults, row, column, reason, &key);
        }
    }
}

/// A table's primary key values by hash, for the foreign keys that reference it: built
/// once however many tables do (contacts are referenced by four).
#[derive(Debug)]
pub(super) struct KeyIndex {
    ids: StringArray,
    /// Hash of a value -> the first row holding a value with that hash.
    first: HashMap<u64, u32>,
    /// Values whose hash an earlier, different value has (almost never).
    collided: HashSet<String>,
}

impl KeyIndex {
    fn new(ids: &StringArray) -> KeyIndex {
        let mut first: HashMap<u64, u32> = HashMap::with_capacity(ids.len());
        let mut collided = HashSet::new();
        for row in (0..ids.len()).filter(|&row| ids.is_valid(row)) {
            let value = ids.value(row);
            let hash = first.hasher().hash_one(value);
            match first.entry(hash) {
                Entry::Vacant(slot) => {
                    slot.insert(row as u32);
                }
                Entry::Occupied(earlier) => {
                    if ids.value(*earlier.get() as usize) != value {
                        collided.insert(value.to_string());
                    }
                }
            }
        }
        KeyIndex {
            ids: ids.clone(),
            first,
            collided,
        }
    }

    fn contains(&self, value: &str) -> bool {
        match self.first.get(&self.first.hasher().hash_one(value)) {
            Some(&row) => self.ids.value(row as usize) == value || self.collided.contains(value),
            None => false,
        }
    }
}

/// Rows (ascending) whose value is not in `known`, the two halves of the column on
/// two threads.
fn dangling_rows(values: &StringArray, known: &KeyIndex) -> Vec<usize> {
    let dangling = |rows: std::ops::Range<usize>| -> Vec<usize> {
        rows.filter(|&row| values.is_valid(row) && !known.contains(values.value(row)))
            .collect()
    };
    let half = values.len() / 2;
    let (mut rows, second) = join(|| dangling(0..half), || dangling(half..values.len()));
    rows.extend(second);
    rows
}

/// Rows (ascending) holding a value an earlier row holds; rows where `claims` is
/// false neither count nor claim a value. Each row's value is hashed in one
/// sequential pass and the (hash, row) pairs are grouped by hash (in row order within
/// a group), so each group's table fits in cache and values are compared only when
/// their hashes are equal; the groups are split over two threads. One table of ten
/// million ids spends its time waiting on memory.
fn repeated_rows<'a>(
    len: usize,
    claims: impl Fn(usize) -> bool,
    value: impl Fn(usize) -> &'a [u8] + Sync,
) -> Vec<usize> {
    const GROUPS: usize = 1024;
    let hasher = HashSet::<&[u8]>::default().hasher().clone();
    let hashed: Vec<(u64, u32)> = (0..len)
        .filter(|&row| claims(row))
        .map(|row| (hasher.hash_one(value(row)), row as u32))
        .collect();
    // Middle bits choose the group: the groups' own tables use the low and top bits.
    let group_of = |hash: u64| ((hash >> 32) % GROUPS as u64) as usize;
    // Pairs by group: a counting sort, stable.
    let mut start = vec![0usize; GROUPS + 1];
    for &(hash, _) in &hashed {
        start[group_of(hash) + 1] += 1;
    }
    for g in 0..GROUPS {
        start[g + 1] += start[g];
    }
    let mut next = start.clone();
    let mut grouped = vec![(0u64, 0u32); hashed.len()];
    for &(hash, row) in &hashed {
        let g = group_of(hash);
        grouped[next[g]] = (hash, row);
        next[g] += 1;
    }
    drop(hashed);
    let repeated = |groups: std::ops::Range<usize>| -> Vec<usize> {
        let mut first_of: HashMap<u64, u32> = HashMap::new();
        // Values whose hash an earlier, different value has (almost never).
        let mut collided: HashSet<&[u8]> = HashSet::new();
        let mut repeated = Vec::new();
        for g in groups {
            first_of.clear();
            collided.clear();
            for &(hash, row) in &grouped[start[g]..start[g + 1]] {
                let repeat = match first_of.entry(hash) {
                    Entry::Vacant(slot) => {
                        slot.insert(row);
                        false
                    }
                    Entry::Occupied(first) => {
                        let this = value(row as usize);
                        value(*first.get() as usize) == this || !collided.insert(this)
                    }
                };
                if repeat {
                    repeated.push(row as usize);
                }
            }
        }
        repeated
    };
    let (mut rows, second) = join(|| repeated(0..GROUPS / 2), || repeated(GROUPS / 2..GROUPS));
    rows.extend(second);
    rows.sort_unstable();
    rows
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A row that does not claim its value (a faulted row) leaves it to the next copy.
    #[test]
    fn the_first_claiming_copy_of_a_value_is_kept() {
        let ids = StringArray::from(vec![
            Some("a"),
            Some("b"),
            Some("a"),
            None,
            Some("b"),
            None,
            Some("c"),
            Some("a"),
        ]);
        let claims = |row: usize| ids.is_valid(row) && row != 0;
        let repeated = repeated_rows(ids.len(), claims, |row| ids.value(row).as_bytes());
        assert_eq!(repeated, [4, 7]);
    }

    /// Many values over every hash group, against one plain set in row order.
    #[test]
    fn repeated_rows_agree_with_a_single_set() {
        let ids: StringArray = (0..60_000u64)
            .map(|i| Some(format!("id-{}", (i * 7919) % 45_000)))
            .collect();
        let claims = |row: usize| row % 11 != 3;
        let mut seen = std::collections::HashSet::new();
        let expected: Vec<usize> = (0..ids.len())
            .filter(|&row| claims(row) && !seen.insert(ids.value(row)))
            .collect();
        assert!(expected.len() > 10_000);
        let repeated = repeated_rows(ids.len(), claims, |row| ids.value(row).as_bytes());
        assert_eq!(repeated, expected);
    }

    #[test]
    fn key_index_answers_membership() {
        let ids = StringArray::from(vec![Some("c1"), None, Some("c2"), Some("c1")]);
        let index = KeyIndex::new(&ids);
        assert!(index.contains("c1") && index.contains("c2"));
        assert!(!index.contains("c3") && !index.contains(""));
        let values = StringArray::from(vec![Some("c2"), Some("x"), None, Some("c1"), Some("y")]);
        assert_eq!(dangling_rows(&values, &index), [1, 4]);
    }
}
