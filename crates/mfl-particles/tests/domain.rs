//! Boundaries (reflection, wrapping), initialisation from a grid density, and argument errors.

mod common;

use common::*;
use mfl_core::data::Inputs;
use mfl_core::{Boundary, Gaussian, Grid, Law};
use mfl_particles::{
    AxisBoundary, Dynamics, Gradient, Init, ParticleError, Recording, Resample, StepSchedule,
    Temperature,
};
use ndarray::{array, Array2};
use std::sync::Arc;

/// Pure Brownian motion (∇Ψ = 0): σ = 1 per step; 200 steps spread the particles over ±40.
fn brownian(boundaries: Vec<AxisBoundary>) -> (Dynamics, mfl_core::MeanField) {
    let mf = no_data(2, 0.0);
    let law = Law::uniform(vec![-0.5, 0.1], vec![0.5, 0.9]).unwrap();
    let d = Dynamics::new(mf.clone(), 400, 0.25, Init::Law(law))
        .unwrap()
        .with_temperature(Temperature::Constant(2.0))
        .unwrap()
        .with_boundaries(boundaries)
        .unwrap();
    (d, mf)
}

#[test]
fn reflection_keeps_particles_in_the_box_and_wrapping_is_modular() {
    let rec = Recording::every(2.5, 50.0).with_positions();
    let (free, mf) = brownian(vec![]);
    let free = free.run(&mf, 11, &rec, |_| {}).unwrap();
    let box_ = [
        AxisBoundary::Reflect { lo: -1.0, hi: 1.0 },
        AxisBoundary::Periodic { lo: 0.0, hi: 1.0 },
    ];
    let (walls, _) = brownian(box_.to_vec());
    let walls = walls.run(&mf, 11, &rec, |_| {}).unwrap();
    let fp = free.positions.as_ref().unwrap();
    let wp = walls.positions.as_ref().unwrap();
    // the free cloud leaves the box: the test is not vacuous
    let outside = fp.iter().step_by(2).filter(|t| t.abs() > 1.0).count();
    assert!(outside > fp.len() / 4, "{outside}");
    for p in wp.outer_iter() {
        for row in p.outer_iter() {
            assert!(
                box_[0].contains(row[0]) && box_[1].contains(row[1]),
                "{row}"
            );
        }
    }
    // with no drift, the periodic axis is the free motion modulo 1 (up to rounding)
    for (f, w) in fp
        .iter()
        .skip(1)
        .step_by(2)
        .zip(wp.iter().skip(1).step_by(2))
    {
        let k = f - w;
        assert!((k - k.round()).abs() < 1e-12, "{f} vs {w}");
    }
    // the reflected cloud covers the box roughly uniformly at late times (mean ≈ 0)
    let last = wp.index_axis(ndarray::Axis(0), wp.shape()[0] - 1);
    let m0 = last.column(0).mean().unwrap();
    assert!(m0.abs() < 4.0 * (1.0f64 / 3.0 / 400.0).sqrt(), "{m0}");
}

#[test]
fn grid_density_initialisation_matches_cell_masses() {
    let grid = Grid::line(-2.0, 2.0, 8, Boundary::NoFlux).unwrap();
    let density = vec![0.0, 1.0, 2.0, 3.0, 0.0, 1.0, 0.0, 5.0];
    let n = 20_000;
    let d = Dynamics::new(
        no_data(1, 0.0),
        n,
        0.1,
        Init::GridDensity {
            grid: grid.clone(),
            density: density.clone(),
        },
    )
    .unwrap()
    .with_boundaries(AxisBoundary::from_grid(&grid))
    .unwrap();
    let sys = d.system(3).unwrap();
    let mut counts = [0usize; 8];
    let mut within = [0.0f64; 8];
    for t in sys.theta().column(0) {
        let c = grid.cell_of(&[*t]);
        counts[c] += 1;
        within[c] += t - grid.axes[0].centre(c);
    }
    let total: f64 = density.iter().sum();
    for c in 0..8 {
        let p = density[c] / total;
        let sd = (n as f64 * p * (1.0 - p)).sqrt();
        if p == 0.0 {
            assert_eq!(counts[c], 0);
        } else {
            assert!(
                (counts[c] as f64 - n as f64 * p).abs() < 4.0 * sd,
                "cell {c}"
            );
            // uniform inside the cell: offset from the centre has mean 0, sd h/√12
            let sd_off = 0.5 / 12f64.sqrt() / (counts[c] as f64).sqrt();
            assert!(
                (within[c] / counts[c] as f64).abs() < 4.0 * sd_off,
                "cell {c}"
            );
        }
    }
}

#[test]
fn law_initialisation_is_conditioned_on_the_box() {
    let law = Law::Gaussian(Gaussian::new(vec![0.9], vec![1.0]).unwrap());
    let d = Dynamics::new(no_data(1, 0.0), 2000, 0.1, Init::Law(law))
        .unwrap()
        .with_boundaries(vec![AxisBoundary::Reflect { lo: 0.0, hi: 1.0 }])
        .unwrap();
    let sys = d.system(1).unwrap();
    assert!(sys.theta().iter().all(|t| (0.0..=1.0).contains(t)));
    // N(0.9, 1) restricted to [0, 1]: mean 0.9 + (φ(−0.9) − φ(0.1))/(Φ(0.1) − Φ(−0.9)) = 0.53218,
    // sd 0.288; the unconditioned law (mean 0.9) or the reflected one (mean ≈ 0.55) differ
    let m = sys.theta().mean().unwrap();
    let se = 0.288 / 2000f64.sqrt();
    assert!((m - 0.53218).abs() < 4.0 * se, "{m}");
}

#[test]
fn invalid_arguments_are_rejected() {
    let mf = no_data(1, 0.1);
    let pos = Init::Positions(array![[0.0]]);
    let law = Init::Law(Law::uniform(vec![0.0], vec![1.0]).unwrap());
    assert_eq!(
        Dynamics::new(mf.clone(), 0, 0.1, law.clone()).unwrap_err(),
        ParticleError::NoParticles
    );
    for eta in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            Dynamics::new(mf.clone(), 1, eta, pos.clone()),
            Err(ParticleError::BadStepSize(_))
        ));
    }
    let law2 = Init::Law(Law::uniform(vec![0.0, 0.0], vec![1.0, 1.0]).unwrap());
    assert!(matches!(
        Dynamics::new(mf.clone(), 4, 0.1, law2),
        Err(ParticleError::DimensionMismatch {
            expected: 1,
            got: 2,
            ..
        })
    ));
    assert!(matches!(
        Dynamics::new(mf.clone(), 2, 0.1, pos.clone()),
        Err(ParticleError::Invalid { .. })
    ));
    let small = Inputs::gaussian_samples(1, 10, 1)
        .label(&teacher(tanh_w(1)), 0.0)
        .unwrap();
    let d = Dynamics::new(mf.clone(), 1, 0.1, pos.clone()).unwrap();
    let err = d
        .clone()
        .with_gradient(Gradient::Minibatch {
            batch: 11,
            sampler: Arc::new(Resample::new(small.clone()).unwrap()),
        })
        .unwrap_err();
    assert_eq!(err, ParticleError::BatchTooLarge { batch: 11, n: 10 });
    assert!(d
        .clone()
        .with_gradient(Gradient::Minibatch {
            batch: 10,
            sampler: Arc::new(Resample::new(small).unwrap()),
        })
        .is_ok());
    assert!(d
        .clone()
        .with_boundaries(vec![AxisBoundary::Reflect { lo: 1.0, hi: 1.0 }])
        .is_err());
    assert!(d
        .clone()
        .with_temperature(Temperature::Constant(-1.0))
        .is_err());
    // eval must be the same problem
    let other = no_data(1, 0.2);
    assert!(d
        .run(&other, 0, &Recording::every(0.1, 0.1), |_| {})
        .is_err());
    assert!(d
        .run(&mf, 0, &Recording::at(vec![0.2, 0.1]), |_| {})
        .is_err());
    let _ = Array2::<f64>::zeros((0, 1));
}

/// GD on Ψ = (λ/2)θ² with η_k = η/(1 + t_k/t0): θ_{k+1} = (1 − η_k λ) θ_k, the last step
/// shortened to land on t = 1.
#[test]
fn step_schedule_is_followed_and_lands_on_record_times() {
    let (lambda, eta, t0) = (1.0, 0.1, 0.5);
    let mf = no_data(1, lambda);
    let d = Dynamics::new(mf.clone(), 1, eta, Init::Positions(array![[2.0]]))
        .unwrap()
        .with_step_schedule(StepSchedule::InverseTime { t0 })
        .unwrap();
    let tr = d
        .run(&mf, 0, &Recording::at(vec![0.0, 1.0]), |_| {})
        .unwrap();
    let (mut t, mut th, mut k) = (0.0f64, 2.0f64, 0u64);
    while 1.0 - t > 1e-9 * eta {
        let h = (eta / (1.0 + t / t0)).min(1.0 - t);
        th -= h * (lambda * th);
        t += h;
        k += 1;
    }
    assert_eq!(tr.time, vec![0.0, 1.0]);
    assert_eq!(tr.step[1], k);
    assert!(k > 12, "{k} steps: the schedule shrank the steps");
    assert!(
        (tr.final_theta[[0, 0]] - th).abs() < 1e-14,
        "{} vs {th}",
        tr.final_theta[[0, 0]]
    );
}
