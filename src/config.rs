//! Parameters of a run: defaults in code < `revalign.toml` < command-line flags.
//!
//! Every tunable a query needs reaches SQL through the one-row `params` table built
//! here ([`Params::to_batch`]); nothing is pasted into SQL text. The struct is the one
//! place where a parameter is named, typed and given its default.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Float64Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use serde::{Deserialize, Serialize};

use crate::error::{Error, IoContext, Result};

/// The first date revalign accepts anywhere (inputs, `--month`). Dates outside
/// [`MIN_DATE`]..=[`MAX_DATE`] are rejected at load with their reason: DataFusion casts
/// dates to nanosecond timestamps in places (range 1677-09-21..2262-04-11), so a value
/// that loaded outside it would crash a query later. Docs: docs/faults.md.
pub const MIN_DATE: NaiveDate = match NaiveDate::from_ymd_opt(1900, 1, 1) {
    Some(d) => d,
    None => panic!("valid date"),
};
/// The last date revalign accepts (see [`MIN_DATE`]).
pub const MAX_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2199, 12, 31) {
    Some(d) => d,
    None => panic!("valid date"),
};

/// Days since 1970-01-01: the value of an Arrow `Date32`.
pub fn date_to_days(date: NaiveDate) -> i32 {
    (date - NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days() as i32
}

/// The date of an Arrow `Date32` value.
pub fn days_to_date(days: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch") + chrono::Duration::days(days as i64)
}

/// A calendar month, `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("valid month")
    }
    pub fn next(self) -> Month {
        if self.month == 12 {
            Month {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Month {
                year: self.year,
                month: self.month + 1,
            }
        }
    }
    pub fn prev(self) -> Month {
        if self.month == 1 {
            Month {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Month {
                year: self.year,
                month: self.month - 1,
            }
        }
    }
    pub fn of(date: NaiveDate) -> Month {
        Month {
            year: date.year(),
            month: date.month(),
        }
    }
    /// Months from `self` to `other` (positive when `other` is later).
    pub fn months_until(self, other: Month) -> i32 {
        (other.year - self.year) * 12 + other.month as i32 - self.month as i32
    }
    pub fn plus(self, months: i32) -> Month {
        let index = self.year * 12 + self.month as i32 - 1 + months;
        Month {
            year: index.div_euclid(12),
            month: index.rem_euclid(12) as u32 + 1,
        }
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl std::str::FromStr for Month {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        // Exactly four ASCII digits, '-', two ASCII digits: no sign, no spaces, no
        // five-digit years (`+202-10` is not 0202-10).
        let bad = || format!("invalid month {s:?}: expected YYYY-MM");
        let b = s.as_bytes();
        let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
        if b.len() != 7 || b[4] != b'-' || !digits(0..4) || !digits(5..7) {
            return Err(bad());
        }
        let year: i32 = s[0..4].parse().map_err(|_| bad())?;
        let month: u32 = s[5..7].parse().map_err(|_| bad())?;
        if !(1..=12).contains(&month) {
            return Err(bad());
        }
        let m = Month { year, month };
        if m < Month::of(MIN_DATE) || m > Month::of(MAX_DATE) {
            return Err(format!(
                "month {s:?} is out of range: revalign handles months {} to {}",
                Month::of(MIN_DATE),
                Month::of(MAX_DATE)
            ));
        }
        Ok(m)
    }
}

impl TryFrom<String> for Month {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<Self, String> {
        s.parse()
    }
}

impl From<Month> for String {
    fn from(m: Month) -> String {
        m.to_string()
    }
}

/// The attribution models, in display order: the one list. The queries read it as the
/// reference table `attribution_models` ([`attribution_models_batch`]).
pub const ATTRIBUTION_MODELS: &[&str] = &[
    "first_touch",
    "lead_creation",
    "last_touch",
    "linear",
    "time_decay",
    "position_based",
    "w_shaped",
    "full_path",
    "markov",
];

/// Models that credit channels, not touches (`attribution_markov`, a Rust model step):
/// not in `attribution_credit`, and only in `attribution_channel` when fitted.
pub const CHANNEL_LEVEL_MODELS: &[&str] = &["markov"];

/// The `attribution_models` reference table: `model` and `kind` (`rule`: per touch, in
/// `attribution_credit`; `channel`: per channel, see [`CHANNEL_LEVEL_MODELS`]).
pub fn attribution_models_batch() -> Result<RecordBatch> {
    let kinds: Vec<&str> = ATTRIBUTION_MODELS
        .iter()
        .map(|m| {
            if CHANNEL_LEVEL_MODELS.contains(m) {
                "channel"
            } else {
                "rule"
            }
        })
        .collect();
    Ok(RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("model", DataType::Utf8, false),
            Field::new("kind", DataType::Utf8, false),
        ])),
        vec![
            Arc::new(StringArray::from(ATTRIBUTION_MODELS.to_vec())),
            Arc::new(StringArray::from(kinds)),
        ],
    )?)
}

/// Path transforms of the window journeys (as in the Snowplow attribution package).
pub const PATH_TRANSFORMS: &[&str] = &["none", "exposure", "first", "frequency"];

/// Tunables of the queries and models. Field names are the column names of `params`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Params {
    /// Days of touches before an opportunity's creation that count in its journey.
    pub lookback_days: i64,
    /// Half-life of the time-decay attribution model, in days.
    pub half_life_days: f64,
    /// Position-based weights: first, middle (shared), last.
    pub position_first: f64,
    pub position_middle: f64,
    pub position_last: f64,
    /// W-shaped: weight of each milestone (FT, LC, OC); the rest is shared by the others.
    pub w_shaped_milestone: f64,
    /// Full path: weight of each milestone (FT, LC, OC, CW); the rest is shared.
    pub full_path_milestone: f64,
    /// Whether sales touches are part of attribution journeys.
    pub include_sales_touches: bool,
    /// An MQL is followed up in SLA when its first sales touch is within this many hours.
    pub sla_hours: f64,
    /// Days after an MQL entry in which sales touches are counted for follow-up depth.
    pub followup_window_days: i64,
    /// Days after a stage entry in which the next stage counts as a conversion (MQL to
    /// SQL, SQL to opportunity): a cohort is matured once its window has closed.
    pub conversion_window_days: i64,
    /// Gross margin used for LTV and payback.
    pub gross_margin: f64,
    /// Annual discount rate for discounted lifetime value.
    pub annual_discount_rate: f64,
    /// Smallest number of customers in a segment for an sBG retention fit.
    pub sbg_min_customers: i64,
    /// Order of the Markov attribution chain (states = the last k channels).
    pub markov_order: i64,
    /// Attribution model used by roi_maturation and headline ROAS: a rule model (not
    /// markov, whose credit is per channel, not per touch).
    pub attribution_model: String,
    /// Path transform applied to window journeys before the models: none, exposure,
    /// first or frequency (docs/attribution.md).
    pub path_transform: String,
    /// Days of touches that count for account engagement (account_scores).
    pub engagement_window_days: i64,
    /// Half-life of a touch's weight in account engagement, in days.
    pub engagement_half_life_days: f64,
    /// The ICP evaluation trains on opportunities closed more than this many months
    /// before the report month's end and tests on the ones closed after.
    pub icp_holdout_months: i64,
    /// Look-alikes are ranked by similarity to this many best customers (by revenue).
    pub lookalike_seed_customers: i64,
    /// Currency of every amount in the outputs (ISO 4217 code); money in other
    /// currencies converts at the `fx_rates` in force. Empty: the data's one currency.
    pub reporting_currency: String,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            lookback_days: 180,
            half_life_days: 7.0,
            position_first: 0.4,
            position_middle: 0.2,
            position_last: 0.4,
            w_shaped_milestone: 0.3,
            full_path_milestone: 0.225,
            include_sales_touches: false,
            sla_hours: 24.0,
            followup_window_days: 30,
            conversion_window_days: 90,
            gross_margin: 0.8,
            annual_discount_rate: 0.10,
            sbg_min_customers: 20,
            markov_order: 1,
            attribution_model: "w_shaped".into(),
            path_transform: "none".into(),
            engagement_window_days: 90,
            engagement_half_life_days: 30.0,
            icp_holdout_months: 12,
            lookalike_seed_customers: 100,
            reporting_currency: String::new(),
        }
    }
}

impl Params {
    /// The Float64 parameters, by name (the last columns of `params`).
    fn floats(&self) -> [(&'static str, f64); 10] {
        [
            ("half_life_days", self.half_life_days),
            ("position_first", self.position_first),
            ("position_middle", self.position_middle),
            ("position_last", self.position_last),
            ("w_shaped_milestone", self.w_shaped_milestone),
            ("full_path_milestone", self.full_path_milestone),
            ("sla_hours", self.sla_hours),
            ("gross_margin", self.gross_margin),
            ("annual_discount_rate", self.annual_discount_rate),
            ("engagement_half_life_days", self.engagement_half_life_days),
        ]
    }

    /// `reporting_currency` when set (empty: the data's one currency).
    pub fn reporting_currency(&self) -> Option<&str> {
        Some(self.reporting_currency.as_str()).filter(|c| !c.is_empty())
    }

    pub fn validate(&self) -> std::result::Result<(), String> {
        // Every float must be a number: `inf` or `nan` would pass some range checks
        // and be written to the manifest as null.
        for (name, v) in self.floats() {
            if !v.is_finite() {
                return Err(format!("{name} must be a finite number, got {v}"));
            }
        }
        let unit = |name: &str, v: f64| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(format!("{name} must be between 0 and 1, got {v}"))
            }
        };
        if self.lookback_days < 0 {
            return Err(format!(
                "lookback_days must be >= 0, got {}",
                self.lookback_days
            ));
        }
        // A touch weighs 2^(-days / half-life): beyond 2^-1000 the weights underflow
        // to zero and an opportunity's time-decay credit would be 0/0.
        let shortest_half_life = (self.lookback_days as f64 / 1000.0).max(f64::MIN_POSITIVE);
        if !(self.half_life_days >= shortest_half_life) {
            return Err(if self.lookback_days == 0 {
                format!("half_life_days must be > 0, got {}", self.half_life_days)
            } else {
                format!(
                    "half_life_days must be at least lookback_days / 1000 = {shortest_half_life} \
                     (shorter half-lives underflow the time-decay weights to zero), got {}",
                    self.half_life_days
                )
            });
        }
        if !(self.sla_hours > 0.0) {
            return Err(format!("sla_hours must be > 0, got {}", self.sla_hours));
        }
        if self.followup_window_days <= 0 {
            return Err("followup_window_days must be > 0".into());
        }
        if !(1..=3650).contains(&self.conversion_window_days) {
            return Err(format!(
                "conversion_window_days must be between 1 and 3650, got {}",
                self.conversion_window_days
            ));
        }
        let pos = self.position_first + self.position_middle + self.position_last;
        if (pos - 1.0).abs() > 1e-9 {
            return Err(format!("position weights must sum to 1, got {pos}"));
        }
        unit("position_first", self.position_first)?;
        unit("position_middle", self.position_middle)?;
        unit("position_last", self.position_last)?;
        if !(0.0..=1.0 / 3.0 + 1e-12).contains(&self.w_shaped_milestone) {
            return Err("w_shaped_milestone must be between 0 and 1/3".into());
        }
        if !(0.0..=0.25 + 1e-12).contains(&self.full_path_milestone) {
            return Err("full_path_milestone must be between 0 and 1/4".into());
        }
        if !(1..=4).contains(&self.markov_order) {
            return Err(format!(
                "markov_order must be between 1 and 4, got {}",
                self.markov_order
            ));
        }
        if self.attribution_model == "markov" {
            return Err(
                "attribution_model = \"markov\" cannot drive roi_maturation and the scorecard's \
                 ROAS: they date credit by touch and opportunity type, and the Markov model gives \
                 each channel a share of an opportunity, not of a touch (attribution_channel and \
                 attribution_markov still report it beside the rule models); choose a rule model"
                    .into(),
            );
        }
        if !ATTRIBUTION_MODELS.contains(&self.attribution_model.as_str()) {
            return Err(format!(
                "attribution_model must be one of {}",
                ATTRIBUTION_MODELS
                    .iter()
                    .filter(|m| **m != "markov")
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if !PATH_TRANSFORMS.contains(&self.path_transform.as_str()) {
            return Err(format!(
                "path_transform must be one of {}",
                PATH_TRANSFORMS.join(", ")
            ));
        }
        let c = &self.reporting_currency;
        if !c.is_empty() && !(c.len() == 3 && c.chars().all(|ch| ch.is_ascii_uppercase())) {
            return Err(format!(
                "reporting_currency must be a three-letter code in capitals such as USD \
                 (ISO 4217), or empty for the data's one currency; got {c:?}"
            ));
        }
        if self.sbg_min_customers < 2 {
            return Err("sbg_min_customers must be >= 2".into());
        }
        if self.engagement_window_days <= 0 || !(self.engagement_half_life_days > 0.0) {
            return Err("engagement_window_days and engagement_half_life_days must be > 0".into());
        }
        if !(1..=120).contains(&self.icp_holdout_months) {
            return Err("icp_holdout_months must be between 1 and 120".into());
        }
        if !(1..=100_000).contains(&self.lookalike_seed_customers) {
            return Err("lookalike_seed_customers must be between 1 and 100000".into());
        }
        unit("gross_margin", self.gross_margin)?;
        unit("annual_discount_rate", self.annual_discount_rate)?;
        Ok(())
    }

    /// The one-row `params` table for `month`.
    pub fn to_batch(&self, month: Month) -> Result<RecordBatch> {
        let start = month.first_day();
        let end = month.next().first_day();
        let days = date_to_days;
        let micros = |d: NaiveDate| date_to_days(d) as i64 * 86_400_000_000;
        let ts = || DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
        let f64s = self.floats();
        let mut fields = vec![
            Field::new("report_month", DataType::Date32, false),
            Field::new("report_label", DataType::Utf8, false),
            Field::new("report_start", ts(), false),
            Field::new("report_end", ts(), false),
            Field::new("report_end_date", DataType::Date32, false),
            Field::new("icp_cutoff", ts(), false),
            Field::new("lookback_days", DataType::Int64, false),
            Field::new("followup_window_days", DataType::Int64, false),
            Field::new("conversion_window_days", DataType::Int64, false),
            Field::new("include_sales_touches", DataType::Boolean, false),
            Field::new("sbg_min_customers", DataType::Int64, false),
            Field::new("markov_order", DataType::Int64, false),
            Field::new("attribution_model", DataType::Utf8, false),
            Field::new("path_transform", DataType::Utf8, false),
            Field::new("engagement_window_days", DataType::Int64, false),
            Field::new("icp_holdout_months", DataType::Int64, false),
            Field::new("lookalike_seed_customers", DataType::Int64, false),
            Field::new("reporting_currency", DataType::Utf8, false),
        ];
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(Date32Array::from(vec![days(start)])),
            Arc::new(StringArray::from(vec![month.to_string()])),
            Arc::new(TimestampMicrosecondArray::from(vec![micros(start)]).with_timezone("UTC")),
            Arc::new(TimestampMicrosecondArray::from(vec![micros(end)]).with_timezone("UTC")),
            Arc::new(Date32Array::from(vec![days(end)])),
            Arc::new(
                TimestampMicrosecondArray::from(vec![micros(
                    month.plus(1 - self.icp_holdout_months as i32).first_day(),
                )])
                .with_timezone("UTC"),
            ),
            Arc::new(Int64Array::from(vec![self.lookback_days])),
            Arc::new(Int64Array::from(vec![self.followup_window_days])),
            Arc::new(Int64Array::from(vec![self.conversion_window_days])),
            Arc::new(BooleanArray::from(vec![self.include_sales_touches])),
            Arc::new(Int64Array::from(vec![self.sbg_min_customers])),
            Arc::new(Int64Array::from(vec![self.markov_order])),
            Arc::new(StringArray::from(vec![self.attribution_model.clone()])),
            Arc::new(StringArray::from(vec![self.path_transform.clone()])),
            Arc::new(Int64Array::from(vec![self.engagement_window_days])),
            Arc::new(Int64Array::from(vec![self.icp_holdout_months])),
            Arc::new(Int64Array::from(vec![self.lookalike_seed_customers])),
            Arc::new(StringArray::from(vec![self.reporting_currency.clone()])),
        ];
        for (name, value) in f64s {
            fields.push(Field::new(name, DataType::Float64, false));
            columns.push(Arc::new(Float64Array::from(vec![value])));
        }
        Ok(RecordBatch::try_new(
            Arc::new(Schema::new(fields)),
            columns,
        )?)
    }
}

/// `revalign.toml`: optional parameter overrides.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default)]
    pub params: Option<toml::Value>,
}

/// Read parameters: defaults, then the config file if any.
pub fn load_params(config: Option<&Path>) -> Result<Params> {
    let default_path = PathBuf::from("revalign.toml");
    let path = match config {
        Some(p) => Some(p.to_path_buf()),
        None if default_path.is_file() => Some(default_path),
        None => None,
    };
    let Some(path) = path else {
        return Ok(Params::default());
    };
    let text = std::fs::read_to_string(&path).at(&path)?;
    let file: ConfigFile = toml::from_str(&text).map_err(|e| Error::Config {
        file: path.clone(),
        message: e.to_string(),
    })?;
    let params: Params = match file.params {
        Some(value) => value
            .try_into()
            .map_err(|e: toml::de::Error| Error::Config {
                file: path.clone(),
                message: e.to_string(),
            })?,
        None => Params::default(),
    };
    params.validate().map_err(|message| Error::Config {
        file: path,
        message,
    })?;
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_arithmetic() {
        let m: Month = "2026-12".parse().unwrap();
        assert_eq!(m.next().to_string(), "2027-01");
        assert_eq!(m.plus(-12).to_string(), "2025-12");
        assert_eq!(
            "2026-01".parse::<Month>().unwrap().prev().to_string(),
            "2025-12"
        );
        assert!("2026-13".parse::<Month>().is_err());
        assert!("26-01".parse::<Month>().is_err());
    }

    #[test]
    fn config_file_overrides_defaults_and_rejects_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("revalign.toml");
        std::fs::write(&path, "[params]\nsla_hours = 48\nlookback_days = 90\n").unwrap();
        let p = load_params(Some(&path)).unwrap();
        assert_eq!(p.sla_hours, 48.0);
        assert_eq!(p.lookback_days, 90);
        assert_eq!(p.half_life_days, 7.0);
        std::fs::write(&path, "[params]\nsla_hourz = 48\n").unwrap();
        let err = load_params(Some(&path)).unwrap_err().to_string();
        assert!(err.contains("sla_hourz"), "{err}");
        std::fs::write(&path, "[params]\nposition_first = 0.9\n").unwrap();
        assert!(load_params(Some(&path))
            .unwrap_err()
            .to_string()
            .contains("sum to 1"));
    }
}

/// Apply `--set key=value` overrides (TOML values: `48`, `0.5`, `true`).
pub fn apply_overrides(params: Params, overrides: &[String]) -> Result<Params> {
    if overrides.is_empty() {
        return Ok(params);
    }
    let bad = |message: String| Error::Usage(format!("--set: {message}"));
    let mut table = toml::Value::try_from(&params).map_err(|e| bad(e.to_string()))?;
    for item in overrides {
        let (key, value) = item
            .split_once('=')
            .ok_or_else(|| bad(format!("{item:?} is not key=value")))?;
        let key = key.trim();
        // Numbers and booleans as TOML literals; anything else is a string.
        let parsed: toml::Table =
            toml::from_str(&format!("v = {}", value.trim())).unwrap_or_else(|_| {
                toml::Table::from_iter([(
                    "v".to_string(),
                    toml::Value::String(value.trim().to_string()),
                )])
            });
        let slot = table
            .as_table_mut()
            .expect("params serialise to a table")
            .get_mut(key)
            .ok_or_else(|| bad(format!("unknown parameter `{key}`")))?;
        *slot = parsed["v"].clone();
    }
    let params: Params = table
        .try_into()
        .map_err(|e: toml::de::Error| bad(e.to_string()))?;
    params.validate().map_err(bad)?;
    Ok(params)
}
