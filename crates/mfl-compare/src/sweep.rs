//! The N-sweep: gap(N, t) = E_seeds[R_N(θ(t))] − R(ρ_t), and the same for the energy
//! E = ½R + (λ/2)∫|θ|² (the free energy without entropy).
//!
//! The PDE is solved once; R(ρ_t) and E(ρ_t) are taken from the problem's
//! [`mfl_pde::PotentialField::energy`] at the requested times (added to the snapshot times).
//! For every N the particle runs use the *same* seeds (common random numbers), and R_N is
//! evaluated on the population problem `eval` — the same [`MeanField`] as the PDE's, so both
//! sides go through one kernel.
//!
//! **Control variate at t = 0.** For θ_i i.i.d. from ρ₀ the linear part of the fluctuation,
//!
//! L_R = (2/N) Σ_i [Ψ(θ_i; ρ₀) − (λ/2)|θ_i|²] − 2 Σ_k r_k f_k   (f, r of ρ₀),
//! L_E = (1/N) Σ_i Ψ(θ_i; ρ₀) − ∫Ψ(·; ρ₀) dρ₀,
//!
//! has mean exactly 0 (Ψ = δE/δρ; r_k = ½ w_k ∂ℓ(y_k, f_k)), so R_N − L_R has the mean of R_N
//! with the O(N^{-1/2}) fluctuation removed (for the squared loss R_N − L_R − R(ρ₀) is exactly
//! the quadratic term Σ_k w_k (f_N,k − f_k)²). ρ₀ is the grid measure (cell centres, weights
//! ρ_m|cell|); when particles are drawn uniformly inside cells ([`mfl_particles::Init::GridDensity`])
//! the mean of L is O(h²) instead of 0, the same order as the grid's own error in R(ρ₀).
//! For t > 0 (and at t = 0 too, with an exactly zero mean under the particles' initial law)
//! the adjoint control variate of [`crate::adjoint`] is the default ([`Control::Adjoint`]);
//! the coupled one of [`crate::coupled`] remains available ([`Control::Coupled`]).

use crate::adjoint::{Adjoint, DensityPath, Functional};
use crate::coupled::{grid_fluctuation, CoupledCv, ResidualPath};
use crate::distance::{sliced_w1_2d, w1_1d};
use crate::error::CompareError;
use crate::stats::{fit_inverse_n, model_se, slope_fit_weighted, t_quantile, SlopeFit, Summary};
use mfl_core::{Grid, Loss, MeanField, Measure};
use mfl_particles::{
    Dynamics, Gradient, Init, MartingaleRun, MartingaleTap, Recording, Trajectory,
};
use mfl_pde::{solve, Diagnostics, FvProblem, Observer, PotentialField, RunOptions};
use ndarray::Array1;
use rayon::prelude::*;
use std::sync::Arc;

/// The t = 0 control-variate-corrected statistics of one N.
#[derive(Debug, Clone, PartialEq)]
pub struct ControlVariate {
    /// R_N − L_R over seeds.
    pub risk: Summary,
    /// E_N − L_E over seeds.
    pub energy: Summary,
    /// mean(R_N − L_R) − R(ρ₀).
    pub gap_risk: f64,
    /// mean(E_N − L_E) − E(ρ₀).
    pub gap_energy: f64,
    /// var(R_N) / var(R_N − L_R).
    pub variance_reduction_risk: f64,
    /// var(E_N) / var(E_N − L_E).
    pub variance_reduction_energy: f64,
    /// R_N − L_R per seed (seed order).
    pub risk_samples: Vec<f64>,
}

/// The adjoint control variate at one (N, t): Y = G_N − Z with E\[Z\] = 0 exactly
/// ([`crate::adjoint`]); the coefficient is fixed at 1 (any fixed coefficient keeps the mean;
/// 1 is the optimum to leading order, and a fitted one would add an O(1/S) bias).
#[derive(Debug, Clone, PartialEq)]
pub struct AdjointCv {
    /// R_N − Z_R over seeds.
    pub risk: Summary,
    /// E_N − Z_E over seeds.
    pub energy: Summary,
    /// mean(R_N − Z_R) − R(ρ_t).
    pub gap_risk: f64,
    /// mean(E_N − Z_E) − E(ρ_t).
    pub gap_energy: f64,
    /// var(R_N) / var(R_N − Z_R).
    pub variance_reduction_risk: f64,
    /// var(E_N) / var(E_N − Z_E).
    pub variance_reduction_energy: f64,
    /// Z_R per seed (seed order).
    pub z_risk: Vec<f64>,
    /// Z_E per seed.
    pub z_energy: Vec<f64>,
    /// R_N − Z_R per seed.
    pub risk_samples: Vec<f64>,
    /// E_N − Z_E per seed.
    pub energy_samples: Vec<f64>,
    /// Cov(R_N, Z_R)/Var(Z_R) over seeds: the variance-optimal coefficient, for checking
    /// (≈ 1 when φ is accurate); not used by the estimate.
    pub optimal_coefficient: f64,
}

impl AdjointCv {
    /// The statistics of `risk − z_risk` and `energy − z_energy` against the PDE's values.
    pub fn new(
        risk: &[f64],
        energy: &[f64],
        z_risk: Vec<f64>,
        z_energy: Vec<f64>,
        pde_risk: f64,
        pde_energy: f64,
    ) -> Self {
        let rc: Vec<f64> = risk.iter().zip(&z_risk).map(|(a, z)| a - z).collect();
        let ec: Vec<f64> = energy.iter().zip(&z_energy).map(|(a, z)| a - z).collect();
        let (rs, es) = (Summary::of(&rc), Summary::of(&ec));
        let (raw_r, raw_e) = (Summary::of(risk), Summary::of(energy));
        let zm = crate::stats::mean(&z_risk);
        let rm = raw_r.mean;
        let (mut cov, mut var) = (0.0, 0.0);
        for (a, z) in risk.iter().zip(&z_risk) {
            cov += (a - rm) * (z - zm);
            var += (z - zm) * (z - zm);
        }
        AdjointCv {
            gap_risk: rs.mean - pde_risk,
            gap_energy: es.mean - pde_energy,
            variance_reduction_risk: variance_ratio(&raw_r, &rs),
            variance_reduction_energy: variance_ratio(&raw_e, &es),
            risk: rs,
            energy: es,
            z_risk,
            z_energy,
            risk_samples: rc,
            energy_samples: ec,
            optimal_coefficient: if var > 0.0 { cov / var } else { f64::NAN },
        }
    }
}

/// The variance reduction a sweep uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Control {
    /// Plain means at t > 0 (the exact linear control variate at t = 0).
    None,
    /// The coupled McKean–Vlasov control variate ([`crate::coupled`]; squared loss, exact
    /// gradients).
    Coupled,
    /// The adjoint control variate at every record time ([`crate::adjoint`]; any loss, exact
    /// or minibatch gradients, T ≥ 0; needs particles drawn from a grid density).
    #[default]
    Adjoint,
}

/// Statistics at one (N, t).
#[derive(Debug, Clone, PartialEq)]
pub struct GapRow {
    /// Number of particles.
    pub n: usize,
    /// Record time.
    pub time: f64,
    /// R_N over seeds: mean, standard error, spread (std).
    pub risk: Summary,
    /// E_N over seeds.
    pub energy: Summary,
    /// mean R_N − R(ρ_t).
    pub gap_risk: f64,
    /// mean E_N − E(ρ_t).
    pub gap_energy: f64,
    /// R_N per seed (seed order).
    pub risk_samples: Vec<f64>,
    /// E_N per seed (seed order).
    pub energy_samples: Vec<f64>,
    /// The control-variate correction (t = 0 only).
    pub control: Option<ControlVariate>,
    /// The coupled control variate of the risk (t > 0, when asked for; see
    /// [`crate::coupled`]).
    pub coupled: Option<CoupledCv>,
    /// The same for the energy E = ½R + (λ/2)∫|θ|²: known mean E(ρ_t) + V(ρ_t)/(2N) (the
    /// regulariser is linear in ρ).
    pub coupled_energy: Option<CoupledCv>,
    /// The adjoint control variate (when it ran).
    pub adjoint: Option<AdjointCv>,
    /// Distance between the particles and ρ_t over seeds (exact W1 in 1D, sliced W1 in 2D),
    /// when asked for.
    pub distance: Option<Summary>,
}

impl GapRow {
    /// The best available (gap, standard error) of the risk: the adjoint control variate when
    /// it ran, else the linear one at t = 0, the coupled one at t > 0, the plain mean otherwise.
    pub fn best_gap_risk(&self) -> (f64, f64) {
        if let Some(a) = &self.adjoint {
            return (a.gap_risk, a.risk.se);
        }
        match (&self.control, &self.coupled) {
            (Some(c), _) => (c.gap_risk, c.risk.se),
            (None, Some(c)) => (c.gap_risk, c.risk.se),
            (None, None) => (self.gap_risk, self.risk.se),
        }
    }

    /// var(R_N)/var(estimator) of the estimator behind [`GapRow::best_gap_risk`] (1 for the
    /// plain mean).
    pub fn variance_reduction(&self) -> f64 {
        if let Some(a) = &self.adjoint {
            return a.variance_reduction_risk;
        }
        match (&self.control, &self.coupled) {
            (Some(c), _) => c.variance_reduction_risk,
            (None, Some(c)) => c.variance_reduction,
            (None, None) => 1.0,
        }
    }

    /// β of the estimator's standard error se ∝ N^{−β} ([`crate::stats::model_se`]): 1 when a
    /// control variate removed the O(N^{-1/2}) fluctuation (adjoint at any t, the linear one at
    /// t = 0), ½ otherwise (plain mean; the coupled control variate, whose gain does not grow
    /// with N).
    pub fn se_exponent(&self) -> f64 {
        if self.adjoint.is_some() || self.control.is_some() {
            1.0
        } else {
            0.5
        }
    }

    /// The per-seed values behind [`GapRow::best_gap_risk`].
    pub fn best_risk_samples(&self) -> &[f64] {
        if let Some(a) = &self.adjoint {
            return &a.risk_samples;
        }
        match (&self.control, &self.coupled) {
            (Some(c), _) => &c.risk_samples,
            (None, Some(c)) => &c.risk_samples,
            (None, None) => &self.risk_samples,
        }
    }

    /// The best available (gap, standard error) of the energy.
    pub fn best_gap_energy(&self) -> (f64, f64) {
        if let Some(a) = &self.adjoint {
            return (a.gap_energy, a.energy.se);
        }
        match (&self.control, &self.coupled_energy) {
            (Some(c), _) => (c.gap_energy, c.energy.se),
            (None, Some(c)) => (c.gap_risk, c.risk.se),
            (None, None) => (self.gap_energy, self.energy.se),
        }
    }
}

/// What the adjoint control variate of a sweep is made of.
#[derive(Debug, Clone)]
pub struct AdjointPart {
    /// φ for every (record time, functional).
    pub adjoint: Arc<Adjoint>,
    /// E[Iφ_0^{(q)}] under the particles' initial law.
    pub initial_mean: Vec<f64>,
    /// Bytes of the stored density path (ρ, Ψ, f at the nodes).
    pub path_bytes: usize,
    /// Node times of the density path.
    pub node_times: Vec<f64>,
}

impl PartialEq for AdjointPart {
    fn eq(&self, other: &Self) -> bool {
        self.adjoint == other.adjoint && self.initial_mean == other.initial_mean
    }
}

impl AdjointPart {
    /// Z_q(t_j) for the run of `seed` at every record time j: the initial term
    /// (1/N)Σ_i Iφ_0^{(q)}(θ_i(0)) − E[Iφ_0^{(q)}] from θ(0) of `dynamics` (drawn again: the same
    /// draw as the run's), plus the martingale term `sums[j][q]` accumulated up to t_j.
    pub fn z(
        &self,
        dynamics: &Dynamics,
        seed: u64,
        sums: &[Vec<f64>],
    ) -> Result<Vec<Vec<f64>>, CompareError> {
        let sys = dynamics.system(seed)?;
        let init: Vec<f64> = self
            .adjoint
            .initial(sys.theta())
            .iter()
            .zip(&self.initial_mean)
            .map(|(a, m)| a - m)
            .collect();
        Ok(sums
            .iter()
            .map(|s| init.iter().zip(s).map(|(a, b)| a + b).collect())
            .collect())
    }

    /// The martingale tap for a run of `dynamics`: minibatch gradients are corrected by the
    /// exact gradient when the sampler's batches have a finite data set as their exact mean.
    pub fn reference_problem(dynamics: &Dynamics) -> Option<MeanField> {
        match &dynamics.gradient {
            Gradient::Minibatch { sampler, .. } => sampler.mean_data().map(|d| MeanField {
                data: d.clone(),
                ..(*dynamics.problem).clone()
            }),
            Gradient::Exact => None,
        }
    }

    /// Run `dynamics` on `seeds` with the adjoint tap; per seed, the trajectory and Z_q at
    /// every record time (Z for the fields of that time).
    pub fn run(
        &self,
        dynamics: &Dynamics,
        eval: &MeanField,
        seeds: &[u64],
        recording: &Recording,
        progress: impl FnMut(usize) + Send,
    ) -> Result<Vec<MartingaleRun>, CompareError> {
        let reference = Self::reference_problem(dynamics);
        let tap = MartingaleTap {
            integrand: self.adjoint.as_ref(),
            reference: reference.as_ref(),
        };
        let runs = dynamics.run_seeds_martingale(eval, seeds, recording, tap, progress)?;
        runs.into_iter()
            .map(|(tr, sums)| {
                let z = self.z(dynamics, tr.seed, &sums)?;
                Ok((tr, z))
            })
            .collect()
    }
}

/// The result of [`gap_sweep`].
#[derive(Debug, Clone, PartialEq)]
pub struct GapTable {
    /// Record times.
    pub times: Vec<f64>,
    /// Particle numbers, in the order given.
    pub ns: Vec<usize>,
    /// Seeds (the same for every N).
    pub seeds: Vec<u64>,
    /// R(ρ_t) of the PDE at each time.
    pub pde_risk: Vec<f64>,
    /// E(ρ_t) of the PDE at each time.
    pub pde_energy: Vec<f64>,
    /// V(ρ_t) = ∫U(θ,θ)dρ_t − ∬U dρ_t dρ_t: i.i.d. samples of ρ_t have E R_N − R = V/N
    /// (squared loss; for other losses the same formula, without that meaning).
    pub pde_fluctuation: Vec<f64>,
    /// ρ_t of the PDE at each time.
    pub pde_density: Vec<Vec<f64>>,
    /// The PDE's residual path the coupled control variate ran in (None when it is off).
    pub path: Option<ResidualPath>,
    /// The adjoint solutions the adjoint control variate used (targets (t_j, R), (t_j, E)
    /// for every record time j, in that order), and the exact initial means of Iφ_0.
    pub adjoint: Option<AdjointPart>,
    /// Rows, N-major: `rows[i_n * times.len() + i_t]`.
    pub rows: Vec<GapRow>,
}

impl GapTable {
    /// The row of (ns\[i_n\], times\[i_t\]).
    pub fn row(&self, i_n: usize, i_t: usize) -> &GapRow {
        &self.rows[i_n * self.times.len() + i_t]
    }

    /// Index of the largest N.
    pub fn largest_n_index(&self) -> usize {
        (0..self.ns.len())
            .max_by_key(|&i| self.ns[i])
            .expect("at least one N")
    }

    /// (N, gap, se) of the risk at time index `i_t`, control-variate corrected when available.
    pub fn risk_gaps(&self, i_t: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let mut out = (Vec::new(), Vec::new(), Vec::new());
        for i_n in 0..self.ns.len() {
            let (g, s) = self.row(i_n, i_t).best_gap_risk();
            out.0.push(self.ns[i_n] as f64);
            out.1.push(g);
            out.2.push(s);
        }
        out
    }

    /// The power-law fit gap ≈ C·N^s of the risk at time index `i_t`, with intervals that
    /// account for the correlation between the N's.
    ///
    /// The point estimate is [`crate::slope_fit`]'s weighted least squares on the mean gaps. Its
    /// intervals cannot use the independent-points formula: with common random numbers the
    /// gaps at different N share seeds (N = 16 uses the first 16 particles of N = 64 and the
    /// same noise), so their errors are positively correlated and a chance trend in N looks
    /// like a change of slope. The standard errors of s and log|C| are therefore the
    /// delete-one jackknife over seeds — refit with seed k left out of every N's mean,
    /// var = (S − 1)/S Σ_k (s_(k) − s̄)² — which carries the whole across-N covariance; the
    /// 95% intervals use the Student t with S − 1 degrees of freedom.
    pub fn slope_fit(&self, i_t: usize) -> Result<SlopeFit, CompareError> {
        let samples: Vec<&[f64]> = (0..self.ns.len())
            .map(|i_n| self.row(i_n, i_t).best_risk_samples())
            .collect();
        let beta = self.row(0, i_t).se_exponent();
        jackknife_slope_fit(&self.ns, &self.seeds, &samples, self.pde_risk[i_t], beta).map_err(
            |e| {
                let why = match e {
                    CompareError::Invalid { why, .. } => why,
                    other => other.to_string(),
                };
                CompareError::invalid(format!("fit at t = {}", self.times[i_t]), why)
            },
        )
    }

    /// The fixed-slope fit gap = C/N of the risk at time index `i_t`: (C, se(C)).
    ///
    /// C is [`fit_inverse_n`]'s estimate with the model weights 1/ŝ² = N^{2β} in u = 1/N
    /// ([`model_se`], β from [`GapRow::se_exponent`]) — weights that depend on no sample. Its standard error is
    /// taken over seeds: with common random numbers the gaps at different N are correlated
    /// (N = 16 uses the first 16 particles of N = 64, …), so the independent-points formula
    /// would be too small. C is linear in the per-seed values, C = mean_s C_s with
    /// C_s = Σ_i w_i u_i (v_{i,s} − R(ρ_t)) / Σ_i w_i u_i², and se(C) = std(C_s)/√S.
    pub fn inverse_n_fit(&self, i_t: usize) -> Result<(f64, f64), CompareError> {
        let (n, g, _) = self.risk_gaps(i_t);
        // model weights, so that no weight depends on the samples
        let s = model_se(&n, self.row(0, i_t).se_exponent());
        let (c, _) = fit_inverse_n(&n, &g, &s)?;
        let coef: Vec<f64> = n
            .iter()
            .zip(&s)
            .map(|(ni, si)| (1.0 / ni) / (si * si))
            .collect();
        let den: f64 = coef.iter().zip(&n).map(|(a, ni)| a / ni).sum();
        let per_seed: Vec<f64> = (0..self.seeds.len())
            .map(|k| {
                (0..self.ns.len())
                    .map(|i_n| {
                        let v = self.row(i_n, i_t).best_risk_samples()[k];
                        coef[i_n] * (v - self.pde_risk[i_t])
                    })
                    .sum::<f64>()
                    / den
            })
            .collect();
        Ok((c, Summary::of(&per_seed).se))
    }
}

/// gap ≈ C·N^s from per-seed values `samples[i_n][k]` (seed k, the same seeds for every N)
/// against the mean-field value `reference`: the point estimate is the weighted least squares
/// of log|gap| on log N with the model weights (ĝ/ŝ)² ∝ N^{2β−2} (gap ∝ 1/N, se ∝ N^{−β},
/// β = `se_exponent`; see [`model_se`] for why no weight may depend on the samples), the
/// standard errors of
/// s and log|C| the delete-one jackknife over seeds, var = (S − 1)/S Σ_k (s_(k) − s̄)², which
/// carries the covariance between the N's that common random numbers create; 95% intervals
/// use the Student t with S − 1 degrees of freedom.
pub fn jackknife_slope_fit(
    ns: &[usize],
    seeds: &[u64],
    samples: &[&[f64]],
    reference: f64,
    se_exponent: f64,
) -> Result<SlopeFit, CompareError> {
    let m = seeds.len();
    if m < 3 || samples.iter().any(|v| v.len() != m) || samples.len() != ns.len() {
        return Err(CompareError::invalid(
            "fit",
            "needs ≥ 3 seeds, one value per seed for every N",
        ));
    }
    let n: Vec<f64> = ns.iter().map(|&v| v as f64).collect();
    let stats: Vec<Summary> = samples.iter().map(|v| Summary::of(v)).collect();
    let g: Vec<f64> = stats.iter().map(|s| s.mean - reference).collect();
    // fixed weights for the fit and every jackknife replicate, from the model gap ∝ 1/N and
    // se ∝ N^{−β}: w = (ĝ/ŝ)² ∝ N^{2β − 2} — no weight depends on the samples
    let w: Vec<f64> = n.iter().map(|v| v.powf(2.0 * se_exponent - 2.0)).collect();
    let mut fit = slope_fit_weighted(&n, &g, &w)?;
    let totals: Vec<f64> = samples.iter().map(|v| v.iter().sum()).collect();
    let (mut slopes, mut icpts) = (Vec::with_capacity(m), Vec::with_capacity(m));
    for k in 0..m {
        let gk: Vec<f64> = samples
            .iter()
            .zip(&totals)
            .map(|(v, t)| (t - v[k]) / (m - 1) as f64 - reference)
            .collect();
        let f = slope_fit_weighted(&n, &gk, &w).map_err(|_| {
            CompareError::invalid(
                "fit",
                format!(
                    "leaving out seed {} changes the sign of a gap: the gaps are too noisy for a \
                     log-log fit (more seeds, or larger N spacing)",
                    seeds[k]
                ),
            )
        })?;
        slopes.push(f.slope);
        icpts.push(f.log_prefactor);
    }
    let jack = |v: &[f64]| {
        let mean = v.iter().sum::<f64>() / m as f64;
        ((m - 1) as f64 / m as f64 * v.iter().map(|x| (x - mean).powi(2)).sum::<f64>()).sqrt()
    };
    let (se_s, se_c) = (jack(&slopes), jack(&icpts));
    let t = t_quantile(0.975, (m - 1) as f64);
    let sign = fit.prefactor.signum();
    let (c_lo, c_hi) = (
        sign * (fit.log_prefactor - t * se_c).exp(),
        sign * (fit.log_prefactor + t * se_c).exp(),
    );
    fit.slope_se = se_s;
    fit.slope_ci95 = (fit.slope - t * se_s, fit.slope + t * se_s);
    fit.log_prefactor_se = se_c;
    fit.prefactor_ci95 = (c_lo.min(c_hi), c_lo.max(c_hi));
    Ok(fit)
}

/// What a sweep takes from the PDE run.
#[derive(Debug, Clone, PartialEq)]
pub struct PdeTrace {
    /// R(ρ_t) at each record time.
    pub risk: Vec<f64>,
    /// E(ρ_t) at each record time.
    pub energy: Vec<f64>,
    /// ρ_t at each record time.
    pub density: Vec<Vec<f64>>,
    /// The residual r(t) on a uniform time grid, when asked for.
    pub path: Option<ResidualPath>,
    /// ρ at the density nodes, when asked for.
    pub node_density: Vec<Vec<f64>>,
}

/// Records R, E and ρ at given times (and the residual on a time grid) and forwards the
/// caller's snapshots to its observer.
struct PdeTap<'a> {
    field: &'a dyn PotentialField,
    times: &'a [f64],
    user_snaps: &'a [f64],
    risk: Vec<Option<f64>>,
    energy: Vec<Option<f64>>,
    density: Vec<Option<Vec<f64>>>,
    path: Option<(f64, &'a MeanField)>,
    residuals: Vec<Vec<f64>>,
    nodes: &'a [f64],
    node_density: Vec<Option<Vec<f64>>>,
    inner: &'a mut dyn Observer,
}

fn same_time(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

const NO_RISK: &str =
    "the PDE's potential has no risk (a fixed potential); a gap sweep needs a mean-field problem";

impl Observer for PdeTap<'_> {
    fn start(&mut self, grid: &Grid, rho0: &[f64]) -> Result<(), String> {
        self.inner.start(grid, rho0)
    }
    fn diagnostics(&mut self, d: &Diagnostics) -> Result<(), String> {
        self.inner.diagnostics(d)
    }
    fn snapshot(&mut self, t: f64, rho: &[f64]) -> Result<(), String> {
        if let Some(j) = self.times.iter().position(|&s| same_time(s, t)) {
            let e = self.field.energy(rho);
            self.risk[j] = Some(e.risk.ok_or_else(|| NO_RISK.to_string())?);
            self.energy[j] = Some(e.energy);
            self.density[j] = Some(rho.to_vec());
        }
        if let Some((dt, eval)) = self.path {
            let k = (t / dt).round();
            if same_time(k * dt, t) && k as usize == self.residuals.len() {
                let f = self.field.network(rho).ok_or_else(|| NO_RISK.to_string())?;
                self.residuals.push(eval.residual(&f).to_vec());
            }
        }
        if let Some(j) = self.nodes.iter().position(|&s| same_time(s, t)) {
            self.node_density[j] = Some(rho.to_vec());
        }
        if self.user_snaps.iter().any(|&s| same_time(s, t)) {
            self.inner.snapshot(t, rho)?;
        }
        Ok(())
    }
    fn finish(&mut self, last: &Diagnostics, rho: &[f64]) -> Result<(), String> {
        self.inner.finish(last, rho)
    }
}

fn check_times(times: &[f64]) -> Result<(), CompareError> {
    if times.is_empty() {
        return Err(CompareError::invalid("times", "no record times"));
    }
    if times.iter().any(|t| !(t.is_finite() && *t >= 0.0)) {
        return Err(CompareError::invalid(
            "times",
            "times must be finite and ≥ 0",
        ));
    }
    if times.windows(2).any(|w| w[0] >= w[1]) {
        return Err(CompareError::invalid(
            "times",
            "times must be strictly increasing",
        ));
    }
    Ok(())
}

/// Solve the PDE from `rho0` and return (R(ρ_t), E(ρ_t)) at each of `times` (added to the
/// snapshot times of `opts`; `observer` still sees only the caller's own snapshot times).
pub fn pde_risk_at(
    pde: &FvProblem,
    rho0: Vec<f64>,
    opts: &RunOptions,
    times: &[f64],
    observer: &mut dyn Observer,
) -> Result<(Vec<f64>, Vec<f64>), CompareError> {
    let tr = pde_trace(pde, rho0, opts, times, None, &[], observer)?;
    Ok((tr.risk, tr.energy))
}

/// Solve the PDE from `rho0` and record R, E and ρ at each of `times`; with
/// `path = Some((Δ, eval))` also the residual r(t) of `eval` at t = jΔ up to the last time
/// (the run is extended to the last node if needed), and ρ at each of `nodes` (within the
/// run). `observer` sees only the caller's own snapshot times.
pub fn pde_trace(
    pde: &FvProblem,
    rho0: Vec<f64>,
    opts: &RunOptions,
    times: &[f64],
    path: Option<(f64, &MeanField)>,
    nodes: &[f64],
    observer: &mut dyn Observer,
) -> Result<PdeTrace, CompareError> {
    check_times(times)?;
    let mut o = opts.clone();
    o.snapshot_times.extend_from_slice(times);
    o.snapshot_times.extend_from_slice(nodes);
    let mut n_res = 0;
    if let Some((dt, _)) = path {
        if !(dt > 0.0 && dt.is_finite()) {
            return Err(CompareError::invalid("residual path", "Δ must be > 0"));
        }
        let t_max = times[times.len() - 1];
        n_res = (t_max / dt - 1e-9).ceil().max(0.0) as usize + 1;
        o.t_end = o.t_end.max((n_res - 1) as f64 * dt);
        o.snapshot_times.extend((0..n_res).map(|j| j as f64 * dt));
    }
    let mut tap = PdeTap {
        field: pde.field.as_ref(),
        times,
        user_snaps: &opts.snapshot_times,
        risk: vec![None; times.len()],
        energy: vec![None; times.len()],
        density: vec![None; times.len()],
        path,
        residuals: Vec::with_capacity(n_res),
        nodes,
        node_density: vec![None; nodes.len()],
        inner: observer,
    };
    solve(pde, rho0, &o, &mut tap)?;
    let miss = |j: usize| {
        CompareError::invalid(
            "times",
            format!("the PDE run never reached t = {}", times[j]),
        )
    };
    let pick = |v: &[Option<f64>]| {
        (0..times.len())
            .map(|j| v[j].ok_or_else(|| miss(j)))
            .collect::<Result<Vec<_>, _>>()
    };
    let risk = pick(&tap.risk)?;
    let energy = pick(&tap.energy)?;
    let density = tap
        .density
        .into_iter()
        .enumerate()
        .map(|(j, d)| d.ok_or_else(|| miss(j)))
        .collect::<Result<Vec<_>, _>>()?;
    let path = match path {
        Some((dt, _)) => {
            if tap.residuals.len() != n_res {
                return Err(CompareError::invalid(
                    "residual path",
                    format!("recorded {} of {n_res} nodes", tap.residuals.len()),
                ));
            }
            Some(ResidualPath {
                dt,
                residuals: tap.residuals,
            })
        }
        None => None,
    };
    let node_density = tap
        .node_density
        .into_iter()
        .enumerate()
        .map(|(j, d)| {
            d.ok_or_else(|| {
                CompareError::invalid(
                    "density nodes",
                    format!("the PDE run never reached t = {}", nodes[j]),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PdeTrace {
        risk,
        energy,
        density,
        path,
        node_density,
    })
}

/// Memory allowed for the adjoint control variate's stored path and fields.
pub const ADJOINT_MEMORY: usize = 768 << 20;

/// The density nodes of the adjoint control variate: a uniform grid of up to 128 intervals on
/// [0, t_max] (no finer than η, and coarser when the path and the fields would exceed
/// [`ADJOINT_MEMORY`]) together with every record time. Linear interpolation in time between
/// nodes is second order; its error only costs variance.
pub fn adjoint_nodes(times: &[f64], eta: f64, grid: &Grid, data_len: usize) -> Vec<f64> {
    let t_max = times[times.len() - 1];
    if t_max <= 0.0 {
        return vec![0.0];
    }
    let m = grid.len();
    let dd = grid.dim();
    // per node: ρ, Ψ (M each), f (K); per node and field: ∇φ (D·M), two fields per time,
    // each kept on s ≤ t_j
    let frac: f64 = times.iter().map(|t| t / t_max).sum::<f64>() * 2.0;
    let per_node = 8.0 * ((2 * m + data_len) as f64 + frac * (dd * m) as f64);
    let by_memory = (ADJOINT_MEMORY as f64 / per_node).floor() as usize;
    let by_eta = (t_max / eta).floor().max(1.0) as usize;
    let n = 128
        .min(by_eta)
        .min(by_memory.saturating_sub(times.len()))
        .max(4);
    let mut v: Vec<f64> = (0..=n).map(|j| t_max * j as f64 / n as f64).collect();
    v.extend_from_slice(times);
    v.sort_by(f64::total_cmp);
    v.dedup_by(|a, b| same_time(*a, *b));
    // the record times themselves, exactly
    for t in times {
        if let Some(x) = v.iter_mut().find(|x| same_time(**x, *t)) {
            *x = *t;
        }
    }
    v
}

/// Everything of ρ₀ the control variate needs.
struct CvReference {
    r: Vec<f64>,
    /// Σ_k r_k f_k.
    rf: f64,
    /// (λ/2) ∫|θ|² dρ₀.
    reg: f64,
}

impl CvReference {
    fn new(eval: &MeanField, grid: &Grid, rho0: &[f64]) -> Self {
        let centres = grid.centres();
        let w: Array1<f64> = rho0.iter().map(|v| v * grid.cell_volume()).collect();
        let mu = Measure::new(centres.view(), w.view());
        let f = eval.network(mu);
        let r = eval.residual(f.as_slice().expect("contiguous")).to_vec();
        let rf = r.iter().zip(f.iter()).map(|(a, b)| a * b).sum();
        CvReference {
            r,
            rf,
            reg: eval.regulariser(mu),
        }
    }

    /// (L_R, L_E) for the initial particles of `dynamics` with `seed`.
    fn linear_terms(
        &self,
        eval: &MeanField,
        dynamics: &Dynamics,
        seed: u64,
    ) -> Result<(f64, f64), CompareError> {
        let sys = dynamics.system(seed)?;
        let theta = sys.theta();
        let n = theta.nrows() as f64;
        let mut psi = vec![0.0; theta.nrows()];
        eval.potential_of_residual_into(&self.r, theta, &mut psi);
        let mean_psi = psi.iter().sum::<f64>() / n;
        let mean_reg = 0.5 * eval.lambda * theta.iter().map(|v| v * v).sum::<f64>() / n;
        let l_r = 2.0 * (mean_psi - mean_reg) - 2.0 * self.rf;
        let l_e = mean_psi - self.rf - self.reg;
        Ok((l_r, l_e))
    }
}

fn variance_ratio(a: &Summary, b: &Summary) -> f64 {
    (a.std / b.std).powi(2)
}

/// What [`gap_sweep_with`] does beyond the plain sweep.
#[derive(Clone, Copy, Default)]
pub struct SweepOptions<'a> {
    /// The control variate: adjoint (the default), coupled, or none.
    pub control: Control,
    /// Measure the distance between particles and ρ_t at every record (W1 in 1D, sliced W1
    /// with 16 directions in 2D).
    pub distances: bool,
    /// Called as `progress(N, seed_index)` when a seed's run for N is done (any order).
    pub progress: Option<&'a (dyn Fn(usize, usize) + Sync)>,
}

/// The plain N-sweep (see the module docs): [`gap_sweep_with`] without control variates at
/// t > 0 and without distances.
#[allow(clippy::too_many_arguments)]
pub fn gap_sweep(
    pde: &FvProblem,
    rho0: Vec<f64>,
    pde_opts: &RunOptions,
    eval: &MeanField,
    dynamics_for_n: impl Fn(usize) -> Dynamics,
    ns: &[usize],
    seeds: &[u64],
    times: &[f64],
    observer: &mut dyn Observer,
) -> Result<GapTable, CompareError> {
    gap_sweep_with(
        pde,
        rho0,
        pde_opts,
        eval,
        dynamics_for_n,
        ns,
        seeds,
        times,
        observer,
        &SweepOptions {
            control: Control::None,
            ..SweepOptions::default()
        },
    )
}

/// Distance between the particles of every trajectory at record `j` and the density `rho`.
fn distances(
    trajs: &[&Trajectory],
    j: usize,
    grid: &Grid,
    rho: &[f64],
) -> Result<Summary, CompareError> {
    let d: Vec<f64> = trajs
        .par_iter()
        .map(|tr| {
            let pos = tr
                .positions
                .as_ref()
                .expect("positions are recorded when distances are asked for");
            let p = pos.index_axis(ndarray::Axis(0), j);
            match grid.dim() {
                1 => w1_1d(&p.column(0).to_vec(), grid, rho),
                _ => sliced_w1_2d(p, grid, rho, 16, 2),
            }
        })
        .collect::<Result<_, _>>()?;
    Ok(Summary::of(&d))
}

/// The N-sweep (see the module docs).
///
/// * `pde`, `rho0`, `pde_opts`: the PDE run (the `times` are added to its snapshot times;
///   `observer` sees the run as usual);
/// * `eval`: the population problem R_N is evaluated on — the same [`MeanField`] as the PDE's
///   potential;
/// * `dynamics_for_n(N)`: the particle dynamics with N particles, θ_i(0) i.i.d. from the law
///   of `rho0`, on the PDE's domain;
/// * `ns`, `seeds`: particle numbers and the seeds used for every N;
/// * `times`: strictly increasing record times (a t = 0 first gets the control variate);
/// * `options`: the control variate, distances, progress.
#[allow(clippy::too_many_arguments)]
pub fn gap_sweep_with(
    pde: &FvProblem,
    rho0: Vec<f64>,
    pde_opts: &RunOptions,
    eval: &MeanField,
    dynamics_for_n: impl Fn(usize) -> Dynamics,
    ns: &[usize],
    seeds: &[u64],
    times: &[f64],
    observer: &mut dyn Observer,
    options: &SweepOptions,
) -> Result<GapTable, CompareError> {
    check_times(times)?;
    if ns.is_empty() || ns.contains(&0) {
        return Err(CompareError::invalid("ns", "needs at least one N, all ≥ 1"));
    }
    let coupled = options.control == Control::Coupled;
    let adjoint = options.control == Control::Adjoint;
    let min_seeds = if options.control == Control::None {
        2
    } else {
        3
    };
    if seeds.len() < min_seeds {
        return Err(CompareError::invalid(
            "seeds",
            format!("needs at least {min_seeds} seeds for a standard error"),
        ));
    }
    let probe = dynamics_for_n(ns[0]);
    if adjoint {
        match &probe.init {
            Init::GridDensity { grid, .. } if grid.dim() == pde.grid.dim() => {}
            _ => {
                return Err(CompareError::invalid(
                    "adjoint",
                    "the adjoint control variate needs the particles drawn from a grid density                      (its initial term uses the exact mean under that law)",
                ))
            }
        }
    }
    if coupled {
        if eval.loss != Loss::Squared {
            return Err(CompareError::invalid(
                "coupled",
                "the coupled control variate's known mean holds for the squared loss only",
            ));
        }
        if eval.data != probe.problem.data {
            return Err(CompareError::invalid(
                "coupled",
                "the coupled control variate needs the particles to train on the evaluation data",
            ));
        }
        if !matches!(probe.gradient, Gradient::Exact) {
            return Err(CompareError::invalid(
                "coupled",
                "the coupled control variate needs exact (population) gradients",
            ));
        }
    }
    let cv_ref = (times[0] == 0.0 && !adjoint).then(|| CvReference::new(eval, &pde.grid, &rho0));
    let path = coupled.then_some((0.5 * probe.eta, eval));
    let nodes = if adjoint {
        adjoint_nodes(times, probe.eta, &pde.grid, eval.data.len())
    } else {
        Vec::new()
    };
    let trace = pde_trace(pde, rho0, pde_opts, times, path, &nodes, observer)?;
    let adjoint_part = if adjoint {
        let dpath = DensityPath::new(eval, &pde.grid, nodes.clone(), trace.node_density.clone())?;
        let targets: Vec<(f64, Functional)> = times
            .iter()
            .flat_map(|&t| [(t, Functional::Risk), (t, Functional::Energy)])
            .collect();
        let adj = Adjoint::solve(eval, &pde.grid, pde.temperature, &dpath, &targets)?;
        let initial_mean = match &probe.init {
            Init::GridDensity { grid, density } => adj.initial_mean(grid, density)?,
            _ => unreachable!("checked above"),
        };
        Some(AdjointPart {
            adjoint: Arc::new(adj),
            initial_mean,
            path_bytes: dpath.bytes(),
            node_times: nodes.clone(),
        })
    } else {
        None
    };
    let pde_fluctuation: Vec<f64> = trace
        .density
        .iter()
        .map(|rho| grid_fluctuation(eval, &pde.grid, rho))
        .collect();
    let mut recording = Recording::at(times.to_vec());
    if options.distances {
        recording = recording.with_positions();
    }
    let last = times.len() - 1;
    let mut rows = Vec::with_capacity(ns.len() * times.len());
    for &n in ns {
        let dynamics = dynamics_for_n(n);
        if dynamics.n != n {
            return Err(CompareError::invalid(
                "dynamics_for_n",
                format!("asked for N = {n}, got dynamics with N = {}", dynamics.n),
            ));
        }
        let tick = |i: usize| {
            if let Some(p) = options.progress {
                p(n, i)
            }
        };
        let mut zs: Option<Vec<Vec<Vec<f64>>>> = None;
        let (trajs, independent): (Vec<Trajectory>, Option<Vec<Trajectory>>) = match &trace.path {
            _ if adjoint_part.is_some() => {
                let part = adjoint_part.as_ref().expect("adjoint");
                let runs = part.run(&dynamics, eval, seeds, &recording, tick)?;
                let (a, z): (Vec<_>, Vec<_>) = runs.into_iter().unzip();
                zs = Some(z);
                (a, None)
            }
            Some(path) => {
                let field = |t: f64, out: &mut [f64]| path.at(t, out);
                let pairs = dynamics.run_seeds_coupled(eval, seeds, &recording, &field, tick)?;
                let (a, b) = pairs.into_iter().unzip();
                (a, Some(b))
            }
            None => (
                dynamics.run_seeds(eval, seeds, &recording, |i, rec| {
                    if same_time(rec.time, times[last]) {
                        tick(i)
                    }
                })?,
                None,
            ),
        };
        let lin: Option<Vec<(f64, f64)>> = match &cv_ref {
            Some(c) => Some(
                seeds
                    .par_iter()
                    .map(|&s| c.linear_terms(eval, &dynamics, s))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            None => None,
        };
        let traj_refs: Vec<&Trajectory> = trajs.iter().collect();
        for (j, &t) in times.iter().enumerate() {
            let risk_samples: Vec<f64> = trajs.iter().map(|tr| tr.risk[j]).collect();
            let energy_samples: Vec<f64> = trajs.iter().map(|tr| tr.energy[j]).collect();
            if let Some(tr) = trajs.iter().find(|tr| !same_time(tr.time[j], t)) {
                return Err(CompareError::invalid(
                    "times",
                    format!("seed {} recorded at t = {}, not {t}", tr.seed, tr.time[j]),
                ));
            }
            let risk = Summary::of(&risk_samples);
            let energy = Summary::of(&energy_samples);
            let control = match (&lin, j) {
                (Some(l), 0) => {
                    let rc: Vec<f64> = risk_samples
                        .iter()
                        .zip(l)
                        .map(|(r, (lr, _))| r - lr)
                        .collect();
                    let ec: Vec<f64> = energy_samples
                        .iter()
                        .zip(l)
                        .map(|(e, (_, le))| e - le)
                        .collect();
                    let (rs, es) = (Summary::of(&rc), Summary::of(&ec));
                    Some(ControlVariate {
                        gap_risk: rs.mean - trace.risk[0],
                        gap_energy: es.mean - trace.energy[0],
                        variance_reduction_risk: variance_ratio(&risk, &rs),
                        variance_reduction_energy: variance_ratio(&energy, &es),
                        risk: rs,
                        energy: es,
                        risk_samples: rc,
                    })
                }
                _ => None,
            };
            let (coupled, coupled_energy) = match &independent {
                Some(ind) if t > 0.0 => {
                    let bar: Vec<f64> = ind.iter().map(|tr| tr.risk[j]).collect();
                    let bar_e: Vec<f64> = ind.iter().map(|tr| tr.energy[j]).collect();
                    let v = pde_fluctuation[j];
                    (
                        Some(CoupledCv::new(&risk_samples, &bar, trace.risk[j], v, n)?),
                        Some(CoupledCv::new(
                            &energy_samples,
                            &bar_e,
                            trace.energy[j],
                            0.5 * v,
                            n,
                        )?),
                    )
                }
                _ => (None, None),
            };
            let adjoint_cv = zs.as_ref().map(|z| {
                AdjointCv::new(
                    &risk_samples,
                    &energy_samples,
                    z.iter().map(|zk| zk[j][2 * j]).collect(),
                    z.iter().map(|zk| zk[j][2 * j + 1]).collect(),
                    trace.risk[j],
                    trace.energy[j],
                )
            });
            let distance = if options.distances {
                Some(distances(&traj_refs, j, &pde.grid, &trace.density[j])?)
            } else {
                None
            };
            rows.push(GapRow {
                n,
                time: t,
                gap_risk: risk.mean - trace.risk[j],
                gap_energy: energy.mean - trace.energy[j],
                risk,
                energy,
                risk_samples,
                energy_samples,
                control,
                coupled,
                coupled_energy,
                adjoint: adjoint_cv,
                distance,
            });
        }
    }
    Ok(GapTable {
        times: times.to_vec(),
        ns: ns.to_vec(),
        seeds: seeds.to_vec(),
        pde_risk: trace.risk,
        pde_energy: trace.energy,
        pde_fluctuation,
        pde_density: trace.density,
        path: trace.path,
        adjoint: adjoint_part,
        rows,
    })
}
