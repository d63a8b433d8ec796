//! Configuration errors: each names the key (or file and line) and the reason.

use thiserror::Error;

/// A rejected configuration.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file '{path}': {source}")]
    Read {
        /// The config file.
        path: String,
        #[source]
        /// Why it could not be read.
        source: std::io::Error,
    },
    /// TOML syntax or schema error (unknown key, wrong type), with toml's location.
    #[error("{path}: {msg}")]
    Parse {
        /// The config (or `--set`) that failed.
        path: String,
        /// toml's message, with its location.
        msg: String,
    },
    /// A key has an invalid value.
    #[error("invalid config key `{key}`: {msg}")]
    Key {
        /// The key, e.g. `solver.cfl`.
        key: String,
        /// What is wrong with its value.
        msg: String,
    },
    /// A data file is missing, unreadable or malformed.
    #[error("data file '{path}'{}: {msg}", line.map(|l| format!(", line {l}")).unwrap_or_default())]
    DataFile {
        /// The data file.
        path: String,
        /// The 1-based line, when the problem is on one.
        line: Option<usize>,
        /// What is wrong.
        msg: String,
    },
}

impl ConfigError {
    /// A [`ConfigError::Key`].
    pub fn key(key: impl Into<String>, msg: impl Into<String>) -> Self {
        ConfigError::Key {
            key: key.into(),
            msg: msg.into(),
        }
    }
}

/// Attach a key to a core error.
pub fn at(key: &str) -> impl Fn(mfl_core::CoreError) -> ConfigError + '_ {
    move |e| ConfigError::key(key, e.to_string())
}
