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
//! Finding a table's files is in [`locate`](self::locate()); the CSV and JSON-lines
//! readers, which turn a file into text columns and refuse its syntax faults, are the
//! submodules `csv` and `jsonl`.

mod csv;
mod jsonl;
mod locate;

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Timelike};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, BooleanBuilder, Date32Array, Date32Builder,
    Decimal128Builder, Float64Builder, Int64Builder, RecordBatch, StringArray, StringBuilder,
    TimestampMicrosecondArray, TimestampMicrosecondBuilder,
};
use datafusion::arrow::compute::{cast, concat_batches, filter_record_batch};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Field, Float64Type, Schema, SchemaRef,
    TimestampMicrosecondType,
};
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::prelude::{CsvReadOptions, ParquetReadOptions, SessionContext};
use serde::Serialize;

pub use self::locate::locate;
use self::locate::{format_of, locate_in, Format};
use crate::error::{Error, IoContext, Result};
use crate::schema::{
    self, ColumnSpec, Kind, TableSpec, MONEY_MAX_ABS, MONEY_MAX_ABS_CENTS, MONEY_PRECISION,
    MONEY_SCALE,
};

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
}

/// A validated canonical table.
#[derive(Debug)]
pub struct LoadedTable {
    pub spec: &'static TableSpec,
    pub batch: RecordBatch,
    pub stats: TableStats,
}

/// All inputs of a run, validated.
#[derive(Debug, Default)]
pub struct LoadedData {
    pub tables: BTreeMap<&'static str, LoadedTable>,
    pub rejects: Vec<Reject>,
    /// Optional tables that are absent.
    pub absent: Vec<&'static str>,
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

/// Read one file as-is, with column names trimmed and lower-cased. CSV and JSON lines
/// are read as text (every value converts, or is rejected, in one place:
/// [`validate_table`]); Parquet keeps its types.
pub fn read_raw_file(path: &Path, table: &str) -> Result<RawPart> {
    let unreadable = |message: String| Error::Unreadable {
        file: path.to_path_buf(),
        table: table.into(),
        message,
    };
    let format = format_of(path).ok_or_else(|| unreadable("unknown file extension".into()))?;
    let (schema, batches): (SchemaRef, Vec<RecordBatch>) = match format {
        Format::Csv => self::csv::read_csv(path, table)?,
        Format::Parquet => {
            let file = File::open(path).at(path)?;
            let builder = ParquetRecordBatchReaderBuilder::try_new(file)
                .map_err(|e| unreadable(e.to_string()))?;
            let schema = builder.schema().clone();
            let batches = builder
                .with_batch_size(BATCH_ROWS)
                .build()
                .map_err(|e| unreadable(e.to_string()))?
                .collect::<std::result::Result<_, _>>()
                .map_err(|e| unreadable(e.to_string()))?;
            (schema, batches)
        }
        Format::Jsonl => jsonl::read_jsonl(path, table)?,
    };
    raw_part(path.display().to_string(), table, &schema, batches)
}

const BATCH_ROWS: usize = 64 * 1024;

/// A raw part with column names trimmed and lower-cased; two columns with the same
/// name that way are a schema fault (one of them would be silently ignored).
fn raw_part(
    source: String,
    table: &str,
    schema: &SchemaRef,
    batches: Vec<RecordBatch>,
) -> Result<RawPart> {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| f.as_ref().clone().with_name(f.name().trim().to_lowercase()))
        .collect();
    let mut seen = HashSet::new();
    for f in &fields {
        if !seen.insert(f.name().as_str()) {
            return Err(Error::DuplicateColumn {
                file: source.into(),
                table: table.into(),
                column: f.name().clone(),
            });
        }
    }
    let schema = Arc::new(Schema::new(fields));
    let batches = batches
        .into_iter()
        .map(|b| RecordBatch::try_new(schema.clone(), b.columns().to_vec()))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(RawPart {
        source,
        schema,
        batches,
    })
}

/// Register every CSV and Parquet file of `data` in `ctx` under its file name without
/// extension, as raw staging SQL reads them (`revalign query --staging` shows them too).
pub async fn register_raw(ctx: &SessionContext, data: &Path) -> Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(data)
        .at(data)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in &entries {
        let (Some(stem), Some(format)) =
            (path.file_stem().and_then(|s| s.to_str()), format_of(path))
        else {
            continue;
        };
        let p = path.to_string_lossy().to_string();
        let registered = match format {
            Format::Csv => ctx.register_csv(stem, &p, CsvReadOptions::new()).await,
            Format::Parquet => {
                ctx.register_parquet(stem, &p, ParquetReadOptions::default())
                    .await
            }
            Format::Jsonl => continue,
        };
        registered.map_err(|e| Error::Unreadable {
            file: path.clone(),
            table: stem.into(),
            message: e.to_string(),
        })?;
    }
    Ok(())
}

/// Raw tables produced by staging SQL: every CSV/Parquet file in `data` is registered
/// under its file stem, then each `<table>.sql` in `staging` yields canonical `table`.
pub async fn stage(data: &Path, staging: &Path) -> Result<BTreeMap<String, RawPart>> {
    let ctx = SessionContext::new();
    register_raw(&ctx, data).await?;
    let scripts = crate::catalog::sql_files(staging, "--staging")?;
    let mut out = BTreeMap::new();
    for script in scripts {
        let stem = script
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        if schema::table(&stem).is_none() {
            return Err(Error::Staging {
                file: script.clone(),
                message: format!(
                    "`{stem}` is not a canonical table; name staging files after one of: {}",
                    schema::TABLES
                        .iter()
                        .map(|t| t.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
        let sql = std::fs::read_to_string(&script).at(&script)?;
        let staging_err = |e: datafusion::error::DataFusionError| Error::Staging {
            file: script.clone(),
            message: e.to_string(),
        };
        let df = crate::engine::read_only_sql(&ctx, &sql)
            .await
            .map_err(staging_err)?;
        // Staged rows are numbered in the order of their values (every column, in
        // order): a plan's own order (hash aggregates, unions) changes between runs, and
        // a reject's row number must not.
        let order: Vec<_> = df
            .schema()
            .fields()
            .iter()
            .map(|f| datafusion::prelude::ident(f.name()).sort(true, false))
            .collect();
        let df = df.sort(order).map_err(staging_err)?;
        let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
        let batches = df.collect().await.map_err(staging_err)?;
        let schema = batches.first().map(|b| b.schema()).unwrap_or(schema);
        out.insert(
            stem.clone(),
            raw_part(format!("staging/{stem}.sql"), &stem, &schema, batches)?,
        );
    }
    Ok(out)
}

/// Load and validate every canonical table from `data` (and staging results).
pub fn load(data: &Path, mut staged: BTreeMap<String, RawPart>) -> Result<LoadedData> {
    if !data.is_dir() {
        return Err(Error::NoData(format!("{} is not a folder", data.display())));
    }
    let mut loaded = LoadedData::default();
    for spec in schema::TABLES {
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
            (Some(part), None) => vec![part],
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
        let (table, rejects) = validate_table(spec, parts, &loaded)?;
        loaded.rejects.extend(rejects);
        loaded.tables.insert(spec.name, table);
    }
    Ok(loaded)
}

/// Convert and check one table; returns it with its rejects.
pub fn validate_table(
    spec: &'static TableSpec,
    parts: Vec<RawPart>,
    earlier: &LoadedData,
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
        let mut part_faults = Faults::new();
        let mut columns = Vec::with_capacity(spec.columns.len());
        for col in spec.columns {
            let source = raw.column_by_name(col.name);
            let array = convert_column(source, n, col, &mut part_faults).map_err(|message| {
                Error::Unreadable {
                    file: PathBuf::from(&part.source),
                    table: spec.name.into(),
                    message: format!("column `{}`: {message}", col.name),
                }
            })?;
            columns.push(array);
        }
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
    Ok((LoadedTable { spec, batch, stats }, rejects))
}

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
struct Fault {
    column: &'static str,
    reason: String,
    raw: String,
}

/// Row faults by row number; a row keeps its first fault. Sparse, because faults are
/// rare and tables can have tens of millions of rows.
type Faults = BTreeMap<usize, Fault>;

fn fault(
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

/// Convert one raw column (any Arrow type, or absent) to its canonical type. Values
/// that do not parse, or fall outside what the pipeline can carry (dates outside
/// [`crate::config::MIN_DATE`]..=[`crate::config::MAX_DATE`], money above
/// [`schema::MONEY_MAX_ABS`], NaN and infinities), are a fault on their row, whatever
/// the format: text goes through the parse functions below, typed Parquet values
/// through [`check_typed`] with the same reasons.
fn convert_column(
    source: Option<&ArrayRef>,
    len: usize,
    col: &ColumnSpec,
    faults: &mut Faults,
) -> std::result::Result<ArrayRef, String> {
    let target = col.kind.data_type();
    // Fast path: typed sources (Parquet) whose type converts losslessly.
    if let Some(src) = source {
        let direct = match (src.data_type(), col.kind) {
            (DataType::Timestamp(_, _), Kind::Timestamp) | (DataType::Date32, Kind::Date) => true,
            (DataType::Date32 | DataType::Date64, Kind::Timestamp) => true,
            (DataType::Timestamp(_, _), Kind::Date) => false,
            (DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64, Kind::Int) => {
                true
            }
            (DataType::Float32 | DataType::Float64, Kind::Float) => true,
            (DataType::Int32 | DataType::Int64, Kind::Float) => true,
            (DataType::Boolean, Kind::Bool) => true,
            (DataType::Decimal128(_, s), Kind::Money) => *s <= MONEY_SCALE,
            _ => false,
        };
        if direct {
            let array = cast(src, &target).map_err(|e| e.to_string())?;
            check_typed(src, &array, col, faults);
            check_missing(&array, col, faults);
            return Ok(array);
        }
    }
    let strings: Option<ArrayRef> = match source {
        Some(src) => Some(cast(src, &DataType::Utf8).map_err(|e| e.to_string())?),
        None => None,
    };
    let strings = strings.as_ref().map(|a| a.as_string::<i32>());
    // Fast path for text that is already clean (trimmed, no empty strings) and enums
    // already in their canonical spelling: keep the array instead of copying it.
    if let Some(s) = strings {
        let clean = match col.kind {
            Kind::Text => s
                .iter()
                .flatten()
                .all(|v| !v.is_empty() && v.trim().len() == v.len()),
            Kind::Enum(values) => s.iter().flatten().all(|v| values.contains(&v)),
            _ => false,
        };
        if clean && (col.default.is_none() || s.null_count() == 0) {
            let array: ArrayRef = Arc::new(s.clone());
            check_missing(&array, col, faults);
            return Ok(array);
        }
    }
    let value = |row: usize| -> Option<&str> {
        let s = strings?;
        if s.is_null(row) {
            return None;
        }
        let v = s.value(row).trim();
        (!v.is_empty()).then_some(v)
    };
    let name = col.name;
    macro_rules! build {
        ($builder:expr, $parse:expr) => {{
            let mut b = $builder;
            for row in 0..len {
                match value(row).or(col.default) {
                    None => {
                        if col.required {
                            fault(faults, row, name, "missing value", "");
                        }
                        b.append_null();
                    }
                    Some(v) => match $parse(v) {
                        Ok(x) => b.append_value(x),
                        Err(reason) => {
                            fault(faults, row, name, reason, v);
                            b.append_null();
                        }
                    },
                }
            }
            Arc::new(b.finish()) as ArrayRef
        }};
    }
    Ok(match col.kind {
        Kind::Text => build!(StringBuilder::with_capacity(len, len * 8), |v: &str| Ok::<
            _,
            String,
        >(
            v.to_string()
        )),
        Kind::Enum(values) => build!(StringBuilder::with_capacity(len, len * 8), |v: &str| {
            let lower = v.to_lowercase();
            if values.contains(&lower.as_str()) {
                Ok(lower)
            } else {
                Err(format!(
                    "unknown value (expected one of {})",
                    values.join(", ")
                ))
            }
        }),
        Kind::Int => build!(Int64Builder::with_capacity(len), parse_int),
        Kind::Float => build!(Float64Builder::with_capacity(len), parse_float),
        Kind::Bool => build!(BooleanBuilder::with_capacity(len), parse_bool),
        Kind::Timestamp => build!(
            TimestampMicrosecondBuilder::with_capacity(len).with_timezone("UTC"),
            |v: &str| parse_timestamp_micros(v).and_then(micros_in_range)
        ),
        Kind::Date => build!(Date32Builder::with_capacity(len), |v: &str| {
            parse_date_days(v).and_then(days_in_range)
        }),
        Kind::Money => build!(
            Decimal128Builder::with_capacity(len)
                .with_precision_and_scale(MONEY_PRECISION, MONEY_SCALE)
                .map_err(|e| e.to_string())?,
            parse_money_cents
        ),
    })
}

/// Row faults of a typed source (Parquet, staging) after its cast to the canonical
/// type, with the source value shown: a value the cast could not represent, a NaN or
/// infinity, a date or timestamp outside the supported range, money above the limit.
/// The reasons are those of the text parsers.
fn check_typed(src: &ArrayRef, array: &ArrayRef, col: &ColumnSpec, faults: &mut Faults) {
    let shown = |row: usize| display_value(src, row);
    if array.null_count() > src.null_count() {
        let reason = match col.kind {
            Kind::Date | Kind::Timestamp => REASON_DATE_RANGE,
            Kind::Money => REASON_MONEY_TOO_LARGE,
            _ => "value out of range",
        };
        for row in 0..array.len() {
            if src.is_valid(row) && array.is_null(row) {
                fault(faults, row, col.name, reason, shown(row));
            }
        }
    }
    match col.kind {
        Kind::Float => {
            let values = array.as_primitive::<Float64Type>();
            for row in 0..values.len() {
                if values.is_valid(row) && !values.value(row).is_finite() {
                    fault(faults, row, col.name, REASON_NOT_FINITE, shown(row));
                }
            }
        }
        Kind::Date => {
            let values = array.as_primitive::<Date32Type>();
            for row in 0..values.len() {
                if values.is_valid(row) && days_in_range(values.value(row)).is_err() {
                    fault(faults, row, col.name, REASON_DATE_RANGE, shown(row));
                }
            }
        }
        Kind::Timestamp => {
            let values = array.as_primitive::<TimestampMicrosecondType>();
            for row in 0..values.len() {
                if values.is_valid(row) && micros_in_range(values.value(row)).is_err() {
                    fault(faults, row, col.name, REASON_DATE_RANGE, shown(row));
                }
            }
        }
        Kind::Money => {
            let values = array.as_primitive::<Decimal128Type>();
            for row in 0..values.len() {
                if values.is_valid(row) && values.value(row).abs() > MONEY_MAX_ABS_CENTS {
                    fault(faults, row, col.name, REASON_MONEY_TOO_LARGE, shown(row));
                }
            }
        }
        _ => {}
    }
}

/// One value of any array as text (for `raw_value` of typed sources); a value that
/// has no text form (a timestamp beyond any calendar) is shown as its stored number.
fn display_value(array: &ArrayRef, row: usize) -> String {
    use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
    if let Some(text) = ArrayFormatter::try_new(array.as_ref(), &FormatOptions::default())
        .ok()
        .and_then(|f| f.value(row).try_to_string().ok())
    {
        return text;
    }
    let stored = match array.data_type() {
        DataType::Timestamp(unit, _) => cast(&array.slice(row, 1), &DataType::Int64)
            .ok()
            .map(|a| format!("{} ({unit:?} since 1970-01-01)", display_value(&a, 0))),
        _ => None,
    };
    stored.unwrap_or_else(|| format!("(a {} value)", array.data_type()))
}

/// The supported dates as days since the epoch, inclusive.
fn day_range() -> (i32, i32) {
    (
        crate::config::date_to_days(crate::config::MIN_DATE),
        crate::config::date_to_days(crate::config::MAX_DATE),
    )
}

fn days_in_range(days: i32) -> std::result::Result<i32, String> {
    let (min, max) = day_range();
    if (min..=max).contains(&days) {
        Ok(days)
    } else {
        Err(REASON_DATE_RANGE.into())
    }
}

/// A timestamp (µs, UTC) on a supported date: from MIN_DATE 00:00 to the last
/// microsecond of MAX_DATE.
fn micros_in_range(micros: i64) -> std::result::Result<i64, String> {
    const DAY: i64 = 86_400_000_000;
    let (min, max) = day_range();
    if (min as i64 * DAY..(max as i64 + 1) * DAY).contains(&micros) {
        Ok(micros)
    } else {
        Err(REASON_DATE_RANGE.into())
    }
}

/// A finite number; NaN and infinities (`NaN`, `inf`, `1e999`) are refused with
/// [`REASON_NOT_FINITE`] in every format.
fn parse_float(v: &str) -> std::result::Result<f64, String> {
    match v.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        Ok(_) => Err(REASON_NOT_FINITE.into()),
        Err(_) => Err("unparseable number".into()),
    }
}

fn check_missing(array: &ArrayRef, col: &ColumnSpec, faults: &mut Faults) {
    if col.required && array.null_count() > 0 {
        for row in 0..array.len() {
            if array.is_null(row) {
                fault(faults, row, col.name, "missing value", "");
            }
        }
    }
}

fn parse_int(v: &str) -> std::result::Result<i64, String> {
    v.parse::<i64>()
        .map_err(|_| "unparseable integer".to_string())
}

fn parse_bool(v: &str) -> std::result::Result<bool, String> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "t" | "yes" | "y" | "1" => Ok(true),
        "false" | "f" | "no" | "n" | "0" => Ok(false),
        _ => Err("unparseable boolean".into()),
    }
}

/// RFC 3339, or `YYYY-MM-DD[ HH:MM:SS[.fff]]` (also with `T`), read as UTC.
pub fn parse_timestamp_micros(v: &str) -> std::result::Result<i64, String> {
    let t = parse_timestamp(v).ok_or_else(|| "unparseable timestamp".to_string())?;
    // A leap second (`23:59:60`) stays in its day and month: the last microsecond of
    // the minute, not the next day's midnight.
    let leap = t.time().nanosecond() >= 1_000_000_000;
    Ok(t.and_utc().timestamp_micros() - i64::from(leap))
}

/// The UTC time `v` denotes, in any of the forms [`parse_timestamp_micros`] accepts.
fn parse_timestamp(v: &str) -> Option<NaiveDateTime> {
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Some(t.naive_utc());
    }
    for format in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(v, format) {
            return Some(t);
        }
    }
    for format in [
        "%Y-%m-%d %H:%M:%S%.f%:z",
        "%Y-%m-%d %H:%M:%S%.f%#z",
        "%Y-%m-%d %H:%M:%S%.fZ",
    ] {
        if let Ok(t) = DateTime::parse_from_str(v, format) {
            return Some(t.naive_utc());
        }
        if let Ok(t) = NaiveDateTime::parse_from_str(v, format) {
            return Some(t);
        }
    }
    NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .ok()
        .map(|d| d.and_hms_opt(0, 0, 0).expect("midnight"))
}

/// `YYYY-MM-DD` (or `YYYY-MM` for the first day of a month) as days since the epoch.
pub fn parse_date_days(v: &str) -> std::result::Result<i32, String> {
    let date = NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(&format!("{v}-01"), "%Y-%m-%d"))
        .map_err(|_| "unparseable date".to_string())?;
    Ok(crate::config::date_to_days(date))
}

/// Exact decimal with at most two decimals and at most [`schema::MONEY_MAX_ABS`] in
/// absolute value, as an integer number of cents.
pub fn parse_money_cents(v: &str) -> std::result::Result<i128, String> {
    let bad = || "unparseable money".to_string();
    let (negative, digits) = match v.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, v.strip_prefix('+').unwrap_or(v)),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty() && frac.is_empty() {
        return Err(bad());
    }
    if !int.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let frac = frac.trim_end_matches('0');
    if frac.len() > MONEY_SCALE as usize {
        return Err("more than 2 decimal places".into());
    }
    // Leading zeros do not make a value large; more digits than the limit has do.
    let int = int.trim_start_matches('0');
    if int.len() > MONEY_MAX_ABS.to_string().len() {
        return Err(REASON_MONEY_TOO_LARGE.into());
    }
    let int: i128 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| bad())?
    };
    let frac_cents: i128 = format!("{frac:0<2}").parse().map_err(|_| bad())?;
    let cents = int * 100 + frac_cents;
    if cents > MONEY_MAX_ABS_CENTS {
        return Err(REASON_MONEY_TOO_LARGE.into());
    }
    Ok(if negative { -cents } else { cents })
}

fn strings<'a>(batch: &'a RecordBatch, name: &str) -> Option<&'a StringArray> {
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

/// Row rules that relate columns of one row. `raw` is the part as read, for the raw
/// value of a fault.
fn check_rows(spec: &TableSpec, batch: &RecordBatch, raw: &RecordBatch, faults: &mut Faults) {
    let money = |name: &str| {
        batch.column_by_name(name).map(|a| {
            a.as_primitive::<datafusion::arrow::datatypes::Decimal128Type>()
                .clone()
        })
    };
    let negative = |name: &'static str, faults: &mut Faults| {
        if let Some(values) = money(name) {
            for row in 0..values.len() {
                if values.is_valid(row) && values.value(row) < 0 {
                    fault(
                        faults,
                        row,
                        name,
                        format!("negative {name}"),
                        raw_text(raw, name, row, || format_cents(values.value(row))),
                    );
                }
            }
        }
    };
    let end_before_start = |faults: &mut Faults| {
        let start = date_col(batch, "start_date");
        let end = date_col(batch, "end_date");
        for row in 0..batch.num_rows() {
            if end.is_valid(row) && start.is_valid(row) && end.value(row) < start.value(row) {
                fault(
                    faults,
                    row,
                    "end_date",
                    "end_date before start_date",
                    raw_text(raw, "end_date", row, || format_days(end.value(row))),
                );
            }
        }
    };
    match spec.name {
        "opportunities" => {
            let created = ts_col(batch, "created_at");
            let closed = ts_col(batch, "closed_at");
            let status = strings(batch, "status").expect("status");
            for row in 0..batch.num_rows() {
                if closed.is_valid(row)
                    && created.is_valid(row)
                    && closed.value(row) < created.value(row)
                {
                    fault(
                        faults,
                        row,
                        "closed_at",
                        "closed_at before created_at",
                        raw_text(raw, "closed_at", row, || format_micros(closed.value(row))),
                    );
                }
                if status.is_valid(row) && status.value(row) != "open" && closed.is_null(row) {
                    fault(faults, row, "closed_at", "won/lost without closed_at", "");
                }
            }
            negative("amount", faults);
        }
        "subscriptions" => {
            end_before_start(faults);
            negative("mrr", faults);
        }
        "spend" | "costs" => negative("amount", faults),
        "campaigns" => end_before_start(faults),
        _ => {}
    }
}

/// Dangling foreign keys, then duplicate primary keys. The first *valid* copy of an
/// id is kept: a row already faulted (unparseable value, row rule, dangling reference)
/// does not claim its id, so a later valid copy loads instead of being rejected as a
/// duplicate of a row that is not loaded either.
fn check_keys(spec: &TableSpec, batch: &RecordBatch, earlier: &LoadedData, faults: &mut Faults) {
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
    let natural_key: Option<(&[&str], &str, &'static str)> = match spec.name {
        "lifecycle" => Some((
            &["contact_id", "stage", "ts"],
            "ts",
            "duplicate stage entry (same contact, stage and time)",
        )),
        "targets" => Some((
            &["metric", "month", "segment"],
            "target",
            "duplicate target (same metric, month and segment)",
        )),
        _ => None,
    };
    if let Some((columns, column, reason)) = natural_key {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_exact_to_the_cent() {
        assert_eq!(parse_money_cents("12.5"), Ok(1250));
        assert_eq!(parse_money_cents("-0.07"), Ok(-7));
        assert_eq!(parse_money_cents("100"), Ok(10000));
        assert_eq!(parse_money_cents("1.230"), Ok(123));
        assert_eq!(
            parse_money_cents("1.234"),
            Err("more than 2 decimal places".into())
        );
        assert_eq!(parse_money_cents("1e3"), Err("unparseable money".into()));
        assert_eq!(parse_money_cents("."), Err("unparseable money".into()));
    }

    #[test]
    fn money_limit_faults() {
        assert_eq!(parse_money_cents("1000000000000"), Ok(MONEY_MAX_ABS_CENTS));
        assert_eq!(
            parse_money_cents("-1000000000000.01"),
            Err(REASON_MONEY_TOO_LARGE.into())
        );
        assert_eq!(parse_money_cents("0000000000000000012.5"), Ok(1250));
        assert_eq!(
            parse_money_cents("123456789012345678901234567890"),
            Err(REASON_MONEY_TOO_LARGE.into())
        );
    }

    #[test]
    fn date_range_faults_name_the_configured_range() {
        assert_eq!(
            REASON_DATE_RANGE,
            format!(
                "date outside the supported range {}..{}",
                crate::config::MIN_DATE,
                crate::config::MAX_DATE
            )
        );
        let day = |s: &str| parse_date_days(s).and_then(days_in_range);
        assert!(day("1900-01-01").is_ok() && day("2199-12-31").is_ok());
        assert_eq!(day("1899-12-31"), Err(REASON_DATE_RANGE.into()));
        assert_eq!(day("2200-01"), Err(REASON_DATE_RANGE.into()));
        let ts = |s: &str| parse_timestamp_micros(s).and_then(micros_in_range);
        assert!(ts("1900-01-01T00:00:00Z").is_ok());
        assert!(ts("2199-12-31T23:59:59.999999Z").is_ok());
        assert_eq!(ts("1899-12-31T23:59:59Z"), Err(REASON_DATE_RANGE.into()));
        assert_eq!(ts("2200-01-01T00:00:00Z"), Err(REASON_DATE_RANGE.into()));
        assert_eq!(parse_float("nan"), Err(REASON_NOT_FINITE.into()));
    }

    #[test]
    fn timestamps_in_the_documented_forms_are_utc() {
        let midnight = parse_timestamp_micros("2026-10-01").unwrap();
        // A leap second stays in September (the last microsecond before midnight).
        assert_eq!(
            parse_timestamp_micros("2026-09-30T23:59:60Z").unwrap(),
            midnight - 1
        );
        assert_eq!(
            parse_timestamp_micros("2026-10-01 00:00:00").unwrap(),
            midnight
        );
        assert_eq!(
            parse_timestamp_micros("2026-10-01T00:00:00Z").unwrap(),
            midnight
        );
        assert_eq!(
            parse_timestamp_micros("2026-10-01T02:00:00+02:00").unwrap(),
            midnight
        );
        assert_eq!(
            parse_timestamp_micros("2026-10-01 00:00:00.5").unwrap(),
            midnight + 500_000
        );
        assert!(parse_timestamp_micros("01/10/2026").is_err());
        assert_eq!(
            parse_date_days("2026-10").unwrap(),
            parse_date_days("2026-10-01").unwrap()
        );
    }
}
