//! The run as a graph, built before anything runs.
//!
//! Nodes are the input tables (with how each is seen as of the report month), the SQL
//! steps of `queries/`, the Rust model steps, the scorecard metrics and the charts;
//! each node's edges are the tables it reads, found the one way the pipeline finds them
//! (the table names its SQL mentions; a model step declares its input). `revalign plan`
//! prints it as text or Graphviz dot, and the manifest records it, so the architecture
//! of a run can be read without running it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use serde::Serialize;

use crate::charts::ChartCatalogue;
use crate::error::{Error, Result};
use crate::query::{self, Query};
use crate::scorecard::Catalogue;

/// What a node of the plan is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    Input,
    Query,
    Model,
    Metric,
    Chart,
}

impl NodeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Input => "input",
            NodeKind::Query => "query",
            NodeKind::Model => "model",
            NodeKind::Metric => "metric",
            NodeKind::Chart => "chart",
        }
    }
}

/// One node: what it is, where it is defined, what it reads and needs.
#[derive(Debug, Clone, Serialize)]
pub struct Node {
    pub name: String,
    pub kind: NodeKind,
    /// The file defining it (a query file, a catalogue, `src/models/...`).
    pub defined_in: String,
    /// Tables (inputs, query results, `params`, `coverage`) it reads.
    pub reads: Vec<String>,
    /// Facts of `coverage` it needs (and, for queries, the inputs it requires).
    pub needs: Vec<String>,
    /// Whether its table is written to `out/tables` (queries and models).
    pub published: bool,
    /// How an input is seen as of the report month.
    pub as_of: Option<&'static str>,
}

/// The whole graph, in run order (inputs, then queries and models in dependency
/// order, then metrics, then charts).
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub nodes: Vec<Node>,
    /// The queries and model steps, in run order (each after the tables it reads).
    #[serde(skip)]
    pub steps: Vec<Query>,
}

/// Why a step will not run: the absent inputs and unmet facts behind it, its own or
/// those of a step it reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Skip {
    pub missing: BTreeSet<String>,
    pub reasons: Vec<String>,
}

/// Tables every step may read besides inputs and query results.
const RUN_TABLES: [&str; 4] = ["params", "coverage", "scorecard", "attribution_models"];

/// The tables of `tables` a piece of SQL mentions (besides `me`): what a query,
/// metric or chart reads.
fn reads_of(tables: &BTreeSet<String>, sql: &str, me: &str) -> Vec<String> {
    let ids = query::sql_identifiers(sql);
    tables
        .iter()
        .filter(|t| t.as_str() != me && ids.contains(*t))
        .cloned()
        .collect()
}

/// Order steps so each runs after the steps whose tables it reads (ties by name).
fn dependency_order(
    steps: Vec<Query>,
    reads: &BTreeMap<String, Vec<String>>,
) -> Result<Vec<Query>> {
    let mut by_name: BTreeMap<String, Query> =
        steps.into_iter().map(|q| (q.name.clone(), q)).collect();
    let mut ordered = Vec::new();
    while !by_name.is_empty() {
        let ready: Vec<String> = by_name
            .keys()
            .filter(|n| reads[*n].iter().all(|d| !by_name.contains_key(d)))
            .cloned()
            .collect();
        if ready.is_empty() {
            return Err(Error::QueryGraph(format!(
                "dependency cycle among: {}",
                by_name.keys().cloned().collect::<Vec<_>>().join(", ")
            )));
        }
        for n in ready {
            ordered.push(by_name.remove(&n).expect("present"));
        }
    }
    Ok(ordered)
}

impl Plan {
    /// The plan of a run with these queries (the model steps are added as the run adds
    /// them) and report catalogues.
    pub fn build(
        queries: Vec<Query>,
        scorecard: &Catalogue,
        charts: &ChartCatalogue,
    ) -> Result<Plan> {
        let mut plan = Plan::of_queries(queries)?;
        let tables = plan.tables();
        let nodes = &mut plan.nodes;
        for m in &scorecard.metric {
            nodes.push(Node {
                name: m.key.clone(),
                kind: NodeKind::Metric,
                defined_in: "scorecard.toml".into(),
                reads: reads_of(&tables, &m.query(), ""),
                needs: m.needs.clone(),
                published: false,
                as_of: None,
            });
        }
        for c in &charts.charts {
            nodes.push(Node {
                name: c.key.clone(),
                kind: NodeKind::Chart,
                defined_in: "charts.toml".into(),
                reads: reads_of(&tables, &c.sql, ""),
                needs: c.needs.clone(),
                published: false,
                as_of: None,
            });
        }
        Ok(plan)
    }

    /// The plan of the queries alone (no metrics or charts): inputs, queries and the
    /// model steps whose input table a query produces, in dependency order.
    pub fn of_queries(queries: Vec<Query>) -> Result<Plan> {
        let produced: BTreeSet<String> = queries.iter().map(|q| q.name.clone()).collect();
        let mut steps = queries;
        steps.extend(
            query::model_steps()
                .into_iter()
                .filter(|m| produced.contains(&m.sql)),
        );
        let mut files_of: BTreeMap<&str, &str> = BTreeMap::new();
        for q in &steps {
            if let Some(other) = files_of.insert(&q.name, &q.file) {
                return Err(Error::QueryGraph(format!(
                    "two query files produce table `{}`: {other} and {}",
                    q.name, q.file
                )));
            }
        }
        let mut tables: BTreeSet<String> = crate::schema::TABLES
            .iter()
            .map(|t| t.name.to_string())
            .collect();
        tables.extend(steps.iter().map(|q| q.name.clone()));
        tables.extend(RUN_TABLES.iter().map(|t| t.to_string()));
        let reads: BTreeMap<String, Vec<String>> = steps
            .iter()
            .map(|q| {
                let reads = match q.model {
                    Some(_) => vec![q.sql.clone()],
                    None => reads_of(&tables, &q.sql, &q.name),
                };
                (q.name.clone(), reads)
            })
            .collect();
        let steps = dependency_order(steps, &reads)?;
        let mut nodes: Vec<Node> = crate::schema::TABLES
            .iter()
            .map(|t| Node {
                name: t.name.to_string(),
                kind: NodeKind::Input,
                defined_in: "src/schema.rs".into(),
                reads: vec![],
                needs: vec![],
                published: false,
                as_of: Some(t.as_of.rule),
            })
            .collect();
        for q in &steps {
            let mut needs = q.requires.clone();
            needs.extend(q.needs.iter().cloned());
            nodes.push(Node {
                name: q.name.clone(),
                kind: if q.model.is_some() {
                    NodeKind::Model
                } else {
                    NodeKind::Query
                },
                defined_in: q.file.clone(),
                reads: reads[&q.name].clone(),
                needs,
                published: q.publish,
                as_of: None,
            });
        }
        Ok(Plan { nodes, steps })
    }

    /// Every table a node may read: inputs, step results and the run's own tables.
    fn tables(&self) -> BTreeSet<String> {
        let mut tables: BTreeSet<String> = self
            .nodes
            .iter()
            .filter(|n| matches!(n.kind, NodeKind::Input | NodeKind::Query | NodeKind::Model))
            .map(|n| n.name.clone())
            .collect();
        tables.extend(RUN_TABLES.iter().map(|t| t.to_string()));
        tables
    }

    /// The tables step `name` (a query or model) reads.
    pub fn reads(&self, name: &str) -> &[String] {
        self.nodes
            .iter()
            .find(|n| n.name == name && matches!(n.kind, NodeKind::Query | NodeKind::Model))
            .map_or(&[], |n| n.reads.as_slice())
    }

    /// The steps that will not run with these inputs, and why: a step requiring an
    /// absent input or needing a fact the inputs do not hold is skipped, and so is
    /// every step reading a skipped one (with its reasons).
    pub fn skips(
        &self,
        absent: &[&str],
        coverage: &crate::coverage::Coverage,
    ) -> BTreeMap<String, Skip> {
        let mut skips: BTreeMap<String, Skip> = BTreeMap::new();
        for step in &self.steps {
            let missing: BTreeSet<String> = step
                .requires
                .iter()
                .filter(|t| absent.contains(&t.as_str()))
                .cloned()
                .collect();
            let mut skip = Skip {
                reasons: missing
                    .iter()
                    .map(|t| crate::coverage::Coverage::absent_reason(t))
                    .collect(),
                missing,
            };
            skip.reasons.extend(coverage.unmet(&step.needs));
            for read in self.reads(&step.name) {
                if let Some(upstream) = skips.get(read) {
                    skip.missing.extend(upstream.missing.iter().cloned());
                    skip.reasons.extend(upstream.reasons.iter().cloned());
                }
            }
            let mut seen = BTreeSet::new();
            skip.reasons.retain(|r| seen.insert(r.clone()));
            if !skip.reasons.is_empty() {
                skips.insert(step.name.clone(), skip);
            }
        }
        skips
    }

    /// For each helper (unpublished) step result: the last step reading it, after
    /// which the run may drop it. A helper that a metric or chart reads, or that no
    /// step reads, is not listed (kept to the end).
    pub fn helper_last_readers(&self) -> BTreeMap<String, String> {
        let helpers: BTreeSet<&str> = self
            .steps
            .iter()
            .filter(|s| !s.publish)
            .map(|s| s.name.as_str())
            .collect();
        let mut last: BTreeMap<String, String> = BTreeMap::new();
        let mut kept: BTreeSet<&str> = BTreeSet::new();
        for node in &self.nodes {
            for read in node.reads.iter().filter(|r| helpers.contains(r.as_str())) {
                match node.kind {
                    NodeKind::Query | NodeKind::Model => {
                        last.insert(read.clone(), node.name.clone());
                    }
                    _ => {
                        kept.insert(read);
                    }
                }
            }
        }
        last.retain(|helper, _| !kept.contains(helper.as_str()));
        last
    }

    /// Every node's name and kind, one per line, with what it reads and needs, grouped
    /// by kind (in run order within a kind); a step's file, and for a helper when the
    /// run drops it.
    pub fn text(&self) -> String {
        let last_readers = self.helper_last_readers();
        let mut out = String::new();
        for kind in [
            NodeKind::Input,
            NodeKind::Query,
            NodeKind::Model,
            NodeKind::Metric,
            NodeKind::Chart,
        ] {
            let heading = match kind {
                NodeKind::Query => "queries",
                NodeKind::Input => "inputs",
                NodeKind::Model => "models",
                NodeKind::Metric => "metrics",
                NodeKind::Chart => "charts",
            };
            let _ = writeln!(out, "{heading}:");
            for n in self.nodes.iter().filter(|n| n.kind == kind) {
                let mut line = format!("  {:<32}", n.name);
                if let Some(rule) = n.as_of {
                    let _ = write!(line, " as of the report month: {rule}");
                }
                if !n.reads.is_empty() {
                    let _ = write!(line, " reads {}", n.reads.join(", "));
                }
                if !n.needs.is_empty() {
                    let _ = write!(line, "; needs {}", n.needs.join(", "));
                }
                if n.published {
                    line.push_str(" [published]");
                } else if let Some(reader) = last_readers.get(&n.name) {
                    let _ = write!(line, " [helper, dropped after {reader}]");
                } else if matches!(n.kind, NodeKind::Query | NodeKind::Model) {
                    line.push_str(" [helper, kept to the end]");
                }
                if matches!(n.kind, NodeKind::Query | NodeKind::Model) {
                    let _ = write!(line, " ({})", n.defined_in);
                }
                let _ = writeln!(out, "{}", line.trim_end());
            }
        }
        out
    }

    /// Graphviz dot: one node per step (shape by kind), an edge from each table read
    /// to its reader.
    pub fn dot(&self) -> String {
        let mut out =
            String::from("digraph revalign {\n  rankdir=LR;\n  node [fontname=\"sans-serif\"];\n");
        for n in &self.nodes {
            let shape = match n.kind {
                NodeKind::Input => "cylinder",
                NodeKind::Query if n.published => "box",
                NodeKind::Query => "box, style=dashed",
                NodeKind::Model => "hexagon",
                NodeKind::Metric => "note",
                NodeKind::Chart => "tab",
            };
            let _ = writeln!(
                out,
                "  \"{}:{}\" [label=\"{}\", shape={shape}];",
                n.kind.as_str(),
                n.name,
                n.name
            );
        }
        for n in &self.nodes {
            for r in &n.reads {
                if let Some(from) = self.producer(r) {
                    let _ = writeln!(
                        out,
                        "  \"{}:{}\" -> \"{}:{}\";",
                        from.kind.as_str(),
                        from.name,
                        n.kind.as_str(),
                        n.name
                    );
                }
            }
        }
        out.push_str("}\n");
        out
    }

    /// The node producing table `name` (an input, a query or a model).
    fn producer(&self, name: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| {
            n.name == name && matches!(n.kind, NodeKind::Input | NodeKind::Query | NodeKind::Model)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Plan {
        let (_, scorecard) = Catalogue::load(None).unwrap();
        let (_, charts) = ChartCatalogue::load(None).unwrap();
        Plan::build(query::embedded_queries().unwrap(), &scorecard, &charts).unwrap()
    }

    #[test]
    fn every_read_has_a_producer_and_comes_before_its_reader() {
        let plan = shipped();
        for (i, n) in plan.nodes.iter().enumerate() {
            for r in &n.reads {
                if RUN_TABLES.contains(&r.as_str()) {
                    continue;
                }
                let at = plan
                    .nodes
                    .iter()
                    .position(|p| {
                        &p.name == r
                            && matches!(p.kind, NodeKind::Input | NodeKind::Query | NodeKind::Model)
                    })
                    .unwrap_or_else(|| panic!("{} reads {r}, which nothing produces", n.name));
                assert!(at < i, "{} reads {r} before it is produced", n.name);
            }
        }
    }

    fn q(name: &str, sql: &str) -> Query {
        Query::parse(&format!("{name}.sql"), sql).unwrap()
    }

    #[test]
    fn order_follows_table_references_not_file_names() {
        let plan = Plan::of_queries(vec![
            q("a_report", "SELECT * FROM z_helper JOIN m_mid USING (x)"),
            q(
                "m_mid",
                "SELECT * FROM z_helper -- a_report is mentioned only in a comment",
            ),
            q("z_helper", "SELECT 1 AS x"),
        ])
        .unwrap();
        let names: Vec<_> = plan.steps.iter().map(|q| q.name.as_str()).collect();
        assert_eq!(names, ["z_helper", "m_mid", "a_report"]);
        let err = Plan::of_queries(vec![q("a", "SELECT * FROM b"), q("b", "SELECT * FROM a")])
            .unwrap_err();
        assert!(err.to_string().contains("cycle"), "{err}");
        let err =
            Plan::of_queries(vec![q("a", "SELECT 1"), q("x/helpers/a", "SELECT 2")]).unwrap_err();
        assert!(
            err.to_string().contains("a.sql and x/helpers/a.sql"),
            "{err}"
        );
    }

    #[test]
    fn skips_follow_reads_and_helpers_live_until_their_last_reader() {
        let plan = Plan::of_queries(vec![
            q(
                "h/helpers/spans",
                "-- requires: touches\nSELECT * FROM touches",
            ),
            q("h/helpers/base", "SELECT * FROM accounts"),
            q("mid", "SELECT * FROM spans JOIN base USING (x)"),
            q("last", "SELECT * FROM base"),
            q("other", "SELECT * FROM accounts"),
        ])
        .unwrap();
        let skips = plan.skips(&["touches"], &crate::coverage::Coverage::default());
        assert_eq!(skips.keys().collect::<Vec<_>>(), ["mid", "spans"]);
        assert_eq!(skips["mid"].reasons, ["no `touches` input"]);
        assert_eq!(skips["mid"].missing.iter().collect::<Vec<_>>(), ["touches"]);
        let last = plan.helper_last_readers();
        assert_eq!(last["spans"], "mid");
        // `last` and `mid` both read `base`; ties run by name, so `mid` reads it last.
        assert_eq!(last["base"], "mid");
    }

    #[test]
    fn model_steps_and_their_inputs_are_in_the_plan() {
        let plan = shipped();
        let markov = plan
            .nodes
            .iter()
            .find(|n| n.name == "attribution_markov")
            .unwrap();
        assert_eq!(
            (markov.kind, markov.reads.as_slice()),
            (NodeKind::Model, &["attribution_paths".to_string()][..])
        );
        let channel = plan
            .nodes
            .iter()
            .find(|n| n.name == "attribution_channel")
            .unwrap();
        assert!(channel.reads.contains(&"attribution_markov".to_string()));
        let dot = plan.dot();
        assert!(
            dot.contains("\"query:attribution_paths\" -> \"model:attribution_markov\""),
            "{dot}"
        );
        assert!(plan.text().contains("models:\n"));
    }
}
