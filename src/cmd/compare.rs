//! `mfl compare CONFIG [-o OUT.h5]`: the N-sweep of the gap R_N − R(ρ_t), its error budget and
//! the slope of log|gap| against log N, written under /compare and printed as a table.

use super::particles::setup as particle_setup;
use super::progress::Progress;
use super::solve::{setup as solve_setup, snapshot_times};
use super::{output_path, resolved_config, CmdResult};
use mfl_compare::{
    error_budget, exact_step_bias, gap_sweep_with, pde_richardson, time_step_bias, BudgetRow,
    Control, GapTable, SweepOptions,
};
use mfl_io::config::{CompareCfg, Config};
use mfl_io::h5::OutputFile;
use mfl_io::record::{write_grid, SolveWriter};
use mfl_io::{build, ConfigError};
use mfl_particles::{Dynamics, Gradient, Init, Temperature};
use ndarray::{Array1, Array2};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

type Error = Box<dyn std::error::Error>;

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
pub struct CompareSetup {
    pub cmp: CompareCfg,
    pub ns: Vec<usize>,
    pub times: Vec<f64>,
    pub seeds: Vec<u64>,
    pub eta: f64,
}

/// Validate `[compare]` against the rest of the config.
pub fn setup(cfg: &Config) -> Result<CompareSetup, Error> {
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
    if !matches!(cmp.control.as_str(), "adjoint" | "coupled" | "none") {
        return Err(ConfigError::key(
            "compare.control",
            format!(
                "unknown control '{}'; valid: adjoint, coupled, none",
                cmp.control
            ),
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

/// The config with `key = value` overrides applied on top (for the N, η and grid variants).
fn variant(cfg: &Config, sets: &[String]) -> Result<Config, Error> {
    let text = toml::to_string(cfg)?;
    Ok(build::parse(&text, "the resolved config", sets)?)
}

/// The particle dynamics of the config with N particles and step `eta`, started from the
/// PDE's initial grid density (uniform inside cells), confined to the PDE's box.
fn dynamics(
    cfg: &Config,
    base: &Path,
    n: usize,
    eta: f64,
    grid: &mfl_core::Grid,
    rho0: &[f64],
) -> Result<Dynamics, Error> {
    let v = variant(
        cfg,
        &[format!("particles.n={n}"), format!("particles.eta={eta:e}")],
    )?;
    let mut d = particle_setup(&v, base)?.dynamics;
    d.init = Init::GridDensity {
        grid: grid.clone(),
        density: rho0.to_vec(),
    };
    d.validate()
        .map_err(|e| ConfigError::key("init", e.to_string()))?;
    Ok(d)
}

pub fn run(path: &Path, sets: &[String], out: Option<&Path>, quiet: bool) -> CmdResult {
    let cfg = build::load(path, sets)?;
    let base = build::base_dir(path);
    let cs = setup(&cfg)?;
    let pde = solve_setup(&cfg, &base)?;
    let control = match cs.cmp.control.as_str() {
        "coupled" => Control::Coupled,
        "none" => Control::None,
        _ => Control::Adjoint,
    };
    let coupled = control == Control::Coupled;
    let mut by_n = Vec::with_capacity(cs.ns.len());
    for &n in &cs.ns {
        by_n.push(dynamics(
            &cfg,
            &base,
            n,
            cs.eta,
            &pde.problem.grid,
            &pde.rho0,
        )?);
    }
    if coupled && !matches!(by_n[0].gradient, Gradient::Exact) {
        return Err(ConfigError::key(
            "compare.control",
            "the coupled control variate needs exact gradients (particles.gradient = \"exact\"); \
             use control = \"none\" with minibatches",
        )
        .into());
    }
    if coupled && cfg.problem.loss != "squared" {
        return Err(ConfigError::key(
            "compare.control",
            "the coupled control variate's known mean holds for the squared loss; use \
             control = \"none\"",
        )
        .into());
    }
    let n_max = *cs.ns.last().expect("≥ 3 values");
    // the budget's runs, resolved before anything long starts
    let budget_setup = if cs.cmp.budget {
        if let Some(kind) = cfg
            .init
            .as_ref()
            .map(|i| i.kind.as_str())
            .filter(|k| matches!(*k, "snapshot" | "particles"))
        {
            return Err(ConfigError::key(
                "compare.budget",
                format!(
                    "the PDE error estimate solves on a refined grid, on which a {kind} [init] \
                     is not the same initial density; set compare.budget = false"
                ),
            )
            .into());
        }
        let cells = pde.problem.grid.shape();
        let mut extra = vec![format!(
            "grid.cells=[{}]",
            cells
                .iter()
                .map(|c| (2 * c).to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )];
        if let Some(dt) = cfg.solver.as_ref().and_then(|s| s.dt) {
            extra.push(format!("solver.dt={:e}", dt / 4.0));
        }
        let fine = solve_setup(&variant(&cfg, &extra)?, &base)?;
        let constant = cfg
            .particles
            .as_ref()
            .and_then(|p| p.schedule.as_deref())
            .is_none_or(|s| s == "constant");
        // 1D, constant η and T, exact gradients: the exact N = ∞ limit of the discrete-time
        // scheme gives the η bias without any particle rerun
        let exact = pde.problem.grid.dim() == 1
            && constant
            && matches!(by_n[0].gradient, Gradient::Exact)
            && by_n[0].temperature == Temperature::Constant(pde.problem.temperature);
        if exact {
            Some((fine, None))
        } else {
            // η/2 on the same Brownian paths as the η runs (one bridge level) — valid when
            // every η step is split into exactly two: a constant schedule and record times on
            // the η grid
            let half = dynamics(
                &cfg,
                &base,
                n_max,
                0.5 * cs.eta,
                &pde.problem.grid,
                &pde.rho0,
            )?;
            let on_grid = cs.times.iter().all(|t| {
                let k = t / cs.eta;
                (k - k.round()).abs() <= 1e-9 * k.max(1.0)
            });
            let half = if constant && on_grid {
                half.with_noise_halvings(1)?
            } else {
                eprintln!(
                    "note: the η/2 rerun uses independent noise (the shared Brownian path needs a \
                     constant step schedule and record times that are multiples of η), so its \
                     bias estimate is noisier"
                );
                half
            };
            Some((fine, Some(half)))
        }
    } else {
        None
    };

    let out_path = output_path(path, out);
    let mut file = OutputFile::create(&out_path, "compare", &resolved_config(&cfg))?;
    write_grid(&file, &pde.problem.grid)?;
    let rerun = matches!(&budget_setup, Some((_, Some(_))));
    let runs = cs.ns.len() * cs.seeds.len() + if rerun { cs.seeds.len() } else { 0 };
    let bar = Mutex::new(Progress::new(runs as f64, quiet, "compare"));
    let done = AtomicUsize::new(0);
    let tick = |n: usize, _seed: usize| {
        let k = done.fetch_add(1, Ordering::Relaxed) + 1;
        let mut b = bar.lock().unwrap_or_else(|e| e.into_inner());
        b.set(k as f64, &format!("N={n} ({k}/{runs} runs)"));
    };
    let result = (|| -> Result<(GapTable, Option<Vec<BudgetRow>>), Error> {
        let mut writer = SolveWriter::new(&mut file, &pde.problem.grid);
        let table = gap_sweep_with(
            &pde.problem,
            pde.rho0.clone(),
            &pde.opts,
            &by_n[0].problem,
            |n| by_n[cs.ns.iter().position(|&m| m == n).expect("listed N")].clone(),
            &cs.ns,
            &cs.seeds,
            &cs.times,
            &mut writer,
            &SweepOptions {
                control,
                distances: cs.cmp.distances,
                progress: Some(&tick),
            },
        )?;
        let budget = match &budget_setup {
            Some((fine, half)) => {
                let pe = pde_richardson(&table, &fine.problem, fine.rho0.clone(), &fine.opts)?;
                let sb = match half {
                    Some(half) => {
                        let sb = time_step_bias(&table, half, &by_n[0].problem)?;
                        for i in 0..cs.seeds.len() {
                            tick(n_max, i);
                        }
                        sb
                    }
                    None => exact_step_bias(
                        &table,
                        &by_n[0].problem,
                        &pde.problem.grid,
                        &pde.rho0,
                        pde.problem.temperature,
                        cs.eta,
                    )?,
                };
                Some(error_budget(&table, &pe, &sb)?)
            }
            None => None,
        };
        Ok((table, budget))
    })();
    bar.lock().unwrap_or_else(|e| e.into_inner()).finish();
    match result {
        Ok((table, budget)) => {
            let equilibrium = match cs.cmp.equilibrium_from {
                Some(from) => Some(mfl_compare::Equilibrium::of(&table, from)?),
                None => None,
            };
            let report = super::compare_report::Report::new(
                &table,
                budget.as_deref(),
                equilibrium.as_ref(),
                &pde,
            );
            report.write(&file)?;
            file.finish("complete")?;
            report.print(&mut std::io::stdout())?;
            if !quiet {
                eprintln!("wrote {}", out_path.display());
            }
            Ok(())
        }
        Err(e) => {
            let msg = e.to_string();
            let _ = file.finish(&format!("failed: {msg}"));
            Err(msg.into())
        }
    }
}

/// A [S]-vector as an HDF5-ready array.
pub(crate) fn arr1(v: &[f64]) -> Array1<f64> {
    Array1::from(v.to_vec())
}

/// An [Nn, Nt] table of `f(row)`.
pub(crate) fn arr2(table: &GapTable, f: impl Fn(&mfl_compare::GapRow) -> f64) -> Array2<f64> {
    Array2::from_shape_fn((table.ns.len(), table.times.len()), |(i, j)| {
        f(table.row(i, j))
    })
}

/// The slope fit at time index j (with seed-jackknife intervals), or why there is none.
pub(crate) fn fit_at(table: &GapTable, j: usize) -> Result<mfl_compare::SlopeFit, String> {
    table.slope_fit(j).map_err(|e| e.to_string())
}
