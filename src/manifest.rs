//! `manifest.json`: what went into a run and what came out, with what settings, the
//! coverage of the inputs and the run's graph. Its own module so that the report (which
//! prints it) and the run (which writes it) do not import each other.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::Params;
use crate::dates::DatedRow;
use crate::load::TableStats;
use crate::pipeline::StageReport;

#[derive(Debug, Clone, Serialize)]
pub struct InputEntry {
    pub status: &'static str,
    #[serde(flatten)]
    pub stats: TableStats,
    /// rows_read == loaded + rejected.
    pub reconciles: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct OutputEntry {
    pub table: String,
    pub rows: usize,
    pub path: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SkippedEntry {
    pub table: String,
    /// Input tables whose absence skipped it.
    pub missing: Vec<String>,
    /// Why it cannot be computed from these inputs.
    pub not_measurable: Vec<String>,
}

/// One chart of the report; `no_data` says why it shows an empty panel, if it does.
#[derive(Debug, Clone, Serialize)]
pub struct ChartEntry {
    pub key: String,
    pub section: String,
    pub no_data: Option<String>,
}

/// `manifest.json`: what went in, what came out, with what settings.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub revalign_version: String,
    pub datafusion_version: String,
    /// `local`, `ballista (standalone)` or `ballista df://HOST:PORT`.
    pub engine: String,
    pub report_month: String,
    pub data: String,
    pub data_through: Option<String>,
    /// The row that sets `data_through` (and so the default report month).
    pub data_through_row: Option<DatedRow>,
    /// Things the run could do but a person should know (dates past the report).
    pub warnings: Vec<String>,
    pub inputs: BTreeMap<String, InputEntry>,
    /// What the source packs read, dropped and could not map (`--source`).
    pub sources: crate::sources::SourceReport,
    pub rejects_total: usize,
    pub params: Params,
    /// Which scorecard and chart catalogues the run used (a file or `built-in ...`).
    pub catalogues: BTreeMap<String, String>,
    pub stages: Vec<StageReport>,
    pub outputs: Vec<OutputEntry>,
    pub skipped: Vec<SkippedEntry>,
    /// What these inputs can and cannot support (the `coverage` output).
    pub coverage: Vec<crate::coverage::FactRow>,
    /// The run's graph: every input, query, model step, metric and chart with what it
    /// reads (`revalign plan`).
    pub plan: Vec<crate::plan::Node>,
    pub charts: Vec<ChartEntry>,
    pub timings_ms: BTreeMap<String, u128>,
}
