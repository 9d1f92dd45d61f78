//! Bounded memory: under a small `--memory-limit` (a DataFusion spill pool with spill
//! files in `--spill-dir`) the monthly job writes the same outputs as without one.

use std::path::Path;

use revalign::generate::{generate, GenerateOptions};
use revalign::run;

use crate::util::{job, list_files, read_parquet_rows_rounded};

/// Every row of every Parquet file under `dir`, floats to 9 significant digits.
fn outputs(dir: &Path) -> Vec<(String, Vec<String>)> {
    list_files(dir)
        .into_iter()
        .filter(|f| f.ends_with(".parquet"))
        .map(|f| {
            let rows = read_parquet_rows_rounded(&dir.join(&f), Some(9));
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
