//! The adjoint control variate (mfl_compare::adjoint): an exactly zero mean — in 1D and 2D,
//! on no-flux and periodic grids, with exact and minibatch gradients, for the squared and the
//! logistic loss, and with φ from a deliberately coarse grid — agreement with the plain
//! estimate, and the variance it removes where the linearisation is exact up to quadratic
//! terms.
//!
//! Every mean-zero check is |mean Z| ≤ 3 se(Z) over the seeds: Z is an average of i.i.d.
//! centred initial terms plus martingale increments, so mean(Z)/se(Z) is ≈ N(0, 1); the seeds
//! are fixed, so each check is deterministic (and would fail for a bias of a few se).

mod common;

use common::*;
use mfl_compare::{
    gap_sweep_with, Adjoint, AdjointPart, Control, DensityPath, Functional, GapTable, Summary,
    SweepOptions,
};
use mfl_core::data::{Inputs, Teacher};
use mfl_core::{
    Activation, Axis, Boundary, Data, Gaussian, Grid, Law, Loss, MeanField, Param, Unit,
};
use mfl_particles::{AxisBoundary, Dynamics, Gradient, Init, Recording, Resample, Temperature};
use mfl_pde::{FvProblem, MeanFieldPotential, NoObserver};
use ndarray::{array, Array1, Array2};
use std::sync::Arc;

#[allow(clippy::too_many_arguments)]
fn sweep_with(
    mf: &MeanField,
    grid: &Grid,
    rho0: &[f64],
    dynamics: impl Fn(usize) -> Dynamics,
    control: Control,
    ns: &[usize],
    seeds: usize,
    times: &[f64],
    temp: f64,
) -> GapTable {
    let pde = fv(mf, grid, temp);
    let seeds: Vec<u64> = (0..seeds as u64).collect();
    gap_sweep_with(
        &pde,
        rho0.to_vec(),
        &opts(times[times.len() - 1], 0.002),
        mf,
        dynamics,
        ns,
        &seeds,
        times,
        &mut NoObserver,
        &SweepOptions {
            control,
            distances: false,
            progress: None,
        },
    )
    .unwrap()
}

/// |mean Z| ≤ 3 se for the risk and the energy at every row.
fn assert_zero_mean(t: &GapTable, what: &str) {
    for r in &t.rows {
        let a = r.adjoint.as_ref().expect("adjoint ran");
        for (name, z) in [("risk", &a.z_risk), ("energy", &a.z_energy)] {
            let s = Summary::of(z);
            eprintln!(
                "{what}: N = {}, t = {}: mean Z_{name} = {:+.3e} ± {:.2e} ({:+.2} se); VR {:.1}",
                r.n,
                r.time,
                s.mean,
                s.se,
                s.mean / s.se,
                a.variance_reduction_risk
            );
            assert!(s.se > 0.0, "{what}: Z_{name} is identically zero");
            assert!(
                s.mean.abs() <= 3.0 * s.se,
                "{what}: N = {}, t = {}: mean Z_{name} = {:.3e} is {:.1} se from 0",
                r.n,
                r.time,
                s.mean,
                s.mean / s.se
            );
        }
    }
}

fn tanh_1d(temp: f64) -> (MeanField, Grid, Vec<f64>) {
    let _ = temp;
    let mf = tanh_problem(0.05);
    let grid = grid_1d(120);
    let rho0 = gaussian_rho0(&grid);
    (mf, grid, rho0)
}

#[test]
fn zero_mean_1d_exact_gradients_and_it_removes_the_fluctuation() {
    let temp = 0.05;
    let (mf, grid, rho0) = tanh_1d(temp);
    let t = sweep_with(
        &mf,
        &grid,
        &rho0,
        |n| dynamics(&mf, &grid, &rho0, n, 0.01, temp),
        Control::Adjoint,
        &[16, 128],
        400,
        &[0.0, 0.5, 1.0],
        temp,
    );
    assert_zero_mean(&t, "1D exact");
    // the O(N^{-1/2}) fluctuation is gone: VR grows like N (≥ 30 at N = 16, ≥ 200 at N = 128
    // here) and the fitted optimal coefficient is ≈ 1 (φ is accurate)
    for r in &t.rows {
        let a = r.adjoint.as_ref().unwrap();
        let want = if r.n == 16 { 30.0 } else { 200.0 };
        assert!(
            a.variance_reduction_risk >= want,
            "N = {}, t = {}: VR {}",
            r.n,
            r.time,
            a.variance_reduction_risk
        );
        assert!((a.optimal_coefficient - 1.0).abs() < 0.1);
    }
}

#[test]
fn adjoint_gap_agrees_with_the_plain_mean() {
    let temp = 0.05;
    let (mf, grid, rho0) = tanh_1d(temp);
    let run = |c| {
        sweep_with(
            &mf,
            &grid,
            &rho0,
            |n| dynamics(&mf, &grid, &rho0, n, 0.01, temp),
            c,
            &[16, 64],
            1000,
            &[0.5, 1.0],
            temp,
        )
    };
    let (adj, none) = (run(Control::Adjoint), run(Control::None));
    for (a, b) in adj.rows.iter().zip(&none.rows) {
        let (ga, sa) = a.best_gap_risk();
        let (gb, sb) = b.best_gap_risk();
        eprintln!(
            "N = {}, t = {}: adjoint {ga:+.4e} ± {sa:.1e}, none {gb:+.4e} ± {sb:.1e}",
            a.n, a.time
        );
        assert!((ga - gb).abs() <= 2.0 * sb, "N = {}, t = {}", a.n, a.time);
        assert!(sa < sb / 5.0);
    }
}

#[test]
fn zero_mean_with_phi_on_a_coarse_grid() {
    // particles from the 120-cell density; φ solved around a 30-cell PDE run on the same box:
    // the initial term's mean is the exact integral of the coarse interpolant over the fine
    // cells, so Z stays centred; only the variance reduction suffers
    let temp = 0.05;
    let (mf, fine, rho0) = tanh_1d(temp);
    let coarse = grid_1d(30);
    let rho_c = gaussian_rho0(&coarse);
    let times = [0.0, 0.5, 1.0];
    let nodes = mfl_compare::adjoint_nodes(&times, 0.01, &coarse, mf.data.len());
    let trace = mfl_compare::pde_trace(
        &fv(&mf, &coarse, temp),
        rho_c,
        &opts(1.0, 0.002),
        &times,
        None,
        &nodes,
        &mut NoObserver,
    )
    .unwrap();
    let path = DensityPath::new(&mf, &coarse, nodes.clone(), trace.node_density).unwrap();
    let targets: Vec<(f64, Functional)> = times
        .iter()
        .flat_map(|&t| [(t, Functional::Risk), (t, Functional::Energy)])
        .collect();
    let adj = Adjoint::solve(&mf, &coarse, temp, &path, &targets).unwrap();
    let initial_mean = adj.initial_mean(&fine, &rho0).unwrap();
    let part = AdjointPart {
        adjoint: Arc::new(adj),
        initial_mean,
        path_bytes: 0,
        node_times: nodes,
    };
    let dyn32 = dynamics(&mf, &fine, &rho0, 32, 0.01, temp);
    let seeds: Vec<u64> = (0..600).collect();
    let runs = part
        .run(&dyn32, &mf, &seeds, &Recording::at(times.to_vec()), |_| {})
        .unwrap();
    for (j, &t) in times.iter().enumerate() {
        for (q, name) in [(2 * j, "risk"), (2 * j + 1, "energy")] {
            let z: Vec<f64> = runs.iter().map(|(_, z)| z[j][q]).collect();
            let s = Summary::of(&z);
            let raw: Vec<f64> = runs
                .iter()
                .map(|(tr, _)| if q % 2 == 0 { tr.risk[j] } else { tr.energy[j] })
                .collect();
            let corrected: Vec<f64> = raw.iter().zip(&z).map(|(a, b)| a - b).collect();
            let vr = (Summary::of(&raw).std / Summary::of(&corrected).std).powi(2);
            eprintln!(
                "coarse φ: t = {t}, Z_{name}: {:+.3e} ± {:.2e} ({:+.2} se), VR {vr:.1}",
                s.mean,
                s.se,
                s.mean / s.se
            );
            assert!(s.mean.abs() <= 3.0 * s.se);
            assert!(vr > 5.0, "a coarse φ still removes most of the fluctuation");
        }
    }
}

#[test]
fn zero_mean_2d_no_flux_and_minibatch() {
    // θ = (a, w), σ = a·tanh(w x), on a 24 × 28 box
    let unit = Unit::Ridge {
        act: Activation::Tanh,
        param: Param::AW,
        input_dim: 1,
    };
    let teacher = Teacher::new(unit.clone(), array![[1.0, 2.0]], vec![1.0]).unwrap();
    let data = Inputs::gauss_hermite(1, 24).label(&teacher, 0.0).unwrap();
    let mf = MeanField::new(unit.clone(), Loss::Squared, data, 0.05).unwrap();
    let grid = Grid::new(vec![
        Axis::new(-2.5, 3.5, 24, Boundary::NoFlux).unwrap(),
        Axis::new(-3.0, 4.0, 28, Boundary::NoFlux).unwrap(),
    ])
    .unwrap();
    let rho0 = Law::Gaussian(Gaussian::new(vec![0.3, 0.5], vec![0.5, 0.0, 0.0, 0.8]).unwrap())
        .on_grid(&grid)
        .unwrap();
    let temp = 0.05;
    let make = |n: usize| {
        Dynamics::new(
            mf.clone(),
            n,
            0.01,
            Init::GridDensity {
                grid: grid.clone(),
                density: rho0.clone(),
            },
        )
        .unwrap()
        .with_boundaries(AxisBoundary::from_grid(&grid))
        .unwrap()
        .with_temperature(Temperature::Constant(temp))
        .unwrap()
    };
    let t = sweep_with(
        &mf,
        &grid,
        &rho0,
        make,
        Control::Adjoint,
        &[16, 64],
        300,
        &[0.0, 0.4],
        temp,
    );
    assert_zero_mean(&t, "2D exact");
    for r in t.rows.iter().filter(|r| r.n == 64) {
        assert!(r.adjoint.as_ref().unwrap().variance_reduction_risk > 20.0);
    }

    // minibatch gradients on a finite data set (B = 8 of 40 points, drawn uniformly): the
    // batch noise η(∇Ψ_full − ∇Ψ_batch) is a martingale increment too
    let x = Array2::from_shape_fn((40, 1), |(i, _)| -2.0 + 4.0 * (i as f64 + 0.5) / 40.0);
    let y: Array1<f64> = x.column(0).iter().map(|&v| teacher.label(&[v])).collect();
    let small = Data::samples(x, y).unwrap();
    let mf_small = MeanField::new(unit, Loss::Squared, small.clone(), 0.05).unwrap();
    let make_mb = |n: usize| {
        Dynamics::new(
            mf_small.clone(),
            n,
            0.01,
            Init::GridDensity {
                grid: grid.clone(),
                density: rho0.clone(),
            },
        )
        .unwrap()
        .with_boundaries(AxisBoundary::from_grid(&grid))
        .unwrap()
        .with_temperature(Temperature::Constant(temp))
        .unwrap()
        .with_gradient(Gradient::Minibatch {
            batch: 8,
            sampler: Arc::new(Resample::new(small.clone()).unwrap()),
        })
        .unwrap()
    };
    assert!(AdjointPart::reference_problem(&make_mb(4)).is_some());
    let t = sweep_with(
        &mf_small,
        &grid,
        &rho0,
        make_mb,
        Control::Adjoint,
        &[16, 64],
        300,
        &[0.0, 0.4],
        temp,
    );
    assert_zero_mean(&t, "2D minibatch");
}

#[test]
fn zero_mean_periodic_logistic_and_zero_temperature() {
    // (a) a periodic unit φ(x − θ) (Dirichlet kernel, 3 frequencies) on the torus, squared
    //     loss: the particles wrap, φ is periodic; (b) logistic loss, labels sign(x), tanh(w x)
    //     units, at T > 0 and at T = 0 (only the initial term remains)
    let kernel = mfl_core::PeriodicKernel::dirichlet(3);
    let punit = Unit::Periodic {
        kernel,
        weighted: false,
        input_dim: 1,
    };
    let pteacher = Teacher::new(punit.clone(), array![[1.0], [4.0]], vec![0.6, 0.4]).unwrap();
    let pdata = Inputs::torus(1, 32).label(&pteacher, 0.0).unwrap();
    let torus = MeanField::new(punit, Loss::Squared, pdata, 0.0).unwrap();
    let tau = std::f64::consts::TAU;
    let unit = Unit::Ridge {
        act: Activation::Tanh,
        param: Param::W,
        input_dim: 1,
    };
    let inputs = Inputs::gauss_hermite(1, 30);
    let x = inputs.x.clone();
    let y: Array1<f64> = x.column(0).iter().map(|&v| v.signum()).collect();
    let data = Data::new(x, y, inputs.w.clone(), 0.0).unwrap();
    let logistic = MeanField::new(unit, Loss::Logistic, data, 0.02).unwrap();
    let cases = [
        (
            &torus,
            Grid::line(0.0, tau, 64, Boundary::Periodic).unwrap(),
            0.05,
            "torus, squared",
        ),
        (
            &logistic,
            Grid::line(-4.0, 4.0, 80, Boundary::NoFlux).unwrap(),
            0.05,
            "logistic",
        ),
        (
            &logistic,
            Grid::line(-4.0, 4.0, 80, Boundary::NoFlux).unwrap(),
            0.0,
            "logistic, T = 0",
        ),
    ];
    for (mf, grid, temp, what) in cases {
        let centre = 0.5 * (grid.axes[0].lo + grid.axes[0].hi) + 0.3;
        let rho0 = Law::Gaussian(Gaussian::isotropic(vec![centre], 1.0).unwrap())
            .on_grid(&grid)
            .unwrap();
        let pde = FvProblem::new(
            grid.clone(),
            temp,
            Box::new(MeanFieldPotential::new(mf.clone(), &grid).unwrap()),
        )
        .unwrap();
        let seeds: Vec<u64> = (0..400).collect();
        let t = gap_sweep_with(
            &pde,
            rho0.clone(),
            &opts(0.5, 0.002),
            mf,
            |n| dynamics(mf, &grid, &rho0, n, 0.01, temp),
            &[16, 64],
            &seeds,
            &[0.0, 0.5],
            &mut NoObserver,
            &SweepOptions::default(),
        )
        .unwrap();
        assert_zero_mean(&t, what);
        for r in t.rows.iter().filter(|r| r.n == 64) {
            assert!(
                r.adjoint.as_ref().unwrap().variance_reduction_risk > 10.0,
                "{what}"
            );
        }
    }
}

#[test]
fn linear_units_gaussian_law_variance_reduction_above_1e4() {
    // σ = w x, y = 5x, x ~ N(0, 1): f_ρ(x) = m(ρ) x, R = (m − 5)², ∇Ψ = (m − 5) + λw. The law
    // stays Gaussian and R_N − R = 2(m − 5)δm + δm² exactly: the adjoint removes the linear
    // term, so var(R_N)/var(R_N − Z) ≈ 2(m − 5)²N (≈ 2·10⁴ at N = 1024, t = 0.5)
    let mf = mfl_testkit::LinearUnits::standard_1d(5.0, 0.01).mean_field(8);
    let grid = Grid::line(-7.0, 9.0, 320, Boundary::NoFlux).unwrap();
    let rho0 = Law::Gaussian(Gaussian::isotropic(vec![0.0], 1.0).unwrap())
        .on_grid(&grid)
        .unwrap();
    let temp = 0.1;
    let t = sweep_with(
        &mf,
        &grid,
        &rho0,
        |n| dynamics(&mf, &grid, &rho0, n, 0.005, temp),
        Control::Adjoint,
        &[64, 1024],
        100,
        &[0.25, 0.5],
        temp,
    );
    assert_zero_mean(&t, "linear units");
    for r in t.rows.iter().filter(|r| r.n == 1024) {
        let vr = r.adjoint.as_ref().unwrap().variance_reduction_risk;
        eprintln!("linear units, N = 1024, t = {}: VR {vr:.3e}", r.time);
        assert!(vr >= 1e4, "t = {}: VR {vr}", r.time);
    }
}
