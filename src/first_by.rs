//! `first_by(value, key, tiebreak)`: an aggregate giving the value of a group's row
//! with the least (key, tiebreak), NULLs last.
//!
//! It is `first_value(value ORDER BY key, tiebreak)` for a text value, an integer or
//! timestamp key and a text tiebreak, as DuckDB's `arg_min` would compute it.
//! DataFusion's `first_value` copies every candidate row's ordering columns into
//! scalar values, which for a text tiebreak is one string allocation per row and
//! group: on 9M touches (a contact's first marketing touch) that aggregate was slower
//! than DuckDB's whole query. This one compares in place and copies a row's strings
//! only when it becomes a group's first.

use std::cmp::Ordering;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Int64Array, LargeStringArray, StringArray,
    StringViewBuilder,
};
use datafusion::arrow::buffer::ScalarBuffer;
use datafusion::arrow::datatypes::{
    DataType, Date64Type, Field, FieldRef, Int64Type, TimeUnit, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType,
};
use datafusion::common::{plan_err, Result, ScalarValue};
use datafusion::functions_aggregate::first_last::first_value_udaf;
use datafusion::logical_expr::expr::{AggregateFunction, AggregateFunctionParams};
use datafusion::logical_expr::function::{
    AccumulatorArgs, AggregateFunctionSimplification, StateFieldsArgs,
};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, EmitTo, Expr, GroupsAccumulator, Signature,
    Volatility,
};

/// The `first_by` aggregate, to register with a local session.
pub fn first_by() -> AggregateUDF {
    AggregateUDF::from(FirstBy {
        signature: Signature::user_defined(Volatility::Immutable),
        as_first_value: false,
    })
}

/// `first_by` for a Ballista session: the client's optimizer rewrites it into
/// `first_value(value ORDER BY key, tiebreak)`, so that the plan it sends names only
/// DataFusion's own functions, which any Ballista scheduler and executor can decode.
pub fn first_by_as_first_value() -> AggregateUDF {
    AggregateUDF::from(FirstBy {
        signature: Signature::user_defined(Volatility::Immutable),
        as_first_value: true,
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct FirstBy {
    signature: Signature,
    as_first_value: bool,
}

impl AggregateUDFImpl for FirstBy {
    fn name(&self) -> &str {
        "first_by"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    /// Text value and tiebreak (any string type, read as it is); the key an integer,
    /// date or timestamp (timestamps and Date64 read as their 64-bit integer, the
    /// others cast to BIGINT, which keeps their order). Any other key is refused here,
    /// not at run time.
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [value, key, tiebreak] = arg_types else {
            return plan_err!("first_by(value, key, tiebreak) takes three arguments");
        };
        let text = |t: &DataType| match t {
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => t.clone(),
            _ => DataType::Utf8View,
        };
        let key = match key {
            DataType::Int64 | DataType::Timestamp(..) | DataType::Date64 => key.clone(),
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::Date32
            | DataType::Null => DataType::Int64,
            other => {
                return plan_err!(
                    "first_by(value, key, tiebreak): the key must be an integer, a date or a \
                     timestamp, not {other}"
                )
            }
        };
        Ok(vec![text(value), key, text(tiebreak)])
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(arg_types[0].clone())
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(OneGroup(Groups::new(&args))))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let field = |name: &str, data_type: &DataType, nullable: bool| {
            Arc::new(Field::new(
                format_state_name(args.name, name),
                data_type.clone(),
                nullable,
            ))
        };
        Ok(vec![
            field("value", args.return_field.data_type(), true),
            field("key", &DataType::Int64, true),
            field("tiebreak", args.input_fields[2].data_type(), true),
            field("seen", &DataType::Boolean, false),
        ])
    }

    fn simplify(&self) -> Option<AggregateFunctionSimplification> {
        if !self.as_first_value {
            return None;
        }
        Some(Box::new(|call: AggregateFunction, _| {
            let AggregateFunctionParams {
                mut args, filter, ..
            } = call.params;
            let tiebreak = args.pop().expect("three arguments");
            let key = args.pop().expect("three arguments");
            Ok(Expr::AggregateFunction(AggregateFunction::new_udf(
                first_value_udaf(),
                args,
                false,
                filter,
                vec![key.sort(true, false), tiebreak.sort(true, false)],
                None,
            )))
        }))
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(Groups::new(&args)))
    }
}

/// A group's first row so far.
#[derive(Debug, Default, Clone)]
struct First {
    seen: bool,
    key: Option<i64>,
    tiebreak: Option<String>,
    value: Option<String>,
}

/// NULLs last.
fn cmp_nulls_last<T: Ord + ?Sized>(a: Option<&T>, b: Option<&T>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => a.cmp(b),
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
    }
}

/// Sets `slot` to `text`, reusing its buffer; returns the change in heap bytes.
fn assign(slot: &mut Option<String>, text: Option<&str>) -> isize {
    let before = slot.as_ref().map_or(0, String::capacity);
    match (slot.as_mut(), text) {
        (Some(buffer), Some(text)) => {
            buffer.clear();
            buffer.push_str(text);
        }
        (_, text) => *slot = text.map(str::to_string),
    }
    slot.as_ref().map_or(0, String::capacity) as isize - before as isize
}

/// A text column of any string type.
fn text_at(array: &dyn Array, row: usize) -> Option<&str> {
    if !array.is_valid(row) {
        return None;
    }
    Some(match array.data_type() {
        DataType::Utf8 => array.as_string::<i32>().value(row),
        DataType::LargeUtf8 => array.as_string::<i64>().value(row),
        _ => array.as_string_view().value(row),
    })
}

/// A key column's 64-bit values (coerce_types admits only such types).
fn key_values(array: &dyn Array) -> &ScalarBuffer<i64> {
    match array.data_type() {
        DataType::Timestamp(TimeUnit::Second, _) => {
            array.as_primitive::<TimestampSecondType>().values()
        }
        DataType::Timestamp(TimeUnit::Millisecond, _) => {
            array.as_primitive::<TimestampMillisecondType>().values()
        }
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            array.as_primitive::<TimestampMicrosecondType>().values()
        }
        DataType::Timestamp(TimeUnit::Nanosecond, _) => {
            array.as_primitive::<TimestampNanosecondType>().values()
        }
        DataType::Date64 => array.as_primitive::<Date64Type>().values(),
        _ => array.as_primitive::<Int64Type>().values(),
    }
}

/// Every group's first row.
#[derive(Debug)]
struct Groups {
    /// The value's type (the result's) and the tiebreak's: the state keeps them.
    value_type: DataType,
    tiebreak_type: DataType,
    firsts: Vec<First>,
    heap_bytes: usize,
}

impl Groups {
    fn new(args: &AccumulatorArgs) -> Groups {
        Groups {
            value_type: args.return_field.data_type().clone(),
            tiebreak_type: args.expr_fields[2].data_type().clone(),
            firsts: vec![],
            heap_bytes: 0,
        }
    }

    /// Folds rows into their groups: `columns` are value, key, tiebreak (and, for
    /// partial states, seen: rows of groups that saw nothing are skipped).
    fn fold(
        &mut self,
        columns: &[ArrayRef],
        group_indices: &[usize],
        filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) {
        if self.firsts.len() < total_num_groups {
            self.firsts.resize(total_num_groups, First::default());
        }
        let (value, tiebreak) = (columns[0].as_ref(), columns[2].as_ref());
        let (key, keys) = (columns[1].as_ref(), key_values(columns[1].as_ref()));
        let seen = columns.get(3).map(|c| c.as_boolean());
        let mut heap = self.heap_bytes as isize;
        for (row, &group) in group_indices.iter().enumerate() {
            if filter.is_some_and(|f| !f.is_valid(row) || !f.value(row)) {
                continue;
            }
            if seen.is_some_and(|s| !s.value(row)) {
                continue;
            }
            let row_key = key.is_valid(row).then(|| keys[row]);
            let row_tiebreak = || text_at(tiebreak, row);
            let first = &mut self.firsts[group];
            let earlier = !first.seen
                || match cmp_nulls_last(row_key.as_ref(), first.key.as_ref()) {
                    Ordering::Less => true,
                    Ordering::Greater => false,
                    Ordering::Equal => {
                        cmp_nulls_last(row_tiebreak(), first.tiebreak.as_deref()) == Ordering::Less
                    }
                };
            if earlier {
                first.seen = true;
                first.key = row_key;
                heap += assign(&mut first.tiebreak, row_tiebreak());
                heap += assign(&mut first.value, text_at(value, row));
            }
        }
        self.heap_bytes = heap.max(0) as usize;
    }

    fn take(&mut self, emit_to: EmitTo) -> Vec<First> {
        let taken = emit_to.take_needed(&mut self.firsts);
        let freed: usize = taken
            .iter()
            .map(|f| {
                f.tiebreak.as_ref().map_or(0, String::capacity)
                    + f.value.as_ref().map_or(0, String::capacity)
            })
            .sum();
        self.heap_bytes = self.heap_bytes.saturating_sub(freed);
        taken
    }

    /// The partial state of `firsts`: value, key, tiebreak, seen.
    fn state_arrays(&self, firsts: &[First]) -> Vec<ArrayRef> {
        vec![
            texts(&self.value_type, firsts.iter().map(|f| f.value.as_deref())),
            Arc::new(firsts.iter().map(|f| f.key).collect::<Int64Array>()),
            texts(
                &self.tiebreak_type,
                firsts.iter().map(|f| f.tiebreak.as_deref()),
            ),
            Arc::new(BooleanArray::from(
                firsts.iter().map(|f| f.seen).collect::<Vec<_>>(),
            )),
        ]
    }
}

/// Texts as an array of `data_type` (a string type).
fn texts<'a>(data_type: &DataType, values: impl Iterator<Item = Option<&'a str>>) -> ArrayRef {
    match data_type {
        DataType::Utf8 => Arc::new(values.collect::<StringArray>()),
        DataType::LargeUtf8 => Arc::new(values.collect::<LargeStringArray>()),
        _ => {
            let mut builder = StringViewBuilder::new();
            values.for_each(|v| builder.append_option(v));
            Arc::new(builder.finish())
        }
    }
}

impl GroupsAccumulator for Groups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.fold(&values[..3], group_indices, opt_filter, total_num_groups);
        Ok(())
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let firsts = self.take(emit_to);
        Ok(texts(
            &self.value_type,
            firsts.iter().map(|f| f.value.as_deref()),
        ))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let firsts = self.take(emit_to);
        Ok(self.state_arrays(&firsts))
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.fold(values, group_indices, None, total_num_groups);
        Ok(())
    }

    /// Each input row as a partial state of its own (DataFusion skips partial
    /// aggregation when it reduces little).
    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let seen: BooleanArray = (0..values[0].len())
            .map(|row| Some(opt_filter.is_none_or(|f| f.is_valid(row) && f.value(row))))
            .collect();
        Ok(vec![
            values[0].clone(),
            values[1].clone(),
            values[2].clone(),
            Arc::new(seen),
        ])
    }

    fn size(&self) -> usize {
        self.firsts.capacity() * std::mem::size_of::<First>() + self.heap_bytes
    }
}

/// The same for one group (no GROUP BY).
#[derive(Debug)]
struct OneGroup(Groups);

impl OneGroup {
    fn fold(&mut self, columns: &[ArrayRef]) {
        let rows = columns.first().map_or(0, |c| c.len());
        self.0.fold(columns, &vec![0; rows], None, 1);
    }
}

impl Accumulator for OneGroup {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.fold(&values[..3]);
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.fold(states);
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let mut firsts = self.0.take(EmitTo::All);
        if firsts.is_empty() {
            firsts.push(First::default());
        }
        let arrays = self.0.state_arrays(&firsts);
        arrays
            .iter()
            .map(|a| ScalarValue::try_from_array(a, 0))
            .collect()
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let value = self.0.firsts.first().and_then(|f| f.value.as_deref());
        ScalarValue::try_from_array(&texts(&self.0.value_type, std::iter::once(value)), 0)
    }

    fn size(&self) -> usize {
        std::mem::size_of::<Self>() + self.0.size()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::SessionContext;

    /// Each group's value at its least (key, tiebreak), as first_value with that
    /// ORDER BY gives it: ties on the key go to the smaller tiebreak, NULL keys and
    /// tiebreaks come last, and the results are the same on one or many partitions.
    #[tokio::test]
    async fn the_value_at_the_least_key_then_tiebreak() {
        let sql = "SELECT g, first_by(v, k, t) AS f, first_value(v ORDER BY k, t) AS expected \
                   FROM (VALUES ('a', 'x', 5, 't2'), ('a', 'y', 3, 't9'), ('a', 'z', 3, 't1'), \
                                ('b', 'p', NULL, 't1'), ('b', 'q', 7, 't5'), \
                                ('c', 'r', NULL, NULL), ('c', 's', NULL, 't0'), \
                                ('d', NULL, 1, 't1'), ('d', 'w', 2, 't0')) AS r(g, v, k, t) \
                   GROUP BY g ORDER BY g";
        for partitions in [1, 4] {
            let ctx = SessionContext::new_with_config(
                datafusion::prelude::SessionConfig::new().with_target_partitions(partitions),
            );
            ctx.register_udaf(first_by());
            let rows = ctx.sql(sql).await.unwrap().collect().await.unwrap();
            let formatted = datafusion::arrow::util::pretty::pretty_format_batches(&rows)
                .unwrap()
                .to_string();
            let expected = "\
+---+---+----------+
| g | f | expected |
+---+---+----------+
| a | z | z        |
| b | q | q        |
| c | s | s        |
| d |   |          |
+---+---+----------+";
            assert_eq!(formatted, expected);
        }
    }

    /// A text or fractional key is refused when the query is planned, naming the type.
    #[tokio::test]
    async fn a_key_of_another_type_is_refused() {
        let ctx = SessionContext::new();
        ctx.register_udaf(first_by());
        for key in ["'a'", "1.5"] {
            let sql = format!("SELECT first_by(v, {key}, t) FROM (VALUES ('x', 't')) AS r(v, t)");
            let error = ctx.sql(&sql).await.unwrap_err().to_string();
            assert!(
                error.contains("the key must be an integer, a date or a timestamp"),
                "{error}"
            );
        }
    }

    /// The variant for Ballista plans DataFusion's first_value, with the same results.
    #[tokio::test]
    async fn the_ballista_variant_is_first_value() {
        let ctx = SessionContext::new();
        ctx.register_udaf(first_by_as_first_value());
        let sql = "SELECT g, first_by(v, k, t) AS f FROM (VALUES ('a', 'x', 5, 't2'), \
                   ('a', 'y', 3, 't9'), ('a', 'z', 3, 't1'), ('b', 'q', 7, 't5')) AS r(g, v, k, t) \
                   GROUP BY g ORDER BY g";
        let df = ctx.sql(sql).await.unwrap();
        let plan = format!(
            "{}",
            df.clone().into_optimized_plan().unwrap().display_indent()
        );
        assert!(plan.contains("aggr=[[first_value(r.v) ORDER BY"), "{plan}");
        let rows = df.collect().await.unwrap();
        let firsts: Vec<String> = (0..2)
            .map(|r| {
                ScalarValue::try_from_array(rows[0].column(1), r)
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(firsts, ["z", "q"]);
    }

    /// Timestamps order by time; without GROUP BY the single-group accumulator
    /// answers, and an empty input gives NULL.
    #[tokio::test]
    async fn timestamps_and_no_grouping() {
        let ctx = SessionContext::new();
        ctx.register_udaf(first_by());
        let sql = "SELECT first_by(v, ts, id) AS f FROM (VALUES \
                   ('late', TIMESTAMP '2026-03-02 10:00:00', 'a'), \
                   ('early', TIMESTAMP '2026-03-01 10:00:00', 'b')) AS r(v, ts, id)";
        let rows = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        let first = ScalarValue::try_from_array(rows[0].column(0), 0).unwrap();
        assert_eq!(first.to_string(), "early", "the earlier timestamp");
        let sql = "SELECT first_by(v, k, t) AS f FROM (VALUES ('x', 1, 'a')) AS r(v, k, t) \
                   WHERE k > 5";
        let rows = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        assert!(rows[0].column(0).is_null(0));
    }
}
