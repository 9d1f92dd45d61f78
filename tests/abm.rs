//! The ICP score and its honest evaluation on generated outcomes: a score must not
//! claim skill when outcomes are random, and must find a segment that clearly wins.

use std::fmt::Write as _;

use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::datatypes::Float64Type;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use revalign::config::Params;

use crate::util::{session_after_queries, write_tables};

const INDUSTRIES: &[&str] = &["winner", "b", "c", "d", "e", "f"];

/// 3,000 accounts, one closed new-business opportunity each, closed between January
/// 2024 and February 2026. `win_rate(industry)` decides the odds.
fn outcomes_fixture(dir: &std::path::Path, seed: u64, win_rate: impl Fn(&str) -> f64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut accounts = String::from("account_id,industry,employees,region,technologies\n");
    let mut opportunities =
        String::from("opportunity_id,account_id,created_at,closed_at,status,amount\n");
    for i in 0..3000 {
        let industry = INDUSTRIES[rng.gen_range(0..INDUSTRIES.len())];
        let employees = [20, 100, 500, 2000, 9000][rng.gen_range(0..5)];
        let region = ["emea", "apac", "north_america"][rng.gen_range(0..3)];
        let tech = ["aws", "gcp", ""][rng.gen_range(0..3)];
        writeln!(accounts, "A{i},{industry},{employees},{region},{tech}").unwrap();
        let day = rng.gen_range(0..780);
        let closed =
            chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() + chrono::Duration::days(day);
        let created = closed - chrono::Duration::days(60);
        let status = if rng.gen::<f64>() < win_rate(industry) {
            "won"
        } else {
            "lost"
        };
        writeln!(opportunities, "O{i},A{i},{created},{closed},{status},1000").unwrap();
    }
    write_tables(
        dir,
        &[
            ("accounts", &accounts),
            ("contacts", "contact_id,account_id\n"),
            ("opportunities", &opportunities),
        ],
    );
}

async fn query(ctx: &datafusion::prelude::SessionContext, sql: &str) -> RecordBatch {
    let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    datafusion::arrow::compute::concat_batches(&batches[0].schema(), &batches).unwrap()
}

/// (auc, std error, verdict) of the held-out evaluation.
async fn evaluation(ctx: &datafusion::prelude::SessionContext) -> (f64, f64, String) {
    let b = query(
        ctx,
        "SELECT auc, auc_std_error, verdict FROM icp_model_quality WHERE tier = 'all'",
    )
    .await;
    (
        b.column(0).as_primitive::<Float64Type>().value(0),
        b.column(1).as_primitive::<Float64Type>().value(0),
        b.column(2).as_string::<i32>().value(0).to_string(),
    )
}

#[tokio::test]
async fn random_outcomes_do_not_beat_random() {
    let data = tempfile::tempdir().unwrap();
    outcomes_fixture(data.path(), 7, |_| 0.3);
    let ctx = session_after_queries(data.path(), "2026-03", &Params::default()).await;
    let (auc, se, verdict) = evaluation(&ctx).await;
    assert!(se > 0.0 && se < 0.05, "std error {se}");
    assert!((auc - 0.5).abs() < 3.0 * se, "auc {auc} se {se}");
    assert_eq!(verdict, "does not beat random");
}

#[tokio::test]
async fn a_winning_segment_is_found_and_ranked_first() {
    let data = tempfile::tempdir().unwrap();
    outcomes_fixture(data.path(), 11, |industry| {
        if industry == "winner" {
            0.8
        } else {
            0.2
        }
    });
    let ctx = session_after_queries(data.path(), "2026-03", &Params::default()).await;
    let (auc, _, verdict) = evaluation(&ctx).await;
    // The best possible ranking of this fixture (winner industry first, the rest tied)
    // has AUC ~0.70; other features only add noise.
    assert!(auc > 0.65, "auc {auc}");
    assert_eq!(verdict, "beats random");
    // Every tier-A account is in the winning industry, which tops the lift ranking;
    // tier A wins more than tier D on the held-out closes.
    let b = query(
        &ctx,
        "SELECT COUNT(*) FILTER (WHERE industry <> 'winner'), COUNT(*) FROM account_scores WHERE tier = 'A'",
    )
    .await;
    let ints = |c: usize| {
        b.column(c)
            .as_primitive::<datafusion::arrow::datatypes::Int64Type>()
            .value(0)
    };
    assert_eq!(ints(0), 0);
    assert!(ints(1) >= 250, "tier A has about 10% of 3,000 accounts");
    let b = query(
        &ctx,
        "SELECT industry FROM icp_feature_weights w JOIN (SELECT DISTINCT industry FROM account_scores) a \
         ON w.level = a.industry WHERE train_set = 'all' AND feature = 'industry' ORDER BY weight DESC LIMIT 1",
    )
    .await;
    assert_eq!(b.column(0).as_string::<i32>().value(0), "winner");
    let b = query(
        &ctx,
        "SELECT MAX(CASE WHEN tier = 'A' THEN win_rate END) - MAX(CASE WHEN tier = 'D' THEN win_rate END) FROM icp_model_quality",
    )
    .await;
    assert!(b.column(0).as_primitive::<Float64Type>().value(0) > 0.4);
}
