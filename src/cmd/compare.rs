//! `mfl compare CONFIG [-o OUT.h5]`: the N-sweep of the gap R_N − R(ρ_t), its error budget and
//! the slope of log|gap| against log N, written under /compare and printed as a table.

use super::{create_output, fail_output, output_path, CmdResult};
use crate::progress::Progress;
use mfl_compare::{
    error_budget, exact_step_bias, pde_richardson, time_step_bias, BudgetRow, Control, GapTable,
    Sweep, SweepOptions,
};
use mfl_io::config::{ControlKind, LossKind, ScheduleKind};
use mfl_io::record::{write_grid, SolveWriter};
use mfl_io::scenario::compare::dynamics;
use mfl_io::scenario::Error;
use mfl_io::scenario::Job;
use mfl_io::{ConfigError, Scenario};
use mfl_particles::{Gradient, Temperature};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// `mfl compare CONFIG`: the PDE, the particles for every N, the gap table, fits and budget.
pub fn run(
    path: &Path,
    sets: &[String],
    out: Option<&Path>,
    force: bool,
    quiet: bool,
) -> CmdResult {
    let sc = Scenario::load(path, sets, Job::Compare)?;
    let cfg = &sc.config;
    let cs = sc
        .compare
        .clone()
        .ok_or_else(|| ConfigError::key("compare", "`mfl compare` needs a [compare] table"))?;
    let pde = sc.require_pde()?;
    let control = match cs.cmp.control {
        ControlKind::Coupled => Control::Coupled,
        ControlKind::None => Control::None,
        ControlKind::Adjoint => Control::Adjoint,
    };
    let coupled = control == Control::Coupled;
    let mut by_n = Vec::with_capacity(cs.ns.len());
    for &n in &cs.ns {
        by_n.push(dynamics(&sc, n, cs.eta)?);
    }
    if coupled && !matches!(by_n[0].gradient, Gradient::Exact) {
        return Err(ConfigError::key(
            "compare.control",
            "the coupled control variate needs exact gradients (particles.gradient = \"exact\"); \
             use control = \"none\" with minibatches",
        )
        .into());
    }
    if coupled && cfg.problem.loss != LossKind::Squared {
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
        let fine = sc.refined(2)?.require_pde()?.clone();
        let constant = cfg
            .particles
            .as_ref()
            .and_then(|p| p.schedule)
            .is_none_or(|s| s == ScheduleKind::Constant);
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
            let half = dynamics(&sc, n_max, 0.5 * cs.eta)?;
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
    let mut file = create_output(&sc, path, &out_path, "compare", force)?;
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
        let table = Sweep::new(
            &pde.problem,
            pde.rho0.clone(),
            &pde.opts,
            &by_n[0].problem,
            |n| by_n[cs.ns.iter().position(|&m| m == n).expect("listed N")].clone(),
        )
        .ns(&cs.ns)
        .seeds(&cs.seeds)
        .times(&cs.times)
        .options(SweepOptions {
            control,
            distances: cs.cmp.distances,
            progress: Some(&tick),
        })
        .run(&mut writer)?;
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
            let report = crate::compare_report::Report::new(
                &table,
                budget.as_deref(),
                equilibrium.as_ref(),
                pde,
            );
            report.write(&file)?;
            file.finish("complete")?;
            report.print(&mut std::io::stdout())?;
            if !quiet {
                eprintln!("wrote {}", out_path.display());
            }
            Ok(())
        }
        Err(e) => Err(fail_output(file, &e.to_string()).into()),
    }
}
