//! Richardson/Romberg in h (mfl_pde::richardson) on the exact nonlocal problem of linear units
//! (mfl_testkit::LinearUnits), where R(ρ_t) = (m(t) − β)ᵀC(m(t) − β) is known in closed form:
//!
//! * the error estimate brackets the true error of the value it qualifies within a factor 3
//!   (two levels: Q_{h/2}; three levels: the once-extrapolated Q₁'), 1D and 2D;
//! * three levels are ≥ 100× more accurate than the finest single grid;
//! * the observed order is 2 ± 0.2.
//!
//! The explicit SSP-RK3 stepper at its positivity limit (dt ∝ h²) keeps the time error
//! O(h⁶), far below the grid error, so what is extrapolated is the grid error alone.

mod common;
use common::*;
use mfl_core::{Boundary, Gaussian, Grid, Law};
use mfl_pde::{extrapolate, FvProblem, MeanFieldPotential, Recorder, RunOptions, StepperChoice};
use mfl_testkit::LinearUnits;
use ndarray::Array2;

const T: f64 = 0.3;
const LAMBDA: f64 = 0.5;

/// R(ρ_t) at t_end on each grid.
fn risks(lin: &LinearUnits, grids: &[Grid], m0: &[f64], s0: &[f64], t_end: f64) -> Vec<f64> {
    grids
        .iter()
        .map(|grid| {
            let field = MeanFieldPotential::new(lin.mean_field(4), grid).unwrap();
            let rho0 = Law::Gaussian(Gaussian::new(m0.to_vec(), s0.to_vec()).unwrap())
                .on_grid(grid)
                .unwrap();
            let p = FvProblem::new(grid.clone(), T, Box::new(field)).unwrap();
            let opts = RunOptions {
                t_end,
                stepper: StepperChoice::Explicit { cfl: 0.9 },
                snapshot_times: vec![],
                diagnostics_every: t_end,
                dt_min: 0.0,
            };
            let mut rec = Recorder::default();
            mfl_pde::solve(&p, rho0, &opts, &mut rec).unwrap();
            rec.diagnostics.last().unwrap().risk.unwrap()
        })
        .collect()
}

fn check(name: &str, r: &[f64], exact: f64) {
    let two = extrapolate(&r[1..], 2.0).unwrap();
    let three = extrapolate(r, 2.0).unwrap();
    let err_fine = (r[2] - exact).abs();
    let q1f = (4.0 * r[2] - r[1]) / 3.0;
    let err_q1f = (q1f - exact).abs();
    let err_three = (three.value - exact).abs();
    eprintln!(
        "{name}: R_h − R = {:?}; two levels: estimate {:.3e} vs error of Q_h/2 {:.3e}; three: \
         estimate {:.3e} vs error of Q1' {:.3e}, extrapolated error {err_three:.3e} \
         ({:.0}× the finest grid's), order {:.3}",
        r.iter()
            .map(|v| format!("{:.3e}", v - exact))
            .collect::<Vec<_>>(),
        two.error_estimate,
        err_fine,
        three.error_estimate,
        err_q1f,
        err_fine / err_three,
        three.observed_order.unwrap()
    );
    let ratio = |est: f64, err: f64| est / err;
    let r2 = ratio(two.error_estimate, err_fine);
    let r3 = ratio(three.error_estimate, err_q1f);
    assert!(
        (1.0 / 3.0..=3.0).contains(&r2),
        "{name}: two-level estimate/error {r2}"
    );
    assert!(
        (1.0 / 3.0..=3.0).contains(&r3),
        "{name}: three-level estimate/error {r3}"
    );
    assert!(
        err_three * 100.0 <= err_fine,
        "{name}: {err_three} vs {err_fine}"
    );
    let o = three.observed_order.unwrap();
    assert!((o - 2.0).abs() <= 0.2, "{name}: order {o}");
}

#[test]
fn brackets_the_grid_error_1d() {
    let lin = LinearUnits::new(Array2::from_elem((1, 1), 1.5f64.sqrt()), &[1.2], LAMBDA);
    let (m0, s0, t_end) = ([-0.5], [0.2], 1.0);
    let grids: Vec<Grid> = [40, 80, 160]
        .iter()
        .map(|&n| Grid::line(-4.5, 5.5, n, Boundary::NoFlux).unwrap())
        .collect();
    let r = risks(&lin, &grids, &m0, &s0, t_end);
    check("1D", &r, lin.risk(&lin.mean_at(&m0, t_end)));
}

#[test]
fn brackets_the_grid_error_2d() {
    let lin = LinearUnits::new(
        ndarray::array![[1.0, 0.0], [0.5, 0.8]],
        &[1.0, -0.5],
        LAMBDA,
    );
    let (m0, s0, t_end) = ([-0.5, 0.5], [0.25, 0.1, 0.1, 0.2], 0.5);
    let grids: Vec<Grid> = [24, 48, 96]
        .iter()
        .map(|&n| square(2, -5.0, 5.0, n, Boundary::NoFlux))
        .collect();
    let r = risks(&lin, &grids, &m0, &s0, t_end);
    check("2D", &r, lin.risk(&lin.mean_at(&m0, t_end)));
}
