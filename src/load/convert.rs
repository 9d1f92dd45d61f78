//! Converting raw columns to their canonical types, value by value: a value that does
//! not convert, or lies outside the supported ranges, is a row fault with its reason.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Timelike};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanBuilder, Date32Builder, Decimal128Builder, Float64Builder,
    Int64Builder, StringBuilder, TimestampMicrosecondBuilder,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Float64Type, TimestampMicrosecondType,
};

use super::checks::{fault, Faults};
use super::{REASON_DATE_RANGE, REASON_MONEY_TOO_LARGE, REASON_NOT_FINITE};
use crate::schema::{
    ColumnSpec, Kind, MONEY_MAX_ABS, MONEY_MAX_ABS_CENTS, MONEY_PRECISION, MONEY_SCALE,
    RATE_PRECISION, RATE_SCALE,
};

/// Convert one raw column (any Arrow type, or absent) to its canonical type. Values
/// that do not parse, or fall outside what the pipeline can carry (dates outside
/// [`crate::config::MIN_DATE`]..=[`crate::config::MAX_DATE`], money above
/// [`schema::MONEY_MAX_ABS`], NaN and infinities), are a fault on their row, whatever
/// the format: text goes through the parse functions below, typed Parquet values
/// through [`check_typed`] with the same reasons.
pub(super) fn convert_column(
    source: Option<&ArrayRef>,
    len: usize,
    col: &ColumnSpec,
    faults: &mut Faults,
) -> std::result::Result<ArrayRef, String> {
    let target = col.kind.data_type();
    // Fast path: typed sources (Parquet) whose type converts losslessly.
    if let Some(src) = source {
        let direct = match (src.data_type(), col.kind) {
            (DataType::Timestamp(_, _), Kind::Timestamp) | (DataType::Date32, Kind::Date) => true,
            (DataType::Date32 | DataType::Date64, Kind::Timestamp) => true,
            (DataType::Timestamp(_, _), Kind::Date) => false,
            (DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64, Kind::Int) => {
                true
            }
            (DataType::Float32 | DataType::Float64, Kind::Float) => true,
            (DataType::Int32 | DataType::Int64, Kind::Float) => true,
            (DataType::Boolean, Kind::Bool) => true,
            (DataType::Decimal128(_, s), Kind::Money) => *s <= MONEY_SCALE,
            _ => false,
        };
        if direct {
            let array = cast(src, &target).map_err(|e| e.to_string())?;
            check_typed(src, &array, col, faults);
            check_missing(&array, col, faults);
            return Ok(array);
        }
    }
    let strings: Option<ArrayRef> = match source {
        Some(src) => Some(cast(src, &DataType::Utf8).map_err(|e| e.to_string())?),
        None => None,
    };
    let strings = strings.as_ref().map(|a| a.as_string::<i32>());
    // Fast path for text that is already clean (trimmed, no empty strings) and enums
    // already in their canonical spelling: keep the array instead of copying it.
    if let Some(s) = strings {
        let clean = match col.kind {
            Kind::Text => s
                .iter()
                .flatten()
                .all(|v| !v.is_empty() && v.trim().len() == v.len()),
            Kind::Enum(values) => s.iter().flatten().all(|v| values.contains(&v)),
            _ => false,
        };
        if clean && (col.default.is_none() || s.null_count() == 0) {
            let array: ArrayRef = Arc::new(s.clone());
            check_missing(&array, col, faults);
            return Ok(array);
        }
    }
    let value = |row: usize| -> Option<&str> {
        let s = strings?;
        if s.is_null(row) {
            return None;
        }
        let v = s.value(row).trim();
        (!v.is_empty()).then_some(v)
    };
    let name = col.name;
    macro_rules! build {
        ($builder:expr, $parse:expr) => {{
            let mut b = $builder;
            for row in 0..len {
                match value(row).or(col.default) {
                    None => {
                        if col.required {
                            fault(faults, row, name, "missing value", "");
                        }
                        b.append_null();
                    }
                    Some(v) => match $parse(v) {
                        Ok(x) => b.append_value(x),
                        Err(reason) => {
                            fault(faults, row, name, reason, v);
                            b.append_null();
                        }
                    },
                }
            }
            Arc::new(b.finish()) as ArrayRef
        }};
    }
    Ok(match col.kind {
        Kind::Text => build!(StringBuilder::with_capacity(len, len * 8), |v: &str| Ok::<
            _,
            String,
        >(
            v.to_string()
        )),
        Kind::Enum(values) => build!(StringBuilder::with_capacity(len, len * 8), |v: &str| {
            let lower = v.to_lowercase();
            if values.contains(&lower.as_str()) {
                Ok(lower)
            } else {
                Err(format!(
                    "unknown value (expected one of {})",
                    values.join(", ")
                ))
            }
        }),
        Kind::Int => build!(Int64Builder::with_capacity(len), parse_int),
        Kind::Float => build!(Float64Builder::with_capacity(len), parse_float),
        Kind::Bool => build!(BooleanBuilder::with_capacity(len), parse_bool),
        Kind::Timestamp => build!(
            TimestampMicrosecondBuilder::with_capacity(len).with_timezone("UTC"),
            |v: &str| parse_timestamp_micros(v).and_then(micros_in_range)
        ),
        Kind::Date => build!(Date32Builder::with_capacity(len), |v: &str| {
            parse_date_days(v).and_then(days_in_range)
        }),
        Kind::Money => build!(
            Decimal128Builder::with_capacity(len)
                .with_precision_and_scale(MONEY_PRECISION, MONEY_SCALE)
                .map_err(|e| e.to_string())?,
            parse_money_cents
        ),
        Kind::Currency => build!(StringBuilder::with_capacity(len, len * 3), parse_currency),
        Kind::Rate => build!(
            Decimal128Builder::with_capacity(len)
                .with_precision_and_scale(RATE_PRECISION, RATE_SCALE)
                .map_err(|e| e.to_string())?,
            parse_rate_units
        ),
    })
}

/// Row faults of a typed source (Parquet, staging) after its cast to the canonical
/// type, with the source value shown: a value the cast could not represent, a NaN or
/// infinity, a date or timestamp outside the supported range, money above the limit.
/// The reasons are those of the text parsers.
fn check_typed(src: &ArrayRef, array: &ArrayRef, col: &ColumnSpec, faults: &mut Faults) {
    let shown = |row: usize| display_value(src, row);
    if array.null_count() > src.null_count() {
        let reason = match col.kind {
            Kind::Date | Kind::Timestamp => REASON_DATE_RANGE,
            Kind::Money => REASON_MONEY_TOO_LARGE,
            _ => "value out of range",
        };
        for row in 0..array.len() {
            if src.is_valid(row) && array.is_null(row) {
                fault(faults, row, col.name, reason, shown(row));
            }
        }
    }
    match col.kind {
        Kind::Float => {
            let values = array.as_primitive::<Float64Type>();
            for row in 0..values.len() {
                if values.is_valid(row) && !values.value(row).is_finite() {
                    fault(faults, row, col.name, REASON_NOT_FINITE, shown(row));
                }
            }
        }
        Kind::Date => {
            let values = array.as_primitive::<Date32Type>();
            for row in 0..values.len() {
                if values.is_valid(row) && days_in_range(values.value(row)).is_err() {
                    fault(faults, row, col.name, REASON_DATE_RANGE, shown(row));
                }
            }
        }
        Kind::Timestamp => {
            let values = array.as_primitive::<TimestampMicrosecondType>();
            for row in 0..values.len() {
                if values.is_valid(row) && micros_in_range(values.value(row)).is_err() {
                    fault(faults, row, col.name, REASON_DATE_RANGE, shown(row));
                }
            }
        }
        Kind::Money => {
            let values = array.as_primitive::<Decimal128Type>();
            for row in 0..values.len() {
                if values.is_valid(row) && values.value(row).abs() > MONEY_MAX_ABS_CENTS {
                    fault(faults, row, col.name, REASON_MONEY_TOO_LARGE, shown(row));
                }
            }
        }
        _ => {}
    }
}

/// One value of any array as text (for `raw_value` of typed sources); a value that
/// has no text form (a timestamp beyond any calendar) is shown as its stored number.
fn display_value(array: &ArrayRef, row: usize) -> String {
    use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
    if let Some(text) = ArrayFormatter::try_new(array.as_ref(), &FormatOptions::default())
        .ok()
        .and_then(|f| f.value(row).try_to_string().ok())
    {
        return text;
    }
    let stored = match array.data_type() {
        DataType::Timestamp(unit, _) => cast(&array.slice(row, 1), &DataType::Int64)
            .ok()
            .map(|a| format!("{} ({unit:?} since 1970-01-01)", display_value(&a, 0))),
        _ => None,
    };
    stored.unwrap_or_else(|| format!("(a {} value)", array.data_type()))
}

/// The supported dates as days since the epoch, inclusive.
fn day_range() -> (i32, i32) {
    (
        crate::config::date_to_days(crate::config::MIN_DATE),
        crate::config::date_to_days(crate::config::MAX_DATE),
    )
}

fn days_in_range(days: i32) -> std::result::Result<i32, String> {
    let (min, max) = day_range();
    if (min..=max).contains(&days) {
        Ok(days)
    } else {
        Err(REASON_DATE_RANGE.into())
    }
}

/// A timestamp (µs, UTC) on a supported date: from MIN_DATE 00:00 to the last
/// microsecond of MAX_DATE.
fn micros_in_range(micros: i64) -> std::result::Result<i64, String> {
    const DAY: i64 = 86_400_000_000;
    let (min, max) = day_range();
    if (min as i64 * DAY..(max as i64 + 1) * DAY).contains(&micros) {
        Ok(micros)
    } else {
        Err(REASON_DATE_RANGE.into())
    }
}

/// A finite number; NaN and infinities (`NaN`, `inf`, `1e999`) are refused with
/// [`REASON_NOT_FINITE`] in every format.
fn parse_float(v: &str) -> std::result::Result<f64, String> {
    match v.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        Ok(_) => Err(REASON_NOT_FINITE.into()),
        Err(_) => Err("unparseable number".into()),
    }
}

fn check_missing(array: &ArrayRef, col: &ColumnSpec, faults: &mut Faults) {
    if col.required && array.null_count() > 0 {
        for row in 0..array.len() {
            if array.is_null(row) {
                fault(faults, row, col.name, "missing value", "");
            }
        }
    }
}

fn parse_int(v: &str) -> std::result::Result<i64, String> {
    v.parse::<i64>()
        .map_err(|_| "unparseable integer".to_string())
}

fn parse_bool(v: &str) -> std::result::Result<bool, String> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "t" | "yes" | "y" | "1" => Ok(true),
        "false" | "f" | "no" | "n" | "0" => Ok(false),
        _ => Err("unparseable boolean".into()),
    }
}

/// RFC 3339, or `YYYY-MM-DD[ HH:MM:SS[.fff]]` (also with `T`), read as UTC.
pub fn parse_timestamp_micros(v: &str) -> std::result::Result<i64, String> {
    let t = parse_timestamp(v).ok_or_else(|| "unparseable timestamp".to_string())?;
    // A leap second (`23:59:60`) stays in its day and month: the last microsecond of
    // the minute, not the next day's midnight.
    let leap = t.time().nanosecond() >= 1_000_000_000;
    Ok(t.and_utc().timestamp_micros() - i64::from(leap))
}

/// The UTC time `v` denotes, in any of the forms [`parse_timestamp_micros`] accepts.
fn parse_timestamp(v: &str) -> Option<NaiveDateTime> {
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Some(t.naive_utc());
    }
    for format in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(v, format) {
            return Some(t);
        }
    }
    for format in [
        "%Y-%m-%d %H:%M:%S%.f%:z",
        "%Y-%m-%d %H:%M:%S%.f%#z",
        "%Y-%m-%d %H:%M:%S%.fZ",
        // Salesforce's `2025-03-04T10:15:00.000+0000` (an offset without a colon).
        "%Y-%m-%dT%H:%M:%S%.f%#z",
    ] {
        if let Ok(t) = DateTime::parse_from_str(v, format) {
            return Some(t.naive_utc());
        }
        if let Ok(t) = NaiveDateTime::parse_from_str(v, format) {
            return Some(t);
        }
    }
    NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .ok()
        .map(|d| d.and_hms_opt(0, 0, 0).expect("midnight"))
}

/// `YYYY-MM-DD` (or `YYYY-MM` for the first day of a month) as days since the epoch.
pub fn parse_date_days(v: &str) -> std::result::Result<i32, String> {
    let date = NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(&format!("{v}-01"), "%Y-%m-%d"))
        .map_err(|_| "unparseable date".to_string())?;
    Ok(crate::config::date_to_days(date))
}

/// Exact decimal with at most two decimals and at most [`schema::MONEY_MAX_ABS`] in
/// absolute value, as an integer number of cents.
pub fn parse_money_cents(v: &str) -> std::result::Result<i128, String> {
    let bad = || "unparseable money".to_string();
    let (negative, digits) = match v.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, v.strip_prefix('+').unwrap_or(v)),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty() && frac.is_empty() {
        return Err(bad());
    }
    if !int.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let frac = frac.trim_end_matches('0');
    if frac.len() > MONEY_SCALE as usize {
        return Err("more than 2 decimal places".into());
    }
    // Leading zeros do not make a value large; more digits than the limit has do.
    let int = int.trim_start_matches('0');
    if int.len() > MONEY_MAX_ABS.to_string().len() {
        return Err(REASON_MONEY_TOO_LARGE.into());
    }
    let int: i128 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| bad())?
    };
    let frac_cents: i128 = format!("{frac:0<2}").parse().map_err(|_| bad())?;
    let cents = int * 100 + frac_cents;
    if cents > MONEY_MAX_ABS_CENTS {
        return Err(REASON_MONEY_TOO_LARGE.into());
    }
    Ok(if negative { -cents } else { cents })
}

/// A currency code: three ASCII letters, upper-cased (`eur` is `EUR`).
pub fn parse_currency(v: &str) -> std::result::Result<String, String> {
    if v.len() == 3 && v.chars().all(|c| c.is_ascii_alphabetic()) {
        Ok(v.to_ascii_uppercase())
    } else {
        Err("not a currency code (three letters, ISO 4217)".into())
    }
}

/// The largest exchange rate carried (a rate of a billion units per unit is no rate).
const RATE_MAX: i128 = 1_000_000_000;

/// An exchange rate in units of 1e-12: a positive decimal, digits beyond the twelfth
/// decimal rounded half away from zero (a rate written as 1/0.9 in full is still that
/// rate to 1e-12). Scientific notation (`1.1E-3`, as spreadsheets write small rates)
/// is read too.
pub fn parse_rate_units(v: &str) -> std::result::Result<i128, String> {
    let bad = || "not a positive rate".to_string();
    let (mantissa, exponent) = match v.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i32>().map_err(|_| bad())?),
        None => (v, 0),
    };
    let digits = mantissa.strip_prefix('+').unwrap_or(mantissa);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if (int.is_empty() && frac.is_empty())
        || !int.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
        || exponent.abs() > 30
    {
        return Err(bad());
    }
    // All digits as one integer, with the decimal point `point` places from the right.
    let all = format!("{int}{frac}");
    let all = all.trim_start_matches('0');
    if all.len() > 36 {
        return Err("rate has too many digits".into());
    }
    let mantissa: i128 = if all.is_empty() {
        0
    } else {
        all.parse().map_err(|_| bad())?
    };
    let shift = RATE_SCALE as i32 - frac.len() as i32 + exponent;
    let units = if shift >= 0 {
        10i128
            .checked_pow(shift as u32)
            .and_then(|p| mantissa.checked_mul(p))
            .ok_or("rate too large")?
    } else {
        let p = 10i128.checked_pow((-shift) as u32).ok_or_else(bad)?;
        (mantissa + p / 2) / p
    };
    if units <= 0 {
        return Err(bad());
    }
    if units > RATE_MAX * 10i128.pow(RATE_SCALE as u32) {
        return Err("rate too large (over 1e9)".into());
    }
    Ok(units)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::MONEY_MAX_ABS_CENTS;

    #[test]
    fn money_is_exact_to_the_cent() {
        assert_eq!(parse_money_cents("12.5"), Ok(1250));
        assert_eq!(parse_money_cents("-0.07"), Ok(-7));
        assert_eq!(parse_money_cents("100"), Ok(10000));
        assert_eq!(parse_money_cents("1.230"), Ok(123));
        assert_eq!(
            parse_money_cents("1.234"),
            Err("more than 2 decimal places".into())
        );
        assert_eq!(parse_money_cents("1e3"), Err("unparseable money".into()));
        assert_eq!(parse_money_cents("."), Err("unparseable money".into()));
    }

    #[test]
    fn rates_are_exact_to_twelve_decimals() {
        let e12 = 1_000_000_000_000i128;
        assert_eq!(parse_rate_units("1"), Ok(e12));
        assert_eq!(parse_rate_units("0.9"), Ok(900_000_000_000));
        assert_eq!(
            parse_rate_units("1.1111111111111112"),
            Ok(1_111_111_111_111)
        );
        assert_eq!(parse_rate_units("0.0000000000005"), Ok(1));
        assert_eq!(parse_rate_units("1.5E-3"), Ok(1_500_000_000));
        assert_eq!(parse_rate_units("2e2"), Ok(200 * e12));
        assert_eq!(parse_rate_units("0"), Err("not a positive rate".into()));
        assert_eq!(parse_rate_units("-1.2"), Err("not a positive rate".into()));
        assert_eq!(parse_rate_units("abc"), Err("not a positive rate".into()));
        assert!(parse_rate_units("2000000000").is_err());
        assert_eq!(parse_currency("eur"), Ok("EUR".into()));
        assert!(parse_currency("EURO").is_err());
        assert!(parse_currency("€").is_err());
    }

    #[test]
    fn money_limit_faults() {
        assert_eq!(parse_money_cents("1000000000000"), Ok(MONEY_MAX_ABS_CENTS));
        assert_eq!(
            parse_money_cents("-1000000000000.01"),
            Err(REASON_MONEY_TOO_LARGE.into())
        );
        assert_eq!(parse_money_cents("0000000000000000012.5"), Ok(1250));
        assert_eq!(
            parse_money_cents("123456789012345678901234567890"),
            Err(REASON_MONEY_TOO_LARGE.into())
        );
    }

    #[test]
    fn date_range_faults_name_the_configured_range() {
        assert_eq!(
            REASON_DATE_RANGE,
            format!(
                "date outside the supported range {}..{}",
                crate::config::MIN_DATE,
                crate::config::MAX_DATE
            )
        );
        let day = |s: &str| parse_date_days(s).and_then(days_in_range);
        assert!(day("1900-01-01").is_ok() && day("2199-12-31").is_ok());
        assert_eq!(day("1899-12-31"), Err(REASON_DATE_RANGE.into()));
        assert_eq!(day("2200-01"), Err(REASON_DATE_RANGE.into()));
        let ts = |s: &str| parse_timestamp_micros(s).and_then(micros_in_range);
        assert!(ts("1900-01-01T00:00:00Z").is_ok());
        assert!(ts("2199-12-31T23:59:59.999999Z").is_ok());
        assert_eq!(ts("1899-12-31T23:59:59Z"), Err(REASON_DATE_RANGE.into()));
        assert_eq!(ts("2200-01-01T00:00:00Z"), Err(REASON_DATE_RANGE.into()));
        assert_eq!(parse_float("nan"), Err(REASON_NOT_FINITE.into()));
    }

    #[test]
    fn timestamps_in_the_documented_forms_are_utc() {
        let midnight = parse_timestamp_micros("2026-10-01").unwrap();
        // A leap second stays in September (the last microsecond before midnight).
        assert_eq!(
            parse_timestamp_micros("2026-09-30T23:59:60Z").unwrap(),
            midnight - 1
        );
        assert_eq!(
            parse_timestamp_micros("2026-10-01 00:00:00").unwrap(),
            midnight
        );
        assert_eq!(
            parse_timestamp_micros("2026-10-01T00:00:00Z").unwrap(),
            midnight
        );
        assert_eq!(
            parse_timestamp_micros("2026-10-01T02:00:00+02:00").unwrap(),
            midnight
        );
        assert_eq!(
            parse_timestamp_micros("2026-10-01 00:00:00.5").unwrap(),
            midnight + 500_000
        );
        assert!(parse_timestamp_micros("01/10/2026").is_err());
        assert_eq!(
            parse_date_days("2026-10").unwrap(),
            parse_date_days("2026-10-01").unwrap()
        );
    }
}
