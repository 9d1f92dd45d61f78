//! What a user can put in front of revalign must not reach outside what they asked
//! for: every SQL entry point is read-only, every name that becomes a path is
//! `[a-z0-9_]+`, flags and parameters are checked before anything runs (usage errors
//! exit 2), `revalign query --format csv` escapes formula-looking cells, and
//! `--threads` has a ceiling.

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;
use revalign::config::{apply_overrides, Month, Params};
use revalign::engine::{self, EngineOptions, Session, MAX_THREADS};
use revalign::query;

use crate::util::revalign;
use crate::util::{copy_fixture, fixture, job, list_files};

/// `revalign run` on the funnel fixture for 2026-03 into `out`.
fn run_funnel(out: &Path) -> Command {
    let mut c = revalign();
    c.args(["run", "--month", "2026-03", "--data"])
        .arg(fixture("funnel"))
        .arg("--out")
        .arg(out);
    c
}

// ---------------------------------------------------------------------------------
// 1. Read-only SQL

/// Statements that create, change or write something, each with the file it would
/// write (if any) under `dir`.
fn writing_statements(dir: &Path) -> Vec<(String, Option<std::path::PathBuf>)> {
    let copy = dir.join("copied.csv");
    let external = dir.join("external.csv");
    std::fs::write(&external, "a\n1\n").unwrap();
    let explained = dir.join("explained.csv");
    vec![
        (
            format!("COPY (SELECT 1 AS a) TO '{}'", copy.display()),
            Some(copy),
        ),
        (
            format!(
                "CREATE EXTERNAL TABLE ext STORED AS CSV LOCATION '{}' OPTIONS ('format.has_header' 'true')",
                external.display()
            ),
            None,
        ),
        ("CREATE VIEW v AS SELECT 1 AS a".into(), None),
        ("CREATE TABLE t AS SELECT 1 AS a".into(), None),
        ("DROP TABLE IF EXISTS params".into(), None),
        ("SET datafusion.execution.batch_size = 7".into(), None),
        (
            format!(
                "EXPLAIN ANALYZE COPY (SELECT 1 AS a) TO '{}'",
                explained.display()
            ),
            Some(explained),
        ),
    ]
}

#[tokio::test]
async fn read_only_sql_refuses_ddl_dml_and_statements() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = datafusion::prelude::SessionContext::new();
    ctx.sql("CREATE TABLE params AS SELECT 1 AS a")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    for (sql, file) in writing_statements(dir.path()) {
        let result = engine::read_only_sql(&ctx, &sql).await;
        let result = match result {
            Ok(df) => df.collect().await.map(|_| ()),
            Err(e) => Err(e),
        };
        let err = result.expect_err(&sql);
        assert!(err.to_string().contains("read-only"), "{sql}: {err}");
        if let Some(file) = file {
            assert!(!file.exists(), "{sql} wrote {}", file.display());
        }
    }
    // Nothing was created or changed.
    for name in ["ext", "v", "t"] {
        assert!(ctx.table(name).await.is_err(), "{name} exists");
    }
    assert!(ctx.table("params").await.is_ok());
    assert_ne!(ctx.copied_config().batch_size(), 7);
    // Queries run.
    for sql in [
        "SELECT a FROM params",
        "WITH x AS (SELECT 2 AS b) SELECT b FROM x",
        "VALUES (1), (2)",
        "EXPLAIN SELECT 1",
    ] {
        let batches = engine::read_only_sql(&ctx, sql)
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        assert!(!batches.is_empty(), "{sql}");
    }
}

#[test]
fn revalign_query_is_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    for (sql, file) in writing_statements(dir.path()) {
        revalign()
            .args(["query", "--out"])
            .arg(out.path())
            .arg(&sql)
            .assert()
            .code(2)
            .stderr(
                predicate::str::contains("revalign query")
                    .and(predicate::str::contains("read-only")),
            );
        if let Some(file) = file {
            assert!(!file.exists(), "{sql} wrote {}", file.display());
        }
    }
    revalign()
        .args(["query", "--format", "csv", "--out"])
        .arg(out.path())
        .arg("SELECT 1 AS a")
        .assert()
        .success()
        .stdout("a\n1\n");
}

#[test]
fn chart_sql_is_read_only() {
    let reports = tempfile::tempdir().unwrap();
    let target = reports.path().join("written_by_a_chart.csv");
    std::fs::write(
        reports.path().join("charts.toml"),
        format!(
            "[[chart]]\nkey = \"sneaky\"\ntitle = \"t\"\nsection = \"sales\"\nkind = \"bars\"\n\
             sql = \"COPY (SELECT 'a' AS x, 1 AS y) TO '{}'\"\nhow_to_read = \"-\"\n",
            target.display()
        ),
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    run_funnel(out.path())
        .arg("--reports")
        .arg(reports.path())
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("chart `sneaky`")
                .and(predicate::str::contains("charts.toml"))
                .and(predicate::str::contains("read-only")),
        );
    assert!(!target.exists(), "the chart's COPY wrote a file");
    assert!(
        !out.path().join("reports").exists(),
        "{:?}",
        list_files(out.path())
    );
}

#[tokio::test]
async fn scorecard_sql_is_read_only() {
    let data = tempfile::tempdir().unwrap();
    copy_fixture("funnel", data.path());
    let reports = tempfile::tempdir().unwrap();
    let target = reports.path().join("written_by_a_metric.csv");
    std::fs::write(
        reports.path().join("scorecard.toml"),
        format!(
            "[[metric]]\nkey = \"sneaky\"\nlabel = \"S\"\nowner = \"sales\"\n\
             sql = \"COPY (SELECT DATE '2026-03-01' AS month, 1.0 AS value) TO '{}'\"\n\
             unit = \"count\"\ndirection = \"higher\"\n",
            target.display()
        ),
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut j = job(data.path(), out.path(), "2026-03");
    j.reports = Some(reports.path().to_path_buf());
    let err = revalign::run::run(&j).await.unwrap_err().to_string();
    assert!(
        err.contains("scorecard metric sneaky") && err.contains("scorecard.toml"),
        "{err}"
    );
    assert!(!target.exists());
    assert!(!out.path().join("reports").exists());
}

#[test]
fn query_files_are_read_only() {
    let dir = tempfile::tempdir().unwrap();
    for (sql, file) in writing_statements(dir.path()) {
        let queries = tempfile::tempdir().unwrap();
        std::fs::write(queries.path().join("sneaky.sql"), &sql).unwrap();
        let out = tempfile::tempdir().unwrap();
        run_funnel(out.path())
            .arg("--queries")
            .arg(queries.path())
            .assert()
            .code(1)
            .stderr(
                predicate::str::contains("query `sneaky`")
                    .and(predicate::str::contains("sneaky.sql"))
                    .and(predicate::str::contains("read-only")),
            );
        if let Some(file) = file {
            assert!(!file.exists(), "{sql} wrote {}", file.display());
        }
        assert!(
            !out.path().join("reports").exists(),
            "{:?}",
            list_files(out.path())
        );
    }
}

/// Staging SQL goes through `engine::read_only_sql` too (in `load::stage`).
#[test]
fn staging_sql_is_read_only() {
    let data = tempfile::tempdir().unwrap();
    copy_fixture("funnel", data.path());
    std::fs::rename(
        data.path().join("accounts.csv"),
        data.path().join("crm_accounts.csv"),
    )
    .unwrap();
    let staging = tempfile::tempdir().unwrap();
    let target = staging.path().join("written_by_staging.csv");
    std::fs::write(
        staging.path().join("accounts.sql"),
        format!(
            "COPY (SELECT * FROM crm_accounts) TO '{}'",
            target.display()
        ),
    )
    .unwrap();
    revalign()
        .args(["validate", "--data"])
        .arg(data.path())
        .arg("--staging")
        .arg(staging.path())
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("accounts.sql").and(predicate::str::contains("read-only")),
        );
    assert!(!target.exists(), "the staging COPY wrote a file");
}

// ---------------------------------------------------------------------------------
// 2. Names that become paths

#[test]
fn safe_names() {
    for ok in ["funnel_monthly", "a", "x9", "icp_2"] {
        assert!(query::is_safe_name(ok), "{ok}");
    }
    for bad in [
        "", "..", ".", "a/b", "../x", "A", "a-b", "a.b", "a b", "é", "a\\b",
    ] {
        assert!(!query::is_safe_name(bad), "{bad:?}");
    }
}

#[test]
fn query_file_names_must_be_safe_before_anything_runs() {
    for file in ["...sql", "Funnel.sql", "my-query.sql", "a.b.sql"] {
        let root = tempfile::tempdir().unwrap();
        let queries = root.path().join("queries");
        std::fs::create_dir(&queries).unwrap();
        std::fs::write(queries.join("ok.sql"), "SELECT 1 AS a").unwrap();
        std::fs::write(queries.join(file), "SELECT 1 AS a").unwrap();
        let out = root.path().join("out");
        let stem = &file[..file.len() - 4];
        run_funnel(&out)
            .arg("--queries")
            .arg(&queries)
            .assert()
            .code(1)
            .stderr(
                predicate::str::contains(file)
                    .and(predicate::str::contains(format!("`{stem}`")))
                    .and(predicate::str::contains("[a-z0-9_]")),
            );
        assert!(!out.exists(), "{file}: {:?}", list_files(&out));
        let mut expected = vec!["queries/ok.sql".to_string(), format!("queries/{file}")];
        expected.sort();
        assert_eq!(
            list_files(root.path()),
            expected,
            "{file}: nothing written outside --out either"
        );
    }
}

#[test]
fn chart_keys_and_sections_must_be_safe_before_anything_runs() {
    let chart = |key: &str, section: &str| {
        format!(
            "[[chart]]\nkey = \"{key}\"\ntitle = \"t\"\nsection = \"{section}\"\nkind = \"bars\"\n\
             sql = \"SELECT 'a' AS x, 1 AS y\"\nhow_to_read = \"-\"\n"
        )
    };
    for (key, section, named) in [
        ("../../PWNED_chart", "sales", "../../PWNED_chart"),
        ("Chart", "sales", "Chart"),
        ("ok", "../x", "../x"),
        ("ok", "finance", "finance"),
    ] {
        let root = tempfile::tempdir().unwrap();
        let reports = root.path().join("reports");
        std::fs::create_dir(&reports).unwrap();
        std::fs::write(reports.join("charts.toml"), chart(key, section)).unwrap();
        let out = root.path().join("a").join("out");
        run_funnel(&out)
            .arg("--reports")
            .arg(&reports)
            .assert()
            .code(1)
            .stderr(
                predicate::str::contains("charts.toml")
                    .and(predicate::str::contains(format!("`{named}`"))),
            );
        assert_eq!(
            list_files(root.path()),
            ["reports/charts.toml"],
            "{key} {section}"
        );
    }
}

#[test]
fn scorecard_metric_keys_must_be_safe() {
    let root = tempfile::tempdir().unwrap();
    let reports = root.path().join("reports");
    std::fs::create_dir(&reports).unwrap();
    std::fs::write(
        reports.join("scorecard.toml"),
        "[[metric]]\nkey = \"../x\"\nlabel = \"X\"\nowner = \"sales\"\ntable = \"funnel_monthly\"\n\
         value = \"SUM(mqls)\"\nunit = \"count\"\ndirection = \"higher\"\n",
    )
    .unwrap();
    let err = revalign::scorecard::Catalogue::load(Some(&reports))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("scorecard.toml") && err.contains("`../x`"),
        "{err}"
    );
    let out = root.path().join("out");
    run_funnel(&out)
        .arg("--reports")
        .arg(&reports)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("scorecard.toml").and(predicate::str::contains("`../x`")));
    assert!(!out.exists());
}

// ---------------------------------------------------------------------------------
// 3. Flags and parameters

#[test]
fn parameters_must_be_finite() {
    for set in [
        "sla_hours=inf",
        "sla_hours=-inf",
        "half_life_days=nan",
        "gross_margin=nan",
    ] {
        let err = apply_overrides(Params::default(), &[set.to_string()]).unwrap_err();
        assert!(
            matches!(err, revalign::Error::Usage(_)) && err.to_string().contains("finite"),
            "{set}: {err}"
        );
        revalign()
            .args(["run", "--set", set])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("finite"));
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("revalign.toml");
    std::fs::write(&config, "[params]\nsla_hours = inf\n").unwrap();
    let err = revalign::config::load_params(Some(&config))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("revalign.toml") && err.contains("finite"),
        "{err}"
    );
}

#[test]
fn months_are_exactly_yyyy_mm_within_the_supported_range() {
    for bad in [
        "+202-10",
        "-202-10",
        "2026-1",
        "2026-001",
        "20261-01",
        " 2026-10",
        "2026-10 ",
        "2026/10",
        "2026-13",
        "2026-00",
        "1899-12",
        "2200-01",
        "2263-01",
        "٢٠٢٦-١٠",
    ] {
        assert!(bad.parse::<Month>().is_err(), "{bad:?} parsed");
    }
    for good in ["1900-01", "2026-10", "2199-12"] {
        assert_eq!(good.parse::<Month>().unwrap().to_string(), good);
    }
    for bad in ["+202-10", "2263-01", "1899-12"] {
        revalign()
            .args(["run", "--month", bad])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(bad));
        revalign()
            .args([
                "generate",
                "--out",
                "/nonexistent/never-written",
                "--end",
                bad,
            ])
            .assert()
            .code(2);
    }
    revalign()
        .args(["run", "--month", "2263-01"])
        .assert()
        .stderr(predicate::str::contains("1900-01 to 2199-12"));
}

#[test]
fn missing_folders_are_usage_errors() {
    for args in [
        &["run", "--data", "/nonexistent/data"][..],
        &["validate", "--data", "/nonexistent/data"],
        &["query", "--data", "/nonexistent/data", "SELECT 1"],
        &["run", "--queries", "/nonexistent/queries"],
        &["run", "--staging", "/nonexistent/staging", "--data", "."],
        &[
            "validate",
            "--staging",
            "/nonexistent/staging",
            "--data",
            ".",
        ],
        &["run", "--reports", "/nonexistent/reports"],
    ] {
        revalign().args(args).assert().code(2).stderr(
            predicate::str::contains("/nonexistent/")
                .and(predicate::str::contains("folder not found")),
        );
    }
}

#[test]
fn reports_folder_must_exist_and_hold_a_catalogue() {
    let empty = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    run_funnel(out.path())
        .arg("--reports")
        .arg(empty.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "neither scorecard.toml nor charts.toml",
        ));
    assert!(list_files(out.path()).is_empty());
    // A folder with one of the two: that one is used, the other falls back to the
    // built-in one, and the summary says which.
    run_funnel(out.path())
        .arg("--reports")
        .arg(fixture("scorecard"))
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "catalogues: scorecard {}; charts built-in reports/charts.toml",
            fixture("scorecard").join("scorecard.toml").display()
        )));
    run_funnel(out.path())
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "catalogues: scorecard built-in reports/scorecard.toml; charts built-in reports/charts.toml",
        ));
}

#[test]
fn csv_output_escapes_formula_cells() {
    let out = tempfile::tempdir().unwrap();
    let sql = "SELECT '=cmd|'' /C calc''!A0' AS formula, '+1' AS plus, '-2' AS minus, \
               '@SUM(A1)' AS at, concat(chr(9), 'tab') AS tab, concat(chr(13), 'cr') AS cr, \
               'plain' AS plain, -3 AS negative, CAST(-1.5 AS DOUBLE) AS dbl, \
               arrow_cast('=x', 'LargeUtf8') AS large, arrow_cast('-y', 'Utf8View') AS view, \
               arrow_cast('@z', 'Dictionary(Int32, Utf8)') AS dict, \
               CAST(NULL AS VARCHAR) AS nothing";
    let output = revalign()
        .args(["query", "--format", "csv", "--out"])
        .arg(out.path())
        .arg(sql)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(output).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "formula,plus,minus,at,tab,cr,plain,negative,dbl,large,view,dict,nothing"
    );
    let row = text.split_once('\n').unwrap().1;
    assert_eq!(
        row, "'=cmd|' /C calc'!A0,'+1,'-2,'@SUM(A1),'\ttab,\"'\rcr\",plain,-3,-1.5,'=x,'-y,'@z,\n",
        "{text:?}"
    );
    // JSON is not a spreadsheet format: values as they are.
    revalign()
        .args(["query", "--format", "json", "--out"])
        .arg(out.path())
        .arg("SELECT '=1+2' AS f")
        .assert()
        .success()
        .stdout("{\"f\":\"=1+2\"}\n");
}

// ---------------------------------------------------------------------------------
// 5. Threads

#[tokio::test]
async fn threads_are_bounded() {
    assert_eq!(MAX_THREADS, 256);
    for n in ["0", "257", "1000", "100000", "-1"] {
        revalign()
            .arg("run")
            .arg(format!("--threads={n}"))
            .assert()
            .code(2)
            .stderr(predicate::str::contains("--threads"));
    }
    // 256 is accepted by the parser (the run then stops at the missing folder).
    revalign()
        .args(["run", "--threads", "256", "--data", "/nonexistent/data"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("folder not found"));
    // The library refuses too.
    let err = Session::new(&EngineOptions {
        threads: Some(MAX_THREADS + 1),
        ..Default::default()
    })
    .await
    .err()
    .expect("refused");
    assert!(matches!(err, revalign::Error::Usage(_)), "{err}");
}

/// A query may not take the name of an input table or of a table the run itself
/// publishes: `rejects.sql` once made the manifest list `rejects` twice and dropped the
/// query's rows; `touches.sql` silently replaced the input.
#[test]
fn query_names_taken_by_the_run_are_refused() {
    for file in ["rejects.sql", "scorecard.sql", "params.sql", "touches.sql"] {
        let root = tempfile::tempdir().unwrap();
        let queries = root.path().join("queries");
        std::fs::create_dir(&queries).unwrap();
        std::fs::write(queries.join(file), "SELECT 1 AS a").unwrap();
        let out = root.path().join("out");
        run_funnel(&out)
            .arg("--queries")
            .arg(&queries)
            .assert()
            .code(1)
            .stderr(predicate::str::contains(file).and(predicate::str::contains("is taken")));
        assert!(!out.exists(), "{file}: nothing written");
    }
}

/// A half-life so short that the time-decay weights underflow to zero made credits 0/0
/// (17 of 118 opportunities lost all time-decay credit at 0.01 days): refused.
#[test]
fn half_lives_that_underflow_the_weights_are_refused() {
    let out = tempfile::tempdir().unwrap();
    run_funnel(out.path())
        .args(["--set", "half_life_days=0.01"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("lookback_days / 1000"));
    // The shortest allowed for the default 180-day window still gives every
    // opportunity its whole credit.
    run_funnel(out.path())
        .args(["--set", "half_life_days=0.18"])
        .assert()
        .success();
    revalign()
        .args(["query", "--format", "csv", "--out"])
        .arg(out.path())
        .arg(
            "SELECT COUNT(*) AS opportunities, \
                    SUM(CASE WHEN abs(s - 1) < 1e-9 THEN 1 ELSE 0 END) AS whole \
             FROM (SELECT opportunity_id, SUM(credit) AS s FROM attribution_credit \
                   WHERE model = 'time_decay' GROUP BY opportunity_id)",
        )
        .assert()
        .success()
        .stdout("opportunities,whole\n3,3\n");
}
