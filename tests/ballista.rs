//! Scale-out: the monthly job's queries on Ballista (its in-process standalone
//! cluster: a real scheduler and executor talking gRPC and Arrow Flight on loopback)
//! give the same results as the local engine.
//!
//! Hygiene: Ballista 55 can stall (a scheduler error leaves a query waiting forever),
//! so each test body runs under a timeout ([`TEST_TIMEOUT`]). And its standalone
//! executor keeps its shuffle files in a work folder it makes in the system temp
//! folder and never removes (ballista-executor 55.0 `standalone.rs`:
//! `TempDir::new()?.path()`, whose guard is dropped at once; the executor then
//! re-creates the path), and the standalone API takes no work folder. So each test runs
//! in a child process of this test binary whose `TMPDIR` is a temporary folder,
//! removed with everything in it when the test ends.

use std::future::Future;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use revalign::config::Params;
use revalign::engine::{BallistaOptions, EngineOptions};
use revalign::pipeline::{Helpers, QueryResult};
use revalign::plan::Plan;
use revalign::query;
use revalign::run;

use crate::util::{
    assert_same_outputs, job, list_files, medium_generated_data, read_parquet_rows_rounded,
};

/// Queries of one area of the report (with what they read), run in one session.
const AREAS: [&[&str]; 2] = [
    // Attribution, funnel and pipeline (with the Markov model step).
    &[
        "attribution_",
        "contact_channel",
        "opportunity_channel",
        "funnel_stage_entries",
        "funnel_monthly",
        "mql_followup",
        "pipeline_sourcing",
        "roi_maturation",
    ],
    // Revenue, unit economics (with the sBG model step) and account-based marketing.
    &[
        "month_spine",
        "mrr_",
        "retention_cohorts",
        "account_segments",
        "sbg_input",
        "unit_economics",
        "firmographic",
        "account_value",
        "icp_",
        "lookalike",
        "account_scores",
        "opportunity_roles",
        "buying_committee",
        "target_list_health",
    ],
];

async fn run_area(data: &Path, prefixes: &[&str], engine: &EngineOptions) -> Vec<QueryResult> {
    let mut j = job(data, Path::new("unused-out"), "2026-10");
    j.engine = engine.clone();
    let mut prepared = run::prepare(&j).await.unwrap();
    // The run's own steps on a part of the plan: the area's queries.
    let queries = query::embedded_queries()
        .unwrap()
        .into_iter()
        .filter(|q| prefixes.iter().any(|p| q.name.starts_with(p)))
        .collect();
    prepared.plan = Plan::of_queries(queries).unwrap();
    prepared.skips = prepared
        .plan
        .skips(&prepared.loaded.absent, &prepared.coverage);
    let params = Params::default();
    run::execute(&mut prepared, &params, Helpers::Keep, None)
        .await
        .unwrap()
        .results
}

/// Rows of each result, rendered and sorted, floats to 9 significant digits.
fn rows(results: &[QueryResult], dir: &Path) -> Vec<(String, Vec<String>)> {
    results
        .iter()
        .map(|r| {
            let path = dir.join(format!("{}.parquet", r.query.name));
            revalign::output::write_parquet(&path, r.batch.as_ref().expect("kept in memory"))
                .unwrap();
            // Helper tables come in no particular order.
            let mut rows = read_parquet_rows_rounded(&path, Some(9));
            rows.sort();
            (r.query.name.clone(), rows)
        })
        .collect()
}

/// The longest a Ballista test may take before it fails as stalled.
const TEST_TIMEOUT: Duration = Duration::from_secs(300);

/// Set in the child process that runs a test body.
const CHILD: &str = "REVALIGN_BALLISTA_TEST_CHILD";

/// Run `body` (the test `test` of this module) in a child process with its own
/// `TMPDIR`, under [`TEST_TIMEOUT`]; see the module docs.
fn in_own_temp_folder(test: &str, body: impl Future<Output = ()>) {
    if std::env::var_os(CHILD).is_some() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            tokio::time::timeout(TEST_TIMEOUT, body)
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "{test}: not finished within {} s: Ballista stalled? (rerun with \
                         RUST_LOG=ballista_scheduler=error to see a scheduler error)",
                        TEST_TIMEOUT.as_secs()
                    )
                })
        });
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let name = format!(
        "{}::{test}",
        module_path!()
            .split_once("::")
            .map_or(module_path!(), |(_, m)| m)
    );
    let out = crate::report::output_within(
        Command::new(std::env::current_exe().unwrap())
            .args([name.as_str(), "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD, "1")
            .env("TMPDIR", tmp.path()),
        // The child's own timeout fires first; this one catches a stuck process.
        TEST_TIMEOUT + Duration::from_secs(60),
        &name,
    );
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{name} failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("1 passed"), "{name} did not run:\n{stdout}");
    eprintln!(
        "{name}: left in its temp folder (now removed): {} files",
        list_files(tmp.path()).len()
    );
}

#[test]
fn ballista_gives_the_local_results() {
    in_own_temp_folder(
        "ballista_gives_the_local_results",
        ballista_gives_the_local_results_body(),
    );
}

async fn ballista_gives_the_local_results_body() {
    let data = medium_generated_data();
    let scratch = tempfile::tempdir().unwrap();
    let exchange = tempfile::tempdir().unwrap();
    let ballista = EngineOptions {
        ballista: Some(BallistaOptions {
            scheduler: None,
            exchange_dir: Some(exchange.path().to_path_buf()),
        }),
        ..Default::default()
    };
    let (mut tables, mut total_rows) = (0, 0);
    for (i, area) in AREAS.iter().enumerate() {
        let local = run_area(data.path(), area, &EngineOptions::default()).await;
        let cluster = run_area(data.path(), area, &ballista).await;
        let dir = scratch.path().join(i.to_string());
        let (a, b) = (
            rows(&local, &dir.join("local")),
            rows(&cluster, &dir.join("ballista")),
        );
        assert_eq!(a.len(), b.len());
        for ((name, ra), (_, rb)) in a.iter().zip(&b) {
            assert_eq!(
                ra.len(),
                rb.len(),
                "{name}: rows on Ballista: {ra:#?} {rb:#?}"
            );
            for (x, y) in ra.iter().zip(rb) {
                assert_eq!(x, y, "{name} differs on Ballista");
            }
            total_rows += ra.len();
        }
        tables += a.len();
    }
    // Every query and both model steps, with real data.
    assert_eq!(tables, query::embedded_queries().unwrap().len() + 2);
    assert!(total_rows > 10_000, "{total_rows}");
    // Each session's exchange files are gone once it ends.
    assert!(
        list_files(exchange.path()).is_empty(),
        "{:?}",
        list_files(exchange.path())
    );
}

/// The whole monthly job in one Ballista session (standalone cluster): every output
/// table and the scorecard as on the local engine.
#[test]
fn a_whole_ballista_run_equals_the_local_run() {
    in_own_temp_folder(
        "a_whole_ballista_run_equals_the_local_run",
        a_whole_ballista_run_equals_the_local_run_body(),
    );
}

async fn a_whole_ballista_run_equals_the_local_run_body() {
    let data = medium_generated_data();
    let local = tempfile::tempdir().unwrap();
    run::run(&job(data.path(), local.path(), "2026-10"))
        .await
        .unwrap();
    let cluster = tempfile::tempdir().unwrap();
    let mut j = job(data.path(), cluster.path(), "2026-10");
    j.engine.ballista = Some(BallistaOptions::default());
    let summary = run::run(&j).await.unwrap();
    assert_eq!(summary.manifest.engine, "ballista (standalone)");
    assert_same_outputs(local.path(), cluster.path(), "on Ballista");
    let scorecard =
        |out: &Path| std::fs::read_to_string(out.join("reports/2026-10/scorecard.md")).unwrap();
    assert_eq!(scorecard(local.path()), scorecard(cluster.path()));
    assert!(
        summary.manifest.charts.iter().all(|c| c.no_data.is_none()),
        "every chart has data"
    );
}
