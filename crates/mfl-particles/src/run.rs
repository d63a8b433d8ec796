//! Driving a system to a list of record times, for one seed or many in parallel.
//!
//! At each record time the run stores t, R_N(θ) = R(ρ_N) on the *evaluation* problem (the
//! population, even when training on minibatches), the energy E(ρ_N) = ½ R(ρ_N) + (λ/2)∫|θ|²dρ_N
//! ([`MeanField::energy`]'s formula), the mean and covariance of the particles and optionally
//! the positions. The step before a record time is shortened to land on it exactly.

use crate::ensemble::{Ensemble, SeedStats};
use crate::error::ParticleError;
use crate::martingale::MartingaleTap;
use crate::system::{Dynamics, ParticleSystem};
use mfl_core::drive::{drive, DriveError, Observer, Schedule, TimeStepper};
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
    pub(crate) fn empty(seed: u64, r: usize, n: usize, dd: usize, positions: bool) -> Self {
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
        let st = SeedStats::of(sys, eval);
        self.push_stats(j, sys, &st);
        (st.risk, st.energy, st.mean, st.cov)
    }

    /// Record `sys` as record j with its statistics already computed.
    fn push_stats(&mut self, j: usize, sys: &ParticleSystem<'_>, st: &SeedStats) {
        let SeedStats {
            risk,
            energy,
            mean,
            cov,
        } = st;
        let (risk, energy) = (*risk, *energy);
        self.step.push(sys.steps());
        self.time.push(sys.time());
        self.temperature.push(sys.temperature_now());
        self.risk.push(risk);
        self.energy.push(energy);
        self.mean
            .row_mut(j)
            .iter_mut()
            .zip(mean)
            .for_each(|(a, b)| *a = *b);
        self.cov
            .index_axis_mut(ndarray::Axis(0), j)
            .iter_mut()
            .zip(cov)
            .for_each(|(a, b)| *a = *b);
        if let Some(p) = self.positions.as_mut() {
            p.index_axis_mut(ndarray::Axis(0), j).assign(&sys.theta());
        }
    }
}

pub(crate) fn check_eval(dynamics: &Dynamics, eval: &MeanField) -> Result<(), ParticleError> {
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

/// The driver's schedule of a recording: record at its times, end at the last one.
fn schedule_of(recording: &Recording) -> Result<Schedule, ParticleError> {
    let times = recording.schedule.times()?;
    let t_end = *times.last().expect("validated: at least one time");
    Schedule::new(&times, t_end, None).map_err(|e| ParticleError::invalid("record.times", e))
}

fn drive_error(e: DriveError<ParticleError>) -> ParticleError {
    match e {
        DriveError::Step(e) => e,
        DriveError::Observer(m) => ParticleError::invalid("observer", m),
    }
}

/// Records one seed's [`Trajectory`] (and, with a tap, its martingale sums) at each record
/// time, and hands each [`Record`] to `observer`.
struct TrajectoryRecorder<'e, O> {
    traj: Trajectory,
    eval: &'e MeanField,
    sums: Option<Vec<Vec<f64>>>,
    observer: O,
}

impl<'a, O: FnMut(&Record)> Observer<ParticleSystem<'a>> for TrajectoryRecorder<'_, O> {
    fn record(&mut self, sys: &ParticleSystem<'a>) -> Result<(), String> {
        let j = self.traj.len();
        let (risk, energy, mean, cov) = self.traj.push(j, sys, self.eval);
        if let Some(s) = self.sums.as_mut() {
            s.push(sys.martingale().to_vec());
        }
        (self.observer)(&Record {
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
        Ok(())
    }

    fn finish(&mut self, sys: &ParticleSystem<'a>) -> Result<(), String> {
        self.traj.final_theta = sys.theta().to_owned();
        Ok(())
    }
}

impl Dynamics {
    /// Run one seed from t = 0 through the record times with [`drive`], calling `observer`
    /// at every record. The step before a record time τ is shortened to τ − t_k (or
    /// lengthened by at most 10⁻⁹ η_k when it nearly lands) and the clock is then set to τ
    /// exactly ([`ParticleSystem::step_length`]).
    pub fn run<O>(
        &self,
        eval: &MeanField,
        seed: u64,
        recording: &Recording,
        observer: O,
    ) -> Result<Trajectory, ParticleError>
    where
        O: FnMut(&Record),
    {
        check_eval(self, eval)?;
        let schedule = schedule_of(recording)?;
        let mut sys = ParticleSystem::new(self, seed)?;
        let mut rec = TrajectoryRecorder {
            traj: Trajectory::empty(
                seed,
                schedule.record_times().len(),
                self.n,
                self.dim(),
                recording.positions,
            ),
            eval,
            sums: None,
            observer,
        };
        drive(&mut sys, &schedule, &mut [&mut rec]).map_err(drive_error)?;
        Ok(rec.traj)
    }

    /// Run many seeds together ([`Ensemble`]: each advanced to every record time in parallel,
    /// with the kernel's own parallelism nested inside). Each trajectory depends on its seed
    /// only, so the result is the same for any number of threads; `observer(seed_index,
    /// record)` is called at each record time for every seed, in seed order. On failure, the
    /// error of the first failing seed in `seeds` order.
    pub fn run_seeds<O>(
        &self,
        eval: &MeanField,
        seeds: &[u64],
        recording: &Recording,
        mut observer: O,
    ) -> Result<Vec<Trajectory>, ParticleError>
    where
        O: FnMut(usize, &Record) + Send,
    {
        let schedule = schedule_of(recording)?;
        let mut ens = Ensemble::new(self, eval, seeds)?;
        let mut rec = EnsembleRecorder::new(&ens, schedule.record_times().len(), recording);
        let mut tap = |e: &Ensemble<'_>| {
            for (i, sys) in e.systems().iter().enumerate() {
                let st = &e.stats()[i];
                observer(
                    i,
                    &Record {
                        step: sys.steps(),
                        time: sys.time(),
                        eta: sys.eta_now(),
                        temperature: sys.temperature_now(),
                        risk: st.risk,
                        energy: st.energy,
                        mean: &st.mean,
                        cov: &st.cov,
                        theta: sys.theta(),
                    },
                );
            }
        };
        let mut cb = OnRecord(&mut tap);
        drive(&mut ens, &schedule, &mut [&mut rec, &mut cb]).map_err(drive_error)?;
        Ok(rec.trajectories)
    }
}

/// An observer that calls a closure at each record time.
pub struct OnRecord<F>(pub F);

impl<S, F: FnMut(&S)> Observer<S> for OnRecord<F> {
    fn record(&mut self, s: &S) -> Result<(), String> {
        (self.0)(s);
        Ok(())
    }
}

/// Collects every seed's [`Trajectory`] of an [`Ensemble`] run.
pub struct EnsembleRecorder {
    /// One per seed, in seed order.
    pub trajectories: Vec<Trajectory>,
}

impl EnsembleRecorder {
    /// Room for `records` records of every seed of `ens`.
    pub fn new(ens: &Ensemble<'_>, records: usize, recording: &Recording) -> Self {
        let d = ens.dynamics();
        EnsembleRecorder {
            trajectories: ens
                .systems()
                .iter()
                .map(|s| Trajectory::empty(s.seed(), records, d.n, d.dim(), recording.positions))
                .collect(),
        }
    }
}

impl Observer<Ensemble<'_>> for EnsembleRecorder {
    fn record(&mut self, e: &Ensemble<'_>) -> Result<(), String> {
        for ((traj, sys), st) in self.trajectories.iter_mut().zip(e.systems()).zip(e.stats()) {
            let j = traj.len();
            traj.push_stats(j, sys, st);
        }
        Ok(())
    }

    fn finish(&mut self, e: &Ensemble<'_>) -> Result<(), String> {
        for (traj, sys) in self.trajectories.iter_mut().zip(e.systems()) {
            traj.final_theta = sys.theta().to_owned();
        }
        Ok(())
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
        let schedule = schedule_of(recording)?;
        let r = schedule.record_times().len();
        let mut sys = ParticleSystem::new(self, seed)?.with_martingale(tap)?;
        let mut rec = TrajectoryRecorder {
            traj: Trajectory::empty(seed, r, self.n, self.dim(), recording.positions),
            eval,
            sums: Some(Vec::with_capacity(r)),
            observer: |_: &Record| {},
        };
        drive(&mut sys, &schedule, &mut [&mut rec]).map_err(drive_error)?;
        Ok((rec.traj, rec.sums.expect("kept")))
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

/// Interacting particles and independent McKean–Vlasov particles in lockstep (same θ_i(0),
/// same noise): one step of each per step, of the interacting system's length.
struct Coupled<'a, 'f> {
    sys: ParticleSystem<'a>,
    bar: ParticleSystem<'a>,
    field: &'f Field<'f>,
    r: Vec<f64>,
}

impl TimeStepper for Coupled<'_, '_> {
    type Error = ParticleError;

    fn time(&self) -> f64 {
        self.sys.time()
    }

    fn step(&mut self, until: f64) -> Result<f64, ParticleError> {
        let h = self.sys.step_length(until);
        (self.field)(self.sys.time(), &mut self.r);
        self.bar.step_in_field(h, &self.r)?;
        self.sys.step_with(h)?;
        Ok(h)
    }

    fn land(&mut self, t: f64) {
        self.sys.set_time(t);
        self.bar.set_time(t);
    }
}

/// Records both trajectories of a [`Coupled`] run.
struct CoupledRecorder<'e> {
    traj: Trajectory,
    bar: Trajectory,
    eval: &'e MeanField,
}

impl Observer<Coupled<'_, '_>> for CoupledRecorder<'_> {
    fn record(&mut self, c: &Coupled<'_, '_>) -> Result<(), String> {
        let j = self.traj.len();
        self.traj.push(j, &c.sys, self.eval);
        self.bar.push(j, &c.bar, self.eval);
        Ok(())
    }

    fn finish(&mut self, c: &Coupled<'_, '_>) -> Result<(), String> {
        self.traj.final_theta = c.sys.theta().to_owned();
        self.bar.final_theta = c.bar.theta().to_owned();
        Ok(())
    }
}

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
        let schedule = schedule_of(recording)?;
        let r = schedule.record_times().len();
        let (n, dd, pos) = (self.n, self.dim(), recording.positions);
        let mut c = Coupled {
            sys: ParticleSystem::new(self, seed)?,
            bar: ParticleSystem::new(self, seed)?,
            field,
            r: vec![0.0; self.problem.data.len()],
        };
        let mut rec = CoupledRecorder {
            traj: Trajectory::empty(seed, r, n, dd, pos),
            bar: Trajectory::empty(seed, r, n, dd, pos),
            eval,
        };
        drive(&mut c, &schedule, &mut [&mut rec]).map_err(drive_error)?;
        Ok((rec.traj, rec.bar))
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
