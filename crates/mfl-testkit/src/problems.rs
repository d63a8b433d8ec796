//! Builders of the teacher–student problems the tests share.

use mfl_core::data::{Inputs, Teacher};
use mfl_core::{Activation, Loss, MeanField, Param, Unit};
use ndarray::{array, Array2};

/// The population problem of a teacher network made of the same unit: inputs x ~ N(0, I_d) by
/// the `nodes`-per-axis Gauss–Hermite tensor rule (d = the unit's input dimension), noiseless
/// labels y(x) = Σ_j c_j σ(x; θ*_j) (rows θ*_j of `teacher_theta`, coefficients
/// `teacher_coeffs`), squared loss, ridge λ.
pub fn teacher_problem(
    unit: Unit,
    teacher_theta: Array2<f64>,
    teacher_coeffs: Vec<f64>,
    nodes: usize,
    lambda: f64,
) -> MeanField {
    let d = unit.input_dim();
    let teacher = Teacher::new(unit.clone(), teacher_theta, teacher_coeffs).expect("teacher");
    let data = Inputs::gauss_hermite(d, nodes)
        .label(&teacher, 0.0)
        .expect("labels");
    MeanField::new(unit, Loss::Squared, data, lambda).expect("mean field")
}

/// The unit tanh(w·x), θ = w ∈ R^d.
pub fn tanh_w(d: usize) -> Unit {
    Unit::Ridge {
        act: Activation::Tanh,
        param: Param::W,
        input_dim: d,
    }
}

/// The unit a·tanh(w·x), θ = (a, w) ∈ R^{1+d}.
pub fn tanh_aw(d: usize) -> Unit {
    Unit::Ridge {
        act: Activation::Tanh,
        param: Param::AW,
        input_dim: d,
    }
}

/// tanh(w x) units learning y = 0.6 tanh(1.5x) + 0.4 tanh(−x) (a two-neuron teacher),
/// x ~ N(0, 1) by 40-node Gauss–Hermite, squared loss, ridge λ.
pub fn tanh_w_two_neurons(lambda: f64) -> MeanField {
    teacher_problem(tanh_w(1), array![[1.5], [-1.0]], vec![0.6, 0.4], 40, lambda)
}

/// a·tanh(w x) units, θ = (a, w), learning y = tanh(2x) − 0.6 tanh(0.8x), x ~ N(0, 1) by
/// 40-node Gauss–Hermite, squared loss, ridge λ.
pub fn tanh_aw_two_neurons(lambda: f64) -> MeanField {
    teacher_problem(
        tanh_aw(1),
        array![[1.0, 2.0], [-0.6, 0.8]],
        vec![1.0, 1.0],
        40,
        lambda,
    )
}
