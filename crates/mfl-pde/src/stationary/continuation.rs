//! Temperature continuation: stationary states at T₁ > T₂ > …, each started from the previous
//! one's potential, with diagnostics and (optionally) the predicted rate at each.
//!
//! A stationary state at high T is diffuse and the fixed-point map is a strong contraction
//! (its Lipschitz constant scales like ‖U‖/T); warm-starting the next, lower temperature from
//! Ψ*(T_prev) keeps the iteration inside the basin where Anderson acceleration converges fast.

use super::lanczos::{slowest_mode_from, EigenOptions, SlowMode};
use super::linearised::Linearisation;
use super::{stationary, Stationary, StationaryOptions};
use crate::diagnostics::{diagnose, Diagnostics};
use crate::error::PdeError;
use crate::potential::PotentialField;
use mfl_core::{Grid, MeanField};

/// One temperature of a continuation.
#[derive(Debug, Clone, PartialEq)]
pub struct StationaryPoint {
    /// The fixed-point result (best iterate).
    pub state: Stationary,
    /// Diagnostics of `state.rho` (F, R, entropy, mass, … and its Gibbs residual).
    pub diagnostics: Diagnostics,
    /// The slowest mode of the linearised scheme (None when rates were not asked for or the
    /// state did not converge).
    pub mode: Option<SlowMode>,
}

/// Stationary states at each temperature of `temperatures` in turn (the first started from
/// `psi0`, each later one from the previous state's Ψ iterate). `mf` is the problem behind
/// `field` for the rates' DΨ (None for a fixed potential; unused when the field has a
/// closed-form [`PotentialField::linear_response`]); `rates` asks for [`super::slowest_mode`].
/// The Lanczos iteration at each temperature starts from the previous temperature's mode.
/// `each` sees every point as soon as it is computed (an `Err` stops the continuation with
/// [`PdeError::Observer`]). The continuation stops after the first state that does not
/// converge; it is the last point returned.
#[allow(clippy::too_many_arguments)]
pub fn continuation(
    grid: &Grid,
    field: &dyn PotentialField,
    mf: Option<&MeanField>,
    temperatures: &[f64],
    psi0: &[f64],
    opts: &StationaryOptions,
    rates: Option<&EigenOptions>,
    each: &mut dyn FnMut(&StationaryPoint) -> Result<(), String>,
) -> Result<Vec<StationaryPoint>, PdeError> {
    let mut out: Vec<StationaryPoint> = Vec::new();
    for &t in temperatures {
        let start = out.last().map_or(psi0, |p| p.state.psi_iterate.as_slice());
        let state = stationary(grid, field, t, start, opts)?;
        let diagnostics = diagnose(grid, field, &state.rho, t, 0.0, 0.0, 0);
        let mode = match rates {
            Some(eo) if state.converged => {
                let lin = match field.linear_response() {
                    Some(op) => Linearisation::with_response(grid, t, &state.rho, &state.psi, op)?,
                    None => Linearisation::new(grid, t, &state.rho, &state.psi, mf)?,
                };
                let guess = out
                    .last()
                    .and_then(|p| p.mode.as_ref())
                    .map(|m| m.vector.as_slice());
                Some(slowest_mode_from(&lin, eo, guess)?)
            }
            _ => None,
        };
        let point = StationaryPoint {
            state,
            diagnostics,
            mode,
        };
        each(&point).map_err(PdeError::Observer)?;
        let stop = !point.state.converged;
        out.push(point);
        if stop {
            break;
        }
    }
    Ok(out)
}
