//! Errors of the PDE solvers.

use mfl_core::CoreError;
use thiserror::Error;

/// Everything that can stop a PDE run.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum PdeError {
    /// The numerical solution became invalid (NaN/inf, mass drift, negative density, or a
    /// time step below the floor) at time step `step` and time `t`.
    #[error("numerical blow-up at step {step}, t = {t}: {what}")]
    BlowUp {
        /// Number of the step that failed (1-based).
        step: u64,
        /// Time reached by that step.
        t: f64,
        /// What went wrong.
        what: String,
    },
    /// An observer asked to abort the run.
    #[error("observer failed: {0}")]
    Observer(String),
    /// `what` is invalid because of `why`.
    #[error("{what}: {why}")]
    Invalid {
        /// The offending option or quantity.
        what: String,
        /// Why it is invalid.
        why: String,
    },
    /// An error from the core (grid, law, problem construction).
    #[error(transparent)]
    Core(#[from] CoreError),
}

impl PdeError {
    /// Shorthand for [`PdeError::Invalid`].
    pub fn invalid(what: impl Into<String>, why: impl Into<String>) -> Self {
        PdeError::Invalid {
            what: what.into(),
            why: why.into(),
        }
    }
}
