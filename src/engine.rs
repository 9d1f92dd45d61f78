//! Where the SQL runs: DataFusion in this process, or an Apache DataFusion Ballista
//! cluster, behind one [`Session`].
//!
//! The pipeline hands every table it has (loaded inputs, query results, model
//! outputs) to the engine with [`Session::register`]. The local engine keeps them in
//! memory, except what is registered with [`Session::register_on_disk`] (the
//! largest input) or [`Session::register_output_file`] (published results, already
//! written). Ballista cannot ship in-memory tables to its executors, so there each
//! table is written as a Parquet file into the exchange folder and registered as a
//! Parquet table; the executors read it from there, which is why that folder must be
//! a path they can see (a shared file system on a real cluster). The queries are the
//! same SQL on both engines: results come back to this process, where the Rust model
//! steps, the scorecard, the charts and the output writer use them as before.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::datasource::MemTable;
use datafusion::execution::memory_pool::{FairSpillPool, TrackConsumersPool};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::error::{Error, IoContext, Result};

/// The most worker threads (`--threads`, DataFusion target partitions) revalign
/// accepts. Each thread means one more partition of every operator, with its own
/// buffers: far above the core count this costs minutes and gigabytes (1,000 threads
/// took 114 s and 12 GB on 200 accounts) and gains nothing.
pub const MAX_THREADS: usize = 256;

/// Engine settings.
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    /// Worker threads, 1 to [`MAX_THREADS`] (default: the number of cores).
    pub threads: Option<usize>,
    /// Memory pool size for query execution; operators that can spill do.
    pub memory_limit: Option<usize>,
    /// Where spill files go (default: the system temp folder).
    pub spill_dir: Option<PathBuf>,
    /// Run the queries on Ballista instead of in this process.
    pub ballista: Option<BallistaOptions>,
}

/// How to reach the Ballista cluster.
#[derive(Debug, Clone, Default)]
pub struct BallistaOptions {
    /// `df://HOST:PORT`; `None` starts a scheduler and an executor in this process
    /// (Ballista's standalone mode).
    pub scheduler: Option<String>,
    /// Folder for the tables handed to the executors; they must see the same path.
    /// Each run works in its own subfolder and removes it at the end. Default: the
    /// system temp folder (fine for executors on this machine).
    pub exchange_dir: Option<PathBuf>,
}

/// A query engine plus the way tables are handed to it.
pub struct Session {
    pub ctx: SessionContext,
    /// Tables kept as Parquet files: all of them on Ballista, those registered with
    /// [`Session::register_on_disk`] on the local engine.
    exchange: Exchange,
    /// Ballista: every table goes through the exchange folder.
    remote: bool,
    description: String,
}

struct Exchange {
    /// This run's own folder inside the exchange folder, removed when the session ends.
    dir: tempfile::TempDir,
    /// Held while the folder is in use: a folder whose lock can be taken belongs to a
    /// run that died, and the next session deletes it ([`sweep_scratch`]).
    _lock: std::fs::File,
    /// Each registration writes a new file, so no executor reads a stale one.
    files_written: AtomicUsize,
    /// The file behind each registered table, deleted when the table is replaced or
    /// forgotten.
    files: Mutex<BTreeMap<String, PathBuf>>,
}

impl Exchange {
    /// A new folder for this run inside `parent`.
    fn new(parent: &std::path::Path) -> Result<Exchange> {
        std::fs::create_dir_all(parent).at(parent)?;
        sweep_scratch(parent);
        let dir = tempfile::Builder::new()
            .prefix(SCRATCH_PREFIX)
            .tempdir_in(parent)
            .at(parent)?;
        let lock_path = dir.path().join(SCRATCH_LOCK);
        let lock = std::fs::File::create(&lock_path).at(&lock_path)?;
        lock.lock().at(&lock_path)?;
        Ok(Exchange {
            dir,
            _lock: lock,
            files_written: AtomicUsize::new(0),
            files: Mutex::default(),
        })
    }

    /// A fresh file name for table `name`, remembered so the file is deleted with it.
    fn new_file(&self, name: &str) -> PathBuf {
        let n = self.files_written.fetch_add(1, Ordering::Relaxed);
        let path = self.dir.path().join(format!("{n:04}-{name}.parquet"));
        self.files
            .lock()
            .expect("not poisoned")
            .insert(name.to_string(), path.clone());
        path
    }

    fn forget(&self, name: &str) {
        if let Some(old) = self.files.lock().expect("not poisoned").remove(name) {
            // Best effort: the folder is removed at the end anyway.
            let _ = std::fs::remove_file(old);
        }
    }
}

const SCRATCH_PREFIX: &str = "revalign-exchange-";
const SCRATCH_LOCK: &str = ".lock";

/// Delete the scratch folders (exchange tables, spill files) of runs that were killed
/// in `parent`: those whose lock file is not held. A folder without a lock file is
/// left alone unless it is a day old (its run may be creating it right now).
fn sweep_scratch(parent: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        if !entry
            .file_name()
            .to_string_lossy()
            .starts_with(SCRATCH_PREFIX)
        {
            continue;
        }
        let dir = entry.path();
        let abandoned = match std::fs::File::open(dir.join(SCRATCH_LOCK)) {
            Ok(lock) => lock.try_lock().is_ok(),
            Err(_) => entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > std::time::Duration::from_secs(24 * 3600)),
        };
        if abandoned {
            log::info!(
                "removing the scratch folder of a killed run: {}",
                dir.display()
            );
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}

impl Session {
    /// A session for the engine in `options`.
    pub async fn new(options: &EngineOptions) -> Result<Session> {
        match &options.ballista {
            None => {
                // Scratch tables and spill files share this run's folder, so a killed
                // run's leftovers are swept as one.
                let exchange =
                    Exchange::new(&options.spill_dir.clone().unwrap_or_else(std::env::temp_dir))?;
                Ok(Session {
                    ctx: local_context(options, exchange.dir.path())?,
                    exchange,
                    remote: false,
                    description: "local".into(),
                })
            }
            Some(ballista) => ballista_session(options, ballista).await,
        }
    }

    /// This run's scratch folder, removed when the session ends (or, if the process is
    /// killed, by the next session in the same place).
    pub fn scratch_dir(&self) -> &std::path::Path {
        self.exchange.dir.path()
    }

    /// `local`, `ballista (standalone)` or `ballista df://HOST:PORT` (for the manifest).
    pub fn description(&self) -> &str {
        &self.description
    }

    /// Make `batches` queryable as table `name`, replacing any table of that name.
    pub async fn register(
        &self,
        name: &str,
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
    ) -> Result<()> {
        self.register_sorted(name, schema, batches, &[]).await
    }

    /// As [`Session::register`], for rows sorted by the columns `ordered` (ascending,
    /// NULLs last), which DataFusion is told: a query needing that order merges the
    /// scan partitions (contiguous runs of the rows) instead of sorting.
    pub async fn register_sorted(
        &self,
        name: &str,
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
        ordered: &[String],
    ) -> Result<()> {
        if self.remote {
            return self.register_on_disk(name, schema, batches).await;
        }
        self.deregister(name)?;
        let partitions = self.ctx.copied_config().target_partitions();
        let mut table = MemTable::try_new(schema, scan_partitions(batches, partitions))?;
        if !ordered.is_empty() {
            let order = ordered
                .iter()
                .map(|c| datafusion::prelude::ident(c).sort(true, false))
                .collect();
            table = table.with_sort_order(vec![order]);
        }
        self.ctx.register_table(name, Arc::new(table))?;
        Ok(())
    }

    /// As [`Session::register`], but the rows are written to a Parquet file in the
    /// exchange folder and read from there by each query, so they do not stay in
    /// memory: for the largest inputs.
    pub async fn register_on_disk(
        &self,
        name: &str,
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
    ) -> Result<()> {
        self.deregister(name)?;
        let path = self.exchange.new_file(name);
        write_exchange_file(&path, &schema, &batches)?;
        drop(batches);
        self.register_parquet(name, &path, &schema).await
    }

    /// Register the Parquet file at `path`. The schema is given, not inferred: strings
    /// stay Utf8 (not Utf8View) and results have the same types on every engine.
    async fn register_parquet(
        &self,
        name: &str,
        path: &std::path::Path,
        schema: &SchemaRef,
    ) -> Result<()> {
        let options = datafusion::prelude::ParquetReadOptions::default().schema(schema.as_ref());
        self.ctx
            .register_parquet(name, path.to_string_lossy().as_ref(), options)
            .await?;
        Ok(())
    }

    /// Make the Parquet file at `path` (columns `schema`) queryable as `name`, without
    /// its leading `report_month` column: an output table already written by the run.
    /// The local engine reads the file where it is; Ballista gets a copy in the
    /// exchange folder, which its executors can see.
    pub async fn register_output_file(
        &self,
        name: &str,
        path: &std::path::Path,
        schema: SchemaRef,
    ) -> Result<()> {
        self.deregister(name)?;
        let file_table = format!("{name}__file");
        self.deregister(&file_table)?;
        let path = if self.remote {
            let copy = self.exchange.new_file(&file_table);
            std::fs::copy(path, &copy).at(&copy)?;
            copy
        } else {
            path.to_path_buf()
        };
        self.register_parquet(&file_table, &path, &schema).await?;
        let columns: Vec<String> = schema
            .fields()
            .iter()
            .filter(|f| f.name() != "report_month")
            .map(|f| format!("\"{}\"", f.name().replace('"', "\"\"")))
            .collect();
        let view = self
            .ctx
            .sql(&format!(
                "SELECT {} FROM \"{file_table}\"",
                columns.join(", ")
            ))
            .await?
            .into_view();
        self.ctx.register_table(name, view)?;
        Ok(())
    }

    /// Make the result of `sql` queryable as `name`: a view on the local engine
    /// (evaluated by each query that reads it, in memory), materialised once on
    /// Ballista (else each query's executors re-read and re-filter the input file).
    pub async fn register_view(&self, name: &str, sql: &str) -> Result<()> {
        let df = self.ctx.sql(sql).await?;
        if !self.remote {
            self.deregister(name)?;
            self.ctx.register_table(name, df.into_view())?;
            return Ok(());
        }
        let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
        let batches = df.collect().await?;
        self.register(name, schema, batches).await
    }

    /// Forget table `name` (no query left reads it).
    pub fn deregister(&self, name: &str) -> Result<()> {
        self.ctx.deregister_table(name)?;
        self.exchange.forget(name);
        Ok(())
    }
}

/// In-memory rows cut into scan partitions of batches of at most 8,192 rows: one
/// partition holding one large batch would be scanned by one thread and flow through
/// the plan as one batch, which operators must then hold whole.
fn scan_partitions(batches: Vec<RecordBatch>, partitions: usize) -> Vec<Vec<RecordBatch>> {
    const ROWS: usize = 8192;
    let slices: Vec<RecordBatch> = batches
        .iter()
        .flat_map(|b| {
            (0..b.num_rows())
                .step_by(ROWS)
                .map(move |start| own_string_views(&b.slice(start, ROWS.min(b.num_rows() - start))))
        })
        .collect();
    if slices.is_empty() {
        return vec![batches];
    }
    // Contiguous runs of slices per partition.
    let per_partition = slices.len().div_ceil(partitions.max(1));
    slices
        .chunks(per_partition)
        .map(|chunk| chunk.to_vec())
        .collect()
}

/// `batch` with its string-view columns holding only their own strings. A view array
/// shares its data buffers with every array taken or filtered from it, and memory
/// accounting counts a shared buffer whole: without this, each 8,192-row slice of a
/// helper (and each batch a join or filter makes of it) is charged at the whole
/// helper's size, and under `--memory-limit` a merge of them asks for hundreds of MB.
fn own_string_views(batch: &RecordBatch) -> RecordBatch {
    use datafusion::arrow::array::{ArrayRef, AsArray};
    use datafusion::arrow::datatypes::DataType;
    let columns: Vec<ArrayRef> = batch
        .columns()
        .iter()
        .map(|c| match c.data_type() {
            DataType::Utf8View => Arc::new(c.as_string_view().gc()) as ArrayRef,
            DataType::BinaryView => Arc::new(c.as_binary_view().gc()) as ArrayRef,
            _ => c.clone(),
        })
        .collect();
    RecordBatch::try_new(batch.schema(), columns).expect("the same columns")
}

/// DataFusion in this process, with the engine settings applied.
fn local_context(engine: &EngineOptions, scratch: &std::path::Path) -> Result<SessionContext> {
    let (config, runtime) = config_and_runtime(engine)?;
    let spill = scratch.join("spill");
    std::fs::create_dir_all(&spill).at(&spill)?;
    let runtime = runtime.with_temp_file_path(spill);
    let ctx = SessionContext::new_with_config_rt(config, runtime.build_arc()?);
    ctx.register_udaf(crate::first_by::first_by());
    Ok(ctx)
}

/// DataFusion 55 plans some of revalign's queries wrongly with a single partition
/// (attribution_journey fails its own SanityCheckPlan: a UNION ALL whose branches
/// hold different constants loses their order), so queries are always planned with at
/// least two partitions. `--threads 1` still uses one core: the partitions run on the
/// async runtime's threads, which `--threads` sets (src/main.rs).
pub const MIN_PARTITIONS: usize = 2;

fn config_and_runtime(engine: &EngineOptions) -> Result<(SessionConfig, RuntimeEnvBuilder)> {
    // DataFusion settings may be tuned with DATAFUSION_* environment variables
    // (e.g. DATAFUSION_EXECUTION_BATCH_SIZE); flags below override them.
    let mut config = SessionConfig::from_env()?.with_information_schema(true);
    if let Some(threads) = engine.threads.filter(|t| *t > MAX_THREADS) {
        return Err(Error::Usage(format!(
            "--threads {threads}: at most {MAX_THREADS}"
        )));
    }
    let partitions = engine.threads.unwrap_or(config.target_partitions());
    config = config.with_target_partitions(partitions.max(MIN_PARTITIONS));
    // One shared hash table for build sides up to 64 MiB (DataFusion's default: 1 MiB,
    // 128K rows), not a repartition of both sides: on few cores that is faster, and
    // the probe side keeps its order, so attribution_credit's rows, read in grain order
    // from attribution_journey, reach the writer without a sort.
    let optimizer = &mut config.options_mut().optimizer;
    if std::env::var_os("DATAFUSION_OPTIMIZER_HASH_JOIN_SINGLE_PARTITION_THRESHOLD").is_none() {
        optimizer.hash_join_single_partition_threshold = 64 << 20;
    }
    if std::env::var_os("DATAFUSION_OPTIMIZER_HASH_JOIN_SINGLE_PARTITION_THRESHOLD_ROWS").is_none()
    {
        optimizer.hash_join_single_partition_threshold_rows = 4 << 20;
    }
    let mut runtime = RuntimeEnvBuilder::new();
    if let Some(limit) = engine.memory_limit {
        // Fair: the spilling operators (sorts, aggregates) share the memory the
        // non-spilling ones (hash join build sides) leave, instead of the first sort
        // taking it all and a join in the same plan failing. The tracking wrapper names
        // the largest consumers when the pool runs out.
        let pool = TrackConsumersPool::new(
            FairSpillPool::new(limit),
            std::num::NonZeroUsize::new(3).expect("non-zero"),
        );
        runtime = runtime.with_memory_pool(Arc::new(pool));
        // Hash joins cannot spill in this DataFusion version. Sort-merge joins could,
        // but with join filters they panic in 55.2 (apache/datafusion#18787), so the
        // pool must hold the largest hash-join build side (docs/benchmarks.md).
        // Each sort reserves this much up front for merging its spills; the default
        // (10 MiB per sort and partition) starves small pools.
        config.options_mut().execution.sort_spill_reservation_bytes = 1 << 20;
    }
    Ok((config, runtime))
}

/// One exchange table as an uncompressed Parquet file (written once, read once or
/// twice, deleted with the folder: speed over size).
fn write_exchange_file(
    path: &std::path::Path,
    schema: &SchemaRef,
    batches: &[RecordBatch],
) -> Result<()> {
    let props = datafusion::parquet::file::properties::WriterProperties::default();
    let mut sink = crate::parquet_file::ParquetSink::create(path, schema.clone(), props)?;
    for batch in batches {
        sink.write(batch.clone())?;
    }
    sink.close()
}

#[cfg(feature = "ballista")]
async fn ballista_session(engine: &EngineOptions, options: &BallistaOptions) -> Result<Session> {
    use ballista::prelude::{SessionConfigExt, SessionContextExt};
    use datafusion::execution::SessionStateBuilder;

    if engine.memory_limit.is_some() || engine.spill_dir.is_some() {
        return Err(Error::Usage(
            "--memory-limit and --spill-dir apply to the local engine; on Ballista, memory \
             and spilling are set on the executors"
                .into(),
        ));
    }
    // Absolute paths: the executors resolve them, not this process.
    let parent = match &options.exchange_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).at(dir)?;
            std::path::absolute(dir).at(dir)?
        }
        None => std::env::temp_dir(),
    };
    let (config, _) = config_and_runtime(engine)?;
    let mut config = config.upgrade_for_ballista();
    if let Some(threads) = engine.threads {
        config = config.with_ballista_standalone_parallelism(threads.max(1));
    }
    let state = SessionStateBuilder::new()
        .with_config(config)
        .with_default_features()
        .build();
    let (ctx, description) = match &options.scheduler {
        None => (
            SessionContext::standalone_with_state(state).await?,
            "ballista (standalone)".to_string(),
        ),
        Some(url) => (
            SessionContext::remote_with_state(url, state)
                .await
                .map_err(|e| {
                    Error::Engine(format!("cannot use the Ballista scheduler {url}: {e}"))
                })?,
            format!("ballista {url}"),
        ),
    };
    // revalign's functions become DataFusion's own in the client's optimizer, so the
    // scheduler and executors need nothing but DataFusion's.
    ctx.register_udaf(crate::first_by::first_by_as_first_value());
    Ok(Session {
        ctx,
        exchange: Exchange::new(&parent)?,
        remote: true,
        description,
    })
}

/// `revalign executor`: where the executor listens and which scheduler it joins.
#[cfg(feature = "ballista")]
#[derive(Debug, Clone, clap::Args)]
pub struct ExecutorArgs {
    #[arg(long, default_value = "127.0.0.1")]
    pub scheduler_host: String,
    #[arg(long, default_value_t = 50050)]
    pub scheduler_port: u16,
    #[arg(long, default_value = "127.0.0.1")]
    pub bind_host: String,
    /// Arrow Flight port (shuffle data).
    #[arg(long, default_value_t = 50051)]
    pub bind_port: u16,
    #[arg(long, default_value_t = 50052)]
    pub bind_grpc_port: u16,
    /// Concurrent tasks (default: the number of cores).
    #[arg(long)]
    pub vcores: Option<usize>,
    /// Folder for shuffle files.
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
}

/// Run a Ballista executor until it is stopped. The stock `ballista-executor` 55.0
/// binary decodes plans with a function registry that lacks DataFusion's nested
/// (array) functions; this one takes the registry of a default DataFusion session.
#[cfg(feature = "ballista")]
pub async fn run_executor(args: ExecutorArgs) -> Result<()> {
    use ballista_core::registry::BallistaFunctionRegistry;
    use ballista_executor::executor_process::{start_executor_process, ExecutorProcessConfig};
    use datafusion::execution::SessionStateBuilder;

    let state = SessionStateBuilder::new().with_default_features().build();
    let mut config = ExecutorProcessConfig {
        scheduler_host: args.scheduler_host,
        scheduler_port: args.scheduler_port,
        bind_host: args.bind_host.clone(),
        external_host: Some(args.bind_host),
        port: args.bind_port,
        grpc_port: args.bind_grpc_port,
        scheduler_connect_timeout_seconds: 30,
        work_dir: args.work_dir.map(|d| d.display().to_string()),
        override_function_registry: Some(Arc::new(BallistaFunctionRegistry::from(&state))),
        ..Default::default()
    };
    if let Some(vcores) = args.vcores {
        config.vcores = vcores.max(1);
    }
    start_executor_process(Arc::new(config))
        .await
        .map_err(|e| Error::Engine(format!("Ballista executor: {e}")))
}

#[cfg(not(feature = "ballista"))]
async fn ballista_session(_: &EngineOptions, _: &BallistaOptions) -> Result<Session> {
    Err(Error::Usage(
        "this build of revalign has no Ballista support: build it with the `ballista` \
         cargo feature (on by default)"
            .into(),
    ))
}

/// The start of the message of a refused (not read-only) statement.
pub const READ_ONLY: &str = "SQL here is read-only";

/// Plan and run user-supplied SQL read-only: one query (SELECT, WITH, VALUES, EXPLAIN)
/// and nothing that creates, changes or writes anything (no DDL such as
/// `CREATE EXTERNAL TABLE` or `CREATE VIEW`, no DML such as `INSERT` or
/// `COPY ... TO 'file'`, no statements such as `SET`). Every SQL entry point a user
/// controls goes through here (query files, chart and scorecard SQL, `revalign
/// query`, staging SQL); revalign's own statements (views it registers) do not.
pub async fn read_only_sql(
    ctx: &datafusion::prelude::SessionContext,
    sql: &str,
) -> datafusion::error::Result<datafusion::dataframe::DataFrame> {
    use datafusion::error::DataFusionError;
    let plan = ctx.state().create_logical_plan(sql).await?;
    datafusion::prelude::SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false)
        .verify_plan(&plan)
        .map_err(|e| {
            let why = match e {
                DataFusionError::Plan(m) => m,
                e => e.to_string(),
            };
            DataFusionError::Plan(format!(
                "{READ_ONLY}: only a query (SELECT, WITH, VALUES, EXPLAIN) may run, nothing \
                 that creates, changes or writes tables or files ({why})"
            ))
        })?;
    ctx.execute_logical_plan(plan).await
}

/// Whether `e` is [`read_only_sql`] refusing a statement.
pub fn is_read_only_refusal(e: &datafusion::error::DataFusionError) -> bool {
    matches!(e, datafusion::error::DataFusionError::Plan(m) if m.starts_with(READ_ONLY))
}
