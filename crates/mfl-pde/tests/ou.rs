//! Ornstein–Uhlenbeck: fixed V = ½θᵀAθ, exact Gaussian solution (mfl_testkit::ou)
//! m(t) = e^{−At}m₀, Σ(t) = e^{−At}Σ₀e^{−At} + T A⁻¹(I − e^{−2At}).
//!
//! The SG scheme is second order in h (and SSP-RK3 third order in dt ∝ h², backward Euler first
//! order in dt ∝ h²), so the L1 error against the exact density at the centres is O(h²): the
//! observed order on a refinement by 2 must approach 2.

mod common;
use common::*;
use mfl_core::{Boundary, Gaussian, Law};
use mfl_pde::{FixedPotential, FvProblem, StepperChoice};
use mfl_testkit::{gauss_pdf, Ou1, Ou2};

const T: f64 = 0.5;

fn ou_1d_errors(implicit: bool) -> Vec<f64> {
    let (a, m0, s0, t_end): (f64, f64, f64, f64) = (1.0, 1.5, 0.25, 0.5);
    let ou = Ou1 { a, temperature: T };
    let (mt, st) = ou.law_at(m0, s0, t_end);
    // box ±6: ≥ 7 standard deviations of ρ₀ (1.5 ± 3.5) and of ρ(t_end)
    assert!(6.0 - mt.abs() >= 7.0 * st.sqrt() && 6.0 - m0 >= 7.0 * s0.sqrt());
    [60, 120, 240, 480]
        .iter()
        .map(|&n| {
            let grid = square(1, -6.0, 6.0, n, Boundary::NoFlux);
            let h = grid.h_min();
            let field = FixedPotential::from_fn(&grid, |x| ou.potential(x)).unwrap();
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

fn ou_2d_errors(implicit: bool) -> Vec<f64> {
    let a = [1.0, 0.6, 0.6, 0.8];
    let m0 = [1.0, -0.5];
    let s0 = [0.3, 0.1, 0.1, 0.2];
    let t_end = 0.5;
    let ou = Ou2 { a, temperature: T };
    let (mt, st) = ou.law_at(m0, s0, t_end);
    let lo = 7.0;
    for (m, s) in [(m0, s0), (mt, st)] {
        for i in 0..2 {
            assert!(lo - m[i].abs() >= 7.0 * s[3 * i].sqrt());
        }
    }
    [48, 96, 192, 384]
        .iter()
        .map(|&n| {
            let grid = square(2, -lo, lo, n, Boundary::NoFlux);
            let h = grid.h_min();
            let field = FixedPotential::from_fn(&grid, |x| ou.potential(x)).unwrap();
            let rho0 = Law::Gaussian(Gaussian::new(m0.to_vec(), s0.to_vec()).unwrap())
                .on_grid(&grid)
                .unwrap();
            let p = FvProblem::new(grid.clone(), T, Box::new(field)).unwrap();
            let stepper = if implicit {
                StepperChoice::Implicit { dt: 0.25 * h * h }
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
fn ou_1d_explicit_second_order() {
    check("OU 1D explicit", &ou_1d_errors(false));
}

#[test]
fn ou_1d_implicit_second_order() {
    check("OU 1D implicit", &ou_1d_errors(true));
}

#[test]
fn ou_2d_explicit_second_order() {
    check("OU 2D explicit", &ou_2d_errors(false));
}

#[test]
fn ou_2d_implicit_second_order() {
    check("OU 2D implicit", &ou_2d_errors(true));
}
