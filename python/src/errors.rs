//! The exceptions: `mfl.ConfigError` (a bad config, naming the key) and `mfl.MflError`
//! (anything else a run reports: files, numerics, interruption).

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::PyErr;

pyo3::create_exception!(
    mfl,
    ConfigError,
    PyValueError,
    "A rejected config: `key` names the key (None when the message names a file or line)."
);
pyo3::create_exception!(
    mfl,
    MflError,
    PyRuntimeError,
    "A run that failed (file, numerics, interruption); the message is the CLI's error line."
);

/// An error of a run, made `Send` (the driver's `Box<dyn Error>` is not) to cross threads.
#[derive(Debug, Clone)]
pub enum Failure {
    /// A config error, with its key when it has one.
    Config {
        /// The key (`unit.activation`), or `None` for a syntax error or a data file.
        key: Option<String>,
        /// The CLI's one-line message.
        msg: String,
    },
    /// Any other error.
    Other(String),
}

impl Failure {
    /// Classify a driver's error.
    pub fn of(e: &(dyn std::error::Error + 'static)) -> Self {
        match e.downcast_ref::<mfl::io::ConfigError>() {
            Some(c) => Failure::Config {
                key: match c {
                    mfl::io::ConfigError::Key { key, .. } => Some(key.clone()),
                    _ => None,
                },
                msg: c.to_string(),
            },
            None => Failure::Other(e.to_string()),
        }
    }

    /// The Python exception.
    pub fn into_py(self) -> PyErr {
        match self {
            Failure::Config { key, msg } => ConfigError::new_err((msg, key)),
            Failure::Other(msg) => MflError::new_err(msg),
        }
    }
}
