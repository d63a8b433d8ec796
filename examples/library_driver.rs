//! mfl as a library: build the typed Scenario of a shipped config once, then drive the PDE and
//! an ensemble of particle seeds with the one driver (`mfl::core::drive`) and observers of
//! your own — no files, no terminal.
//!
//! ```sh
//! cargo run --release --example library_driver
//! ```
//!
//! Prints R(ρ_t) of the PDE and the seeds' mean R_N at the same record times, and their gap.

use mfl::core::drive::{drive, Observer, Schedule, TimeStepper};
use mfl::io::scenario::Job;
use mfl::io::Scenario;
use mfl::particles::Ensemble;
use mfl::pde::FvRun;
use std::path::Path;

/// Keeps (t, R(ρ_t)) of a grid run at each record time.
#[derive(Default)]
struct PdeRisk(Vec<(f64, f64)>);

impl Observer<FvRun<'_>> for PdeRisk {
    fn record(&mut self, s: &FvRun<'_>) -> Result<(), String> {
        let risk = s
            .problem()
            .field
            .energy(s.density())
            .risk
            .unwrap_or(f64::NAN);
        self.0.push((s.time(), risk));
        Ok(())
    }
}

/// Keeps (t, mean over seeds of R_N) of a particle ensemble at each record time.
#[derive(Default)]
struct MeanRisk(Vec<(f64, f64)>);

impl Observer<Ensemble<'_>> for MeanRisk {
    fn record(&mut self, e: &Ensemble<'_>) -> Result<(), String> {
        let st = e.stats();
        let mean = st.iter().map(|s| s.risk).sum::<f64>() / st.len() as f64;
        self.0.push((e.time(), mean));
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cfg = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/quickstart_1d.toml");
    let sets = ["solver.t_end=1.0".to_string(), "particles.t_end=1.0".into()];
    let both = Scenario::load(&cfg, &sets, Job::Check)?;
    let times = [0.0, 0.25, 0.5, 1.0];

    let pde = both.pde.as_ref().ok_or("the config has a [solver]")?;
    let stepper = pde
        .opts
        .stepper
        .build(&pde.problem.grid, pde.problem.temperature)?;
    let mut run = FvRun::new(&pde.problem, stepper, pde.rho0.clone(), pde.opts.dt_min)?;
    let mut pde_risk = PdeRisk::default();
    drive(
        &mut run,
        &Schedule::new(&times, 1.0, None)?,
        &mut [&mut pde_risk],
    )
    .map_err(|e| format!("{e:?}"))?;

    let p = both
        .particles
        .as_ref()
        .ok_or("the config has [particles]")?;
    let mut ens = Ensemble::new(&p.dynamics, &p.eval, &p.seeds)?;
    let mut mean_risk = MeanRisk::default();
    drive(
        &mut ens,
        &Schedule::new(&times, 1.0, None)?,
        &mut [&mut mean_risk],
    )
    .map_err(|e| format!("{e:?}"))?;

    println!(
        "N = {}, {} seeds, η = {}",
        p.dynamics.n,
        p.seeds.len(),
        p.dynamics.eta
    );
    println!(
        "{:>6} {:>14} {:>14} {:>11}",
        "t", "R(rho_t)", "mean R_N", "gap"
    );
    for ((t, r), (_, rn)) in pde_risk.0.iter().zip(&mean_risk.0) {
        println!("{t:>6} {r:>14.8e} {rn:>14.8e} {:>+11.3e}", rn - r);
    }
    Ok(())
}
