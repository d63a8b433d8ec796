//! Small problems shared by the integration tests.
#![allow(dead_code)]

use mfl_core::data::Teacher;
use mfl_core::{Data, Loss, MeanField, Unit};
use ndarray::{array, Array1, Array2};

/// tanh(w·x), θ = w, inputs of dimension d.
pub fn tanh_w(d: usize) -> Unit {
    mfl_testkit::tanh_w(d)
}

/// a·tanh(w x), θ = (a, w), d = 1.
pub fn tanh_aw() -> Unit {
    mfl_testkit::tanh_aw(1)
}

/// A one-neuron teacher 1.0·tanh(1.5 x) for the a_w unit, or tanh(w x) with w = 1.5.
pub fn teacher(unit: Unit) -> Teacher {
    let th = if unit.theta_dim() == 2 {
        array![[1.0, 1.5]]
    } else {
        array![[1.5]]
    };
    Teacher::new(unit, th, vec![1.0]).unwrap()
}

/// Population problem: N(0, 1) inputs by K-node Gauss–Hermite, [`teacher`] labels, squared loss.
pub fn population(unit: Unit, k: usize, lambda: f64) -> MeanField {
    let t = teacher(unit.clone());
    mfl_testkit::teacher_problem(unit, t.theta.clone(), t.coeffs.clone(), k, lambda)
}

/// A single data point at x = 0 (so tanh(w·x) and its θ-gradient vanish): ∇Ψ = λθ.
pub fn no_data(d: usize, lambda: f64) -> MeanField {
    let data = Data::new(
        Array2::zeros((1, d)),
        Array1::zeros(1),
        Array1::ones(1),
        0.0,
    )
    .unwrap();
    MeanField::new(tanh_w(d), Loss::Squared, data, lambda).unwrap()
}
