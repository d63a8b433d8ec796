//! Martingale integrals accumulated along a run: for deterministic vector fields G_q(t, θ),
//! q = 0..Q,
//!
//! M_q(t) = Σ_{k: t_k < t} (1/N) Σ_i G_q(t_k, θ_i^k) · ΔM_i^k,
//!
//! with ΔM_i^k the step's martingale increment: the Gaussian increment √(2 T_k η_k) g_i^k the
//! particle used, plus η_k (∇Ψ_ref − ∇Ψ_batch)(θ_i^k) when minibatch gradients are unbiased
//! for a reference data set (Σ of a uniform minibatch has the full data's sum as its mean).
//! Since G_q(t_k, θ_i^k) is known before step k and E[ΔM_i^k | past] = 0, E[M_q(t)] = 0
//! exactly, whatever G is — this is what makes the adjoint control variate of mfl-compare
//! unbiased. Sums are taken per chunk of particles and the chunks added in order, so the
//! value does not depend on the number of threads.

use mfl_core::MeanField;

/// Q deterministic vector fields G_q(t, θ) (θ ∈ R^D) whose martingale integrals are
/// accumulated during a run ([`crate::Dynamics::run_seeds_martingale`]).
pub trait Integrand: Sync {
    /// Number of fields Q.
    fn len(&self) -> usize;
    /// Whether there are no fields.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// out\[q\] += Σ_j G_q(t, θ_j) · ΔM_j for every q, over a chunk of particles: `theta` and
    /// `increments` hold one row of `dim` values per particle (θ_j the position *before* the
    /// step at t).
    fn add(&self, t: f64, dim: usize, theta: &[f64], increments: &[f64], out: &mut [f64]);
}

/// What a run accumulates: the fields, and the data set whose exact gradient is the
/// conditional mean of the minibatch gradient (None: only the Gaussian increments count,
/// which is exact for exact gradients and still unbiased for minibatches).
#[derive(Clone, Copy)]
pub struct MartingaleTap<'a> {
    /// The fields G_q.
    pub integrand: &'a dyn Integrand,
    /// With [`crate::Gradient::Minibatch`]: the problem whose ∇Ψ(·; ρ_N) is E[∇Ψ_batch] (a
    /// finite data set that the minibatches are drawn from uniformly). Ignored for exact
    /// gradients.
    pub reference: Option<&'a MeanField>,
}

impl std::fmt::Debug for MartingaleTap<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MartingaleTap")
            .field("fields", &self.integrand.len())
            .field("reference", &self.reference.is_some())
            .finish()
    }
}
