//! The closed-form erf potential against the quadrature kernel with high-order data, its
//! exactness (Ψ = δE/δρ), thread-count independence and its refusals.

use mfl_core::data::{Inputs, Teacher};
use mfl_core::{
    Activation, Axis, Boundary, Gaussian, Grid, Law, Loss, MeanField, Measure, Param, Unit,
};
use mfl_pde::erf_closed::MAX_W_CELLS;
use mfl_pde::{ErfClosedForm, MeanFieldPotential, PotentialField};
use ndarray::{array, Array1};

fn erf(param: Param) -> Unit {
    Unit::Ridge {
        act: Activation::Erf,
        param,
        input_dim: 1,
    }
}

/// The problem with data = composite Gauss–Legendre on [−10, 10] (`panels` × 16 nodes).
fn problem(param: Param, panels: usize) -> (MeanField, Teacher, Grid, Vec<f64>) {
    let teacher = Teacher::new(
        erf(Param::AW),
        array![[1.2, 2.0], [-0.7, 0.6]],
        vec![1.0, 0.8],
    )
    .unwrap();
    let data = Inputs::gauss_legendre(1, panels, 16, 10.0)
        .label(&teacher, 0.01)
        .unwrap();
    let mf = MeanField::new(erf(param), Loss::Squared, data, 0.02).unwrap();
    let (grid, law) = match param {
        Param::W => (
            Grid::new(vec![Axis::new(-3.0, 3.5, 41, Boundary::NoFlux).unwrap()]).unwrap(),
            Law::Gaussian(Gaussian::new(vec![0.4], vec![1.1]).unwrap()),
        ),
        _ => (
            Grid::new(vec![
                Axis::new(-2.0, 2.5, 17, Boundary::NoFlux).unwrap(),
                Axis::new(-3.0, 3.0, 23, Boundary::NoFlux).unwrap(),
            ])
            .unwrap(),
            Law::Gaussian(Gaussian::new(vec![0.3, 0.5], vec![0.5, 0.2, 0.2, 1.0]).unwrap()),
        ),
    };
    let rho = law.on_grid(&grid).unwrap();
    (mf, teacher, grid, rho)
}

#[test]
fn closed_form_matches_high_order_quadrature() {
    // The quadrature reference is converged to ≤ 1e−13 (64 vs 128 panels, asserted); the
    // closed form must agree with it to 1e−12 absolute (sums of ~10³ O(1) terms in round-off).
    for param in [Param::W, Param::AW] {
        let (mf, teacher, grid, rho) = problem(param, 128);
        let (coarse, ..) = problem(param, 64);
        let closed = ErfClosedForm::new(&mf, &teacher, &grid).unwrap();
        let quad = MeanFieldPotential::new(mf.clone(), &grid).unwrap();
        let quad_c = MeanFieldPotential::new(coarse.clone(), &grid).unwrap();
        let m = grid.len();
        let (mut p1, mut p2, mut p3) = (vec![0.0; m], vec![0.0; m], vec![0.0; m]);
        closed.potential(&rho, &mut p1);
        quad.potential(&rho, &mut p2);
        quad_c.potential(&rho, &mut p3);
        for ((a, b), c) in p1.iter().zip(&p2).zip(&p3) {
            assert!((b - c).abs() < 1e-13, "reference not converged: {b} vs {c}");
            assert!((a - b).abs() < 1e-12, "{param:?}: Ψ {a} vs {b}");
        }
        let (e1, e2) = (closed.energy(&rho), quad.energy(&rho));
        let (r1, r2) = (e1.risk.unwrap(), e2.risk.unwrap());
        assert!((r1 - r2).abs() < 1e-12, "{param:?}: R {r1} vs {r2}");
        assert!((e1.energy - e2.energy).abs() < 1e-12);
        // V alone (ρ = 0) and E[y²] (R at ρ = 0)
        let zero = vec![0.0; m];
        closed.potential(&zero, &mut p1);
        quad.potential(&zero, &mut p2);
        for (a, b) in p1.iter().zip(&p2) {
            assert!((a - b).abs() < 1e-12, "V {a} vs {b}");
        }
        let ey2: f64 = mf
            .data
            .y
            .iter()
            .zip(&mf.data.w)
            .map(|(y, w)| w * y * y)
            .sum::<f64>()
            + mf.data.noise_var;
        assert!((closed.label_second_moment() - ey2).abs() < 1e-13);
        // ∇Ψ against the kernel's gradient on the cell centres
        let dd = grid.dim();
        let mut g1 = vec![0.0; m * dd];
        closed.potential_gradient(&rho, &mut g1).unwrap();
        let c = grid.centres();
        let w: Array1<f64> = rho.iter().map(|r| r * grid.cell_volume()).collect();
        let (_, g2) = mf.potential_grad(Measure::new(c.view(), w.view()), c.view());
        for (a, b) in g1.iter().zip(g2.iter()) {
            assert!((a - b).abs() < 1e-12, "{param:?}: ∇Ψ {a} vs {b}");
        }
        assert!(closed.potential_gradient(&rho[1..], &mut g1).is_err());
    }
}

#[test]
fn potential_is_the_variational_derivative_and_thread_independent() {
    for param in [Param::W, Param::AW] {
        let (mf, teacher, grid, mut rho) = problem(param, 8);
        let closed = ErfClosedForm::new(&mf, &teacher, &grid).unwrap();
        let m = grid.len();
        let mut psi = vec![0.0; m];
        closed.potential(&rho, &mut psi);
        // E is quadratic in ρ: central differences are exact up to round-off
        let e = 1e-3;
        for cell in [0, m / 3, m - 1] {
            let r0 = rho[cell];
            rho[cell] = r0 + e;
            let ep = closed.energy(&rho).energy;
            rho[cell] = r0 - e;
            let em = closed.energy(&rho).energy;
            rho[cell] = r0;
            let fd = (ep - em) / (2.0 * e);
            assert!((fd - psi[cell] * grid.cell_volume()).abs() < 1e-10);
        }
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let three = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        let run = |pool: &rayon::ThreadPool| {
            pool.install(|| {
                let mut p = vec![0.0; m];
                closed.potential(&rho, &mut p);
                (p, closed.energy(&rho).energy)
            })
        };
        let (a, b) = (run(&one), run(&three));
        assert!(a
            .0
            .iter()
            .zip(&b.0)
            .all(|(x, y)| x.to_bits() == y.to_bits()));
        assert_eq!(a.1.to_bits(), b.1.to_bits());
    }
}

#[test]
fn refusals_are_errors_not_panics() {
    let (mf, teacher, grid, _) = problem(Param::W, 4);
    let mut tanh = mf.clone();
    tanh.unit = Unit::Ridge {
        act: Activation::Tanh,
        param: Param::W,
        input_dim: 1,
    };
    assert!(ErfClosedForm::new(&tanh, &teacher, &grid).is_err());
    let mut tt = teacher.clone();
    tt.unit = Unit::Ridge {
        act: Activation::Tanh,
        param: Param::AW,
        input_dim: 1,
    };
    assert!(ErfClosedForm::new(&mf, &tt, &grid).is_err());
    let big = Grid::new(vec![Axis::new(
        -3.0,
        3.0,
        MAX_W_CELLS + 1,
        Boundary::NoFlux,
    )
    .unwrap()])
    .unwrap();
    let e = ErfClosedForm::new(&mf, &teacher, &big)
        .unwrap_err()
        .to_string();
    assert!(e.contains("20000"), "{e}");
    let (mf2, ..) = problem(Param::AW, 4);
    assert!(ErfClosedForm::new(&mf2, &teacher, &grid).is_err());
}

#[test]
fn closed_form_rates_match_the_data_linearisation() {
    // ρ* of the closed form at T = 0.1; its slowest mode with the closed-form DΨ and with DΨ
    // through converged composite Gauss–Legendre data (Ψ agrees to ≤ 1e−12 above) agree to
    // the Lanczos tolerance (relative 1e−8 by default) and the data's error.
    use mfl_pde::stationary::{slowest_mode, stationary, EigenOptions, Linearisation};
    use mfl_pde::StationaryOptions;
    for param in [Param::W, Param::AW] {
        let (mf, teacher, grid, _) = problem(param, 128);
        let closed = ErfClosedForm::new(&mf, &teacher, &grid).unwrap();
        let t = 0.1;
        let s = stationary(
            &grid,
            &closed,
            t,
            &vec![0.0; grid.len()],
            &StationaryOptions::default(),
        )
        .unwrap();
        assert!(s.converged && s.residual <= 1e-12);
        let op = closed.linear_response().unwrap();
        let a = Linearisation::with_response(&grid, t, &s.rho, &s.psi, op).unwrap();
        let b = Linearisation::new(&grid, t, &s.rho, &s.psi, Some(&mf)).unwrap();
        let (ka, kb) = (
            slowest_mode(&a, &EigenOptions::default()).unwrap(),
            slowest_mode(&b, &EigenOptions::default()).unwrap(),
        );
        let rel = (ka.kappa - kb.kappa).abs() / kb.kappa;
        assert!(
            rel < 1e-7,
            "{param:?}: κ {} vs {} ({rel:e})",
            ka.kappa,
            kb.kappa
        );
        // DΨ[v] itself against the data path
        let v: Vec<f64> = (0..grid.len())
            .map(|m| ((m * 7919) % 13) as f64 - 6.0)
            .collect();
        let (mut o1, mut o2) = (vec![0.0; grid.len()], vec![0.0; grid.len()]);
        a.potential_response(&v, &mut o1);
        b.potential_response(&v, &mut o2);
        let scale = o2.iter().fold(1.0f64, |m, x| m.max(x.abs()));
        for (x, y) in o1.iter().zip(&o2) {
            assert!((x - y).abs() <= 1e-12 * scale, "{x} vs {y}");
        }
    }
}
