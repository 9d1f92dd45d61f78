//! Data-driven attribution with an absorbing Markov chain, solved exactly.
//!
//! States are the last `order` channels of a journey (fewer at its start), plus
//! `start`, `conversion` (won) and `null` (lost). Transition probabilities are the
//! observed transition counts over all closed journeys, normalised per state. The
//! probability of reaching `conversion` from `start` solves the linear system
//! `x = Q x + r` over the transient states (Q: transient-to-transient probabilities,
//! r: probability of converting next) by restarted GMRES over the sparse rows of Q,
//! to a residual within a few ulps: the exact absorbing-chain probability to machine
//! precision (a test checks it against a dense LU solve). Each removal solves only for
//! its change from the whole chain's solution; removals run on two threads, each
//! alone. No simulation: same input, same bits.
//!
//! Removal effect of channel c: `RE_c = (p - p_without_c) / p`, where removing c sends
//! every transition into a state that contains c to `null`. Shares are `RE_c / sum RE`;
//! a channel's attributed conversions and revenue are its share of the totals.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, Int64Array, RecordBatch, StringArray,
};
use datafusion::arrow::datatypes::{DataType, Decimal128Type, Field, Schema};

use datafusion::common::HashMap;

use crate::config::Params;
use crate::error::{Error, Result};

/// One distinct path with its outcomes.
#[derive(Debug, Clone, PartialEq)]
pub struct PathCount {
    /// Channels in journey order, as indices into [`Paths::channels`].
    pub steps: Vec<u32>,
    pub conversions: f64,
    pub nulls: f64,
    pub revenue: f64,
}

/// Distinct paths over numbered channels: names are looked up once per step when the
/// paths are read, never while the chain is built.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Paths {
    /// Channel names in name order.
    pub channels: Vec<String>,
    pub paths: Vec<PathCount>,
}

impl Paths {
    /// Paths from `'>'`-separated channel names with their conversions, nulls and
    /// revenue, in the order given (the tests' way of writing paths).
    #[cfg(test)]
    pub fn parse<'a>(rows: impl IntoIterator<Item = (&'a str, f64, f64, f64)>) -> Paths {
        let mut channels = ChannelNumbers::default();
        let paths = rows
            .into_iter()
            .map(|(path, conversions, nulls, revenue)| PathCount {
                steps: path.split('>').map(|c| channels.number(c)).collect(),
                conversions,
                nulls,
                revenue,
            })
            .collect();
        channels.renumber_by_name(paths)
    }

    /// The distinct paths of journeys given step by step, in journey order:
    /// `(journey, channel, outcome, amount)`, each journey's steps consecutive, its
    /// outcome (converted or not; None: neither, not counted) and amount (minor units,
    /// `scale` decimals) repeated on each step. A path's revenue is the exact sum of
    /// its converted journeys' amounts, then made a float; paths come out in the order
    /// of their channel names, step by step.
    pub fn from_steps<'a>(
        steps: impl IntoIterator<Item = (&'a str, &'a str, Option<bool>, i128)>,
        scale: i8,
    ) -> Paths {
        #[derive(Default)]
        struct Outcomes {
            conversions: u64,
            nulls: u64,
            revenue: i128,
        }
        let mut channels = ChannelNumbers::default();
        let mut counts: HashMap<Vec<u32>, Outcomes> = HashMap::new();
        let mut path: Vec<u32> = Vec::new();
        let mut current: Option<(&str, Option<bool>, i128)> = None;
        let mut count = |path: &mut Vec<u32>, (outcome, amount): (Option<bool>, i128)| {
            let path = std::mem::take(path);
            let Some(converted) = outcome else { return };
            let outcomes = counts.entry(path).or_default();
            if converted {
                outcomes.conversions += 1;
                outcomes.revenue += amount;
            } else {
                outcomes.nulls += 1;
            }
        };
        for (journey, channel, converted, amount) in steps {
            match current {
                Some((id, ..)) if id == journey => {}
                Some((_, was_converted, was_amount)) => {
                    count(&mut path, (was_converted, was_amount));
                    current = Some((journey, converted, amount));
                }
                None => current = Some((journey, converted, amount)),
            }
            path.push(channels.number(channel));
        }
        if let Some((_, converted, amount)) = current {
            count(&mut path, (converted, amount));
        }
        let unit = 10_f64.powi(i32::from(scale));
        let paths = counts
            .into_iter()
            .map(|(steps, o)| PathCount {
                steps,
                conversions: o.conversions as f64,
                nulls: o.nulls as f64,
                // As SQL casts a decimal sum to DOUBLE.
                revenue: o.revenue as f64 / unit,
            })
            .collect();
        let mut paths = channels.renumber_by_name(paths);
        paths.paths.sort_unstable_by(|a, b| a.steps.cmp(&b.steps));
        paths
    }
}

/// Channel names numbered in the order first seen.
#[derive(Default)]
struct ChannelNumbers<'a> {
    index: HashMap<&'a str, u32>,
    names: Vec<&'a str>,
}

impl<'a> ChannelNumbers<'a> {
    fn number(&mut self, name: &'a str) -> u32 {
        *self.index.entry(name).or_insert_with(|| {
            self.names.push(name);
            (self.names.len() - 1) as u32
        })
    }

    /// `paths` over channels renumbered in name order.
    fn renumber_by_name(self, mut paths: Vec<PathCount>) -> Paths {
        let names = self.names;
        let mut by_name: Vec<u32> = (0..names.len() as u32).collect();
        by_name.sort_unstable_by_key(|&i| names[i as usize]);
        let mut rank = vec![0u32; names.len()];
        for (r, &i) in by_name.iter().enumerate() {
            rank[i as usize] = r as u32;
        }
        for step in paths.iter_mut().flat_map(|p| p.steps.iter_mut()) {
            *step = rank[*step as usize];
        }
        Paths {
            channels: by_name
                .iter()
                .map(|&i| names[i as usize].to_string())
                .collect(),
            paths,
        }
    }
}

/// The longest state a chain is built with (`markov_order` is at most 4).
const MAX_ORDER: usize = 4;

/// Krylov vectors kept before GMRES restarts.
const GMRES_BASIS: usize = 64;

/// The chain built from paths.
#[derive(Debug)]
pub struct Chain {
    pub channels: Vec<String>,
    /// Transient states; index 0 is `start`. Each is a tuple of channel indices.
    pub states: Vec<Vec<usize>>,
    /// Transitions between transient states, compressed by row: state `s` goes to
    /// `targets[row_start[s]..row_start[s + 1]]` (ascending) with the probabilities at
    /// the same positions of `probabilities`.
    row_start: Vec<usize>,
    targets: Vec<u32>,
    probabilities: Vec<f64>,
    /// Per state: probability of converting next.
    pub to_conversion: Vec<f64>,
}

impl Chain {
    pub fn build(paths: &Paths, order: usize) -> Chain {
        let order = order.clamp(1, MAX_ORDER);
        // A state's key: its channel indices, padded.
        const PAD: u32 = u32::MAX;
        let mut state_index: HashMap<[u32; MAX_ORDER], u32> = HashMap::new();
        state_index.insert([PAD; MAX_ORDER], 0);
        let mut states = vec![vec![]];
        let mut conv = vec![0.0];
        let mut null = vec![0.0];
        // Transition counts, states numbered in order of first appearance; each count
        // adds its paths' weights in path order.
        let mut counts: HashMap<(u32, u32), f64> = HashMap::new();
        for path in &paths.paths {
            let weight = path.conversions + path.nulls;
            if path.steps.is_empty() || weight <= 0.0 {
                continue;
            }
            let ids = &path.steps;
            let mut prev = 0u32;
            for i in 0..ids.len() {
                let tail = &ids[(i + 1).saturating_sub(order)..=i];
                let mut key = [PAD; MAX_ORDER];
                key[..tail.len()].copy_from_slice(tail);
                let next = *state_index.entry(key).or_insert_with(|| {
                    states.push(tail.iter().map(|&c| c as usize).collect());
                    conv.push(0.0);
                    null.push(0.0);
                    (states.len() - 1) as u32
                });
                *counts.entry((prev, next)).or_default() += weight;
                prev = next;
            }
            conv[prev as usize] += path.conversions;
            null[prev as usize] += path.nulls;
        }
        let mut rows: Vec<Vec<(u32, f64)>> = vec![Vec::new(); states.len()];
        for ((from, to), count) in counts {
            rows[from as usize].push((to, count));
        }
        let mut row_start = Vec::with_capacity(states.len() + 1);
        let mut targets = Vec::new();
        let mut probabilities = Vec::new();
        let mut to_conversion = Vec::with_capacity(states.len());
        row_start.push(0);
        for (s, row) in rows.iter_mut().enumerate() {
            row.sort_unstable_by_key(|&(t, _)| t);
            let total: f64 = row.iter().map(|&(_, c)| c).sum::<f64>() + conv[s] + null[s];
            if total > 0.0 {
                targets.extend(row.iter().map(|&(t, _)| t));
                probabilities.extend(row.iter().map(|&(_, c)| c / total));
                to_conversion.push(conv[s] / total);
            } else {
                to_conversion.push(0.0);
            }
            row_start.push(targets.len());
        }
        Chain {
            channels: paths.channels.clone(),
            states,
            row_start,
            targets,
            probabilities,
            to_conversion,
        }
    }

    /// Transitions out of state `s`: (target, probability).
    fn row(&self, s: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        let span = self.row_start[s]..self.row_start[s + 1];
        self.targets[span.clone()]
            .iter()
            .zip(&self.probabilities[span])
            .map(|(&t, &p)| (t as usize, p))
    }

    fn blocked(&self, removed: Option<usize>) -> Vec<bool> {
        self.states
            .iter()
            .map(|s| removed.is_some_and(|c| s.contains(&c)))
            .collect()
    }

    /// Probability of conversion from `start`, with channel `removed` taken out.
    pub fn conversion_probability(&self, removed: Option<usize>) -> f64 {
        let full = self.solve_full();
        match removed {
            None => full[0],
            Some(c) => full[0] + self.removal_change(c, &full),
        }
    }

    /// Conversion probabilities of every state: `(I - Q) x = r`.
    fn solve_full(&self) -> Vec<f64> {
        let blocked = vec![false; self.states.len()];
        gmres(|v, out| self.apply(&blocked, v, out), &self.to_conversion)
    }

    /// How `start`'s conversion probability changes when channel `c` is taken out,
    /// given the whole chain's solution `full`. With S the states containing `c` and U
    /// the rest, the removal's probabilities on U are `full + d` where
    /// `(I - Q_UU) d = -Q_US full_S`: the conversions that went through S, lost.
    /// Solving for the change, not the probabilities, keeps it exact when it is small.
    fn removal_change(&self, c: usize, full: &[f64]) -> f64 {
        let blocked = self.blocked(Some(c));
        let lost: Vec<f64> = (0..self.states.len())
            .map(|s| {
                if blocked[s] {
                    0.0
                } else {
                    -self
                        .row(s)
                        .filter(|&(t, _)| blocked[t])
                        .map(|(t, p)| p * full[t])
                        .sum::<f64>()
                }
            })
            .collect();
        gmres(|v, out| self.apply(&blocked, v, out), &lost)[0]
    }

    /// `out = (I - Q) v` with blocked states' rows at 0. Vectors that are 0 on blocked
    /// states stay so, which takes blocked states' columns out too.
    fn apply(&self, blocked: &[bool], v: &[f64], out: &mut [f64]) {
        for (s, o) in out.iter_mut().enumerate() {
            *o = if blocked[s] {
                0.0
            } else {
                v[s] - self.row(s).map(|(t, p)| p * v[t]).sum::<f64>()
            };
        }
    }

    /// The same probability by a dense LU solve of `(I - Q) x = r` (for checking).
    pub fn conversion_probability_dense(&self, removed: Option<usize>) -> f64 {
        let blocked = self.blocked(removed);
        let n = self.states.len();
        let mut a = vec![vec![0.0f64; n + 1]; n];
        for s in 0..n {
            a[s][s] = 1.0;
            if blocked[s] {
                continue;
            }
            for (t, p) in self.row(s) {
                if !blocked[t] {
                    a[s][t] -= p;
                }
            }
            a[s][n] = self.to_conversion[s];
        }
        for col in 0..n {
            let pivot = (col..n)
                .max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))
                .expect("rows");
            a.swap(col, pivot);
            let d = a[col][col];
            for k in col..=n {
                a[col][k] /= d;
            }
            for r in 0..n {
                if r != col && a[r][col] != 0.0 {
                    let f = a[r][col];
                    for k in col..=n {
                        a[r][k] -= f * a[col][k];
                    }
                }
            }
        }
        a[0][n]
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Solves `A x = b` by restarted GMRES (modified Gram-Schmidt, Givens rotations) from
/// `x = 0`, until the true residual is within a few ulps of `b` or stops shrinking.
/// `I - Q` of an absorbing chain has one slow mode (the expected journey length) and
/// the rest near 1, so a few dozen Krylov vectors solve it to machine precision where
/// Gauss-Seidel needs hundreds of sweeps. Sequential and in a fixed order: the same
/// bits on every run.
fn gmres(apply: impl Fn(&[f64], &mut [f64]), b: &[f64]) -> Vec<f64> {
    let n = b.len();
    let mut x = vec![0.0f64; n];
    let b_norm = dot(b, b).sqrt();
    if b_norm == 0.0 {
        return x;
    }
    let tolerance = b_norm * 1e-15;
    let basis = GMRES_BASIS.min(n);
    let mut residual = b.to_vec();
    let mut work = vec![0.0f64; n];
    let mut previous = f64::INFINITY;
    for _restart in 0..100 {
        let beta = dot(&residual, &residual).sqrt();
        if beta <= tolerance || beta >= previous * 0.5 {
            break;
        }
        previous = beta;
        // A cycle's estimate stalls near 1e-14 of where it started (rounding in the
        // basis); restarting from the true residual goes on from there.
        let cycle_tolerance = tolerance.max(beta * 1e-12);
        let mut v: Vec<Vec<f64>> = vec![residual.iter().map(|r| r / beta).collect()];
        // h[j]: column j of the Hessenberg matrix, rotated.
        let mut h: Vec<Vec<f64>> = Vec::with_capacity(basis);
        let mut rotations: Vec<(f64, f64)> = Vec::with_capacity(basis);
        let mut g = vec![beta];
        for j in 0..basis {
            apply(&v[j], &mut work);
            let mut column = Vec::with_capacity(j + 2);
            for vi in &v {
                let hij = dot(&work, vi);
                for (w, x) in work.iter_mut().zip(vi) {
                    *w -= hij * x;
                }
                column.push(hij);
            }
            let norm = dot(&work, &work).sqrt();
            column.push(norm);
            for (i, &(c, s)) in rotations.iter().enumerate() {
                let (a, b) = (column[i], column[i + 1]);
                column[i] = c * a + s * b;
                column[i + 1] = -s * a + c * b;
            }
            let (a, b) = (column[j], column[j + 1]);
            let r = a.hypot(b);
            let (c, s) = if r == 0.0 { (1.0, 0.0) } else { (a / r, b / r) };
            column[j] = r;
            column[j + 1] = 0.0;
            rotations.push((c, s));
            g.push(-s * g[j]);
            g[j] *= c;
            h.push(column);
            if g[j + 1].abs() <= cycle_tolerance || norm == 0.0 {
                break;
            }
            v.push(work.iter().map(|w| w / norm).collect());
        }
        // Back-substitute the k×k triangle and add the correction.
        let k = h.len();
        let mut y = vec![0.0f64; k];
        for i in (0..k).rev() {
            let tail: f64 = (i + 1..k).map(|l| h[l][i] * y[l]).sum();
            y[i] = (g[i] - tail) / h[i][i];
        }
        for (yi, vi) in y.iter().zip(&v) {
            for (x, v) in x.iter_mut().zip(vi) {
                *x += yi * v;
            }
        }
        apply(&x, &mut work);
        for ((r, b), w) in residual.iter_mut().zip(b).zip(&work) {
            *r = b - w;
        }
    }
    x
}

/// Removal effect and share of one channel.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelEffect {
    pub channel: String,
    pub removal_effect: f64,
    pub share: f64,
    pub conversions: f64,
    pub revenue: f64,
}

pub fn attribute(paths: &Paths, order: usize) -> (f64, Vec<ChannelEffect>) {
    let chain = Chain::build(paths, order);
    let full = chain.solve_full();
    let p = full[0];
    // One removal per channel, each from the whole chain's solution, on two threads
    // (each removal is solved alone: the same bits whatever the thread count).
    let removal = |c: usize| {
        if p > 0.0 {
            (-chain.removal_change(c, &full) / p).max(0.0)
        } else {
            0.0
        }
    };
    let n = chain.channels.len();
    let (mut effects, second): (Vec<f64>, Vec<f64>) = crate::parallel::join(
        || (0..n / 2).map(removal).collect(),
        || (n / 2..n).map(removal).collect(),
    );
    effects.extend(second);
    let total_effect: f64 = effects.iter().sum();
    let conversions: f64 = paths.paths.iter().map(|p| p.conversions).sum();
    let revenue: f64 = paths.paths.iter().map(|p| p.revenue).sum();
    let out = chain
        .channels
        .iter()
        .zip(&effects)
        .map(|(channel, &re)| {
            let share = if total_effect > 0.0 {
                re / total_effect
            } else {
                0.0
            };
            ChannelEffect {
                channel: channel.clone(),
                removal_effect: re,
                share,
                conversions: share * conversions,
                revenue: share * revenue,
            }
        })
        .collect();
    (p, out)
}

/// The steps of each opportunity must come together: split, they would count as two
/// paths (a replaced `attribution_paths` query without its `-- ordered:` line).
fn check_journey_order(opportunity: &StringArray) -> Result<()> {
    let mut finished: std::collections::HashSet<&str> = std::collections::HashSet::new();
    let mut current: Option<&str> = None;
    for (row, id) in opportunity.iter().enumerate() {
        let Some(id) = id else { continue };
        if current == Some(id) {
            continue;
        }
        if let Some(done) = current {
            finished.insert(done);
        }
        if finished.contains(id) {
            return Err(Error::QueryGraph(format!(
                "attribution_paths: the steps of opportunity {id} are not together \
                 (again at row {}): the Markov model reads them in journey order, \
                 `-- ordered: opportunity_id, ts, touch_id`",
                row + 1
            )));
        }
        current = Some(id);
    }
    Ok(())
}

/// The `attribution_markov` step over `attribution_paths`: the window journeys of
/// closed opportunities step by step, in journey order (see its SQL).
pub fn markov_table(input: &RecordBatch, params: &Params) -> Result<RecordBatch> {
    let column = |name: &str| input.column_by_name(name).expect("checked model input");
    let opportunity = column("opportunity_id").as_string::<i32>();
    let channel = column("channel").as_string::<i32>();
    let status = column("status").as_string::<i32>();
    let amount = column("amount").as_primitive::<Decimal128Type>();
    let DataType::Decimal128(_, scale) = *amount.data_type() else {
        unreachable!("checked model input")
    };
    check_journey_order(opportunity)?;
    let paths = Paths::from_steps(
        (0..input.num_rows())
            .filter(|&r| opportunity.is_valid(r) && channel.is_valid(r))
            .map(|r| {
                (
                    opportunity.value(r),
                    channel.value(r),
                    match status.is_valid(r).then(|| status.value(r)) {
                        Some("won") => Some(true),
                        Some("lost") => Some(false),
                        _ => None,
                    },
                    if amount.is_valid(r) {
                        amount.value(r)
                    } else {
                        0
                    },
                )
            }),
        scale,
    );
    // Without a journey that did not convert (no lost opportunity in the inputs) every
    // channel's removal would lose every conversion, and without a conversion there is
    // nothing to lose: either way nothing tells channels apart, so the model is not
    // fitted and the table has no rows.
    let unfit = |paths: &Paths| {
        paths.paths.iter().all(|p| p.nulls == 0.0)
            || paths.paths.iter().all(|p| p.conversions == 0.0)
    };
    let paths = if unfit(&paths) {
        Paths::default()
    } else {
        paths
    };
    let order = params.markov_order as usize;
    let (p, effects) = attribute(&paths, order);
    let schema = Arc::new(Schema::new(vec![
        Field::new("channel", DataType::Utf8, false),
        Field::new("removal_effect", DataType::Float64, false),
        Field::new("share", DataType::Float64, false),
        Field::new("conversions", DataType::Float64, false),
        Field::new("revenue", DataType::Float64, false),
        Field::new("conversion_probability", DataType::Float64, false),
        Field::new("markov_order", DataType::Int64, false),
    ]));
    let n = effects.len();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            effects.iter().map(|e| e.channel.as_str()),
        )),
        Arc::new(Float64Array::from_iter_values(
            effects.iter().map(|e| e.removal_effect),
        )),
        Arc::new(Float64Array::from_iter_values(
            effects.iter().map(|e| e.share),
        )),
        Arc::new(Float64Array::from_iter_values(
            effects.iter().map(|e| e.conversions),
        )),
        Arc::new(Float64Array::from_iter_values(
            effects.iter().map(|e| e.revenue),
        )),
        Arc::new(Float64Array::from(vec![p; n])),
        Arc::new(Int64Array::from(vec![order as i64; n])),
    ];
    Ok(RecordBatch::try_new(schema, columns)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// Journeys step by step become distinct paths: outcomes counted per path, won
    /// amounts summed exactly (cents), open journeys not counted, paths in channel
    /// name order whatever order the journeys come in.
    #[test]
    fn journeys_step_by_step_become_counted_paths() {
        let steps = [
            ("o1", "B", Some(true), 10_000),
            ("o1", "A", Some(true), 10_000),
            ("o2", "A", Some(false), 7_000),
            ("o3", "B", Some(true), 5_050),
            ("o4", "B", Some(true), 2_001),
            ("o4", "A", Some(true), 2_001),
            ("o5", "A", None, 900),
            ("o6", "B", Some(false), 300),
            ("o6", "A", Some(false), 300),
        ];
        let paths = Paths::from_steps(steps, 2);
        assert_eq!(paths.channels, ["A", "B"]);
        let got: Vec<(Vec<u32>, f64, f64, f64)> = paths
            .paths
            .iter()
            .map(|p| (p.steps.clone(), p.conversions, p.nulls, p.revenue))
            .collect();
        assert_eq!(
            got,
            [
                (vec![0], 0.0, 1.0, 0.0),
                (vec![1], 1.0, 0.0, 50.5),
                (vec![1, 0], 2.0, 1.0, 120.01),
            ]
        );
    }

    /// Channel names are taken as they are: `a>b` and `a_b` stay two channels (path
    /// strings used to turn one into the other).
    #[test]
    fn channel_names_with_separators_stay_distinct() {
        let steps = [
            ("o1", "a>b", Some(true), 100),
            ("o2", "a_b", Some(false), 100),
        ];
        let paths = Paths::from_steps(steps, 2);
        assert_eq!(paths.channels, ["a>b", "a_b"]);
        assert_eq!(paths.paths.len(), 2);
    }

    /// An opportunity whose steps are split would count as two paths: refused.
    #[test]
    fn split_journeys_are_refused() {
        let ids = StringArray::from(vec!["o1", "o1", "o2", "o1"]);
        let err = check_journey_order(&ids).unwrap_err().to_string();
        assert!(
            err.contains("opportunity o1") && err.contains("row 4"),
            "{err}"
        );
        assert!(check_journey_order(&StringArray::from(vec!["o1", "o1", "o2"])).is_ok());
    }

    /// Paths from (channels, conversions, nulls), revenue 100 per conversion.
    fn paths(rows: &[(&str, f64, f64)]) -> Paths {
        Paths::parse(rows.iter().map(|&(p, c, n)| (p, c, n, c * 100.0)))
    }

    /// Journeys: A>B converts once, A fails once, B converts once.
    /// Transitions: start->A 2/3, start->B 1/3; A->B 1/2, A->null 1/2; B->conv 1.
    /// p = 2/3 * 1/2 + 1/3 = 2/3.
    /// Without A: only start->B survives: p = 1/3, RE_A = (2/3 - 1/3) / (2/3) = 1/2.
    /// Without B: start->A->(B blocked) ... never converts: p = 0, RE_B = 1.
    /// Shares: A 1/3, B 2/3; conversions 2 -> A 2/3, B 4/3.
    #[test]
    fn hand_solved_removal_effects() {
        let paths = paths(&[("A>B", 1.0, 0.0), ("A", 0.0, 1.0), ("B", 1.0, 0.0)]);
        let (p, effects) = attribute(&paths, 1);
        assert!((p - 2.0 / 3.0).abs() < 1e-15);
        assert_eq!(effects[0].channel, "A");
        assert!((effects[0].removal_effect - 0.5).abs() < 1e-15);
        assert!((effects[1].removal_effect - 1.0).abs() < 1e-15);
        assert!((effects[0].share - 1.0 / 3.0).abs() < 1e-15);
        assert!((effects[1].conversions - 4.0 / 3.0).abs() < 1e-12);
        assert!((effects[1].revenue - 400.0 / 3.0).abs() < 1e-9);
    }

    /// A loop: A>B>A converts. start->A 1; A->B 1/2, A->conv 1/2; B->A 1.
    /// p = 1 (every walk ends in conversion). Without A nothing converts: RE_A = 1.
    /// Without B, A converts half the time: RE_B = 1/2. Shares 2/3 and 1/3.
    #[test]
    fn loops_are_solved_exactly() {
        let (p, effects) = attribute(&paths(&[("A>B>A", 1.0, 0.0)]), 1);
        assert!((p - 1.0).abs() < 1e-14, "{p}");
        assert!((effects[0].removal_effect - 1.0).abs() < 1e-14);
        assert!((effects[1].removal_effect - 0.5).abs() < 1e-14);
        assert!((effects[0].share - 2.0 / 3.0).abs() < 1e-14);
    }

    #[test]
    fn order_two_states_are_pairs_of_last_channels() {
        let chain = Chain::build(&paths(&[("A>B>C", 1.0, 0.0), ("B>C", 0.0, 1.0)]), 2);
        let names: Vec<String> = chain
            .states
            .iter()
            .map(|s| {
                s.iter()
                    .map(|&i| chain.channels[i].as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect();
        assert_eq!(names, ["", "A", "A,B", "B,C", "B"]);
        // B,C is reached by both paths: one conversion, one null.
        assert_eq!(chain.to_conversion[3], 0.5);
    }

    #[test]
    fn agrees_with_a_dense_solve_and_is_deterministic() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let channels = ["a", "b", "c", "d", "e", "f"];
        for order in [1, 2, 3] {
            for _ in 0..20 {
                let rows: Vec<(String, f64, f64, f64)> = (0..30)
                    .map(|_| {
                        let len = rng.gen_range(1..6);
                        let chs: Vec<&str> = (0..len)
                            .map(|_| channels[rng.gen_range(0..channels.len())])
                            .collect();
                        let conversions = rng.gen_range(0..4) as f64;
                        (chs.join(">"), conversions, rng.gen_range(0..4) as f64, 0.0)
                    })
                    .collect();
                let paths = Paths::parse(rows.iter().map(|(p, c, n, r)| (p.as_str(), *c, *n, *r)));
                let chain = Chain::build(&paths, order);
                for removed in std::iter::once(None).chain((0..chain.channels.len()).map(Some)) {
                    let sparse = chain.conversion_probability(removed);
                    let dense = chain.conversion_probability_dense(removed);
                    assert!(
                        (sparse - dense).abs() < 1e-12,
                        "order {order}: {sparse} vs {dense}"
                    );
                }
                assert_eq!(attribute(&paths, order), attribute(&paths, order));
            }
        }
    }

    #[test]
    fn fifty_channels_at_order_two_is_fast() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let rows: Vec<(String, f64, f64)> = (0..5000)
            .map(|_| {
                let len = rng.gen_range(1..8);
                let channels: Vec<String> = (0..len)
                    .map(|_| format!("ch{:02}", rng.gen_range(0..50)))
                    .collect();
                let conversions = rng.gen_range(0..2) as f64;
                (channels.join(">"), conversions, rng.gen_range(0..3) as f64)
            })
            .collect();
        let paths = Paths::parse(rows.iter().map(|(p, c, n)| (p.as_str(), *c, *n, 0.0)));
        for order in [1, 2] {
            let (_, effects) = attribute(&paths, order);
            assert_eq!(effects.len(), 50);
            let total: f64 = effects.iter().map(|e| e.share).sum();
            assert!((total - 1.0).abs() < 1e-12);
        }
    }
}
