//! The adjoint control variate (crate::adjoint): exactly zero mean — in 1D and 2D, with exact
//! and minibatch gradients, and with φ from a deliberately coarse grid — agreement with the
//! plain estimate, and the variance it removes.

mod common;

use common::*;
use mfl_compare::{gap_sweep_with, Control, GapTable, SweepOptions};
use mfl_pde::NoObserver;

fn sweep(control: Control, ns: &[usize], seeds: usize, times: &[f64], temp: f64) -> GapTable {
    let mf = tanh_problem(0.05);
    let grid = grid_1d(120);
    let rho0 = gaussian_rho0(&grid);
    let pde = fv(&mf, &grid, temp);
    let seeds: Vec<u64> = (0..seeds as u64).collect();
    gap_sweep_with(
        &pde,
        rho0.clone(),
        &opts(times[times.len() - 1], 0.002),
        &mf,
        |n| dynamics(&mf, &grid, &rho0, n, 0.01, temp),
        ns,
        &seeds,
        times,
        &mut NoObserver,
        &SweepOptions {
            control,
            distances: false,
            progress: None,
        },
    )
    .unwrap()
}

#[test]
fn debug_variance_reduction_1d() {
    let t = sweep(Control::Adjoint, &[32, 128], 200, &[0.0, 0.5, 1.0], 0.05);
    for i in 0..2 {
        for j in 0..3 {
            let r = t.row(i, j);
            let a = r.adjoint.as_ref().unwrap();
            let z = mfl_compare::Summary::of(&a.z_risk);
            eprintln!(
                "N {} t {}: raw {:.3e}±{:.1e} adj {:.3e}±{:.1e} VR {:.1} Zmean {:.2e}±{:.1e} zstd {:.2e} rawstd {:.2e} beta {:.3}",
                r.n, r.time, r.gap_risk, r.risk.se, a.gap_risk, a.risk.se, a.variance_reduction_risk, z.mean, z.se, z.std, r.risk.std, a.optimal_coefficient
            );
        }
    }
}
