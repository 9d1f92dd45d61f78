//! The published tables' contracts: every built-in published query declares its
//! columns (`-- columns:`), the run holds it to them (names, order, types), and on a
//! generated data set every table's grain is unique.

use revalign::config::Params;
use revalign::pipeline;

use crate::util::{medium_generated_data, session_after_queries};

#[test]
fn every_published_query_declares_its_columns_and_helpers_live_apart() {
    for query in pipeline::embedded_queries().unwrap() {
        let in_helpers = query.file.contains("/helpers/");
        assert_eq!(
            query.publish, !in_helpers,
            "{}: helpers (and only helpers) live in a helpers/ folder",
            query.file
        );
        if query.publish {
            assert!(
                !query.columns.is_empty() && !query.grain.is_empty(),
                "{} declares no `-- columns:` or `-- grain:`",
                query.file
            );
        }
    }
}

#[tokio::test]
async fn published_tables_keep_their_columns_and_a_unique_grain() {
    let data = medium_generated_data();
    // The run checks each planned query against its contract: a broken one fails here.
    let ctx = session_after_queries(data.path(), "2026-10", &Params::default()).await;
    for query in pipeline::embedded_queries()
        .unwrap()
        .into_iter()
        .filter(|q| q.publish)
    {
        let df = ctx.table(query.name.as_str()).await.unwrap();
        let declared: Vec<&str> = query.columns.iter().map(|(c, _)| c.as_str()).collect();
        let actual: Vec<&str> = df
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        assert_eq!(actual, declared, "{}", query.name);
        let rows = df.count().await.unwrap();
        assert!(rows > 0, "{} is empty on the generated data", query.name);
        let grain = query.grain.join(", ");
        let duplicates = ctx
            .sql(&format!(
                "SELECT {grain} FROM {} GROUP BY {grain} HAVING COUNT(*) > 1",
                query.name
            ))
            .await
            .unwrap()
            .count()
            .await
            .unwrap();
        assert_eq!(duplicates, 0, "{}: grain ({grain}) not unique", query.name);
    }
}

#[test]
fn a_query_that_breaks_its_contract_is_named() {
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    let query = pipeline::Query::parse(
        "queries/x/totals.sql",
        "-- totals: test\n-- grain: month\n-- columns: month date, amount decimal(18,2)\nSELECT 1",
    )
    .unwrap();
    assert_eq!(
        query.columns[1],
        ("amount".to_string(), DataType::Decimal128(18, 2))
    );
    let produced = Schema::new(vec![
        Field::new("month", DataType::Date32, true),
        Field::new("amount", DataType::Float64, true),
    ]);
    let err = pipeline::check_columns(&query, &produced)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("totals.sql") && err.contains("column 2") && err.contains("amount Float64"),
        "{err}"
    );
    for bad in [
        "-- columns: month\nSELECT 1",
        "-- columns: month datetime\nSELECT 1",
        "-- grain: day\n-- columns: month date\nSELECT 1",
    ] {
        assert!(pipeline::Query::parse("q.sql", bad).is_err(), "{bad}");
    }
}
