//! Parquet files encoded on two threads.
//!
//! Encoding is most of the cost of writing a large table (the 15M-row credit ledger,
//! the touches' scratch file), and parquet's `ArrowWriter` encodes one column after
//! another on the calling thread. [`ParquetSink`] writes the same files (the Arrow
//! schema in the metadata, the same row groups), with each chunk of rows encoded by
//! two threads taking columns in turn. Rows are handed to the column encoders in
//! fixed slices counted from the start of the file, so the bytes depend on the rows
//! alone, never on how the batches that brought them were cut.

use std::fs::File;
use std::path::Path;

use datafusion::arrow::array::{Array, ArrayRef, RecordBatch};
use datafusion::arrow::compute::concat;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::parquet::arrow::arrow_writer::{
    compute_leaves, ArrowColumnWriter, ArrowRowGroupWriterFactory,
};
use datafusion::parquet::arrow::{add_encoded_arrow_schema_to_metadata, ArrowSchemaConverter};
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::parquet::file::writer::SerializedFileWriter;

use crate::error::{IoContext, Result};

/// Rows encoded at a time: enough to keep two threads busy, few enough to hold.
const CHUNK_ROWS: usize = 1 << 16;

/// Rows handed to a column encoder per call (its pages are cut between calls' mini
/// batches, so the calls must not follow the incoming batches).
const SLICE_ROWS: usize = 8192;

/// A Parquet file being written, batch by batch; [`ParquetSink::close`] finishes it.
pub struct ParquetSink {
    writer: SerializedFileWriter<File>,
    factory: ArrowRowGroupWriterFactory,
    schema: SchemaRef,
    row_group_rows: usize,
    /// The open row group's column encoders (none between row groups).
    columns: Vec<ArrowColumnWriter>,
    row_groups: usize,
    rows_in_group: usize,
    pending: Vec<RecordBatch>,
    pending_rows: usize,
}

impl ParquetSink {
    /// Create `path` for rows of `schema`, written with `props`.
    pub fn create(path: &Path, schema: SchemaRef, props: WriterProperties) -> Result<ParquetSink> {
        let mut props = props;
        add_encoded_arrow_schema_to_metadata(&schema, &mut props);
        let row_group_rows = props.max_row_group_row_count().unwrap_or(usize::MAX).max(1);
        let parquet_schema = ArrowSchemaConverter::new()
            .with_coerce_types(props.coerce_types())
            .convert(&schema)?;
        let file = File::create(path).at(path)?;
        let writer =
            SerializedFileWriter::new(file, parquet_schema.root_schema_ptr(), props.into())?;
        let factory = ArrowRowGroupWriterFactory::new(&writer, schema.clone());
        Ok(ParquetSink {
            writer,
            factory,
            schema,
            row_group_rows,
            columns: vec![],
            row_groups: 0,
            rows_in_group: 0,
            pending: vec![],
            pending_rows: 0,
        })
    }

    /// Append `batch` (of the sink's schema).
    pub fn write(&mut self, batch: RecordBatch) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        self.pending_rows += batch.num_rows();
        self.pending.push(batch);
        loop {
            let rows = CHUNK_ROWS.min(self.row_group_rows - self.rows_in_group);
            if self.pending_rows < rows {
                return Ok(());
            }
            self.encode(rows)?;
        }
    }

    /// Encode the first `rows` pending rows into the open row group (opened if need
    /// be), closing it when full.
    fn encode(&mut self, rows: usize) -> Result<()> {
        let chunk = rows_between(&self.pending, 0, rows);
        self.pending = rows_between(&self.pending, rows, self.pending_rows - rows);
        self.pending_rows -= rows;
        if self.columns.is_empty() {
            self.columns = self.factory.create_column_writers(self.row_groups)?;
        }
        // Slices counted from the chunk's start; one across two incoming batches is
        // joined into one array (per column, by the worker encoding that column).
        let slices: Vec<Vec<RecordBatch>> = (0..rows)
            .step_by(SLICE_ROWS)
            .map(|start| rows_between(&chunk, start, SLICE_ROWS))
            .collect();
        let schema = &self.schema;
        let columns = std::mem::take(&mut self.columns);
        let encoded = crate::parallel::map_in_turn(
            columns.into_iter().enumerate().collect(),
            |(c, mut column)| -> Result<ArrowColumnWriter> {
                for parts in &slices {
                    let arrays: Vec<&dyn Array> =
                        parts.iter().map(|p| p.column(c).as_ref()).collect();
                    let slice: ArrayRef = match arrays.as_slice() {
                        [_] => parts[0].column(c).clone(),
                        _ => concat(&arrays)?,
                    };
                    for leaf in compute_leaves(schema.field(c), &slice)? {
                        column.write(&leaf)?;
                    }
                }
                Ok(column)
            },
        );
        self.columns = encoded.into_iter().collect::<Result<_>>()?;
        self.rows_in_group += rows;
        if self.rows_in_group == self.row_group_rows {
            self.close_row_group()?;
        }
        Ok(())
    }

    fn close_row_group(&mut self) -> Result<()> {
        let mut row_group = self.writer.next_row_group()?;
        for column in self.columns.drain(..) {
            column.close()?.append_to_row_group(&mut row_group)?;
        }
        row_group.close()?;
        self.row_groups += 1;
        self.rows_in_group = 0;
        Ok(())
    }

    /// Encode what is left and finish the file.
    pub fn close(mut self) -> Result<()> {
        if self.pending_rows > 0 {
            self.encode(self.pending_rows)?;
        }
        if self.rows_in_group > 0 {
            self.close_row_group()?;
        }
        self.writer.close()?;
        Ok(())
    }
}

/// Up to `count` rows of `batches` from row `first` on, as slices.
pub fn rows_between(batches: &[RecordBatch], first: usize, count: usize) -> Vec<RecordBatch> {
    let mut slices = Vec::new();
    let (mut skip, mut left) = (first, count);
    for batch in batches {
        if left == 0 {
            break;
        }
        if skip >= batch.num_rows() {
            skip -= batch.num_rows();
            continue;
        }
        let take = (batch.num_rows() - skip).min(left);
        slices.push(batch.slice(skip, take));
        left -= take;
        skip = 0;
    }
    slices
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int64Array, StringArray};
    use datafusion::arrow::compute::concat_batches;
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use std::sync::Arc;

    fn rows(n: i64) -> RecordBatch {
        RecordBatch::try_from_iter([
            (
                "n",
                Arc::new(Int64Array::from_iter_values(0..n)) as ArrayRef,
            ),
            (
                "s",
                Arc::new(StringArray::from_iter_values(
                    (0..n).map(|i| format!("id-{}", i % 977)),
                )),
            ),
        ])
        .unwrap()
    }

    fn write(path: &Path, batches: &[RecordBatch]) {
        let props = WriterProperties::builder()
            .set_max_row_group_row_count(Some(100_000))
            .build();
        let mut sink = ParquetSink::create(path, batches[0].schema(), props).unwrap();
        for batch in batches {
            sink.write(batch.clone()).unwrap();
        }
        sink.close().unwrap();
    }

    /// The same rows give the same bytes however the batches that bring them are cut,
    /// in row groups of the configured size, and read back as written.
    #[test]
    fn bytes_depend_on_the_rows_not_the_batches() {
        let dir = tempfile::tempdir().unwrap();
        let all = rows(250_000);
        let whole = dir.path().join("whole.parquet");
        write(&whole, std::slice::from_ref(&all));
        let cut = dir.path().join("cut.parquet");
        let pieces: Vec<RecordBatch> = (0..all.num_rows())
            .step_by(7_777)
            .map(|start| all.slice(start, 7_777.min(all.num_rows() - start)))
            .collect();
        write(&cut, &pieces);
        assert!(std::fs::read(&whole).unwrap() == std::fs::read(&cut).unwrap());

        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&cut).unwrap()).unwrap();
        let groups: Vec<i64> = reader
            .metadata()
            .row_groups()
            .iter()
            .map(|g| g.num_rows())
            .collect();
        assert_eq!(groups, [100_000, 100_000, 50_000]);
        let read: Vec<RecordBatch> = reader.build().unwrap().map(|b| b.unwrap()).collect();
        assert_eq!(concat_batches(&all.schema(), &read).unwrap(), all);
    }
}
