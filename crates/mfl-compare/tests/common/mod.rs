//! Shared test helpers: a tiny deterministic RNG and a 1D mean-field problem.
#![allow(dead_code)]

use mfl_core::{Boundary, Gaussian, Grid, Law, MeanField};
use mfl_particles::{AxisBoundary, Dynamics, Init, Temperature};
use mfl_pde::{FvProblem, MeanFieldPotential, RunOptions, StepperChoice};
use ndarray::array;

/// splitmix64 with Box–Muller normals.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    pub fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
    /// A sample from a piecewise-constant density on a 1D grid.
    pub fn sample_grid(&mut self, grid: &Grid, cdf: &[f64]) -> f64 {
        let ax = &grid.axes[0];
        let u = self.uniform() * cdf[cdf.len() - 1];
        let m = cdf.partition_point(|&c| c <= u).min(cdf.len() - 1);
        ax.lo + (m as f64 + self.uniform()) * ax.h()
    }
}

pub fn cumsum(v: &[f64]) -> Vec<f64> {
    v.iter()
        .scan(0.0, |a, x| {
            *a += x;
            Some(*a)
        })
        .collect()
}

/// tanh(w x) units (θ = w), teacher y = tanh(2x), Gauss–Hermite population, squared loss.
pub fn tanh_problem(lambda: f64) -> MeanField {
    mfl_testkit::teacher_problem(mfl_testkit::tanh_w(1), array![[2.0]], vec![1.0], 40, lambda)
}

pub fn grid_1d(n: usize) -> Grid {
    Grid::line(-4.0, 5.0, n, Boundary::NoFlux).unwrap()
}

pub fn gaussian_rho0(grid: &Grid) -> Vec<f64> {
    Law::Gaussian(Gaussian::isotropic(vec![0.5], 1.0).unwrap())
        .on_grid(grid)
        .unwrap()
}

pub fn fv(mf: &MeanField, grid: &Grid, temperature: f64) -> FvProblem {
    FvProblem::new(
        grid.clone(),
        temperature,
        Box::new(MeanFieldPotential::new(mf.clone(), grid).unwrap()),
    )
    .unwrap()
}

pub fn opts(t_end: f64, dt: f64) -> RunOptions {
    RunOptions {
        t_end,
        stepper: StepperChoice::Implicit { dt },
        snapshot_times: vec![],
        diagnostics_every: 0.0,
        dt_min: 0.0,
    }
}

pub fn dynamics(
    mf: &MeanField,
    grid: &Grid,
    rho0: &[f64],
    n: usize,
    eta: f64,
    temperature: f64,
) -> Dynamics {
    Dynamics::new(
        mf.clone(),
        n,
        eta,
        Init::GridDensity {
            grid: grid.clone(),
            density: rho0.to_vec(),
        },
    )
    .unwrap()
    .with_boundaries(AxisBoundary::from_grid(grid))
    .unwrap()
    .with_temperature(Temperature::Constant(temperature))
    .unwrap()
}
