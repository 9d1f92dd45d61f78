//! Runs the plan's steps (queries and model steps, `crate::plan`) over the inputs.
//!
//! Each result is materialised once and registered under its name for the steps after
//! it; published results stream into their output files in the order of their grain.
//! A step the plan marks as skipped (absent inputs, unmet needs) gets a report saying
//! why instead of a result.
//!
//! Inputs are seen "as of" the end of the report month, by each table's `as_of` rule in
//! `schema.rs`: views over the loaded tables that drop later rows and reopen deals
//! closed later, or (the large event tables) a filter applied once at registration.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::physical_plan::execute_stream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use futures::{StreamExt, TryStreamExt};
use serde::Serialize;

use crate::config::{Month, Params};
use crate::engine::{read_only_sql, Session};
use crate::error::{Error, Result};
use crate::load::LoadedData;
use crate::output::Staged;
use crate::plan::{Plan, Skip};
use crate::query::{check_columns, Query};

/// The rows of `batch` whose timestamp `column` is before the end of `month`.
fn before(batch: &RecordBatch, column: &str, month: Month) -> Result<RecordBatch> {
    use datafusion::arrow::array::{Array, Scalar, TimestampMicrosecondArray};
    use datafusion::arrow::compute::{filter_record_batch, kernels::cmp::lt};
    let end = crate::config::date_to_days(month.next().first_day()) as i64 * 86_400_000_000;
    let end = Scalar::new(TimestampMicrosecondArray::from(vec![end]).with_timezone("UTC"));
    let ts = batch
        .column_by_name(column)
        .expect("canonical timestamp column");
    let mut keep = lt(ts, &end)?;
    // NULL timestamps are rejected at load; treat any as not seen.
    if keep.null_count() > 0 {
        keep = datafusion::arrow::compute::prep_null_mask_filter(&keep);
    }
    if keep.true_count() == batch.num_rows() {
        return Ok(batch.clone());
    }
    Ok(filter_record_batch(batch, &keep)?)
}

/// Register the loaded tables. With `as_of`, the canonical names are as-of views for
/// the report month, `params` is registered, and so is `coverage` (returned: what
/// these inputs can support); without, the tables are seen whole.
pub async fn register_inputs(
    session: &Session,
    loaded: &LoadedData,
    as_of: Option<(Month, &Params)>,
) -> Result<crate::coverage::Coverage> {
    if let Some((month, params)) = as_of {
        let batch = params.to_batch(month)?;
        // Each query's plan reads the parameters as constants, not through a join.
        let rule = crate::inline_params::InlineParams::new("params", &batch)?;
        session
            .ctx
            .remove_optimizer_rule(crate::inline_params::RULE_NAME);
        session.ctx.add_optimizer_rule(std::sync::Arc::new(rule));
        session
            .register("params", batch.schema(), vec![batch])
            .await?;
    }
    let models = crate::config::attribution_models_batch()?;
    session
        .register("attribution_models", models.schema(), vec![models])
        .await?;
    // Absent optional tables are seen as empty, so a query may read them; outputs that
    // need their rows declare `-- requires:` and are skipped instead.
    for name in &loaded.absent {
        let spec = crate::schema::table(name).expect("canonical table");
        session.register(name, spec.schema(), vec![]).await?;
    }
    let mut on_disk_after_coverage = None;
    for (name, table) in &loaded.tables {
        let batch = table.batch.clone();
        // The event tables are the largest and read by many queries: filter them once
        // here (rows at or after the report end are not seen) instead of in a view that
        // every query would evaluate again.
        if let (Some((month, _)), Some(column)) = (as_of, table.spec.as_of.drop_from_report_end) {
            let batch = before(&batch, column, month)?;
            if *name == "touches" {
                // By far the largest table: read from a scratch Parquet file by each
                // query rather than held in memory for the whole run; in memory until
                // coverage has counted it (the rows are in memory then anyway).
                on_disk_after_coverage = Some(batch.clone());
            }
            session.register(name, batch.schema(), vec![batch]).await?;
            continue;
        }
        match (as_of, table.spec.as_of.view_sql) {
            (Some(_), Some(sql)) => {
                session
                    .register(&format!("input_{name}"), batch.schema(), vec![batch])
                    .await?;
                session.register_view(name, sql).await?;
            }
            _ => session.register(name, batch.schema(), vec![batch]).await?,
        }
    }
    if as_of.is_none() {
        return Ok(crate::coverage::Coverage::default());
    }
    let coverage = crate::coverage::Coverage::compute(&session.ctx, &loaded.absent).await?;
    if let Some(batch) = on_disk_after_coverage {
        session
            .register_on_disk("touches", batch.schema(), vec![batch])
            .await?;
    }
    let batch = coverage.to_batch()?;
    session
        .register("coverage", batch.schema(), vec![batch])
        .await?;
    Ok(coverage)
}

/// What happened to one query.
#[derive(Debug, Clone, Serialize)]
pub struct StageReport {
    pub table: String,
    pub file: String,
    pub published: bool,
    /// Rows produced; `None` when skipped.
    pub rows: Option<usize>,
    pub millis: u128,
    /// Input tables whose absence skipped this query.
    pub skipped_for_missing: Vec<String>,
    /// Why the query was skipped ("no `spend` input", "no sales touches"); empty when
    /// it ran.
    pub not_measurable: Vec<String>,
}

/// A query result.
pub struct QueryResult {
    pub query: Query,
    pub rows: usize,
    /// The rows, unless the result was streamed into an output file (the session
    /// reads it from there).
    pub batch: Option<RecordBatch>,
}

/// What to keep of the helper (unpublished) results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Helpers {
    /// Drop each once the last query reading it has run (the monthly job).
    Drop,
    /// Keep them registered in the session (tests and ad-hoc queries read them).
    Keep,
}

/// Run the steps of `plan` in order. `skips` (from [`Plan::skips`]) are the steps the
/// inputs cannot support: each gets a report saying why instead of a result. With
/// [`Helpers::Drop`] a helper result is dropped after its last reader
/// ([`Plan::helper_last_readers`]); published results stream into `outputs` when given.
#[allow(clippy::too_many_arguments)]
pub async fn run_queries(
    session: &Session,
    plan: &Plan,
    skips: &BTreeMap<String, Skip>,
    params: &Params,
    helpers: Helpers,
    mut outputs: Option<&mut Staged>,
    progress: &indicatif::ProgressBar,
) -> Result<(Vec<QueryResult>, Vec<StageReport>)> {
    let mut drop_after: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if helpers == Helpers::Drop {
        for (helper, reader) in plan.helper_last_readers() {
            drop_after.entry(reader).or_default().push(helper);
        }
    }
    let mut results: Vec<QueryResult> = Vec::new();
    let mut reports = Vec::new();
    for query in plan.steps.iter().cloned() {
        progress.set_message(query.name.clone());
        let done_with = drop_after.remove(&query.name).unwrap_or_default();
        if let Some(skip) = skips.get(&query.name) {
            reports.push(StageReport {
                table: query.name.clone(),
                file: query.file.clone(),
                published: query.publish,
                rows: None,
                millis: 0,
                skipped_for_missing: skip.missing.iter().cloned().collect(),
                not_measurable: skip.reasons.clone(),
            });
            drop_helpers(session, &mut results, &done_with)?;
            progress.inc(1);
            continue;
        }
        let started = Instant::now();
        // `RUST_LOG=revalign=debug`: which step a stalled run is in.
        log::debug!("step {} starts", query.name);
        let wrap = |source| Error::Query {
            query: query.name.clone(),
            file: query.file.clone(),
            source,
        };
        let (schema, stream) = match query.model {
            Some(model) => {
                let input = table_batch(session, &query.sql).await.map_err(|e| {
                    Error::QueryGraph(format!(
                        "model `{}` needs table `{}`: {e}",
                        query.name, query.sql
                    ))
                })?;
                check_model_input(&query, &input)?;
                let batch = model(&input, params)?;
                let schema = batch.schema();
                let stream: datafusion::execution::SendableRecordBatchStream =
                    Box::pin(RecordBatchStreamAdapter::new(
                        schema.clone(),
                        futures::stream::iter([Ok(batch)]),
                    ));
                (schema, stream)
            }
            None if query.slices.is_some() && query.publish => {
                sliced_stream(session, &query).await.map_err(|e| match e {
                    Error::DataFusion(source) => wrap(source),
                    e => e,
                })?
            }
            None => {
                explain_analyze(session, &query).await;
                let mut df = read_only_sql(&session.ctx, &query.sql)
                    .await
                    .map_err(wrap)?;
                if query.publish {
                    df = sorted_by_grain(df, &query.grain).map_err(wrap)?;
                } else if !query.ordered.is_empty() {
                    df = sorted_by_grain(df, &query.ordered).map_err(wrap)?;
                }
                check_columns(&query, df.schema().as_arrow())?;
                let plan = df.create_physical_plan().await.map_err(wrap)?;
                let schema = plan.schema();
                (
                    schema,
                    execute_stream(plan, session.ctx.task_ctx()).map_err(wrap)?,
                )
            }
        };
        let (rows, batch) = match (query.publish, outputs.as_deref_mut()) {
            (true, Some(staged)) => {
                let rows = write_output(session, staged, &query, schema, stream)
                    .await
                    .map_err(|e| match e {
                        Error::DataFusion(source) => wrap(source),
                        e => e,
                    })?;
                (rows, None)
            }
            _ => {
                let batches: Vec<RecordBatch> = stream.try_collect().await.map_err(wrap)?;
                let mut batch = concat_batches(&schema, &batches)?;
                drop(batches);
                if query.publish {
                    batch = sort_by_grain(&batch, &query.grain)?;
                }
                session
                    .register_sorted(&query.name, schema, vec![batch.clone()], &query.ordered)
                    .await?;
                (batch.num_rows(), Some(batch))
            }
        };
        reports.push(StageReport {
            table: query.name.clone(),
            file: query.file.clone(),
            published: query.publish,
            rows: Some(rows),
            millis: started.elapsed().as_millis(),
            skipped_for_missing: vec![],
            not_measurable: vec![],
        });
        results.push(QueryResult { query, rows, batch });
        drop_helpers(session, &mut results, &done_with)?;
        progress.inc(1);
    }
    Ok((results, reports))
}

/// For profiling (docs/benchmarks.md): with `REVALIGN_EXPLAIN_ANALYZE=step,...` set,
/// run each named step once more under `EXPLAIN ANALYZE` first and print the plan
/// with its per-operator times and row counts to standard error.
async fn explain_analyze(session: &Session, query: &Query) {
    if !explain_requested(query) {
        return;
    }
    let sql = format!("EXPLAIN ANALYZE {}", query.sql);
    let shown = match read_only_sql(&session.ctx, &sql).await {
        Ok(df) => df.collect().await.and_then(|batches| {
            Ok(datafusion::arrow::util::pretty::pretty_format_batches(&batches)?.to_string())
        }),
        Err(e) => Err(e),
    };
    match shown {
        Ok(text) => eprintln!("EXPLAIN ANALYZE {}:\n{text}", query.name),
        Err(e) => eprintln!("EXPLAIN ANALYZE {} failed: {e}", query.name),
    }
}

/// Whether `REVALIGN_EXPLAIN_ANALYZE` names `query` (a sliced query's first slice plan
/// is printed instead, without running it twice).
fn explain_requested(query: &Query) -> bool {
    std::env::var("REVALIGN_EXPLAIN_ANALYZE")
        .is_ok_and(|names| names.split(',').any(|n| n.trim() == query.name))
}

/// A published query with `-- slices:`, as one stream: for each value of the slice
/// column in ascending order, the query's rows of that value sorted by the grain (the
/// value is the grain's first column, so the stream is in grain order). DataFusion
/// drops the branches of a query that cannot hold the value (a model's rows in the
/// credit ledger), and a slice's plan runs only once the one before is written, so
/// the sort holds one slice.
async fn sliced_stream(
    session: &Session,
    query: &Query,
) -> Result<(SchemaRef, datafusion::execution::SendableRecordBatchStream)> {
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::prelude::{ident, lit};
    let slices = query.slices.as_ref().expect("a sliced query");
    let ctx = &session.ctx;
    let listed = read_only_sql(ctx, &slices.values_sql)
        .await?
        .collect()
        .await?;
    let mut values: Vec<String> = vec![];
    for batch in &listed {
        let column = datafusion::arrow::compute::cast(
            batch.column(0),
            &datafusion::arrow::datatypes::DataType::Utf8,
        )?;
        let column = column.as_string::<i32>();
        values.extend(
            (0..column.len())
                .filter(|&i| column.is_valid(i))
                .map(|i| column.value(i).to_string()),
        );
    }
    values.sort();
    values.dedup();
    let df = read_only_sql(ctx, &query.sql).await?;
    check_columns(query, df.schema().as_arrow())?;
    // Rows outside the listed values would not be written: there must be none.
    let column = ident(&slices.column);
    let outside = df
        .clone()
        .filter(
            column.clone().is_null().or(column
                .clone()
                .in_list(values.iter().map(|v| lit(v.as_str())).collect(), true)),
        )?
        .count()
        .await?;
    if outside > 0 {
        return Err(Error::QueryGraph(format!(
            "{}: {outside} rows have a `{}` outside the values of its `-- slices:` SQL ({})",
            query.file,
            slices.column,
            values.join(", ")
        )));
    }
    let mut plans = Vec::with_capacity(values.len());
    for value in &values {
        let slice = df.clone().filter(column.clone().eq(lit(value.as_str())))?;
        plans.push(
            sorted_by_grain(slice, &query.grain)?
                .create_physical_plan()
                .await?,
        );
    }
    if let (Some(plan), true) = (plans.first(), explain_requested(query)) {
        eprintln!(
            "EXPLAIN {} (first slice):\n{}",
            query.name,
            datafusion::physical_plan::displayable(plan.as_ref()).indent(true)
        );
    }
    // The whole query's plan gives the table's schema (a slice's filter can make a
    // column non-nullable: the file must not say so in one month and not the next).
    let whole = sorted_by_grain(df, &query.grain)?
        .create_physical_plan()
        .await?;
    let schema: SchemaRef = whole.schema();
    if plans.is_empty() {
        // No values: the query has no rows (checked above).
        plans.push(whole);
    }
    let task = ctx.task_ctx();
    let target = schema.clone();
    let batches = futures::stream::iter(plans)
        .flat_map(move |plan| match execute_stream(plan, task.clone()) {
            Ok(stream) => stream.boxed(),
            Err(e) => futures::stream::once(async move { Err(e) }).boxed(),
        })
        .map(move |batch| {
            batch.and_then(|b| {
                RecordBatch::try_new(target.clone(), b.columns().to_vec()).map_err(Into::into)
            })
        });
    Ok((
        schema.clone(),
        Box::pin(RecordBatchStreamAdapter::new(schema, batches)),
    ))
}

/// A model step's input must have the columns and types the model reads: a query
/// replaced with `--queries DIR` fails here, naming what is missing, not in a panic.
fn check_model_input(step: &Query, input: &RecordBatch) -> Result<()> {
    let schema = input.schema();
    let wrong: Vec<String> = step
        .model_input
        .iter()
        .filter(|(name, ty)| {
            schema
                .field_with_name(name)
                .map_or(true, |f| f.data_type() != ty)
        })
        .map(|(name, ty)| format!("{name} ({ty})"))
        .collect();
    if wrong.is_empty() {
        return Ok(());
    }
    Err(Error::QueryGraph(format!(
        "model `{}` reads table `{}`, which lacks or mistypes the columns {} (it has: {})",
        step.name,
        step.sql,
        wrong.join(", "),
        schema
            .fields()
            .iter()
            .map(|f| format!("{} ({})", f.name(), f.data_type()))
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

/// Published rows in the order of the table's grain (ascending, NULLs last), whatever
/// order the query's own plan produces, so reruns write the same bytes. DataFusion
/// sorts (and spills under a memory limit); a query that already orders by its grain
/// needs no second sort.
fn sorted_by_grain(
    df: datafusion::dataframe::DataFrame,
    grain: &[String],
) -> datafusion::error::Result<datafusion::dataframe::DataFrame> {
    let keys: Vec<_> = grain
        .iter()
        .filter(|g| df.schema().has_column_with_unqualified_name(g))
        .map(|g| {
            datafusion::prelude::ident(g).sort(!GRAIN_ORDER.descending, GRAIN_ORDER.nulls_first)
        })
        .collect();
    if keys.is_empty() {
        return Ok(df);
    }
    df.sort(keys)
}

/// Stream a published query's rows into its staged output file, register the file as
/// the query's table, and return the row count. DataFusion 55 sometimes drops a sort
/// it wrongly believes satisfied (roi_maturation's months came out unordered), so the
/// order is checked as the rows pass and, if broken, the table is sorted here and
/// written again.
async fn write_output(
    session: &Session,
    staged: &mut Staged,
    query: &Query,
    schema: SchemaRef,
    mut stream: datafusion::execution::SendableRecordBatchStream,
) -> Result<usize> {
    let mut order = GrainOrder::new(&schema, &query.grain)?;
    let mut writer = staged.table_writer(&query.name, schema)?;
    // Parquet encoding runs on its own thread, so the next batches are computed (and
    // the next slice sorted) meanwhile; the channel holds a few batches at most.
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<RecordBatch>(4);
    let encoder = tokio::task::spawn_blocking(move || {
        while let Some(batch) = receiver.blocking_recv() {
            writer.write(&batch)?;
        }
        writer.finish()
    });
    let mut failed = None;
    while let Some(batch) = stream.next().await {
        let batch = match batch {
            Ok(batch) => batch,
            Err(e) => {
                failed = Some(Error::from(e));
                break;
            }
        };
        if let Err(e) = order.check(&batch) {
            failed = Some(e);
            break;
        }
        if sender.send(batch).await.is_err() {
            // The encoder stopped on an error, which joining it reports.
            break;
        }
    }
    drop(sender);
    let written = encoder
        .await
        .map_err(|e| Error::QueryGraph(format!("writing {}: {e}", query.name)))?;
    if let Some(e) = failed {
        return Err(e);
    }
    let (path, file_schema, rows) = written?;
    session
        .register_output_file(&query.name, &path, file_schema)
        .await?;
    if order.sorted {
        return Ok(rows);
    }
    let batch = sort_by_grain(&table_batch(session, &query.name).await?, &query.grain)?;
    let mut writer = staged.table_writer(&query.name, batch.schema())?;
    writer.write(&batch)?;
    let (path, file_schema, rows) = writer.finish()?;
    session
        .register_output_file(&query.name, &path, file_schema)
        .await?;
    Ok(rows)
}

/// The order of a table's grain columns, as SQL's ORDER BY: ascending, NULLs last.
const GRAIN_ORDER: datafusion::arrow::compute::SortOptions =
    datafusion::arrow::compute::SortOptions {
        descending: false,
        nulls_first: false,
    };

/// Whether rows arrive in grain order (ascending, NULLs last), batch after batch.
struct GrainOrder {
    /// The grain columns' positions and a converter to comparable row bytes.
    columns: Vec<usize>,
    converter: Option<datafusion::arrow::row::RowConverter>,
    last: Option<datafusion::arrow::row::OwnedRow>,
    sorted: bool,
}

impl GrainOrder {
    fn new(schema: &SchemaRef, grain: &[String]) -> Result<GrainOrder> {
        use datafusion::arrow::row::{RowConverter, SortField};
        let columns: Vec<usize> = grain
            .iter()
            .filter_map(|g| schema.index_of(g).ok())
            .collect();
        let fields: Vec<SortField> = columns
            .iter()
            .map(|&i| SortField::new_with_options(schema.field(i).data_type().clone(), GRAIN_ORDER))
            .collect();
        let converter = if fields.is_empty() {
            None
        } else {
            Some(RowConverter::new(fields)?)
        };
        Ok(GrainOrder {
            columns,
            converter,
            last: None,
            sorted: true,
        })
    }

    fn check(&mut self, batch: &RecordBatch) -> Result<()> {
        let Some(converter) = &self.converter else {
            return Ok(());
        };
        if !self.sorted || batch.num_rows() == 0 {
            return Ok(());
        }
        let keys: Vec<_> = self
            .columns
            .iter()
            .map(|&i| batch.column(i).clone())
            .collect();
        let rows = converter.convert_columns(&keys)?;
        let mut previous = self.last.as_ref().map(|r| r.row());
        for row in rows.iter() {
            if previous.is_some_and(|p| p > row) {
                self.sorted = false;
                return Ok(());
            }
            previous = Some(row);
        }
        self.last = previous.map(|r| r.owned());
        Ok(())
    }
}

/// Published rows in the order of the table's grain, whatever order the plan produced
/// (a parallel plan does not always keep a query's ORDER BY), so reruns write the same
/// bytes.
fn sort_by_grain(batch: &RecordBatch, grain: &[String]) -> Result<RecordBatch> {
    use datafusion::arrow::compute::{lexsort_to_indices, take_record_batch, SortColumn};
    // Usually the plan kept the query's ORDER BY: checking is much cheaper than sorting.
    let mut order = GrainOrder::new(&batch.schema(), grain)?;
    order.check(batch)?;
    if order.sorted {
        return Ok(batch.clone());
    }
    let columns: Vec<SortColumn> = grain
        .iter()
        .filter_map(|g| batch.column_by_name(g))
        .map(|c| SortColumn {
            values: c.clone(),
            options: Some(GRAIN_ORDER),
        })
        .collect();
    let indices = lexsort_to_indices(&columns, None)?;
    Ok(take_record_batch(batch, &indices)?)
}

/// The rows of registered table `name`, as one batch.
pub async fn table_batch(session: &Session, name: &str) -> datafusion::error::Result<RecordBatch> {
    let df = session.ctx.table(name).await?;
    let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
    // Partition by partition, in order: the rows come back in the order they were
    // registered (a plain collect interleaves the scan partitions' batches as threads
    // finish, and a model summing or numbering its input in that order, as the Markov
    // chain numbers its states, would differ in the last bits from run to run).
    let batches: Vec<RecordBatch> = df
        .collect_partitioned()
        .await?
        .into_iter()
        .flatten()
        .collect();
    Ok(concat_batches(&schema, &batches)?)
}

/// Forget the unpublished results in `names`: no query left reads them.
fn drop_helpers(session: &Session, results: &mut Vec<QueryResult>, names: &[String]) -> Result<()> {
    for name in names {
        if let Some(i) = results
            .iter()
            .position(|r| &r.query.name == name && !r.query.publish)
        {
            session.deregister(name)?;
            results.remove(i);
        }
    }
    Ok(())
}
