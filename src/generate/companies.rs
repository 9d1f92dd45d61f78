//! Firmographics and the data provider's company universe (`companies`): five
//! companies per CRM account, the CRM accounts among them.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal};

use super::market::{pick_weighted, INDUSTRIES, NAME_A, NAME_B, REGIONS, TECHNOLOGIES};
use super::sink::Sink;
use super::GenerateOptions;
use crate::error::Result;

/// The reference-firmographics universe (`companies`) is this many times the CRM.
pub(super) const COMPANIES_PER_ACCOUNT: usize = 5;

pub(super) fn company_id(n: usize) -> String {
    format!("CO{:07}", n + 1)
}

/// What a data provider knows about a company, plus the hidden ICP fit it implies.
pub(super) struct Firmographics {
    pub(super) industry: &'static (&'static str, f64, f64),
    pub(super) region: &'static (&'static str, f64, f64, &'static [&'static str]),
    pub(super) country: &'static str,
    pub(super) employees: i64,
    pub(super) techs: Vec<&'static str>,
    /// Linear ICP fit before the random account-level term and the sigmoid.
    pub(super) fit_raw: f64,
}

pub(super) fn firmographics(rng: &mut ChaCha8Rng) -> Firmographics {
    let industry = pick_weighted(rng, INDUSTRIES, |x| x.1);
    let region = pick_weighted(rng, REGIONS, |x| x.1);
    let country = region.3[rng.gen_range(0..region.3.len())];
    let employees = (LogNormal::new((300f64).ln(), 1.3)
        .expect("lognormal")
        .sample(rng) as i64)
        .clamp(5, 150_000);
    let mut techs: Vec<&str> = Vec::new();
    let mut fit_raw = industry.2 + region.2 + rng.gen::<f64>() * 0.6 - 0.3;
    fit_raw += match employees {
        0..=49 => -0.5,
        50..=199 => 0.1,
        200..=4999 => 0.45,
        _ => 0.2,
    };
    for t in TECHNOLOGIES {
        if rng.gen::<f64>() < t.1 {
            techs.push(t.0);
            fit_raw += t.2;
        }
    }
    Firmographics {
        industry,
        region,
        country,
        employees,
        techs,
        fit_raw,
    }
}

/// A made-up company name ending in `suffix`, and its domain.
pub(super) fn company_name(rng: &mut ChaCha8Rng, suffix: &str) -> (String, String) {
    let name = format!(
        "{}{} {suffix}",
        NAME_A[rng.gen_range(0..NAME_A.len())],
        NAME_B[rng.gen_range(0..NAME_B.len())],
    );
    let domain = format!("{}.example", name.to_lowercase().replace(' ', "-"));
    (name, domain)
}

pub(super) fn company_row(
    sink: &mut Sink,
    n: usize,
    domain: &str,
    name: &str,
    f: &Firmographics,
) -> Result<()> {
    sink.text(&company_id(n))
        .text(domain)
        .text(name)
        .text(f.industry.0)
        .int(f.employees)
        .text(f.region.0)
        .text(f.country)
        .text(&f.techs.join(";"));
    sink.end_row()
}

/// Companies of the provider's universe that are not (yet) CRM accounts: the
/// look-alike prospects. Each draws from its own seeded stream.
pub(super) fn prospect_companies(options: &GenerateOptions, sink: &mut Sink) -> Result<()> {
    for a in 0..options.accounts {
        for k in 1..COMPANIES_PER_ACCOUNT {
            let n = a * COMPANIES_PER_ACCOUNT + k;
            let seed = (options.seed ^ 0xC0FF_EE00_D15C_0DE5_u64)
                .wrapping_add((n as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let f = firmographics(&mut rng);
            let (name, domain) = company_name(&mut rng, &format!("Co {}", n + 1));
            company_row(sink, n, &domain, &name, &f)?;
        }
    }
    Ok(())
}
