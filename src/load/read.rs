//! Reading files as they are: one file of a table into a raw part (CSV and JSON lines as
//! text, Parquet with its types), and every file of a folder registered for staging SQL.

use std::collections::HashSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::prelude::{CsvReadOptions, ParquetReadOptions, SessionContext};

use super::locate::{format_of, Format};
use super::{csv, jsonl, RawPart};
use crate::error::{Error, IoContext, Result};

/// Read one file as-is, with column names trimmed and lower-cased. CSV and JSON lines
/// are read as text (every value converts, or is rejected, in one place:
/// [`validate_table`]); Parquet keeps its types.
pub fn read_raw_file(path: &Path, table: &str) -> Result<RawPart> {
    let (schema, batches) = read_file(path, table)?;
    raw_part(path.display().to_string(), table, &schema, batches)
}

/// One file's columns and rows exactly as the file holds them (header spelling kept:
/// source packs normalise API-name headers themselves).
pub fn read_file(path: &Path, table: &str) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let unreadable = |message: String| Error::Unreadable {
        file: path.to_path_buf(),
        table: table.into(),
        message,
    };
    let format = format_of(path).ok_or_else(|| unreadable("unknown file extension".into()))?;
    let (schema, batches): (SchemaRef, Vec<RecordBatch>) = match format {
        Format::Csv => self::csv::read_csv(path, table)?,
        Format::Parquet => read_parquet(path).map_err(unreadable)?,
        Format::Jsonl => jsonl::read_jsonl(path, table)?,
    };
    Ok((schema, batches))
}

pub(super) const BATCH_ROWS: usize = 64 * 1024;

/// A Parquet file's rows in file order; the first and second halves of its row groups
/// are decoded on two threads.
fn read_parquet(path: &Path) -> std::result::Result<(SchemaRef, Vec<RecordBatch>), String> {
    let open = || -> std::result::Result<_, String> {
        let file = File::open(path).map_err(|e| e.to_string())?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| e.to_string())?;
        Ok(builder.with_batch_size(BATCH_ROWS))
    };
    let builder = open()?;
    let schema = builder.schema().clone();
    let groups = builder.metadata().num_row_groups();
    let decode = |builder: ParquetRecordBatchReaderBuilder<File>,
                  groups: std::ops::Range<usize>| {
        builder
            .with_row_groups(groups.collect())
            .build()
            .map_err(|e| e.to_string())?
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())
    };
    let half = groups / 2;
    let (first, second) = crate::parallel::join(
        || decode(builder, 0..half),
        || decode(open()?, half..groups),
    );
    let mut batches = first?;
    batches.extend(second?);
    Ok((schema, batches))
}

/// A raw part with column names trimmed and lower-cased; two columns with the same
/// name that way are a schema fault (one of them would be silently ignored).
pub fn raw_part(
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
        // The extension as written (`Opportunity.CSV`), which DataFusion checks.
        let extension = path
            .extension()
            .map(|e| format!(".{}", e.to_string_lossy()))
            .unwrap_or_default();
        let registered = match format {
            Format::Csv => {
                let options = CsvReadOptions::new().file_extension(&extension);
                ctx.register_csv(stem, &p, options).await
            }
            Format::Parquet => {
                let options = ParquetReadOptions {
                    file_extension: &extension,
                    ..Default::default()
                };
                ctx.register_parquet(stem, &p, options).await
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

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{AsArray, Int64Array};
    use datafusion::arrow::datatypes::{DataType, Int64Type};
    use datafusion::parquet::arrow::ArrowWriter;
    use datafusion::parquet::file::properties::WriterProperties;

    /// Row groups decoded on two threads come back in file order.
    #[test]
    fn parquet_rows_keep_file_order_across_row_groups() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("touches.parquet");
        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
        let props = WriterProperties::builder()
            .set_max_row_group_row_count(Some(1000))
            .build();
        let mut writer =
            ArrowWriter::try_new(File::create(&path).unwrap(), schema.clone(), Some(props))
                .unwrap();
        let values = Int64Array::from_iter_values(0..7_500);
        writer
            .write(&RecordBatch::try_new(schema, vec![Arc::new(values)]).unwrap())
            .unwrap();
        writer.close().unwrap();
        let (_, batches) = read_file(&path, "touches").unwrap();
        let read: Vec<i64> = batches
            .iter()
            .flat_map(|b| b.column(0).as_primitive::<Int64Type>().values().to_vec())
            .collect();
        assert_eq!(read, (0..7_500).collect::<Vec<i64>>());
    }
}
