//! Bounded memory: under a small `--memory-limit` (a DataFusion spill pool with spill
//! files in `--spill-dir`) the monthly job writes the same outputs as without one.

use std::path::Path;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{DataType, Float64Type};
use revalign::generate::{generate, GenerateOptions};
use revalign::run;

use crate::util::{job, list_files};

/// Every row of every Parquet file under `dir`, floats to 9 significant digits (the
/// order of parallel float sums is not fixed; see README).
fn outputs(dir: &Path) -> Vec<(String, Vec<String>)> {
    list_files(dir)
        .into_iter()
        .filter(|f| f.ends_with(".parquet"))
        .map(|f| {
            let file = std::fs::File::open(dir.join(&f)).unwrap();
            let reader =
                datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
                    file,
                )
                .unwrap()
                .build()
                .unwrap();
            let mut rows = Vec::new();
            for batch in reader {
                let batch = batch.unwrap();
                for r in 0..batch.num_rows() {
                    let row: Vec<String> = batch
                        .columns()
                        .iter()
                        .map(|c| match c.data_type() {
                            DataType::Float64 if c.is_valid(r) => {
                                format!("{:.8e}", c.as_primitive::<Float64Type>().value(r))
                            }
                            _ => datafusion::arrow::util::display::array_value_to_string(c, r)
                                .unwrap(),
                        })
                        .collect();
                    rows.push(row.join("|"));
                }
            }
            (f, rows)
        })
        .collect()
}

#[tokio::test]
async fn a_memory_limited_run_equals_the_unlimited_one() {
    let data = tempfile::tempdir().unwrap();
    generate(
        data.path(),
        &GenerateOptions {
            accounts: 400,
            months: 24,
            ..Default::default()
        },
    )
    .unwrap();
    let free = tempfile::tempdir().unwrap();
    run::run(&job(data.path(), free.path(), "2026-10"))
        .await
        .unwrap();

    let limited = tempfile::tempdir().unwrap();
    let spill = tempfile::tempdir().unwrap();
    let mut j = job(data.path(), limited.path(), "2026-10");
    j.engine.memory_limit = Some(32 << 20);
    j.engine.spill_dir = Some(spill.path().join("spill"));
    run::run(&j).await.unwrap();

    let (a, b) = (
        outputs(&free.path().join("tables")),
        outputs(&limited.path().join("tables")),
    );
    assert_eq!(a.len(), b.len());
    assert!(a.len() >= 20, "every output written: {}", a.len());
    for ((fa, ra), (fb, rb)) in a.iter().zip(&b) {
        assert_eq!(fa, fb);
        assert_eq!(ra, rb, "{fa} differs under the memory limit");
    }

    // Too small a pool fails cleanly, naming the operator, and writes nothing.
    let tiny = tempfile::tempdir().unwrap();
    let mut j = job(data.path(), tiny.path(), "2026-10");
    j.engine.memory_limit = Some(4 << 20);
    let err = run::run(&j).await.unwrap_err().to_string();
    assert!(err.contains("Resources exhausted"), "{err}");
    assert!(list_files(tiny.path())
        .iter()
        .all(|f| !f.ends_with(".parquet")));
}
