//! revalign: one honest set of numbers for B2B revenue teams.
//!
//! The binary (`src/main.rs`) only parses flags and maps errors to exit codes; the
//! stages live here, each testable on its own:
//!
//! - [`schema`]: the canonical input tables (one place for every column) and the
//!   facts that decide what can be measured;
//! - [`load`]: reading CSV/Parquet/JSON lines, validation, `rejects`;
//! - [`sources`]: source packs (Salesforce, Stripe exports) into canonical tables;
//! - [`config`]: parameters and the one-row `params` table;
//! - [`catalog`]: where query and report definitions come from (embedded or a folder);
//! - [`coverage`]: what the loaded inputs can and cannot support, and why;
//! - [`plan`]: the run's graph (inputs, queries, models, metrics, charts), built first;
//! - [`query`]: the steps as defined: query files in `queries/` and Rust model steps;
//! - [`pipeline`]: runs the plan's steps in DataFusion;
//! - [`engine`]: where that SQL runs: in this process or on a Ballista cluster;
//!   [`inline_params`] reads the `params` table as constants in its plans;
//! - [`models`]: Rust model steps on small aggregates (sBG retention);
//! - [`scorecard`]: the aligned scorecard from the metric catalogue in `reports/`;
//! - [`output`]: Parquet partitions and report files, swapped in atomically
//!   ([`parquet_file`]: Parquet encoded on two threads);
//! - [`charts`] and [`palette`]: the report's charts (plotters, SVG and PNG);
//! - [`report`]: the HTML report and scorecard.md;
//! - [`generate`]: deterministic synthetic data (the demo and benchmarks);
//! - [`parallel`]: two pieces of work at once (loading, scratch files, Markov);
//! - [`run`]: the monthly job that ties them together, recorded in [`manifest`];
//!   [`cli`]: the commands.

pub mod catalog;
pub mod charts;
pub mod cli;
pub mod config;
pub mod coverage;
pub mod dates;
pub mod engine;
pub mod error;
pub mod first_by;
pub mod generate;
pub mod inline_params;
pub mod load;
pub mod logging;
pub mod manifest;
pub mod models;
pub mod output;
pub mod palette;
pub mod parallel;
pub mod parquet_file;
pub mod pipeline;
pub mod plan;
pub mod publish;
pub mod query;
pub mod report;
pub mod run;
pub mod schema;
pub mod scorecard;
pub mod sources;

pub use error::{Error, Result};
