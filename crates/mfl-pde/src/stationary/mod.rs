//! Stationary states ρ* = e^{−Ψ(θ; ρ*)/T}/Z of the mean-field Fokker–Planck equation on a grid
//! (T > 0), and the predicted rate at which the flow reaches them.
//!
//! **Fixed point.** With the discrete Gibbs map g(Ψ)_m = e^{−Ψ_m/T}/Z, Z = Σ_m e^{−Ψ_m/T}|cell|
//! (mass 1), and the potential map Ψ ↦ G(Ψ) = Ψ(·; g(Ψ)), the stationary state is ρ* = g(Ψ*)
//! with Ψ* = G(Ψ*). The iteration runs on Ψ, not ρ — G is smooth where ρ is exponentially small,
//! and every iterate ρ_k = g(Ψ_k) is a positive probability density — accelerated by
//! [`anderson::Anderson`] (damped Picard for depth 0). It stops when the Gibbs residual of the
//! iterate,
//!
//! res(ρ_k) = Σ_m |ρ_k,m − e^{−Ψ_m(ρ_k)/T}/Z| |cell|,
//!
//! (the same quantity as [`crate::Diagnostics::gibbs_residual`], one Ψ evaluation per iteration)
//! is ≤ `tol`. Since a discrete ρ ∝ e^{−Ψ/T} makes every Scharfetter–Gummel face flux vanish
//! ([`crate::flux`]), ρ* is exactly stationary for the finite-volume schemes: the FV solution
//! converges to it, not to an approximation of it.
//!
//! **Safeguard.** An iterate is rejected when its Gibbs residual is not finite or exceeds
//! [`REJECT_FACTOR`] × the best so far, or when its fixed-point residual ‖G(Ψ) − Ψ‖₂ exceeds
//! [`REJECT_FACTOR`] × the smallest so far (the Gibbs residual saturates at 2 — disjoint
//! densities — far from the solution at low T, the Ψ residual does not). On rejection the
//! history is cleared, the damping halved (down to [`MIN_DAMPING`]) and the next iterate is the
//! damped Picard step from the best iterate. The best iterate is what is returned, converged or not.
//!
//! **Rates.** [`linearised`] is the exact linearisation of the semi-discrete SG scheme at ρ*,
//! L = −K H (K the Onsager operator of the faces, H the Hessian of the discrete free energy);
//! [`lanczos`] finds its slowest nonzero mode by Lanczos in the H inner product, in which L is
//! self-adjoint. F(ρ_t) − F(ρ*) ≈ ½⟨δρ, H δρ⟩ then decays at 2κ, κ the smallest eigenvalue of KH
//! on mass-zero perturbations. [`proximal`] gives the Poincaré constant of the proximal Gibbs
//! measure e^{−Ψ(·; ρ_t)/T}/Z of any density along a run (the same Lanczos with DΨ = 0).

pub mod anderson;
pub mod continuation;
pub mod lanczos;
pub mod linearised;
pub mod proximal;

use crate::error::PdeError;
use crate::potential::PotentialField;
use anderson::Anderson;
use mfl_core::Grid;

pub use continuation::{continuation, StationaryPoint};
pub use lanczos::{slowest_mode, slowest_mode_from, EigenOptions, SlowMode};
pub use linearised::Linearisation;
pub use proximal::proximal_gap;

/// An iterate whose residual exceeds this multiple of the best one is rejected.
pub const REJECT_FACTOR: f64 = 10.0;
/// The damping is never halved below this.
pub const MIN_DAMPING: f64 = 1.0 / 1024.0;

/// Options of the fixed-point solver.
#[derive(Debug, Clone, PartialEq)]
pub struct StationaryOptions {
    /// Stop when the Gibbs residual Σ|ρ − e^{−Ψ(ρ)/T}/Z||cell| ≤ tol (> 0).
    pub tol: f64,
    /// At most this many Ψ updates (iteration 0 evaluates the starting guess).
    pub max_iter: usize,
    /// Damping β ∈ (0, 1] of the Picard part, Ψ ← Ψ + β(G(Ψ) − Ψ).
    pub damping: f64,
    /// Number of Anderson differences kept (0: damped Picard iteration).
    pub anderson: usize,
}

impl Default for StationaryOptions {
    fn default() -> Self {
        StationaryOptions {
            tol: 1e-12,
            max_iter: 1000,
            damping: 0.5,
            anderson: 10,
        }
    }
}

impl StationaryOptions {
    /// That tol > 0, β ∈ (0, 1] (finite values).
    pub fn validate(&self) -> Result<(), PdeError> {
        if !(self.tol > 0.0 && self.tol.is_finite()) {
            return Err(PdeError::invalid(
                "tol",
                format!("must be > 0, got {}", self.tol),
            ));
        }
        if !(self.damping > 0.0 && self.damping <= 1.0) {
            return Err(PdeError::invalid(
                "damping",
                format!("must be in (0, 1], got {}", self.damping),
            ));
        }
        Ok(())
    }
}

/// The result of [`stationary`]: the best iterate, converged or not.
#[derive(Debug, Clone, PartialEq)]
pub struct Stationary {
    /// Temperature T.
    pub temperature: f64,
    /// ρ = g(Ψ_best) on the cells (mass 1, positive).
    pub rho: Vec<f64>,
    /// Ψ(·; ρ) on the cells (the potential *of* ρ, one map after Ψ_best).
    pub psi: Vec<f64>,
    /// The iterate Ψ_best with ρ = g(Ψ_best), to warm-start the next temperature.
    pub psi_iterate: Vec<f64>,
    /// Gibbs residual of ρ.
    pub residual: f64,
    /// Whether residual ≤ tol.
    pub converged: bool,
    /// Ψ evaluations made (= residuals in `history`).
    pub evaluations: usize,
    /// Index (into `history`) of the returned iterate.
    pub best: usize,
    /// Gibbs residual of every iterate, in order (iteration 0 is the starting guess).
    pub history: Vec<f64>,
    /// The damping in force at the end (halved by each rejected iterate).
    pub damping: f64,
}

/// The best iterate so far: (Ψ_k, G(Ψ_k), ρ_k = g(Ψ_k), residual, k).
type Best = (Vec<f64>, Vec<f64>, Vec<f64>, f64, usize);

/// ρ = g(Ψ) = e^{−(Ψ − min Ψ)/T} / Σ_m e^{−(Ψ_m − min Ψ)/T}|cell| into `rho` (fixed order).
pub fn gibbs_density(psi: &[f64], temperature: f64, cell_volume: f64, rho: &mut [f64]) {
    let pmin = psi.iter().fold(f64::INFINITY, |a, &b| a.min(b));
    for (r, p) in rho.iter_mut().zip(psi) {
        *r = (-(p - pmin) / temperature).exp();
    }
    let z: f64 = rho.iter().sum::<f64>() * cell_volume;
    rho.iter_mut().for_each(|r| *r /= z);
}

/// Solve ρ = e^{−Ψ(·; ρ)/T}/Z on `grid` from the starting potential `psi0` (e.g. Ψ(·; ρ₀), or
/// the Ψ of a stationary state at a nearby temperature). Returns the best iterate; its
/// `converged` flag says whether the residual reached `opts.tol` within `opts.max_iter` updates.
///
/// Errors only on invalid input: T ≤ 0, a `psi0` of the wrong length or not finite, a field of
/// the wrong dimension, invalid options.
pub fn stationary(
    grid: &Grid,
    field: &dyn PotentialField,
    temperature: f64,
    psi0: &[f64],
    opts: &StationaryOptions,
) -> Result<Stationary, PdeError> {
    opts.validate()?;
    if !(temperature > 0.0 && temperature.is_finite()) {
        return Err(PdeError::invalid(
            "temperature",
            format!("a stationary state e^{{−Ψ/T}}/Z needs T > 0, got {temperature}"),
        ));
    }
    if field.dim() != grid.dim() {
        return Err(PdeError::invalid(
            "grid",
            format!(
                "the potential lives in dimension {}, the grid has {} axes",
                field.dim(),
                grid.dim()
            ),
        ));
    }
    let m = grid.len();
    if psi0.len() != m {
        return Err(PdeError::invalid(
            "starting potential",
            format!("{} values for {m} cells", psi0.len()),
        ));
    }
    if psi0.iter().any(|p| !p.is_finite()) {
        return Err(PdeError::invalid(
            "starting potential",
            "has a non-finite value",
        ));
    }
    let vol = grid.cell_volume();
    let mut damping = opts.damping;
    let mut mix = Anderson::new(opts.anderson, damping);
    let mut x = psi0.to_vec();
    let mut rho = vec![0.0; m];
    let mut gx = vec![0.0; m];
    let mut rho_g = vec![0.0; m];
    let mut f = vec![0.0; m];
    let mut next = vec![0.0; m];
    let mut history = Vec::new();
    // best iterate: (x, G(x), ρ, residual, index)
    let mut best_f = f64::INFINITY;
    let mut best: Option<Best> = None;
    for k in 0..=opts.max_iter {
        gibbs_density(&x, temperature, vol, &mut rho);
        field.potential(&rho, &mut gx);
        let finite = gx.iter().all(|v| v.is_finite());
        let res = if finite {
            gibbs_density(&gx, temperature, vol, &mut rho_g);
            rho.iter()
                .zip(&rho_g)
                .map(|(a, b)| (a - b).abs())
                .sum::<f64>()
                * vol
        } else {
            f64::NAN
        };
        history.push(res);
        let fnorm = if finite {
            gx.iter()
                .zip(&x)
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f64>()
                .sqrt()
        } else {
            f64::NAN
        };
        let rejected_f = fnorm.is_nan() || fnorm > REJECT_FACTOR * best_f;
        if fnorm < best_f {
            best_f = fnorm;
        }
        let best_res = best.as_ref().map_or(f64::INFINITY, |b| b.3);
        if res.is_finite() && res < best_res {
            best = Some((x.clone(), gx.clone(), rho.clone(), res, k));
        }
        if res <= opts.tol || k == opts.max_iter || best.is_none() {
            break;
        }
        let rejected = !res.is_finite() || res > REJECT_FACTOR * best_res || rejected_f;
        if rejected {
            let b = best.as_ref().expect("checked above");
            damping = (0.5 * damping).max(MIN_DAMPING);
            mix = Anderson::new(opts.anderson, damping);
            for ((n, xi), gi) in next.iter_mut().zip(&b.0).zip(&b.1) {
                *n = xi + damping * (gi - xi);
            }
        } else {
            for ((fi, gi), xi) in f.iter_mut().zip(&gx).zip(&x) {
                *fi = gi - xi;
            }
            mix.step(&x, &f, &mut next);
        }
        std::mem::swap(&mut x, &mut next);
    }
    let Some((bx, bgx, brho, bres, bk)) = best else {
        return Err(PdeError::invalid(
            "starting potential",
            "Ψ of its Gibbs density is not finite",
        ));
    };
    Ok(Stationary {
        temperature,
        rho: brho,
        psi: bgx,
        psi_iterate: bx,
        residual: bres,
        converged: bres <= opts.tol,
        evaluations: history.len(),
        best: bk,
        history,
        damping,
    })
}
