//! Same configuration and seed ⇒ the same bits with 1 or 2 threads.

mod common;

use common::*;
use mfl_core::data::Inputs;
use mfl_core::{Gaussian, Law, MeanField};
use mfl_particles::{
    AxisBoundary, DataSampler, Dynamics, Gradient, Init, Recording, Resample, TeacherSampler,
    Temperature, Trajectory, TwoClassSampler,
};
use std::sync::Arc;

fn bits(t: &Trajectory) -> Vec<u64> {
    let mut v: Vec<u64> = t.step.clone();
    for x in t
        .time
        .iter()
        .chain(&t.risk)
        .chain(&t.energy)
        .chain(&t.temperature)
        .chain(t.mean.iter())
        .chain(t.cov.iter())
        .chain(t.positions.as_ref().unwrap().iter())
        .chain(t.final_theta.iter())
    {
        v.push(x.to_bits());
    }
    v
}

fn run_with_threads(dynamics: &Dynamics, eval: &MeanField, threads: usize) -> Vec<Vec<u64>> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        assert_eq!(rayon::current_num_threads(), threads);
        let rec = Recording::every(0.1, 0.2).with_positions();
        let mut calls = 0usize;
        let trs = dynamics
            .run_seeds(eval, &[1, 2, 3], &rec, |_, _| calls += 1)
            .unwrap();
        assert_eq!(calls, 3 * 3);
        trs.iter().map(bits).collect()
    })
}

fn check(dynamics: &Dynamics, eval: &MeanField) {
    let one = run_with_threads(dynamics, eval, 1);
    let two = run_with_threads(dynamics, eval, 2);
    assert_eq!(one, two);
    // the seeds really differ
    assert_ne!(one[0], one[1]);
}

fn base(eval: &MeanField) -> Dynamics {
    // N = 1100: more than one task in the kernel (256 points) and in the update (1024 particles)
    let law = Law::Gaussian(Gaussian::new(vec![0.5, 1.0], vec![0.3, 0.1, 0.1, 0.5]).unwrap());
    Dynamics::new(eval.clone(), 1100, 0.01, Init::Law(law))
        .unwrap()
        .with_temperature(Temperature::InverseTime {
            initial: 0.05,
            t0: 0.2,
        })
        .unwrap()
}

#[test]
fn exact_gradient_is_thread_count_independent() {
    let eval = population(tanh_aw(), 40, 0.01);
    let d = base(&eval)
        .with_boundaries(vec![
            AxisBoundary::Reflect { lo: -3.0, hi: 3.0 },
            AxisBoundary::Free,
        ])
        .unwrap();
    check(&d, &eval);
}

#[test]
fn minibatch_gradient_is_thread_count_independent() {
    let eval = population(tanh_aw(), 40, 0.01);
    let samplers: Vec<Arc<dyn DataSampler>> = vec![
        Arc::new(TeacherSampler::new(teacher(tanh_aw()), 0.1).unwrap()),
        Arc::new(TwoClassSampler::new(1, 0.3).unwrap()),
        Arc::new(
            Resample::new(
                Inputs::gaussian_samples(1, 300, 5)
                    .label(&teacher(tanh_aw()), 0.0)
                    .unwrap(),
            )
            .unwrap(),
        ),
    ];
    for s in samplers {
        let d = base(&eval)
            .with_gradient(Gradient::Minibatch {
                batch: 32,
                sampler: s,
            })
            .unwrap();
        check(&d, &eval);
    }
}
