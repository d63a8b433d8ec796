//! The N = ∞ limit of the discrete-time particle scheme (mfl_compare::discrete): mass and
//! positivity, convergence in the fine spacing with mass at the walls, bit-identical results
//! for any thread count, the exact Euler–Maruyama recursions of linear units (T > 0 and T = 0,
//! with a shortened step before a record time), agreement with N-particle runs extrapolated in
//! 1/N, and the O(η) approach to the continuous-time PDE.

mod common;

use common::*;
use mfl_compare::{
    euler_maruyama_law, euler_maruyama_limit, gap_sweep_with, pde_risk_at, Control, Summary,
    SweepOptions,
};
use mfl_core::{Axis, Boundary, Gaussian, Grid, Law, MeanField};
use mfl_pde::{NoObserver, RunOptions, StepperChoice};
use mfl_testkit::LinearUnits;

/// tanh(w x) units with a λ large enough that the drift at the walls is O(1), on a short box
/// [−1, 1.5] that holds ~4% of the density per unit length at its walls.
fn walled(boundary: Boundary) -> (MeanField, Grid, Vec<f64>) {
    let mf = tanh_problem(0.3);
    let grid = Grid::line(-1.0, 1.5, 50, boundary).unwrap();
    let rho0 = Law::Gaussian(Gaussian::isotropic(vec![0.25], 0.25).unwrap())
        .on_grid(&grid)
        .unwrap();
    (mf, grid, rho0)
}

#[test]
fn mass_is_conserved_the_density_stays_nonnegative_and_refinement_converges() {
    let times = [0.0, 0.1, 0.5, 1.0];
    for boundary in [Boundary::NoFlux, Boundary::Periodic] {
        let (mf, grid, rho0) = walled(boundary);
        let lim = euler_maruyama_limit(&mf, &grid, &rho0, 0.05, 2e-3, &times, 4).unwrap();
        for law in [&lim.coarse, &lim.fine] {
            assert_eq!(law.steps, vec![0, 50, 250, 500]);
            for (j, t) in times.iter().enumerate() {
                assert!(
                    (law.mass[j] - 1.0).abs() < 1e-13,
                    "{boundary:?}, refine {}: mass {} at t = {t}",
                    law.refine,
                    law.mass[j],
                );
                assert!(law.min_density[j] >= 0.0);
                assert!(law.density[j].iter().all(|v| *v >= 0.0));
            }
            // the walls really carry mass
            let d = &law.density[3];
            assert!(d[0] > 1e-3 && d[d.len() - 1] > 1e-3);
        }
        // refine 4 → 8 → 16: the end-corrected midpoint rule converges fast (≈ δ⁶ at the
        // walls; on the periodic axis (λ/2)θ² makes the drift jump at the seam, and the
        // differences level off at ~1e-11)
        let r16 = euler_maruyama_law(&mf, &grid, &rho0, 0.05, 2e-3, &times, 16).unwrap();
        for (j, t) in times.iter().enumerate().skip(1) {
            let e48 = lim.risk_error[j];
            let e816 = (lim.risk[j] - r16.risk[j]).abs();
            eprintln!("{boundary:?} t = {t}: |R4 − R8| = {e48:.2e}, |R8 − R16| = {e816:.2e}");
            assert!(
                e48 < 1e-9 && e816 < 5e-11,
                "{boundary:?}: {e48:.2e} {e816:.2e}"
            );
            if boundary == Boundary::NoFlux {
                assert!(e816 < e48 / 4.0);
            }
        }
    }
}

#[test]
fn results_are_bit_identical_for_any_thread_count() {
    let (mf, grid, rho0) = walled(Boundary::NoFlux);
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| euler_maruyama_law(&mf, &grid, &rho0, 0.05, 2e-3, &[0.1, 0.3], 8))
            .unwrap()
    };
    assert_eq!(run(1), run(3));
}

/// Linear units σ(x; w) = w x with a linear teacher y = a x, x ~ N(0, 1) (mfl_testkit::linear):
/// ∇Ψ(θ) = (μ − a) + λθ is affine in θ, so the Euler–Maruyama step maps mean and variance
/// exactly by μ′ = μ − h((μ − a) + λμ), v′ = (1 − hλ)²v + 2Th whatever the shape of the law (no
/// walls within reach), and R = (μ − a)², E = ½R + (λ/2)(v + μ²).
fn linear_problem(a: f64, lambda: f64) -> (MeanField, LinearUnits) {
    let lin = LinearUnits::standard_1d(a, lambda);
    (lin.mean_field(20), lin)
}

/// The particle runs' step sequence: η while more than η remains, then the remainder.
fn step_sizes(times: &[f64], eta: f64) -> Vec<Vec<f64>> {
    let mut t = 0.0;
    times
        .iter()
        .map(|&tau| {
            let mut hs = Vec::new();
            loop {
                let tol = 1e-9 * eta;
                let rem = tau - t;
                if rem <= tol {
                    break;
                }
                if eta >= rem - tol {
                    hs.push(rem);
                    t = tau;
                    break;
                }
                hs.push(eta);
                t += eta;
            }
            hs
        })
        .collect()
}

#[test]
fn linear_units_follow_the_exact_euler_maruyama_recursions() {
    let (a, lambda) = (1.0, 0.5);
    let (mf, lin) = linear_problem(a, lambda);
    let grid = Grid::line(-6.0, 6.0, 240, Boundary::NoFlux).unwrap();
    let rho0 = Law::Gaussian(Gaussian::isotropic(vec![-0.5], 0.09).unwrap())
        .on_grid(&grid)
        .unwrap();
    let h = grid.axes[0].h();
    let centres = grid.axes[0].centres();
    let mass: f64 = rho0.iter().sum::<f64>() * h;
    // the piecewise-constant law: uniform in cells
    let mu0: f64 = rho0
        .iter()
        .zip(&centres)
        .map(|(r, c)| r * h * c)
        .sum::<f64>()
        / mass;
    let s0: f64 = rho0
        .iter()
        .zip(&centres)
        .map(|(r, c)| r * h * (c * c + h * h / 12.0))
        .sum::<f64>()
        / mass;
    let eta = 0.01;
    // 1.234 is not on the η grid: the last step is 0.004
    let times = [0.0, 0.25, 1.0, 1.234];
    for temp in [0.05, 0.0] {
        let law = euler_maruyama_law(&mf, &grid, &rho0, temp, eta, &times, 2).unwrap();
        let (mut mu, mut v) = (vec![mu0], vec![s0 - mu0 * mu0]);
        for (j, hs) in step_sizes(&times, eta).iter().enumerate() {
            for &hk in hs {
                (mu, v) = lin.em_step(&mu, &v, temp, hk);
            }
            let risk = lin.risk(&mu);
            let energy = lin.energy(&mu, &v);
            eprintln!(
                "T = {temp}, t = {}: R {:.15} vs {:.15} ({:+.1e}), E {:+.1e}",
                times[j],
                law.risk[j],
                risk,
                law.risk[j] - risk,
                law.energy[j] - energy
            );
            // spectral quadrature and ~10³ steps of round-off
            assert!(
                (law.risk[j] - risk).abs() < 1e-12,
                "T = {temp}, t = {}",
                times[j]
            );
            assert!(
                (law.energy[j] - energy).abs() < 1e-12,
                "T = {temp}, t = {}",
                times[j]
            );
        }
        assert_eq!(law.steps.last(), Some(&124));
    }
}

#[test]
fn agrees_with_particles_extrapolated_in_one_over_n() {
    // E R_N(t) = R_{∞,η}(t) + C/N + O(N⁻²) for the particles with the same η: extrapolate
    // (4 R_4096 − R_1024)/3 from the adjoint-corrected means (tiny standard errors)
    let mf = tanh_problem(0.05);
    let grid = grid_1d(120);
    let rho0 = gaussian_rho0(&grid);
    let (temp, eta) = (0.05, 0.01);
    let times = [0.5, 1.0];
    let seeds: Vec<u64> = (0..64).collect();
    let ns = [1024, 4096];
    let table = gap_sweep_with(
        &fv(&mf, &grid, temp),
        rho0.clone(),
        &opts(1.0, 0.002),
        &mf,
        |n| dynamics(&mf, &grid, &rho0, n, eta, temp),
        &ns,
        &seeds,
        &times,
        &mut NoObserver,
        &SweepOptions {
            control: Control::Adjoint,
            distances: false,
            progress: None,
        },
    )
    .unwrap();
    let lim = euler_maruyama_limit(&mf, &grid, &rho0, temp, eta, &times, 4).unwrap();
    for (j, &t) in times.iter().enumerate() {
        let s1 = Summary::of(table.row(0, j).best_risk_samples());
        let s4 = Summary::of(table.row(1, j).best_risk_samples());
        let extrap = (4.0 * s4.mean - s1.mean) / 3.0;
        let se = (16.0 * s4.se * s4.se + s1.se * s1.se).sqrt() / 3.0;
        let c = (s1.mean - s4.mean) / (1.0 / 1024.0 - 1.0 / 4096.0);
        let d = extrap - lim.risk[j];
        eprintln!(
            "t = {t}: R_∞,η = {:.9} (± {:.1e}), particles → {extrap:.9} ± {se:.1e} (C = {c:.3}), \
             difference {d:+.2e} = {:+.2} se; PDE R(ρ_t) = {:.9}",
            lim.risk[j],
            lim.risk_error[j],
            d / se,
            table.pde_risk[j]
        );
        assert!(se > 0.0 && se < 3e-5, "se {se}");
        assert!(d.abs() <= 3.0 * se + lim.risk_error[j], "{d} vs se {se}");
        // the comparison resolves both the gap at N = 1024 and the η-bias against the PDE
        assert!((s1.mean - lim.risk[j]).abs() > 5.0 * se);
        assert!((extrap - table.pde_risk[j]).abs() > 5.0 * se);
    }
}

#[test]
fn the_step_bias_is_first_order_in_eta() {
    // R_{∞,η}(t) − R(ρ_t) = C₁η + O(η²): the continuous-time R(ρ_t) from the SSP-RK3
    // finite-volume solver, Richardson-extrapolated over the grid refined ×2 and ×4 (the
    // piecewise-constant start is the same function on every refinement)
    let mf = tanh_problem(0.05);
    let temp = 0.05;
    let grid = grid_1d(120);
    let rho0 = gaussian_rho0(&grid);
    let times = [0.5, 1.0];
    let pde_risk = |k: usize| {
        let ax = &grid.axes[0];
        let fine =
            Grid::new(vec![Axis::new(ax.lo, ax.hi, ax.n * k, ax.boundary).unwrap()]).unwrap();
        let r0: Vec<f64> = rho0
            .iter()
            .flat_map(|&v| std::iter::repeat_n(v, k))
            .collect();
        let o = RunOptions {
            t_end: 1.0,
            stepper: StepperChoice::Explicit { cfl: 0.5 },
            snapshot_times: vec![],
            diagnostics_every: 0.0,
            dt_min: 0.0,
        };
        pde_risk_at(&fv(&mf, &fine, temp), r0, &o, &times, &mut NoObserver)
            .unwrap()
            .0
    };
    let (r2, r4) = (pde_risk(2), pde_risk(4));
    let pde: Vec<f64> = r2.iter().zip(&r4).map(|(a, b)| b + (b - a) / 3.0).collect();
    let etas = [0.02, 0.01, 0.005];
    let bias: Vec<Vec<f64>> = etas
        .iter()
        .map(|&eta| {
            let l = euler_maruyama_law(&mf, &grid, &rho0, temp, eta, &times, 4).unwrap();
            l.risk.iter().zip(&pde).map(|(a, b)| a - b).collect()
        })
        .collect();
    for (j, &t) in times.iter().enumerate() {
        let grid_error = (r4[j] - r2[j]).abs() / 3.0;
        let b: Vec<f64> = bias.iter().map(|b| b[j]).collect();
        let orders: Vec<f64> = b.windows(2).map(|w| (w[0] / w[1]).log2()).collect();
        eprintln!(
            "t = {t}: bias [{}] at η = {etas:?}, orders {orders:.3?}, PDE grid error of \
             the extrapolation ≪ {grid_error:.1e}",
            b.iter()
                .map(|x| format!("{x:+.3e}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        assert!(b.iter().all(|x| x.abs() > 3.0 * grid_error));
        for p in orders {
            assert!((p - 1.0).abs() < 0.15, "order {p}");
        }
    }
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let (mf, grid, rho0) = walled(Boundary::NoFlux);
    let ok = |r: Result<mfl_compare::DiscreteLaw, mfl_compare::CompareError>| {
        r.map(|_| ()).unwrap_err().to_string()
    };
    let e = ok(euler_maruyama_law(&mf, &grid, &rho0, 0.05, 0.0, &[1.0], 4));
    assert!(e.contains("eta"), "{e}");
    let e = ok(euler_maruyama_law(&mf, &grid, &rho0, -1.0, 0.01, &[1.0], 4));
    assert!(e.contains("temperature"), "{e}");
    let e = ok(euler_maruyama_law(
        &mf,
        &grid,
        &rho0,
        0.05,
        0.01,
        &[1.0, 0.5],
        4,
    ));
    assert!(e.contains("increasing"), "{e}");
    let e = ok(euler_maruyama_law(&mf, &grid, &rho0, 0.05, 0.01, &[], 4));
    assert!(e.contains("times"), "{e}");
    let e = ok(euler_maruyama_law(
        &mf,
        &grid,
        &rho0[1..],
        0.05,
        0.01,
        &[1.0],
        4,
    ));
    assert!(e.contains("rho0"), "{e}");
    let e = ok(euler_maruyama_law(
        &mf,
        &grid,
        &vec![0.0; 50],
        0.05,
        0.01,
        &[1.0],
        4,
    ));
    assert!(e.contains("mass"), "{e}");
    let e = ok(euler_maruyama_law(&mf, &grid, &rho0, 0.05, 0.01, &[1.0], 0));
    assert!(e.contains("refine"), "{e}");
    let g2 = Grid::new(vec![
        Axis::new(-1.0, 1.0, 8, Boundary::NoFlux).unwrap(),
        Axis::new(-1.0, 1.0, 8, Boundary::NoFlux).unwrap(),
    ])
    .unwrap();
    let e = ok(euler_maruyama_law(
        &mf,
        &g2,
        &vec![1.0; 64],
        0.05,
        0.01,
        &[1.0],
        4,
    ));
    assert!(e.contains("1D"), "{e}");
    // a remainder below 10⁻⁶η (floating-point residue) is not stepped: the law at 2·10⁻⁹η is
    // the initial one
    let at0 = euler_maruyama_law(&mf, &grid, &rho0, 1e-6, 0.01, &[0.0, 2e-11], 4).unwrap();
    assert_eq!(at0.risk[0], at0.risk[1]);
    // a real step of 10⁻⁵η at T = 10⁻⁸ has σ = 4.5e-8: its quadrature would need ~7e7 points
    let e = ok(euler_maruyama_law(
        &mf,
        &grid,
        &rho0,
        1e-8,
        0.01,
        &[1e-7],
        4,
    ));
    assert!(e.contains("multiples of η"), "{e}");
}
