//! SQL logic tests: every `tests/slt/*.slt` file names a fixture folder and a report
//! month in its header (`# fixture:`, `# month:`, optional `# set: key=value`); the
//! whole query graph runs on the fixture, then the file's queries check the output
//! tables row by row against hand-computed values. One runner finds every file.
//!
//! Stricter than the crate's defaults, so an expected result cannot pass by accident:
//! the column type letters must match (`I` integers, `R` floats and decimals, `T` the
//! rest), cells are
//! compared exactly (no whitespace collapsing; an empty string is `(empty)`), floats are
//! printed to at least six significant digits, and every result of more than one row
//! has a stated order (`ORDER BY` or a sort mode). `REVALIGN_UPDATE_SLT=1` rewrites the
//! expected results from the current output (check the diff by hand).

use std::path::{Path, PathBuf};

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::prelude::SessionContext;
use futures::StreamExt;
use revalign::config::Params;
use sqllogictest::{AsyncDB, DBOutput, DefaultColumnType, QueryExpect, Record, SortMode};

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
        // The types of the planned columns (known even when no row comes back).
        let types = df
            .schema()
            .fields()
            .iter()
            .map(|f| match f.data_type() {
                DataType::Int64 | DataType::Int32 => DefaultColumnType::Integer,
                DataType::Float64 | DataType::Decimal128(..) => DefaultColumnType::FloatingPoint,
                _ => DefaultColumnType::Text,
            })
            .collect();
        let batches = df.collect().await.map_err(err)?;
        let mut rows = Vec::new();
        for batch in &batches {
            let options = FormatOptions::default().with_null("NULL");
            for r in 0..batch.num_rows() {
                let mut row = Vec::new();
                for col in batch.columns() {
                    let cell = if col.is_null(r) {
                        "NULL".to_string()
                    } else if col.data_type() == &DataType::Float64 {
                        float_cell(col.as_primitive::<Float64Type>().value(r))
                    } else {
                        let text = ArrayFormatter::try_new(col.as_ref(), &options)
                            .unwrap()
                            .value(r)
                            .to_string();
                        if text.is_empty() {
                            "(empty)".to_string()
                        } else {
                            text
                        }
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

/// A float to at least six significant digits and four decimals, trailing zeros
/// dropped (`0.75`, `0.333333`, `161.3161`, `4`); `-0` is `0`.
fn float_cell(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    if !v.is_finite() {
        return v.to_string();
    }
    let magnitude = v.abs().log10().floor() as i32;
    let decimals = (5 - magnitude).max(4) as usize;
    let mut text = format!("{v:.decimals$}");
    if text.contains('.') {
        text = text.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    text
}

/// Rows equal line for line, cell for cell, exactly.
fn exact_validator(
    _normalizer: sqllogictest::Normalizer,
    actual: &[Vec<String>],
    expected: &[String],
) -> bool {
    actual.len() == expected.len()
        && actual
            .iter()
            .zip(expected)
            .all(|(row, line)| row.join(" ") == *line)
}

#[allow(clippy::ptr_arg)]
fn no_normalizer(s: &String) -> String {
    s.clone()
}

fn header(text: &str, key: &str) -> Result<String, String> {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("# {key}:")))
        .map(|v| v.trim().to_string())
        .ok_or_else(|| format!("missing `# {key}:` header"))
}

/// Queries of more than one result row must state their order.
fn unordered_results(path: &Path) -> Vec<String> {
    let records = sqllogictest::parse_file::<DefaultColumnType>(path).unwrap();
    records
        .iter()
        .filter_map(|r| match r {
            Record::Query {
                loc,
                sql,
                expected:
                    QueryExpect::Results {
                        sort_mode, results, ..
                    },
                ..
            } if results.len() > 1
                && matches!(sort_mode, None | Some(SortMode::NoSort))
                && !sql.to_ascii_uppercase().contains("ORDER BY") =>
            {
                Some(format!(
                    "{loc}: {} rows without ORDER BY or a sort mode",
                    results.len()
                ))
            }
            _ => None,
        })
        .collect()
}

async fn run_slt(path: PathBuf) -> Result<(), String> {
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{name}: {e}"))?;
    let overrides: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# set:"))
        .map(|v| v.trim().to_string())
        .collect();
    let params = revalign::config::apply_overrides(Params::default(), &overrides)
        .map_err(|e| format!("{name}: {e}"))?;
    let ctx = session_after_queries(
        &fixture(&header(&text, "fixture").map_err(|e| format!("{name}: {e}"))?),
        &header(&text, "month").map_err(|e| format!("{name}: {e}"))?,
        &params,
    )
    .await;
    let mut runner = sqllogictest::Runner::new(move || {
        let ctx = ctx.clone();
        async move { Ok::<_, DbError>(Db(ctx)) }
    });
    runner.with_validator(exact_validator);
    runner.with_column_validator(sqllogictest::strict_column_validator);
    if std::env::var_os("REVALIGN_UPDATE_SLT").is_some() {
        return runner
            .update_test_file(
                &path,
                " ",
                exact_validator,
                no_normalizer,
                sqllogictest::strict_column_validator,
            )
            .await
            .map_err(|e| format!("{name}: {e}"));
    }
    let unordered = unordered_results(&path);
    if !unordered.is_empty() {
        return Err(unordered.join("\n"));
    }
    runner
        .run_file_async(&path)
        .await
        .map_err(|e| format!("{name}:\n{e}"))
}

/// Every `.slt` file under tests/slt, three at a time; all failures are reported.
#[tokio::test]
async fn sql_logic_tests() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo_path("tests/slt"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "slt"))
        .collect();
    files.sort();
    assert!(files.len() >= 17, "slt files missing: {files:?}");
    let failures: Vec<String> = futures::stream::iter(files)
        .map(run_slt)
        .buffer_unordered(3)
        .filter_map(|r| async move { r.err() })
        .collect()
        .await;
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Every published table is checked by at least one `.slt` file.
#[test]
fn every_published_table_has_sql_logic_tests() {
    let mut slt_sql = String::new();
    for entry in std::fs::read_dir(repo_path("tests/slt")).unwrap() {
        for record in sqllogictest::parse_file::<DefaultColumnType>(entry.unwrap().path()).unwrap()
        {
            if let Record::Query { sql, .. } = record {
                slt_sql.push_str(&sql);
                slt_sql.push('\n');
            }
        }
    }
    let read = revalign::query::sql_identifiers(&slt_sql);
    let mut published: Vec<String> = revalign::query::embedded_queries()
        .unwrap()
        .into_iter()
        .chain(revalign::query::model_steps())
        .filter(|q| q.publish)
        .map(|q| q.name)
        .collect();
    published.sort();
    let untested: Vec<&String> = published.iter().filter(|t| !read.contains(*t)).collect();
    assert!(untested.is_empty(), "no .slt file reads {untested:?}");
}

/// The runner's own rules: six significant digits, exact cells, a stated order.
#[test]
fn the_runner_is_strict() {
    assert_eq!(float_cell(1.0 / 3.0), "0.333333");
    assert_eq!(float_cell(161.316_12), "161.3161");
    assert_eq!(float_cell(0.000_123_456_7), "0.000123457");
    assert_eq!(float_cell(-0.0), "0");
    assert_eq!(float_cell(4.0), "4");
    let row = vec!["a".to_string(), "b".to_string()];
    assert!(exact_validator(
        no_normalizer,
        &[row.clone()],
        &["a b".into()]
    ));
    assert!(!exact_validator(
        no_normalizer,
        &[row.clone()],
        &["a  b".into()]
    ));
    assert!(!exact_validator(no_normalizer, &[row], &[" a b".into()]));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.slt");
    std::fs::write(
        &file,
        "query I\nSELECT x FROM t\n----\n1\n2\n\nquery I rowsort\nSELECT x FROM t\n----\n1\n2\n",
    )
    .unwrap();
    let unordered = unordered_results(&file);
    assert_eq!(unordered.len(), 1, "{unordered:?}");
}
