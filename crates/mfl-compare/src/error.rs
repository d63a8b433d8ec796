//! Errors of the comparison.

use mfl_particles::ParticleError;
use mfl_pde::PdeError;
use thiserror::Error;

/// Everything that can stop a comparison.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum CompareError {
    /// The PDE run failed.
    #[error("pde: {0}")]
    Pde(#[from] PdeError),
    /// A particle run failed.
    #[error("particles: {0}")]
    Particles(#[from] ParticleError),
    /// `what` is invalid because of `why`.
    #[error("{what}: {why}")]
    Invalid {
        /// The offending input.
        what: String,
        /// Why it is invalid.
        why: String,
    },
}

impl CompareError {
    pub(crate) fn invalid(what: impl Into<String>, why: impl Into<String>) -> Self {
        CompareError::Invalid {
            what: what.into(),
            why: why.into(),
        }
    }
}
