//! The steps of a run as defined: query files and Rust model steps.
//!
//! Queries live in `queries/<domain>/*.sql` (embedded at build time, overridable with
//! `--queries DIR`); files under a `helpers/` folder are helper tables, not written out.
//! A file is named after the table it produces and starts with a comment header:
//!
//! ```sql
//! -- funnel_monthly: what the table means ...
//! -- grain: month, channel
//! -- columns: month date, channel text, leads int, ...   (the published contract)
//! -- requires: lifecycle, touches      (optional input tables it needs)
//! -- needs: sales_touches              (facts of `coverage` it needs, see schema.rs)
//! -- publish: false                    (a helper outside a helpers/ folder)
//! ```
//!
//! What a query reads is found from the table names it mentions ([`sql_identifiers`]),
//! so the run order needs no upkeep (`crate::plan` orders the steps).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::DataType;

use crate::config::Params;
use crate::error::{Error, IoContext, Result};

/// Whether `name` is safe to become a file or folder name: `^[a-z0-9_]+$` (no path
/// separators, no dots, no `..`). Query names, chart keys and sections and scorecard
/// metric keys must be.
pub fn is_safe_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// A Rust model step: reads one materialised table, returns its output table.
pub type ModelFn = fn(&RecordBatch, &Params) -> Result<RecordBatch>;

/// One step of the graph: a query file, or a Rust model over a query's result.
#[derive(Debug, Clone)]
pub struct Query {
    pub name: String,
    pub file: String,
    /// The SQL; for a model step, the name of its input table.
    pub sql: String,
    pub requires: Vec<String>,
    /// Facts of `coverage` the query needs (`-- needs:`).
    pub needs: Vec<String>,
    pub publish: bool,
    pub grain: Vec<String>,
    /// The published columns and their types, in order (`-- columns:`): checked on the
    /// planned query before it runs. Empty: not declared (a user's own query).
    pub columns: Vec<(String, DataType)>,
    pub model: Option<ModelFn>,
    /// A model step's contract on its input table: the columns and types it reads,
    /// checked before the model runs (a replaced query fails with a named error).
    pub model_input: Vec<(&'static str, DataType)>,
    /// `-- slices: <column> in <SQL>`: a published table whose grain starts with a
    /// column of few values is computed, sorted and written one value at a time, in
    /// ascending order (the same rows and bytes; the sort holds one slice, not the
    /// table). The SQL lists the values.
    pub slices: Option<Slices>,
    /// `-- ordered: <columns>` (helpers): the result is kept sorted by these columns
    /// (ascending, NULLs last) and registered as sorted, so a later query that needs
    /// that order (a published table's grain) merges instead of sorting again.
    pub ordered: Vec<String>,
}

/// See [`Query::slices`].
#[derive(Debug, Clone, PartialEq)]
pub struct Slices {
    pub column: String,
    pub values_sql: String,
}

/// Tables the run itself registers or publishes; no query may take their names.
pub const RESERVED_NAMES: &[&str] = &[
    "params",
    "rejects",
    "scorecard",
    "coverage",
    "attribution_models",
];

impl Query {
    pub fn parse(file: &str, text: &str) -> Result<Query> {
        let name = Path::new(file)
            .file_stem()
            .and_then(|s| s.to_str())
            .ok_or_else(|| Error::QueryGraph(format!("{file}: bad file name")))?
            .to_string();
        if !is_safe_name(&name) {
            return Err(Error::Config {
                file: PathBuf::from(file),
                message: format!(
                    "query name `{name}` (the file name) must match ^[a-z0-9_]+$: it names \
                     the output table and its folder"
                ),
            });
        }
        if RESERVED_NAMES.contains(&name.as_str()) || crate::schema::table(&name).is_some() {
            return Err(Error::Config {
                file: PathBuf::from(file),
                message: format!(
                    "query name `{name}` is taken by an input table or by the run itself \
                     ({}): name the query after what it computes",
                    RESERVED_NAMES.join(", ")
                ),
            });
        }
        let in_helpers = Path::new(file)
            .components()
            .any(|c| c.as_os_str() == "helpers");
        let mut query = Query {
            name,
            file: file.to_string(),
            sql: text.to_string(),
            requires: vec![],
            needs: vec![],
            publish: !in_helpers,
            grain: vec![],
            columns: vec![],
            model: None,
            model_input: vec![],
            slices: None,
            ordered: vec![],
        };
        for line in text
            .lines()
            .map(str::trim)
            .take_while(|l| l.starts_with("--") || l.is_empty())
        {
            let line = line.trim_start_matches('-').trim();
            let list = |v: &str| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            };
            if let Some(v) = line.strip_prefix("requires:") {
                query.requires = list(v);
                for table in &query.requires {
                    if crate::schema::table(table).is_none() {
                        return Err(Error::QueryGraph(format!(
                            "{file}: requires unknown input table `{table}`"
                        )));
                    }
                }
            } else if let Some(v) = line.strip_prefix("needs:") {
                query.needs = list(v);
                crate::coverage::check_needs(&query.needs)
                    .map_err(|m| Error::QueryGraph(format!("{file}: {m}")))?;
            } else if let Some(v) = line.strip_prefix("publish:") {
                query.publish = !matches!(v.trim(), "false" | "no");
            } else if let Some(v) = line.strip_prefix("grain:") {
                query.grain = list(v);
            } else if let Some(v) = line.strip_prefix("ordered:") {
                query.ordered = list(v);
            } else if let Some(v) = line.strip_prefix("slices:") {
                let (column, values_sql) = v.trim().split_once(" in ").ok_or_else(|| {
                    Error::QueryGraph(format!(
                        "{file}: `-- slices:` reads `<column> in <SQL listing its values>`"
                    ))
                })?;
                query.slices = Some(Slices {
                    column: column.trim().to_string(),
                    values_sql: values_sql.trim().to_string(),
                });
            } else if let Some(v) = line.strip_prefix("columns:") {
                for column in split_columns(v) {
                    let (name, ty) = column.split_once(' ').unwrap_or((&column, ""));
                    let ty = contract_type(ty.trim()).ok_or_else(|| {
                        Error::QueryGraph(format!(
                            "{file}: `-- columns:` entry `{column}` needs a type: {}",
                            CONTRACT_TYPES
                        ))
                    })?;
                    query.columns.push((name.to_string(), ty));
                }
            }
        }
        if let Some(slices) = &query.slices {
            if query.grain.first() != Some(&slices.column) || !query.publish {
                return Err(Error::QueryGraph(format!(
                    "{file}: `-- slices:` column `{}` must be the first grain column of a \
                     published query (slices are written in its order)",
                    slices.column
                )));
            }
        }
        if !query.ordered.is_empty() && query.publish {
            return Err(Error::QueryGraph(format!(
                "{file}: `-- ordered:` is for helpers (a published table is written in the \
                 order of its grain)"
            )));
        }
        if !query.columns.is_empty() {
            if let Some(g) = query
                .grain
                .iter()
                .find(|g| !query.columns.iter().any(|(c, _)| c == *g))
            {
                return Err(Error::QueryGraph(format!(
                    "{file}: grain column `{g}` is not among its `-- columns:`"
                )));
            }
        }
        Ok(query)
    }
}

/// The type names of `-- columns:` contracts.
pub const CONTRACT_TYPES: &str = "text, int, float, bool, date, timestamp (UTC) or decimal(p,s)";

/// The Arrow type of a `-- columns:` type name.
fn contract_type(name: &str) -> Option<DataType> {
    use datafusion::arrow::datatypes::TimeUnit;
    Some(match name {
        "text" => DataType::Utf8,
        "int" => DataType::Int64,
        "float" => DataType::Float64,
        "bool" => DataType::Boolean,
        "date" => DataType::Date32,
        "timestamp" => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        _ => {
            let (p, s) = name
                .strip_prefix("decimal(")?
                .strip_suffix(')')?
                .split_once(',')?;
            DataType::Decimal128(p.trim().parse().ok()?, s.trim().parse().ok()?)
        }
    })
}

/// `a text, b decimal(18,2), c int` split at the commas outside parentheses.
fn split_columns(list: &str) -> Vec<String> {
    let mut items = vec![String::new()];
    let mut depth = 0;
    for c in list.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                items.push(String::new());
                continue;
            }
            _ => {}
        }
        items.last_mut().expect("one item").push(c);
    }
    items
        .into_iter()
        .map(|i| i.trim().to_string())
        .filter(|i| !i.is_empty())
        .collect()
}

/// A planned query's columns against its `-- columns:` contract (names, order, types).
pub fn check_columns(query: &Query, schema: &datafusion::arrow::datatypes::Schema) -> Result<()> {
    if query.columns.is_empty() {
        return Ok(());
    }
    // Text is text however Arrow holds it (DataFusion plans string views for some
    // expressions; Parquet stores them all as strings).
    let actual: Vec<(String, DataType)> = schema
        .fields()
        .iter()
        .map(|f| {
            let ty = match f.data_type() {
                DataType::Utf8View | DataType::LargeUtf8 => DataType::Utf8,
                t => t.clone(),
            };
            (f.name().clone(), ty)
        })
        .collect();
    if actual == query.columns {
        return Ok(());
    }
    let show = |cols: &[(String, DataType)]| {
        cols.iter()
            .map(|(n, t)| format!("{n} {t}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let first = (0..actual.len().max(query.columns.len()))
        .find(|&i| actual.get(i) != query.columns.get(i))
        .unwrap_or(0);
    Err(Error::QueryGraph(format!(
        "{}: the columns of `{}` break its `-- columns:` contract at column {}: \
         declared [{}], produced [{}]",
        query.file,
        query.name,
        first + 1,
        show(&query.columns),
        show(&actual)
    )))
}

/// Identifiers a piece of SQL mentions (lower-cased), `--` comments stripped. Table
/// dependencies are found with this: a query reads the tables whose names it mentions.
pub fn sql_identifiers(sql: &str) -> BTreeSet<String> {
    sql.lines()
        .map(|l| l.split("--").next().unwrap_or(""))
        .flat_map(|l| l.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')))
        .filter(|t| !t.is_empty())
        .map(|t| t.to_ascii_lowercase())
        .collect()
}

/// The built-in queries.
pub fn embedded_queries() -> Result<Vec<Query>> {
    crate::catalog::embedded::QUERIES
        .iter()
        .map(|(file, text)| Query::parse(file, text))
        .collect()
}

/// The Rust model steps, each named after its output and reading one table.
pub fn model_steps() -> Vec<Query> {
    let step = |name: &str,
                input: &str,
                model: ModelFn,
                publish: bool,
                model_input: Vec<(&'static str, DataType)>| Query {
        name: name.into(),
        file: format!("src/models (reads {input})"),
        sql: input.into(),
        requires: vec![],
        needs: vec![],
        publish,
        grain: vec![],
        columns: vec![],
        model: Some(model),
        model_input,
        slices: None,
        ordered: vec![],
    };
    vec![
        step(
            "sbg_fit",
            "sbg_input",
            crate::models::sbg::fit_table,
            false,
            vec![
                ("segment_type", DataType::Utf8),
                ("segment", DataType::Utf8),
                ("cohort_month", DataType::Date32),
                ("months_observed", DataType::Int64),
                ("churned_after_months", DataType::Int64),
            ],
        ),
        step(
            "attribution_markov",
            "attribution_paths",
            crate::models::markov::markov_table,
            true,
            vec![
                ("opportunity_id", DataType::Utf8),
                ("channel", DataType::Utf8),
                ("status", DataType::Utf8),
                (
                    "amount",
                    DataType::Decimal128(
                        crate::schema::MONEY_PRECISION,
                        crate::schema::MONEY_SCALE,
                    ),
                ),
            ],
        ),
    ]
}

/// Queries from a folder (`--queries DIR`).
pub fn queries_from_dir(dir: &Path) -> Result<Vec<Query>> {
    crate::catalog::sql_files(dir, "--queries")?
        .iter()
        .map(|f| Query::parse(&f.display().to_string(), &std::fs::read_to_string(f).at(f)?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(name: &str, sql: &str) -> Query {
        Query::parse(&format!("{name}.sql"), sql).unwrap()
    }

    #[test]
    fn unknown_requirements_are_errors() {
        let err = Query::parse("x.sql", "-- requires: touchez\nSELECT 1").unwrap_err();
        assert!(err.to_string().contains("touchez"));
    }

    #[test]
    fn header_is_parsed() {
        let query = q("h", "-- h: helper\n-- grain: a, b\n-- requires: touches, lifecycle\n-- publish: false\nSELECT 1");
        assert_eq!(query.grain, ["a", "b"]);
        assert_eq!(query.requires, ["touches", "lifecycle"]);
        assert!(!query.publish);
    }
}
