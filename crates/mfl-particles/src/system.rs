//! The particle system and one step of noisy gradient descent (mean-field Langevin dynamics):
//!
//! θ_i ← θ_i − η_k ∇_θΨ(θ_i; ρ_N) + √(2 T_k η_k) g_i,   g_i ~ N(0, I_D),   t_{k+1} = t_k + η_k,
//!
//! with ρ_N = (1/N) Σ_i δ_{θ_i}, η_k = η ξ(t_k) and T_k = T(t_k), followed by the boundary map of
//! every axis. ∇Ψ comes from mfl-core's one kernel: f_k = Σ_i (1/N) σ(x_k; θ_i)
//! ([`MeanField::network_into`]), r_k = ½ w_k ∂_ŷℓ(y_k, f_k) ([`MeanField::residual_into`]),
//! ∇Ψ(θ_i) = Σ_k r_k ∇_θσ(x_k; θ_i) + λθ_i ([`MeanField::potential_grad_of_residual_into`]).

use crate::boundary::AxisBoundary;
use crate::error::ParticleError;
use crate::init::Init;
use crate::martingale::MartingaleTap;
use crate::rng::{key, stream_rng, Stream, BATCH, BATCH_STREAM};
use crate::sampler::DataSampler;
use crate::schedule::{StepSchedule, Temperature};
use mfl_core::drive::TimeStepper;
use mfl_core::functional::ridge::Table;
use mfl_core::{MeanField, Measure};
use ndarray::{Array1, Array2, ArrayView2};
use rand::RngExt;
use rand_distr::StandardNormal;
use rayon::prelude::*;
use std::sync::Arc;

/// Particles per parallel task in the update (rayon costs ~10 µs a call; DESIGN.md §6).
const UPDATE_CHUNK: usize = 1024;

/// Which data the gradient ∇Ψ(·; ρ_N) is computed on.
#[derive(Debug, Clone)]
pub enum Gradient {
    /// The data of the problem's [`MeanField`]: a population quadrature (mean-field Langevin
    /// with the exact population gradient) or the full batch of a finite data set.
    Exact,
    /// A fresh minibatch of `batch` samples (weights 1/B) from `sampler` at every step
    /// (online / noisy SGD); the batch of step k is drawn from stream 2⁶³, slot k + 1.
    Minibatch {
        /// Minibatch size B ≥ 1.
        batch: usize,
        /// The law of (x, y) the batches are drawn from.
        sampler: Arc<dyn DataSampler>,
    },
}

/// The largest |θ| coordinate a particle may reach: a step taking one beyond it stops the run
/// with [`ParticleError::Diverged`] (the dynamics diverge; no trained neuron has such a
/// parameter), instead of running on to overflow with R_N ~ |θ|⁴.
pub const THETA_BOUND: f64 = 1e10;

/// Everything that defines a run except the seed: problem, N, step size and schedules,
/// gradient mode, boundaries and initial law.
#[derive(Debug, Clone)]
pub struct Dynamics {
    /// Unit, loss, ridge λ and (for [`Gradient::Exact`]) the training data — shared (one
    /// [`MeanField`] for the PDE, the particles and the evaluation of R_N).
    pub problem: Arc<MeanField>,
    /// Number of particles N ≥ 1.
    pub n: usize,
    /// Base step size η > 0.
    pub eta: f64,
    /// η_k = η ξ(t_k).
    pub step_schedule: StepSchedule,
    /// T_k = T(t_k).
    pub temperature: Temperature,
    /// Exact or minibatch gradient.
    pub gradient: Gradient,
    /// One per θ-axis, or empty for all [`AxisBoundary::Free`].
    pub boundaries: Vec<AxisBoundary>,
    /// How θ_i(0) are drawn.
    pub init: Init,
    /// Brownian refinement L ≥ 0: the noise of step k is the Brownian bridge refinement, L
    /// levels down, of the noise of step k >> L of the same seed — so a run with η/2^L and
    /// L halvings sees the *same* Brownian path as the run with η (common random numbers
    /// across step sizes; see [`ParticleSystem::step_with`]). 0 for a plain run.
    pub noise_halvings: u32,
}

impl Dynamics {
    /// Noiseless full-batch gradient descent with constant step η on free axes; refine with the
    /// `with_*` methods. Validated.
    pub fn new(
        problem: impl Into<Arc<MeanField>>,
        n: usize,
        eta: f64,
        init: Init,
    ) -> Result<Self, ParticleError> {
        let d = Dynamics {
            problem: problem.into(),
            n,
            eta,
            step_schedule: StepSchedule::Constant,
            temperature: Temperature::Constant(0.0),
            gradient: Gradient::Exact,
            boundaries: Vec::new(),
            init,
            noise_halvings: 0,
        };
        d.validate()?;
        Ok(d)
    }

    /// Set the temperature schedule T(t).
    pub fn with_temperature(mut self, t: Temperature) -> Result<Self, ParticleError> {
        self.temperature = t;
        self.validate()?;
        Ok(self)
    }

    /// Set the step-size schedule ξ(t).
    pub fn with_step_schedule(mut self, s: StepSchedule) -> Result<Self, ParticleError> {
        self.step_schedule = s;
        self.validate()?;
        Ok(self)
    }

    /// Set the gradient mode.
    pub fn with_gradient(mut self, g: Gradient) -> Result<Self, ParticleError> {
        self.gradient = g;
        self.validate()?;
        Ok(self)
    }

    /// The same dynamics with N particles (validated).
    pub fn with_n(mut self, n: usize) -> Result<Self, ParticleError> {
        self.n = n;
        self.validate()?;
        Ok(self)
    }

    /// The same dynamics with base step size η (validated).
    pub fn with_eta(mut self, eta: f64) -> Result<Self, ParticleError> {
        self.eta = eta;
        self.validate()?;
        Ok(self)
    }

    /// The same dynamics started from `init` (validated).
    pub fn with_init(mut self, init: Init) -> Result<Self, ParticleError> {
        self.init = init;
        self.validate()?;
        Ok(self)
    }

    /// Share the Brownian path of the run with step η·2^L (see [`Dynamics::noise_halvings`]).
    pub fn with_noise_halvings(mut self, levels: u32) -> Result<Self, ParticleError> {
        if levels > 32 {
            return Err(ParticleError::invalid(
                "noise_halvings",
                "at most 32 levels",
            ));
        }
        self.noise_halvings = levels;
        Ok(self)
    }

    /// Set the per-axis boundaries (length D, or empty for free axes).
    pub fn with_boundaries(mut self, b: Vec<AxisBoundary>) -> Result<Self, ParticleError> {
        self.boundaries = b;
        self.validate()?;
        Ok(self)
    }

    /// Parameter dimension D.
    pub fn dim(&self) -> usize {
        self.problem.theta_dim()
    }

    /// Check N ≥ 1, η > 0 finite, schedules, dimensions of init and boundaries against the
    /// unit's θ, and the minibatch against its sampler.
    pub fn validate(&self) -> Result<(), ParticleError> {
        if self.n == 0 {
            return Err(ParticleError::NoParticles);
        }
        if !(self.eta > 0.0 && self.eta.is_finite()) {
            return Err(ParticleError::BadStepSize(self.eta));
        }
        self.step_schedule.validate()?;
        self.temperature.validate()?;
        let dd = self.dim();
        if self.init.dim() != dd {
            return Err(ParticleError::DimensionMismatch {
                what: "init".into(),
                expected: dd,
                got: self.init.dim(),
            });
        }
        self.init.validate(self.n)?;
        if !self.boundaries.is_empty() && self.boundaries.len() != dd {
            return Err(ParticleError::DimensionMismatch {
                what: "boundaries".into(),
                expected: dd,
                got: self.boundaries.len(),
            });
        }
        for (a, b) in self.boundaries.iter().enumerate() {
            b.validate(a)?;
        }
        if let Gradient::Minibatch { batch, sampler } = &self.gradient {
            if *batch == 0 {
                return Err(ParticleError::invalid("batch", "must be at least 1"));
            }
            if let Some(n) = sampler.size() {
                if *batch > n {
                    return Err(ParticleError::BatchTooLarge { batch: *batch, n });
                }
            }
            if sampler.dim() != self.problem.unit.input_dim() {
                return Err(ParticleError::invalid(
                    "sampler",
                    format!(
                        "draws inputs of dimension {}, the unit takes {}",
                        sampler.dim(),
                        self.problem.unit.input_dim()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The boundaries, one per axis ([`AxisBoundary::Free`] when none were given).
    pub fn axis_boundaries(&self) -> Vec<AxisBoundary> {
        if self.boundaries.is_empty() {
            vec![AxisBoundary::Free; self.dim()]
        } else {
            self.boundaries.clone()
        }
    }

    /// η_k = η ξ(t).
    pub fn eta_at(&self, t: f64) -> f64 {
        self.eta * self.step_schedule.factor(t)
    }

    /// T(t).
    pub fn temperature_at(&self, t: f64) -> f64 {
        self.temperature.at(t)
    }

    /// A system of N particles drawn from the initial law with this seed.
    pub fn system(&self, seed: u64) -> Result<ParticleSystem<'_>, ParticleError> {
        ParticleSystem::new(self, seed)
    }
}

/// N particles θ (N × D, row i = θ_i) with weights 1/N at time t after `steps` steps, and the
/// preallocated buffers of the kernel.
#[derive(Debug)]
pub struct ParticleSystem<'a> {
    dynamics: &'a Dynamics,
    bounds: Vec<AxisBoundary>,
    seed: u64,
    key: [u8; 32],
    theta: Array2<f64>,
    weight: Array1<f64>,
    t: f64,
    steps: u64,
    f: Vec<f64>,
    r: Vec<f64>,
    psi: Vec<f64>,
    grad: Array2<f64>,
    table: Table,
    tap: Option<Tap<'a>>,
}

/// A martingale tap with its running sums and the buffers of the reference gradient.
#[derive(Debug)]
struct Tap<'a> {
    tap: MartingaleTap<'a>,
    sums: Vec<f64>,
    f: Vec<f64>,
    r: Vec<f64>,
    psi: Vec<f64>,
    grad: Array2<f64>,
}

impl<'a> ParticleSystem<'a> {
    /// θ_i(0) from the dynamics' [`Init`] with `seed` (particle i uses stream i, slot 0), t = 0.
    pub fn new(dynamics: &'a Dynamics, seed: u64) -> Result<Self, ParticleError> {
        dynamics.validate()?;
        let bounds = dynamics.axis_boundaries();
        let k = key(seed);
        let theta = dynamics.init.sample(&k, dynamics.n, &bounds)?;
        Self::assemble(dynamics, seed, theta)
    }

    /// A system at t = 0 with given positions (N × D, mapped into the domain); `seed` drives
    /// the noise and minibatches.
    pub fn from_positions(
        dynamics: &'a Dynamics,
        seed: u64,
        theta: Array2<f64>,
    ) -> Result<Self, ParticleError> {
        dynamics.validate()?;
        let init = Init::Positions(theta);
        if init.dim() != dynamics.dim() {
            return Err(ParticleError::DimensionMismatch {
                what: "positions".into(),
                expected: dynamics.dim(),
                got: init.dim(),
            });
        }
        let bounds = dynamics.axis_boundaries();
        let theta = init.sample(&key(seed), dynamics.n, &bounds)?;
        Self::assemble(dynamics, seed, theta)
    }

    fn assemble(
        dynamics: &'a Dynamics,
        seed: u64,
        theta: Array2<f64>,
    ) -> Result<Self, ParticleError> {
        let n = dynamics.n;
        let dd = dynamics.dim();
        let kk = match &dynamics.gradient {
            Gradient::Exact => dynamics.problem.data.len(),
            Gradient::Minibatch { batch, .. } => *batch,
        };
        Ok(ParticleSystem {
            dynamics,
            bounds: dynamics.axis_boundaries(),
            seed,
            key: key(seed),
            theta,
            weight: Array1::from_elem(n, 1.0 / n as f64),
            t: 0.0,
            steps: 0,
            f: vec![0.0; kk],
            r: vec![0.0; kk],
            psi: vec![0.0; n],
            grad: Array2::zeros((n, dd)),
            table: Table::default(),
            tap: None,
        })
    }

    /// Accumulate the martingale integrals M_q of `tap` from now on (see
    /// [`crate::martingale`]); they start at 0 and are read with
    /// [`ParticleSystem::martingale`]. The reference gradient is used only with minibatches.
    pub fn with_martingale(mut self, tap: MartingaleTap<'a>) -> Result<Self, ParticleError> {
        let reference = match (&self.dynamics.gradient, tap.reference) {
            (Gradient::Minibatch { .. }, Some(p)) => {
                if p.unit != self.dynamics.problem.unit || p.lambda != self.dynamics.problem.lambda
                {
                    return Err(ParticleError::invalid(
                        "martingale reference",
                        "must have the dynamics' unit and λ",
                    ));
                }
                Some(p)
            }
            _ => None,
        };
        let (n, dd) = (self.dynamics.n, self.dynamics.dim());
        let k = reference.map_or(0, |p| p.data.len());
        let m = if reference.is_some() { n } else { 0 };
        self.tap = Some(Tap {
            tap: MartingaleTap {
                integrand: tap.integrand,
                reference,
            },
            sums: vec![0.0; tap.integrand.len()],
            f: vec![0.0; k],
            r: vec![0.0; k],
            psi: vec![0.0; m],
            grad: Array2::zeros((m, dd)),
        });
        Ok(self)
    }

    /// The martingale integrals M_q(t) accumulated so far (empty without a tap).
    pub fn martingale(&self) -> &[f64] {
        self.tap.as_ref().map_or(&[], |t| &t.sums)
    }

    /// Positions θ (N × D).
    pub fn theta(&self) -> ArrayView2<'_, f64> {
        self.theta.view()
    }

    /// ρ_N = (1/N) Σ_i δ_{θ_i}.
    pub fn measure(&self) -> Measure<'_> {
        Measure::new(self.theta.view(), self.weight.view())
    }

    /// Time t_k = Σ_{j<k} η_j.
    pub fn time(&self) -> f64 {
        self.t
    }

    /// Number of steps taken, k.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The dynamics.
    pub fn dynamics(&self) -> &'a Dynamics {
        self.dynamics
    }

    /// The nominal next step size η_k = η ξ(t_k).
    pub fn eta_now(&self) -> f64 {
        self.dynamics.eta_at(self.t)
    }

    /// T_k = T(t_k).
    pub fn temperature_now(&self) -> f64 {
        self.dynamics.temperature_at(self.t)
    }

    /// ∇_θΨ(θ_i; ρ_N) of the last step (N × D), on that step's data.
    pub fn last_gradient(&self) -> ArrayView2<'_, f64> {
        self.grad.view()
    }

    /// One step with the scheduled η_k: see [`ParticleSystem::step_with`].
    pub fn step(&mut self) -> Result<(), ParticleError> {
        let eta = self.eta_now();
        self.step_with(eta)
    }

    /// One step of size h > 0:
    /// θ_i ← B(θ_i − h ∇_θΨ(θ_i; ρ_N) + √(2 T_k h) g_i), t ← t + h, with B the boundary map
    /// and g_i drawn from stream i, slot k + 1 (no draw when T_k = 0).
    /// Errors if a particle becomes non-finite (naming the step and time).
    pub fn step_with(&mut self, h: f64) -> Result<(), ParticleError> {
        if !(h > 0.0 && h.is_finite()) {
            return Err(ParticleError::BadStepSize(h));
        }
        let dynamics = self.dynamics;
        let temperature = self.temperature_now();
        let slot = self.steps + 1;
        // 1. ∇Ψ(θ_i; ρ_N) through the one kernel
        let batch_problem;
        let problem = match &dynamics.gradient {
            Gradient::Exact => &dynamics.problem,
            Gradient::Minibatch { batch, sampler } => {
                let mut rng = stream_rng(&self.key, BATCH_STREAM, slot);
                let data = sampler.sample(&mut rng, *batch)?;
                batch_problem = MeanField::new(
                    dynamics.problem.unit.clone(),
                    dynamics.problem.loss,
                    data,
                    dynamics.problem.lambda,
                )?;
                &batch_problem
            }
        };
        problem.self_gradient_into(
            Measure::new(self.theta.view(), self.weight.view()),
            &mut self.f,
            &mut self.r,
            &mut self.psi,
            self.grad.view_mut(),
            &mut self.table,
        );
        self.descend(problem, h, temperature, slot, true)
    }

    /// One step of the dynamics in a *given* field instead of the particles' own:
    /// θ_i ← B(θ_i − h ∇_θΨ_r(θ_i) + √(2 T_k h) g_i) with
    /// Ψ_r(θ) = Σ_k r_k σ(x_k; θ) + (λ/2)|θ|² for the residual `residual` = (r_k) on the
    /// problem's data — e.g. r_k = ½ w_k ∂_ŷℓ(y_k, f_ρ(x_k)) of the mean-field density ρ_t, which
    /// makes the particles independent samples of the McKean–Vlasov process (the N → ∞ limit)
    /// driven by the same noise g_i as [`ParticleSystem::step_with`] (synchronous coupling).
    /// Exact gradients only.
    pub fn step_in_field(&mut self, h: f64, residual: &[f64]) -> Result<(), ParticleError> {
        if !(h > 0.0 && h.is_finite()) {
            return Err(ParticleError::BadStepSize(h));
        }
        let dynamics = self.dynamics;
        if !matches!(dynamics.gradient, Gradient::Exact) || residual.len() != self.r.len() {
            return Err(ParticleError::invalid(
                "residual",
                format!(
                    "a given field needs exact gradients and one residual per data point ({}), got {}",
                    self.r.len(),
                    residual.len()
                ),
            ));
        }
        self.r.copy_from_slice(residual);
        let temperature = self.temperature_now();
        let slot = self.steps + 1;
        self.descend(&dynamics.problem, h, temperature, slot, false)
    }

    /// ∇Ψ from the residual in `self.r` (unless `have_gradient`: already in `self.grad`),
    /// then the Euler–Maruyama update with the noise of `slot`, the boundary map, the clock and
    /// the blow-up check.
    fn descend(
        &mut self,
        problem: &MeanField,
        h: f64,
        temperature: f64,
        slot: u64,
        have_gradient: bool,
    ) -> Result<(), ParticleError> {
        let dynamics = self.dynamics;
        if !have_gradient {
            problem.potential_grad_of_residual_into(
                &self.r,
                self.theta.view(),
                &mut self.psi,
                self.grad.view_mut(),
            );
        }
        // the reference gradient of a minibatch tap: E[∇Ψ_batch | θ] on the full data
        if let Some(tap) = self.tap.as_mut() {
            if let Some(p) = tap.tap.reference {
                p.network_into(
                    Measure::new(self.theta.view(), self.weight.view()),
                    &mut tap.f,
                );
                p.residual_into(&tap.f, &mut tap.r);
                p.potential_grad_of_residual_into(
                    &tap.r,
                    self.theta.view(),
                    &mut tap.psi,
                    tap.grad.view_mut(),
                );
            }
        }
        // 2. Euler–Maruyama update and boundary map, per particle (order-independent)
        let dd = dynamics.dim();
        let noise = (2.0 * temperature * h).sqrt();
        let levels = dynamics.noise_halvings;
        let key = &self.key;
        let bounds = &self.bounds;
        let t_now = self.t;
        let tap = self.tap.as_ref().map(|t| {
            (
                t.tap.integrand,
                t.tap
                    .reference
                    .map(|_| t.grad.as_slice().expect("standard layout")),
            )
        });
        let th = self.theta.as_slice_mut().expect("standard layout");
        let g = self.grad.as_slice().expect("standard layout");
        let partial: Vec<Option<Vec<f64>>> = th
            .par_chunks_mut(UPDATE_CHUNK * dd)
            .zip(g.par_chunks(UPDATE_CHUNK * dd))
            .enumerate()
            .map(|(c, (tc, gc))| {
                // streams for 8 particles at a time (the words of stream_rng(key, i, slot));
                // with Brownian halvings, the bridge construction of `brownian` instead
                let mut streams: Option<[Stream; BATCH]> = None;
                let mut gbuf = if levels > 0 || tap.is_some() {
                    vec![0.0f64; dd]
                } else {
                    Vec::new()
                };
                let cap = if tap.is_some() { tc.len() } else { 0 };
                let (mut old, mut inc) = (vec![0.0; cap], vec![0.0; cap]);
                for (j, (ti, gi)) in tc.chunks_exact_mut(dd).zip(gc.chunks_exact(dd)).enumerate() {
                    let row = j * dd..(j + 1) * dd;
                    if tap.is_some() {
                        old[row.clone()].copy_from_slice(ti);
                    }
                    for (t, gv) in ti.iter_mut().zip(gi) {
                        *t -= h * gv;
                    }
                    if temperature > 0.0 {
                        if levels > 0 {
                            let i = (c * UPDATE_CHUNK + j) as u64;
                            brownian(key, i, slot - 1, levels, &mut gbuf);
                        } else {
                            if j % BATCH == 0 {
                                let first = (c * UPDATE_CHUNK + j) as u64;
                                streams = Some(Stream::batch(key, first, slot));
                            }
                            let rng = &mut streams.as_mut().expect("batch drawn")[j % BATCH];
                            if tap.is_some() {
                                for gv in gbuf.iter_mut() {
                                    *gv = rng.sample::<f64, _>(StandardNormal);
                                }
                            } else {
                                for t in ti.iter_mut() {
                                    *t += noise * rng.sample::<f64, _>(StandardNormal);
                                }
                            }
                        }
                        if levels > 0 || tap.is_some() {
                            for (t, g) in ti.iter_mut().zip(&gbuf) {
                                *t += noise * g;
                            }
                        }
                    }
                    if let Some((_, reference)) = tap {
                        let incj = &mut inc[row];
                        for (a, iv) in incj.iter_mut().enumerate() {
                            *iv = if temperature > 0.0 {
                                noise * gbuf[a]
                            } else {
                                0.0
                            };
                        }
                        if let Some(gr) = reference {
                            let p = (c * UPDATE_CHUNK + j) * dd;
                            for (a, iv) in incj.iter_mut().enumerate() {
                                *iv += h * (gr[p + a] - gi[a]);
                            }
                        }
                    }
                    for (t, b) in ti.iter_mut().zip(bounds) {
                        *t = b.apply(*t);
                    }
                }
                tap.map(|(integrand, _)| {
                    let mut sums = vec![0.0; integrand.len()];
                    integrand.add(t_now, dd, &old, &inc, &mut sums);
                    sums
                })
            })
            .collect();
        if let Some(tap) = self.tap.as_mut() {
            let inv_n = 1.0 / dynamics.n as f64;
            for part in partial.iter().flatten() {
                for (s, v) in tap.sums.iter_mut().zip(part) {
                    *s += inv_n * v;
                }
            }
        }
        self.t += h;
        self.steps += 1;
        // 3. blow-up check (sequential: the first bad particle): non-finite, or a coordinate
        // beyond THETA_BOUND (a diverging run, long before it overflows)
        if let Some(p) = th.iter().position(|v| v.is_nan() || v.abs() > THETA_BOUND) {
            let (particle, value) = (p / dd.max(1), th[p]);
            return Err(if value.is_finite() {
                ParticleError::Diverged {
                    seed: self.seed,
                    particle,
                    value,
                    step: self.steps,
                    time: self.t,
                }
            } else {
                ParticleError::NonFinite {
                    seed: self.seed,
                    particle,
                    step: self.steps,
                    time: self.t,
                }
            });
        }
        Ok(())
    }

    /// Set the clock (used to land exactly on record times).
    pub(crate) fn set_time(&mut self, t: f64) {
        self.t = t;
    }

    /// The length of the next step towards `until`: η_k, or all of `until` − t when η_k
    /// reaches it (within 10⁻⁹ η_k), so that the clock lands on `until`.
    pub fn step_length(&self, until: f64) -> f64 {
        let eta = self.eta_now();
        let remaining = until - self.t;
        if eta >= remaining - 1e-9 * eta {
            remaining
        } else {
            eta
        }
    }
}

/// One step of length [`ParticleSystem::step_length`] ([`ParticleSystem::step_with`]).
impl TimeStepper for ParticleSystem<'_> {
    type Error = ParticleError;

    fn time(&self) -> f64 {
        self.t
    }

    fn step(&mut self, until: f64) -> Result<f64, ParticleError> {
        let h = self.step_length(until);
        self.step_with(h)?;
        Ok(h)
    }

    fn land(&mut self, t: f64) {
        self.t = t;
    }
}

/// First bridge stream: level l ≥ 1 of the Brownian refinement draws from stream
/// (l·2⁵⁶) | i for particle i (particle indices < 2⁵⁶; below [`BATCH_STREAM`] = 2⁶³).
const BRIDGE_STREAM_SHIFT: u32 = 56;

/// The standard normal vector g of step `k` (0-based) of particle `i` under `levels` Brownian
/// halvings, into `out`: level 0 is the draw of stream i, slot (k >> L) + 1; going down a level,
/// the two halves of a step with normals g get (g + z)/√2 and (g − z)/√2, z drawn from the
/// level's bridge stream at the parent's slot. The halves' increments √(h/2)·g_± sum to the
/// parent's √h·g, and g_± are independent N(0, 1): the same Brownian path, sampled finer.
fn brownian(key: &[u8; 32], i: u64, k: u64, levels: u32, out: &mut [f64]) {
    let mut rng = stream_rng(key, i, (k >> levels) + 1);
    for g in out.iter_mut() {
        *g = rng.sample::<f64, _>(StandardNormal);
    }
    for l in 1..=levels {
        let child = k >> (levels - l);
        let parent = child >> 1;
        let stream = ((l as u64) << BRIDGE_STREAM_SHIFT) | i;
        let mut z = stream_rng(key, stream, parent + 1);
        let sign = if child & 1 == 0 { 1.0 } else { -1.0 };
        for g in out.iter_mut() {
            let zz: f64 = z.sample(StandardNormal);
            *g = (*g + sign * zz) * std::f64::consts::FRAC_1_SQRT_2;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brownian_halves_sum_to_the_parent_increment() {
        let key = key(7);
        let (mut s, mut s2, mut cross, n) = (0.0, 0.0, 0.0, 4000u64);
        for i in [0u64, 5, 1 << 40] {
            for m in 0..n {
                let (mut p, mut a, mut b) = ([0.0; 3], [0.0; 3], [0.0; 3]);
                brownian(&key, i, m, 0, &mut p);
                brownian(&key, i, 2 * m, 1, &mut a);
                brownian(&key, i, 2 * m + 1, 1, &mut b);
                // √(h/2)(a + b) = √h p
                for c in 0..3 {
                    assert!(((a[c] + b[c]) * std::f64::consts::FRAC_1_SQRT_2 - p[c]).abs() < 1e-15);
                }
                // two levels: the four quarters sum to the parent too
                let mut q = [[0.0; 3]; 4];
                for (r, qr) in q.iter_mut().enumerate() {
                    brownian(&key, i, 4 * m + r as u64, 2, qr);
                }
                for c in 0..3 {
                    let sum: f64 = q.iter().map(|v| v[c]).sum();
                    assert!((0.5 * sum - p[c]).abs() < 1e-14);
                }
                s += a[0];
                s2 += a[0] * a[0];
                cross += a[0] * b[0];
            }
        }
        // the halves are N(0, 1) and uncorrelated: 12000 samples, 4σ bounds
        let n = 3.0 * n as f64;
        assert!((s / n).abs() < 4.0 / n.sqrt());
        assert!((s2 / n - 1.0).abs() < 4.0 * 2f64.sqrt() / n.sqrt());
        assert!((cross / n).abs() < 4.0 / n.sqrt());
        // level 0 is the plain stream draw of slot k + 1
        let mut g = [0.0; 2];
        brownian(&key, 3, 9, 0, &mut g);
        let mut rng = stream_rng(&key, 3, 10);
        assert_eq!(g[0], rng.sample::<f64, _>(StandardNormal));
        assert_eq!(g[1], rng.sample::<f64, _>(StandardNormal));
    }
}
