//! Streams generated rows of one canonical table to a Parquet or CSV file in batches.
//!
//! Columns come from the table's spec in [`crate::schema`], so the generator cannot
//! drift from the contract; values are appended in spec order with a cursor, and
//! `end_row` checks that every column got a value.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayBuilder, ArrayRef, BooleanBuilder, Date32Builder, Decimal128Builder, Float64Builder,
    Int64Builder, RecordBatch, StringBuilder, TimestampMicrosecondBuilder,
};
use datafusion::arrow::csv;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;

use crate::error::{IoContext, Result};
use crate::schema::{Kind, TableSpec};

/// Output format of `revalign generate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FileFormat {
    Parquet,
    Csv,
}

enum Column {
    Text(StringBuilder),
    Int(Int64Builder),
    Float(Float64Builder),
    Bool(BooleanBuilder),
    Ts(TimestampMicrosecondBuilder),
    Date(Date32Builder),
    Money(Decimal128Builder),
}

impl Column {
    fn new(kind: Kind) -> Column {
        match kind {
            Kind::Text | Kind::Enum(_) | Kind::Currency => Column::Text(StringBuilder::new()),
            Kind::Int => Column::Int(Int64Builder::new()),
            Kind::Float => Column::Float(Float64Builder::new()),
            Kind::Bool => Column::Bool(BooleanBuilder::new()),
            Kind::Timestamp => Column::Ts(TimestampMicrosecondBuilder::new().with_timezone("UTC")),
            Kind::Date => Column::Date(Date32Builder::new()),
            Kind::Money | Kind::Rate => {
                Column::Money(Decimal128Builder::new().with_data_type(kind.data_type()))
            }
        }
    }
    fn finish(&mut self) -> ArrayRef {
        match self {
            Column::Text(b) => Arc::new(b.finish()),
            Column::Int(b) => Arc::new(b.finish()),
            Column::Float(b) => Arc::new(b.finish()),
            Column::Bool(b) => Arc::new(b.finish()),
            Column::Ts(b) => Arc::new(b.finish()),
            Column::Date(b) => Arc::new(b.finish()),
            Column::Money(b) => Arc::new(b.finish()),
        }
    }
    fn len(&self) -> usize {
        match self {
            Column::Text(b) => b.len(),
            Column::Int(b) => b.len(),
            Column::Float(b) => b.len(),
            Column::Bool(b) => b.len(),
            Column::Ts(b) => b.len(),
            Column::Date(b) => b.len(),
            Column::Money(b) => b.len(),
        }
    }
}

enum Writer {
    Parquet(ArrowWriter<File>),
    Csv(csv::Writer<File>),
}

/// Rows of one table on their way to a file.
pub struct Sink {
    spec: &'static TableSpec,
    schema: SchemaRef,
    columns: Vec<Column>,
    cursor: usize,
    writer: Writer,
    pub rows: usize,
}

const BATCH_ROWS: usize = 128 * 1024;

/// Optional columns the generator leaves out of its files: its data is in one
/// currency, so the files look as a one-currency export does (no `currency` column).
const NOT_GENERATED: &[&str] = &["currency"];

impl Sink {
    pub fn create(dir: &Path, spec: &'static TableSpec, format: FileFormat) -> Result<Sink> {
        // The positions of the columns the generator writes.
        let generated: Vec<usize> = (0..spec.columns.len())
            .filter(|&i| !NOT_GENERATED.contains(&spec.columns[i].name))
            .collect();
        let schema = Arc::new(spec.schema().project(&generated)?);
        let path = match format {
            FileFormat::Parquet => dir.join(format!("{}.parquet", spec.name)),
            FileFormat::Csv => dir.join(format!("{}.csv", spec.name)),
        };
        let file = File::create(&path).at(&path)?;
        let writer = match format {
            FileFormat::Parquet => {
                let props = WriterProperties::builder()
                    .set_compression(Compression::ZSTD(ZstdLevel::try_new(3)?))
                    .set_created_by("revalign generate".into())
                    .build();
                Writer::Parquet(ArrowWriter::try_new(file, schema.clone(), Some(props))?)
            }
            FileFormat::Csv => Writer::Csv(csv::WriterBuilder::new().with_header(true).build(file)),
        };
        Ok(Sink {
            spec,
            columns: generated
                .iter()
                .map(|&i| Column::new(spec.columns[i].kind))
                .collect(),
            schema,
            cursor: 0,
            writer,
            rows: 0,
        })
    }

    fn next(&mut self) -> &mut Column {
        let c = &mut self.columns[self.cursor];
        self.cursor += 1;
        c
    }

    pub fn text(&mut self, v: &str) -> &mut Self {
        self.opt_text(Some(v))
    }
    pub fn opt_text(&mut self, v: Option<&str>) -> &mut Self {
        match self.next() {
            Column::Text(b) => b.append_option(v),
            _ => panic!("{}: column {} is not text", self.spec.name, self.cursor - 1),
        }
        self
    }
    pub fn int(&mut self, v: i64) -> &mut Self {
        match self.next() {
            Column::Int(b) => b.append_value(v),
            _ => panic!("{}: column {} is not int", self.spec.name, self.cursor - 1),
        }
        self
    }
    pub fn float(&mut self, v: f64) -> &mut Self {
        match self.next() {
            Column::Float(b) => b.append_value(v),
            _ => panic!(
                "{}: column {} is not float",
                self.spec.name,
                self.cursor - 1
            ),
        }
        self
    }
    pub fn boolean(&mut self, v: bool) -> &mut Self {
        match self.next() {
            Column::Bool(b) => b.append_value(v),
            _ => panic!("{}: column {} is not bool", self.spec.name, self.cursor - 1),
        }
        self
    }
    pub fn ts(&mut self, micros: i64) -> &mut Self {
        self.opt_ts(Some(micros))
    }
    pub fn opt_ts(&mut self, micros: Option<i64>) -> &mut Self {
        match self.next() {
            Column::Ts(b) => b.append_option(micros),
            _ => panic!(
                "{}: column {} is not a timestamp",
                self.spec.name,
                self.cursor - 1
            ),
        }
        self
    }
    pub fn date(&mut self, days: i32) -> &mut Self {
        self.opt_date(Some(days))
    }
    pub fn opt_date(&mut self, days: Option<i32>) -> &mut Self {
        match self.next() {
            Column::Date(b) => b.append_option(days),
            _ => panic!(
                "{}: column {} is not a date",
                self.spec.name,
                self.cursor - 1
            ),
        }
        self
    }
    pub fn money(&mut self, cents: i64) -> &mut Self {
        self.opt_money(Some(cents))
    }
    pub fn opt_money(&mut self, cents: Option<i64>) -> &mut Self {
        match self.next() {
            Column::Money(b) => b.append_option(cents.map(i128::from)),
            _ => panic!(
                "{}: column {} is not money",
                self.spec.name,
                self.cursor - 1
            ),
        }
        self
    }

    pub fn end_row(&mut self) -> Result<()> {
        assert_eq!(
            self.cursor,
            self.columns.len(),
            "{}: incomplete row",
            self.spec.name
        );
        self.cursor = 0;
        self.rows += 1;
        if self.columns[0].len() >= BATCH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if self.columns[0].len() == 0 {
            return Ok(());
        }
        let arrays: Vec<ArrayRef> = self.columns.iter_mut().map(Column::finish).collect();
        let batch = RecordBatch::try_new(self.schema.clone(), arrays)?;
        match &mut self.writer {
            Writer::Parquet(w) => w.write(&batch)?,
            Writer::Csv(w) => w.write(&batch)?,
        }
        Ok(())
    }

    pub fn finish(mut self) -> Result<usize> {
        self.flush()?;
        match self.writer {
            Writer::Parquet(w) => {
                w.close()?;
            }
            Writer::Csv(_) => {}
        }
        Ok(self.rows)
    }
}
