//! The resolved plan of an `mfl compare` run ([`Plan`]): the scenario, the dynamics of every N,
//! the control variate and the budget's runs — what the unsharded run, a shard (`--shard i/k`)
//! and `mfl merge` all build — with the units of work a shard holds ([`Unit`]).

use mfl_compare::sweep::shard::{assign_by_cost, Shard};
use mfl_compare::{
    error_budget, exact_step_bias, half_step_records, pde_richardson, time_step_bias,
    time_step_bias_of, BudgetRow, Control, GapTable, HalfStepRecord, PreparedSweep, Sweep,
    SweepOptions,
};
use mfl_io::config::{ControlKind, LossKind, ScheduleKind};
use mfl_io::h5::OutputFile;
use mfl_io::scenario::compare::{dynamics, CompareSetup};
use mfl_io::scenario::pde::SolveSetup;
use mfl_io::scenario::Error;
use mfl_io::{ConfigError, Scenario};
use mfl_particles::{Dynamics, Gradient, Temperature};

/// A resolved `mfl compare` run: the scenario, the dynamics of every N, the control variate
/// and the budget's runs — what the unsharded run, a shard and `mfl merge` all build.
pub struct Plan {
    /// The resolved config.
    pub sc: Scenario,
    /// `[compare]` resolved.
    pub cs: CompareSetup,
    control: Control,
    by_n: Vec<Dynamics>,
    /// The refined PDE, and the η/2 rerun of the largest N when the budget needs one.
    budget_setup: Option<(SolveSetup, Option<Dynamics>)>,
    /// The largest N of the sweep.
    pub n_max: usize,
}
impl Plan {
    /// Resolve the sweep of `sc` and its budget's runs, before anything long starts.
    pub fn new(sc: Scenario) -> Result<Plan, Error> {
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

        let cs = cs.clone();
        Ok(Plan {
            control,
            by_n,
            budget_setup,
            n_max,
            cs,
            sc,
        })
    }

    /// Whether the budget reruns the largest N at η/2 (particle runs, sharded as
    /// [`Unit::Half`]).
    pub fn reruns(&self) -> bool {
        matches!(&self.budget_setup, Some((_, Some(_))))
    }

    /// Every unit of work of the run with its cost: the (N, seed) runs (cost N), then, when the
    /// budget reruns, the η/2 rerun of the largest N per seed (cost 2 N_max: twice the steps).
    pub fn units(&self) -> Vec<(Unit, usize)> {
        let cs = &self.cs;
        let mut u: Vec<(Unit, usize)> = cs
            .ns
            .iter()
            .flat_map(|&n| cs.seeds.iter().map(move |&s| (Unit::Run(n, s), n)))
            .collect();
        if self.reruns() {
            u.extend(cs.seeds.iter().map(|&s| (Unit::Half(s), 2 * self.n_max)));
        }
        u
    }

    /// The units of shard `s` (balanced by cost, [`assign_by_cost`]), in the order of
    /// [`Plan::units`].
    pub fn shard_units(&self, s: Shard) -> Result<Vec<Unit>, Error> {
        let units = self.units();
        let costs: Vec<usize> = units.iter().map(|u| u.1).collect();
        let parts = assign_by_cost(&costs, s.count).map_err(|_| {
            format!(
                "--shard {s}: {} shards for {} runs ({} N × {} seeds{}): every shard needs at \
                 least one run",
                s.count,
                units.len(),
                self.cs.ns.len(),
                self.cs.seeds.len(),
                if self.reruns() {
                    ", and the η/2 reruns"
                } else {
                    ""
                }
            )
        })?;
        Ok(parts[s.index].iter().map(|&i| units[i].0).collect())
    }

    /// The η/2 reruns of `seeds` for the budget, with the sweep's control variate.
    pub fn half_records<F: Fn(usize) -> Dynamics>(
        &self,
        prepared: &PreparedSweep<'_, F>,
        seeds: &[u64],
    ) -> Result<Vec<HalfStepRecord>, Error> {
        let Some((_, Some(half))) = &self.budget_setup else {
            return Err("this config's budget has no η/2 rerun".into());
        };
        Ok(half_step_records(
            prepared.adjoint_part(),
            prepared.residual_path(),
            prepared.times(),
            half,
            prepared.eval(),
            seeds,
        )?)
    }

    /// The sweep with its PDE run seen by `observer`, ready for [`Plan::report`] or to run
    /// blocks of seeds; `progress` is called per finished (N, seed) run.
    pub fn prepare<'a>(
        &'a self,
        observer: &mut dyn mfl_pde::Observer,
        progress: Option<&'a (dyn Fn(usize, usize) + Sync)>,
    ) -> Result<PreparedSweep<'a, impl Fn(usize) -> Dynamics + 'a>, Error> {
        let pde = self.sc.require_pde()?;
        let cs = &self.cs;
        let by_n = &self.by_n;
        Ok(Sweep::new(
            &pde.problem,
            pde.rho0.clone(),
            &pde.opts,
            &by_n[0].problem,
            move |n| by_n[cs.ns.iter().position(|&m| m == n).expect("listed N")].clone(),
        )
        .ns(&cs.ns)
        .seeds(&cs.seeds)
        .times(&cs.times)
        .options(SweepOptions {
            control: self.control,
            distances: cs.cmp.distances,
            progress,
        })
        .prepare(observer)?)
    }

    /// The error budget of a finished table (`tick(N, seed index)` per η/2 rerun), with the
    /// η/2 reruns of every seed taken from `half` when given (a merge) instead of run.
    pub fn budget(
        &self,
        table: &GapTable,
        half_records: Option<&[HalfStepRecord]>,
        tick: &dyn Fn(usize, usize),
    ) -> Result<Option<Vec<BudgetRow>>, Error> {
        let pde = self.sc.require_pde()?;
        let Some((fine, half)) = &self.budget_setup else {
            return Ok(None);
        };
        let pe = pde_richardson(table, &fine.problem, fine.rho0.clone(), &fine.opts)?;
        let sb = match half {
            Some(_) if half_records.is_some() => {
                time_step_bias_of(table, half_records.expect("given"))?
            }
            Some(half) => {
                let sb = time_step_bias(table, half, &self.by_n[0].problem)?;
                for i in 0..self.cs.seeds.len() {
                    tick(self.n_max, i);
                }
                sb
            }
            None => exact_step_bias(
                table,
                &self.by_n[0].problem,
                &pde.problem.grid,
                &pde.rho0,
                pde.problem.temperature,
                self.cs.eta,
            )?,
        };
        Ok(Some(error_budget(table, &pe, &sb)?))
    }

    /// Write /compare (table, fits, budget, equilibrium) into `file`, mark it complete and
    /// print the table.
    pub fn report(
        &self,
        file: &OutputFile,
        table: &GapTable,
        budget: Option<&[BudgetRow]>,
    ) -> Result<(), Error> {
        let equilibrium = match self.cs.cmp.equilibrium_from {
            Some(from) => Some(mfl_compare::Equilibrium::of(table, from)?),
            None => None,
        };
        let report = crate::compare_report::Report::new(
            table,
            budget,
            equilibrium.as_ref(),
            self.sc.require_pde()?,
        );
        report.write(file)?;
        file.finish("complete")?;
        report.print(&mut std::io::stdout())?;
        Ok(())
    }
}

/// One unit of work of a sharded compare run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Unit {
    /// The run of N particles with a seed.
    Run(usize, u64),
    /// The budget's η/2 rerun of the largest N with a seed.
    Half(u64),
}

/// Seeds are stored as f64 in shard files: refuse those that would not come back exactly.
pub fn check_seeds_exact(seeds: &[u64]) -> Result<(), Error> {
    match seeds.iter().find(|&&s| s > (1u64 << 53)) {
        Some(s) => Err(format!(
            "--shard: seed {s} is above 2^53 and cannot be stored exactly in a shard file; use              smaller seeds"
        )
        .into()),
        None => Ok(()),
    }
}
