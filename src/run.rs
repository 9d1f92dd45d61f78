//! The monthly job: load, validate, run the query graph, write everything atomically.
//!
//! [`run`] is what `revalign run` does; `validate` and `query` reuse its loading step.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::charts::{self, ChartCatalogue};
use crate::config::{Month, Params};
use crate::dates::{date_warnings, today, DateScan};
use crate::engine::{EngineOptions, Session};
use crate::error::{Error, Result};
use crate::generate::{self, GenerateOptions};
use crate::load::{self, LoadedData, TableStats};
use crate::manifest::{ChartEntry, InputEntry, Manifest, OutputEntry, SkippedEntry};
use crate::output::Staged;
use crate::pipeline;
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
    pub staging: Option<PathBuf>,
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

/// Read and validate the inputs in `data`, through staging SQL when given.
pub async fn load_inputs(data: &Path, staging: Option<&Path>) -> Result<LoadedData> {
    let staged = match staging {
        Some(dir) => load::stage(data, dir).await?,
        None => BTreeMap::new(),
    };
    load::load(data, staged)
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

/// The whole monthly job.
pub async fn run(job: &RunJob) -> Result<RunSummary> {
    let total = Instant::now();
    let mut timings = BTreeMap::new();
    // One run at a time per --out; settles what a killed run left there.
    let _lock = crate::publish::lock_for_run(&job.out)?;
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
    let mut loaded = load_inputs(&data, job.staging.as_deref()).await?;
    let dates = DateScan::new(&loaded, today());
    let through = dates.latest.as_ref().map(|l| l.date);
    timings.insert("load".to_string(), started.elapsed().as_millis());
    if job.strict {
        check_strict(&loaded)?;
    }
    let month = match job.month {
        Some(m) => m,
        None => dates.default_month()?,
    };
    let warnings = date_warnings(&dates, month, &loaded);

    let started = Instant::now();
    let queries = match &job.queries {
        Some(dir) => pipeline::queries_from_dir(dir)?,
        None => pipeline::embedded_queries()?,
    };
    // The whole graph is resolved (and the catalogues checked) before any query runs.
    let (catalogue_file, catalogue) = Catalogue::load(job.reports.as_deref())?;
    let (_, chart_catalogue) = ChartCatalogue::load(job.reports.as_deref())?;
    let plan = crate::plan::Plan::build(queries.clone(), &catalogue, &chart_catalogue)?;
    let coverage = pipeline::register_inputs(&session, &loaded, Some((month, &job.params))).await?;
    let mut warnings = warnings;
    warnings.extend(coverage.warnings(month));
    // The session has its own copy of the rows now; the scorecard still reads targets.
    loaded.release_rows(&["targets"]);
    // Published results are streamed into the staged output files as they are
    // computed and read from there by later queries, so they need not stay in memory.
    let mut staged = Staged::new(&job.out, month)?;
    staged.set_fault_hook(crate::publish::FaultHook::from_env());
    let bar = progress((queries.len() + pipeline::model_steps().len()) as u64);
    let (results, stages) = pipeline::run_queries(
        &session,
        queries,
        &loaded.absent,
        &coverage,
        &job.params,
        pipeline::Helpers::Drop,
        Some(&mut staged),
        &bar,
    )
    .await?;
    bar.finish_and_clear();
    timings.insert("queries".to_string(), started.elapsed().as_millis());

    let started = Instant::now();
    let skipped_tables: BTreeMap<String, Vec<String>> = stages
        .iter()
        .filter(|s| s.rows.is_none())
        .map(|s| (s.table.clone(), s.not_measurable.clone()))
        .collect();
    let targets = loaded.tables.get("targets").map(|t| &t.batch);
    warnings.extend(scorecard::target_warnings(targets, &catalogue));
    let scorecard = scorecard::compute(
        &session.ctx,
        &catalogue,
        &catalogue_file,
        month,
        &coverage,
        &skipped_tables,
        targets,
    )
    .await?;
    timings.insert("scorecard".to_string(), started.elapsed().as_millis());

    let started = Instant::now();
    session
        .register("scorecard", scorecard.schema(), vec![scorecard.clone()])
        .await?;
    let charts =
        charts::render_all(&session.ctx, &chart_catalogue, &coverage, &skipped_tables).await?;
    timings.insert("charts".to_string(), started.elapsed().as_millis());

    let started = Instant::now();
    let mut outputs = Vec::new();
    for r in results.iter().filter(|r| r.query.publish) {
        outputs.push(OutputEntry {
            table: r.query.name.clone(),
            rows: r.rows,
            path: staged.table_path(&r.query.name).display().to_string(),
        });
    }
    staged.add_table("scorecard", &scorecard)?;
    outputs.push(OutputEntry {
        table: "scorecard".into(),
        rows: scorecard.num_rows(),
        path: staged.table_path("scorecard").display().to_string(),
    });
    let coverage_batch = coverage.to_batch()?;
    staged.add_table("coverage", &coverage_batch)?;
    outputs.push(OutputEntry {
        table: "coverage".into(),
        rows: coverage_batch.num_rows(),
        path: staged.table_path("coverage").display().to_string(),
    });
    let rejects = loaded.rejects_batch()?;
    staged.add_table("rejects", &rejects)?;
    outputs.push(OutputEntry {
        table: "rejects".into(),
        rows: rejects.num_rows(),
        path: staged.table_path("rejects").display().to_string(),
    });
    let skipped = stages
        .iter()
        .filter(|s| s.published && s.rows.is_none())
        .map(|s| SkippedEntry {
            table: s.table.clone(),
            missing: s.skipped_for_missing.clone(),
            not_measurable: s.not_measurable.clone(),
        })
        .collect();
    let mut inputs = BTreeMap::new();
    for spec in crate::schema::TABLES {
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
        inputs.insert(spec.name.to_string(), entry);
    }
    timings.insert("write".to_string(), started.elapsed().as_millis());
    timings.insert("total".to_string(), total.elapsed().as_millis());
    let manifest = Manifest {
        revalign_version: env!("CARGO_PKG_VERSION").to_string(),
        datafusion_version: datafusion::DATAFUSION_VERSION.to_string(),
        engine: session.description().to_string(),
        report_month: month.to_string(),
        data: match &job.data {
            DataSource::Demo => "(built-in demo data)".to_string(),
            DataSource::Dir(d) => d.display().to_string(),
        },
        data_through: through.map(|d| d.to_string()),
        data_through_row: dates.latest.clone(),
        warnings,
        inputs,
        rejects_total: loaded.rejects.len(),
        params: job.params.clone(),
        catalogues: ["scorecard.toml", "charts.toml"]
            .iter()
            .map(|f| {
                let source = crate::catalog::report_file_source(job.reports.as_deref(), f)?;
                Ok((f.to_string(), source))
            })
            .collect::<Result<_>>()?,
        stages,
        outputs,
        skipped,
        coverage: coverage.facts.clone(),
        plan: plan.nodes,
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
        report::run_page(&manifest, &scorecard, &charts, &catalogue.headline()).as_bytes(),
    )?;
    staged.add_report_file(
        "scorecard.md",
        report::scorecard_markdown(&manifest.report_month, &scorecard).as_bytes(),
    )?;
    let report_dir = job.out.join("reports").join(month.to_string());
    staged.publish()?;
    Ok(RunSummary {
        manifest,
        report_dir,
    })
}
