//! # mfl-particles
//!
//! Noisy gradient descent on N neurons — mean-field Langevin dynamics for particles
//! (DESIGN.md §1):
//!
//! θ_i ← θ_i − η_k ∇_θΨ(θ_i; ρ_N) + √(2 T_k η_k) g_i,  g_i ~ N(0, I_D),  t_{k+1} = t_k + η_k,
//!
//! with ρ_N = (1/N) Σ_i δ_{θ_i}, Ψ(θ; ρ) = ½ E[∂_ŷℓ(y, f_ρ(x)) σ(x; θ)] + (λ/2)|θ|², step
//! sizes η_k = η ξ(t_k) ([`StepSchedule`]) and temperatures T_k = T(t_k) ([`Temperature`]).
//! ∇Ψ is computed by mfl-core's one kernel ([`mfl_core::MeanField`]) on the population or
//! full data set ([`Gradient::Exact`]) or on a fresh minibatch per step
//! ([`Gradient::Minibatch`], from a [`DataSampler`]). Axes are free, reflecting or periodic
//! ([`AxisBoundary`]), matching a grid's boundaries.
//!
//! **Reproducibility.** Every random number is drawn from a counter-based stream indexed by
//! (seed, particle, step) ([`rng`]), and every sum is taken by one thread in a fixed order, so
//! the same configuration and seed give the same bits for any number of threads.
//!
//! Nothing here knows about files, configurations or terminals; progress is reported through
//! an observer closure ([`Dynamics::run`], [`Dynamics::run_seeds`]).

#![warn(missing_docs)]

pub mod boundary;
pub mod ensemble;
pub mod error;
pub mod init;
pub mod martingale;
pub mod rng;
pub mod run;
pub mod sampler;
pub mod schedule;
pub mod system;

pub use boundary::AxisBoundary;
pub use ensemble::{Ensemble, SeedStats};
pub use error::ParticleError;
pub use init::Init;
pub use martingale::{Integrand, MartingaleTap};
pub use run::{
    EnsembleRecorder, MartingaleRun, OnRecord, Record, RecordSchedule, Recording, Trajectory,
};
pub use sampler::{DataSampler, Resample, TeacherSampler, TwoClassSampler};
pub use schedule::{StepSchedule, Temperature};
pub use system::{Dynamics, Gradient, ParticleSystem};
