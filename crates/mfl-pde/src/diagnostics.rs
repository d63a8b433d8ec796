//! Scalar diagnostics of a grid density.

use crate::flux::{dissipation, Layout};
use crate::potential::PotentialField;
use mfl_core::functional::neg_entropy;
use mfl_core::{Grid, Measure};
use ndarray::Array1;

/// Diagnostics of ρ at one time.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostics {
    /// Time t.
    pub t: f64,
    /// The last step taken (0 at t = 0).
    pub dt: f64,
    /// Number of steps taken.
    pub step: u64,
    /// Σ_m ρ_m |cell|.
    pub mass: f64,
    /// min_m ρ_m.
    pub min_density: f64,
    /// R(ρ) (None for a fixed potential).
    pub risk: Option<f64>,
    /// F = E − T·entropy = E + T Σ ρ log ρ |cell|.
    pub free_energy: f64,
    /// −∫ρ log ρ ≈ −Σ_m ρ_m log ρ_m |cell| (0 log 0 = 0).
    pub entropy: f64,
    /// E(ρ): F without the entropy term.
    pub energy: f64,
    /// Mean Σ ρ_m θ_m |cell| / mass (length D).
    pub mean: Vec<f64>,
    /// Covariance, row-major D × D.
    pub cov: Vec<f64>,
    /// Discrete dissipation I = −dF/dt = −Σ_faces (|cell|/h) J_f Δ_f(Ψ + T log ρ) ≥ 0
    /// (see [`crate::flux::dissipation`]).
    pub dissipation: f64,
    /// Σ_m |ρ_m − e^{−Ψ_m/T}/Z| |cell| with Z = Σ_m e^{−Ψ_m/T} |cell|, Ψ = Ψ(·; ρ); NaN at T = 0.
    pub gibbs_residual: f64,
}

/// All [`Diagnostics`] of `rho` (one evaluation of Ψ and E together,
/// [`PotentialField::potential_energy`]).
#[allow(clippy::too_many_arguments)]
pub fn diagnose(
    grid: &Grid,
    field: &dyn PotentialField,
    rho: &[f64],
    temperature: f64,
    t: f64,
    dt: f64,
    step: u64,
) -> Diagnostics {
    let mut psi = vec![0.0; rho.len()];
    diagnose_into(grid, field, rho, temperature, t, dt, step, &mut psi)
}

/// [`diagnose`], leaving Ψ(·; ρ) in `psi` (length M) for the caller to reuse — the driver hands
/// it to the next step, whose first stage needs exactly this Ψ.
#[allow(clippy::too_many_arguments)]
pub fn diagnose_into(
    grid: &Grid,
    field: &dyn PotentialField,
    rho: &[f64],
    temperature: f64,
    t: f64,
    dt: f64,
    step: u64,
    psi: &mut [f64],
) -> Diagnostics {
    let vol = grid.cell_volume();
    let layout = Layout::new(grid);
    let e = field.potential_energy(rho, psi);
    let psi: &[f64] = psi;
    let centres = grid.centres();
    let w: Array1<f64> = rho.iter().map(|r| r * vol).collect();
    let mu = Measure::new(centres.view(), w.view());
    let neg = neg_entropy(rho, vol);
    let gibbs_residual = if temperature > 0.0 {
        let pmin = psi.iter().fold(f64::INFINITY, |a, &b| a.min(b));
        let g: Vec<f64> = psi
            .iter()
            .map(|p| (-(p - pmin) / temperature).exp())
            .collect();
        let z: f64 = g.iter().sum::<f64>() * vol;
        rho.iter()
            .zip(&g)
            .map(|(r, gi)| (r - gi / z).abs())
            .sum::<f64>()
            * vol
    } else {
        f64::NAN
    };
    Diagnostics {
        t,
        dt,
        step,
        mass: mu.mass(),
        min_density: rho.iter().fold(f64::INFINITY, |a, &b| a.min(b)),
        risk: e.risk,
        free_energy: e.energy + temperature * neg,
        entropy: -neg,
        energy: e.energy,
        mean: mu.mean(),
        cov: mu.covariance(),
        dissipation: dissipation(&layout, temperature, psi, rho),
        gibbs_residual,
    }
}
