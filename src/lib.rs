//! # mfl
//!
//! The mean-field limit of two-layer neural networks, numerically: the `mfl` command line and
//! re-exports of the workspace's crates.
//!
//! * [`core`] — grids, units, data, losses, measures; f, R, Ψ, ∇Ψ, F (one kernel)
//! * [`pde`] — finite-volume Fokker–Planck solvers
//! * [`io`] — configs, data files, HDF5
//! * [`cli`], [`cmd`] — the command line (`mfl check | solve | inspect …`)

#![warn(missing_docs)]
// `!(x >= 0.0)` is deliberate: it rejects NaN along with out-of-range values.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

pub mod cli;
pub mod cmd;
pub mod compare_plan;
pub mod compare_report;
pub mod extrapolate;
pub mod progress;
pub mod shard_file;
pub mod signals;

pub use mfl_compare as compare;
pub use mfl_core as core;
pub use mfl_io as io;
pub use mfl_particles as particles;
pub use mfl_pde as pde;
