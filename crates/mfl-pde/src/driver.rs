//! The time loop: a data-only [`FvProblem`], a [`StepperChoice`], and [`Observer`]s that see
//! the run on a schedule (DESIGN.md §7).

use crate::diagnostics::{diagnose_into, Diagnostics};
use crate::error::PdeError;
use crate::mprk::{Mprk22, StepControl};
use crate::potential::PotentialField;
use crate::spectral::{PositivityFilter, SpectralEtdrk4};
use crate::stepper::{ExplicitSsprk3, ImplicitSg, Stepper};
use mfl_core::drive::{self, drive, DriveError, Schedule, TimeStepper};
use mfl_core::Grid;
use std::sync::Arc;

/// ∂_t ρ = ∇·(ρ∇Ψ(θ; ρ)) + TΔρ on `grid`, with Ψ given by `field` (shared: cloning the problem
/// does not copy the field).
#[derive(Clone)]
pub struct FvProblem {
    /// The grid: cells, spacings, per-axis boundaries.
    pub grid: Grid,
    /// Temperature T ≥ 0.
    pub temperature: f64,
    /// Ψ(·; ρ) on the cells.
    pub field: Arc<dyn PotentialField>,
}

impl FvProblem {
    /// A validated problem: T ≥ 0 finite and the field's dimension equals the grid's.
    pub fn new(
        grid: Grid,
        temperature: f64,
        field: Box<dyn PotentialField>,
    ) -> Result<Self, PdeError> {
        if !(temperature >= 0.0 && temperature.is_finite()) {
            return Err(PdeError::invalid(
                "temperature",
                format!("must be ≥ 0, got {temperature}"),
            ));
        }
        if field.dim() != grid.dim() {
            return Err(PdeError::invalid(
                "grid",
                format!(
                    "the potential lives in dimension {}, the grid has {} axes",
                    field.dim(),
                    grid.dim()
                ),
            ));
        }
        Ok(FvProblem {
            grid,
            temperature,
            field: field.into(),
        })
    }
}

/// Which time stepper to run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StepperChoice {
    /// [`ExplicitSsprk3`] with dt = cfl / (max outflow rate), 0 < cfl ≤ 1.
    Explicit {
        /// Fraction of the forward-Euler positivity limit, in (0, 1].
        cfl: f64,
    },
    /// [`ImplicitSg`] with the fixed step dt.
    Implicit {
        /// The fixed time step (the last one is shortened to hit output times).
        dt: f64,
    },
    /// [`Mprk22`]: second order, positive and conservative for every dt, fixed steps or
    /// error-controlled ones.
    Mprk22 {
        /// Fixed dt or tolerances.
        control: StepControl,
    },
    /// [`SpectralEtdrk4`] (fully periodic grids only): Fourier pseudo-spectral, ETDRK4.
    Spectral {
        /// The fixed step, or None for dt = cfl·2.8/(Σ_a k_max,a max|∂_aΨ|) each step.
        dt: Option<f64>,
        /// Fraction of the RK4 stability bound for the adaptive step, in (0, 1].
        cfl: f64,
        /// What to do about negative values.
        filter: PositivityFilter,
    },
}

impl StepperChoice {
    /// The stepper of this choice for `grid` at temperature T.
    pub fn build(&self, grid: &Grid, temperature: f64) -> Result<Box<dyn Stepper>, PdeError> {
        Ok(match *self {
            StepperChoice::Explicit { cfl } => {
                Box::new(ExplicitSsprk3::new(grid, temperature, cfl)?)
            }
            StepperChoice::Implicit { dt } => Box::new(ImplicitSg::new(grid, temperature, dt)?),
            StepperChoice::Mprk22 { control } => Box::new(Mprk22::new(grid, temperature, control)?),
            StepperChoice::Spectral { dt, cfl, filter } => {
                Box::new(SpectralEtdrk4::new(grid, temperature, dt, cfl, filter)?)
            }
        })
    }
}

/// The step the run's stepper takes first: one step of `opts.stepper` from `rho0` towards the
/// first output time after 0 (or t_end) on a copy of ρ₀ — exactly the run's first step (what
/// `mfl check` reports). Returns 0 when t_end = 0.
pub fn first_step(problem: &FvProblem, rho0: &[f64], opts: &RunOptions) -> Result<f64, PdeError> {
    let target = opts
        .snapshot_times
        .iter()
        .copied()
        .filter(|&s| s > 0.0)
        .fold(opts.t_end, f64::min);
    if target <= 0.0 || target.is_nan() {
        return Ok(0.0);
    }
    let mut stepper = opts.stepper.build(&problem.grid, problem.temperature)?;
    let mut rho = rho0.to_vec();
    stepper.step(problem.field.as_ref(), &mut rho, target)
}

/// Options of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOptions {
    /// Final time (the run starts at t = 0).
    pub t_end: f64,
    /// The time stepper.
    pub stepper: StepperChoice,
    /// Times in [0, t_end] at which [`Observer::snapshot`] sees ρ; steps are shortened to hit
    /// them exactly.
    pub snapshot_times: Vec<f64>,
    /// Diagnostics are taken at t = 0, after the first step reaching each multiple of this
    /// interval (steps are not shortened for them), and at t_end. 0 means every step.
    pub diagnostics_every: f64,
    /// A step shorter than this (other than one shortened to hit an output time) is a blow-up.
    /// A step ending within 1e-9·dt of an output time is taken to end exactly on it.
    pub dt_min: f64,
}

/// Sees a run: all methods default to doing nothing; an `Err` aborts the run with
/// [`PdeError::Observer`].
pub trait Observer {
    /// Called once before the first step with the initial density.
    fn start(&mut self, _grid: &Grid, _rho0: &[f64]) -> Result<(), String> {
        Ok(())
    }
    /// Called at t = 0, on the diagnostics schedule and at t_end.
    fn diagnostics(&mut self, _d: &Diagnostics) -> Result<(), String> {
        Ok(())
    }
    /// Called at each requested snapshot time with ρ(t).
    fn snapshot(&mut self, _t: f64, _rho: &[f64]) -> Result<(), String> {
        Ok(())
    }
    /// Called after every step (after its snapshot and diagnostics) with the time reached and
    /// the steps taken; an `Err` stops the run there (e.g. a stop request).
    fn after_step(&mut self, _t: f64, _steps: u64) -> Result<(), String> {
        Ok(())
    }
    /// Called once after the last step with the final diagnostics and density.
    fn finish(&mut self, _last: &Diagnostics, _rho: &[f64]) -> Result<(), String> {
        Ok(())
    }
}

/// An observer that does nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoObserver;

impl Observer for NoObserver {}

/// An observer that keeps everything in memory (for tests and library users).
#[derive(Debug, Clone, Default)]
pub struct Recorder {
    /// Every diagnostics record, in time order.
    pub diagnostics: Vec<Diagnostics>,
    /// Every snapshot (t, ρ(t)), in time order.
    pub snapshots: Vec<(f64, Vec<f64>)>,
    /// Whether [`Observer::finish`] was called.
    pub finished: bool,
}

impl Observer for Recorder {
    fn diagnostics(&mut self, d: &Diagnostics) -> Result<(), String> {
        self.diagnostics.push(d.clone());
        Ok(())
    }
    fn snapshot(&mut self, t: f64, rho: &[f64]) -> Result<(), String> {
        self.snapshots.push((t, rho.to_vec()));
        Ok(())
    }
    fn finish(&mut self, _last: &Diagnostics, _rho: &[f64]) -> Result<(), String> {
        self.finished = true;
        Ok(())
    }
}

/// A grid density ρ(t) under a scheme: the state [`drive()`] advances for a PDE run. Each step is
/// checked: [`PdeError::BlowUp`] on a NaN/∞, a relative mass change |Σρ|cell| − m₀|/m₀ > 1e-8,
/// a density below −1e-14·max ρ (not for the spectral scheme without its positivity filter,
/// whose min ρ is recorded instead), or a step below `dt_min` (other than one shortened to hit
/// an output time).
pub struct FvRun<'p> {
    problem: &'p FvProblem,
    stepper: Box<dyn Stepper>,
    rho: Vec<f64>,
    t: f64,
    steps: u64,
    last_dt: f64,
    mass0: f64,
    dt_min: f64,
    allows_negative: bool,
    /// Ψ(·; ρ) at the current ρ when the diagnostics computed it (handed to the next step).
    psi: std::cell::RefCell<Option<Vec<f64>>>,
    /// F(ρ(t)) when the stepper promises decay ([`Stepper::decreases_free_energy`]): each step
    /// must not raise it by more than [`FREE_ENERGY_RISE_TOL`]·(1 + |F|).
    free_energy: Option<f64>,
}

/// The relative rise of the discrete free energy over one step of a scheme that promises
/// decay ([`Stepper::decreases_free_energy`]) beyond which the run stops: far above round-off
/// (~1e-15), far below any rise of a too-long step (the dt = 100 raised F by 3.5).
pub const FREE_ENERGY_RISE_TOL: f64 = 1e-9;

impl<'p> FvRun<'p> {
    /// ρ(0) = `rho0` (finite, ≥ 0, positive mass) under `stepper` on `problem`.
    pub fn new(
        problem: &'p FvProblem,
        stepper: Box<dyn Stepper>,
        rho0: Vec<f64>,
        dt_min: f64,
    ) -> Result<Self, PdeError> {
        let grid = &problem.grid;
        if rho0.len() != grid.len() {
            return Err(PdeError::invalid(
                "initial density",
                format!("{} values for {} cells", rho0.len(), grid.len()),
            ));
        }
        if dt_min.is_nan() || dt_min < 0.0 {
            return Err(PdeError::invalid("dt_min", "must be ≥ 0"));
        }
        let mass0 = rho0.iter().sum::<f64>() * grid.cell_volume();
        if !(mass0 > 0.0 && mass0.is_finite()) || rho0.iter().any(|v| !(*v >= 0.0 && v.is_finite()))
        {
            return Err(PdeError::BlowUp {
                step: 0,
                t: 0.0,
                what: "initial density must be finite, ≥ 0, with positive mass".into(),
            });
        }
        let free_energy = stepper
            .decreases_free_energy()
            .then(|| free_energy(problem, &rho0));
        Ok(FvRun {
            problem,
            free_energy,
            allows_negative: stepper.allows_negative(),
            stepper,
            rho: rho0,
            t: 0.0,
            steps: 0,
            last_dt: 0.0,
            mass0,
            dt_min,
            psi: std::cell::RefCell::new(None),
        })
    }

    /// ρ(t) on the cells.
    pub fn density(&self) -> &[f64] {
        &self.rho
    }

    /// The density, consumed.
    pub fn into_density(self) -> Vec<f64> {
        self.rho
    }

    /// The problem being solved.
    pub fn problem(&self) -> &FvProblem {
        self.problem
    }

    /// Steps taken.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// The last step's length (0 before the first).
    pub fn last_dt(&self) -> f64 {
        self.last_dt
    }

    /// R, F, entropy, mass, moments, dissipation, Gibbs residual of ρ(t).
    /// (Ψ(·; ρ) is kept for the next step, which then does not evaluate it again.)
    pub fn diagnose(&self) -> Diagnostics {
        let p = self.problem;
        let mut psi = vec![0.0; self.rho.len()];
        let d = diagnose_into(
            &p.grid,
            p.field.as_ref(),
            &self.rho,
            p.temperature,
            self.t,
            self.last_dt,
            self.steps,
            &mut psi,
        );
        *self.psi.borrow_mut() = Some(psi);
        d
    }

    fn blow(&self, what: String) -> PdeError {
        PdeError::BlowUp {
            step: self.steps,
            t: self.t,
            what,
        }
    }
}

impl TimeStepper for FvRun<'_> {
    type Error = PdeError;

    fn time(&self) -> f64 {
        self.t
    }

    fn step(&mut self, until: f64) -> Result<f64, PdeError> {
        let field = self.problem.field.as_ref();
        let (t, step) = (self.t, self.steps);
        let dt_max = until - t;
        let psi = self.psi.get_mut().take();
        let dt = self
            .stepper
            .step_from(field, &mut self.rho, dt_max, psi.as_deref())
            .map_err(|e| match e {
                PdeError::Invalid { what, why } => PdeError::BlowUp {
                    step: step + 1,
                    t,
                    what: format!("{what}: {why}"),
                },
                other => other,
            })?;
        self.steps += 1;
        self.last_dt = dt;
        let clipped = dt >= dt_max - 1e-9 * dt;
        self.t = if clipped { until } else { t + dt };
        let (mut sum, mut min, mut max, mut finite) = (0.0, f64::INFINITY, 0.0f64, true);
        for &v in &self.rho {
            finite &= v.is_finite();
            sum += v;
            min = min.min(v);
            max = max.max(v);
        }
        if !finite {
            return Err(self.blow("density is not finite (NaN or ∞)".into()));
        }
        let mass = sum * self.problem.grid.cell_volume();
        if ((mass - self.mass0) / self.mass0).abs() > 1e-8 {
            return Err(self.blow(format!(
                "mass changed from {} to {mass} (relative limit 1e-8)",
                self.mass0
            )));
        }
        if min < -1e-14 * max && !self.allows_negative {
            return Err(self.blow(format!("negative density {min}")));
        }
        if let Some(f0) = self.free_energy {
            // Ψ(ρ⁺) comes with E(ρ⁺) in one network pass and is the next step's first Ψ
            let mut buf = psi.unwrap_or_else(|| vec![0.0; self.rho.len()]);
            let e = self.problem.field.potential_energy(&self.rho, &mut buf);
            let vol = self.problem.grid.cell_volume();
            let f1 = e.energy
                + self.problem.temperature * mfl_core::functional::neg_entropy(&self.rho, vol);
            *self.psi.get_mut() = Some(buf);
            if f1.is_nan() || f1 - f0 > FREE_ENERGY_RISE_TOL * (1.0 + f0.abs()) {
                return Err(self.blow(format!(
                    "the free energy rose from {f0} to {f1} over a step of dt = {dt} (the \
                     linearly implicit step decreases F only when dt is small against the \
                     interaction's time scale): reduce solver.dt"
                )));
            }
            self.free_energy = Some(f1);
        }
        if dt < self.dt_min && !clipped {
            return Err(self.blow(format!(
                "time step {dt} fell below dt_min = {}",
                self.dt_min
            )));
        }
        Ok(dt)
    }

    fn land(&mut self, t: f64) {
        self.t = t;
    }
}

/// F(ρ) = E(ρ) + T ∫ρ log ρ on the problem's grid.
fn free_energy(problem: &FvProblem, rho: &[f64]) -> f64 {
    let vol = problem.grid.cell_volume();
    problem.field.energy(rho).energy
        + problem.temperature * mfl_core::functional::neg_entropy(rho, vol)
}

/// A PDE [`Observer`] seen through the generic driver: snapshots at the record times,
/// diagnostics on their schedule (computed once per time and shared), `finish` with the last.
struct Adapter<'o> {
    observer: &'o mut dyn Observer,
    last: Option<Diagnostics>,
}

impl drive::Observer<FvRun<'_>> for Adapter<'_> {
    fn start(&mut self, s: &FvRun<'_>) -> Result<(), String> {
        self.observer.start(&s.problem.grid, &s.rho)
    }
    fn record(&mut self, s: &FvRun<'_>) -> Result<(), String> {
        self.observer.snapshot(s.t, &s.rho)
    }
    fn diagnostics(&mut self, s: &FvRun<'_>) -> Result<(), String> {
        let d = s.diagnose();
        self.observer.diagnostics(&d)?;
        self.last = Some(d);
        Ok(())
    }
    fn after_step(&mut self, s: &FvRun<'_>) -> Result<(), String> {
        self.observer.after_step(s.t, s.steps)
    }
    fn finish(&mut self, s: &FvRun<'_>) -> Result<(), String> {
        let last = self.last.take().unwrap_or_else(|| s.diagnose());
        self.observer.finish(&last, &s.rho)
    }
}

/// Integrate from ρ(0) = `rho0` to `opts.t_end` with [`drive()`] and return ρ(t_end).
///
/// Snapshots land exactly on `opts.snapshot_times`; diagnostics are taken at t = 0, after the
/// first step reaching each multiple of `opts.diagnostics_every` and at t_end. Every step is
/// checked as [`FvRun`] describes.
pub fn solve(
    problem: &FvProblem,
    rho0: Vec<f64>,
    opts: &RunOptions,
    observer: &mut dyn Observer,
) -> Result<Vec<f64>, PdeError> {
    if !(opts.t_end >= 0.0 && opts.t_end.is_finite()) {
        return Err(PdeError::invalid("t_end", "must be finite and ≥ 0"));
    }
    if opts.diagnostics_every.is_nan() || opts.diagnostics_every < 0.0 {
        return Err(PdeError::invalid("diagnostics_every", "must be ≥ 0"));
    }
    if let Some(bad) = opts
        .snapshot_times
        .iter()
        .find(|&&s| !(s >= 0.0 && s <= opts.t_end))
    {
        return Err(PdeError::invalid(
            "snapshot_times",
            format!("{bad} is outside [0, t_end = {}]", opts.t_end),
        ));
    }
    let schedule = Schedule::new(
        &opts.snapshot_times,
        opts.t_end,
        Some(opts.diagnostics_every),
    )
    .map_err(|e| PdeError::invalid("schedule", e))?;
    if rho0.len() != problem.grid.len() {
        return Err(PdeError::invalid(
            "initial density",
            format!("{} values for {} cells", rho0.len(), problem.grid.len()),
        ));
    }
    let stepper = opts.stepper.build(&problem.grid, problem.temperature)?;
    let mut run = FvRun::new(problem, stepper, rho0, opts.dt_min)?;
    let mut adapter = Adapter {
        observer,
        last: None,
    };
    drive(&mut run, &schedule, &mut [&mut adapter]).map_err(|e| match e {
        DriveError::Step(e) => e,
        DriveError::Observer(m) => PdeError::Observer(m),
    })?;
    Ok(run.into_density())
}
