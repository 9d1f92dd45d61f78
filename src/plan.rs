//! The run as a graph, built before anything runs.
//!
//! Nodes are the input tables (with how each is seen as of the report month), the SQL
//! steps of `queries/`, the Rust model steps, the scorecard metrics and the charts;
//! each node's edges are the tables it reads, found the one way the pipeline finds them
//! (the table names its SQL mentions; a model step declares its input). `revalign plan`
//! prints it as text or Graphviz dot, and the manifest records it, so the architecture
//! of a run can be read without running it.

use std::collections::BTreeSet;
use std::fmt::Write;

use serde::Serialize;

use crate::charts::ChartCatalogue;
use crate::error::Result;
use crate::pipeline::{self, Query};
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
}

/// Tables every step may read besides inputs and query results.
const RUN_TABLES: [&str; 4] = ["params", "coverage", "scorecard", "attribution_models"];

impl Plan {
    /// The plan of a run with these queries (the model steps are added as the run adds
    /// them) and report catalogues.
    pub fn build(
        queries: Vec<Query>,
        scorecard: &Catalogue,
        charts: &ChartCatalogue,
    ) -> Result<Plan> {
        let produced: BTreeSet<String> = queries.iter().map(|q| q.name.clone()).collect();
        let mut steps = queries;
        steps.extend(
            pipeline::model_steps()
                .into_iter()
                .filter(|m| produced.contains(&m.sql)),
        );
        let steps = pipeline::dependency_order(steps)?;
        let mut tables: BTreeSet<String> = crate::schema::TABLES
            .iter()
            .map(|t| t.name.to_string())
            .collect();
        tables.extend(steps.iter().map(|q| q.name.clone()));
        tables.extend(RUN_TABLES.iter().map(|t| t.to_string()));
        let reads_of = |sql: &str, me: &str| -> Vec<String> {
            let ids = pipeline::sql_identifiers(sql);
            tables
                .iter()
                .filter(|t| t.as_str() != me && ids.contains(*t))
                .cloned()
                .collect()
        };
        let mut nodes: Vec<Node> = crate::schema::TABLES
            .iter()
            .map(|t| Node {
                name: t.name.to_string(),
                kind: NodeKind::Input,
                defined_in: "src/schema.rs".into(),
                reads: vec![],
                needs: vec![],
                published: false,
                as_of: Some(pipeline::as_of_rule(t.name)),
            })
            .collect();
        for q in &steps {
            let (kind, reads) = match q.model {
                Some(_) => (NodeKind::Model, vec![q.sql.clone()]),
                None => (NodeKind::Query, reads_of(&q.sql, &q.name)),
            };
            let mut needs = q.requires.clone();
            needs.extend(q.needs.iter().cloned());
            nodes.push(Node {
                name: q.name.clone(),
                kind,
                defined_in: q.file.clone(),
                reads,
                needs,
                published: q.publish,
                as_of: None,
            });
        }
        for m in &scorecard.metric {
            nodes.push(Node {
                name: m.key.clone(),
                kind: NodeKind::Metric,
                defined_in: "scorecard.toml".into(),
                reads: reads_of(&m.query(), ""),
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
                reads: reads_of(&c.sql, ""),
                needs: c.needs.clone(),
                published: false,
                as_of: None,
            });
        }
        Ok(Plan { nodes })
    }

    /// Every node's name and kind, one per line, with what it reads and needs, grouped
    /// by kind (in run order within a kind).
    pub fn text(&self) -> String {
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
        Plan::build(pipeline::embedded_queries().unwrap(), &scorecard, &charts).unwrap()
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
