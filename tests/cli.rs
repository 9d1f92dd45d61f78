//! The binary as a user runs it: exit codes, help, validate, query formats.

use predicates::prelude::*;

use crate::util::revalign;
use crate::util::{copy_fixture, fixture, list_files};

#[test]
fn help_lists_the_commands() {
    revalign().arg("--help").assert().success().stdout(
        predicate::str::contains("run")
            .and(predicate::str::contains("generate"))
            .and(predicate::str::contains("validate"))
            .and(predicate::str::contains("query")),
    );
    revalign()
        .args(["run", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("--month"));
}

#[test]
fn usage_errors_exit_2() {
    revalign().arg("--no-such-flag").assert().code(2);
    revalign()
        .args(["run", "--month", "2026-13"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("YYYY-MM"));
    revalign()
        .args(["run", "--scheduler", "df://127.0.0.1:50050"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("need --engine ballista"));
    revalign()
        .args(["run", "--engine", "ballista", "--scheduler", "http://x:1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("df://HOST:PORT"));
    revalign()
        .args(["run", "--set", "sla_hourz=4"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("sla_hourz"));
}

#[test]
fn schema_fault_exits_1_names_file_and_column_and_writes_nothing() {
    let data = tempfile::tempdir().unwrap();
    copy_fixture("funnel", data.path());
    std::fs::write(
        data.path().join("touches.csv"),
        "touch_id,contact_id,ts,channel\nT1,C1,2026-01-01,email\n",
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    revalign()
        .args(["run", "--month", "2026-03", "--data"])
        .arg(data.path())
        .arg("--out")
        .arg(out.path())
        .assert()
        .code(1)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("touches.csv").and(predicate::str::contains("`kind`")));
    // Only the lock files, which every run into --out takes first.
    let written: Vec<String> = list_files(out.path())
        .into_iter()
        .filter(|f| !f.ends_with(".lock"))
        .collect();
    assert!(written.is_empty(), "{written:?}");
}

#[test]
fn run_then_query_in_every_format() {
    let out = tempfile::tempdir().unwrap();
    revalign()
        .args(["run", "--month", "2026-03", "--data"])
        .arg(fixture("funnel"))
        .arg("--out")
        .arg(out.path())
        .assert()
        .success()
        .stdout(
            predicate::str::contains("funnel_monthly").and(predicate::str::contains("0 rejected")),
        );
    let sql =
        "SELECT channel, mqls FROM mql_followup WHERE month = DATE '2026-01-01' ORDER BY channel";
    revalign()
        .args(["query", "--out"])
        .arg(out.path())
        .args(["--format", "csv", sql])
        .assert()
        .success()
        .stdout("channel,mqls\nall,2\npaid_search,1\nwebinar,1\n");
    revalign()
        .args(["query", "--out"])
        .arg(out.path())
        .args(["--format", "json", sql])
        .assert()
        .success()
        .stdout("{\"channel\":\"all\",\"mqls\":2}\n{\"channel\":\"paid_search\",\"mqls\":1}\n{\"channel\":\"webinar\",\"mqls\":1}\n");
    revalign()
        .args(["query", "--out"])
        .arg(out.path())
        .arg(sql)
        .assert()
        .success()
        .stdout(predicate::str::contains("| paid_search | 1    |"));
    // Inputs are queryable too.
    revalign()
        .args(["query", "--format", "csv", "--data"])
        .arg(fixture("funnel"))
        .arg("--out")
        .arg(out.path())
        .arg("SELECT COUNT(*) AS n FROM touches WHERE kind = 'sales'")
        .assert()
        .success()
        .stdout("n\n7\n");
    revalign()
        .args(["query", "--out"])
        .arg(out.path())
        .arg("SELECT * FROM nope")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("nope"));
}

#[test]
fn validate_prints_a_per_table_summary() {
    let data = tempfile::tempdir().unwrap();
    copy_fixture("funnel", data.path());
    let mut opps = std::fs::read_to_string(data.path().join("opportunities.csv")).unwrap();
    opps.push_str("O4,A1,2026-02-01,,won,10,,,\n");
    std::fs::write(data.path().join("opportunities.csv"), opps).unwrap();
    revalign()
        .args(["validate", "--data"])
        .arg(data.path())
        .assert()
        .success()
        .stdout(
            predicate::str::contains("opportunities")
                .and(predicate::str::contains("won/lost without closed_at: 1"))
                .and(predicate::str::contains("subscriptions            absent"))
                .and(predicate::str::contains("row 4 column closed_at")),
        );
    revalign()
        .args(["validate", "--strict", "--data"])
        .arg(data.path())
        .assert()
        .code(1);
}

/// A table whose every row is rejected is a mapping fault: validate says so and exits 1;
/// the rejects carry the record's key; duplicate stage entries count once.
#[test]
fn validate_fails_when_every_row_of_a_table_is_rejected() {
    let data = tempfile::tempdir().unwrap();
    copy_fixture("funnel", data.path());
    std::fs::write(
        data.path().join("touches.csv"),
        "touch_id,contact_id,ts,channel,kind\nT1,C1,not a date,email,marketing\nT2,C2,2026-13-01,email,marketing\n",
    )
    .unwrap();
    let lifecycle = std::fs::read_to_string(data.path().join("lifecycle.csv")).unwrap();
    let first_entry = lifecycle.lines().nth(1).unwrap().to_string();
    std::fs::write(
        data.path().join("lifecycle.csv"),
        format!("{}\n{first_entry}\n", lifecycle.trim_end()),
    )
    .unwrap();
    revalign()
        .args(["validate", "--data"])
        .arg(data.path())
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "every row of touches was rejected",
        ))
        .stdout(
            predicate::str::contains("duplicate stage entry (same contact, stage and time): 1")
                .and(predicate::str::contains("cannot measure: no sales touches")),
        );
    let loaded = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(revalign::run::load_inputs(data.path(), &Default::default()))
        .unwrap();
    let keys: Vec<(&str, Option<&str>)> = loaded
        .rejects
        .iter()
        .map(|r| (r.table.as_str(), r.record_key.as_deref()))
        .collect();
    assert!(
        keys.contains(&("touches", Some("T1"))) && keys.contains(&("touches", Some("T2"))),
        "{keys:?}"
    );
    let contact = first_entry.split(',').next().unwrap();
    assert!(keys.contains(&("lifecycle", Some(contact))), "{keys:?}");
}

/// `query --staging` sees the raw exports under the names the staging SQL reads them by,
/// beside the staged canonical tables, so staging SQL can be tried interactively.
#[test]
fn query_with_staging_sees_raw_and_staged_tables() {
    let example = crate::util::repo_path("examples/crm_export");
    let out = tempfile::tempdir().unwrap();
    revalign()
        .args(["query", "--format", "csv", "--data"])
        .arg(example.join("data"))
        .arg("--staging")
        .arg(example.join("staging"))
        .arg("--out")
        .arg(out.path())
        .arg("SELECT (SELECT COUNT(*) FROM sf_contact) AS raw_rows, (SELECT COUNT(*) FROM contacts) AS staged_rows")
        .assert()
        .success()
        .stdout(predicate::str::starts_with("raw_rows,staged_rows\n"));
}

/// `revalign plan` prints the run's graph without running it, as text or Graphviz dot,
/// for the built-in queries or a replaced set.
#[test]
fn plan_prints_the_graph_in_text_and_dot() {
    let text = revalign()
        .arg("plan")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(text).unwrap();
    for heading in ["inputs:", "queries:", "models:", "metrics:", "charts:"] {
        assert!(
            text.contains(&format!("{heading}\n")),
            "{heading} in\n{text}"
        );
    }
    assert!(
        text.contains("  attribution_markov               reads attribution_paths [published]"),
        "{text}"
    );
    assert!(text.contains("touches                          as of the report month: rows at or after the report end are dropped"));
    revalign()
        .args(["plan", "--format", "dot"])
        .assert()
        .success()
        .stdout(
            predicate::str::starts_with("digraph revalign {").and(predicate::str::contains(
                "\"model:attribution_markov\" -> \"query:attribution_channel\"",
            )),
        );
}

/// A model step's input is checked before the model runs: a replaced query with the
/// wrong columns fails with a named error (exit 1), not a panic.
#[test]
fn a_replaced_query_that_breaks_a_model_contract_is_named() {
    let queries = tempfile::tempdir().unwrap();
    crate::util::copy_dir(&crate::util::repo_path("queries"), queries.path());
    std::fs::write(
        queries.path().join("attribution/helpers/attribution_paths.sql"),
        "-- attribution_paths: replaced\nSELECT opportunity_id, 'a' AS channel, 1.5 AS amount FROM attribution_journey LIMIT 1\n",
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    revalign()
        .args(["run", "--month", "2026-06", "--data"])
        .arg(crate::util::fixture("attribution"))
        .arg("--queries")
        .arg(queries.path())
        .arg("--out")
        .arg(out.path())
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("model `attribution_markov` reads table `attribution_paths`")
                .and(predicate::str::contains(
                    "status (Utf8), amount (Decimal128(18, 2))",
                ))
                .and(predicate::str::contains("panicked").not()),
        );
}

/// A table given both by staging SQL and by a file is a fault of the inputs (exit 1),
/// not of the command line.
#[test]
fn a_table_from_staging_and_a_file_is_an_input_fault() {
    let example = crate::util::repo_path("examples/crm_export");
    let data = tempfile::tempdir().unwrap();
    crate::util::copy_dir(&example.join("data"), data.path());
    std::fs::write(
        data.path().join("contacts.csv"),
        "contact_id,account_id\nC1,A1\n",
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    revalign()
        .args(["run", "--month", "2026-03", "--data"])
        .arg(data.path())
        .arg("--staging")
        .arg(example.join("staging"))
        .arg("--out")
        .arg(out.path())
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "table `contacts` is given both by staging SQL",
        ));
}
