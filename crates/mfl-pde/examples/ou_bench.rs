//! The mfl side of the issue-3 OU comparison (py-pde side: benches/ou_pypde.py): 2D OU
//! ∂ρ/∂t = ∇·(ρ∇V) + TΔρ, V = ½θᵀAθ, on [−4, 4]², T = 0.1, t ∈ [0, 1], ρ₀ = N(m₀, S₀).
//! For several grids and steppers: wall time of `driver::solve` (best of 3) and the L1 error
//! Σ|ρ − ρ_exact(θ_m)|·|cell| at t = 1. Usage:
//! `cargo run --release -p mfl-pde --example ou_bench [threads]`.

use mfl_core::{Axis, Boundary, Gaussian, Grid, Law};
use mfl_pde::{solve, FixedPotential, FvProblem, NoObserver, RunOptions, StepperChoice};
use mfl_testkit::{gauss_pdf, Ou2};
use std::time::Instant;

const T: f64 = 0.1;
const L: f64 = 4.0;
const A: [f64; 4] = [1.0, 0.6, 0.6, 0.8];
const M0: [f64; 2] = [1.0, -0.5];
const S0: [f64; 4] = [0.3, 0.1, 0.1, 0.2];

fn main() {
    let threads: usize = std::env::args().nth(1).map_or(2, |s| s.parse().unwrap());
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    // the exact Gaussian law at t = 1 (mfl_testkit::ou)
    let ou = Ou2 {
        a: A,
        temperature: T,
    };
    let (mt, st) = ou.law_at(M0, S0, 1.0);
    println!("threads {threads}");
    for n in [192usize, 224, 256] {
        let grid = Grid::new(vec![Axis::new(-L, L, n, Boundary::NoFlux).unwrap(); 2]).unwrap();
        let h = grid.h_min();
        let v = |x: &[f64]| ou.potential(x);
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
                .map(|(x, r)| (r - gauss_pdf(&mt, &st, x.as_slice().unwrap())).abs())
                .sum::<f64>()
                * grid.cell_volume();
            println!("{n:4}²  {name:26}  wall {best:8.4} s  L1 {l1:.3e}");
        }
    }
}
