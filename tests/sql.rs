//! SQL logic tests: each `tests/slt/*.slt` names a fixture folder and a report month
//! in its header; the whole query graph runs on the fixture, then the file's queries
//! check the output tables row by row against hand-computed values.

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::prelude::SessionContext;
use revalign::config::Params;
use sqllogictest::{AsyncDB, DBOutput, DefaultColumnType};

use crate::util::{fixture, repo_path, session_after_queries};

struct Db(SessionContext);

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct DbError(String);

#[async_trait::async_trait]
impl AsyncDB for Db {
    type Error = DbError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, DbError> {
        let err = |e: datafusion::error::DataFusionError| DbError(e.to_string());
        let df = self.0.sql(sql).await.map_err(err)?;
        let batches = df.collect().await.map_err(err)?;
        let mut rows = Vec::new();
        let mut types = Vec::new();
        for batch in &batches {
            types = batch
                .schema()
                .fields()
                .iter()
                .map(|f| match f.data_type() {
                    DataType::Int64 | DataType::Int32 => DefaultColumnType::Integer,
                    DataType::Float64 => DefaultColumnType::FloatingPoint,
                    _ => DefaultColumnType::Text,
                })
                .collect();
            let options = FormatOptions::default().with_null("NULL");
            for r in 0..batch.num_rows() {
                let mut row = Vec::new();
                for col in batch.columns() {
                    let cell = if col.is_null(r) {
                        "NULL".to_string()
                    } else if col.data_type() == &DataType::Float64 {
                        format!("{:.4}", col.as_primitive::<Float64Type>().value(r))
                    } else {
                        ArrayFormatter::try_new(col.as_ref(), &options)
                            .unwrap()
                            .value(r)
                            .to_string()
                    };
                    row.push(cell);
                }
                rows.push(row);
            }
        }
        Ok(DBOutput::Rows { types, rows })
    }

    async fn shutdown(&mut self) {}
}

fn header(text: &str, key: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("# {key}:")))
        .unwrap_or_else(|| panic!("missing `# {key}:` header"))
        .trim()
        .to_string()
}

async fn run_slt(name: &str) {
    let path = repo_path("tests/slt").join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let overrides: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# set:"))
        .map(|v| v.trim().to_string())
        .collect();
    let params = revalign::config::apply_overrides(Params::default(), &overrides).unwrap();
    let ctx = session_after_queries(
        &fixture(&header(&text, "fixture")),
        &header(&text, "month"),
        &params,
    )
    .await;
    let mut runner = sqllogictest::Runner::new(move || {
        let ctx = ctx.clone();
        async move { Ok::<_, DbError>(Db(ctx)) }
    });
    if let Err(e) = runner.run_file_async(&path).await {
        panic!("{name}:\n{e}");
    }
}

#[tokio::test]
async fn slt_revenue_13m() {
    run_slt("revenue_13m.slt").await;
}

#[tokio::test]
async fn slt_maturity() {
    run_slt("maturity.slt").await;
}

#[tokio::test]
async fn slt_maturity_params() {
    run_slt("maturity_params.slt").await;
}

#[tokio::test]
async fn slt_attribution_params() {
    run_slt("attribution_params.slt").await;
}

#[tokio::test]
async fn slt_attribution_campaign() {
    run_slt("attribution_campaign.slt").await;
}

#[tokio::test]
async fn slt_attribution_lost() {
    run_slt("attribution_lost.slt").await;
}

#[tokio::test]
async fn slt_attribution_lost_order2() {
    run_slt("attribution_lost_order2.slt").await;
}

#[tokio::test]
async fn slt_funnel_monthly() {
    run_slt("funnel_monthly.slt").await;
}

#[tokio::test]
async fn slt_mql_followup() {
    run_slt("mql_followup.slt").await;
}

#[tokio::test]
async fn slt_as_of_an_earlier_month() {
    run_slt("as_of_2026_02.slt").await;
}

#[test]
fn every_slt_file_has_a_test() {
    let tests = include_str!("sql.rs");
    for entry in std::fs::read_dir(repo_path("tests/slt")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().to_string();
        assert!(
            tests.contains(&format!("run_slt(\"{name}\")")),
            "{name} is not run by any test"
        );
    }
}

#[tokio::test]
async fn slt_revenue() {
    run_slt("revenue.slt").await;
}

#[tokio::test]
async fn slt_attribution() {
    run_slt("attribution.slt").await;
}

#[tokio::test]
async fn slt_path_transforms() {
    run_slt("transform_none.slt").await;
    run_slt("transform_exposure.slt").await;
    run_slt("transform_first.slt").await;
    run_slt("transform_frequency.slt").await;
}

#[tokio::test]
async fn slt_abm() {
    run_slt("abm.slt").await;
}
