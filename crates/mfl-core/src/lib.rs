//! # mfl-core
//!
//! The mathematical objects of the mean-field limit of two-layer networks, and **one** code path
//! that evaluates them for grid densities and particle clouds alike (DESIGN.md §2):
//!
//! * [`grid`] — uniform cell-centred boxes in 1D/2D, each axis with no-flux walls or periodic;
//! * [`activation`], [`mod@unit`] — neurons σ(x; θ) with their θ-gradients;
//! * [`quadrature`], [`data`] — weighted (x, y) point sets: population quadratures and samples;
//! * [`loss`] — squared and logistic losses behind one interface;
//! * [`measure`] — weighted θ point sets (grid cells with weights ρ_m|cell|, or particles with 1/N);
//! * [`functional`] — f_ρ, R(ρ), Ψ(θ; ρ), ∇_θΨ(θ; ρ) and F(ρ), in O(M·K).
//! * [`drive`] — the one time loop of every run: steppers, record schedule, observers.
//!
//! Nothing here knows about files, configurations or terminals.

#![warn(missing_docs)]
// `!(x > 0.0)` is deliberate throughout: it rejects NaN along with the out-of-range values.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

pub mod activation;
pub mod data;
pub mod drive;
pub mod error;
pub mod functional;
pub mod grid;
pub mod law;
pub mod loss;
pub mod measure;
pub mod quadrature;
pub mod simd;
pub mod unit;

pub use activation::Activation;
pub use data::Data;
pub use error::CoreError;
pub use functional::MeanField;
pub use grid::{Axis, Boundary, Grid};
pub use law::{Gaussian, Law};
pub use loss::Loss;
pub use measure::Measure;
pub use unit::{Param, PeriodicKernel, RbfParam, Unit};

/// Period of every periodic axis and of the torus of inputs: 2π.
pub const TORUS_PERIOD: f64 = std::f64::consts::TAU;
