//! Builders of the teacher–student problems the tests share.

use mfl_core::data::{Inputs, Teacher};
use mfl_core::{Loss, MeanField, Unit};
use ndarray::Array2;

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
