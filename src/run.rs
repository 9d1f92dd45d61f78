//! The monthly job in four steps that tests and the Ballista path call one at a time:
//! [`prepare`] (load, resolve the month, register the inputs, build the plan) →
//! [`execute`] (queries and model steps) → [`render`] (scorecard, charts) →
//! [`publish`] (everything written atomically). [`run`] is what `revalign run` does;
//! `validate` and `query` reuse its loading step.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use datafusion::arrow::array::RecordBatch;

use crate::charts::{self, ChartCatalogue, Rendered as RenderedChart};
use crate::config::{Month, Params};
use crate::coverage::Coverage;
use crate::dates::{date_warnings, today, DateScan};
use crate::engine::{EngineOptions, Session};
use crate::error::{Error, Result};
use crate::generate::{self, GenerateOptions};
use crate::load::{self, LoadedData, TableStats};
use crate::manifest::{ChartEntry, InputEntry, Manifest, OutputEntry, SkippedEntry};
use crate::output::Staged;
use crate::pipeline::{self, Helpers, QueryResult, StageReport};
use crate::plan::{Plan, Skip};
use crate::query;
use crate::report;
use crate::scorecard::{self, Catalogue};

/// Where the inputs come from.
#[derive(Debug, Clone)]
pub enum DataSource {
    /// The built-in demo data set, generated into a temporary folder.
    Demo,
    Dir(PathBuf),
}

/// A fully resolved `revalign run`.
#[derive(Debug, Clone)]
pub struct RunJob {
    pub data: DataSource,
    pub month: Option<Month>,
    pub out: PathBuf,
    pub params: Params,
    pub queries: Option<PathBuf>,
    /// Staging SQL and source packs.
    pub inputs: InputSpec,
    pub strict: bool,
    pub engine: EngineOptions,
    /// Folder with `scorecard.toml` (default: the built-in catalogue).
    pub reports: Option<PathBuf>,
}

#[derive(Debug)]
pub struct RunSummary {
    pub manifest: Manifest,
    pub report_dir: PathBuf,
}

/// Generate the demo data set into `dir`.
pub fn demo_data(dir: &Path) -> Result<()> {
    generate::generate(dir, &GenerateOptions::default())?;
    Ok(())
}

/// Where canonical tables come from besides files named after them.
#[derive(Debug, Clone, Default)]
pub struct InputSpec {
    /// `--staging DIR`: `<table>.sql` files over the raw files.
    pub staging: Option<PathBuf>,
    /// `--source`: built-in pack names or pack folders.
    pub sources: Vec<String>,
    /// `--mapping FILE`: overrides of the packs' mappings.
    pub mapping: Option<PathBuf>,
    /// The `reporting_currency` parameter, when set.
    pub reporting_currency: Option<String>,
}

/// Read and validate the inputs in `data`, through staging SQL and source packs when
/// given (a table comes from one of them or from its file, never two).
pub async fn load_inputs(data: &Path, inputs: &InputSpec) -> Result<LoadedData> {
    let mut staged = match &inputs.staging {
        Some(dir) => load::stage(data, dir).await?,
        None => BTreeMap::new(),
    };
    let mut report = crate::sources::SourceReport::default();
    if !inputs.sources.is_empty() {
        let packs = crate::sources::load_packs(&inputs.sources, inputs.mapping.as_deref())?;
        let ctx = datafusion::prelude::SessionContext::new();
        let (parts, pack_report) = crate::sources::run_packs(&ctx, data, &packs).await?;
        for (table, parts) in parts {
            if staged.contains_key(&table) {
                return Err(Error::Staging {
                    file: inputs.staging.clone().unwrap_or_default().join(format!("{table}.sql")),
                    message: format!(
                        "table `{table}` is given both by staging SQL and by a source pack; remove one"
                    ),
                });
            }
            staged.insert(table, parts);
        }
        report = pack_report;
    }
    let mut loaded = load::load_in_currency(data, staged, inputs.reporting_currency.as_deref())?;
    // What each pack part's rows became: loaded unless rejected (with the part as source).
    for part in &mut report.parts {
        let label = part.label();
        part.loaded = part.rows
            - loaded
                .rejects
                .iter()
                .filter(|r| r.source_file == label)
                .count();
    }
    loaded.sources = report;
    Ok(loaded)
}

fn progress(len: u64) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(len),
        indicatif::ProgressDrawTarget::stderr(),
    );
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} {msg}")
            .expect("template")
            .progress_chars("=> "),
    );
    bar
}

/// Fail the run on any reject under `--strict`.
pub fn check_strict(loaded: &LoadedData) -> Result<()> {
    if let Some(first) = loaded.rejects.first() {
        return Err(Error::StrictRejects {
            count: loaded.rejects.len(),
            table: first.table.clone(),
            file: first.source_file.clone(),
            row: first.row_number,
            column: first.column.clone(),
            reason: first.reason.clone(),
            raw: first.raw_value.clone(),
        });
    }
    Ok(())
}

/// Step 1 of a run, prepared: the inputs loaded and registered as of the report month,
/// what they can support (`coverage`), the catalogues read and the plan built. Nothing
/// has been computed or written yet.
pub struct Prepared {
    pub session: Session,
    pub loaded: LoadedData,
    pub month: Month,
    pub dates: DateScan,
    pub coverage: Coverage,
    pub plan: Plan,
    /// The steps the inputs cannot support, and why (from the plan).
    pub skips: BTreeMap<String, Skip>,
    pub scorecard: Catalogue,
    pub scorecard_file: PathBuf,
    pub charts: ChartCatalogue,
    pub warnings: Vec<String>,
    pub timings: BTreeMap<String, u128>,
}

/// Step 2, executed: the results of the queries and model steps.
pub struct Executed {
    pub results: Vec<QueryResult>,
    pub stages: Vec<StageReport>,
}

/// Step 3, rendered: the scorecard and the charts.
pub struct Rendered {
    pub scorecard: RecordBatch,
    pub charts: Vec<RenderedChart>,
}

/// Prepare a run: load (generating the demo data into the session's scratch folder
/// when asked), resolve the report month, register the inputs as of it, read the
/// catalogues and build the plan. Every definition is checked before anything runs.
pub async fn prepare(job: &RunJob) -> Result<Prepared> {
    let mut timings = BTreeMap::new();
    // The engine's scratch folder also holds the demo data: a killed run's leftovers
    // are swept as one by the next run.
    let session = Session::new(&job.engine).await?;
    let data: PathBuf = match &job.data {
        DataSource::Dir(dir) => dir.clone(),
        DataSource::Demo => {
            let started = Instant::now();
            let dir = session.scratch_dir().join("demo");
            demo_data(&dir)?;
            timings.insert("generate_demo".to_string(), started.elapsed().as_millis());
            dir
        }
    };
    let started = Instant::now();
    // The run's parameters name the reporting currency.
    let inputs = InputSpec {
        reporting_currency: job.params.reporting_currency().map(str::to_string),
        ..job.inputs.clone()
    };
    let mut loaded = load_inputs(&data, &inputs).await?;
    let dates = DateScan::new(&loaded, today());
    timings.insert("load".to_string(), started.elapsed().as_millis());
    if job.strict {
        check_strict(&loaded)?;
    }
    let month = match job.month {
        Some(m) => m,
        None => dates.default_month()?,
    };
    let mut warnings = date_warnings(&dates, month, &loaded);
    let queries = match &job.queries {
        Some(dir) => query::queries_from_dir(dir)?,
        None => query::embedded_queries()?,
    };
    let (scorecard_file, scorecard) = Catalogue::load(job.reports.as_deref())?;
    let (_, charts) = ChartCatalogue::load(job.reports.as_deref())?;
    let plan = Plan::build(queries, &scorecard, &charts)?;
    let started = Instant::now();
    let coverage = pipeline::register_inputs(&session, &loaded, Some((month, &job.params))).await?;
    // Registering the inputs as of the month (the touches' scratch file) and coverage.
    timings.insert("register".to_string(), started.elapsed().as_millis());
    warnings.extend(coverage.warnings(month));
    warnings.extend(scorecard::target_warnings(
        loaded.tables.get("targets").map(|t| &t.batch),
        &scorecard,
    ));
    let skips = plan.skips(&loaded.absent, &coverage);
    // The session has its own copy of the rows now; the scorecard still reads targets.
    loaded.release_rows(&["targets"]);
    Ok(Prepared {
        session,
        loaded,
        month,
        dates,
        coverage,
        plan,
        skips,
        scorecard,
        scorecard_file,
        charts,
        warnings,
        timings,
    })
}

/// Execute the plan's queries and model steps. Published results stream into
/// `outputs` when given (and are read back from there by later steps); helpers are
/// dropped after their last reader or kept, as `helpers` says.
pub async fn execute(
    prepared: &mut Prepared,
    params: &Params,
    helpers: Helpers,
    outputs: Option<&mut Staged>,
) -> Result<Executed> {
    let started = Instant::now();
    let bar = progress(prepared.plan.steps.len() as u64);
    let (results, stages) = pipeline::run_queries(
        &prepared.session,
        &prepared.plan,
        &prepared.skips,
        params,
        helpers,
        outputs,
        &bar,
    )
    .await?;
    bar.finish_and_clear();
    prepared
        .timings
        .insert("queries".to_string(), started.elapsed().as_millis());
    Ok(Executed { results, stages })
}

/// Render the scorecard (registered as table `scorecard` for the charts) and the
/// charts.
pub async fn render(prepared: &mut Prepared) -> Result<Rendered> {
    let started = Instant::now();
    let skipped: BTreeMap<String, Vec<String>> = prepared
        .skips
        .iter()
        .map(|(table, skip)| (table.clone(), skip.reasons.clone()))
        .collect();
    let scorecard = scorecard::compute(
        &prepared.session.ctx,
        &prepared.scorecard,
        &prepared.scorecard_file,
        prepared.month,
        &prepared.coverage,
        &skipped,
        prepared.loaded.tables.get("targets").map(|t| &t.batch),
    )
    .await?;
    prepared
        .timings
        .insert("scorecard".to_string(), started.elapsed().as_millis());
    let started = Instant::now();
    prepared
        .session
        .register("scorecard", scorecard.schema(), vec![scorecard.clone()])
        .await?;
    let charts = charts::render_all(
        &prepared.session.ctx,
        &prepared.charts,
        &prepared.coverage,
        &skipped,
    )
    .await?;
    prepared
        .timings
        .insert("charts".to_string(), started.elapsed().as_millis());
    Ok(Rendered { scorecard, charts })
}

/// Publish: add the run's own tables (scorecard, coverage, rejects), the manifest,
/// charts and report pages to `staged` and swap it all into `job.out` at once.
pub fn publish(
    job: &RunJob,
    mut prepared: Prepared,
    executed: Executed,
    rendered: Rendered,
    mut staged: Staged,
    started_at: Instant,
) -> Result<RunSummary> {
    let started = Instant::now();
    let Rendered { scorecard, charts } = rendered;
    let mut outputs: Vec<OutputEntry> = executed
        .results
        .iter()
        .filter(|r| r.query.publish)
        .map(|r| OutputEntry {
            table: r.query.name.clone(),
            rows: r.rows,
            path: staged.table_path(&r.query.name).display().to_string(),
        })
        .collect();
    let coverage = prepared.coverage.to_batch()?;
    let rejects = prepared.loaded.rejects_batch()?;
    for (table, batch) in [
        ("scorecard", &scorecard),
        ("coverage", &coverage),
        ("rejects", &rejects),
    ] {
        staged.add_table(table, batch)?;
        outputs.push(OutputEntry {
            table: table.into(),
            rows: batch.num_rows(),
            path: staged.table_path(table).display().to_string(),
        });
    }
    let skipped = executed
        .stages
        .iter()
        .filter(|s| s.published && s.rows.is_none())
        .map(|s| SkippedEntry {
            table: s.table.clone(),
            missing: s.skipped_for_missing.clone(),
            not_measurable: s.not_measurable.clone(),
        })
        .collect();
    let loaded = &prepared.loaded;
    let inputs = crate::schema::TABLES
        .iter()
        .map(|spec| {
            let entry = match loaded.tables.get(spec.name) {
                Some(t) => InputEntry {
                    status: "loaded",
                    reconciles: t.stats.rows_read == t.stats.loaded + t.stats.rejected,
                    stats: t.stats.clone(),
                },
                None => InputEntry {
                    status: "absent",
                    stats: TableStats::default(),
                    reconciles: true,
                },
            };
            (spec.name.to_string(), entry)
        })
        .collect();
    let mut timings = std::mem::take(&mut prepared.timings);
    timings.insert("write".to_string(), started.elapsed().as_millis());
    timings.insert("total".to_string(), started_at.elapsed().as_millis());
    let manifest = Manifest {
        revalign_version: env!("CARGO_PKG_VERSION").to_string(),
        datafusion_version: datafusion::DATAFUSION_VERSION.to_string(),
        engine: prepared.session.description().to_string(),
        report_month: prepared.month.to_string(),
        data: match &job.data {
            DataSource::Demo => "(built-in demo data)".to_string(),
            DataSource::Dir(d) => d.display().to_string(),
        },
        data_through: prepared.dates.latest.as_ref().map(|l| l.date.to_string()),
        data_through_row: prepared.dates.latest.clone(),
        warnings: prepared.warnings,
        inputs,
        sources: loaded.sources.clone(),
        rejects_total: loaded.rejects.len(),
        params: job.params.clone(),
        catalogues: crate::catalog::REPORT_FILES
            .iter()
            .map(|f| {
                let source = crate::catalog::report_file_source(job.reports.as_deref(), f)?;
                Ok((f.to_string(), source))
            })
            .collect::<Result<_>>()?,
        stages: executed.stages,
        outputs,
        skipped,
        coverage: prepared.coverage.facts,
        plan: prepared.plan.nodes,
        charts: charts
            .iter()
            .map(|c| ChartEntry {
                key: c.spec.key.clone(),
                section: c.spec.section.as_str().to_string(),
                no_data: c.no_data.clone(),
            })
            .collect(),
        timings_ms: timings,
    };
    staged.add_report_file(
        "manifest.json",
        serde_json::to_string_pretty(&manifest)?.as_bytes(),
    )?;
    for chart in &charts {
        staged.add_report_file(
            &format!("charts/{}.svg", chart.spec.key),
            chart.svg.as_bytes(),
        )?;
        staged.add_report_file(&format!("charts/{}.png", chart.spec.key), &chart.png)?;
    }
    staged.add_report_file(
        "index.html",
        report::run_page(
            &manifest,
            &scorecard,
            &charts,
            &prepared.scorecard.headline(),
        )
        .as_bytes(),
    )?;
    staged.add_report_file(
        "scorecard.md",
        report::scorecard_markdown(&manifest.report_month, &scorecard).as_bytes(),
    )?;
    let report_dir = job.out.join("reports").join(prepared.month.to_string());
    staged.publish()?;
    Ok(RunSummary {
        manifest,
        report_dir,
    })
}

/// The whole monthly job: prepare → execute → render → publish.
pub async fn run(job: &RunJob) -> Result<RunSummary> {
    let started_at = Instant::now();
    // One run at a time per --out; settles what a killed run left there.
    let _lock = crate::publish::lock_for_run(&job.out)?;
    let mut prepared = prepare(job).await?;
    // Published results are streamed into the staged output files as they are
    // computed and read from there by later queries, so they need not stay in memory.
    let mut staged = Staged::new(&job.out, prepared.month)?;
    staged.set_fault_hook(crate::publish::FaultHook::from_env());
    let executed = execute(&mut prepared, &job.params, Helpers::Drop, Some(&mut staged)).await?;
    let rendered = render(&mut prepared).await?;
    publish(job, prepared, executed, rendered, staged, started_at)
}
