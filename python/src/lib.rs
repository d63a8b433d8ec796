//! `mfl._mfl`: the Rust side of the Python package. It runs the very command drivers of the
//! CLI (`mfl::cmd::*::run`) on the same config files and `--set` overrides, so a run from
//! Python writes the same file, bit for bit, as `mfl solve | particles | compare | stationary`;
//! the Python side opens that file with xarray. No numerics live here.

#![warn(missing_docs)]

mod arrays;
mod config;
mod errors;
mod run;

use pyo3::prelude::*;

/// The extension module.
#[pymodule]
fn _mfl(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("ConfigError", py.get_type::<errors::ConfigError>())?;
    m.add("MflError", py.get_type::<errors::MflError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(run::run, m)?)?;
    m.add_function(wrap_pyfunction!(run::check, m)?)?;
    m.add_function(wrap_pyfunction!(config::to_toml, m)?)?;
    m.add_function(wrap_pyfunction!(config::format_override, m)?)?;
    m.add_function(wrap_pyfunction!(config::absolutize, m)?)?;
    m.add_function(wrap_pyfunction!(config::set_table, m)?)?;
    m.add_function(wrap_pyfunction!(arrays::write_density, m)?)?;
    m.add_function(wrap_pyfunction!(arrays::write_particles, m)?)?;
    m.add_function(wrap_pyfunction!(arrays::write_data, m)?)?;
    Ok(())
}
