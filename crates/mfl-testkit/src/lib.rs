//! Reference problems with exact answers, shared by the tests of every mfl crate.
//!
//! Each item states the formula it implements, so a test that uses it compares the code under
//! test with an independent exact answer (or a closed form of the discrete scheme), never with
//! the code's own output. Nothing here reads files, TOML or the command line; the only mfl
//! dependency is `mfl-core` (for `Grid`, `MeanField` and the data builders).
//!
//! * [`mat2`]: 2×2 matrix helpers (symmetric matrix exponential, inverse, products).
//! * [`gaussian`]: Gaussian densities in 1D and 2D, at cell centres.
//! * [`ou`]: Ornstein–Uhlenbeck, V = ½θᵀAθ — the Gaussian law at time t from a Gaussian start.
//! * [`gibbs`]: the discrete Gibbs state e^{−V/T}/Z of a fixed potential on a grid.
//! * [`linear`]: the linear-unit mean-field problem σ(x; θ) = θ·x, y = β·x, x ~ N(0, LLᵀ):
//!   exact continuous-time Gaussian law and the exact Euler–Maruyama moment map.
//! * [`prefactor`]: the t = 0 gap prefactor V(ρ₀) = ∫U(θ,θ)dρ₀ − ∬U dρ₀dρ₀.
//! * [`discrete_ou`]: the exact variance recursion of Euler–Maruyama for OU,
//!   θ ← θ − ηaθ + √(2Tη) g.
//! * [`problems`]: builders of the teacher–student problems the tests share.
#![warn(missing_docs)]

pub mod discrete_ou;
pub mod gaussian;
pub mod gibbs;
pub mod linear;
pub mod mat2;
pub mod ou;
pub mod prefactor;
pub mod problems;

pub use discrete_ou::{
    em_ou_mean, em_ou_stationary_variance, em_ou_variance, em_ou_variance_after,
};
pub use gaussian::{gauss_pdf, gaussian_at_centres};
pub use gibbs::{gibbs_on_grid, gibbs_partition, gibbs_state};
pub use linear::LinearUnits;
pub use ou::{Ou1, Ou2};
pub use prefactor::{
    gap_prefactor, gap_prefactor_cells, gap_prefactor_centres, gap_prefactor_gaussian_1d,
};
pub use problems::{tanh_aw, tanh_aw_two_neurons, tanh_w, tanh_w_two_neurons, teacher_problem};
