//! Bounded memory: under a small `--memory-limit` (a DataFusion spill pool with spill
//! files in `--spill-dir`) the monthly job writes the same outputs as without one.

use revalign::run;

use crate::util::{assert_same_outputs, job, list_files, medium_generated_data};

#[tokio::test]
async fn a_memory_limited_run_equals_the_unlimited_one() {
    let data = medium_generated_data();
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

    assert_same_outputs(free.path(), limited.path(), "under the memory limit");

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
