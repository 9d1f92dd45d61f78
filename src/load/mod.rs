//! Reading and validating the canonical input tables.
//!
//! A table is read raw (every file of it, whatever its format), then each column is
//! converted to its canonical type row by row. Row faults never stop the run: the row
//! goes to `rejects` with its table, source file, row number, column, reason and raw
//! value. Schema faults (a required table or column missing, an unknown column, an
//! unreadable file) stop the run before anything is written.
//!
//! CSV, Parquet and JSON lines go through one validation path: CSV and JSON lines are
//! read as text (JSON numbers as their literal digits), Parquet keeps its types, and
//! both end in the same conversions, range limits and reject reasons (see
//! `docs/faults.md`, "Input faults", for every fault class and what happens to it).
//!
//! Table checks run after conversion, in the load order of [`schema::TABLES`]: row
//! rules (closed before created, won without a close date, negative money), foreign
//! keys against the rows already accepted, so the touches of a rejected contact are
//! rejected too, then duplicate ids (the first valid copy is kept). Input rows = loaded
//! + rejected, always.
//!
//! The stages of loading, one submodule each: `locate` (finding a table's files),
//! `read` (a file as it is; the CSV and JSON-lines readers, which turn a file into
//! text columns and refuse its syntax faults, are `csv` and `jsonl`), `staging`
//! (canonical tables from staging SQL), `convert` (raw values to canonical types) and
//! `checks` (columns, row rules, keys). This module holds the loaded data and runs
//! the stages in order ([`load`], [`validate_table`]).

mod checks;
mod convert;
mod csv;
mod currency;
mod jsonl;
mod locate;
mod read;
mod staging;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use datafusion::arrow::array::{Array, ArrayRef, BooleanArray, RecordBatch, StringArray};
use datafusion::arrow::compute::{concat_batches, filter_record_batch};
use datafusion::arrow::datatypes::SchemaRef;
use serde::Serialize;

use self::checks::{check_keys, check_rows, strings, Faults, KeyIndex};
use self::convert::convert_column;
use self::currency::Currencies;
use self::locate::locate_in;
use crate::error::{Error, Result};
use crate::schema::{self, TableSpec};

pub use self::checks::check_columns;
pub use self::convert::{parse_date_days, parse_money_cents, parse_timestamp_micros};
pub use self::locate::locate;
pub use self::read::{raw_part, read_file, read_raw_file, register_raw};
pub use self::staging::{stage, staged_part};

/// Reject reason of a number that parses but is NaN or infinite (any format).
pub const REASON_NOT_FINITE: &str = "not a finite number";
/// Reject reason of a date or timestamp outside
/// [`crate::config::MIN_DATE`]..=[`crate::config::MAX_DATE`] (any format).
pub const REASON_DATE_RANGE: &str = "date outside the supported range 1900-01-01..2199-12-31";
/// Reject reason of a money value above [`schema::MONEY_MAX_ABS`] in absolute value.
pub const REASON_MONEY_TOO_LARGE: &str = "money value too large (over 1e12)";

/// Raw rows of a table from one source (a file, or a staging query).
pub struct RawPart {
    pub source: String,
    /// Column names as read (trimmed, lower-cased), also for a file with no rows.
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
}

/// One rejected row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reject {
    pub table: String,
    pub source_file: String,
    /// 1-based data row within its source file (the header line is not counted).
    pub row_number: i64,
    pub column: String,
    pub reason: String,
    pub raw_value: String,
    /// The record's key (its id, or for tables without one the first reference such
    /// as lifecycle's contact_id), to find the record in the source system.
    pub record_key: Option<String>,
}

/// What happened to one table.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TableStats {
    pub sources: Vec<String>,
    pub rows_read: usize,
    pub loaded: usize,
    pub rejected: usize,
    pub rejected_by_reason: BTreeMap<String, usize>,
    /// Rows converted to the reporting currency, by their currency.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub converted_from: BTreeMap<String, usize>,
}

/// A validated canonical table.
#[derive(Debug)]
pub struct LoadedTable {
    pub spec: &'static TableSpec,
    pub batch: RecordBatch,
    pub stats: TableStats,
    /// The primary key's index for foreign-key checks, built by the first table that
    /// references this one.
    key_index: OnceLock<KeyIndex>,
}

/// All inputs of a run, validated.
#[derive(Debug, Default)]
pub struct LoadedData {
    pub tables: BTreeMap<&'static str, LoadedTable>,
    pub rejects: Vec<Reject>,
    /// Optional tables that are absent.
    pub absent: Vec<&'static str>,
    /// What the source packs did (`--source`), empty without.
    pub sources: crate::sources::SourceReport,
    /// The currency every amount is in once loaded, when `reporting_currency` is set.
    pub reporting_currency: Option<String>,
}

impl LoadedData {
    pub fn has(&self, table: &str) -> bool {
        self.tables.contains_key(table)
    }
    /// Drop the rows of every table but those in `keep`, keeping schemas and stats:
    /// once the engine holds its own (filtered) copy, the largest inputs are not held
    /// twice.
    pub fn release_rows(&mut self, keep: &[&str]) {
        for (name, table) in self.tables.iter_mut() {
            table.key_index = OnceLock::new();
            if !keep.contains(name) {
                table.batch = RecordBatch::new_empty(table.batch.schema());
            }
        }
    }
    pub fn rejects_batch(&self) -> Result<RecordBatch> {
        let r = &self.rejects;
        Ok(RecordBatch::try_new(
            schema::rejects_schema(),
            vec![
                Arc::new(StringArray::from_iter_values(r.iter().map(|x| &x.table))),
                Arc::new(StringArray::from_iter_values(
                    r.iter().map(|x| &x.source_file),
                )),
                Arc::new(datafusion::arrow::array::Int64Array::from_iter_values(
                    r.iter().map(|x| x.row_number),
                )),
                Arc::new(StringArray::from_iter_values(r.iter().map(|x| &x.column))),
                Arc::new(StringArray::from_iter_values(r.iter().map(|x| &x.reason))),
                Arc::new(StringArray::from_iter_values(
                    r.iter().map(|x| &x.raw_value),
                )),
                Arc::new(StringArray::from(
                    r.iter().map(|x| x.record_key.clone()).collect::<Vec<_>>(),
                )),
            ],
        )?)
    }
}

/// What currency conversion did, for people: one line per table that converted rows
/// (empty when nothing converted).
pub fn currency_lines<'a>(
    reporting: Option<&str>,
    tables: impl Iterator<Item = (&'a str, &'a TableStats)>,
) -> Vec<String> {
    let Some(reporting) = reporting else {
        return vec![];
    };
    tables
        .filter(|(_, s)| !s.converted_from.is_empty())
        .map(|(table, s)| {
            let from: Vec<String> = s
                .converted_from
                .iter()
                .map(|(c, n)| format!("{n} from {c}"))
                .collect();
            format!(
                "{table}: rows converted to {reporting}: {}",
                from.join(", ")
            )
        })
        .collect()
}

/// Whether `path` has an extension revalign reads (CSV, Parquet, JSON lines).
pub fn format_known(path: &Path) -> bool {
    self::locate::format_of(path).is_some()
}

/// Load and validate every canonical table from `data` (and the parts staging SQL or
/// source packs produced; a table comes from one or the other, not both), with no
/// reporting currency (see [`load_in_currency`]).
pub fn load(data: &Path, staged: BTreeMap<String, Vec<RawPart>>) -> Result<LoadedData> {
    load_in_currency(data, staged, None)
}

/// [`load`], converting money in other currencies to `reporting_currency` (the rules
/// are in the `currency` module).
pub fn load_in_currency(
    data: &Path,
    mut staged: BTreeMap<String, Vec<RawPart>>,
    reporting_currency: Option<&str>,
) -> Result<LoadedData> {
    if !data.is_dir() {
        return Err(Error::NoData(format!("{} is not a folder", data.display())));
    }
    let mut loaded = LoadedData::default();
    let mut currencies = Currencies::new(reporting_currency, None)?;
    loaded.reporting_currency = currencies.reporting().map(str::to_string);
    for spec in schema::TABLES {
        let started = std::time::Instant::now();
        let staged_part = staged.remove(spec.name);
        let files = locate_in(data, spec.name, staged_part.is_none())?;
        let parts = match (staged_part, files) {
            (Some(_), Some(files)) => {
                // A fault of the inputs, not of the command line: exit 1.
                return Err(Error::Staging {
                    file: files[0].clone(),
                    message: format!(
                        "table `{}` is given both by staging SQL and by this file; remove one",
                        spec.name
                    ),
                });
            }
            (Some(parts), None) => parts,
            (None, Some(files)) => files
                .iter()
                .map(|f| read_raw_file(f, spec.name))
                .collect::<Result<Vec<_>>>()?,
            (None, None) if spec.optional => {
                loaded.absent.push(spec.name);
                continue;
            }
            (None, None) => {
                return Err(Error::MissingTable {
                    table: spec.name.into(),
                    dir: data.to_path_buf(),
                })
            }
        };
        let read = started.elapsed();
        let (table, rejects) = validate_table(spec, parts, &loaded, &currencies)?;
        log::debug!(
            "table {}: read {} ms, validated {} ms",
            spec.name,
            read.as_millis(),
            (started.elapsed() - read).as_millis()
        );
        loaded.rejects.extend(rejects);
        loaded.tables.insert(spec.name, table);
        if spec.name == schema::FX_RATES.name {
            currencies = Currencies::new(reporting_currency, loaded.tables.get(spec.name))?;
        }
    }
    if currencies.reporting().is_none() {
        currency::check_one_currency(&loaded)?;
    }
    Ok(loaded)
}

/// Every column of a raw part converted to its canonical type, on two threads taking
/// columns in turn. Each column's faults are merged in column order, so a row's
/// first fault is the same as converting the columns one by one.
fn convert_columns(
    spec: &TableSpec,
    raw: &RecordBatch,
) -> std::result::Result<(Vec<ArrayRef>, Faults), (&'static str, String)> {
    let converted = crate::parallel::map_in_turn(spec.columns.iter().collect(), |col| {
        let mut faults = Faults::new();
        convert_column(
            raw.column_by_name(col.name),
            raw.num_rows(),
            col,
            &mut faults,
        )
        .map(|a| (a, faults))
        .map_err(|e| (col.name, e))
    });
    let mut columns = Vec::with_capacity(converted.len());
    let mut faults = Faults::new();
    for result in converted {
        let (array, column_faults) = result?;
        columns.push(array);
        for (row, fault) in column_faults {
            faults.entry(row).or_insert(fault);
        }
    }
    Ok((columns, faults))
}

/// Convert and check one table; returns it with its rejects.
pub fn validate_table(
    spec: &'static TableSpec,
    parts: Vec<RawPart>,
    earlier: &LoadedData,
    currencies: &Currencies,
) -> Result<(LoadedTable, Vec<Reject>)> {
    // Schema checks for every part first: a schema fault stops the run.
    for part in &parts {
        check_columns(
            spec,
            part.schema.fields().iter().map(|f| f.name().as_str()),
            &part.source,
        )?;
    }
    let target = spec.schema();
    let mut typed = Vec::with_capacity(parts.len());
    let mut faults = Faults::new();
    let mut origin: Vec<(usize, usize)> = Vec::new(); // (part index, first global row)
    let mut rows_so_far = 0;
    let mut parts = parts;
    for (pi, part) in parts.iter_mut().enumerate() {
        origin.push((pi, rows_so_far));
        if part.batches.is_empty() {
            continue;
        }
        // The raw batches are not needed once converted: free them as we go.
        let raw = concat_batches(&part.schema, &std::mem::take(&mut part.batches))?;
        let n = raw.num_rows();
        let (columns, mut part_faults) =
            convert_columns(spec, &raw).map_err(|(col, message)| Error::Unreadable {
                file: PathBuf::from(&part.source),
                table: spec.name.into(),
                message: format!("column `{col}`: {message}"),
            })?;
        let typed_part = RecordBatch::try_new(target.clone(), columns)?;
        // Row rules relate columns of one row: checked per part, while the raw values
        // are at hand to be shown as they were in the file.
        check_rows(spec, &typed_part, &raw, &mut part_faults);
        drop(raw);
        typed.push(typed_part);
        faults.extend(
            part_faults
                .into_iter()
                .map(|(row, f)| (row + rows_so_far, f)),
        );
        rows_so_far += n;
    }
    let batch = match typed.len() {
        1 => typed.pop().expect("one batch"),
        _ => concat_batches(&target, &typed)?,
    };
    drop(typed);
    check_keys(spec, &batch, earlier, &mut faults);
    currencies.check(spec, &batch, &mut faults);

    let part_of = |row: usize| -> (usize, usize) {
        let i = origin.partition_point(|&(_, start)| start <= row) - 1;
        (origin[i].0, row - origin[i].1)
    };
    let mut stats = TableStats {
        sources: parts.iter().map(|p| p.source.clone()).collect(),
        rows_read: batch.num_rows(),
        ..Default::default()
    };
    let mut rejects = Vec::new();
    let mut keep = vec![true; batch.num_rows()];
    let key_column = spec
        .primary_key
        .or(spec.foreign_keys.first().map(|k| k.column))
        .and_then(|k| strings(&batch, k));
    for (row, f) in faults {
        keep[row] = false;
        {
            let (pi, local) = part_of(row);
            *stats
                .rejected_by_reason
                .entry(f.reason.clone())
                .or_default() += 1;
            rejects.push(Reject {
                table: spec.name.into(),
                source_file: parts[pi].source.clone(),
                row_number: local as i64 + 1,
                column: f.column.into(),
                reason: f.reason,
                raw_value: f.raw,
                record_key: key_column
                    .filter(|k| k.is_valid(row))
                    .map(|k| k.value(row).to_string()),
            });
        }
    }
    let batch = if rejects.is_empty() {
        batch
    } else {
        filter_record_batch(&batch, &BooleanArray::from(keep))?
    };
    stats.rejected = rejects.len();
    stats.loaded = batch.num_rows();
    // After the counts: a subscription cut at rate changes is still one row read.
    let (batch, converted) = currencies.convert(spec, batch)?;
    stats.converted_from = converted;
    let table = LoadedTable {
        spec,
        batch,
        stats,
        key_index: OnceLock::new(),
    };
    Ok((table, rejects))
}
