//! The coupled control variate for t > 0 (squared loss).
//!
//! Run, next to the N interacting particles θ_i, N *independent* particles θ̄_i that start at
//! the same θ_i(0) and feel the same noise g_i, but move in the mean-field potential of the
//! PDE's ρ_t instead of their own empirical measure (synchronous coupling, the McKean–Vlasov
//! process of Sznitman's propagation-of-chaos argument):
//!
//! θ̄_i ← B(θ̄_i − η ∇Ψ(θ̄_i; ρ_{t_k}) + √(2Tη) g_i).
//!
//! The θ̄_i(t) are i.i.d. with law ρ̄_t = ρ_t + O(η) (the Euler–Maruyama error), so for the
//! squared loss the mean of their risk is known exactly from the PDE:
//!
//! E R(ρ̄_N(t)) = R(ρ_t) + V(ρ_t)/N,  V(ρ) = ∫U(θ,θ)dρ − ∬U dρ dρ = Σ_k w_k (Σ_m α_m σ_km² − f_k²)
//!
//! ([`fluctuation`]). Since θ̄_i − θ_i is small, R(ρ̄_N) and R_N are strongly correlated, and
//!
//! Y = R_N − β (R(ρ̄_N) − R(ρ_t) − V(ρ_t)/N)
//!
//! has the mean of R_N with most of its seed-to-seed variance removed; β = Cov(R_N, R̄_N) /
//! Var(R̄_N) is estimated from the seeds (the variance-optimal coefficient; its O(1/S) bias is
//! far below the standard error). The estimate inherits an O(η) bias from ρ̄_t ≠ ρ_t, which
//! the error budget's η/2 rerun (done on the same estimator) measures.
//!
//! The PDE's residual r_k(t) = ½w_k ∂ℓ(y_k, f_ρt(x_k)) is recorded on a uniform time grid
//! ([`ResidualPath`]) and interpolated linearly in t (error O(Δ²), far below the O(η) error).

use crate::error::CompareError;
use crate::stats::Summary;
use mfl_core::MeanField;
use ndarray::ArrayView2;
use rayon::prelude::*;

/// r(t) on the grid t_j = j·Δ, j = 0..len, interpolated linearly between nodes.
#[derive(Debug, Clone, PartialEq)]
pub struct ResidualPath {
    /// Δ > 0.
    pub dt: f64,
    /// r(t_j), one vector of K residuals per node.
    pub residuals: Vec<Vec<f64>>,
}

impl ResidualPath {
    /// r(t) into `out`: (1 − s) r(t_j) + s r(t_{j+1}) with t = (j + s)Δ, clamped to the
    /// recorded range.
    pub fn at(&self, t: f64, out: &mut [f64]) {
        let n = self.residuals.len();
        let u = (t / self.dt).max(0.0);
        let j = (u.floor() as usize).min(n - 1);
        if j + 1 >= n {
            out.copy_from_slice(&self.residuals[n - 1]);
            return;
        }
        let s = u - j as f64;
        for ((o, a), b) in out
            .iter_mut()
            .zip(&self.residuals[j])
            .zip(&self.residuals[j + 1])
        {
            *o = (1.0 - s) * a + s * b;
        }
    }
}

/// V(μ) = ∫U(θ,θ)dμ − ∬U dμ dμ = Σ_k w_k (Σ_m α_m σ(x_k; θ_m)² − f_k²): N times the excess
/// risk E R(μ_N) − R(μ) of N i.i.d. samples of μ (squared loss, total weight 1).
pub fn fluctuation(eval: &MeanField, theta: ArrayView2<f64>, alpha: &[f64]) -> f64 {
    let th = theta.as_standard_layout();
    let th = th.as_slice().expect("standard layout");
    let dd = theta.ncols().max(1);
    let x = eval.data.x.as_slice().expect("standard layout");
    let d = eval.data.dim();
    let per_point: Vec<f64> = (0..eval.data.len())
        .into_par_iter()
        .map(|k| {
            let xk = &x[k * d..(k + 1) * d];
            let (mut f, mut s2) = (0.0, 0.0);
            for (t, a) in th.chunks_exact(dd).zip(alpha) {
                let s = eval.unit.value(xk, t);
                f += a * s;
                s2 += a * s * s;
            }
            eval.data.w[k] * (s2 - f * f)
        })
        .collect();
    per_point.iter().sum()
}

/// [`fluctuation`] of a grid density (cell centres, weights ρ_m|cell|).
pub fn grid_fluctuation(eval: &MeanField, grid: &mfl_core::Grid, rho: &[f64]) -> f64 {
    let alpha: Vec<f64> = rho.iter().map(|r| r * grid.cell_volume()).collect();
    fluctuation(eval, grid.centres().view(), &alpha)
}

/// The coupled control variate of one (N, t > 0).
#[derive(Debug, Clone, PartialEq)]
pub struct CoupledCv {
    /// R(ρ̄_N) of the independent particles, per seed.
    pub independent_samples: Vec<f64>,
    /// Its known mean R(ρ_t) + V(ρ_t)/N.
    pub independent_mean: f64,
    /// β = Cov(R_N, R̄_N)/Var(R̄_N).
    pub beta: f64,
    /// Y = R_N − β(R̄_N − known mean), per seed.
    pub risk_samples: Vec<f64>,
    /// Summary of Y (named for the risk; the same struct serves the energy).
    pub risk: Summary,
    /// mean(Y) − R(ρ_t).
    pub gap_risk: f64,
    /// Var(R_N)/Var(Y).
    pub variance_reduction: f64,
}

impl CoupledCv {
    /// Combine the interacting risks `risk` with the independent ones (same seeds, same order).
    pub fn new(
        risk: &[f64],
        independent: &[f64],
        pde_risk: f64,
        fluct: f64,
        n: usize,
    ) -> Result<Self, CompareError> {
        Self::with_beta(risk, independent, pde_risk, fluct, n, f64::NAN)
    }

    /// As [`CoupledCv::new`] with a given coefficient β (NaN: estimate it from the seeds).
    pub fn with_beta(
        risk: &[f64],
        independent: &[f64],
        pde_risk: f64,
        fluct: f64,
        n: usize,
        beta: f64,
    ) -> Result<Self, CompareError> {
        if risk.len() != independent.len() || risk.len() < 3 {
            return Err(CompareError::invalid(
                "control variate",
                "needs the same ≥ 3 seeds for both particle systems",
            ));
        }
        let known = pde_risk + fluct / n as f64;
        let s = risk.len() as f64;
        let (ma, mb) = (
            risk.iter().sum::<f64>() / s,
            independent.iter().sum::<f64>() / s,
        );
        let cov: f64 = risk
            .iter()
            .zip(independent)
            .map(|(a, b)| (a - ma) * (b - mb))
            .sum::<f64>();
        let var_b: f64 = independent.iter().map(|b| (b - mb).powi(2)).sum::<f64>();
        let beta = if !beta.is_nan() {
            beta
        } else if var_b > 0.0 {
            cov / var_b
        } else {
            0.0
        };
        let y: Vec<f64> = risk
            .iter()
            .zip(independent)
            .map(|(a, b)| a - beta * (b - known))
            .collect();
        let sy = Summary::of(&y);
        let sa = Summary::of(risk);
        Ok(CoupledCv {
            independent_samples: independent.to_vec(),
            independent_mean: known,
            beta,
            gap_risk: sy.mean - pde_risk,
            variance_reduction: (sa.std / sy.std).powi(2),
            risk: sy,
            risk_samples: y,
        })
    }
}
