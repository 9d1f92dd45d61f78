//! Money in several currencies, converted to the reporting currency as it loads.
//!
//! Every query then reads one currency, as it does for a one-currency export, and no
//! query needs to know about rates. The rules (docs/schema.md, "Currencies"):
//!
//! - The reporting currency is the `reporting_currency` parameter. Without it, the
//!   data may hold one currency (or none named) and no `fx_rates`: nothing converts.
//! - A row's `currency` empty means the reporting currency.
//! - The rate in force on a day is the `fx_rates` row of that currency with the latest
//!   `start_date` on or before the day (Salesforce's dated exchange rates work so).
//! - Opportunities convert at the rate on their close date (created date while open);
//!   spend and costs at their month's first day; a subscription is cut at each rate
//!   change between its start and end into pieces with the same `subscription_id`, each
//!   at its own rate, so the MRR read on any day converts at that day's rate.
//! - amount x rate, rounded to the cent, half away from zero.
//! - A row whose currency has no rate in force is rejected (column `currency`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Date32Array, Decimal128Array, RecordBatch, StringArray, UInt32Array,
};
use datafusion::arrow::compute::take_record_batch;
use datafusion::arrow::datatypes::{Date32Type, Decimal128Type, TimestampMicrosecondType};

use super::checks::{fault, strings, Faults};
use super::{LoadedData, LoadedTable};
use crate::config::days_to_date;
use crate::error::{Error, Result};
use crate::schema::{TableSpec, MONEY_MAX_ABS_CENTS, MONEY_PRECISION, MONEY_SCALE, RATE_SCALE};

/// What the reporting currency and the rates are for one load.
#[derive(Debug, Default)]
pub struct Currencies {
    reporting: Option<String>,
    /// Per currency: (start day, rate in units of 1e-12), by start day.
    rates: HashMap<String, Vec<(i32, i128)>>,
}

/// The money column of a table that carries `currency`, and how its rate date is read.
enum Dated {
    /// `closed_at`, else `created_at` (timestamps).
    Opportunity,
    /// The `month` date.
    Month,
    /// From `start_date` to `end_date`, cut at rate changes.
    Period,
}

fn money_of(spec: &TableSpec) -> Option<(&'static str, Dated)> {
    match spec.name {
        "opportunities" => Some(("amount", Dated::Opportunity)),
        "subscriptions" => Some(("mrr", Dated::Period)),
        "spend" | "costs" => Some(("amount", Dated::Month)),
        _ => None,
    }
}

const DAY_MICROS: i64 = 86_400_000_000;

impl Currencies {
    /// The reporting currency (a three-letter code; `None`: the data's own) and the
    /// loaded `fx_rates`, if any.
    pub fn new(reporting: Option<&str>, fx_rates: Option<&LoadedTable>) -> Result<Currencies> {
        let reporting = match reporting.map(str::trim).filter(|r| !r.is_empty()) {
            Some(r) => Some(
                super::convert::parse_currency(r)
                    .map_err(|e| Error::Usage(format!("reporting_currency {r:?}: {e}")))?,
            ),
            None => None,
        };
        let mut rates: HashMap<String, Vec<(i32, i128)>> = HashMap::new();
        if let Some(fx) = fx_rates {
            if reporting.is_none() && fx.batch.num_rows() > 0 {
                return Err(Error::Currency(format!(
                    "{}: exchange rates are given but no reporting currency: set \
                     reporting_currency (e.g. --set reporting_currency=USD or \
                     `reporting_currency = \"USD\"` under [params] in revalign.toml)",
                    fx.stats.sources.join(", ")
                )));
            }
            let currency = strings(&fx.batch, "currency").expect("fx_rates.currency");
            let start = fx.batch.column_by_name("start_date").expect("start_date");
            let start = start.as_primitive::<Date32Type>();
            let rate = fx.batch.column_by_name("rate").expect("rate");
            let rate = rate.as_primitive::<Decimal128Type>();
            for row in 0..fx.batch.num_rows() {
                rates
                    .entry(currency.value(row).to_string())
                    .or_default()
                    .push((start.value(row), rate.value(row)));
            }
            for list in rates.values_mut() {
                list.sort_unstable();
            }
        }
        Ok(Currencies { reporting, rates })
    }

    pub fn reporting(&self) -> Option<&str> {
        self.reporting.as_deref()
    }

    /// The rate of `currency` in force on `day` (1 for the reporting currency).
    fn rate_on(&self, currency: &str, day: i32) -> Option<i128> {
        if Some(currency) == self.reporting.as_deref() {
            return Some(10i128.pow(RATE_SCALE as u32));
        }
        let list = self.rates.get(currency)?;
        let i = list.partition_point(|&(start, _)| start <= day);
        (i > 0).then(|| list[i - 1].1)
    }

    /// The start days of `currency`'s rates after `from` and before `to` (exclusive).
    fn changes_between(&self, currency: &str, from: i32, to: Option<i32>) -> Vec<i32> {
        if Some(currency) == self.reporting.as_deref() {
            return vec![];
        }
        self.rates.get(currency).map_or(vec![], |list| {
            list.iter()
                .map(|&(start, _)| start)
                .filter(|&s| s > from && to.is_none_or(|t| s < t))
                .collect()
        })
    }

    /// The currency of `row` when it needs converting (a named currency other than
    /// the reporting one); `None` without a reporting currency.
    fn foreign<'a>(&self, currency: Option<&'a StringArray>, row: usize) -> Option<&'a str> {
        let reporting = self.reporting.as_deref()?;
        let c = currency.filter(|c| c.is_valid(row))?.value(row);
        (c != reporting).then_some(c)
    }

    /// Faults of rows whose currency has no rate on their date, or whose converted
    /// amount is beyond what money carries.
    pub(super) fn check(&self, spec: &TableSpec, batch: &RecordBatch, faults: &mut Faults) {
        let Some((money, dated)) = money_of(spec) else {
            return;
        };
        if self.reporting.is_none() {
            return;
        }
        let currency = strings(batch, "currency");
        let amounts = batch.column_by_name(money).expect("money column");
        let amounts = amounts.as_primitive::<Decimal128Type>();
        let day_of = rate_day(batch, &dated);
        for row in 0..batch.num_rows() {
            if faults.contains_key(&row) {
                continue;
            }
            let Some(c) = self.foreign(currency, row) else {
                continue;
            };
            let Some(day) = day_of(row) else { continue };
            let Some(rate) = self.rate_on(c, day) else {
                let reason = match self.rates.contains_key(c) {
                    true => format!(
                        "no exchange rate for {c} in force on {} (fx_rates)",
                        days_to_date(day)
                    ),
                    false => format!("no exchange rate for {c} (fx_rates)"),
                };
                fault(faults, row, "currency", reason, c);
                continue;
            };
            // The largest rate a period meets decides whether any piece overflows.
            let mut largest = rate;
            if let Dated::Period = dated {
                let (start, end) = period(batch, row);
                for d in self.changes_between(c, start, end) {
                    largest = largest.max(self.rate_on(c, d).unwrap_or(rate));
                }
            }
            if amounts.is_valid(row) && convert(amounts.value(row), largest).is_none() {
                fault(
                    faults,
                    row,
                    money,
                    format!(
                        "money value too large once converted to {}",
                        self.reporting().unwrap_or("")
                    ),
                    amounts.value_as_string(row),
                );
            }
        }
    }

    /// `batch` (checked, rejects removed) in the reporting currency, and how many rows
    /// of each other currency were converted.
    pub(super) fn convert(
        &self,
        spec: &TableSpec,
        batch: RecordBatch,
    ) -> Result<(RecordBatch, BTreeMap<String, usize>)> {
        let mut converted = BTreeMap::new();
        let (Some((money, dated)), Some(reporting)) = (money_of(spec), self.reporting.as_deref())
        else {
            return Ok((batch, converted));
        };
        let currency = strings(&batch, "currency");
        let foreign: Vec<Option<&str>> = (0..batch.num_rows())
            .map(|row| self.foreign(currency, row))
            .collect();
        let all_reporting = || {
            Arc::new(StringArray::from_iter_values(std::iter::repeat_n(
                reporting,
                batch.num_rows(),
            ))) as ArrayRef
        };
        if foreign.iter().all(Option::is_none) {
            return Ok((
                replace(&batch, &[("currency", all_reporting())])?,
                converted,
            ));
        }
        for c in foreign.iter().flatten() {
            *converted.entry(c.to_string()).or_default() += 1;
        }
        let amounts = batch.column_by_name(money).expect("money column");
        let amounts = amounts.as_primitive::<Decimal128Type>();
        let convert_at = |row: usize, c: &str, day: i32| -> Option<i128> {
            let rate = self.rate_on(c, day).expect("checked: a rate is in force");
            amounts
                .is_valid(row)
                .then(|| convert(amounts.value(row), rate).expect("checked: in range"))
        };
        let day_of = rate_day(&batch, &dated);
        let batch = match dated {
            Dated::Period => {
                // One piece per rate in force between start and end.
                let mut rows = Vec::new();
                let (mut starts, mut ends, mut values) = (Vec::new(), Vec::new(), Vec::new());
                for (row, c) in foreign.iter().enumerate() {
                    let (start, end) = period(&batch, row);
                    let Some(c) = c else {
                        rows.push(row as u32);
                        starts.push(Some(start));
                        ends.push(end);
                        values.push(amounts.is_valid(row).then(|| amounts.value(row)));
                        continue;
                    };
                    let mut from = start;
                    for cut in self
                        .changes_between(c, start, end)
                        .into_iter()
                        .map(Some)
                        .chain([end])
                    {
                        rows.push(row as u32);
                        starts.push(Some(from));
                        ends.push(cut);
                        values.push(convert_at(row, c, from));
                        if let Some(cut) = cut {
                            from = cut;
                        }
                    }
                }
                let taken = take_record_batch(&batch, &UInt32Array::from(rows))?;
                replace(
                    &taken,
                    &[
                        (
                            "start_date",
                            Arc::new(Date32Array::from(starts)) as ArrayRef,
                        ),
                        ("end_date", Arc::new(Date32Array::from(ends))),
                        (money, money_array(values)?),
                        (
                            "currency",
                            Arc::new(StringArray::from_iter_values(std::iter::repeat_n(
                                reporting,
                                taken.num_rows(),
                            ))),
                        ),
                    ],
                )?
            }
            _ => {
                let values = (0..batch.num_rows())
                    .map(|row| match (foreign[row], day_of(row)) {
                        (Some(c), Some(day)) => convert_at(row, c, day),
                        _ => amounts.is_valid(row).then(|| amounts.value(row)),
                    })
                    .collect();
                replace(
                    &batch,
                    &[(money, money_array(values)?), ("currency", all_reporting())],
                )?
            }
        };
        Ok((batch, converted))
    }
}

/// Without a reporting currency, the data must name at most one currency.
pub(super) fn check_one_currency(loaded: &LoadedData) -> Result<()> {
    let mut seen: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for table in loaded.tables.values() {
        if money_of(table.spec).is_none() {
            continue;
        }
        if let Some(c) = strings(&table.batch, "currency") {
            let distinct: BTreeSet<&str> = c.iter().flatten().collect();
            for d in distinct {
                seen.entry(d.to_string()).or_default().push(table.spec.name);
            }
        }
    }
    if seen.len() > 1 {
        let list: Vec<String> = seen
            .iter()
            .map(|(c, tables)| format!("{c} ({})", tables.join(", ")))
            .collect();
        return Err(Error::Currency(format!(
            "money in several currencies: {}; set reporting_currency (e.g. --set \
             reporting_currency={}) and give the rates as an fx_rates table (currency, \
             start_date, rate to the reporting currency)",
            list.join(", "),
            seen.keys().next().expect("two currencies")
        )));
    }
    Ok(())
}

/// `cents` x `rate` (units of 1e-12), rounded to the cent half away from zero; `None`
/// beyond the money limit.
fn convert(cents: i128, rate: i128) -> Option<i128> {
    let scale = 10i128.pow(RATE_SCALE as u32);
    let product = cents.checked_mul(rate)?;
    let half = scale / 2;
    let rounded = if product >= 0 {
        (product + half) / scale
    } else {
        (product - half) / scale
    };
    (rounded.abs() <= MONEY_MAX_ABS_CENTS).then_some(rounded)
}

/// The day whose rate converts a row (`None` when the date is missing: a faulty row).
fn rate_day<'a>(batch: &'a RecordBatch, dated: &Dated) -> Box<dyn Fn(usize) -> Option<i32> + 'a> {
    let col = |name: &str| batch.column_by_name(name).expect("dated column");
    match dated {
        Dated::Opportunity => {
            let closed = col("closed_at").as_primitive::<TimestampMicrosecondType>();
            let created = col("created_at").as_primitive::<TimestampMicrosecondType>();
            Box::new(move |row| {
                let micros = if closed.is_valid(row) {
                    closed.value(row)
                } else if created.is_valid(row) {
                    created.value(row)
                } else {
                    return None;
                };
                Some(micros.div_euclid(DAY_MICROS) as i32)
            })
        }
        Dated::Month | Dated::Period => {
            let date = col(match dated {
                Dated::Month => "month",
                _ => "start_date",
            })
            .as_primitive::<Date32Type>();
            Box::new(move |row| date.is_valid(row).then(|| date.value(row)))
        }
    }
}

/// A subscription's start and (exclusive) end day.
fn period(batch: &RecordBatch, row: usize) -> (i32, Option<i32>) {
    let start = batch.column_by_name("start_date").expect("start_date");
    let end = batch.column_by_name("end_date").expect("end_date");
    let end = end.as_primitive::<Date32Type>();
    (
        start.as_primitive::<Date32Type>().value(row),
        end.is_valid(row).then(|| end.value(row)),
    )
}

fn money_array(values: Vec<Option<i128>>) -> Result<ArrayRef> {
    Ok(Arc::new(
        Decimal128Array::from(values).with_precision_and_scale(MONEY_PRECISION, MONEY_SCALE)?,
    ))
}

/// `batch` with the named columns replaced.
fn replace(batch: &RecordBatch, columns: &[(&str, ArrayRef)]) -> Result<RecordBatch> {
    let schema = batch.schema();
    let mut arrays = batch.columns().to_vec();
    for (name, array) in columns {
        arrays[schema.index_of(name)?] = array.clone();
    }
    Ok(RecordBatch::try_new(schema, arrays)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversion_rounds_to_the_cent_half_away_from_zero() {
        let rate = |r: f64| (r * 1e12).round() as i128;
        assert_eq!(convert(10_000, rate(1.1)), Some(11_000));
        // 0.05 x 0.5 = 0.025 -> 0.03; -0.025 -> -0.03
        assert_eq!(convert(5, rate(0.5)), Some(3));
        assert_eq!(convert(-5, rate(0.5)), Some(-3));
        // 1/0.9 to 12 decimals: 1,000.00 EUR at 1.111111111111 = 1,111.11
        assert_eq!(convert(100_000, 1_111_111_111_111), Some(111_111));
        assert_eq!(convert(MONEY_MAX_ABS_CENTS, rate(2.0)), None);
    }

    #[test]
    fn the_rate_in_force_is_the_latest_started() {
        let c = Currencies {
            reporting: Some("USD".into()),
            rates: HashMap::from([("EUR".into(), vec![(10, 1), (20, 2), (30, 3)])]),
        };
        assert_eq!(c.rate_on("EUR", 9), None);
        assert_eq!(c.rate_on("EUR", 10), Some(1));
        assert_eq!(c.rate_on("EUR", 29), Some(2));
        assert_eq!(c.rate_on("EUR", 1000), Some(3));
        assert_eq!(c.rate_on("USD", 0), Some(1_000_000_000_000));
        assert_eq!(c.rate_on("GBP", 15), None);
        assert_eq!(c.changes_between("EUR", 10, Some(30)), vec![20]);
        assert_eq!(c.changes_between("EUR", 5, None), vec![10, 20, 30]);
    }
}
