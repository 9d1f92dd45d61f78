//! The run's parameters as constants in every query plan.
//!
//! Queries read parameters from the one-row `params` table with `CROSS JOIN params p`,
//! which keeps the SQL readable and replaceable (`--queries DIR`). Executed as
//! written, that join is a nested-loop join copying every row of the other side into
//! new batches: at 10M touches, whole seconds of copying per query. This optimizer
//! rule replaces such a join with a projection that adds the parameters as literals,
//! and writes those literals into the projection above that reads them, so that
//! DataFusion's later passes fold them (a searched `CASE WHEN p.path_transform = ...`
//! becomes the chosen branch, and the window functions only other branches read are
//! dropped).

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, ScalarValue};
use datafusion::logical_expr::{Expr, Filter, Join, JoinType, LogicalPlan, Projection};
use datafusion::optimizer::{ApplyOrder, OptimizerConfig, OptimizerRule};

/// The rule's name, as DataFusion lists it.
pub const RULE_NAME: &str = "revalign_inline_params";

/// Replaces an inner join without join keys whose one side is a plain scan of the
/// `params` table (one row) with the other side plus the parameter values.
#[derive(Debug)]
pub struct InlineParams {
    table: String,
    values: HashMap<String, ScalarValue>,
}

impl InlineParams {
    /// The rule for table `table` holding `batch`: with any other row count than one
    /// it changes nothing (a join with zero or two rows is not a constant).
    pub fn new(table: &str, batch: &RecordBatch) -> datafusion::common::Result<InlineParams> {
        let mut values = HashMap::new();
        if batch.num_rows() == 1 {
            for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
                values.insert(
                    field.name().clone(),
                    ScalarValue::try_from_array(column, 0)?,
                );
            }
        }
        Ok(InlineParams {
            table: table.to_string(),
            values,
        })
    }

    /// Whether `plan` reads the params table as is: a scan (through aliases and column
    /// selections) without filters, so it yields the one row.
    fn is_params_scan(&self, plan: &LogicalPlan) -> bool {
        match plan {
            LogicalPlan::SubqueryAlias(alias) => self.is_params_scan(&alias.input),
            LogicalPlan::Projection(projection) => {
                projection.expr.iter().all(|e| matches!(e, Expr::Column(_)))
                    && self.is_params_scan(&projection.input)
            }
            LogicalPlan::TableScan(scan) => {
                !self.values.is_empty()
                    && scan.table_name.table() == self.table
                    && scan.table_name.schema().is_none()
                    && scan.filters.is_empty()
                    && scan.fetch.is_none_or(|rows| rows >= 1)
            }
            _ => false,
        }
    }
}

impl OptimizerRule for InlineParams {
    fn name(&self) -> &str {
        RULE_NAME
    }

    fn apply_order(&self) -> Option<ApplyOrder> {
        Some(ApplyOrder::BottomUp)
    }

    fn supports_rewrite(&self) -> bool {
        true
    }

    fn rewrite(
        &self,
        plan: LogicalPlan,
        _config: &dyn OptimizerConfig,
    ) -> datafusion::common::Result<Transformed<LogicalPlan>> {
        let inlined = match &plan {
            LogicalPlan::Join(join) => self.inline(join)?,
            LogicalPlan::Projection(projection) => substitute_literals(projection)?,
            _ => None,
        };
        Ok(match inlined {
            Some(rewritten) => Transformed::yes(rewritten),
            None => Transformed::no(plan),
        })
    }
}

impl InlineParams {
    /// `join` without its params side, or None when it is not such a join.
    fn inline(&self, join: &Join) -> datafusion::common::Result<Option<LogicalPlan>> {
        if join.join_type != JoinType::Inner || !join.on.is_empty() {
            return Ok(None);
        }
        let left_width = join.left.schema().fields().len();
        let (other, params_first) = if self.is_params_scan(&join.right) {
            (join.left.clone(), false)
        } else if self.is_params_scan(&join.left) {
            (join.right.clone(), true)
        } else {
            return Ok(None);
        };
        // The join's columns, in its order: the other side's as they are, the
        // parameters' as literals under the same qualified names.
        let mut exprs = Vec::with_capacity(join.schema.fields().len());
        for (i, (qualifier, field)) in join.schema.iter().enumerate() {
            let from_params = (i < left_width) == params_first;
            if from_params {
                let Some(value) = self.values.get(field.name()) else {
                    return Ok(None);
                };
                exprs.push(
                    Expr::Literal(value.clone(), None)
                        .alias_qualified(qualifier.cloned(), field.name()),
                );
            } else {
                exprs.push(Expr::Column(Column::new(qualifier.cloned(), field.name())));
            }
        }
        let mut rewritten = LogicalPlan::Projection(Projection::try_new(exprs, other)?);
        if let Some(condition) = join.filter.clone() {
            rewritten = LogicalPlan::Filter(Filter::try_new(condition, Arc::new(rewritten))?);
        }
        Ok(Some(rewritten))
    }
}

/// `outer` with the literal columns of the projection under it replaced by their
/// values, or None when it reads none. DataFusion merges two projections only when the
/// upper one reads each non-column expression of the lower once, so a parameter read
/// twice (as `path_transform` is) would otherwise stay a column and never fold.
fn substitute_literals(outer: &Projection) -> datafusion::common::Result<Option<LogicalPlan>> {
    let LogicalPlan::Projection(inner) = outer.input.as_ref() else {
        return Ok(None);
    };
    let mut literals = HashMap::new();
    for (expr, (qualifier, field)) in inner.expr.iter().zip(inner.schema.iter()) {
        let value = match expr {
            Expr::Alias(alias) => alias.expr.as_ref(),
            other => other,
        };
        if matches!(value, Expr::Literal(..)) {
            literals.insert(Column::new(qualifier.cloned(), field.name()), value.clone());
        }
    }
    if literals.is_empty() {
        return Ok(None);
    }
    let mut changed = false;
    let mut exprs = Vec::with_capacity(outer.expr.len());
    for (expr, (qualifier, field)) in outer.expr.iter().zip(outer.schema.iter()) {
        let rewritten = expr.clone().transform_up(|e| {
            Ok(match &e {
                Expr::Column(column) if literals.contains_key(column) => {
                    Transformed::yes(literals[column].clone())
                }
                _ => Transformed::no(e),
            })
        })?;
        if !rewritten.transformed {
            exprs.push(expr.clone());
            continue;
        }
        changed = true;
        // The output keeps its name: an aliased expression keeps its alias, and
        // anything else is named as it was.
        exprs.push(match rewritten.data {
            aliased @ Expr::Alias(_) => aliased,
            other => other.alias_qualified(qualifier.cloned(), field.name()),
        });
    }
    if !changed {
        return Ok(None);
    }
    Ok(Some(LogicalPlan::Projection(Projection::try_new(
        exprs,
        outer.input.clone(),
    )?)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{ArrayRef, AsArray, Int64Array};
    use datafusion::arrow::datatypes::Int64Type;
    use datafusion::prelude::SessionContext;

    fn table(values: Vec<i64>, name: &str) -> RecordBatch {
        RecordBatch::try_from_iter([(name, Arc::new(Int64Array::from(values)) as ArrayRef)])
            .unwrap()
    }

    /// Results of `sql` and whether its optimized plan still joins.
    async fn run(params: RecordBatch, sql: &str) -> (Vec<i64>, bool) {
        let ctx = SessionContext::new();
        ctx.add_optimizer_rule(Arc::new(InlineParams::new("params", &params).unwrap()));
        ctx.register_batch("params", params).unwrap();
        ctx.register_batch("t", table(vec![1, 2, 30], "x")).unwrap();
        let df = ctx.sql(sql).await.unwrap();
        let plan = df.clone().into_optimized_plan().unwrap();
        let joins = format!("{}", plan.display_indent()).contains("Join");
        let mut values = vec![];
        for batch in df.collect().await.unwrap() {
            values.extend(batch.column(0).as_primitive::<Int64Type>().values().iter());
        }
        values.sort_unstable();
        (values, joins)
    }

    /// The one-row params table is read as constants, in expressions and in
    /// conditions, on either side of the join; the results are the join's.
    #[tokio::test]
    async fn a_cross_join_with_params_becomes_constants() {
        let sql = "SELECT t.x + p.k AS y FROM t CROSS JOIN params p WHERE t.x < p.k";
        assert_eq!(run(table(vec![10], "k"), sql).await, (vec![11, 12], false));
        let sql = "SELECT p.k * t.x AS y FROM params p CROSS JOIN t";
        assert_eq!(
            run(table(vec![10], "k"), sql).await,
            (vec![10, 20, 300], false)
        );
    }

    /// A parameter read twice in one expression list is folded too: the plan keeps
    /// the branch it selects and reads no parameter column. (DataFusion folds a
    /// searched `CASE WHEN p.k = 10`, not the simple form `CASE p.k WHEN 10`.)
    #[tokio::test]
    async fn a_parameter_read_twice_is_folded() {
        let sql = "SELECT CASE WHEN p.k = 10 THEN t.x ELSE t.x * 2 END AS y, p.k + 1 AS z, p.k \
                   FROM t CROSS JOIN params p";
        assert_eq!(
            run(table(vec![10], "k"), sql).await,
            (vec![1, 2, 30], false)
        );
        assert_eq!(run(table(vec![3], "k"), sql).await, (vec![2, 4, 60], false));
        let ctx = SessionContext::new();
        let params = table(vec![10], "k");
        ctx.add_optimizer_rule(Arc::new(InlineParams::new("params", &params).unwrap()));
        ctx.register_batch("params", params).unwrap();
        ctx.register_batch("t", table(vec![1, 2, 30], "x")).unwrap();
        let df = ctx.sql(sql).await.unwrap();
        let plan = format!(
            "{}",
            df.clone().into_optimized_plan().unwrap().display_indent()
        );
        assert!(!plan.contains("p.k") && !plan.contains("CASE"), "{plan}");
        let names: Vec<String> = df
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(names, ["y", "z", "k"]);
        let batches = df.collect().await.unwrap();
        assert_eq!(
            batches[0].column(1).as_primitive::<Int64Type>().value(0),
            11
        );
        assert_eq!(
            batches[0].column(2).as_primitive::<Int64Type>().value(0),
            10
        );
    }

    /// A params table of two rows is no constant: the join stays.
    #[tokio::test]
    async fn two_rows_are_joined_as_written() {
        let sql = "SELECT t.x + p.k AS y FROM t CROSS JOIN params p WHERE t.x < p.k";
        assert_eq!(
            run(table(vec![10, 2], "k"), sql).await,
            (vec![3, 11, 12], true)
        );
    }
}
