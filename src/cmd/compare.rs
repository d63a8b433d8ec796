//! `mfl compare CONFIG [-o OUT.h5]`: the N-sweep of the gap R_N − R(ρ_t), its error budget and
//! the slope of log|gap| against log N, written under /compare and printed as a table; with
//! `--shard i/k`, one part of the (N, seed) runs as per-seed records for `mfl merge`.

use super::{create_output, fail_output, output_path, CmdResult};
use crate::compare_plan::{check_seeds_exact, Plan, Unit};
use crate::progress::Progress;
use crate::shard_file::write_records;
use mfl_compare::sweep::shard::Shard;
use mfl_compare::{BudgetRow, GapTable, HalfStepRecord, SeedRecord};
use mfl_io::record::{write_grid, SolveWriter};
use mfl_io::scenario::Error;
use mfl_io::scenario::Job;
use mfl_io::Scenario;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// `mfl compare CONFIG [--shard i/k]`: the PDE, the particles for every N (or the shard's
/// share), the gap table, fits and budget (or the shard's per-seed records).
pub fn run(
    path: &Path,
    sets: &[String],
    out: Option<&Path>,
    force: bool,
    quiet: bool,
    shard: Option<Shard>,
) -> CmdResult {
    let plan = Plan::new(Scenario::load(path, sets, Job::Compare)?)?;
    let cs = &plan.cs;
    let units_of_shard = match shard {
        Some(s) => {
            check_seeds_exact(&cs.seeds)?;
            Some(plan.shard_units(s)?)
        }
        None => None,
    };
    let pde = plan.sc.require_pde()?;
    let out_path = output_path(path, out);
    let mut file = create_output(&plan.sc, path, &out_path, "compare", force)?;
    super::warn_quadrature(&plan.sc);
    if let Some(s) = shard {
        file.set_attr("/", "shard", &s.to_string())?;
    }
    write_grid(&file, &pde.problem.grid)?;
    let runs = match &units_of_shard {
        Some(u) => u.len(),
        None => plan.units().len(),
    };
    let bar = Mutex::new(Progress::new(runs as f64, quiet, "compare"));
    let done = AtomicUsize::new(0);
    let tick = |n: usize, _seed: usize| {
        let k = done.fetch_add(1, Ordering::Relaxed) + 1;
        let mut b = bar.lock().unwrap_or_else(|e| e.into_inner());
        b.set(k as f64, &format!("N={n} ({k}/{runs} runs)"));
    };
    enum Done {
        Table(Box<(GapTable, Option<Vec<BudgetRow>>)>),
        Shard(Vec<SeedRecord>, Vec<HalfStepRecord>),
    }
    crate::signals::install();
    // a signal stops the run at the end of the PDE step, or after the particle runs of one N
    let stop = || -> Result<(), Error> {
        match crate::signals::STOP.load(Ordering::SeqCst) {
            true => Err("interrupted".into()),
            false => Ok(()),
        }
    };
    let result = (|| -> Result<Done, Error> {
        let mut writer = Stopping(SolveWriter::new(&mut file, &pde.problem.grid));
        let prepared = plan.prepare(&mut writer, Some(&tick))?;
        match &units_of_shard {
            None => {
                let mut records = Vec::new();
                for &n in &cs.ns {
                    stop().map_err(|e| format!("{e} before the runs of N = {n}"))?;
                    records.extend(prepared.run_n(n, &cs.seeds)?);
                }
                let table = prepared.into_table(records)?;
                let budget = plan.budget(&table, None, &tick)?;
                Ok(Done::Table(Box::new((table, budget))))
            }
            Some(units) => {
                let mut records = Vec::with_capacity(units.len());
                for &n in &cs.ns {
                    let seeds: Vec<u64> = units
                        .iter()
                        .filter_map(|u| match *u {
                            Unit::Run(m, s) if m == n => Some(s),
                            _ => None,
                        })
                        .collect();
                    if !seeds.is_empty() {
                        stop().map_err(|e| format!("{e} before the runs of N = {n}"))?;
                        records.extend(prepared.run_n(n, &seeds)?);
                    }
                }
                let halves: Vec<u64> = units
                    .iter()
                    .filter_map(|u| match *u {
                        Unit::Half(s) => Some(s),
                        _ => None,
                    })
                    .collect();
                let half = if halves.is_empty() {
                    Vec::new()
                } else {
                    let h = plan.half_records(&prepared, &halves)?;
                    for i in 0..halves.len() {
                        tick(plan.n_max, i);
                    }
                    h
                };
                Ok(Done::Shard(records, half))
            }
        }
    })();
    bar.lock().unwrap_or_else(|e| e.into_inner()).finish();
    match result {
        Ok(Done::Table(done)) => {
            let (table, budget) = *done;
            plan.report(&file, &table, budget.as_deref())?;
            if !quiet {
                eprintln!("wrote {}", out_path.display());
            }
            Ok(())
        }
        Ok(Done::Shard(records, half)) => {
            let s = shard.expect("a shard");
            write_records(&file, &records, &half)?;
            file.finish("complete")?;
            let reruns = if plan.reruns() {
                format!(" and {} of the {} η/2 reruns", half.len(), cs.seeds.len())
            } else {
                String::new()
            };
            println!(
                "shard {s}: {} of the {} (N, seed) runs{reruns}; merge the {} shards with `mfl merge`",
                records.len(),
                cs.ns.len() * cs.seeds.len(),
                s.count
            );
            if !quiet {
                eprintln!("wrote {}", out_path.display());
            }
            Ok(())
        }
        Err(e) => {
            // a stop request reads `interrupted …`, whichever layer it came through
            let msg = e.to_string();
            let msg = match msg.find("interrupted") {
                Some(i) if crate::signals::STOP.load(Ordering::SeqCst) => msg[i..].to_string(),
                _ => msg,
            };
            Err(fail_output(file, &msg).into())
        }
    }
}

/// The PDE writer of a comparison, stopped by SIGINT/SIGTERM at the end of a step.
struct Stopping<'a>(SolveWriter<'a>);

impl mfl_pde::Observer for Stopping<'_> {
    fn start(&mut self, grid: &mfl_core::Grid, rho0: &[f64]) -> Result<(), String> {
        self.0.start(grid, rho0)
    }
    fn diagnostics(&mut self, d: &mfl_pde::Diagnostics) -> Result<(), String> {
        self.0.diagnostics(d)
    }
    fn snapshot(&mut self, t: f64, rho: &[f64]) -> Result<(), String> {
        self.0.snapshot(t, rho)
    }
    fn after_step(&mut self, t: f64, steps: u64) -> Result<(), String> {
        self.0.after_step(t, steps)?;
        mfl_core::drive::StopFlag::new(&crate::signals::STOP).check(t)
    }
    fn finish(&mut self, last: &mfl_pde::Diagnostics, rho: &[f64]) -> Result<(), String> {
        self.0.finish(last, rho)
    }
}
