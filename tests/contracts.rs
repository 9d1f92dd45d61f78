//! The published tables' contracts: every built-in published query declares its
//! columns (`-- columns:`), the run holds it to them (names, order, types), and on a
//! generated data set every table's grain is unique.

use revalign::config::Params;
use revalign::query::{self, Query};

use crate::util::{medium_generated_data, session_after_queries};

#[test]
fn every_published_query_declares_its_columns_and_helpers_live_apart() {
    for query in query::embedded_queries().unwrap() {
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
    for query in query::embedded_queries()
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
    let query = Query::parse(
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
    let err = query::check_columns(&query, &produced)
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
        assert!(Query::parse("q.sql", bad).is_err(), "{bad}");
    }
}

/// docs/metric_index.md: a row for every scorecard metric, and every query file, test,
/// slt file and doc anchor it names exists (a renamed test or moved file fails here).
#[test]
fn the_metric_index_names_every_metric_and_only_what_exists() {
    use crate::util::repo_path;
    let index = std::fs::read_to_string(repo_path("docs/metric_index.md")).unwrap();
    let (_, catalogue) = revalign::scorecard::Catalogue::load(None).unwrap();
    for metric in &catalogue.metric {
        assert!(
            index.contains(&format!("| `{}`", metric.key)),
            "docs/metric_index.md has no row for `{}`",
            metric.key
        );
    }
    let mut named = 0;
    for token in index.split(|c: char| c.is_whitespace() || "`(),;|[]".contains(c)) {
        let token = token.trim_end_matches(['.', ':']);
        if !(token.starts_with("queries/") || token.starts_with("tests/")) {
            continue;
        }
        let (path, function) = token.split_once("::").unwrap_or((token, ""));
        if let Some((folder, _)) = path.split_once('*') {
            assert!(
                repo_path(folder).parent().unwrap().is_dir(),
                "{path}: no such folder"
            );
            continue;
        }
        let text = std::fs::read_to_string(repo_path(path))
            .unwrap_or_else(|_| panic!("docs/metric_index.md names {path}, which does not exist"));
        if !function.is_empty() {
            assert!(
                text.contains(&format!("fn {function}(")),
                "docs/metric_index.md names {token}, which does not exist"
            );
        }
        named += 1;
    }
    assert!(named > 40, "only {named} files and tests named");
    // Links into the docs point at headings that exist (GitHub's anchors).
    let anchor = |heading: &str| -> String {
        heading
            .trim()
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
            .map(|c| if c == ' ' { '-' } else { c })
            .collect()
    };
    for link in index.split("](").skip(1) {
        let target = link.split(')').next().unwrap();
        let (doc, fragment) = target.split_once('#').unwrap_or((target, ""));
        let text = std::fs::read_to_string(repo_path("docs").join(doc))
            .unwrap_or_else(|_| panic!("docs/metric_index.md links to missing docs/{doc}"));
        if fragment.is_empty() {
            continue;
        }
        let anchors: Vec<String> = text
            .lines()
            .filter_map(|l| l.strip_prefix('#'))
            .map(|l| anchor(l.trim_start_matches('#')))
            .collect();
        assert!(
            anchors.iter().any(|a| a == fragment),
            "docs/metric_index.md links to docs/{doc}#{fragment}, which is no heading"
        );
    }
}
