//! The particle run of a config: dynamics, evaluation problem, record schedule and seeds.

use super::pde::snapshot_times;
use super::{Error, Scenario};
use crate::config::{Config, GradientKind, ParticlesCfg, ScheduleKind};
use crate::{build, ConfigError};
use mfl_core::data::Teacher;
use mfl_core::{Grid, MeanField};
use mfl_particles::{
    AxisBoundary, DataSampler, Dynamics, Gradient, Init, Recording, Resample, StepSchedule,
    TeacherSampler, Temperature, TwoClassSampler,
};
use std::sync::Arc;

/// Everything a particle run needs, resolved from a config.
#[derive(Debug, Clone)]
pub struct ParticleSetup {
    /// N, η, schedules, gradient, boundaries, initial law — on the scenario's mean field.
    pub dynamics: Dynamics,
    /// The population problem R_N is evaluated on (the scenario's mean field itself).
    pub eval: Arc<MeanField>,
    /// The record times (and whether positions are kept).
    pub recording: Recording,
    /// The seeds, one run each.
    pub seeds: Vec<u64>,
    /// The final time.
    pub t_end: f64,
}

fn section(cfg: &Config) -> Result<&ParticlesCfg, ConfigError> {
    cfg.particles
        .as_ref()
        .ok_or_else(|| ConfigError::key("particles", "`mfl particles` needs a [particles] table"))
}

fn sampler(
    cfg: &Config,
    mf: &MeanField,
) -> Result<Arc<dyn DataSampler>, Box<dyn std::error::Error>> {
    let d = mf.unit.input_dim();
    Ok(match cfg.data.kind.as_str() {
        "gaussian" if cfg.data.cov.is_none() => {
            let teacher: Teacher = build::teacher(cfg, &mf.unit)?
                .ok_or_else(|| ConfigError::key("teacher", "minibatches of gaussian data need a [teacher]"))?;
            Arc::new(TeacherSampler::new(teacher, cfg.data.noise).map_err(|e| ConfigError::key("teacher", e.to_string()))?)
        }
        "two_class" => {
            let delta = cfg.data.delta.unwrap_or(0.0);
            Arc::new(TwoClassSampler::new(d, delta).map_err(|e| ConfigError::key("data.delta", e.to_string()))?)
        }
        "csv" | "samples" => Arc::new(Resample::new(mf.data.clone()).map_err(|e| ConfigError::key("data", e.to_string()))?),
        other => {
            return Err(ConfigError::key(
                "particles.gradient",
                format!("minibatches are drawn from gaussian (identity covariance), two_class, csv or samples data, not '{other}'"),
            )
            .into())
        }
    })
}

/// Resolve `[particles]` (with `--n`/`--seeds` already applied as overrides) into a particle
/// run on the scenario's mean field.
pub fn setup(sc: &Scenario) -> Result<ParticleSetup, Error> {
    let (cfg, base) = (&sc.config, sc.base.as_path());
    let p = section(cfg)?;
    let mf = sc.mean_field.clone();
    let temperature = build::temperature(cfg)?;
    let dd = mf.theta_dim();
    if p.n == 0 {
        return Err(
            ConfigError::key("particles.n", "the number of neurons N must be ≥ 1, got 0").into(),
        );
    }
    if !(p.eta > 0.0 && p.eta.is_finite()) {
        return Err(ConfigError::key(
            "particles.eta",
            format!("the step size η must be > 0, got {}", p.eta),
        )
        .into());
    }
    if !(p.t_end > 0.0 && p.t_end.is_finite()) {
        return Err(
            ConfigError::key("particles.t_end", format!("must be > 0, got {}", p.t_end)).into(),
        );
    }
    if p.seeds == 0 {
        return Err(ConfigError::key("particles.seeds", "need at least one seed").into());
    }
    let grid: Option<Grid> = sc.grid.clone();
    let init = match cfg.init.as_ref().map(|i| i.kind.as_str()) {
        Some(kind @ ("snapshot" | "particles")) => {
            let g = grid.clone().ok_or_else(|| {
                ConfigError::key(
                    "grid",
                    format!("sampling particles from a {kind} [init] needs a [grid] to bin it on"),
                )
            })?;
            let density = super::pde::initial_density(cfg, base, &g)?;
            Init::GridDensity { grid: g, density }
        }
        _ => Init::Law(build::law(cfg, dd, grid.as_ref())?),
    };
    let confine = p.confine.unwrap_or(grid.is_some() && dd <= 2);
    let boundaries = match (&grid, confine) {
        (Some(g), true) => AxisBoundary::from_grid(g),
        (None, true) => {
            return Err(ConfigError::key(
                "particles.confine",
                "confining particles needs a [grid] box",
            )
            .into())
        }
        _ => AxisBoundary::natural(&mf.unit),
    };
    let schedule = match p.schedule.unwrap_or_default() {
        ScheduleKind::Constant => StepSchedule::Constant,
        ScheduleKind::InverseTime => StepSchedule::InverseTime {
            t0: p.t0.ok_or_else(|| {
                ConfigError::key("particles.t0", "the inverse_time schedule needs t0")
            })?,
        },
    };
    let gradient = match p.gradient {
        GradientKind::Exact => Gradient::Exact,
        GradientKind::Minibatch => {
            let batch = p.batch.ok_or_else(|| {
                ConfigError::key("particles.batch", "minibatch gradients need a batch size")
            })?;
            if batch == 0 {
                return Err(ConfigError::key("particles.batch", "must be ≥ 1").into());
            }
            let s = sampler(cfg, &mf)?;
            if let Some(n) = s.size() {
                if batch > n {
                    return Err(ConfigError::key(
                        "particles.batch",
                        format!("a batch of {batch} is larger than the data set of {n} points"),
                    )
                    .into());
                }
            }
            Gradient::Minibatch { batch, sampler: s }
        }
    };
    let key =
        |k: &'static str| move |e: mfl_particles::ParticleError| ConfigError::key(k, e.to_string());
    let dynamics = Dynamics::new(mf.clone(), p.n, p.eta, init)
        .map_err(key("particles"))?
        .with_temperature(Temperature::Constant(temperature))
        .map_err(key("problem.temperature"))?
        .with_step_schedule(schedule)
        .map_err(key("particles.schedule"))?
        .with_gradient(gradient)
        .map_err(key("particles.gradient"))?
        .with_boundaries(boundaries)
        .map_err(key("particles.confine"))?;
    let mut times = snapshot_times(cfg, p.t_end)?;
    times.sort_by(f64::total_cmp);
    times.dedup();
    if times.last().is_none_or(|&t| t < p.t_end) {
        times.push(p.t_end);
    }
    let mut recording = Recording::at(times);
    if p.positions {
        recording = recording.with_positions();
    }
    Ok(ParticleSetup {
        dynamics,
        eval: mf,
        recording,
        seeds: (0..p.seeds as u64).map(|s| p.seed + s).collect(),
        t_end: p.t_end,
    })
}
