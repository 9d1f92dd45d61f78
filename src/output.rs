//! Writing a run's outputs: Parquet tables, report files, all swapped in atomically.
//!
//! Layout (DESIGN §5): `out/tables/<table>/report_month=YYYY-MM/part-0.parquet` and
//! `out/reports/YYYY-MM/...`. Everything is first written under a hidden staging folder
//! inside `out/`; only when every file is complete are the month's partitions moved
//! into place, as one journalled step ([`crate::publish`]). A run that fails before
//! that point leaves the previous outputs untouched; a rerun replaces its month whole,
//! including removing partitions of tables the new run no longer produces.
//!
//! Every table gets `report_month` (DATE, first day of the month) as its first column,
//! so a single file read without Hive partitioning still says which run it is from.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Date32Array, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::parquet::schema::types::ColumnPath;

use crate::config::Month;
use crate::error::{IoContext, Result};
use crate::parquet_file::ParquetSink;
use crate::publish::{FaultHook, Journal};

/// Prepend the `report_month` DATE column.
pub fn with_report_month(batch: &RecordBatch, month: Month) -> Result<RecordBatch> {
    let days = crate::config::date_to_days(month.first_day());
    let mut fields = vec![Arc::new(Field::new(
        "report_month",
        DataType::Date32,
        false,
    ))];
    fields.extend(batch.schema().fields().iter().cloned());
    let mut columns: Vec<ArrayRef> =
        vec![Arc::new(Date32Array::from(vec![days; batch.num_rows()]))];
    columns.extend(batch.columns().iter().cloned());
    Ok(RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns,
    )?)
}

/// Write one batch as a zstd-compressed Parquet file.
pub fn write_parquet(path: &Path, batch: &RecordBatch) -> Result<()> {
    let mut writer = parquet_writer(path, batch.schema())?;
    writer.write(batch.clone())?;
    writer.close()
}

/// A zstd-compressed Parquet file being written, batch by batch.
fn parquet_writer(path: &Path, schema: SchemaRef) -> Result<ParquetSink> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).at(parent)?;
    }
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(1)?))
        .set_max_row_group_row_count(Some(1 << 20))
        // Touch ids are (nearly) unique per row: a dictionary would only be built to be
        // dropped again, which costs seconds on the 15M-row credit ledger.
        .set_column_dictionary_enabled(ColumnPath::from("touch_id"), false)
        .set_created_by(format!("revalign {}", env!("CARGO_PKG_VERSION")))
        .build();
    ParquetSink::create(path, schema, props)
}

/// One output table being streamed into its staged file (see [`Staged::table_writer`]).
pub struct TableWriter {
    writer: ParquetSink,
    schema: SchemaRef,
    month: Month,
    path: PathBuf,
    rows: usize,
}

impl TableWriter {
    /// Append rows (without `report_month`, which is added here).
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.rows += batch.num_rows();
        let batch = with_report_month(batch, self.month)?;
        let columns = batch
            .columns()
            .iter()
            .zip(self.schema.fields())
            .map(|(column, field)| cast(column, field.data_type()))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let batch = RecordBatch::try_new(self.schema.clone(), columns)?;
        self.writer.write(batch)
    }

    /// Finish the file: its path, its schema (with `report_month`) and its row count.
    pub fn finish(self) -> Result<(PathBuf, SchemaRef, usize)> {
        self.writer.close()?;
        Ok((self.path, self.schema, self.rows))
    }
}

/// `schema` with DataFusion's view types (Utf8View, BinaryView), which some queries
/// produce, replaced by the plain types every Parquet reader maps the same way.
fn portable(schema: &Schema) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Utf8View => f.as_ref().clone().with_data_type(DataType::Utf8),
            DataType::BinaryView => f.as_ref().clone().with_data_type(DataType::Binary),
            _ => f.as_ref().clone(),
        })
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// Every name that becomes part of an output path is `[a-z0-9_]+` (catalogues and
/// query files are checked when read; this is the last line of defence).
fn check_safe(name: &str, path: &str) -> Result<()> {
    if crate::query::is_safe_name(name) {
        Ok(())
    } else {
        Err(crate::error::Error::Report(format!(
            "refusing to write {path:?}: output names must be [a-z0-9_]+"
        )))
    }
}

/// A run's outputs being assembled in a staging folder.
pub struct Staged {
    out: PathBuf,
    month: Month,
    staging: tempfile::TempDir,
    tables: Vec<String>,
    fault_hook: FaultHook,
}

impl Staged {
    pub fn new(out: &Path, month: Month) -> Result<Staged> {
        std::fs::create_dir_all(out).at(out)?;
        let staging = tempfile::Builder::new()
            .prefix(crate::publish::STAGING_PREFIX)
            .tempdir_in(out)
            .at(out)?;
        Ok(Staged {
            out: out.to_path_buf(),
            month,
            staging,
            tables: vec![],
            fault_hook: FaultHook::None,
        })
    }

    fn partition(&self, root: &Path, table: &str) -> PathBuf {
        root.join("tables")
            .join(table)
            .join(format!("report_month={}", self.month))
    }

    /// Path of a table's file once published (for the manifest).
    pub fn table_path(&self, table: &str) -> PathBuf {
        self.partition(&self.out, table).join("part-0.parquet")
    }

    pub fn report_dir(&self) -> PathBuf {
        self.staging
            .path()
            .join("reports")
            .join(self.month.to_string())
    }

    pub fn add_table(&mut self, name: &str, batch: &RecordBatch) -> Result<()> {
        let mut writer = self.table_writer(name, batch.schema())?;
        writer.write(batch)?;
        writer.finish()?;
        Ok(())
    }

    /// Stream table `name` (columns `schema`, `report_month` is added) into its staged
    /// file, so a large output need not be held in memory whole.
    pub fn table_writer(&mut self, name: &str, schema: SchemaRef) -> Result<TableWriter> {
        check_safe(name, name)?;
        let path = self
            .partition(self.staging.path(), name)
            .join("part-0.parquet");
        let empty = RecordBatch::new_empty(portable(&schema));
        let schema = with_report_month(&empty, self.month)?.schema();
        if !self.tables.iter().any(|t| t == name) {
            self.tables.push(name.to_string());
        }
        Ok(TableWriter {
            writer: parquet_writer(&path, schema.clone())?,
            schema,
            month: self.month,
            path,
            rows: 0,
        })
    }

    /// Write a report file; `relative` is `name.ext` or `folder/name.ext` with safe
    /// names (`[a-z0-9_]+`).
    pub fn add_report_file(&self, relative: &str, bytes: &[u8]) -> Result<()> {
        for part in relative.split('/') {
            let stem = part.split_once('.').map_or(part, |(stem, _)| stem);
            check_safe(stem, relative)?;
        }
        let path = self.report_dir().join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).at(parent)?;
        }
        std::fs::write(&path, bytes).at(&path)
    }

    /// Test hook: fail or abort after some steps of publishing (see [`FaultHook`]).
    pub fn set_fault_hook(&mut self, hook: FaultHook) {
        self.fault_hook = hook;
    }

    /// Make the month's partitions and report folder the published ones, all at once
    /// (see [`crate::publish`]): tables this run produced replace theirs, partitions of
    /// this month of tables it no longer produces are removed.
    pub fn publish(self) -> Result<()> {
        let mut journal = Journal::default();
        for table in &self.tables {
            let partition = self.partition(Path::new(""), table);
            journal.moves.push(partition.display().to_string());
        }
        let tables_dir = self.out.join("tables");
        if let Ok(entries) = std::fs::read_dir(&tables_dir) {
            let mut stale: Vec<String> = entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().to_string())
                .filter(|name| !self.tables.contains(name))
                .map(|name| self.partition(Path::new(""), &name))
                .filter(|p| self.out.join(p).exists())
                .map(|p| p.display().to_string())
                .collect();
            stale.sort();
            journal.removes = stale;
        }
        let report = Path::new("reports").join(self.month.to_string());
        journal.moves.push(report.display().to_string());
        // From here on the staging folder belongs to the journal, not to this value.
        let staging = self.staging.keep();
        journal.staging = staging
            .file_name()
            .expect("staging folder name")
            .to_string_lossy()
            .to_string();
        crate::publish::publish(&self.out, &journal, self.fault_hook)
    }
}
