//! Writing a run's outputs: Parquet tables, report files, all swapped in atomically.
//!
//! Layout (DESIGN §5): `out/tables/<table>/report_month=YYYY-MM/part-0.parquet` and
//! `out/reports/YYYY-MM/...`. Everything is first written under a hidden staging folder
//! inside `out/`; only when every file is complete are the month's partitions moved
//! into place with renames on the same file system. A run that fails before that
//! point leaves the previous outputs untouched; a rerun replaces its month whole,
//! including removing partitions of tables the new run no longer produces.
//!
//! Every table gets `report_month` (DATE, first day of the month) as its first column,
//! so a single file read without Hive partitioning still says which run it is from.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Date32Array, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;

use crate::config::Month;
use crate::error::{IoContext, Result};

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
    writer.write(batch)?;
    writer.close()?;
    Ok(())
}

/// A zstd-compressed Parquet file being written, batch by batch.
fn parquet_writer(path: &Path, schema: SchemaRef) -> Result<ArrowWriter<File>> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).at(parent)?;
    }
    let file = File::create(path).at(path)?;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3)?))
        .set_max_row_group_row_count(Some(1 << 20))
        .set_created_by(format!("revalign {}", env!("CARGO_PKG_VERSION")))
        .build();
    Ok(ArrowWriter::try_new(file, schema, Some(props))?)
}

/// One output table being streamed into its staged file (see [`Staged::table_writer`]).
pub struct TableWriter {
    writer: ArrowWriter<File>,
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
        Ok(self.writer.write(&batch)?)
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

/// A run's outputs being assembled in a staging folder.
pub struct Staged {
    out: PathBuf,
    month: Month,
    staging: tempfile::TempDir,
    tables: Vec<String>,
}

impl Staged {
    pub fn new(out: &Path, month: Month) -> Result<Staged> {
        std::fs::create_dir_all(out).at(out)?;
        let staging = tempfile::Builder::new()
            .prefix(".revalign-staging-")
            .tempdir_in(out)
            .at(out)?;
        Ok(Staged {
            out: out.to_path_buf(),
            month,
            staging,
            tables: vec![],
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

    pub fn add_report_file(&self, relative: &str, bytes: &[u8]) -> Result<()> {
        let path = self.report_dir().join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).at(parent)?;
        }
        std::fs::write(&path, bytes).at(&path)
    }

    /// Move the month's partitions and report folder into place.
    pub fn publish(self) -> Result<()> {
        let trash = self.staging.path().join("replaced");
        std::fs::create_dir_all(&trash).at(&trash)?;
        let replace = |from: &Path, to: &Path, n: usize| -> Result<()> {
            if to.exists() {
                let old = trash.join(n.to_string());
                std::fs::rename(to, &old).at(to)?;
            }
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent).at(parent)?;
            }
            std::fs::rename(from, to).at(to)
        };
        let mut n = 0;
        for table in &self.tables {
            n += 1;
            replace(
                &self.partition(self.staging.path(), table),
                &self.partition(&self.out, table),
                n,
            )?;
        }
        // Partitions of this month for tables this run did not produce are stale.
        let tables_dir = self.out.join("tables");
        if let Ok(entries) = std::fs::read_dir(&tables_dir) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().to_string();
                let stale = self.partition(&self.out, &name);
                if !self.tables.contains(&name) && stale.exists() {
                    n += 1;
                    std::fs::rename(&stale, trash.join(n.to_string())).at(&stale)?;
                }
            }
        }
        let report_to = self.out.join("reports").join(self.month.to_string());
        replace(&self.report_dir(), &report_to, n + 1)?;
        Ok(())
    }
}
