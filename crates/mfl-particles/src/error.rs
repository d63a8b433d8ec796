//! Errors of the particle dynamics: each names the quantity, step or time at fault.

use mfl_core::CoreError;
use thiserror::Error;

/// Everything that can go wrong when building or running a particle system.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ParticleError {
    /// N = 0.
    #[error("particles: the number of particles N must be at least 1, got 0")]
    NoParticles,
    /// η ≤ 0 or non-finite.
    #[error("eta: the step size must be finite and > 0, got {0}")]
    BadStepSize(f64),
    /// A minibatch larger than the finite data set it is drawn from (without replacement).
    #[error("batch: a minibatch of {batch} samples is larger than the data set of {n} points")]
    BatchTooLarge {
        /// Requested minibatch size B.
        batch: usize,
        /// Size n of the data set.
        n: usize,
    },
    /// θ of the wrong dimension for the unit (`what` names the source of θ).
    #[error("{what}: has dimension {got}, the unit's θ has dimension {expected}")]
    DimensionMismatch {
        /// Where θ came from.
        what: String,
        /// The unit's D.
        expected: usize,
        /// The dimension found.
        got: usize,
    },
    /// A particle became NaN or ±∞.
    #[error(
        "seed {seed}: particle {particle} became non-finite at step {step} (t = {time}); \
         reduce the step size eta"
    )]
    NonFinite {
        /// The run's seed.
        seed: u64,
        /// Index of the first non-finite particle.
        particle: usize,
        /// Number of the step that produced it (1-based: steps taken so far).
        step: u64,
        /// Time after that step.
        time: f64,
    },
    /// A particle coordinate left [−THETA_BOUND, THETA_BOUND] ([`crate::system::THETA_BOUND`]).
    #[error(
        "seed {seed}: particle {particle} diverged at step {step} (t = {time}): a coordinate \
         reached {value:e}, beyond the bound 1e10; reduce the step size eta"
    )]
    Diverged {
        /// The run's seed.
        seed: u64,
        /// Index of the first particle beyond the bound.
        particle: usize,
        /// The coordinate's value.
        value: f64,
        /// Number of the step that produced it.
        step: u64,
        /// Time after that step.
        time: f64,
    },
    /// A stop was requested ([`crate::Ensemble::stop_on`]): the run ended at the last time
    /// every seed had reached, `t`; the steps after it were abandoned.
    #[error("interrupted at t = {0}")]
    Interrupted(f64),
    /// Any other invalid argument: `what` is invalid because of `why`.
    #[error("{what}: {why}")]
    Invalid {
        /// The quantity at fault.
        what: String,
        /// Why.
        why: String,
    },
    /// An error of the numerical core (e.g. an invalid minibatch).
    #[error(transparent)]
    Core(#[from] CoreError),
}

impl ParticleError {
    /// Shorthand for [`ParticleError::Invalid`].
    pub fn invalid(what: impl Into<String>, why: impl Into<String>) -> Self {
        ParticleError::Invalid {
            what: what.into(),
            why: why.into(),
        }
    }
}
