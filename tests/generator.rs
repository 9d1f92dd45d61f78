//! The synthetic data: deterministic, valid, and realistic enough to tell the story.

use datafusion::arrow::array::{Array, AsArray, Int64Array};
use revalign::config::Params;
use revalign::generate::{generate, FileFormat, GenerateOptions};

use crate::util::session_after_queries;

fn small(seed: u64, format: FileFormat) -> GenerateOptions {
    GenerateOptions {
        accounts: 150,
        months: 12,
        seed,
        format,
        ..Default::default()
    }
}

#[test]
fn same_seed_same_bytes_other_seed_other_data() {
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    generate(a.path(), &small(7, FileFormat::Parquet)).unwrap();
    generate(b.path(), &small(7, FileFormat::Parquet)).unwrap();
    generate(c.path(), &small(8, FileFormat::Parquet)).unwrap();
    for entry in std::fs::read_dir(a.path()).unwrap() {
        let name = entry.unwrap().file_name();
        assert_eq!(
            std::fs::read(a.path().join(&name)).unwrap(),
            std::fs::read(b.path().join(&name)).unwrap(),
            "{name:?}"
        );
    }
    assert_ne!(
        std::fs::read(a.path().join("touches.parquet")).unwrap(),
        std::fs::read(c.path().join("touches.parquet")).unwrap()
    );
}

#[test]
fn csv_output_loads_without_rejects() {
    let dir = tempfile::tempdir().unwrap();
    let summary = generate(dir.path(), &small(3, FileFormat::Csv)).unwrap();
    let loaded = revalign::load::load(dir.path(), Default::default()).unwrap();
    assert!(
        loaded.rejects.is_empty(),
        "{:?}",
        &loaded.rejects[..loaded.rejects.len().min(5)]
    );
    for (table, rows) in &summary.rows {
        assert_eq!(loaded.tables[table.as_str()].stats.loaded, *rows, "{table}");
    }
}

fn sum(batch: &datafusion::arrow::array::RecordBatch, col: &str) -> i64 {
    batch
        .column_by_name(col)
        .unwrap()
        .as_any()
        .downcast_ref::<Int64Array>()
        .unwrap()
        .iter()
        .flatten()
        .sum()
}

#[tokio::test]
async fn demo_data_is_clean_and_tells_the_story() {
    let dir = tempfile::tempdir().unwrap();
    let summary = generate(dir.path(), &GenerateOptions::default()).unwrap();
    assert!(summary.rows["touches"] > 100_000, "{:?}", summary.rows);
    let loaded = revalign::load::load(dir.path(), Default::default()).unwrap();
    assert!(loaded.rejects.is_empty(), "demo data produces no rejects");
    assert_eq!(
        revalign::dates::DateScan::new(&loaded, revalign::dates::today())
            .default_month()
            .unwrap()
            .to_string(),
        "2026-10"
    );

    let ctx = session_after_queries(dir.path(), "2026-10", &Params::default()).await;
    // MQL follow-up: a large share never gets a sales touch, many get one or two.
    let all = ctx
        .sql("SELECT CAST(SUM(mqls) AS BIGINT) AS mqls, CAST(SUM(never_touched) AS BIGINT) AS never_touched, CAST(SUM(touched_1_2) AS BIGINT) AS touched_1_2, CAST(SUM(followed_up_in_sla) AS BIGINT) AS followed_up_in_sla FROM mql_followup WHERE channel = 'all'")
        .await.unwrap().collect().await.unwrap();
    let (mqls, never, few, sla) = (
        sum(&all[0], "mqls"),
        sum(&all[0], "never_touched"),
        sum(&all[0], "touched_1_2"),
        sum(&all[0], "followed_up_in_sla"),
    );
    let never_share = never as f64 / mqls as f64;
    assert!(
        (0.3..=0.7).contains(&never_share),
        "never-touched share {never_share}"
    );
    assert!(
        few as f64 / mqls as f64 > 0.1,
        "touched 1-2: {few} of {mqls}"
    );
    assert!(sla > 0 && sla < mqls - never, "SLA follow-ups {sla}");

    // Lead quality differs by channel: referral and events convert MQLs to SQLs better
    // than programmatic and social.
    let rates = ctx
        .sql("SELECT channel, CAST(SUM(mql_to_sql_rate * mql_cohort_contacts) / SUM(mql_cohort_contacts) AS DOUBLE) AS r FROM funnel_monthly WHERE channel IN ('referral', 'events', 'programmatic', 'social') GROUP BY channel ORDER BY channel")
        .await.unwrap().collect().await.unwrap();
    let names = rates[0].column(0).as_string::<i32>();
    let r = rates[0]
        .column(1)
        .as_primitive::<datafusion::arrow::datatypes::Float64Type>();
    let rate = |c: &str| {
        (0..names.len())
            .find(|&i| names.value(i) == c)
            .map(|i| r.value(i))
            .unwrap()
    };
    assert!(
        rate("referral") > rate("programmatic") && rate("events") > rate("social"),
        "{:?}",
        (
            rate("referral"),
            rate("events"),
            rate("programmatic"),
            rate("social")
        )
    );

    // The MRR bridge reconciles exactly in every month, and the economics are plausible.
    let broken = ctx
        .sql("SELECT COUNT(*) FROM mrr_movements WHERE starting_mrr + new_mrr + expansion_mrr + reactivation_mrr - contraction_mrr - churned_mrr <> ending_mrr")
        .await.unwrap().collect().await.unwrap();
    assert_eq!(
        broken[0]
            .column(0)
            .as_primitive::<datafusion::arrow::datatypes::Int64Type>()
            .value(0),
        0
    );
    let months = ctx.sql("SELECT COUNT(*) FROM mrr_movements WHERE new_mrr > 0 AND churned_mrr > 0 AND expansion_mrr > 0").await.unwrap().collect().await.unwrap();
    assert!(
        months[0]
            .column(0)
            .as_primitive::<datafusion::arrow::datatypes::Int64Type>()
            .value(0)
            >= 12,
        "movements of every kind"
    );
    let econ = ctx
        .sql("SELECT ltv_to_cac, sbg_alpha FROM unit_economics WHERE segment_type = 'all' AND month = DATE '2026-10-01'")
        .await.unwrap().collect().await.unwrap();
    let l2c = econ[0]
        .column(0)
        .as_primitive::<datafusion::arrow::datatypes::Float64Type>()
        .value(0);
    assert!((1.0..8.0).contains(&l2c), "LTV:CAC {l2c}");
    assert!(
        econ[0].column(1).is_valid(0),
        "the sBG fit exists for all customers"
    );

    // Attribution: every model's credits sum to 1 per opportunity and reconcile with
    // the bookings, markov included.
    let bad = ctx
        .sql("SELECT COUNT(*) FROM (SELECT model, opportunity_id, SUM(credit) s FROM attribution_credit GROUP BY 1, 2) WHERE ABS(s - 1.0) > 1e-9")
        .await.unwrap().collect().await.unwrap();
    assert_eq!(
        bad[0]
            .column(0)
            .as_primitive::<datafusion::arrow::datatypes::Int64Type>()
            .value(0),
        0
    );
    let totals = ctx
        .sql("SELECT COUNT(*) FROM (SELECT model, ROUND(SUM(pipeline), 2) p, ROUND(SUM(revenue), 2) r FROM attribution_channel GROUP BY model) a, (SELECT ROUND(SUM(CAST(amount AS DOUBLE)), 2) p, ROUND(SUM(CASE WHEN status = 'won' THEN CAST(amount AS DOUBLE) ELSE 0 END), 2) r FROM opportunities) b WHERE ABS(a.p - b.p) < 0.01 AND ABS(a.r - b.r) < 0.01")
        .await.unwrap().collect().await.unwrap();
    assert_eq!(
        totals[0]
            .column(0)
            .as_primitive::<datafusion::arrow::datatypes::Int64Type>()
            .value(0),
        9,
        "all nine models reconcile"
    );

    // Covering more of the buying committee wins more often.
    let wr = ctx
        .sql("SELECT SUM(CASE WHEN roles_covered <= 1 THEN won END) / CAST(SUM(CASE WHEN roles_covered <= 1 THEN opportunities END) AS DOUBLE), SUM(CASE WHEN roles_covered >= 3 THEN won END) / CAST(SUM(CASE WHEN roles_covered >= 3 THEN opportunities END) AS DOUBLE) FROM buying_committee")
        .await.unwrap().collect().await.unwrap();
    let f = |i: usize| {
        wr[0]
            .column(i)
            .as_primitive::<datafusion::arrow::datatypes::Float64Type>()
            .value(0)
    };
    assert!(
        f(1) > f(0) + 0.05,
        "win rate with 0-1 roles {} vs 3+ roles {}",
        f(0),
        f(1)
    );

    // The ICP score learned from outcomes ranks the held-out closes better than chance.
    let q = ctx
        .sql("SELECT verdict, MAX(CASE WHEN tier = 'A' THEN win_rate END) OVER () - MAX(CASE WHEN tier = 'D' THEN win_rate END) OVER () FROM icp_model_quality WHERE tier IN ('all', 'A', 'D') ORDER BY tier DESC LIMIT 1")
        .await.unwrap().collect().await.unwrap();
    assert_eq!(q[0].column(0).as_string::<i32>().value(0), "beats random");
    assert!(
        q[0].column(1)
            .as_primitive::<datafusion::arrow::datatypes::Float64Type>()
            .value(0)
            > 0.1,
        "tier A wins more than tier D"
    );

    // Sales cycles of three to six months.
    let cycle = ctx
        .sql("SELECT CAST(median(date_part('epoch', closed_at) - date_part('epoch', created_at)) / 86400 AS DOUBLE) FROM opportunities WHERE status <> 'open' AND type = 'new_business'")
        .await.unwrap().collect().await.unwrap();
    let days = cycle[0]
        .column(0)
        .as_primitive::<datafusion::arrow::datatypes::Float64Type>()
        .value(0);
    assert!((90.0..=180.0).contains(&days), "median cycle {days} days");
}

#[test]
fn every_named_shape_loads_clean_and_has_its_shape() {
    use revalign::generate::Shape;
    let stats = |name: &str| {
        let dir = tempfile::tempdir().unwrap();
        let options = GenerateOptions {
            accounts: 150,
            months: 24,
            shape: Shape::named(name).unwrap(),
            ..Default::default()
        };
        let summary = generate(dir.path(), &options).unwrap();
        let loaded = revalign::load::load(dir.path(), Default::default()).unwrap();
        assert!(
            loaded.rejects.is_empty(),
            "{name}: {:?}",
            loaded.rejects.first()
        );
        let channels: std::collections::BTreeSet<String> = loaded.tables["touches"]
            .batch
            .column_by_name("channel")
            .unwrap()
            .as_any()
            .downcast_ref::<datafusion::arrow::array::StringArray>()
            .unwrap()
            .iter()
            .flatten()
            .map(str::to_string)
            .collect();
        let rows = |t: &str| summary.rows[t] as f64;
        (
            rows("contacts") / rows("accounts"),
            rows("touches") / rows("contacts"),
            rows("opportunities") / rows("accounts"),
            channels.len(),
        )
    };
    let demo = stats("demo");
    let long = stats("long_journeys");
    let wide = stats("wide_accounts");
    let many = stats("many_channels");
    assert!(
        long.1 > demo.1 * 1.1 && long.2 > demo.2 * 2.0,
        "long journeys {long:?} vs {demo:?}"
    );
    assert!(
        wide.0 > demo.0 * 2.5 && wide.1 < demo.1 * 0.4,
        "wide accounts {wide:?} vs {demo:?}"
    );
    assert!(
        many.3 > 40 && demo.3 == 11,
        "channels {many:?} vs {demo:?} (10 marketing + sales)"
    );
    assert!(Shape::named("nope").is_none());
}
