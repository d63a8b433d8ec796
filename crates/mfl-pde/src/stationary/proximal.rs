//! The Poincaré constant of a proximal Gibbs measure: for a density ρ_t along a run, the
//! spectral gap of the Scharfetter–Gummel generator of the *frozen* potential Ψ_t = Ψ(·; ρ_t),
//!
//! C_P(ρ_t)^{-1} = κ_lin(Ψ_t) = smallest nonzero eigenvalue of −L_SG(Ψ_t) = K(Ψ_t)·T/π_t,
//! π_t = e^{−Ψ_t/T}/Z,
//!
//! i.e. [`super::Linearisation`] at (π_t, Ψ_t) with DΨ = 0: the quantity the linear-convergence
//! theory of mean-field Langevin dynamics bounds (through log-Sobolev/Poincaré constants of the
//! proximal Gibbs measures π_t). Its operator costs O(M) per application (no data pass).

use super::gibbs_density;
use super::lanczos::{slowest_mode_from, EigenOptions, SlowMode};
use super::linearised::Linearisation;
use crate::error::PdeError;
use mfl_core::Grid;

/// The spectral gap of the SG generator of the fixed potential `psi` on `grid` at T > 0 (its
/// Gibbs measure's discrete Poincaré constant is 1/κ); `guess` warm-starts Lanczos.
pub fn proximal_gap(
    grid: &Grid,
    temperature: f64,
    psi: &[f64],
    opts: &EigenOptions,
    guess: Option<&[f64]>,
) -> Result<SlowMode, PdeError> {
    if psi.len() != grid.len() || psi.iter().any(|p| !p.is_finite()) {
        return Err(PdeError::invalid(
            "potential",
            format!("needs {} finite values", grid.len()),
        ));
    }
    if !(temperature > 0.0 && temperature.is_finite()) {
        return Err(PdeError::invalid(
            "temperature",
            format!("a Gibbs measure needs T > 0, got {temperature}"),
        ));
    }
    let mut pi = vec![0.0; grid.len()];
    gibbs_density(psi, temperature, grid.cell_volume(), &mut pi);
    let lin = Linearisation::new(grid, temperature, &pi, psi, None)?;
    slowest_mode_from(&lin, opts, guess)
}
