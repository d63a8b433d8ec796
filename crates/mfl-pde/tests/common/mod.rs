//! Shared helpers for the integration tests: error norms, grids and runs (the exact solutions
//! live in mfl-testkit).
#![allow(dead_code)]

use mfl_core::{Axis, Boundary, Grid};
use mfl_pde::{solve, FvProblem, NoObserver, RunOptions, StepperChoice};

/// Σ_m |ρ_m − p(θ_m)| |cell|.
pub fn l1_error(grid: &Grid, rho: &[f64], exact: impl Fn(&[f64]) -> f64) -> f64 {
    let c = grid.centres();
    c.rows()
        .into_iter()
        .zip(rho)
        .map(|(r, v)| (v - exact(r.as_slice().unwrap())).abs())
        .sum::<f64>()
        * grid.cell_volume()
}

/// A square grid [lo, hi]^dim with n cells per axis.
pub fn square(dim: usize, lo: f64, hi: f64, n: usize, b: Boundary) -> Grid {
    Grid::new((0..dim).map(|_| Axis::new(lo, hi, n, b).unwrap()).collect()).unwrap()
}

/// Run to t_end without observers.
pub fn run(problem: &FvProblem, rho0: Vec<f64>, t_end: f64, stepper: StepperChoice) -> Vec<f64> {
    let opts = RunOptions {
        t_end,
        stepper,
        snapshot_times: vec![],
        diagnostics_every: t_end,
        dt_min: 0.0,
    };
    solve(problem, rho0, &opts, &mut NoObserver).unwrap()
}

/// Observed orders log2(e_k / e_{k+1}) for grids refined by 2.
pub fn orders(errs: &[f64]) -> Vec<f64> {
    errs.windows(2).map(|w| (w[0] / w[1]).log2()).collect()
}
