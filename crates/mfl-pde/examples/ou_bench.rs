//! The mfl side of the issue-3 OU comparison (py-pde side: benches/ou_pypde.py): 2D OU
//! ∂ρ/∂t = ∇·(ρ∇V) + TΔρ, V = ½θᵀAθ, on [−4, 4]², T = 0.1, t ∈ [0, 1], ρ₀ = N(m₀, S₀).
//! For several grids and steppers: wall time of `driver::solve` (best of 3) and the L1 error
//! Σ|ρ − ρ_exact(θ_m)|·|cell| at t = 1. Usage:
//! `cargo run --release -p mfl-pde --example ou_bench [threads]`.

use mfl_core::{Axis, Boundary, Gaussian, Grid, Law};
use mfl_pde::{solve, FixedPotential, FvProblem, NoObserver, RunOptions, StepperChoice};
use std::time::Instant;

const T: f64 = 0.1;
const L: f64 = 4.0;
const A: [f64; 4] = [1.0, 0.6, 0.6, 0.8];
const M0: [f64; 2] = [1.0, -0.5];
const S0: [f64; 4] = [0.3, 0.1, 0.1, 0.2];

fn mul(a: [f64; 4], b: [f64; 4]) -> [f64; 4] {
    [
        a[0] * b[0] + a[1] * b[2],
        a[0] * b[1] + a[1] * b[3],
        a[2] * b[0] + a[3] * b[2],
        a[2] * b[1] + a[3] * b[3],
    ]
}

/// e^{−tA} for the symmetric A.
fn expm_neg(t: f64) -> [f64; 4] {
    let (p, q, r) = (A[0], A[1], A[3]);
    let mean = 0.5 * (p + r);
    let rad = (0.25 * (p - r) * (p - r) + q * q).sqrt();
    let (l1, l2) = (mean + rad, mean - rad);
    let (vx, vy) = (q, l1 - p);
    let nrm = (vx * vx + vy * vy).sqrt();
    let (ux, uy) = (vx / nrm, vy / nrm);
    let (e1, e2) = ((-t * l1).exp(), (-t * l2).exp());
    let p1 = [ux * ux, ux * uy, ux * uy, uy * uy];
    [
        e1 * p1[0] + e2 * (1.0 - p1[0]),
        (e1 - e2) * p1[1],
        (e1 - e2) * p1[2],
        e1 * p1[3] + e2 * (1.0 - p1[3]),
    ]
}

fn pdf(m: [f64; 2], s: [f64; 4], x: &[f64]) -> f64 {
    let det = s[0] * s[3] - s[1] * s[2];
    let (z0, z1) = (x[0] - m[0], x[1] - m[1]);
    let q = (s[3] * z0 * z0 - 2.0 * s[1] * z0 * z1 + s[0] * z1 * z1) / det;
    (-0.5 * q).exp() / (2.0 * std::f64::consts::PI * det.sqrt())
}

fn main() {
    let threads: usize = std::env::args().nth(1).map_or(2, |s| s.parse().unwrap());
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let e = expm_neg(1.0);
    let mt = [e[0] * M0[0] + e[1] * M0[1], e[2] * M0[0] + e[3] * M0[1]];
    let e2 = mul(e, e);
    let det = A[0] * A[3] - A[1] * A[2];
    let ainv = [A[3] / det, -A[1] / det, -A[2] / det, A[0] / det];
    let stat = mul(ainv, [1.0 - e2[0], -e2[1], -e2[2], 1.0 - e2[3]]);
    let esd = mul(mul(e, S0), e);
    let st = [
        esd[0] + T * stat[0],
        esd[1] + T * stat[1],
        esd[2] + T * stat[2],
        esd[3] + T * stat[3],
    ];
    println!("threads {threads}");
    for n in [192usize, 224, 256] {
        let grid = Grid::new(vec![Axis::new(-L, L, n, Boundary::NoFlux).unwrap(); 2]).unwrap();
        let h = grid.h_min();
        let v =
            |x: &[f64]| 0.5 * (A[0] * x[0] * x[0] + 2.0 * A[1] * x[0] * x[1] + A[3] * x[1] * x[1]);
        let rho0 = Law::Gaussian(Gaussian::new(M0.to_vec(), S0.to_vec()).unwrap())
            .on_grid(&grid)
            .unwrap();
        let choices = [
            (
                "explicit SSP-RK3 cfl 1.0",
                StepperChoice::Explicit { cfl: 1.0 },
            ),
            (
                "explicit SSP-RK3 cfl 0.9",
                StepperChoice::Explicit { cfl: 0.9 },
            ),
            (
                "implicit dt=2h²",
                StepperChoice::Implicit { dt: 2.0 * h * h },
            ),
            ("implicit dt=h²", StepperChoice::Implicit { dt: h * h }),
        ];
        for (name, stepper) in choices {
            let opts = RunOptions {
                t_end: 1.0,
                stepper,
                snapshot_times: vec![],
                diagnostics_every: 1.0,
                dt_min: 0.0,
            };
            let mut best = f64::INFINITY;
            let mut rho = Vec::new();
            for _ in 0..3 {
                let field = FixedPotential::from_fn(&grid, v).unwrap();
                let p = FvProblem::new(grid.clone(), T, Box::new(field)).unwrap();
                let r0 = rho0.clone();
                let t0 = Instant::now();
                rho = pool.install(|| solve(&p, r0, &opts, &mut NoObserver).unwrap());
                best = best.min(t0.elapsed().as_secs_f64());
            }
            let c = grid.centres();
            let l1: f64 = c
                .rows()
                .into_iter()
                .zip(&rho)
                .map(|(x, r)| (r - pdf(mt, st, x.as_slice().unwrap())).abs())
                .sum::<f64>()
                * grid.cell_volume();
            println!("{n:4}²  {name:26}  wall {best:8.4} s  L1 {l1:.3e}");
        }
    }
}
