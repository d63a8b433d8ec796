//! A nonlocal exact solution (mfl_testkit::LinearUnits): linear units σ(x; θ) = θ·x, inputs x ~ N(0, C), teacher y = β·x,
//! ridge λ > 0. Then f_ρ(x) = m·x (m the mean of ρ) and
//!
//! Ψ(θ; ρ) = (m − β)ᵀCθ + λ|θ|²/2,
//!
//! so a Gaussian ρ stays Gaussian with dm/dt = −(C + λI)m + Cβ and dΣ/dt = −2λΣ + 2TI:
//! m(t) = m∞ + e^{−(C+λI)t}(m₀ − m∞), m∞ = (C + λI)⁻¹Cβ, Σ(t) = e^{−2λt}Σ₀ + (T/λ)(1 − e^{−2λt})I.
//! The covariance ODE is isotropic whatever C is — a linear unit makes Ψ's Hessian λI, so
//! the nonlocal coupling acts on the mean only; the 2D case still takes C (through L) and Σ₀
//! that do not commute, which the mean's matrix exponential e^{−(C+λI)t} and the transport of
//! the anisotropic Σ₀ must both get right.
//! The 4-node Gauss–Hermite rule integrates the quadratic moments of x exactly, so the only
//! errors are the scheme's: O(h²) with dt ∝ h² (backward Euler) or dt ∝ h² (explicit CFL).

mod common;
use common::*;
use mfl_core::{Boundary, Gaussian, Law};
use mfl_pde::{FvProblem, MeanFieldPotential, StepperChoice};
use mfl_testkit::{gauss_pdf, LinearUnits};
use ndarray::Array2;

const T: f64 = 0.3;
const LAMBDA: f64 = 0.5;

fn errors_1d(implicit: bool) -> Vec<f64> {
    let (c, beta, m0, s0, t_end): (f64, f64, f64, f64, f64) = (1.5, 1.2, -0.5, 0.2, 1.0);
    let lin = LinearUnits::new(Array2::from_elem((1, 1), c.sqrt()), &[beta], LAMBDA);
    let mt = lin.mean_at(&[m0], t_end)[0];
    let st = lin.cov_at(&[s0], T, t_end)[0];
    let (lo, hi) = (-4.5, 5.5);
    assert!(m0 - lo >= 7.0 * s0.sqrt() && hi - mt >= 7.0 * st.sqrt() && mt - lo >= 7.0 * st.sqrt());
    let mf = lin.mean_field(4);
    [45, 90, 180, 360]
        .iter()
        .map(|&n| {
            let grid = mfl_core::Grid::line(lo, hi, n, Boundary::NoFlux).unwrap();
            let h = grid.h_min();
            let field = MeanFieldPotential::new(mf.clone(), &grid).unwrap();
            let rho0 = Law::Gaussian(Gaussian::new(vec![m0], vec![s0]).unwrap())
                .on_grid(&grid)
                .unwrap();
            let p = FvProblem::new(grid.clone(), T, Box::new(field)).unwrap();
            let stepper = if implicit {
                StepperChoice::Implicit { dt: 0.5 * h * h }
            } else {
                StepperChoice::Explicit { cfl: 0.9 }
            };
            let rho = run(&p, rho0, t_end, stepper);
            l1_error(&grid, &rho, |x| gauss_pdf(&[mt], &[st], x))
        })
        .collect()
}

fn errors_2d(implicit: bool) -> Vec<f64> {
    let l = ndarray::array![[1.0, 0.0], [0.5, 0.8]];
    let beta = [1.0, -0.5];
    let m0 = [-0.5, 0.5];
    let s0 = [0.25, 0.1, 0.1, 0.2];
    let t_end = 0.5;
    let lin = LinearUnits::new(l, &beta, LAMBDA);
    let mt = lin.mean_at(&m0, t_end);
    let st = lin.cov_at(&s0, T, t_end);
    let (lo, hi) = (-5.0, 5.0);
    for (m, s) in [(&m0[..], &s0[..]), (&mt[..], &st[..])] {
        for i in 0..2 {
            let sd = s[3 * i].sqrt();
            assert!(m[i] - lo >= 7.0 * sd && hi - m[i] >= 7.0 * sd);
        }
    }
    let mf = lin.mean_field(4);
    [32, 64, 128, 256]
        .iter()
        .map(|&n| {
            let grid = square(2, lo, hi, n, Boundary::NoFlux);
            let h = grid.h_min();
            let field = MeanFieldPotential::new(mf.clone(), &grid).unwrap();
            let rho0 = Law::Gaussian(Gaussian::new(m0.to_vec(), s0.to_vec()).unwrap())
                .on_grid(&grid)
                .unwrap();
            let p = FvProblem::new(grid.clone(), T, Box::new(field)).unwrap();
            let stepper = if implicit {
                StepperChoice::Implicit { dt: 0.5 * h * h }
            } else {
                StepperChoice::Explicit { cfl: 0.9 }
            };
            let rho = run(&p, rho0, t_end, stepper);
            l1_error(&grid, &rho, |x| gauss_pdf(&mt, &st, x))
        })
        .collect()
}

fn check(name: &str, errs: &[f64]) {
    let o = orders(errs);
    eprintln!("{name}: errors {errs:?}, orders {o:.3?}");
    assert!(o.iter().all(|&p| p >= 1.9), "{name}: orders {o:?}");
}

#[test]
fn linear_units_1d_explicit() {
    check("linear MF 1D explicit", &errors_1d(false));
}

#[test]
fn linear_units_1d_implicit() {
    check("linear MF 1D implicit", &errors_1d(true));
}

#[test]
fn linear_units_2d_explicit() {
    check("linear MF 2D explicit", &errors_2d(false));
}

#[test]
fn linear_units_2d_implicit() {
    check("linear MF 2D implicit", &errors_2d(true));
}
