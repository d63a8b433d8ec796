//! # mfl-compare
//!
//! Comparing finite networks with their mean-field limit (DESIGN.md §1–§2):
//!
//! * [`stats`] — means, standard errors, Student-t quantiles, weighted slope fits of
//!   log|gap| on log N and the fixed-slope fit gap = C/N;
//! * [`sweep`] — the N-sweep: one PDE run, particles for every N and seed (common random
//!   numbers), gap(N, t) of the risk and the energy, with an exact control variate at t = 0;
//!   per-seed records reduced in a fixed order, so a sweep split into shards
//!   ([`sweep::shard`]) merges into the same bits;
//! * [`adjoint`] — the adjoint (linear-response) control variate, exactly zero mean;
//! * [`coupled`] — the coupled (McKean–Vlasov) control variate for t > 0;
//! * [`discrete`] — the N = ∞ limit of the discrete-time (step η) particle scheme in 1D, for
//!   the time-step bias R_{∞,η}(t) − R(ρ_t);
//! * [`budget`] — the error budget: PDE grid error (Richardson) and time-step bias against the
//!   gap at the largest N;
//! * [`equilibrium`] — time-averaged gaps of R and E against the stationary density (T > 0);
//! * [`distance`] — exact W1 in 1D and sliced W1 in 2D between particles and a grid density.
//!
//! Nothing here knows about files, configurations or terminals.

#![warn(missing_docs)]
// `!(x > 0.0)` is deliberate throughout: it rejects NaN along with the out-of-range values.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

pub mod adjoint;
pub mod budget;
pub mod coupled;
pub mod discrete;
pub mod distance;
pub mod equilibrium;
pub mod error;
pub mod stats;
pub mod sweep;

pub use adjoint::{Adjoint, DensityPath, Functional};
pub use budget::{
    error_budget, exact_step_bias, half_step_records, pde_richardson, time_step_bias,
    time_step_bias_of, BudgetRow, HalfStepRecord, PdeErrorEstimate, StepBias, MIN_SEEDS,
};
pub use coupled::{fluctuation, grid_fluctuation, CoupledCv, ResidualPath};
pub use discrete::{euler_maruyama_law, euler_maruyama_limit, DiscreteLaw, DiscreteLimit};
pub use distance::{sliced_w1_2d, w1_1d, w1_discrete};
pub use equilibrium::Equilibrium;
pub use error::CompareError;
pub use stats::{
    fit_inverse_n, mean, model_se, sample_std, slope_fit, slope_fit_weighted, std_error,
    t_quantile, SlopeFit, Summary,
};
pub use sweep::{
    adjoint_nodes, gap_sweep, gap_sweep_with, jackknife_slope_fit, pde_risk_at, pde_trace,
    AdjointCv, AdjointPart, Control, ControlVariate, GapRow, GapTable, PdeTrace, PreparedSweep,
    SeedRecord, Sweep, SweepOptions, ADJOINT_MEMORY,
};
