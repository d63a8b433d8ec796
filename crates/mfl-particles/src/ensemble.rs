//! Many seeds of one [`Dynamics`] advanced together, record time by record time — the
//! [`TimeStepper`] of `mfl particles`, so that its observers (a file writer, a progress bar)
//! see every seed at each record time and can write it out before the run goes on.
//!
//! Each seed's system evolves exactly as alone ([`ParticleSystem`] under
//! [`mfl_core::drive::advance`]), so the trajectories, and their bits, do not depend on how
//! the seeds are grouped or on the number of threads. All S systems are held at once (memory
//! S·N·D·8 bytes times a few buffers).

use crate::error::ParticleError;
use crate::run::check_eval;
use crate::system::{Dynamics, ParticleSystem};
use mfl_core::drive::{advance, step_towards, TimeStepper};
use mfl_core::MeanField;
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};

/// R_N, E_N and the moments of one seed's particles at the current time.
#[derive(Debug, Clone, PartialEq)]
pub struct SeedStats {
    /// R_N(θ) = R(ρ_N) on the evaluation problem.
    pub risk: f64,
    /// ½ R(ρ_N) + (λ/2) (1/N) Σ_i |θ_i|².
    pub energy: f64,
    /// (1/N) Σ_i θ_i.
    pub mean: Vec<f64>,
    /// (1/N) Σ_i (θ_i − m)(θ_i − m)ᵀ, row-major D × D.
    pub cov: Vec<f64>,
}

impl SeedStats {
    /// The statistics of `sys` on `eval`.
    pub fn of(sys: &ParticleSystem<'_>, eval: &MeanField) -> Self {
        let mu = sys.measure();
        let risk = eval.risk(mu);
        SeedStats {
            risk,
            energy: 0.5 * risk + eval.regulariser(mu),
            mean: mu.mean(),
            cov: mu.covariance(),
        }
    }
}

/// One system per seed, all at the same time t; a step advances every seed to the requested
/// time exactly (in parallel over seeds) and refreshes their [`SeedStats`].
pub struct Ensemble<'a> {
    dynamics: &'a Dynamics,
    eval: &'a MeanField,
    systems: Vec<ParticleSystem<'a>>,
    stats: Vec<SeedStats>,
    t: f64,
    stop: Option<&'a AtomicBool>,
}

impl<'a> Ensemble<'a> {
    /// θ(0) of every seed; R_N evaluated on `eval` (same unit, loss and λ as the dynamics).
    pub fn new(
        dynamics: &'a Dynamics,
        eval: &'a MeanField,
        seeds: &[u64],
    ) -> Result<Self, ParticleError> {
        check_eval(dynamics, eval)?;
        if seeds.is_empty() {
            return Err(ParticleError::invalid("seeds", "need at least one seed"));
        }
        let systems = seeds
            .par_iter()
            .map(|&s| ParticleSystem::new(dynamics, s))
            .collect::<Result<Vec<_>, _>>()?;
        let mut e = Ensemble {
            dynamics,
            eval,
            systems,
            stats: Vec::new(),
            t: 0.0,
            stop: None,
        };
        e.refresh();
        Ok(e)
    }

    fn refresh(&mut self) {
        let eval = self.eval;
        self.stats = self
            .systems
            .par_iter()
            .map(|s| SeedStats::of(s, eval))
            .collect();
    }

    /// Stop at the next step of any seed once `flag` is raised: [`TimeStepper::step`] then
    /// fails with [`ParticleError::Interrupted`] at the time of the last completed step
    /// (a record time; the seeds' partial progress beyond it is abandoned).
    pub fn stop_on(&mut self, flag: &'a AtomicBool) {
        self.stop = Some(flag);
    }

    /// The dynamics every seed follows.
    pub fn dynamics(&self) -> &'a Dynamics {
        self.dynamics
    }

    /// The systems, in seed order.
    pub fn systems(&self) -> &[ParticleSystem<'a>] {
        &self.systems
    }

    /// Every seed's statistics at the current time, in seed order.
    pub fn stats(&self) -> &[SeedStats] {
        &self.stats
    }
}

impl TimeStepper for Ensemble<'_> {
    type Error = ParticleError;

    fn time(&self) -> f64 {
        self.t
    }

    /// Every seed to `until` exactly; the error of the first failing seed in seed order.
    fn step(&mut self, until: f64) -> Result<f64, ParticleError> {
        let (stop, t0) = (self.stop, self.t);
        let out: Vec<Result<u64, ParticleError>> = self
            .systems
            .par_iter_mut()
            .map(|s| match stop {
                None => advance(s, until),
                Some(flag) => {
                    let mut steps = 0;
                    while s.time() < until {
                        if flag.load(Ordering::SeqCst) {
                            return Err(ParticleError::Interrupted(t0));
                        }
                        step_towards(s, until)?;
                        steps += 1;
                    }
                    Ok(steps)
                }
            })
            .collect();
        for r in out {
            r?;
        }
        let dt = until - self.t;
        self.t = until;
        self.refresh();
        Ok(dt)
    }

    fn land(&mut self, t: f64) {
        self.t = t;
    }
}
