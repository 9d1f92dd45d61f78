//! The monthly job end to end through the library: outputs, manifest, reruns,
//! atomic replacement, partial data and staging.

use revalign::run;

use crate::util::{
    copy_fixture, fixture, job, list_files, read_parquet_rows, repo_path, write_tables,
};

fn manifest(out: &std::path::Path, month: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(out.join(format!("reports/{month}/manifest.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn run_writes_partitions_report_and_manifest() {
    let out = tempfile::tempdir().unwrap();
    run::run(&job(&fixture("funnel"), out.path(), "2026-03"))
        .await
        .unwrap();
    let files = list_files(out.path());
    for expected in [
        "reports/2026-03/index.html",
        "reports/2026-03/manifest.json",
        "tables/funnel_monthly/report_month=2026-03/part-0.parquet",
        "tables/mql_followup/report_month=2026-03/part-0.parquet",
        "tables/rejects/report_month=2026-03/part-0.parquet",
    ] {
        assert!(
            files.contains(&expected.to_string()),
            "{expected} missing from {files:?}"
        );
    }
    assert!(
        !files.iter().any(|f| f.contains("contact_channel")),
        "helper tables are not published"
    );
    assert!(
        !files.iter().any(|f| f.contains(".revalign-staging")),
        "staging folder removed"
    );
    let m = manifest(out.path(), "2026-03");
    assert_eq!(m["report_month"], "2026-03");
    assert_eq!(m["inputs"]["touches"]["rows_read"], 11);
    assert_eq!(m["inputs"]["touches"]["loaded"], 11);
    assert_eq!(m["inputs"]["subscriptions"]["status"], "absent");
    for (name, input) in m["inputs"].as_object().unwrap() {
        assert_eq!(input["reconciles"], true, "{name}");
    }
    // report_month is a DATE column first in every table.
    let rows = read_parquet_rows(
        &out.path()
            .join("tables/funnel_monthly/report_month=2026-03/part-0.parquet"),
    );
    assert_eq!(rows.len(), 10);
    assert!(
        rows[0].starts_with("2026-03-01|2026-01-01|all|2|2|"),
        "{}",
        rows[0]
    );
    let html = std::fs::read_to_string(out.path().join("reports/2026-03/index.html")).unwrap();
    assert!(html.contains("Revenue scorecard · March 2026") && html.contains("funnel_monthly"));
}

#[tokio::test]
async fn rerun_of_the_same_month_is_identical_and_other_months_are_kept() {
    let out = tempfile::tempdir().unwrap();
    let data = fixture("attribution");
    let march = |out: &std::path::Path| -> Vec<(String, Vec<u8>)> {
        list_files(out)
            .into_iter()
            .filter(|f| f.contains("report_month=2026-03"))
            .map(|f| (f.clone(), std::fs::read(out.join(&f)).unwrap()))
            .collect()
    };
    run::run(&job(&data, out.path(), "2026-03")).await.unwrap();
    let first = march(out.path());
    assert_eq!(
        first.len(),
        10,
        "funnel_monthly, attribution x6, coverage, scorecard, rejects (no MQL entries: no \
         mql_followup; no won or lost new business: no ABM tables)"
    );
    run::run(&job(&data, out.path(), "2026-02")).await.unwrap();
    run::run(&job(&data, out.path(), "2026-03")).await.unwrap();
    assert_eq!(
        march(out.path()),
        first,
        "same inputs, same bytes in every table"
    );
    assert!(out
        .path()
        .join("tables/attribution_credit/report_month=2026-02/part-0.parquet")
        .exists());
}

#[tokio::test]
async fn failed_runs_leave_the_previous_outputs_untouched() {
    let out = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    copy_fixture("funnel", data.path());
    run::run(&job(data.path(), out.path(), "2026-03"))
        .await
        .unwrap();
    let before: Vec<(String, Vec<u8>)> = list_files(out.path())
        .into_iter()
        .map(|f| (f.clone(), std::fs::read(out.path().join(&f)).unwrap()))
        .collect();

    // A query that fails mid-pipeline.
    let queries = tempfile::tempdir().unwrap();
    crate::util::copy_dir(&crate::util::repo_path("queries"), queries.path());
    std::fs::write(
        queries.path().join("funnel/mql_followup.sql"),
        "SELECT no_such_column FROM touches",
    )
    .unwrap();
    let mut bad = job(data.path(), out.path(), "2026-03");
    bad.queries = Some(queries.path().to_path_buf());
    let err = run::run(&bad).await.unwrap_err().to_string();
    assert!(
        err.contains("mql_followup") && err.contains("no_such_column"),
        "{err}"
    );

    // A schema fault in the inputs.
    std::fs::write(
        data.path().join("opportunities.csv"),
        "opportunity_id,account_id\nO1,A1\n",
    )
    .unwrap();
    let err = run::run(&job(data.path(), out.path(), "2026-03"))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("opportunities.csv"), "{err}");

    let after: Vec<(String, Vec<u8>)> = list_files(out.path())
        .into_iter()
        .map(|f| (f.clone(), std::fs::read(out.path().join(&f)).unwrap()))
        .collect();
    assert_eq!(before, after);
}

#[tokio::test]
async fn partial_data_skips_outputs_and_says_why() {
    // Required tables plus lifecycle and touches: both funnel outputs run.
    let data = tempfile::tempdir().unwrap();
    for t in [
        "accounts",
        "contacts",
        "opportunities",
        "lifecycle",
        "touches",
    ] {
        std::fs::copy(
            fixture("funnel").join(format!("{t}.csv")),
            data.path().join(format!("{t}.csv")),
        )
        .unwrap();
    }
    let out = tempfile::tempdir().unwrap();
    let summary = run::run(&job(data.path(), out.path(), "2026-03"))
        .await
        .unwrap();
    let tables: Vec<&str> = summary
        .manifest
        .outputs
        .iter()
        .map(|o| o.table.as_str())
        .collect();
    assert!(
        tables.contains(&"funnel_monthly") && tables.contains(&"mql_followup"),
        "{tables:?}"
    );

    // Only the required tables: the funnel outputs are skipped, naming what is missing.
    std::fs::remove_file(data.path().join("lifecycle.csv")).unwrap();
    std::fs::remove_file(data.path().join("touches.csv")).unwrap();
    let summary = run::run(&job(data.path(), out.path(), "2026-03"))
        .await
        .unwrap();
    let skipped: Vec<(String, Vec<String>)> = summary
        .manifest
        .skipped
        .iter()
        .map(|s| (s.table.clone(), s.missing.clone()))
        .collect();
    assert!(
        // The funnel needs stage entries only (without touches every contact's channel
        // is `(none)`).
        skipped.contains(&("funnel_monthly".into(), vec!["lifecycle".into()])),
        "{skipped:?}"
    );
    assert!(
        skipped.contains(&(
            "mql_followup".into(),
            vec!["lifecycle".into(), "touches".into()]
        )),
        "{skipped:?}"
    );
    // No empty table pretends to be a result, and the stale partition is gone.
    assert!(!out
        .path()
        .join("tables/funnel_monthly/report_month=2026-03")
        .exists());
    let m = manifest(out.path(), "2026-03");
    assert!(
        skipped.contains(&("mrr_movements".into(), vec!["subscriptions".into()])),
        "{skipped:?}"
    );
    assert!(
        skipped.contains(&("lookalikes".into(), vec!["companies".into()])),
        "{skipped:?}"
    );
    assert_eq!(
        m["skipped"].as_array().unwrap().len(),
        12,
        "funnel x2, mrr_movements, retention_cohorts, unit_economics, lookalikes; no lost \
         new business: buying_committee, icp_feature_weights, icp_segments, account_scores, \
         icp_model_quality; no target accounts: target_list_health"
    );
}

#[tokio::test]
async fn rejects_are_written_and_strict_fails() {
    let data = tempfile::tempdir().unwrap();
    copy_fixture("funnel", data.path());
    let mut touches = std::fs::read_to_string(data.path().join("touches.csv")).unwrap();
    touches.push_str("T12,C1,not a time,email,marketing,,\n");
    write_tables(data.path(), &[("touches", &touches)]);
    let out = tempfile::tempdir().unwrap();
    let summary = run::run(&job(data.path(), out.path(), "2026-03"))
        .await
        .unwrap();
    assert_eq!(summary.manifest.rejects_total, 1);
    let rows = read_parquet_rows(
        &out.path()
            .join("tables/rejects/report_month=2026-03/part-0.parquet"),
    );
    assert_eq!(rows.len(), 1);
    assert!(rows[0].starts_with("2026-03-01|touches|"), "{}", rows[0]);
    assert!(
        rows[0].ends_with("|12|ts|unparseable timestamp|not a time|T12"),
        "{}",
        rows[0]
    );

    let mut strict = job(data.path(), out.path(), "2026-03");
    strict.strict = true;
    let err = run::run(&strict).await.unwrap_err().to_string();
    assert!(
        err.contains("--strict") && err.contains("touches") && err.contains("row 12"),
        "{err}"
    );
}

#[tokio::test]
async fn staging_example_runs_end_to_end() {
    let example = repo_path("examples/crm_export");
    let out = tempfile::tempdir().unwrap();
    let mut j = job(&example.join("data"), out.path(), "2026-03");
    j.inputs.staging = Some(example.join("staging"));
    let summary = run::run(&j).await.unwrap();
    let m = &summary.manifest;
    assert_eq!(
        m.rejects_total, 1,
        "the example carries one bad row on purpose"
    );
    assert_eq!(m.inputs["contacts"].stats.sources, ["staging/contacts.sql"]);
    assert!(m.inputs["touches"].stats.loaded > 0);
    let rows = read_parquet_rows(
        &out.path()
            .join("tables/funnel_monthly/report_month=2026-03/part-0.parquet"),
    );
    assert!(rows.iter().any(|r| r.contains("|webinar|")), "{rows:?}");
    // The reject names its record, and its row number is the same on every load.
    let (data, staging) = (example.join("data"), example.join("staging"));
    let mut loads: Vec<Vec<revalign::load::Reject>> = Vec::new();
    for _ in 0..3 {
        loads.push(
            run::load_inputs(
                &data,
                &run::InputSpec {
                    staging: Some(staging.clone()),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .rejects,
        );
    }
    assert!(loads[0][0].record_key.is_some(), "{:?}", loads[0]);
    assert!(loads.iter().all(|l| *l == loads[0]), "{loads:?}");
}

/// Scorecard: both directions, custom thresholds, a missing target, a metric with no
/// value this month and one whose table was skipped. Revenue fixture, June 2026:
/// customers 4 (May 5), logo churn 1/5 = 0.2 (May 0), MRR 620 (May 680).
#[tokio::test]
async fn scorecard_statuses_from_a_custom_catalogue() {
    let data = tempfile::tempdir().unwrap();
    copy_fixture("revenue", data.path());
    write_tables(
        data.path(),
        &[(
            "targets",
            "month,metric,target,segment\n\
             2026-06-01,customers,4.4,\n\
             2026-06-01,logo_churn_rate,0.25,\n\
             2026-06-01,ending_mrr,600,\n\
             2026-06-01,nrr,1.0,\n\
             2026-06-01,customers,99,enterprise\n\
             2026-05-01,logo_churn_rate,0.01,\n",
        )],
    );
    let out = tempfile::tempdir().unwrap();
    let mut j = job(data.path(), out.path(), "2026-06");
    j.reports = Some(fixture("scorecard"));
    run::run(&j).await.unwrap();
    let rows = read_parquet_rows(
        &out.path()
            .join("tables/scorecard/report_month=2026-06/part-0.parquet"),
    );
    assert_eq!(
        rows,
        [
            // 4 / 4.4 = 0.909: amber (>= 0.9); the segment target is not the headline target.
            "2026-06-01|customers|Customers|customer_success|count|higher|4.0|4.4|0.9090909090909091|amber|5.0|-1.0|NULL|2026-06-01|NULL",
            // lower is better: 0.25 / 0.2 = 1.25: green.
            "2026-06-01|logo_churn_rate|Logo churn|customer_success|ratio|lower|0.2|0.25|1.25|green|0.0|0.2|NULL|2026-06-01|NULL",
            // 620 / 600 = 1.033: amber under this metric's own thresholds (green 1.1, amber 1.0).
            "2026-06-01|ending_mrr|MRR|shared|currency|higher|620.0|600.0|1.0333333333333334|amber|680.0|-60.0|NULL|2026-06-01|NULL",
            "2026-06-01|nrr|NRR|customer_success|ratio|higher|NULL|1.0|NULL|NULL|NULL|NULL|no value this month|NULL|NULL",
            // Not measurable: status n/a with the reason, no numbers.
            "2026-06-01|mqls|MQLs|marketing|count|higher|NULL|NULL|NULL|n/a|NULL|NULL|not measurable from these inputs: no `lifecycle` input|NULL|NULL",
        ]
    );
    let md = std::fs::read_to_string(out.path().join("reports/2026-06/scorecard.md")).unwrap();
    assert!(
        md.contains(
            "| Logo churn | customer success | 20.0% | 25.0% | 125% | green | 0.0% | +20.0% |  |"
        ),
        "{md}"
    );
    let html = std::fs::read_to_string(out.path().join("reports/2026-06/index.html")).unwrap();
    assert!(html.contains("<span class=\"rag amber\">amber</span>"));
}

#[test]
fn the_built_in_catalogue_parses_and_bad_ones_are_refused() {
    let (_, catalogue) = revalign::scorecard::Catalogue::load(None).unwrap();
    assert!(catalogue.metric.len() >= 16);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("scorecard.toml"), "[[metric]]\nkey = \"x\"\nlabel = \"X\"\nowner = \"finance\"\ntable = \"t\"\nvalue = \"1\"\nunit = \"count\"\ndirection = \"higher\"\n").unwrap();
    let err = revalign::scorecard::Catalogue::load(Some(dir.path()))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("scorecard.toml") && err.contains("finance"),
        "{err}"
    );
    std::fs::write(dir.path().join("scorecard.toml"), "[[metric]]\nkey = \"x\"\nlabel = \"X\"\nowner = \"sales\"\nunit = \"count\"\ndirection = \"higher\"\n").unwrap();
    let err = revalign::scorecard::Catalogue::load(Some(dir.path()))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("either `sql`, or `table` and `value`"),
        "{err}"
    );
}

#[tokio::test]
async fn outputs_use_types_every_parquet_reader_maps_the_same_way() {
    use datafusion::arrow::datatypes::{DataType, TimeUnit};
    let out = tempfile::tempdir().unwrap();
    run::run(&job(&fixture("attribution"), out.path(), "2026-03"))
        .await
        .unwrap();
    let mut checked = 0;
    for file in list_files(out.path())
        .iter()
        .filter(|f| f.ends_with(".parquet"))
    {
        let reader =
            datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
                std::fs::File::open(out.path().join(file)).unwrap(),
            )
            .unwrap();
        for field in reader.schema().fields() {
            checked += 1;
            let ok = match field.data_type() {
                // DataFusion's view types would be read back as views by Arrow readers.
                DataType::Utf8View | DataType::BinaryView | DataType::LargeUtf8 => false,
                DataType::Timestamp(unit, tz) => {
                    *unit == TimeUnit::Microsecond && tz.as_deref() == Some("UTC")
                }
                DataType::Date64 => false,
                _ => true,
            };
            assert!(
                ok,
                "{file}: column {} is {}",
                field.name(),
                field.data_type()
            );
        }
    }
    assert!(checked > 100, "{checked} columns checked");
}

/// One touch dated 2099 (a placeholder or a typo) must not move the default report
/// month to 2098-12; the run says which row it ignored.
#[tokio::test]
async fn future_dated_rows_do_not_move_the_default_month() {
    let data = tempfile::tempdir().unwrap();
    copy_fixture("funnel", data.path());
    let touches = data.path().join("touches.csv");
    let mut text = std::fs::read_to_string(&touches).unwrap();
    text.push_str("T99,C1,2099-01-15 10:00:00,email,marketing,email_click,\n");
    std::fs::write(&touches, text).unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut j = job(data.path(), out.path(), "2026-03");
    j.month = None;
    let summary = run::run(&j).await.unwrap();
    let m = &summary.manifest;
    // The latest plausible activity is C2's SQL stage entry on 2026-04-10 (lifecycle
    // data row 8): March is the last complete month, as without the 2099 touch.
    assert_eq!(m.report_month, "2026-03");
    assert_eq!(m.data_through.as_deref(), Some("2026-04-10"));
    let through = m.data_through_row.as_ref().unwrap();
    assert_eq!(
        (
            through.table.as_str(),
            through.column.as_str(),
            through.row.as_str()
        ),
        ("lifecycle", "ts", "row 8")
    );
    let future: Vec<&String> = m
        .warnings
        .iter()
        .filter(|w| w.contains("after today"))
        .collect();
    assert_eq!(future.len(), 1, "{:?}", m.warnings);
    assert!(
        future[0].starts_with("touches.ts: 1 row(s) dated after today, latest 2099-01-15 (T99)"),
        "{}",
        future[0]
    );
    assert!(
        !list_files(out.path()).iter().any(|f| f.contains("2098-12")),
        "nothing written for 2098-12"
    );
    // Rows more than 92 days after the report month are reported too. After March
    // (up to 2026-07-02) there are none but the 2099 touch, said already.
    assert_eq!(m.warnings.len(), 1, "{:?}", m.warnings);
    // For 2025-10 the margin ends on 2026-02-01: after it come 4 stage entries (the
    // latest row 8), 3 touches (T08, T10, T09; the 2099 one is said as future), 2
    // opportunities created (O3, O2) and 2 closed (O1, O3).
    let m = run::run(&job(data.path(), out.path(), "2025-10"))
        .await
        .unwrap()
        .manifest;
    let late: Vec<&str> = m
        .warnings
        .iter()
        .filter(|w| w.contains("after report month"))
        .map(|w| w.split(';').next().unwrap())
        .collect();
    let after = "dated more than 92 days after report month 2025-10";
    assert_eq!(
        late,
        [
            format!("lifecycle.ts: 4 row(s) {after}, latest 2026-04-10 (row 8)"),
            format!("opportunities.created_at: 2 row(s) {after}, latest 2026-03-06 (O2)"),
            format!("opportunities.closed_at: 2 row(s) {after}, latest 2026-04-05 (O3)"),
            format!("touches.ts: 3 row(s) {after}, latest 2026-04-02 (T09)"),
        ]
    );
}

/// A killed run leaves its scratch folder (scratch Parquet, spill files, demo data) in
/// the temp or spill folder; the next run there removes it, but not a live one's.
#[tokio::test]
async fn scratch_of_killed_runs_is_swept() {
    let spill = tempfile::tempdir().unwrap();
    let dead = spill.path().join("revalign-exchange-dead01");
    std::fs::create_dir_all(dead.join("spill")).unwrap();
    std::fs::write(dead.join(".lock"), b"").unwrap();
    std::fs::write(dead.join("0000-touches.parquet"), b"scratch").unwrap();
    let engine = revalign::engine::EngineOptions {
        spill_dir: Some(spill.path().to_path_buf()),
        ..Default::default()
    };
    let live = revalign::engine::Session::new(&engine).await.unwrap();
    assert!(!dead.exists(), "the dead run's scratch is removed");
    let second = revalign::engine::Session::new(&engine).await.unwrap();
    assert!(
        live.scratch_dir().exists(),
        "a live session's scratch is kept"
    );
    let live_dir = live.scratch_dir().to_path_buf();
    drop(live);
    drop(second);
    assert!(
        !live_dir.exists(),
        "a session removes its own scratch at the end"
    );
}

/// Every output file is byte-identical whatever the thread count (one thread, as in a
/// one-CPU container; four) and under a memory limit: float sums are exact decimal
/// sums, so the order parallel partitions add in cannot show (DESIGN §9).
#[test]
fn outputs_are_byte_identical_across_threads_and_memory_limits() {
    let data = crate::util::medium_generated_data();
    let runs: [(&[&str], Option<&str>); 3] = [
        (&["--threads", "1"], Some("1")),
        (&["--threads", "4"], None),
        (&["--threads", "2", "--memory-limit", "64MiB"], None),
    ];
    let mut outputs = Vec::new();
    for (flags, partitions) in runs {
        let out = tempfile::tempdir().unwrap();
        let mut cmd = crate::util::revalign();
        cmd.args(["run", "--month", "2026-10", "--data"])
            .arg(data.path())
            .arg("--out")
            .arg(out.path())
            .args(flags);
        if let Some(p) = partitions {
            // Also what a one-CPU container's default would be.
            cmd.env("DATAFUSION_EXECUTION_TARGET_PARTITIONS", p);
        }
        cmd.assert().success();
        outputs.push(out);
    }
    let tables = |dir: &std::path::Path| -> Vec<(String, Vec<u8>)> {
        list_files(&dir.join("tables"))
            .into_iter()
            .filter(|f| f.ends_with(".parquet"))
            .map(|f| {
                (
                    f.clone(),
                    std::fs::read(dir.join("tables").join(&f)).unwrap(),
                )
            })
            .collect()
    };
    let first = tables(outputs[0].path());
    assert!(first.len() >= 20, "{} tables", first.len());
    for (out, (flags, _)) in outputs.iter().zip(runs).skip(1) {
        let other = tables(out.path());
        assert_eq!(
            first.iter().map(|(f, _)| f).collect::<Vec<_>>(),
            other.iter().map(|(f, _)| f).collect::<Vec<_>>()
        );
        for ((file, a), (_, b)) in first.iter().zip(&other) {
            assert!(a == b, "{file} differs between --threads 1 and {flags:?}");
        }
    }
}

/// A sliced query (`-- slices:`) is written one value at a time; a row whose value the
/// slices' SQL does not list would not be written, so the run fails naming it.
#[tokio::test]
async fn a_slice_list_that_misses_rows_fails_the_run() {
    let out = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    copy_fixture("attribution", data.path());
    let queries = tempfile::tempdir().unwrap();
    crate::util::copy_dir(&crate::util::repo_path("queries"), queries.path());
    let file = queries.path().join("attribution/attribution_credit.sql");
    let sql = std::fs::read_to_string(&file).unwrap();
    let sliced = "-- slices: model in SELECT model FROM attribution_models WHERE kind = 'rule'";
    assert!(sql.contains(sliced));
    std::fs::write(
        &file,
        sql.replace(sliced, &format!("{sliced} AND model <> 'linear'")),
    )
    .unwrap();
    let mut bad = job(data.path(), out.path(), "2026-06");
    bad.queries = Some(queries.path().to_path_buf());
    let err = run::run(&bad).await.unwrap_err().to_string();
    assert!(
        err.contains("rows have a `model` outside the values of its `-- slices:` SQL"),
        "{err}"
    );
}

/// A model step reads its input table whole, in the order the rows were registered,
/// whatever the number of scan partitions: the Markov chain numbers its states in that
/// order, and a thread-timing order changed its shares in the last bits between runs
/// once the paths filled more than one 8,192-row scan batch.
#[tokio::test]
async fn model_inputs_come_back_in_registration_order() {
    use datafusion::arrow::array::{Array, Int64Array, RecordBatch};
    use std::sync::Arc;
    let engine = revalign::engine::EngineOptions {
        threads: Some(4),
        ..Default::default()
    };
    let session = revalign::engine::Session::new(&engine).await.unwrap();
    let rows: Vec<i64> = (0..100_000).rev().collect();
    let batch = RecordBatch::try_from_iter([(
        "n",
        Arc::new(Int64Array::from(rows.clone())) as Arc<dyn Array>,
    )])
    .unwrap();
    session
        .register("numbers", batch.schema(), vec![batch])
        .await
        .unwrap();
    for _ in 0..5 {
        let read = revalign::pipeline::table_batch(&session, "numbers")
            .await
            .unwrap();
        let read = read
            .column(0)
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap();
        assert!(read.values().iter().copied().eq(rows.iter().copied()));
    }
}
