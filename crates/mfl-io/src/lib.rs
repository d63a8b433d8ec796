//! # mfl-io
//!
//! Everything that touches files: TOML configs (serde, unknown keys rejected) validated into
//! the numerical crates' types, data files, and HDF5 output.

pub mod build;
pub mod config;
pub mod csv;
pub mod error;
pub mod h5;
pub mod overrides;

pub use config::Config;
pub use error::ConfigError;
