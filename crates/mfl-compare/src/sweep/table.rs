//! The result of a sweep: one [`GapRow`] per (N, t) in a [`GapTable`], its slope fits and
//! the seed jackknife.

use crate::adjoint::Adjoint;
use crate::coupled::{CoupledCv, ResidualPath};
use crate::error::CompareError;
use crate::stats::{fit_inverse_n, model_se, slope_fit_weighted, t_quantile, SlopeFit, Summary};
use mfl_core::MeanField;
use mfl_particles::{Dynamics, Gradient, MartingaleRun, MartingaleTap, Recording};
use std::sync::Arc;

use super::control::*;

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

/// The result of [`super::gap_sweep`].
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
