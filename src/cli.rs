//! Command-line interface: one subcommand enum, each variant owning its options.
//!
//! Flags are parsed by clap, then resolved into a fully checked job (a `RunJob`)
//! before any work starts. Progress and errors go to stderr; stdout carries results.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::util::pretty::pretty_format_batches;

use crate::config::{self, Month};
use crate::engine::{self, BallistaOptions, EngineOptions, Session, MAX_THREADS};
use crate::error::{Error, Result};
use crate::generate::{self, FileFormat, GenerateOptions};
use crate::pipeline;
use crate::query;
use crate::run::{self, DataSource, RunJob};

#[derive(Debug, Parser)]
#[command(
    name = "revalign",
    version,
    about = "One honest set of B2B revenue numbers: funnel, follow-up, attribution, retention, LTV",
    long_about = None
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the monthly report (on the built-in demo data without --data).
    Run(RunArgs),
    /// Write a deterministic synthetic data set.
    Generate(GenerateArgs),
    /// Check input files and print what would load and what would be rejected.
    Validate(ValidateArgs),
    /// Ad-hoc SQL over the inputs (--data) and the written outputs (--out).
    Query(QueryArgs),
    /// Print the run's graph without running it: inputs, queries, model steps,
    /// scorecard metrics and charts, and what each reads.
    Plan(PlanArgs),
    /// Source packs: `revalign source init salesforce DIR` writes a pack's SQL and
    /// mapping into DIR as the start of a custom pack (`--source DIR`).
    Source(SourceArgs),
    /// A Ballista executor process for `run --engine ballista --scheduler ...`
    /// (knows every DataFusion function revalign's SQL uses).
    #[cfg(feature = "ballista")]
    Executor(crate::engine::ExecutorArgs),
}

impl Command {
    /// Threads the async runtime may run work on (`run --threads`); `None`: one per
    /// core.
    pub fn worker_threads(&self) -> Option<usize> {
        match self {
            Command::Run(a) => a.threads,
            _ => None,
        }
    }

    pub async fn run(self) -> Result<()> {
        match self {
            Command::Run(a) => a.run().await,
            Command::Generate(a) => a.run(),
            Command::Validate(a) => a.run().await,
            Command::Query(a) => a.run().await,
            Command::Plan(a) => a.run(),
            Command::Source(a) => a.run(),
            #[cfg(feature = "ballista")]
            Command::Executor(a) => crate::engine::run_executor(a).await,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Engine {
    /// DataFusion in this process.
    Local,
    /// An Apache DataFusion Ballista cluster (--scheduler; without it, an in-process
    /// scheduler and executor).
    Ballista,
}

fn parse_size(s: &str) -> std::result::Result<usize, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("invalid size {s:?}: use e.g. 512MiB, 2GiB"))?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "kib" => 1024.0,
        "m" | "mb" => 1e6,
        "mib" => 1024.0 * 1024.0,
        "g" | "gb" => 1e9,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        _ => {
            return Err(format!(
                "invalid size unit in {s:?}: use B, KiB, MiB, GiB (or KB, MB, GB)"
            ))
        }
    };
    if n <= 0.0 {
        return Err("size must be positive".into());
    }
    Ok((n * mult) as usize)
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Folder of input tables (default: the built-in demo data).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Report month, YYYY-MM (default: the last complete month in the data).
    #[arg(long)]
    pub month: Option<Month>,
    /// Output folder.
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    #[command(flatten)]
    pub params: ParamArgs,
    /// Use the SQL files in DIR instead of the built-in queries.
    #[arg(long)]
    pub queries: Option<PathBuf>,
    /// Folder with `scorecard.toml` and/or `charts.toml` (default: built in; a file
    /// missing from DIR falls back to the built-in one).
    #[arg(long)]
    pub reports: Option<PathBuf>,
    #[command(flatten)]
    pub inputs: InputArgs,
    /// Fail when any input row is rejected.
    #[arg(long)]
    pub strict: bool,
    /// Execution engine.
    #[arg(long, value_enum, default_value_t = Engine::Local)]
    pub engine: Engine,
    /// Ballista scheduler, df://HOST:PORT (with --engine ballista; default: start one
    /// in this process).
    #[arg(long)]
    pub scheduler: Option<String>,
    /// With --engine ballista: folder where tables are handed to the executors, which
    /// must see the same path (default: the system temp folder).
    #[arg(long)]
    pub exchange_dir: Option<PathBuf>,
    /// Memory limit for query execution, e.g. 2GiB (operators that can spill do).
    #[arg(long, value_parser = parse_size)]
    pub memory_limit: Option<usize>,
    /// Folder for spill files under --memory-limit (default: the system temp folder).
    #[arg(long)]
    pub spill_dir: Option<PathBuf>,
    /// Worker threads (DataFusion target partitions), 1 to 256.
    #[arg(long, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=MAX_THREADS as u64))]
    pub threads: Option<usize>,
}

impl RunArgs {
    fn job(&self) -> Result<RunJob> {
        if self.engine == Engine::Local && (self.scheduler.is_some() || self.exchange_dir.is_some())
        {
            return Err(Error::Usage(
                "--scheduler and --exchange-dir need --engine ballista".into(),
            ));
        }
        if let Some(url) = &self.scheduler {
            if !url.starts_with("df://") {
                return Err(Error::Usage(format!(
                    "--scheduler {url:?}: expected df://HOST:PORT"
                )));
            }
        }
        existing_dir("--data", self.data.as_deref())?;
        existing_dir("--queries", self.queries.as_deref())?;
        let params = self.params.params()?;
        let inputs = self.inputs.spec(&params)?;
        // Check every user-supplied definition before anything runs: query file names,
        // chart keys and sections, scorecard metric keys (they become paths), and that
        // --reports is a folder holding at least one catalogue.
        if let Some(dir) = &self.queries {
            query::queries_from_dir(dir)?;
        }
        crate::scorecard::Catalogue::load(self.reports.as_deref())?;
        crate::charts::ChartCatalogue::load(self.reports.as_deref())?;
        Ok(RunJob {
            data: self.data.clone().map_or(DataSource::Demo, DataSource::Dir),
            month: self.month,
            out: self.out.clone(),
            params,
            queries: self.queries.clone(),
            inputs,
            strict: self.strict,
            engine: EngineOptions {
                threads: self.threads,
                memory_limit: self.memory_limit,
                spill_dir: self.spill_dir.clone(),
                ballista: (self.engine == Engine::Ballista).then(|| BallistaOptions {
                    scheduler: self.scheduler.clone(),
                    exchange_dir: self.exchange_dir.clone(),
                }),
            },
            reports: self.reports.clone(),
        })
    }

    async fn run(self) -> Result<()> {
        let job = self.job()?;
        if job.engine.ballista.is_some() {
            eprintln!(
                "warning: --engine ballista is experimental: a Ballista 55.0 scheduler error \
                 leaves the query waiting forever instead of failing; set \
                 RUST_LOG=ballista_scheduler=error to see it (README, Scale-out on Ballista)"
            );
        }
        let summary = run::run(&job).await?;
        let m = &summary.manifest;
        for warning in &m.warnings {
            eprintln!("warning: {warning}");
        }
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "revalign run for {} ({})", m.report_month, m.data);
        let (read, loaded): (usize, usize) = m.inputs.values().fold((0, 0), |(r, l), i| {
            (r + i.stats.rows_read, l + i.stats.loaded)
        });
        let _ = writeln!(
            out,
            "inputs: {read} rows read, {loaded} loaded, {} rejected",
            m.rejects_total
        );
        for line in m.sources.lines() {
            let _ = writeln!(out, "{line}");
        }
        for line in crate::load::currency_lines(
            m.params.reporting_currency(),
            m.inputs.iter().map(|(n, i)| (n.as_str(), &i.stats)),
        ) {
            let _ = writeln!(out, "{line}");
        }
        let mut outputs: Vec<_> = m.outputs.iter().filter(|o| o.table != "rejects").collect();
        outputs.sort_by(|a, b| a.table.cmp(&b.table));
        outputs.extend(m.outputs.iter().filter(|o| o.table == "rejects"));
        for o in outputs {
            let _ = writeln!(out, "  {:<24} {:>9} rows", o.table, o.rows);
        }
        for s in &m.skipped {
            let _ = writeln!(
                out,
                "  {:<24} skipped: {}",
                s.table,
                crate::coverage::not_measurable(&s.not_measurable)
            );
        }
        let _ = writeln!(
            out,
            "report: {}",
            summary.report_dir.join("index.html").display()
        );
        let _ = writeln!(
            out,
            "catalogues: scorecard {}; charts {}",
            crate::catalog::report_file_source(self.reports.as_deref(), "scorecard.toml")?,
            crate::catalog::report_file_source(self.reports.as_deref(), "charts.toml")?
        );
        let _ = writeln!(
            out,
            "done in {} ms",
            m.timings_ms.get("total").copied().unwrap_or(0)
        );
        Ok(())
    }
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Folder to write the tables to.
    #[arg(long)]
    pub out: PathBuf,
    /// Number of accounts (2,000 is the demo; 50,000 gives about 10 million touches).
    #[arg(long, default_value_t = 2000)]
    pub accounts: usize,
    /// Months of history.
    #[arg(long, default_value_t = 36)]
    pub months: u32,
    /// Random seed: the same seed gives the same bytes.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// File format.
    #[arg(long, value_enum, default_value_t = FileFormat::Parquet)]
    pub format: FileFormat,
    /// Last month of data, YYYY-MM.
    #[arg(long, default_value = "2026-10")]
    pub end: Month,
    /// Journey shape: demo, long_journeys (more touches, crowded into recent months,
    /// and more opportunities: about 1.6 attribution credit rows per touch against the
    /// demo's 0.6), wide_accounts (4x the contacts, a quarter of the touches each),
    /// many_channels (50 channels). The knobs below adjust it.
    #[arg(long, default_value = "demo", value_parser = clap::builder::PossibleValuesParser::new(generate::Shape::NAMES))]
    pub shape: String,
    /// Multiplier on each contact's marketing touch rate.
    #[arg(long)]
    pub touch_rate: Option<f64>,
    /// Multiplier on the number of contacts per account.
    #[arg(long)]
    pub contacts: Option<f64>,
    /// How touches crowd toward the end of a contact's life (1 = evenly).
    #[arg(long)]
    pub recency: Option<f64>,
    /// Number of marketing channels (10 in the demo).
    #[arg(long)]
    pub channels: Option<usize>,
    /// Mean number of extra opportunities per account (0 in the demo).
    #[arg(long)]
    pub extra_opportunities: Option<f64>,
}

impl GenerateArgs {
    fn run(self) -> Result<()> {
        let mut shape = generate::Shape::named(&self.shape).expect("checked by clap");
        for (name, value, slot) in [
            ("--touch-rate", self.touch_rate, &mut shape.touch_rate),
            ("--contacts", self.contacts, &mut shape.contacts),
            ("--recency", self.recency, &mut shape.recency),
        ] {
            if let Some(v) = value {
                if !(v > 0.0 && v <= 100.0) {
                    return Err(Error::Usage(format!(
                        "{name} must be above 0 and at most 100"
                    )));
                }
                *slot = v;
            }
        }
        if let Some(n) = self.extra_opportunities {
            if !(0.0..=50.0).contains(&n) {
                return Err(Error::Usage(
                    "--extra-opportunities must be between 0 and 50".into(),
                ));
            }
            shape.extra_opportunities = n;
        }
        if let Some(n) = self.channels {
            if !(1..=200).contains(&n) {
                return Err(Error::Usage("--channels must be between 1 and 200".into()));
            }
            shape.channels = n;
        }
        let options = GenerateOptions {
            accounts: self.accounts,
            months: self.months,
            seed: self.seed,
            format: self.format,
            end: self.end,
            shape,
        };
        let summary = generate::generate(&self.out, &options)?;
        let mut out = std::io::stdout().lock();
        for (table, rows) in &summary.rows {
            let _ = writeln!(out, "{table:<22} {rows:>10} rows");
        }
        let _ = writeln!(
            out,
            "generated into {} in {} ms",
            self.out.display(),
            summary.millis
        );
        Ok(())
    }
}

/// Where canonical tables come from besides files named after them.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Staging SQL that turns raw exports in --data into canonical tables.
    #[arg(long)]
    pub staging: Option<PathBuf>,
    /// Source packs reading exports in --data: salesforce, hubspot, stripe (comma-separated), or
    /// a pack folder written by `revalign source init`.
    #[arg(long, value_delimiter = ',')]
    pub source: Vec<String>,
    /// Overrides of the source packs' mapping files (TOML, one table per pack).
    #[arg(long)]
    pub mapping: Option<PathBuf>,
}

/// Parameters: `revalign.toml` and `--set` (run, validate and query read the same).
#[derive(Debug, Args)]
pub struct ParamArgs {
    /// Parameter file (default: ./revalign.toml when present).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Override a parameter, e.g. --set sla_hours=48 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

impl ParamArgs {
    fn params(&self) -> Result<config::Params> {
        config::apply_overrides(config::load_params(self.config.as_deref())?, &self.set)
    }
}

impl InputArgs {
    fn spec(&self, params: &config::Params) -> Result<run::InputSpec> {
        existing_dir("--staging", self.staging.as_deref())?;
        if self.mapping.is_some() && self.source.is_empty() {
            return Err(Error::Usage("--mapping needs --source".into()));
        }
        if let Some(file) = &self.mapping {
            if !file.is_file() {
                return Err(Error::Usage(format!(
                    "--mapping {}: file not found",
                    file.display()
                )));
            }
        }
        // Unknown pack names are usage errors before anything runs.
        crate::sources::load_packs(&self.source, self.mapping.as_deref())?;
        Ok(run::InputSpec {
            staging: self.staging.clone(),
            sources: self.source.clone(),
            mapping: self.mapping.clone(),
            reporting_currency: params.reporting_currency().map(str::to_string),
        })
    }
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Folder of input tables (default: the built-in demo data).
    #[arg(long)]
    pub data: Option<PathBuf>,
    #[command(flatten)]
    pub inputs: InputArgs,
    #[command(flatten)]
    pub params: ParamArgs,
    /// Exit 1 when any row is rejected.
    #[arg(long)]
    pub strict: bool,
    /// How many rejected rows to list.
    #[arg(long, default_value_t = 20)]
    pub show: usize,
}

impl ValidateArgs {
    async fn run(self) -> Result<()> {
        existing_dir("--data", self.data.as_deref())?;
        let inputs = self.inputs.spec(&self.params.params()?)?;
        let demo;
        let data = match &self.data {
            Some(d) => d.clone(),
            None => {
                demo = tempfile::tempdir().map_err(|source| Error::Io {
                    path: std::env::temp_dir(),
                    source,
                })?;
                run::demo_data(demo.path())?;
                demo.path().to_path_buf()
            }
        };
        let loaded = run::load_inputs(&data, &inputs).await?;
        let mut out = std::io::stdout().lock();
        for line in loaded.sources.lines() {
            let _ = writeln!(out, "{line}");
        }
        let converted = crate::load::currency_lines(
            loaded.reporting_currency.as_deref(),
            loaded.tables.iter().map(|(n, t)| (*n, &t.stats)),
        );
        for line in converted {
            let _ = writeln!(out, "{line}");
        }
        let _ = writeln!(
            out,
            "{:<22} {:>8} {:>10} {:>10} {:>9}  reasons",
            "table", "status", "rows_read", "loaded", "rejected"
        );
        for spec in crate::schema::TABLES {
            match loaded.tables.get(spec.name) {
                Some(t) => {
                    let s = &t.stats;
                    let reasons: Vec<String> = s
                        .rejected_by_reason
                        .iter()
                        .map(|(r, n)| format!("{r}: {n}"))
                        .collect();
                    let _ = writeln!(
                        out,
                        "{:<22} {:>8} {:>10} {:>10} {:>9}  {}",
                        spec.name,
                        if s.rows_read > 0 && s.loaded == 0 {
                            "rejected"
                        } else {
                            "loaded"
                        },
                        s.rows_read,
                        s.loaded,
                        s.rejected,
                        reasons.join("; ")
                    );
                }
                None => {
                    let _ = writeln!(out, "{:<22} {:>8}", spec.name, "absent");
                }
            }
        }
        if !loaded.rejects.is_empty() {
            let _ = writeln!(
                out,
                "\nrejected rows (first {} of {}):",
                self.show.min(loaded.rejects.len()),
                loaded.rejects.len()
            );
            for r in loaded.rejects.iter().take(self.show) {
                let _ = writeln!(
                    out,
                    "  {} {} row {} column {}: {} (value {:?})",
                    r.table, r.source_file, r.row_number, r.column, r.reason, r.raw_value
                );
            }
        }
        let dates = crate::dates::DateScan::new(&loaded, crate::dates::today());
        if let Some(through) = &dates.latest {
            let month = dates.default_month()?;
            let _ = writeln!(
                out,
                "\ndata through {} ({}.{} {}); default report month {month}",
                through.date, through.table, through.column, through.row
            );
            for warning in crate::dates::date_warnings(&dates, month, &loaded) {
                let _ = writeln!(out, "warning: {warning}");
            }
            // What these inputs can and cannot support, as of the default month.
            let session = Session::new(&EngineOptions::default()).await?;
            let params = crate::config::Params::default();
            let coverage =
                pipeline::register_inputs(&session, &loaded, Some((month, &params))).await?;
            let _ = writeln!(out, "\ncoverage as of {month}:");
            for f in &coverage.facts {
                match (&f.reason, &f.first_date, &f.last_date) {
                    (Some(reason), _, _) => {
                        let _ = writeln!(out, "  {:<32} cannot measure: {reason}", f.fact);
                    }
                    (None, Some(first), Some(last)) => {
                        let _ = writeln!(
                            out,
                            "  {:<32} {:>9} rows, {first} to {last}",
                            f.fact, f.rows
                        );
                    }
                    (None, _, _) => {
                        let _ = writeln!(out, "  {:<32} {:>9} rows", f.fact, f.rows);
                    }
                }
            }
            for warning in coverage.warnings(month) {
                let _ = writeln!(out, "warning: {warning}");
            }
        }
        if self.strict {
            run::check_strict(&loaded)?;
        }
        // A table whose every row is rejected is a mapping fault, not bad rows.
        let all_rejected: Vec<&str> = loaded
            .tables
            .iter()
            .filter(|(_, t)| t.stats.rows_read > 0 && t.stats.loaded == 0)
            .map(|(name, _)| *name)
            .collect();
        if !all_rejected.is_empty() {
            return Err(Error::AllRejected(all_rejected.join(", ")));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// One line per node, grouped by kind.
    Text,
    /// Graphviz dot (`revalign plan --format dot | dot -Tsvg > plan.svg`).
    Dot,
}

#[derive(Debug, Args)]
pub struct SourceArgs {
    #[command(subcommand)]
    pub command: SourceCommand,
}

#[derive(Debug, Subcommand)]
pub enum SourceCommand {
    /// Write a built-in pack's SQL and mapping.toml into DIR.
    Init {
        /// The built-in pack: salesforce, hubspot or stripe.
        name: String,
        /// Folder to write into (created; files already there are not overwritten).
        dir: PathBuf,
    },
}

impl SourceArgs {
    fn run(self) -> Result<()> {
        match self.command {
            SourceCommand::Init { name, dir } => {
                let written = crate::sources::init(&name, &dir)?;
                println!(
                    "wrote {} files of the {name} pack into {}; run with --source {}",
                    written.len(),
                    dir.display(),
                    dir.display()
                );
                Ok(())
            }
        }
    }
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Query folder to plan instead of the built-in queries.
    #[arg(long)]
    pub queries: Option<PathBuf>,
    /// Folder with scorecard.toml and/or charts.toml to plan instead of the built-in ones.
    #[arg(long)]
    pub reports: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,
}

impl PlanArgs {
    fn run(self) -> Result<()> {
        existing_dir("--queries", self.queries.as_deref())?;
        let queries = match &self.queries {
            Some(dir) => query::queries_from_dir(dir)?,
            None => query::embedded_queries()?,
        };
        let (_, scorecard) = crate::scorecard::Catalogue::load(self.reports.as_deref())?;
        let (_, charts) = crate::charts::ChartCatalogue::load(self.reports.as_deref())?;
        let plan = crate::plan::Plan::build(queries, &scorecard, &charts)?;
        let text = match self.format {
            PlanFormat::Text => plan.text(),
            PlanFormat::Dot => plan.dot(),
        };
        let _ = std::io::stdout().lock().write_all(text.as_bytes());
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum QueryFormat {
    Table,
    Csv,
    Json,
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    /// Folder of input tables to register under their canonical names.
    #[arg(long)]
    pub data: Option<PathBuf>,
    #[command(flatten)]
    pub inputs: InputArgs,
    #[command(flatten)]
    pub params: ParamArgs,
    /// Output folder of earlier runs; every table in out/tables is registered.
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = QueryFormat::Table)]
    pub format: QueryFormat,
    /// The SQL to run.
    pub sql: String,
}

impl QueryArgs {
    async fn run(self) -> Result<()> {
        existing_dir("--data", self.data.as_deref())?;
        let inputs = self.inputs.spec(&self.params.params()?)?;
        let session = Session::new(&EngineOptions::default()).await?;
        if let Some(data) = &self.data {
            // With staging SQL, the raw files are there too under the names the staging
            // SQL reads them by (the canonical tables take precedence on a clash).
            if inputs.staging.is_some() || !inputs.sources.is_empty() {
                crate::load::register_raw(&session.ctx, data).await?;
            }
            let loaded = run::load_inputs(data, &inputs).await?;
            pipeline::register_inputs(&session, &loaded, None).await?;
        }
        let ctx = &session.ctx;
        // Never read a publish half done: settle an interrupted one, then hold it off.
        let _reading = crate::publish::PublishLock::for_reading(&self.out)?;
        let tables_dir = self.out.join("tables");
        if let Ok(entries) = std::fs::read_dir(&tables_dir) {
            let mut dirs: Vec<_> = entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect();
            dirs.sort();
            for dir in dirs {
                let name = dir
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default()
                    .to_string();
                // A table folder without partitions (left by an older version) has
                // no schema to read: skip it rather than fail every query.
                let has_partitions = std::fs::read_dir(&dir)
                    .map(|mut e| e.any(|e| e.is_ok_and(|e| e.path().is_dir())))
                    .unwrap_or(false);
                if name.starts_with('.') || !has_partitions {
                    continue;
                }
                let url = format!("{}/", dir.display());
                ctx.register_parquet(
                    &name,
                    &url,
                    datafusion::prelude::ParquetReadOptions::default(),
                )
                .await?;
            }
        }
        // Read-only: no COPY ... TO, CREATE EXTERNAL TABLE, INSERT or SET.
        let df = engine::read_only_sql(ctx, &self.sql)
            .await
            .map_err(|e| match e {
                e if engine::is_read_only_refusal(&e) => {
                    Error::Usage(format!("revalign query: {e}"))
                }
                e => Error::DataFusion(e),
            })?;
        let batches = df.collect().await?;
        let mut out = std::io::stdout().lock();
        match self.format {
            QueryFormat::Table => {
                let _ = writeln!(out, "{}", pretty_format_batches(&batches)?);
            }
            QueryFormat::Csv => {
                let mut w = datafusion::arrow::csv::WriterBuilder::new()
                    .with_header(true)
                    .build(&mut out);
                for b in &batches {
                    w.write(&csv_safe(b)?)?;
                }
            }
            QueryFormat::Json => {
                let mut w = datafusion::arrow::json::LineDelimitedWriter::new(&mut out);
                for b in &batches {
                    w.write(b)?;
                }
                w.finish()?;
            }
        }
        Ok(())
    }
}

/// A folder flag must name an existing folder (a usage error otherwise, exit 2).
fn existing_dir(flag: &str, dir: Option<&std::path::Path>) -> Result<()> {
    match dir {
        Some(d) if !d.is_dir() => Err(Error::Usage(format!(
            "{flag} {}: folder not found",
            d.display()
        ))),
        _ => Ok(()),
    }
}

/// CSV injection (OWASP): a text cell starting with `=`, `+`, `-`, `@`, a tab or a
/// carriage return is prefixed with a single quote, so a spreadsheet shows it as text
/// instead of evaluating it as a formula. Numeric and other non-text columns are left
/// as they are.
pub fn csv_safe(batch: &RecordBatch) -> Result<RecordBatch> {
    use datafusion::arrow::array::{Array, AsArray, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    let is_text = |t: &DataType| match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, v) => {
            matches!(
                **v,
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            )
        }
        _ => false,
    };
    let schema = batch.schema();
    if !schema.fields().iter().any(|f| is_text(f.data_type())) {
        return Ok(batch.clone());
    }
    let mut fields = Vec::with_capacity(schema.fields().len());
    let mut columns = Vec::with_capacity(batch.num_columns());
    for (field, column) in schema.fields().iter().zip(batch.columns()) {
        if !is_text(field.data_type()) {
            fields.push(field.as_ref().clone());
            columns.push(column.clone());
            continue;
        }
        let text = datafusion::arrow::compute::cast(column, &DataType::Utf8)?;
        let text = text.as_string::<i32>();
        let escaped: StringArray = (0..text.len())
            .map(|i| {
                text.is_valid(i).then(|| {
                    let v = text.value(i);
                    if v.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                        format!("'{v}")
                    } else {
                        v.to_string()
                    }
                })
            })
            .collect();
        fields.push(Field::new(
            field.name(),
            DataType::Utf8,
            field.is_nullable(),
        ));
        columns.push(std::sync::Arc::new(escaped) as datafusion::arrow::array::ArrayRef);
    }
    Ok(RecordBatch::try_new(
        std::sync::Arc::new(Schema::new(fields)),
        columns,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("2GB"), Ok(2_000_000_000));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("1 parsec").is_err());
    }
}
