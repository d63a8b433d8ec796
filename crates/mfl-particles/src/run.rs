//! Driving a system to a list of record times, for one seed or many in parallel.
//!
//! At each record time the run stores t, R_N(θ) = R(ρ_N) on the *evaluation* problem (the
//! population, even when training on minibatches), the energy E(ρ_N) = ½ R(ρ_N) + (λ/2)∫|θ|²dρ_N
//! ([`MeanField::energy`]'s formula), the mean and covariance of the particles and optionally
//! the positions. The step before a record time is shortened to land on it exactly.

use crate::error::ParticleError;
use crate::martingale::MartingaleTap;
use crate::system::{Dynamics, ParticleSystem};
use mfl_core::MeanField;
use ndarray::{Array2, Array3, ArrayView2};
use rayon::prelude::*;
use std::sync::Mutex;

/// When to record.
#[derive(Debug, Clone, PartialEq)]
pub enum RecordSchedule {
    /// At these times (strictly increasing, ≥ 0); the run ends at the last one.
    Times(Vec<f64>),
    /// At t = 0, Δt, 2Δt, … ≤ t_end, and at t_end; the run ends at t_end.
    Every {
        /// Record interval Δt > 0.
        dt: f64,
        /// Final time.
        t_end: f64,
    },
}

impl RecordSchedule {
    /// The record times, validated.
    pub fn times(&self) -> Result<Vec<f64>, ParticleError> {
        match self {
            RecordSchedule::Times(v) => {
                if v.is_empty() {
                    return Err(ParticleError::invalid("record.times", "no record times"));
                }
                if v.iter().any(|t| !(t.is_finite() && *t >= 0.0)) {
                    return Err(ParticleError::invalid(
                        "record.times",
                        "times must be finite and ≥ 0",
                    ));
                }
                if v.windows(2).any(|w| w[0] >= w[1]) {
                    return Err(ParticleError::invalid(
                        "record.times",
                        "times must be strictly increasing",
                    ));
                }
                Ok(v.clone())
            }
            &RecordSchedule::Every { dt, t_end } => {
                if !(dt > 0.0 && dt.is_finite()) {
                    return Err(ParticleError::invalid(
                        "record.every",
                        format!("must be finite and > 0, got {dt}"),
                    ));
                }
                if !(t_end >= 0.0 && t_end.is_finite()) {
                    return Err(ParticleError::invalid(
                        "t_end",
                        format!("must be finite and ≥ 0, got {t_end}"),
                    ));
                }
                let m = (t_end / dt + 1e-9).floor() as usize;
                let mut v: Vec<f64> = (0..=m).map(|j| j as f64 * dt).collect();
                let last = *v.last().expect("at least t = 0");
                if t_end - last > 1e-9 * dt {
                    v.push(t_end);
                } else if let Some(l) = v.last_mut() {
                    *l = t_end;
                }
                Ok(v)
            }
        }
    }
}

/// What a run records.
#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    /// The record times.
    pub schedule: RecordSchedule,
    /// Also store θ (N × D) at every record time.
    pub positions: bool,
}

impl Recording {
    /// Record at t = 0, Δt, …, t_end.
    pub fn every(dt: f64, t_end: f64) -> Self {
        Recording {
            schedule: RecordSchedule::Every { dt, t_end },
            positions: false,
        }
    }

    /// Record at the given times.
    pub fn at(times: Vec<f64>) -> Self {
        Recording {
            schedule: RecordSchedule::Times(times),
            positions: false,
        }
    }

    /// Also store the positions.
    pub fn with_positions(mut self) -> Self {
        self.positions = true;
        self
    }
}

/// One record, handed to the observer.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    /// Steps taken k.
    pub step: u64,
    /// t_k.
    pub time: f64,
    /// The nominal next step size η ξ(t_k).
    pub eta: f64,
    /// T(t_k).
    pub temperature: f64,
    /// R_N(θ) = R(ρ_N) on the evaluation problem.
    pub risk: f64,
    /// ½ R(ρ_N) + (λ/2) (1/N) Σ_i |θ_i|².
    pub energy: f64,
    /// (1/N) Σ_i θ_i.
    pub mean: &'a [f64],
    /// (1/N) Σ_i (θ_i − m)(θ_i − m)ᵀ, row-major D × D.
    pub cov: &'a [f64],
    /// θ (N × D).
    pub theta: ArrayView2<'a, f64>,
}

/// The time series of one seed (one entry per record time).
#[derive(Debug, Clone, PartialEq)]
pub struct Trajectory {
    /// The seed of the run.
    pub seed: u64,
    /// Steps taken k at each record.
    pub step: Vec<u64>,
    /// t_k at each record.
    pub time: Vec<f64>,
    /// T(t_k) at each record.
    pub temperature: Vec<f64>,
    /// R_N(θ(t)) on the evaluation problem.
    pub risk: Vec<f64>,
    /// E(ρ_N(t)) = ½ R_N + (λ/2) ∫|θ|² dρ_N.
    pub energy: Vec<f64>,
    /// records × D.
    pub mean: Array2<f64>,
    /// records × D × D.
    pub cov: Array3<f64>,
    /// records × N × D, if asked for.
    pub positions: Option<Array3<f64>>,
    /// θ at the end (N × D).
    pub final_theta: Array2<f64>,
}

impl Trajectory {
    /// Number of records.
    pub fn len(&self) -> usize {
        self.time.len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.time.is_empty()
    }
}

impl Trajectory {
    fn empty(seed: u64, r: usize, n: usize, dd: usize, positions: bool) -> Self {
        Trajectory {
            seed,
            step: Vec::with_capacity(r),
            time: Vec::with_capacity(r),
            temperature: Vec::with_capacity(r),
            risk: Vec::with_capacity(r),
            energy: Vec::with_capacity(r),
            mean: Array2::zeros((r, dd)),
            cov: Array3::zeros((r, dd, dd)),
            positions: positions.then(|| Array3::zeros((r, n, dd))),
            final_theta: Array2::zeros((0, dd)),
        }
    }

    /// Record `sys` as record j: R_N and E_N on `eval`, moments, positions if kept.
    /// Returns (risk, energy, mean, cov).
    fn push(
        &mut self,
        j: usize,
        sys: &ParticleSystem<'_>,
        eval: &MeanField,
    ) -> (f64, f64, Vec<f64>, Vec<f64>) {
        let mu = sys.measure();
        let risk = eval.risk(mu);
        let energy = 0.5 * risk + eval.regulariser(mu);
        let mean = mu.mean();
        let cov = mu.covariance();
        self.step.push(sys.steps());
        self.time.push(sys.time());
        self.temperature.push(sys.temperature_now());
        self.risk.push(risk);
        self.energy.push(energy);
        self.mean
            .row_mut(j)
            .iter_mut()
            .zip(&mean)
            .for_each(|(a, b)| *a = *b);
        self.cov
            .index_axis_mut(ndarray::Axis(0), j)
            .iter_mut()
            .zip(&cov)
            .for_each(|(a, b)| *a = *b);
        if let Some(p) = self.positions.as_mut() {
            p.index_axis_mut(ndarray::Axis(0), j).assign(&sys.theta());
        }
        (risk, energy, mean, cov)
    }
}

fn check_eval(dynamics: &Dynamics, eval: &MeanField) -> Result<(), ParticleError> {
    if eval.theta_dim() != dynamics.dim() {
        return Err(ParticleError::DimensionMismatch {
            what: "eval".into(),
            expected: dynamics.dim(),
            got: eval.theta_dim(),
        });
    }
    if eval.unit != dynamics.problem.unit
        || eval.loss != dynamics.problem.loss
        || eval.lambda != dynamics.problem.lambda
    {
        return Err(ParticleError::invalid(
            "eval",
            "the evaluation problem must have the training problem's unit, loss and λ",
        ));
    }
    Ok(())
}

impl Dynamics {
    /// Run one seed from t = 0 through the record times, calling `observer` at every record.
    /// The step before a record time τ is shortened to τ − t_k (or lengthened by at most
    /// 10⁻⁹ η_k when it nearly lands) and the clock is then set to τ exactly.
    pub fn run<O>(
        &self,
        eval: &MeanField,
        seed: u64,
        recording: &Recording,
        mut observer: O,
    ) -> Result<Trajectory, ParticleError>
    where
        O: FnMut(&Record),
    {
        check_eval(self, eval)?;
        let times = recording.schedule.times()?;
        let mut sys = ParticleSystem::new(self, seed)?;
        let mut traj =
            Trajectory::empty(seed, times.len(), self.n, self.dim(), recording.positions);
        for (j, &tau) in times.iter().enumerate() {
            advance_to(&mut sys, tau, |s, h| s.step_with(h))?;
            let (risk, energy, mean, cov) = traj.push(j, &sys, eval);
            observer(&Record {
                step: sys.steps(),
                time: sys.time(),
                eta: sys.eta_now(),
                temperature: sys.temperature_now(),
                risk,
                energy,
                mean: &mean,
                cov: &cov,
                theta: sys.theta(),
            });
        }
        traj.final_theta = sys.theta().to_owned();
        Ok(traj)
    }

    /// Run many seeds in parallel (rayon, nested with the kernel's own parallelism). Each
    /// trajectory depends on its seed only, so the result is the same for any number of
    /// threads; `observer(seed_index, record)` is called under a lock, in no fixed order across
    /// seeds. On failure, the error of the first failing seed in `seeds` order.
    pub fn run_seeds<O>(
        &self,
        eval: &MeanField,
        seeds: &[u64],
        recording: &Recording,
        observer: O,
    ) -> Result<Vec<Trajectory>, ParticleError>
    where
        O: FnMut(usize, &Record) + Send,
    {
        check_eval(self, eval)?;
        let obs = Mutex::new(observer);
        let out: Vec<Result<Trajectory, ParticleError>> = seeds
            .par_iter()
            .enumerate()
            .map(|(i, &s)| {
                self.run(eval, s, recording, |rec| {
                    let mut o = obs.lock().unwrap_or_else(|e| e.into_inner());
                    (*o)(i, rec)
                })
            })
            .collect();
        out.into_iter().collect()
    }
}

/// A trajectory and the martingale integrals M_q(t_j) at its record times (one vector of Q
/// values per record).
pub type MartingaleRun = (Trajectory, Vec<Vec<f64>>);

impl Dynamics {
    /// [`Dynamics::run`] with the martingale integrals of `tap` accumulated along the way
    /// ([`crate::martingale`]): returns the trajectory and, per record time, M_q(t_j) for
    /// every field q (steps before t_j only).
    pub fn run_martingale(
        &self,
        eval: &MeanField,
        seed: u64,
        recording: &Recording,
        tap: MartingaleTap<'_>,
    ) -> Result<MartingaleRun, ParticleError> {
        check_eval(self, eval)?;
        let times = recording.schedule.times()?;
        let mut sys = ParticleSystem::new(self, seed)?.with_martingale(tap)?;
        let mut traj =
            Trajectory::empty(seed, times.len(), self.n, self.dim(), recording.positions);
        let mut sums = Vec::with_capacity(times.len());
        for (j, &tau) in times.iter().enumerate() {
            advance_to(&mut sys, tau, |s, h| s.step_with(h))?;
            traj.push(j, &sys, eval);
            sums.push(sys.martingale().to_vec());
        }
        traj.final_theta = sys.theta().to_owned();
        Ok((traj, sums))
    }

    /// [`Dynamics::run_martingale`] for many seeds in parallel (bit-identical for any number
    /// of threads); `progress(seed_index)` is called under a lock when a seed finishes.
    pub fn run_seeds_martingale<P>(
        &self,
        eval: &MeanField,
        seeds: &[u64],
        recording: &Recording,
        tap: MartingaleTap<'_>,
        progress: P,
    ) -> Result<Vec<MartingaleRun>, ParticleError>
    where
        P: FnMut(usize) + Send,
    {
        let progress = Mutex::new(progress);
        let out: Vec<Result<MartingaleRun, ParticleError>> = seeds
            .par_iter()
            .enumerate()
            .map(|(i, &s)| {
                let r = self.run_martingale(eval, s, recording, tap);
                (*progress.lock().unwrap_or_else(|e| e.into_inner()))(i);
                r
            })
            .collect();
        out.into_iter().collect()
    }
}

/// The residual r(t) = (r_k) of a mean-field density ρ_t on the problem's data, at any t the
/// particle clock reaches: `field(t, &mut r)`.
pub type Field<'f> = dyn Fn(f64, &mut [f64]) + Sync + 'f;

impl Dynamics {
    /// Run one seed twice in lockstep, from the same θ_i(0) and with the same noise g_i
    /// (synchronous coupling): the interacting particles (as [`Dynamics::run`]) and independent
    /// McKean–Vlasov particles θ̄_i that feel the given mean-field residual instead of their own
    /// ([`ParticleSystem::step_in_field`] with `field(t_k)`). When `field` is the residual of
    /// the PDE's ρ_t, the θ̄_i(t) are i.i.d. with law ≈ ρ_t (up to the O(η) time-step error), so
    /// E R(ρ̄_N(t)) = R(ρ_t) + (1/N)(∫U(θ,θ)dρ_t − ∬U dρ_t dρ_t) is known (squared loss) and
    /// R(ρ̄_N(t)) is a control variate for R_N(θ(t)). Returns (interacting, independent).
    pub fn run_coupled(
        &self,
        eval: &MeanField,
        seed: u64,
        recording: &Recording,
        field: &Field<'_>,
    ) -> Result<(Trajectory, Trajectory), ParticleError> {
        check_eval(self, eval)?;
        let times = recording.schedule.times()?;
        let mut sys = ParticleSystem::new(self, seed)?;
        let mut bar = ParticleSystem::new(self, seed)?;
        let mut r = vec![0.0; self.problem.data.len()];
        let (n, dd, pos) = (self.n, self.dim(), recording.positions);
        let mut traj = Trajectory::empty(seed, times.len(), n, dd, pos);
        let mut traj_bar = Trajectory::empty(seed, times.len(), n, dd, pos);
        for (j, &tau) in times.iter().enumerate() {
            advance_to(&mut sys, tau, |s, h| {
                field(s.time(), &mut r);
                bar.step_in_field(h, &r)?;
                s.step_with(h)
            })?;
            bar.set_time(sys.time());
            traj.push(j, &sys, eval);
            traj_bar.push(j, &bar, eval);
        }
        traj.final_theta = sys.theta().to_owned();
        traj_bar.final_theta = bar.theta().to_owned();
        Ok((traj, traj_bar))
    }

    /// [`Dynamics::run_coupled`] for many seeds in parallel (bit-identical for any number of
    /// threads); `progress(seed_index)` is called under a lock when a seed finishes.
    pub fn run_seeds_coupled<P>(
        &self,
        eval: &MeanField,
        seeds: &[u64],
        recording: &Recording,
        field: &Field<'_>,
        progress: P,
    ) -> Result<Vec<(Trajectory, Trajectory)>, ParticleError>
    where
        P: FnMut(usize) + Send,
    {
        let progress = Mutex::new(progress);
        let out: Vec<Result<(Trajectory, Trajectory), ParticleError>> = seeds
            .par_iter()
            .enumerate()
            .map(|(i, &s)| {
                let r = self.run_coupled(eval, s, recording, field);
                (*progress.lock().unwrap_or_else(|e| e.into_inner()))(i);
                r
            })
            .collect();
        out.into_iter().collect()
    }
}

/// Step until t = τ (no step if already within 10⁻⁹ η of it) with `step(sys, h)`.
fn advance_to<'a>(
    sys: &mut ParticleSystem<'a>,
    tau: f64,
    mut step: impl FnMut(&mut ParticleSystem<'a>, f64) -> Result<(), ParticleError>,
) -> Result<(), ParticleError> {
    loop {
        let eta = sys.eta_now();
        let tol = 1e-9 * eta;
        let remaining = tau - sys.time();
        if remaining <= tol {
            return Ok(());
        }
        if eta >= remaining - tol {
            step(sys, remaining)?;
            sys.set_time(tau);
            return Ok(());
        }
        step(sys, eta)?;
    }
}
