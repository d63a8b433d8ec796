//! # mfl-io
//!
//! Everything that touches files: TOML configs (serde, unknown keys rejected) validated into
//! the numerical crates' types, data files, HDF5 output, and figures of outputs (PNG, [`plot`]).

#![warn(missing_docs)]
// `!(x > 0.0)` is deliberate: it rejects NaN along with out-of-range values.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

pub mod build;
pub mod config;
pub mod csv;
pub mod error;
pub mod h5;
pub mod layout;
pub mod overrides;
pub mod plot;
pub mod record;
pub mod scales;
pub mod scenario;

pub use config::Config;
pub use error::ConfigError;
pub use scenario::Scenario;
