//! Errors of the numerical core: always about a named quantity, never about files.

use thiserror::Error;

/// An invalid argument given to a core constructor.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum CoreError {
    /// `what` is invalid because of `why`.
    #[error("{what}: {why}")]
    Invalid {
        /// The quantity or key.
        what: String,
        /// Why it is invalid.
        why: String,
    },
}

impl CoreError {
    /// Shorthand for [`CoreError::Invalid`].
    pub fn invalid(what: impl Into<String>, why: impl Into<String>) -> Self {
        CoreError::Invalid {
            what: what.into(),
            why: why.into(),
        }
    }
}
