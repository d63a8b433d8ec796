//! The N-sweep of a config: particle numbers, record times, seeds, and the dynamics per N.

use super::pde::snapshot_times;
use super::{Error, Scenario};
use crate::config::CompareCfg;
use crate::{build, ConfigError};
use mfl_particles::{Dynamics, Init};

/// The list of N of `[compare]`: `n`, or the geometric range n_min·n_factor^j ≤ n_max.
pub fn particle_numbers(c: &CompareCfg) -> Result<Vec<usize>, ConfigError> {
    let ns = match (&c.n, c.n_min, c.n_max) {
        (Some(ns), None, None) => ns.clone(),
        (None, Some(lo), Some(hi)) => {
            let f = c.n_factor.unwrap_or(2);
            if f < 2 {
                return Err(ConfigError::key("compare.n_factor", "must be ≥ 2"));
            }
            if lo == 0 || hi < lo {
                return Err(ConfigError::key(
                    "compare.n_min",
                    format!("needs 1 ≤ n_min ≤ n_max, got {lo} and {hi}"),
                ));
            }
            std::iter::successors(Some(lo), |&n| n.checked_mul(f).filter(|&m| m <= hi)).collect()
        }
        _ => {
            return Err(ConfigError::key(
                "compare.n",
                "give either the list `n` or the range `n_min`, `n_max` (and `n_factor`)",
            ))
        }
    };
    if ns.len() < 3 {
        return Err(ConfigError::key(
            "compare.n",
            format!("a slope with a confidence interval needs ≥ 3 values of N, got {ns:?}"),
        ));
    }
    if ns.contains(&0) || ns.windows(2).any(|w| w[0] >= w[1]) {
        return Err(ConfigError::key(
            "compare.n",
            format!("values must be ≥ 1 and strictly increasing, got {ns:?}"),
        ));
    }
    Ok(ns)
}

/// Everything a comparison needs, resolved from a config.
#[derive(Debug, Clone, PartialEq)]
pub struct CompareSetup {
    /// The `[compare]` table as given.
    pub cmp: CompareCfg,
    /// The values of N, increasing.
    pub ns: Vec<usize>,
    /// The record times.
    pub times: Vec<f64>,
    /// The seeds (the same for every N).
    pub seeds: Vec<u64>,
    /// The particles' base step η.
    pub eta: f64,
}

/// Validate `[compare]` against the rest of the scenario.
pub fn setup(sc: &Scenario) -> Result<CompareSetup, Error> {
    let cfg = &sc.config;
    let cmp = cfg
        .compare
        .clone()
        .ok_or_else(|| ConfigError::key("compare", "`mfl compare` needs a [compare] table"))?;
    if build::is_closed_form(cfg) {
        // the particles' R_N is a quadrature; R(ρ_t) must be the same one (DESIGN.md §2)
        return Err(ConfigError::key(
            "data.quadrature",
            "\"closed_form\" is for grid runs (solve, stationary); `mfl compare` needs R_N and \
             R(ρ_t) on the same data: use \"hermite\" or \"legendre\"",
        )
        .into());
    }
    if build::is_radial(cfg) {
        // the PDE is the law of |w|; the particles live in R^d with a sampled R_N: a gap
        // against R(p_t) needs the particles' exact risk and a radial control variate (not built)
        return Err(ConfigError::key(
            "data.quadrature",
            "\"radial\" is for grid runs (solve, stationary) and `mfl particles`; `mfl compare` \
             on the radially reduced problem is not implemented",
        )
        .into());
    }
    let ns = particle_numbers(&cmp)?;
    let p = cfg.particles.as_ref().ok_or_else(|| {
        ConfigError::key(
            "particles",
            "`mfl compare` needs a [particles] table (η, t_end)",
        )
    })?;
    let s = cfg.solver.as_ref().ok_or_else(|| {
        ConfigError::key("solver", "`mfl compare` needs a [solver] table for the PDE")
    })?;
    if cmp.seeds < 3 {
        return Err(ConfigError::key(
            "compare.seeds",
            format!("needs ≥ 3 seeds for standard errors, got {}", cmp.seeds),
        )
        .into());
    }
    if p.confine == Some(false) {
        return Err(ConfigError::key(
            "particles.confine",
            "the comparison keeps particles in the PDE's box (the domain changes R); remove \
             `confine = false`",
        )
        .into());
    }
    let t_end = p.t_end.min(s.t_end);
    let times = match &cmp.times {
        Some(ts) => {
            if let Some(bad) = ts.iter().find(|&&t| !(t >= 0.0 && t <= t_end)) {
                return Err(ConfigError::key(
                    "compare.times",
                    format!("{bad} is outside [0, min(particles.t_end, solver.t_end) = {t_end}]"),
                )
                .into());
            }
            if ts.is_empty() || ts.windows(2).any(|w| w[0] >= w[1]) {
                return Err(ConfigError::key(
                    "compare.times",
                    "needs at least one time, strictly increasing",
                )
                .into());
            }
            ts.clone()
        }
        None => {
            let mut ts = snapshot_times(cfg, t_end)?;
            ts.sort_by(f64::total_cmp);
            ts.dedup();
            ts
        }
    };
    if let Some(from) = cmp.equilibrium_from {
        if !(cfg.problem.temperature > 0.0) {
            return Err(ConfigError::key(
                "compare.equilibrium_from",
                "equilibrium gaps need T > 0 (problem.temperature)",
            )
            .into());
        }
        let late = times.iter().filter(|&&t| t >= from).count();
        if late < 2 {
            return Err(ConfigError::key(
                "compare.equilibrium_from",
                format!("needs at least 2 record times ≥ {from}, got {late}"),
            )
            .into());
        }
    }
    Ok(CompareSetup {
        ns,
        times,
        seeds: (0..cmp.seeds as u64)
            .map(|s| cmp.seed.checked_add(s))
            .collect::<Option<Vec<u64>>>()
            .ok_or_else(|| ConfigError::key("compare.seed", "seed + seeds overflows 64 bits"))?,
        eta: p.eta,
        cmp,
    })
}

/// The particle dynamics of the scenario with N particles and step `eta`, started from the
/// PDE's initial grid density (uniform inside cells), confined to the PDE's box.
pub fn dynamics(sc: &Scenario, n: usize, eta: f64) -> Result<Dynamics, Error> {
    let pde = sc.require_pde()?;
    let d = sc
        .with_n(n)?
        .with_eta(eta)?
        .require_particles()?
        .dynamics
        .clone();
    Ok(d.with_init(Init::GridDensity {
        grid: pde.problem.grid.clone(),
        density: pde.rho0.clone(),
    })
    .map_err(|e| ConfigError::key("init", e.to_string()))?)
}
