//! The shifted-beta-geometric (sBG) retention model of Fader & Hardie (2007), "How to
//! Project Customer Retention", Journal of Interactive Marketing 21(1).
//!
//! Each customer churns at the end of a period with a constant probability theta,
//! and theta varies across customers as Beta(alpha, beta). Then
//! `P(T=1) = a/(a+b)`, `P(T=t) = (b+t-2)/(a+b+t-1) P(T=t-1)`, `S(t) = S(t-1) - P(T=t)`.
//!
//! The fit is maximum likelihood over one or more cohorts, each observed for its own
//! number of periods: a customer lost in period t contributes `ln P(T=t)`, one still
//! active after the last observed period n contributes `ln S(n)`. We maximise over
//! `(ln alpha, ln beta)` with Nelder-Mead (two parameters, smooth surface; no crate
//! dependency needed for that) from several starting points and keep the best.
//!
//! Discounted expected lifetime `DEL(d) = sum_{t>=1} S(t-1)/(1+d)^(t-1)` and residual
//! lifetime `DERL(d, n) = sum_{t>=n} [S(t)/S(n-1)]/(1+d)^(t-n)` are summed until the
//! terms vanish. With alpha < 1 the undiscounted lifetime is infinite, so only
//! discounted values are reported.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, Int64Array, RecordBatch, StringArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Int64Type, Schema};

use crate::config::Params;
use crate::error::Result;

/// One cohort's survival: `survivors[t]` customers active at the end of period t,
/// `survivors[0]` the cohort size.
#[derive(Debug, Clone, PartialEq)]
pub struct Cohort {
    pub survivors: Vec<f64>,
}

/// A fitted sBG model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    pub alpha: f64,
    pub beta: f64,
    pub log_likelihood: f64,
}

/// `P(T = t)` for t = 1..=n.
pub fn churn_probabilities(alpha: f64, beta: f64, n: usize) -> Vec<f64> {
    let mut p = Vec::with_capacity(n);
    for t in 1..=n {
        let v = if t == 1 {
            alpha / (alpha + beta)
        } else {
            p[t - 2] * (beta + t as f64 - 2.0) / (alpha + beta + t as f64 - 1.0)
        };
        p.push(v);
    }
    p
}

/// `S(t)` for t = 0..=n.
pub fn survival(alpha: f64, beta: f64, n: usize) -> Vec<f64> {
    let mut s = vec![1.0];
    for p in churn_probabilities(alpha, beta, n) {
        let last = *s.last().expect("non-empty");
        s.push(last - p);
    }
    s
}

/// The sufficient statistics of a set of cohorts: customers lost in each period t
/// (`lost[t]`, t >= 1) and customers still active when observation ended after n
/// periods (`active[n]`). The likelihood needs nothing else, so each evaluation costs
/// O(longest cohort), however many cohorts there are.
struct Counts {
    lost: Vec<f64>,
    active: Vec<f64>,
}

impl Counts {
    fn of(cohorts: &[Cohort]) -> Counts {
        let n_max = cohorts
            .iter()
            .map(|c| c.survivors.len() - 1)
            .max()
            .unwrap_or(0);
        let mut counts = Counts {
            lost: vec![0.0; n_max + 1],
            active: vec![0.0; n_max + 1],
        };
        for c in cohorts {
            let n = c.survivors.len() - 1;
            for t in 1..=n {
                counts.lost[t] += c.survivors[t - 1] - c.survivors[t];
            }
            counts.active[n] += c.survivors[n];
        }
        counts
    }

    fn log_likelihood(&self, alpha: f64, beta: f64) -> f64 {
        let n = self.lost.len() - 1;
        let p = churn_probabilities(alpha, beta, n);
        let s = survival(alpha, beta, n);
        let mut ll = 0.0;
        for t in 1..=n {
            if self.lost[t] > 0.0 {
                ll += self.lost[t] * p[t - 1].ln();
            }
        }
        for (t, active) in self.active.iter().enumerate() {
            if *active > 0.0 {
                ll += active * s[t].ln();
            }
        }
        ll
    }
}

pub fn log_likelihood(alpha: f64, beta: f64, cohorts: &[Cohort]) -> f64 {
    Counts::of(cohorts).log_likelihood(alpha, beta)
}

/// Nelder-Mead minimisation of `f` over two variables.
fn nelder_mead(f: impl Fn([f64; 2]) -> f64, start: [f64; 2], step: f64) -> ([f64; 2], f64) {
    let mut simplex = [
        start,
        [start[0] + step, start[1]],
        [start[0], start[1] + step],
    ];
    let mut values = simplex.map(&f);
    for _ in 0..5000 {
        let mut order = [0usize, 1, 2];
        order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
        simplex = order.map(|i| simplex[i]);
        values = order.map(|i| values[i]);
        let spread = (values[2] - values[0]).abs();
        let size = (simplex[2][0] - simplex[0][0])
            .abs()
            .max((simplex[2][1] - simplex[0][1]).abs());
        if spread < 1e-13 && size < 1e-10 {
            break;
        }
        let centroid = [
            (simplex[0][0] + simplex[1][0]) / 2.0,
            (simplex[0][1] + simplex[1][1]) / 2.0,
        ];
        let along = |k: f64| {
            [
                centroid[0] + k * (simplex[2][0] - centroid[0]),
                centroid[1] + k * (simplex[2][1] - centroid[1]),
            ]
        };
        let reflected = along(-1.0);
        let fr = f(reflected);
        if fr < values[0] {
            let expanded = along(-2.0);
            let fe = f(expanded);
            if fe < fr {
                simplex[2] = expanded;
                values[2] = fe;
            } else {
                simplex[2] = reflected;
                values[2] = fr;
            }
        } else if fr < values[1] {
            simplex[2] = reflected;
            values[2] = fr;
        } else {
            let contracted = if fr < values[2] {
                along(-0.5)
            } else {
                along(0.5)
            };
            let fc = f(contracted);
            if fc < values[2].min(fr) {
                simplex[2] = contracted;
                values[2] = fc;
            } else {
                for i in 1..3 {
                    simplex[i] = [
                        (simplex[0][0] + simplex[i][0]) / 2.0,
                        (simplex[0][1] + simplex[i][1]) / 2.0,
                    ];
                    values[i] = f(simplex[i]);
                }
            }
        }
    }
    let best = (0..3)
        .min_by(|&a, &b| values[a].total_cmp(&values[b]))
        .expect("three points");
    (simplex[best], values[best])
}

/// Maximum-likelihood fit. `None` when the data cannot identify the model.
pub fn fit(cohorts: &[Cohort]) -> Option<Fit> {
    let counts = Counts::of(cohorts);
    let objective = |x: [f64; 2]| {
        let (a, b) = (x[0].exp(), x[1].exp());
        let ll = counts.log_likelihood(a, b);
        if ll.is_finite() {
            -ll
        } else {
            f64::INFINITY
        }
    };
    let mut best: Option<([f64; 2], f64)> = None;
    for start in [[0.0, 0.0], [-1.0, 1.0], [1.0, 2.0], [-2.0, -1.0]] {
        let (x, _) = nelder_mead(objective, start, 0.5);
        // Restart from the optimum to shake off a collapsed simplex.
        let (x, v) = nelder_mead(objective, x, 0.05);
        if v.is_finite() && best.is_none_or(|(_, bv)| v < bv) {
            best = Some((x, v));
        }
    }
    let (x, v) = best?;
    let (alpha, beta) = (x[0].exp(), x[1].exp());
    // A boundary solution (parameters running off to 0 or infinity) is not a fit.
    if !(1e-4..1e4).contains(&alpha) || !(1e-4..1e4).contains(&beta) {
        return None;
    }
    Some(Fit {
        alpha,
        beta,
        log_likelihood: -v,
    })
}

/// Discounted expected lifetime in periods, counting the first period.
pub fn del(alpha: f64, beta: f64, discount: f64) -> f64 {
    let mut total = 0.0;
    let (mut s, mut p_prev, mut factor) = (1.0f64, 0.0f64, 1.0f64);
    for t in 1..200_000usize {
        total += s * factor; // S(t-1) / (1+d)^(t-1)
        let p = if t == 1 {
            alpha / (alpha + beta)
        } else {
            p_prev * (beta + t as f64 - 2.0) / (alpha + beta + t as f64 - 1.0)
        };
        s -= p;
        p_prev = p;
        factor /= 1.0 + discount;
        if s * factor < 1e-15 {
            break;
        }
    }
    total
}

/// Discounted expected residual lifetime of a customer who has survived n-1 periods.
pub fn derl(alpha: f64, beta: f64, discount: f64, n: usize) -> f64 {
    let s = survival(alpha, beta, n);
    let base = s[n - 1];
    let mut total = 0.0;
    let mut s_t = s[n];
    let mut p_prev = s[n - 1] - s[n];
    let mut factor = 1.0;
    let mut t = n;
    loop {
        total += s_t / base * factor;
        t += 1;
        let p = p_prev * (beta + t as f64 - 2.0) / (alpha + beta + t as f64 - 1.0);
        s_t -= p;
        p_prev = p;
        factor /= 1.0 + discount;
        if s_t / base * factor < 1e-15 || t > n + 200_000 {
            break;
        }
    }
    total
}

/// Monthly rate equivalent to an annual discount rate.
pub fn monthly_discount(annual: f64) -> f64 {
    (1.0 + annual).powf(1.0 / 12.0) - 1.0
}

/// The `sbg_fit` step. Input (`sbg_input`): one row per customer account and segment
/// with `segment_type, segment, cohort_month, months_observed,
/// churned_after_months` (null when never churned). Output: one row per segment with
/// the fit, or nulls and a reason.
pub fn fit_table(input: &RecordBatch, params: &Params) -> Result<RecordBatch> {
    let seg_type = input
        .column_by_name("segment_type")
        .expect("segment_type")
        .as_string::<i32>();
    let seg = input
        .column_by_name("segment")
        .expect("segment")
        .as_string::<i32>();
    let cohort = input.column_by_name("cohort_month").expect("cohort_month");
    let cohort = datafusion::arrow::compute::cast(
        &datafusion::arrow::compute::cast(cohort, &DataType::Int32)?,
        &DataType::Int64,
    )?;
    let cohort = cohort.as_primitive::<Int64Type>();
    let observed = input
        .column_by_name("months_observed")
        .expect("months_observed")
        .as_primitive::<Int64Type>();
    let churned = input
        .column_by_name("churned_after_months")
        .expect("churned_after_months")
        .as_primitive::<Int64Type>();

    // segment -> cohort -> (observed periods, churn period of each customer or None)
    let mut groups: BTreeMap<(String, String), BTreeMap<i64, (i64, Vec<Option<i64>>)>> =
        BTreeMap::new();
    for r in 0..input.num_rows() {
        let entry = groups
            .entry((seg_type.value(r).to_string(), seg.value(r).to_string()))
            .or_default()
            .entry(cohort.value(r))
            .or_insert((observed.value(r), vec![]));
        entry.1.push(churned.is_valid(r).then(|| churned.value(r)));
    }
    let discount = monthly_discount(params.annual_discount_rate);
    let mut cols: (Vec<String>, Vec<String>, Vec<i64>, Vec<i64>) = Default::default();
    let mut fits: (
        Vec<Option<f64>>,
        Vec<Option<f64>>,
        Vec<Option<f64>>,
        Vec<Option<f64>>,
        Vec<Option<String>>,
    ) = Default::default();
    for ((t, s), cohorts) in groups {
        let mut series = Vec::new();
        let (mut customers, mut lost) = (0i64, 0i64);
        for (observed, churn) in cohorts.values() {
            let n = (*observed).max(0) as usize;
            let mut survivors = vec![churn.len() as f64; n + 1];
            for k in churn.iter().flatten() {
                let k = (*k).max(1) as usize;
                if k <= n {
                    lost += 1;
                    for v in survivors.iter_mut().skip(k) {
                        *v -= 1.0;
                    }
                }
            }
            customers += churn.len() as i64;
            if n >= 1 {
                series.push(Cohort { survivors });
            }
        }
        let max_periods = series
            .iter()
            .map(|c| c.survivors.len() - 1)
            .max()
            .unwrap_or(0);
        let outcome: std::result::Result<Fit, String> = if customers < params.sbg_min_customers {
            Err(format!("fewer than {} customers", params.sbg_min_customers))
        } else if max_periods < 3 {
            Err("fewer than 3 months observed".into())
        } else if lost == 0 {
            Err("no churn observed".into())
        } else {
            fit(&series).ok_or_else(|| {
                "no interior maximum: churn looks homogeneous (alpha and beta unbounded)"
                    .to_string()
            })
        };
        cols.0.push(t);
        cols.1.push(s);
        cols.2.push(customers);
        cols.3.push(lost);
        match outcome {
            Ok(f) => {
                fits.0.push(Some(f.alpha));
                fits.1.push(Some(f.beta));
                fits.2.push(Some(f.log_likelihood));
                fits.3.push(Some(del(f.alpha, f.beta, discount)));
                fits.4.push(None);
            }
            Err(reason) => {
                fits.0.push(None);
                fits.1.push(None);
                fits.2.push(None);
                fits.3.push(None);
                fits.4.push(Some(reason));
            }
        }
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("segment_type", DataType::Utf8, false),
        Field::new("segment", DataType::Utf8, false),
        Field::new("customers", DataType::Int64, false),
        Field::new("churned_customers", DataType::Int64, false),
        Field::new("sbg_alpha", DataType::Float64, true),
        Field::new("sbg_beta", DataType::Float64, true),
        Field::new("sbg_log_likelihood", DataType::Float64, true),
        Field::new("sbg_del_months", DataType::Float64, true),
        Field::new("sbg_reason", DataType::Utf8, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(cols.0)),
        Arc::new(StringArray::from(cols.1)),
        Arc::new(Int64Array::from(cols.2)),
        Arc::new(Int64Array::from(cols.3)),
        Arc::new(Float64Array::from(fits.0)),
        Arc::new(Float64Array::from(fits.1)),
        Arc::new(Float64Array::from(fits.2)),
        Arc::new(Float64Array::from(fits.3)),
        Arc::new(StringArray::from(fits.4)),
    ];
    Ok(RecordBatch::try_new(schema, columns)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_distr::Distribution;

    fn cohort(s: &[f64]) -> Vec<Cohort> {
        vec![Cohort {
            survivors: s.to_vec(),
        }]
    }

    const REGULAR: [f64; 8] = [1000.0, 631.0, 468.0, 382.0, 326.0, 289.0, 262.0, 241.0];
    const HIGH_END: [f64; 8] = [1000.0, 869.0, 743.0, 653.0, 593.0, 551.0, 517.0, 491.0];

    /// Fader & Hardie (2007), tables and text: the fitted parameters, log-likelihoods,
    /// projections for years 8-12, DEL and DERL at 10%.
    #[test]
    fn reproduces_fader_hardie_2007() {
        let cases = [
            (
                REGULAR,
                0.704,
                1.182,
                -1680.27,
                [220.1, 204.4, 191.2, 179.9, 170.0],
                3.6949,
                6.8423,
            ),
            (
                HIGH_END,
                0.668,
                3.806,
                -1611.16,
                [460.4, 435.8, 414.2, 395.1, 378.0],
                5.9223,
                7.5296,
            ),
        ];
        for (data, alpha, beta, ll, projected, del_ref, derl_ref) in cases {
            let f = fit(&cohort(&data)).expect("fit");
            assert!((f.alpha - alpha).abs() < 1e-3, "alpha {}", f.alpha);
            assert!((f.beta - beta).abs() < 1e-3, "beta {}", f.beta);
            assert!(
                (f.log_likelihood - ll).abs() < 0.01,
                "ll {}",
                f.log_likelihood
            );
            let s = survival(f.alpha, f.beta, 12);
            for (i, want) in projected.iter().enumerate() {
                let got = 1000.0 * s[8 + i];
                assert!((got - want).abs() < 0.1, "year {}: {got} vs {want}", 8 + i);
            }
            // DEL/DERL with the published parameters (the paper rounds them to 3 digits).
            assert!(
                (del(alpha, beta, 0.10) - del_ref).abs() < 1e-3,
                "DEL {}",
                del(alpha, beta, 0.10)
            );
            assert!(
                (derl(alpha, beta, 0.10, 8) - derl_ref).abs() < 1e-3,
                "DERL {}",
                derl(alpha, beta, 0.10, 8)
            );
        }
    }

    #[test]
    fn recovers_known_parameters_from_a_large_sample() {
        let (alpha, beta) = (0.9, 4.0);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let mix = rand_distr::Beta::new(alpha, beta).unwrap();
        let n = 100_000;
        let periods = 12;
        let mut survivors = vec![n as f64; periods + 1];
        for _ in 0..n {
            let theta: f64 = mix.sample(&mut rng);
            let mut t = 1;
            while t <= periods && rng.gen::<f64>() >= theta {
                t += 1;
            }
            for v in survivors.iter_mut().skip(t) {
                *v -= 1.0;
            }
        }
        let f = fit(&cohort(&survivors)).unwrap();
        assert!((f.alpha - alpha).abs() / alpha < 0.05, "alpha {}", f.alpha);
        assert!((f.beta - beta).abs() / beta < 0.08, "beta {}", f.beta);
    }

    #[test]
    fn several_cohorts_of_different_ages_fit_jointly() {
        // The regular segment split into an old cohort seen 7 periods and a young one
        // seen 3: same process, so the joint fit stays near the single-cohort one.
        let young: Vec<f64> = REGULAR[..4].iter().map(|v| v / 2.0).collect();
        let old: Vec<f64> = REGULAR.iter().map(|v| v / 2.0).collect();
        let f = fit(&[Cohort { survivors: old }, Cohort { survivors: young }]).unwrap();
        assert!(
            (f.alpha - 0.704).abs() < 0.1 && (f.beta - 1.182).abs() < 0.3,
            "{f:?}"
        );
    }

    #[test]
    fn no_churn_is_not_a_fit() {
        assert_eq!(fit(&cohort(&[100.0, 100.0, 100.0, 100.0])), None);
    }
}
