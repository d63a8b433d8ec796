//! The time loop: a data-only [`FvProblem`], a [`StepperChoice`], and [`Observer`]s that see
//! the run on a schedule (DESIGN.md §7).

use crate::diagnostics::{diagnose, Diagnostics};
use crate::error::PdeError;
use crate::potential::PotentialField;
use crate::spectral::{PositivityFilter, SpectralEtdrk4};
use crate::stepper::{ExplicitSsprk3, ImplicitSg, Stepper};
use mfl_core::Grid;

/// ∂_t ρ = ∇·(ρ∇Ψ(θ; ρ)) + TΔρ on `grid`, with Ψ given by `field`.
pub struct FvProblem {
    /// The grid: cells, spacings, per-axis boundaries.
    pub grid: Grid,
    /// Temperature T ≥ 0.
    pub temperature: f64,
    /// Ψ(·; ρ) on the cells.
    pub field: Box<dyn PotentialField>,
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
            field,
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

fn obs(r: Result<(), String>) -> Result<(), PdeError> {
    r.map_err(PdeError::Observer)
}

/// Integrate from ρ(0) = `rho0` to `opts.t_end` and return ρ(t_end).
///
/// After every step the run is checked and stopped with [`PdeError::BlowUp`] on a NaN/∞,
/// a relative mass change |Σρ|cell| − m₀|/m₀ > 1e-8, a density below −1e-14·max ρ (not for the
/// spectral scheme without its positivity filter, whose min ρ is recorded instead), or a step
/// below `dt_min`.
pub fn solve(
    problem: &FvProblem,
    rho0: Vec<f64>,
    opts: &RunOptions,
    observer: &mut dyn Observer,
) -> Result<Vec<f64>, PdeError> {
    let grid = &problem.grid;
    let temp = problem.temperature;
    let field = problem.field.as_ref();
    if rho0.len() != grid.len() {
        return Err(PdeError::invalid(
            "initial density",
            format!("{} values for {} cells", rho0.len(), grid.len()),
        ));
    }
    if !(opts.t_end >= 0.0 && opts.t_end.is_finite()) {
        return Err(PdeError::invalid("t_end", "must be finite and ≥ 0"));
    }
    if opts.diagnostics_every.is_nan() || opts.diagnostics_every < 0.0 {
        return Err(PdeError::invalid("diagnostics_every", "must be ≥ 0"));
    }
    if opts.dt_min.is_nan() || opts.dt_min < 0.0 {
        return Err(PdeError::invalid("dt_min", "must be ≥ 0"));
    }
    let mut snaps = opts.snapshot_times.clone();
    if let Some(bad) = snaps.iter().find(|&&s| !(s >= 0.0 && s <= opts.t_end)) {
        return Err(PdeError::invalid(
            "snapshot_times",
            format!("{bad} is outside [0, t_end = {}]", opts.t_end),
        ));
    }
    snaps.sort_by(f64::total_cmp);
    snaps.dedup();
    let mut stepper: Box<dyn Stepper> = match opts.stepper {
        StepperChoice::Explicit { cfl } => Box::new(ExplicitSsprk3::new(grid, temp, cfl)?),
        StepperChoice::Implicit { dt } => Box::new(ImplicitSg::new(grid, temp, dt)?),
        StepperChoice::Spectral { dt, cfl, filter } => {
            Box::new(SpectralEtdrk4::new(grid, temp, dt, cfl, filter)?)
        }
    };
    let allows_negative = stepper.allows_negative();
    let mut rho = rho0;
    let vol = grid.cell_volume();
    let mass0 = rho.iter().sum::<f64>() * vol;
    let blow = |step: u64, t: f64, what: String| PdeError::BlowUp { step, t, what };
    if !(mass0 > 0.0 && mass0.is_finite()) || rho.iter().any(|v| !(*v >= 0.0 && v.is_finite())) {
        return Err(blow(
            0,
            0.0,
            "initial density must be finite, ≥ 0, with positive mass".into(),
        ));
    }
    obs(observer.start(grid, &rho))?;
    let mut si = 0;
    while si < snaps.len() && snaps[si] <= 0.0 {
        obs(observer.snapshot(0.0, &rho))?;
        si += 1;
    }
    let mut last = diagnose(grid, field, &rho, temp, 0.0, 0.0, 0);
    obs(observer.diagnostics(&last))?;
    let mut next_diag = opts.diagnostics_every;
    let (mut t, mut step) = (0.0f64, 0u64);
    while t < opts.t_end {
        let target = if si < snaps.len() {
            snaps[si].min(opts.t_end)
        } else {
            opts.t_end
        };
        let dt_max = target - t;
        let dt = stepper.step(field, &mut rho, dt_max).map_err(|e| match e {
            PdeError::Invalid { what, why } => blow(step + 1, t, format!("{what}: {why}")),
            other => other,
        })?;
        step += 1;
        // a step ending within 1e-9·dt of the target (round-off in accumulated t) lands on it
        let clipped = dt >= dt_max - 1e-9 * dt;
        t = if clipped { target } else { t + dt };
        // blow-up checks
        let (mut sum, mut min, mut max, mut finite) = (0.0, f64::INFINITY, 0.0f64, true);
        for &v in &rho {
            finite &= v.is_finite();
            sum += v;
            min = min.min(v);
            max = max.max(v);
        }
        if !finite {
            return Err(blow(step, t, "density is not finite (NaN or ∞)".into()));
        }
        let mass = sum * vol;
        if ((mass - mass0) / mass0).abs() > 1e-8 {
            return Err(blow(
                step,
                t,
                format!("mass changed from {mass0} to {mass} (relative limit 1e-8)"),
            ));
        }
        if min < -1e-14 * max && !allows_negative {
            return Err(blow(step, t, format!("negative density {min}")));
        }
        if dt < opts.dt_min && !clipped {
            return Err(blow(
                step,
                t,
                format!("time step {dt} fell below dt_min = {}", opts.dt_min),
            ));
        }
        while si < snaps.len() && snaps[si] <= t {
            obs(observer.snapshot(t, &rho))?;
            si += 1;
        }
        if t >= next_diag || t >= opts.t_end {
            last = diagnose(grid, field, &rho, temp, t, dt, step);
            obs(observer.diagnostics(&last))?;
            if opts.diagnostics_every > 0.0 {
                while next_diag <= t {
                    next_diag += opts.diagnostics_every;
                }
            }
        }
    }
    obs(observer.finish(&last, &rho))?;
    Ok(rho)
}
