//! Particle-steps per second: one noisy exact-gradient step of N particles, tanh a_w unit in
//! d = 1, K = 100 Gauss–Hermite nodes (cost O(N·K) for f and again for ∇Ψ).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use mfl_core::data::{Inputs, Teacher};
use mfl_core::{Activation, Gaussian, Law, Loss, MeanField, Param, Unit};
use mfl_particles::{Dynamics, Init, Temperature};
use ndarray::array;
use std::time::Duration;

fn bench_step(c: &mut Criterion) {
    let unit = Unit::Ridge {
        act: Activation::Tanh,
        param: Param::AW,
        input_dim: 1,
    };
    let teacher = Teacher::new(unit.clone(), array![[1.0, 1.5]], vec![1.0]).unwrap();
    let data = Inputs::gauss_hermite(1, 100).label(&teacher, 0.0).unwrap();
    let mf = MeanField::new(unit, Loss::Squared, data, 1e-3).unwrap();
    let law = Law::Gaussian(Gaussian::isotropic(vec![0.0, 1.0], 0.5).unwrap());
    let mut group = c.benchmark_group("particle_step_K100");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    for n in [1_000usize, 10_000, 100_000] {
        let dynamics = Dynamics::new(mf.clone(), n, 0.01, Init::Law(law.clone()))
            .unwrap()
            .with_temperature(Temperature::Constant(1e-3))
            .unwrap();
        let mut sys = dynamics.system(1).unwrap();
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| sys.step().unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, bench_step);
criterion_main!(benches);
