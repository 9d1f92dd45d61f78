//! Publishing is one step: a run's outputs appear all at once or not at all, whatever
//! fails or is killed while they are moved into place; one run at a time per `--out`;
//! what killed runs leave behind is cleaned up by the next one.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command as Process;
use std::sync::Arc;

use datafusion::arrow::array::{Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use revalign::output::Staged;
use revalign::publish::FaultHook;

use crate::util::revalign;
use crate::util::{copy_fixture, month};

/// Every file under `dir` (lock files aside) with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    crate::util::list_files(dir)
        .into_iter()
        .filter(|f| !f.ends_with(".lock"))
        .map(|f| {
            let bytes = std::fs::read(dir.join(&f)).unwrap();
            (f, bytes)
        })
        .collect()
}

/// Staging folders and journals (temporary files too) left in `out`.
fn publish_leftovers(out: &Path) -> Vec<String> {
    std::fs::read_dir(out)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|f| f.contains("staging") || f.contains("journal"))
        .collect()
}

fn batch(value: i64) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Int64, false)]));
    RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(vec![value]))]).unwrap()
}

/// A run's outputs for 2026-10: `tables` with one row each, and a report file.
fn stage(out: &Path, tables: &[&str], value: i64) -> Staged {
    let mut staged = Staged::new(out, month("2026-10")).unwrap();
    for t in tables {
        staged.add_table(t, &batch(value)).unwrap();
    }
    staged
        .add_report_file("index.html", format!("run {value}").as_bytes())
        .unwrap();
    staged
        .add_report_file("charts/a.svg", format!("<svg>{value}</svg>").as_bytes())
        .unwrap();
    staged
}

/// The old outputs: tables a, b, c and another month's partition of c.
fn old_state(out: &Path) {
    stage(out, &["a", "b", "c"], 1).publish().unwrap();
    let mut other = Staged::new(out, month("2026-09")).unwrap();
    other.add_table("c", &batch(9)).unwrap();
    other.publish().unwrap();
}

/// The new run: a and b again, c no longer produced, d new.
const NEW_TABLES: &[&str] = &["a", "b", "d"];

#[test]
fn a_publish_that_fails_at_any_step_leaves_the_previous_outputs() {
    let expected_new = {
        let dir = tempfile::tempdir().unwrap();
        old_state(dir.path());
        stage(dir.path(), NEW_TABLES, 2).publish().unwrap();
        snapshot(dir.path())
    };
    assert!(expected_new.contains_key("tables/d/report_month=2026-10/part-0.parquet"));
    assert!(
        !expected_new
            .keys()
            .any(|f| f.starts_with("tables/c/report_month=2026-10")),
        "the stale partition is removed: {:?}",
        expected_new.keys()
    );
    assert!(expected_new.contains_key("tables/c/report_month=2026-09/part-0.parquet"));
    let mut failures = 0;
    for n in 0.. {
        let dir = tempfile::tempdir().unwrap();
        old_state(dir.path());
        let before = snapshot(dir.path());
        let mut staged = stage(dir.path(), NEW_TABLES, 2);
        staged.set_fault_hook(FaultHook::ErrorAfter(n));
        let result = staged.publish();
        let after = snapshot(dir.path());
        let leftovers = publish_leftovers(dir.path());
        assert!(leftovers.is_empty(), "step {n}: left {leftovers:?}");
        match result {
            Err(e) => {
                failures += 1;
                assert!(e.to_string().contains("simulated"), "step {n}: {e}");
                assert_eq!(after, before, "failure after step {n} left a mix");
            }
            Ok(()) => {
                assert_eq!(after, expected_new, "publish with hook at {n}");
                break;
            }
        }
    }
    // One journal step, two renames per replaced output (a, b, report), one per new
    // one (d), one removal (c), the commit.
    assert!(failures >= 9, "every step was tried: {failures}");
}

#[test]
fn a_second_run_into_the_same_out_fails_at_once() {
    let out = tempfile::tempdir().unwrap();
    let _held = revalign::publish::lock_for_run(out.path()).unwrap();
    let data = tempfile::tempdir().unwrap();
    copy_fixture("funnel", data.path());
    let started = std::time::Instant::now();
    revalign()
        .args(["run", "--month", "2026-10", "--data"])
        .arg(data.path())
        .arg("--out")
        .arg(out.path())
        .assert()
        .code(1)
        .stderr(predicates::str::contains("another revalign run"))
        .stderr(predicates::str::contains(format!(
            "pid {}",
            std::process::id()
        )));
    assert!(started.elapsed().as_secs() < 60, "it did not wait");
    assert!(
        !out.path().join("tables").exists(),
        "nothing written by the refused run"
    );
}

#[test]
fn leftovers_of_killed_runs_are_cleaned_by_the_next_run() {
    let out = tempfile::tempdir().unwrap();
    let abandoned = out.path().join(".revalign-staging-abc123");
    std::fs::create_dir_all(abandoned.join("tables/x")).unwrap();
    std::fs::write(abandoned.join("tables/x/part-0.parquet"), b"half").unwrap();
    drop(revalign::publish::lock_for_run(out.path()).unwrap());
    assert!(
        !abandoned.exists(),
        "the abandoned staging folder is removed"
    );
}

/// Run the binary; `abort_after` makes it abort after that many publish steps.
fn run_binary(data: &Path, out: &Path, abort_after: Option<usize>) -> std::process::ExitStatus {
    let mut cmd = Process::new(assert_cmd::cargo::cargo_bin("revalign"));
    cmd.args(["run", "--month", "2026-10", "--data"])
        .arg(data)
        .arg("--out")
        .arg(out)
        .env_remove("REVALIGN_TEST_ABORT_AFTER_PUBLISH_STEPS")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    if let Some(n) = abort_after {
        cmd.env("REVALIGN_TEST_ABORT_AFTER_PUBLISH_STEPS", n.to_string());
    }
    cmd.status().unwrap()
}

/// Tables and report of `out` with the run-dependent bits (timings, the data folder's
/// name in the page and manifest) left out of the comparison, and the data folder the
/// manifest names.
fn published(out: &Path) -> (BTreeMap<String, Vec<u8>>, String) {
    let mut files = snapshot(out);
    // A killed run's staging folder is not an output (the next run deletes it).
    files.retain(|f, _| !f.starts_with(".revalign-staging-"));
    let manifest: serde_json::Value = serde_json::from_slice(
        files
            .get("reports/2026-10/manifest.json")
            .expect("a manifest"),
    )
    .unwrap();
    files.remove("reports/2026-10/manifest.json");
    files.remove("reports/2026-10/index.html");
    (files, manifest["data"].as_str().unwrap().to_string())
}

#[test]
fn a_run_killed_at_any_step_of_publishing_leaves_the_old_or_the_new_outputs() {
    let old_data = tempfile::tempdir().unwrap();
    copy_fixture("attribution", old_data.path());
    let new_data = tempfile::tempdir().unwrap();
    copy_fixture("revenue", new_data.path());
    let template = tempfile::tempdir().unwrap();
    assert!(run_binary(old_data.path(), template.path(), None).success());
    let old = published(template.path());
    let reference = tempfile::tempdir().unwrap();
    crate::util::copy_dir(template.path(), reference.path());
    assert!(run_binary(new_data.path(), reference.path(), None).success());
    let new = published(reference.path());
    assert_ne!(old.0, new.0, "the two runs differ");

    let mut saw_old = false;
    let mut saw_new = false;
    for n in (0..200).step_by(3) {
        let out = tempfile::tempdir().unwrap();
        crate::util::copy_dir(template.path(), out.path());
        let status = run_binary(new_data.path(), out.path(), Some(n));
        // Whatever a reader does next settles the folder first.
        revalign()
            .args(["query", "--out"])
            .arg(out.path())
            .arg("SELECT COUNT(*) FROM rejects")
            .assert()
            .success();
        let now = published(out.path());
        if now == old {
            saw_old = true;
        } else {
            let differing = |other: &(BTreeMap<String, Vec<u8>>, String)| -> Vec<String> {
                let mut keys: Vec<String> = now.0.keys().chain(other.0.keys()).cloned().collect();
                keys.sort();
                keys.dedup();
                keys.retain(|k| now.0.get(k) != other.0.get(k));
                keys
            };
            assert!(
                now == new,
                "killed after publish step {n}: a mix of old and new; differs from old in {:?}, \
                 from new in {:?}",
                differing(&old),
                differing(&new)
            );
            saw_new = true;
        }
        if status.success() {
            // Past the last step: a whole publish leaves nothing behind.
            let names = publish_leftovers(out.path());
            assert!(names.is_empty(), "{names:?}");
            break;
        }
    }
    assert!(
        saw_old && saw_new,
        "kills before and after the commit were tried"
    );
}

/// A lock file planted as a symbolic link is refused, never followed (a shared --out
/// must not let anyone make a run overwrite another file).
#[cfg(unix)]
#[test]
fn lock_files_that_are_symlinks_are_refused() {
    let out = tempfile::tempdir().unwrap();
    let victim = out.path().join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    std::os::unix::fs::symlink(&victim, out.path().join(".revalign.lock")).unwrap();
    let err = revalign::publish::lock_for_run(out.path()).unwrap_err();
    assert!(err.to_string().contains("symbolic link"), "{err}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
}
