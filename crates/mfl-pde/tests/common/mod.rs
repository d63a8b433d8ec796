//! Shared helpers for the integration tests: exact Gaussian solutions and error norms.
#![allow(dead_code)]

use mfl_core::{Axis, Boundary, Grid};
use mfl_pde::{solve, FvProblem, NoObserver, RunOptions, StepperChoice};

/// Symmetric 2×2 matrix exponential e^{−tA}, row-major.
pub fn expm_neg_sym2(a: [f64; 4], t: f64) -> [f64; 4] {
    let (p, q, r) = (a[0], a[1], a[3]);
    let mean = 0.5 * (p + r);
    let rad = (0.25 * (p - r) * (p - r) + q * q).sqrt();
    let (l1, l2) = (mean + rad, mean - rad);
    // eigenvector of l1
    let (vx, vy) = if q.abs() > 1e-300 {
        (q, l1 - p)
    } else if p >= r {
        (1.0, 0.0)
    } else {
        (0.0, 1.0)
    };
    let nrm = (vx * vx + vy * vy).sqrt();
    let (ux, uy) = (vx / nrm, vy / nrm);
    let (e1, e2) = ((-t * l1).exp(), (-t * l2).exp());
    // P1 = u uᵀ, P2 = I − P1
    let p1 = [ux * ux, ux * uy, ux * uy, uy * uy];
    [
        e1 * p1[0] + e2 * (1.0 - p1[0]),
        e1 * p1[1] - e2 * p1[1],
        e1 * p1[2] - e2 * p1[2],
        e1 * p1[3] + e2 * (1.0 - p1[3]),
    ]
}

pub fn mul2(a: [f64; 4], b: [f64; 4]) -> [f64; 4] {
    [
        a[0] * b[0] + a[1] * b[2],
        a[0] * b[1] + a[1] * b[3],
        a[2] * b[0] + a[3] * b[2],
        a[2] * b[1] + a[3] * b[3],
    ]
}

pub fn inv2(a: [f64; 4]) -> [f64; 4] {
    let det = a[0] * a[3] - a[1] * a[2];
    [a[3] / det, -a[1] / det, -a[2] / det, a[0] / det]
}

pub fn matvec2(a: [f64; 4], v: [f64; 2]) -> [f64; 2] {
    [a[0] * v[0] + a[1] * v[1], a[2] * v[0] + a[3] * v[1]]
}

/// Density of N(m, S) in 1D or 2D.
pub fn gauss_pdf(m: &[f64], s: &[f64], x: &[f64]) -> f64 {
    if m.len() == 1 {
        let z = x[0] - m[0];
        (-0.5 * z * z / s[0]).exp() / (2.0 * std::f64::consts::PI * s[0]).sqrt()
    } else {
        let det = s[0] * s[3] - s[1] * s[2];
        let inv = inv2([s[0], s[1], s[2], s[3]]);
        let z = [x[0] - m[0], x[1] - m[1]];
        let q = z[0] * (inv[0] * z[0] + inv[1] * z[1]) + z[1] * (inv[2] * z[0] + inv[3] * z[1]);
        (-0.5 * q).exp() / (2.0 * std::f64::consts::PI * det.sqrt())
    }
}

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
