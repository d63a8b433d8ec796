//! The control variates of the sweep: the t = 0 linear one ([`ControlVariate`], with its
//! exact reference [`CvReference`]), the adjoint one ([`AdjointCv`], its node times
//! [`adjoint_nodes`]), and the choice between them ([`Control`]).

use crate::error::CompareError;
use crate::stats::Summary;
use mfl_core::{Grid, MeanField, Measure};
use mfl_particles::Dynamics;
use ndarray::Array1;

use super::trace::same_time;

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
pub(super) struct CvReference {
    r: Vec<f64>,
    /// Σ_k r_k f_k.
    rf: f64,
    /// (λ/2) ∫|θ|² dρ₀.
    reg: f64,
}

impl CvReference {
    pub(super) fn new(eval: &MeanField, grid: &Grid, rho0: &[f64]) -> Self {
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
    pub(super) fn linear_terms(
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

pub(super) fn variance_ratio(a: &Summary, b: &Summary) -> f64 {
    (a.std / b.std).powi(2)
}
