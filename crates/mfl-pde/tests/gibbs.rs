//! For a fixed potential the discrete Gibbs state ρ* ∝ e^{−V/T} makes every SG face flux vanish
//! (A(−a)e^{−a/T} = A(a)), so every stepper (explicit, implicit Euler, MPRK22 — whose stage-2 Patankar weights
//! are then 1) must leave it unchanged up to round-off: each step
//! perturbs it by O(ε·(1 + dt‖L‖)) relative, far below the 1e-12 tolerance after 50 steps.

mod common;
use common::*;
use mfl_core::{Axis, Boundary, Grid, TORUS_PERIOD};
use mfl_pde::{
    ExplicitSsprk3, FixedPotential, ImplicitSg, Mprk22, PotentialField, StepControl, Stepper,
};
use mfl_testkit::gibbs_state as gibbs;

fn check_stationary(grid: &Grid, v: impl Fn(&[f64]) -> f64, t: f64) {
    let field = FixedPotential::from_fn(grid, v).unwrap();
    let rho_star = gibbs(field.values(), t, grid.cell_volume());
    let max = rho_star.iter().fold(0.0f64, |a, &b| a.max(b));
    let steppers: Vec<(&str, Box<dyn Stepper>)> = vec![
        (
            "explicit",
            Box::new(ExplicitSsprk3::new(grid, t, 1.0).unwrap()),
        ),
        (
            "implicit",
            Box::new(ImplicitSg::new(grid, t, 0.05).unwrap()),
        ),
        (
            "implicit dt=10",
            Box::new(ImplicitSg::new(grid, t, 10.0).unwrap()),
        ),
        (
            "mprk22 dt=10",
            Box::new(Mprk22::new(grid, t, StepControl::Fixed { dt: 10.0 }).unwrap()),
        ),
        (
            "mprk22 rtol=1e-6",
            Box::new(
                Mprk22::new(
                    grid,
                    t,
                    StepControl::Tolerance {
                        rtol: 1e-6,
                        atol: 1e-9,
                        first_dt: None,
                    },
                )
                .unwrap(),
            ),
        ),
    ];
    for (name, mut s) in steppers {
        let mut rho = rho_star.clone();
        for _ in 0..50 {
            // steps ≤ 10 (the error control would otherwise grow dt without bound here, and
            // the perturbation grows like ε·dt‖L‖)
            s.step(&field as &dyn PotentialField, &mut rho, 10.0)
                .unwrap();
        }
        let dev = rho
            .iter()
            .zip(&rho_star)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f64, f64::max)
            / max;
        assert!(
            dev < 1e-12,
            "{name} on {:?}: relative change {dev:e}",
            grid.axes
        );
    }
}

#[test]
fn gibbs_state_is_stationary_1d() {
    let g = square(1, -3.0, 3.0, 80, Boundary::NoFlux);
    check_stationary(&g, |x| (2.0 * x[0]).cos() + 0.3 * x[0] * x[0], 0.2);
    let g = square(1, 0.0, TORUS_PERIOD, 64, Boundary::Periodic);
    check_stationary(&g, |x| x[0].cos() + 0.5 * (2.0 * x[0]).sin(), 0.3);
}

#[test]
fn gibbs_state_is_stationary_2d() {
    let g = square(2, -3.0, 3.0, 40, Boundary::NoFlux);
    check_stationary(
        &g,
        |x| (2.0 * x[0]).cos() * x[1] + 0.3 * (x[0] * x[0] + x[1] * x[1]),
        0.25,
    );
    let g = square(2, 0.0, TORUS_PERIOD, 32, Boundary::Periodic);
    check_stationary(&g, |x| x[0].cos() + (x[0] - x[1]).sin(), 0.4);
    // mixed: periodic × walls
    let g = Grid::new(vec![
        Axis::new(0.0, TORUS_PERIOD, 30, Boundary::Periodic).unwrap(),
        Axis::new(-2.0, 2.0, 25, Boundary::NoFlux).unwrap(),
    ])
    .unwrap();
    check_stationary(&g, |x| x[0].sin() * x[1] + 0.5 * x[1] * x[1], 0.3);
}

#[test]
fn a_non_gibbs_state_moves() {
    // the check above can fail: a perturbed state changes by far more than 1e-12
    let g = square(1, -3.0, 3.0, 80, Boundary::NoFlux);
    let field = FixedPotential::from_fn(&g, |x| x[0] * x[0]).unwrap();
    let mut rho = gibbs(field.values(), 0.5, g.cell_volume());
    rho[40] *= 1.01;
    let before = rho.clone();
    ImplicitSg::new(&g, 0.5, 0.05)
        .unwrap()
        .step(&field, &mut rho, 1.0)
        .unwrap();
    let dev = rho
        .iter()
        .zip(&before)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(dev > 1e-6);
}
