//! The error budget of a gap measurement: is gap(N_max, t) larger than the errors of the
//! two numerical methods?
//!
//! * PDE grid error ([`pde_richardson`]): R(ρ_t) on the grid h and on a grid refined ×2 per
//!   axis; for a second-order scheme R_h − R = Ch² + …, so the error of R_h is
//!   ≈ (4/3)|R_h − R_{h/2}| (2|R_h − R_{h/2}| at T = 0, where the SG flux is first-order upwind).
//! * Time-step bias, exactly ([`exact_step_bias`], 1D): the N = ∞ limit of the discrete-time
//!   particle scheme ([`crate::discrete`]) against the PDE on the refined grid, signed, with the
//!   two computations' error estimates as its se — no particle rerun at all.
//! * Time-step bias, by rerun ([`time_step_bias`]; per seed [`half_step_records`], reduced by
//!   [`time_step_bias_of`], so that shards can run the seeds): mean R_N at the step η (from the sweep) and at η/2,
//!   largest N, the same seeds (common random numbers, so the difference has a small standard
//!   error). Euler–Maruyama has weak order 1, so the bias of the η run is
//!   ≈ 2|mean R_N(η) − mean R_N(η/2)|; both the raw difference and this estimate are reported,
//!   and the verdict uses the bound 2(|difference| + 2 se) so that an unresolved bias cannot pass.
//! * [`error_budget`]: per t, trustworthy iff both errors are ≤ |gap(N_max, t)| / 10, the
//!   gap itself is resolved, |gap| ≥ 2 se, the gaps at every N have one sign and the slope fit
//!   (with its seed-jackknife interval) succeeded. Below [`MIN_SEEDS`] seeds every row carries
//!   a warning: per-seed values are skewed, and the sample se is biased low exactly when a
//!   sample comes out low.

use crate::coupled::{CoupledCv, ResidualPath};
use crate::error::CompareError;
use crate::stats::Summary;
use crate::sweep::{pde_risk_at, AdjointPart, GapTable};
use mfl_core::MeanField;
use mfl_particles::{Dynamics, Recording};
use mfl_pde::{FvProblem, NoObserver, RunOptions};

/// The grid error of R(ρ_t) at one time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PdeErrorEstimate {
    /// Time.
    pub time: f64,
    /// R on the grid h.
    pub risk_coarse: f64,
    /// R on the grid h/2.
    pub risk_fine: f64,
    /// (4/3)|R_h − R_{h/2}|: the estimated error of R_h.
    pub error: f64,
}

/// The grid error of the sweep's R(ρ_t): solve the refined problem `fine` (grid ×2 per axis,
/// and a fixed time step ÷4 so that an O(dt) = O(h²) time error refines with it) with its own
/// options, and compare with `table.pde_risk` — exactly the values the gaps were measured
/// against. Error of the coarse run ≈ |R_h − R_{h/2}|·p/(p − 1) with p = 2^order: 4/3 for the
/// second-order Scharfetter–Gummel scheme at T > 0, 2 at T = 0 (pure upwind, first order).
pub fn pde_richardson(
    table: &GapTable,
    fine: &FvProblem,
    rho0_fine: Vec<f64>,
    fine_opts: &RunOptions,
) -> Result<Vec<PdeErrorEstimate>, CompareError> {
    let (rf, _) = pde_risk_at(fine, rho0_fine, fine_opts, &table.times, &mut NoObserver)?;
    let factor = if fine.temperature > 0.0 {
        4.0 / 3.0
    } else {
        2.0
    };
    Ok(table
        .times
        .iter()
        .zip(table.pde_risk.iter().zip(&rf))
        .map(|(&t, (&c, &f))| PdeErrorEstimate {
            time: t,
            risk_coarse: c,
            risk_fine: f,
            error: (c - f).abs() * factor,
        })
        .collect())
}

/// The time-step bias at one time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepBias {
    /// Time.
    pub time: f64,
    /// mean R_N at η (the sweep's runs).
    pub mean_eta: f64,
    /// mean R_N at η/2.
    pub mean_half: f64,
    /// mean R_N(η) − mean R_N(η/2).
    pub difference: f64,
    /// Standard error of the difference (from the paired per-seed differences).
    pub difference_se: f64,
    /// The signed bias of the η runs: 2·difference for the η/2 rerun (weak order 1), the
    /// difference itself for the exact discrete-time limit.
    pub bias: f64,
    /// Whether `bias` is the exact discrete-time limit ([`exact_step_bias`]) rather than the
    /// η/2 extrapolation.
    pub exact: bool,
}

impl StepBias {
    /// Standard error of `bias`: 2·se(difference) for the rerun; for the exact limit, the
    /// error estimate of the two deterministic computations.
    pub fn bias_se(&self) -> f64 {
        if self.exact {
            self.difference_se
        } else {
            2.0 * self.difference_se
        }
    }
}

/// The time-step bias without any particle rerun (1D grids, constant η and T, exact
/// gradients), from the N = ∞ law of the Euler–Maruyama scheme
/// ([`crate::discrete`], started from the particles' own initial law): with R_h its risk at step
/// h, weak order 1 gives R_h = R_0 + a h + b h² + …, so three step sizes give the second-order
/// extrapolation R_0 ≈ (8R_{η/4} − 6R_{η/2} + R_η)/3 and the bias of the η runs
/// R_η − R_0 (signed). Its se is the difference from the first-order estimate
/// 2(R_η − R_{η/2}) (the usual error estimate of an extrapolation) plus the discrete limit's
/// own refinement error (refine 2 vs 4, ×6 for the extrapolation weights). Nothing here uses
/// the PDE, so the PDE's grid error and the O(h²) difference between ρ₀ and the particles'
/// cell-uniform initial law stay in `pde_error`.
pub fn exact_step_bias(
    table: &GapTable,
    eval: &MeanField,
    grid: &mfl_core::Grid,
    rho0: &[f64],
    temperature: f64,
    eta: f64,
) -> Result<Vec<StepBias>, CompareError> {
    use crate::discrete::{euler_maruyama_law, euler_maruyama_limit};
    let times = &table.times;
    let r1 = euler_maruyama_limit(eval, grid, rho0, temperature, eta, times, 2)?;
    let r2 = euler_maruyama_law(eval, grid, rho0, temperature, 0.5 * eta, times, 4)?;
    let r4 = euler_maruyama_law(eval, grid, rho0, temperature, 0.25 * eta, times, 4)?;
    Ok((0..times.len())
        .map(|j| {
            let (a, b, c) = (r1.risk[j], r2.risk[j], r4.risk[j]);
            let r0 = (8.0 * c - 6.0 * b + a) / 3.0;
            let bias = a - r0;
            let first = 2.0 * (a - b);
            StepBias {
                time: times[j],
                mean_eta: a,
                mean_half: b,
                difference: a - b,
                difference_se: (bias - first).abs() + 6.0 * r1.risk_error[j],
                bias,
                exact: true,
            }
        })
        .collect())
}

/// Rerun the largest N of `table` with `dynamics_half` (the same dynamics with η/2; give it
/// `with_noise_halvings(1)` so that it runs on the same Brownian paths and the paired
/// difference has a small standard error) on the table's seeds and times, and compare per
/// seed. When the table used the coupled control
/// variate, the η/2 run is coupled too (in the same residual path) and the corrected values
/// are compared, so the bias is that of the estimator the gap uses.
///
/// This is [`half_step_records`] on every seed followed by [`time_step_bias_of`]; a sharded
/// sweep runs the records of its seeds in any process and reduces them the same way.
pub fn time_step_bias(
    table: &GapTable,
    dynamics_half: &Dynamics,
    eval: &MeanField,
) -> Result<Vec<StepBias>, CompareError> {
    let n = table.ns[table.largest_n_index()];
    if dynamics_half.n != n {
        return Err(CompareError::invalid(
            "dynamics_half",
            format!("has N = {}, the sweep's largest N is {n}", dynamics_half.n),
        ));
    }
    let records = half_step_records(
        table.adjoint.as_ref(),
        table.path.as_ref(),
        &table.times,
        dynamics_half,
        eval,
        &table.seeds,
    )?;
    time_step_bias_of(table, &records)
}

/// What the time-step bias needs of the η/2 rerun of one seed: the values at every record time.
#[derive(Debug, Clone, PartialEq)]
pub struct HalfStepRecord {
    /// The seed.
    pub seed: u64,
    /// R_N(θ(t_j)) of the η/2 run.
    pub risk: Vec<f64>,
    /// The adjoint control variate Z_R(t_j) of the η/2 run (adjoint sweeps).
    pub z_risk: Option<Vec<f64>>,
    /// R_N of the η/2 run's independent McKean–Vlasov copy (coupled sweeps).
    pub bar_risk: Option<Vec<f64>>,
}

/// The η/2 reruns of `seeds` (any subset of the sweep's, in any order) with the sweep's
/// adjoint fields (`adjoint`) or residual path (`path`), recorded at `times`; one record per
/// seed, in the order of `seeds`. Each depends on its seed alone.
pub fn half_step_records(
    adjoint: Option<&AdjointPart>,
    path: Option<&ResidualPath>,
    times: &[f64],
    dynamics_half: &Dynamics,
    eval: &MeanField,
    seeds: &[u64],
) -> Result<Vec<HalfStepRecord>, CompareError> {
    let recording = Recording::at(times.to_vec());
    if let Some(part) = adjoint {
        // the η/2 run with the same adjoint fields: Z is exactly zero-mean at any step, so
        // the paired difference of the corrected values is the bias of the estimator used
        let runs = part.run(dynamics_half, eval, seeds, &recording, |_| {})?;
        return Ok(runs
            .into_iter()
            .map(|(tr, z)| HalfStepRecord {
                seed: tr.seed,
                z_risk: Some((0..times.len()).map(|j| z[j][2 * j]).collect()),
                risk: tr.risk,
                bar_risk: None,
            })
            .collect());
    }
    Ok(match path {
        Some(path) => {
            let field = |t: f64, out: &mut [f64]| path.at(t, out);
            dynamics_half
                .run_seeds_coupled(eval, seeds, &recording, &field, |_| {})?
                .into_iter()
                .map(|(tr, ind)| HalfStepRecord {
                    seed: tr.seed,
                    risk: tr.risk,
                    z_risk: None,
                    bar_risk: Some(ind.risk),
                })
                .collect()
        }
        None => dynamics_half
            .run_seeds(eval, seeds, &recording, |_, _| {})?
            .into_iter()
            .map(|tr| HalfStepRecord {
                seed: tr.seed,
                risk: tr.risk,
                z_risk: None,
                bar_risk: None,
            })
            .collect(),
    })
}

/// The time-step bias per record time from the η/2 records of every seed of `table` (each
/// exactly once, any order; taken in the table's seed order), paired with the table's largest
/// N. A missing, repeated or foreign seed, or a record without the field the table's control
/// variate needs, is refused.
pub fn time_step_bias_of(
    table: &GapTable,
    records: &[HalfStepRecord],
) -> Result<Vec<StepBias>, CompareError> {
    let i_n = table.largest_n_index();
    let n = table.ns[i_n];
    let nt = table.times.len();
    let mut ordered = Vec::with_capacity(table.seeds.len());
    for &s in &table.seeds {
        let mut it = records.iter().filter(|r| r.seed == s);
        let r = it.next().ok_or_else(|| {
            CompareError::invalid("half_step_records", format!("seed {s} is missing"))
        })?;
        if it.next().is_some() {
            return Err(CompareError::invalid(
                "half_step_records",
                format!("seed {s} is given twice"),
            ));
        }
        let ok = r.risk.len() == nt
            && r.z_risk.as_ref().map(Vec::len) == table.adjoint.as_ref().map(|_| nt)
            && (r.bar_risk.as_ref().map(Vec::len)
                == (table.adjoint.is_none() && table.path.is_some()).then_some(nt));
        if !ok {
            return Err(CompareError::invalid(
                "half_step_records",
                format!("seed {s} does not hold the values of this sweep"),
            ));
        }
        ordered.push(r);
    }
    if records.len() != ordered.len() {
        return Err(CompareError::invalid(
            "half_step_records",
            "holds seeds that are not the sweep's",
        ));
    }
    table
        .times
        .iter()
        .enumerate()
        .map(|(j, &t)| {
            let row = table.row(i_n, j);
            if table.adjoint.is_some() {
                let coarse = row.best_risk_samples().to_vec();
                let half: Vec<f64> = ordered
                    .iter()
                    .map(|r| r.risk[j] - r.z_risk.as_ref().expect("checked")[j])
                    .collect();
                return Ok(step_bias(t, &coarse, &half));
            }
            let raw: Vec<f64> = ordered.iter().map(|r| r.risk[j]).collect();
            let (coarse, half) = match (&row.coupled, table.path.is_some()) {
                (Some(cv), true) => {
                    let bar: Vec<f64> = ordered
                        .iter()
                        .map(|r| r.bar_risk.as_ref().expect("checked")[j])
                        .collect();
                    // the sweep's β: a fixed coefficient keeps the pairing exact
                    let half = CoupledCv::with_beta(
                        &raw,
                        &bar,
                        table.pde_risk[j],
                        table.pde_fluctuation[j],
                        n,
                        cv.beta,
                    )?;
                    (cv.risk_samples.clone(), half.risk_samples)
                }
                _ => (row.risk_samples.clone(), raw),
            };
            Ok(step_bias(t, &coarse, &half))
        })
        .collect()
}

/// The paired η − η/2 comparison of per-seed values.
fn step_bias(t: f64, coarse: &[f64], half: &[f64]) -> StepBias {
    let diff: Vec<f64> = coarse.iter().zip(half).map(|(a, b)| a - b).collect();
    let d = Summary::of(&diff);
    StepBias {
        time: t,
        mean_eta: crate::stats::mean(coarse),
        mean_half: crate::stats::mean(half),
        difference: d.mean,
        difference_se: d.se,
        bias: 2.0 * d.mean,
        exact: false,
    }
}

/// Below this many seeds the budget warns that standard errors and intervals are unreliable.
pub const MIN_SEEDS: usize = 50;

/// The verdict at one time.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetRow {
    /// Time.
    pub time: f64,
    /// |gap| of the risk at the largest N (control-variate corrected at t = 0).
    pub gap_largest_n: f64,
    /// Its standard error.
    pub gap_se: f64,
    /// The PDE grid error of R(ρ_t).
    pub pde_error: f64,
    /// The time-step bias of R_N, signed (negative: the η runs' risk is too low).
    pub step_bias: f64,
    /// Standard error of the bias estimate (2·se of the paired η − η/2 difference, or the
    /// error estimate of the exact discrete-time limit): a bias below ~2 of these is not
    /// resolved.
    pub step_bias_se: f64,
    /// Whether the bias is the exact N = ∞ limit of the discrete-time scheme.
    pub step_bias_exact: bool,
    /// Both errors ≤ |gap| / 10, |gap| ≥ 2 se, gaps of one sign at every N, and a slope fit.
    pub trustworthy: bool,
    /// Which error is too large and by how much (None when trustworthy).
    pub warning: Option<String>,
}

/// Join the sweep with the two error estimates (one per record time, in the table's order).
pub fn error_budget(
    table: &GapTable,
    pde_error: &[PdeErrorEstimate],
    step_bias: &[StepBias],
) -> Result<Vec<BudgetRow>, CompareError> {
    let m = table.times.len();
    if pde_error.len() != m || step_bias.len() != m {
        return Err(CompareError::invalid(
            "error_budget",
            format!(
                "{m} times in the table, {} PDE error estimates, {} step biases",
                pde_error.len(),
                step_bias.len()
            ),
        ));
    }
    let i_n = table.largest_n_index();
    let n = table.ns[i_n];
    Ok((0..m)
        .map(|j| {
            let t = table.times[j];
            let (g, se) = table.row(i_n, j).best_gap_risk();
            let gap = g.abs();
            let limit = gap / 10.0;
            let (pe, sb) = (pde_error[j].error, step_bias[j].bias.abs());
            let mut why = Vec::new();
            if !(gap >= 2.0 * se) {
                why.push(format!(
                    "the gap is not resolved from the seeds' noise (|gap| = {gap:.3e} < 2 se = \
                     {:.3e}; more seeds)",
                    2.0 * se
                ));
            }
            if !(pe <= limit) {
                why.push(format!(
                    "PDE grid error {pe:.3e} is {:.1}× the limit |gap|/10 = {limit:.3e} (refine the grid)",
                    pe / limit
                ));
            }
            let (_, gaps, _) = table.risk_gaps(j);
            if !(gaps.iter().all(|g| *g > 0.0) || gaps.iter().all(|g| *g < 0.0)) {
                why.push("the gaps change sign across N (no power law can be fitted)".into());
            } else if let Err(e) = table.slope_fit(j) {
                why.push(format!("the slope fit failed ({e})"));
            }
            if table.seeds.len() < MIN_SEEDS {
                why.push(format!(
                    "only {} seeds (< {MIN_SEEDS}): standard errors and intervals are unreliable",
                    table.seeds.len()
                ));
            }
            let sb_bound = sb + 2.0 * step_bias[j].bias_se();
            if !(sb_bound <= limit) {
                why.push(format!(
                    "time-step bias {sb:.3e} (+2 se: {sb_bound:.3e}) is {:.1}× the limit |gap|/10 = {limit:.3e} (reduce eta)",
                    sb_bound / limit
                ));
            }
            let warning = (!why.is_empty())
                .then(|| format!("t = {t}, N = {n}, |gap| = {gap:.3e}: {}", why.join("; ")));
            BudgetRow {
                time: t,
                gap_largest_n: gap,
                gap_se: se,
                pde_error: pe,
                step_bias: step_bias[j].bias,
                step_bias_se: step_bias[j].bias_se(),
                step_bias_exact: step_bias[j].exact,
                trustworthy: warning.is_none(),
                warning,
            }
        })
        .collect())
}
