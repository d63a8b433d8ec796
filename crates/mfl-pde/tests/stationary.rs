//! Stationary states ρ* = e^{−Ψ(ρ*)/T}/Z by `mfl_pde::stationary` and the predicted rate of the
//! linearised scheme.
//!
//! * U = 0 (a fixed potential): the fixed-point map is constant, Ψ ↦ V, so Anderson reaches
//!   Ψ = V up to round-off in two updates and ρ equals e^{−V/T}/Z to a few ulp of V/T.
//! * Ornstein–Uhlenbeck, V = Σ λ_a θ_a²/2: the Fokker–Planck generator's spectral gap is
//!   min λ_a, so F − F* decays at 2 min λ_a. The discrete gap differs by O(h²) (≈ h²λ/12·…,
//!   < 1e-4 relative on these grids) and by the box truncation (e^{−L²λ/2T}, negligible with a
//!   box of ±8 standard deviations): 0.1 % is a wide margin for both.
//! * Nonlinear 1D (tanh(w x)) and 2D (a·tanh(w x)) problems: residual ≤ 1e-12, and F(ρ*) equals
//!   the free energy of a long implicit FV run on the same grid. F_h is minimised by ρ* on the
//!   mass-1 simplex, so F(ρ_t) − F* ≈ ½⟨δρ, Hδρ⟩ is quadratic in the run's distance to ρ*: a run
//!   with Gibbs residual 1e-7 already agrees in F to ~1e-12.
//! * The linearisation agrees with central differences of the SG right-hand side.

use mfl_core::{Axis, Boundary, Grid, MeanField};
use mfl_pde::flux::{sg_rhs, Layout};
use mfl_pde::stationary::{
    continuation, slowest_mode, EigenOptions, Linearisation, StationaryOptions,
};
use mfl_pde::{
    diagnose, solve, stationary, FixedPotential, FvProblem, MeanFieldPotential, NoObserver,
    PotentialField, RunOptions, StepperChoice,
};

fn problem_1d() -> (MeanField, Grid) {
    let mf = mfl_testkit::tanh_w_two_neurons(0.01);
    (mf, Grid::line(-4.0, 4.0, 80, Boundary::NoFlux).unwrap())
}

fn problem_2d() -> (MeanField, Grid) {
    let mf = mfl_testkit::tanh_aw_two_neurons(0.02);
    let grid = Grid::new(vec![
        Axis::new(-2.5, 2.5, 24, Boundary::NoFlux).unwrap(),
        Axis::new(-3.0, 3.0, 28, Boundary::NoFlux).unwrap(),
    ])
    .unwrap();
    (mf, grid)
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0f64, |a, b| a.max(b.abs()))
}

fn check_fixed(grid: &Grid, v: impl Fn(&[f64]) -> f64, t: f64) {
    let field = FixedPotential::from_fn(grid, v).unwrap();
    // the exact discrete Gibbs state (mfl_testkit), not the solver's own map g(Ψ)
    let want = mfl_testkit::gibbs_state(field.values(), t, grid.cell_volume());
    let s = stationary(
        grid,
        &field,
        t,
        &vec![0.0; grid.len()],
        &StationaryOptions::default(),
    )
    .unwrap();
    assert!(s.converged, "history {:?}", s.history);
    assert!(s.evaluations <= 4, "history {:?}", s.history);
    // Ψ_best = V to a few ulp of max|V|, so ρ to a few ulp of max|V|/T relative
    let vmax = max_abs(field.values());
    let tol = 16.0 * f64::EPSILON * (1.0 + vmax / t);
    for (a, b) in s.rho.iter().zip(&want) {
        assert!((a - b).abs() <= tol * b, "{a} vs {b}");
    }
    // and the reported residual is the diagnostics' Gibbs residual
    let d = diagnose(grid, &field, &s.rho, t, 0.0, 0.0, 0);
    assert_eq!(d.gibbs_residual.to_bits(), s.residual.to_bits());
}

#[test]
fn fixed_potential_gives_the_gibbs_density_to_round_off() {
    let g = Grid::line(-3.0, 3.0, 80, Boundary::NoFlux).unwrap();
    check_fixed(&g, |x| (2.0 * x[0]).cos() + 0.3 * x[0] * x[0], 0.2);
    let g = Grid::new(vec![
        Axis::new(-3.0, 3.0, 30, Boundary::NoFlux).unwrap(),
        Axis::new(0.0, mfl_core::TORUS_PERIOD, 20, Boundary::Periodic).unwrap(),
    ])
    .unwrap();
    check_fixed(&g, |x| x[1].sin() * x[0] + 0.5 * x[0] * x[0], 0.3);
}

/// 2κ of OU on a box of ±6 standard deviations, with `n[a]` cells on axis a.
fn ou_rate(lambdas: &[f64], t: f64, n: &[usize]) -> f64 {
    let axes: Vec<Axis> = lambdas
        .iter()
        .zip(n)
        .map(|(l, &n)| {
            let half = 6.0 * (t / l).sqrt();
            Axis::new(-half, half, n, Boundary::NoFlux).unwrap()
        })
        .collect();
    let grid = Grid::new(axes).unwrap();
    let field = FixedPotential::from_fn(&grid, |x| {
        x.iter().zip(lambdas).map(|(v, l)| 0.5 * l * v * v).sum()
    })
    .unwrap();
    let s = stationary(
        &grid,
        &field,
        t,
        &vec![0.0; grid.len()],
        &StationaryOptions::default(),
    )
    .unwrap();
    assert!(s.converged);
    let lin = Linearisation::new(&grid, t, &s.rho, &s.psi, None).unwrap();
    let mode = slowest_mode(&lin, &EigenOptions::default()).unwrap();
    assert!(mode.converged, "{mode:?}");
    eprintln!(
        "OU λ = {lambdas:?}, T = {t}, n = {n:?}: 2κ = {:.8} (bound {:.1e}, {} applications)",
        mode.rate, mode.bound, mode.applications
    );
    mode.rate
}

/// The discrete gap of the SG scheme is λ(1 − λh²/(6T) + O(h⁴)) (observed to 3 digits); on
/// ±6σ with n cells, λh²/(6T) = 24/n². The 2D problem is a Kronecker sum of 1D operators (ρ*
/// and the faces factorise), so its gap is the 1D gap of the slow axis.
#[test]
fn ornstein_uhlenbeck_rate_is_twice_the_spectral_gap() {
    for (l, t, n) in [(1.0, 0.5, 200), (2.5, 0.1, 300)] {
        let r = ou_rate(&[l], t, &[n]);
        let err = r / (2.0 * l) - 1.0;
        let predicted = -24.0 / (n * n) as f64;
        assert!(err.abs() < 1e-3, "λ = {l}: 2κ = {r}");
        assert!(
            (err / predicted - 1.0).abs() < 0.05,
            "error {err:e} vs {predicted:e}"
        );
    }
    let r = ou_rate(&[1.0, 2.5], 0.3, &[200, 40]);
    assert!((r / 2.0 - 1.0).abs() < 1e-3, "2D: 2κ = {r}");
}

/// The long implicit FV run of `field` from the uniform density: (F, Gibbs residual) at t_end.
fn time_run(
    grid: &Grid,
    field: Box<dyn PotentialField>,
    t: f64,
    t_end: f64,
    dt: f64,
) -> (f64, f64) {
    let p = FvProblem::new(grid.clone(), t, field).unwrap();
    let opts = RunOptions {
        t_end,
        stepper: StepperChoice::Implicit { dt },
        snapshot_times: vec![],
        diagnostics_every: t_end,
        dt_min: 0.0,
    };
    let vol = grid.cell_volume();
    let rho0 = vec![1.0 / (vol * grid.len() as f64); grid.len()];
    let rho = solve(&p, rho0, &opts, &mut NoObserver).unwrap();
    let d = diagnose(grid, p.field.as_ref(), &rho, t, t_end, dt, 0);
    (d.free_energy, d.gibbs_residual)
}

fn check_nonlinear(mf: MeanField, grid: Grid, t: f64, t_end: f64, dt: f64) {
    let field = MeanFieldPotential::new(mf.clone(), &grid).unwrap();
    let s = stationary(
        &grid,
        &field,
        t,
        &vec![0.0; grid.len()],
        &StationaryOptions::default(),
    )
    .unwrap();
    assert!(s.converged && s.residual <= 1e-12, "{:?}", s.history);
    let d = diagnose(&grid, &field, &s.rho, t, 0.0, 0.0, 0);
    let lin = Linearisation::new(&grid, t, &s.rho, &s.psi, Some(&mf)).unwrap();
    let mode = slowest_mode(&lin, &EigenOptions::default()).unwrap();
    eprintln!("predicted rate 2κ = {}", mode.rate);
    let (f_run, res_run) = time_run(&grid, Box::new(field), t, t_end, dt);
    eprintln!(
        "{}D T = {t}: {} evaluations, residual {:.1e}; F* = {:.14}, time run F = {:.14} \
         (residual {res_run:.1e})",
        grid.dim(),
        s.evaluations,
        s.residual,
        d.free_energy,
        f_run
    );
    assert!(
        res_run < 1e-6,
        "the time run is not stationary: {res_run:e}"
    );
    assert!(
        (d.free_energy - f_run).abs() <= 1e-10,
        "F* = {} vs {f_run}",
        d.free_energy
    );
    assert!(f_run >= d.free_energy - 1e-13, "ρ* minimises F_h");
}

#[test]
fn nonlinear_1d_matches_a_long_time_run() {
    let (mf, grid) = problem_1d();
    // predicted 2κ ≈ 0.0755: from the uniform density the residual is 2.5e-4 at t = 200
    check_nonlinear(mf, grid, 0.05, 600.0, 0.5);
}

#[test]
fn nonlinear_2d_matches_a_long_time_run() {
    let (mf, grid) = problem_2d();
    check_nonlinear(mf, grid, 0.05, 200.0, 0.5);
}

/// L v against (rhs(ρ* + εv) − rhs(ρ* − εv))/2ε with rhs(ρ) = −div J(Ψ(ρ), ρ): Ψ is affine in ρ
/// (squared loss), the flux smooth, so the difference is O(ε²) plus round-off O(ε_mach/ε).
#[test]
fn linearisation_matches_central_differences_of_the_scheme() {
    for (mf, grid) in [problem_1d(), problem_2d()] {
        let t = 0.1;
        let field = MeanFieldPotential::new(mf.clone(), &grid).unwrap();
        let s = stationary(
            &grid,
            &field,
            t,
            &vec![0.0; grid.len()],
            &StationaryOptions::default(),
        )
        .unwrap();
        assert!(s.converged);
        let lin = Linearisation::new(&grid, t, &s.rho, &s.psi, Some(&mf)).unwrap();
        let m = grid.len();
        let v: Vec<f64> = (0..m)
            .map(|i| s.rho[i] * ((0.37 * i as f64).sin() - 0.1))
            .collect();
        let mut lv = vec![0.0; m];
        let mut scratch = vec![0.0; m];
        lin.apply(&v, &mut lv, &mut scratch);
        let layout = Layout::new(&grid);
        let rhs = |e: f64| {
            let r: Vec<f64> = s.rho.iter().zip(&v).map(|(a, b)| a + e * b).collect();
            let mut psi = vec![0.0; m];
            field.potential(&r, &mut psi);
            let mut out = vec![0.0; m];
            sg_rhs(&layout, t, &psi, &r, &mut out);
            out
        };
        let e = 1e-5;
        let (p, q) = (rhs(e), rhs(-e));
        let scale = max_abs(&lv);
        for (i, l) in lv.iter().enumerate() {
            let fd = (p[i] - q[i]) / (2.0 * e);
            assert!(
                (fd - l).abs() <= 1e-7 * scale,
                "{}D cell {i}: {l} vs {fd}",
                grid.dim()
            );
        }
    }
}

#[test]
fn continuation_warm_starts_and_results_do_not_depend_on_threads() {
    let (mf, grid) = problem_2d();
    let field = MeanFieldPotential::new(mf.clone(), &grid).unwrap();
    let temps = [0.2, 0.1, 0.05];
    let run = || {
        continuation(
            &grid,
            &field,
            Some(&mf),
            &temps,
            &vec![0.0; grid.len()],
            &StationaryOptions::default(),
            Some(&EigenOptions::default()),
            &mut |_| Ok(()),
        )
        .unwrap()
    };
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(run);
    let three = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .unwrap()
        .install(run);
    assert_eq!(one.len(), 3);
    for (a, b) in one.iter().zip(&three) {
        assert!(a.state.converged);
        assert!(a
            .state
            .rho
            .iter()
            .zip(&b.state.rho)
            .all(|(x, y)| x.to_bits() == y.to_bits()));
        let (ma, mb) = (a.mode.as_ref().unwrap(), b.mode.as_ref().unwrap());
        assert_eq!(ma.kappa.to_bits(), mb.kappa.to_bits());
        eprintln!(
            "T = {}: {} evaluations, F = {:.10}, R = {:.6e}, 2κ = {:.6}",
            a.state.temperature,
            a.state.evaluations,
            a.diagnostics.free_energy,
            a.diagnostics.risk.unwrap(),
            ma.rate
        );
    }
    // warm start at T = 0.05 needs no more evaluations than a cold start there
    let cold = stationary(
        &grid,
        &field,
        0.05,
        &vec![0.0; grid.len()],
        &StationaryOptions::default(),
    )
    .unwrap();
    assert!(one[2].state.evaluations <= cold.evaluations);
}

#[test]
fn no_convergence_returns_the_best_iterate_unconverged() {
    let (mf, grid) = problem_1d();
    let field = MeanFieldPotential::new(mf, &grid).unwrap();
    let opts = StationaryOptions {
        max_iter: 3,
        ..Default::default()
    };
    let s = stationary(&grid, &field, 0.05, &vec![0.0; grid.len()], &opts).unwrap();
    assert!(!s.converged);
    assert_eq!(s.history.len(), 4);
    assert_eq!(
        s.residual,
        s.history.iter().copied().fold(f64::INFINITY, f64::min)
    );
    let mass: f64 = s.rho.iter().sum::<f64>() * grid.cell_volume();
    assert!((mass - 1.0).abs() < 1e-14);
    // invalid input is an error, not a panic
    assert!(stationary(&grid, &field, 0.0, &vec![0.0; grid.len()], &opts).is_err());
    assert!(stationary(&grid, &field, 0.05, &[0.0; 3], &opts).is_err());
    let bad = StationaryOptions {
        damping: 0.0,
        ..Default::default()
    };
    assert!(stationary(&grid, &field, 0.05, &vec![0.0; grid.len()], &bad).is_err());
}

/// (t, F(t)) of a run of `field` from `rho0`, diagnostics every `every`.
fn free_energy_series(
    grid: &Grid,
    field: Box<dyn PotentialField>,
    t: f64,
    rho0: Vec<f64>,
    t_end: f64,
    stepper: StepperChoice,
    every: f64,
) -> (Vec<f64>, Vec<f64>) {
    let p = FvProblem::new(grid.clone(), t, field).unwrap();
    let opts = RunOptions {
        t_end,
        stepper,
        snapshot_times: vec![],
        diagnostics_every: every,
        dt_min: 0.0,
    };
    let mut rec = mfl_pde::Recorder::default();
    solve(&p, rho0, &opts, &mut rec).unwrap();
    (
        rec.diagnostics.iter().map(|d| d.t).collect(),
        rec.diagnostics.iter().map(|d| d.free_energy).collect(),
    )
}

/// OU from an off-centre Gaussian by SSP-RK3: the fitted rate of F − F* (F* from the
/// stationary solver) is 2λ up to the grid's O(h²) (6e-4 here) and the fit's own spread.
#[test]
fn ornstein_uhlenbeck_fitted_rate_is_twice_the_gap() {
    let (l, t, n): (f64, f64, usize) = (1.0, 0.5, 100);
    let half = 6.0 * (t / l).sqrt();
    let grid = Grid::line(-half, half, n, Boundary::NoFlux).unwrap();
    let field = FixedPotential::from_fn(&grid, |x| 0.5 * l * x[0] * x[0]).unwrap();
    let s = stationary(
        &grid,
        &field,
        t,
        &vec![0.0; n],
        &StationaryOptions::default(),
    )
    .unwrap();
    let f_star = diagnose(&grid, &field, &s.rho, t, 0.0, 0.0, 0).free_energy;
    let rho0 = mfl_core::Law::Gaussian(mfl_core::Gaussian::new(vec![1.0], vec![0.09]).unwrap())
        .on_grid(&grid)
        .unwrap();
    let (ts, fs) = free_energy_series(
        &grid,
        Box::new(field),
        t,
        rho0,
        16.0,
        StepperChoice::Explicit { cfl: 0.5 },
        0.05,
    );
    let fit = mfl_pde::fit_decay(&ts, &fs, f_star).unwrap();
    eprintln!("OU fitted: {fit:?}");
    assert!((fit.rate / (2.0 * l) - 1.0).abs() < 0.02, "{fit:?}");
    assert!(fit.interval.0 <= fit.rate && fit.rate <= fit.interval.1);
}

/// The nonlinear 1D problem: the predicted asymptotic rate 2κ against the rate fitted to an
/// implicit run (dt = 0.1: its own rate bias is 2ln(1 + κdt)/dt vs 2κ, −κdt/2 ≈ −0.2 %).
#[test]
fn nonlinear_1d_predicted_rate_matches_the_fitted_rate() {
    let (mf, grid) = problem_1d();
    let t = 0.05;
    let field = MeanFieldPotential::new(mf.clone(), &grid).unwrap();
    let s = stationary(
        &grid,
        &field,
        t,
        &vec![0.0; grid.len()],
        &StationaryOptions::default(),
    )
    .unwrap();
    let f_star = diagnose(&grid, &field, &s.rho, t, 0.0, 0.0, 0).free_energy;
    let lin = Linearisation::new(&grid, t, &s.rho, &s.psi, Some(&mf)).unwrap();
    let mode = slowest_mode(&lin, &EigenOptions::default()).unwrap();
    let vol = grid.cell_volume();
    let rho0 = vec![1.0 / (vol * grid.len() as f64); grid.len()];
    let (ts, fs) = free_energy_series(
        &grid,
        Box::new(field),
        t,
        rho0,
        500.0,
        StepperChoice::Implicit { dt: 0.1 },
        1.0,
    );
    let fit = mfl_pde::fit_decay(&ts, &fs, f_star).unwrap();
    eprintln!("nonlinear 1D: predicted 2κ = {}, fitted {fit:?}", mode.rate);
    // observed −0.18 %, the implicit scheme's own bias; the issue asks for 5 %
    assert!(
        (fit.rate / mode.rate - 1.0).abs() < 0.01,
        "{fit:?} vs {}",
        mode.rate
    );
}

/// For a fixed potential the proximal Gibbs measure is ρ* itself and DΨ = 0: its gap is the
/// linearised rate's κ (OU: λ(1 − 24/n²) on ±6σ).
#[test]
fn proximal_gap_of_ou_is_the_ou_gap() {
    let (l, t, n): (f64, f64, usize) = (1.0, 0.5, 200);
    let half = 6.0 * (t / l).sqrt();
    let grid = Grid::line(-half, half, n, Boundary::NoFlux).unwrap();
    let field = FixedPotential::from_fn(&grid, |x| 0.5 * l * x[0] * x[0]).unwrap();
    let m =
        mfl_pde::stationary::proximal_gap(&grid, t, field.values(), &EigenOptions::default(), None)
            .unwrap();
    let want = l * (1.0 - 24.0 / (n * n) as f64);
    assert!((m.kappa / want - 1.0).abs() < 5e-5, "{} vs {want}", m.kappa);
    assert!(mfl_pde::stationary::proximal_gap(
        &grid,
        0.0,
        field.values(),
        &EigenOptions::default(),
        None
    )
    .is_err());
}
