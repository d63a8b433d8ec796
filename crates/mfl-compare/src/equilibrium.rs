//! The gap at equilibrium (T > 0): long-time particles against the stationary density.
//!
//! Once ρ_t has reached ρ* (its Gibbs residual ‖ρ − e^{−Ψ(·;ρ)/T}/Z‖₁ is small) the particle
//! system is stationary too, and each seed's R_N(θ(t)) fluctuates around E_{π_N} R_N. The
//! record times t_j ≥ `from` are then samples of one stationary chain, so each seed contributes
//! its time average
//!
//! Ȳ_k = (1/J) Σ_j R_N,k(t_j),   gap* = mean_k Ȳ_k − (1/J) Σ_j R(ρ_{t_j}),
//!
//! (and the same for the energy E = ½R + (λ/2)∫|θ|²). The seeds are independent, so the
//! standard error over seeds is honest whatever the autocorrelation of the chain; the time
//! average divides the variance by up to the number of decorrelation times in the window.

use crate::error::CompareError;
use crate::stats::{SlopeFit, Summary};
use crate::sweep::{jackknife_slope_fit, GapTable};

/// The equilibrium gaps of a sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct Equilibrium {
    /// The first time counted as equilibrium.
    pub from: f64,
    /// The record times averaged over.
    pub times: Vec<f64>,
    /// N, as in the table.
    pub ns: Vec<usize>,
    /// Time-averaged R(ρ_t) and E(ρ_t) of the PDE over the window.
    pub pde_risk: f64,
    /// Time-averaged E(ρ_t).
    pub pde_energy: f64,
    /// Per N: gap* of the risk over seeds (mean, se, spread of the time averages).
    pub risk: Vec<Summary>,
    /// Per N: the same for the energy.
    pub energy: Vec<Summary>,
    /// log|gap*| on log N (seed jackknife), when the gaps allow a log–log fit.
    pub fit: Result<SlopeFit, String>,
}

impl Equilibrium {
    /// Time averages over the record times ≥ `from` of `table` (at least 2 of them).
    pub fn of(table: &GapTable, from: f64) -> Result<Self, CompareError> {
        let js: Vec<usize> = (0..table.times.len())
            .filter(|&j| table.times[j] >= from)
            .collect();
        if js.len() < 2 {
            return Err(CompareError::invalid(
                "equilibrium",
                format!(
                    "needs at least 2 record times ≥ {from}, the sweep has {}",
                    js.len()
                ),
            ));
        }
        let avg =
            |v: &dyn Fn(usize) -> f64| js.iter().map(|&j| v(j)).sum::<f64>() / js.len() as f64;
        let pde_risk = avg(&|j| table.pde_risk[j]);
        let pde_energy = avg(&|j| table.pde_energy[j]);
        let seeds = table.seeds.len();
        let per_seed = |i_n: usize, energy: bool| -> Vec<f64> {
            (0..seeds)
                .map(|k| {
                    avg(&|j| {
                        let r = table.row(i_n, j);
                        if energy {
                            r.energy_samples[k]
                        } else {
                            r.risk_samples[k]
                        }
                    })
                })
                .collect()
        };
        let risk_samples: Vec<Vec<f64>> = (0..table.ns.len()).map(|i| per_seed(i, false)).collect();
        let energy_samples: Vec<Vec<f64>> =
            (0..table.ns.len()).map(|i| per_seed(i, true)).collect();
        let gap = |v: &[f64], reference: f64| {
            let s = Summary::of(v);
            Summary {
                mean: s.mean - reference,
                ..s
            }
        };
        let refs: Vec<&[f64]> = risk_samples.iter().map(|v| v.as_slice()).collect();
        let fit = jackknife_slope_fit(&table.ns, &table.seeds, &refs, pde_risk, 0.5)
            .map_err(|e| e.to_string());
        Ok(Equilibrium {
            from,
            times: js.iter().map(|&j| table.times[j]).collect(),
            ns: table.ns.clone(),
            pde_risk,
            pde_energy,
            risk: risk_samples.iter().map(|v| gap(v, pde_risk)).collect(),
            energy: energy_samples.iter().map(|v| gap(v, pde_energy)).collect(),
            fit,
        })
    }
}
