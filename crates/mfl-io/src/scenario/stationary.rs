//! The stationary-state run of a config: `[stationary]` settings, field, problem and start.

use super::{Error, Scenario};
use crate::config::{Config, StationaryCfg};
use crate::{build, ConfigError};
use mfl_core::{Grid, MeanField};
use mfl_pde::stationary::{EigenOptions, StationaryOptions};
use mfl_pde::{mean_field_potential, PotentialField};
use std::sync::Arc;

/// The validated `[stationary]` settings (defaults when the table is absent).
#[derive(Debug, Clone, PartialEq)]
pub struct StationarySettings {
    /// Temperatures in the order they are solved.
    pub temperatures: Vec<f64>,
    /// Fixed-point options.
    pub opts: StationaryOptions,
    /// Lanczos options, when rates are asked for.
    pub rates: Option<EigenOptions>,
}

/// `[stationary]` resolved and checked; every rejection names its key.
pub fn settings(cfg: &Config) -> Result<StationarySettings, ConfigError> {
    let s = cfg.stationary.clone().unwrap_or_default();
    let StationaryCfg {
        tol,
        max_iter,
        damping,
        anderson,
        temperatures,
        rates,
        krylov_dim,
        rate_tol,
    } = s;
    if !(tol > 0.0 && tol.is_finite()) {
        return Err(ConfigError::key(
            "stationary.tol",
            format!("must be > 0, got {tol}"),
        ));
    }
    if !(damping > 0.0 && damping <= 1.0) {
        return Err(ConfigError::key(
            "stationary.damping",
            format!("must be in (0, 1], got {damping}"),
        ));
    }
    if krylov_dim < 2 {
        return Err(ConfigError::key("stationary.krylov_dim", "must be ≥ 2"));
    }
    if !(rate_tol > 0.0 && rate_tol < 1.0) {
        return Err(ConfigError::key(
            "stationary.rate_tol",
            format!("must be in (0, 1), got {rate_tol}"),
        ));
    }
    let temps = match temperatures {
        Some(ts) => {
            if ts.is_empty() {
                return Err(ConfigError::key(
                    "stationary.temperatures",
                    "needs at least one temperature",
                ));
            }
            if let Some(bad) = ts.iter().find(|t| !(**t > 0.0 && t.is_finite())) {
                return Err(ConfigError::key(
                    "stationary.temperatures",
                    format!("a stationary state e^(−Ψ/T)/Z needs T > 0, got {bad}"),
                ));
            }
            if ts.windows(2).any(|w| w[1] >= w[0]) {
                return Err(ConfigError::key(
                    "stationary.temperatures",
                    format!(
                        "must decrease strictly (T₁ > T₂ > …: each state warm-starts the next, \
                         colder one), got {ts:?}"
                    ),
                ));
            }
            ts
        }
        None => {
            let t = build::temperature(cfg)?;
            if t <= 0.0 {
                return Err(ConfigError::key(
                    "problem.temperature",
                    "a stationary state e^(−Ψ/T)/Z needs T > 0 (or give stationary.temperatures)",
                ));
            }
            vec![t]
        }
    };
    Ok(StationarySettings {
        temperatures: temps,
        opts: StationaryOptions {
            tol,
            max_iter,
            damping,
            anderson,
        },
        rates: rates.then_some(EigenOptions {
            max_dim: krylov_dim,
            tol: rate_tol,
            ..EigenOptions::default()
        }),
    })
}

/// Everything `mfl stationary` needs, resolved from a config.
pub struct StationarySetup {
    /// The grid of `[grid]`.
    pub grid: Grid,
    /// Ψ(·; ρ) on the grid.
    pub field: Box<dyn PotentialField>,
    /// The problem behind `field` (for the linearisation's DΨ).
    pub mf: Arc<MeanField>,
    /// The starting potential: Ψ(·; ρ₀) with ρ₀ of `[init]`, or 0 (uniform ρ₀) without one.
    pub psi0: Vec<f64>,
    /// Tolerances, temperatures, rates.
    pub settings: StationarySettings,
}

/// Resolve the stationary run of the scenario (`[stationary]` or its defaults) on the
/// scenario's mean field (the same objects `mfl check` builds).
pub fn setup(sc: &Scenario) -> Result<StationarySetup, Error> {
    let (cfg, base) = (&sc.config, sc.base.as_path());
    let mf = sc.mean_field.clone();
    let grid = sc.require_grid("`mfl stationary`")?.clone();
    let settings = match &sc.stationary {
        Some(s) => s.clone(),
        None => settings(cfg)?,
    };
    let interaction = super::pde::interaction(
        cfg.solver
            .as_ref()
            .map_or_else(Default::default, |s| s.interaction),
    );
    let radial = build::radial_field(cfg, &mf, &grid)?;
    let field: Box<dyn PotentialField> = match build::closed_form_field(cfg, &mf, &grid)? {
        _ if radial.is_some() => Box::new(radial.expect("checked")),
        Some(f) => Box::new(f),
        None => mean_field_potential(mf.clone(), &grid, interaction).map_err(|e| match e {
            mfl_pde::PdeError::Invalid { what, why } if what == "interaction" => {
                ConfigError::key("solver.interaction", why)
            }
            other => ConfigError::key("grid", other.to_string()),
        })?,
    };
    let mut psi0 = vec![0.0; grid.len()];
    if cfg.init.is_some() {
        let rho0 = super::pde::initial_density(cfg, base, &grid)?;
        field.potential(&rho0, &mut psi0);
    }
    Ok(StationarySetup {
        grid,
        field,
        mf,
        psi0,
        settings,
    })
}
