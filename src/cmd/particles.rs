//! `mfl particles CONFIG [-o OUT.h5] [--n N] [--seeds S] [--shard i/k]`: the N-neuron network
//! under noisy SGD (with `--shard`, a disjoint share of the seeds, joined by `mfl merge`).

use super::{create_output, fail_output, output_path, CmdResult};
use crate::progress::Progress;
use mfl_compare::sweep::shard::{assign, Shard};
use mfl_core::drive::{drive, DriveError, Schedule, StopFlag};
use mfl_io::record::ParticlesWriter;
use mfl_io::scenario::Job;
use mfl_io::Scenario;
use mfl_particles::Ensemble;
use std::path::Path;

/// `mfl particles CONFIG`: every seed of the particle run (or the shard's), written at each
/// record time.
#[allow(clippy::too_many_arguments)]
pub fn run(
    path: &Path,
    sets: &[String],
    out: Option<&Path>,
    force: bool,
    n: Option<usize>,
    seeds: Option<usize>,
    quiet: bool,
    shard: Option<Shard>,
) -> CmdResult {
    let mut sets = sets.to_vec();
    if let Some(n) = n {
        sets.push(format!("particles.n={n}"));
    }
    if let Some(s) = seeds {
        sets.push(format!("particles.seeds={s}"));
    }
    let sc = Scenario::load(path, &sets, Job::Particles)?;
    let setup = sc.require_particles()?;
    // the seeds this run does: all, or those of the shard (cost ∝ N is the same for each)
    let run_seeds: Vec<u64> = match shard {
        None => setup.seeds.clone(),
        Some(s) => {
            crate::compare_plan::check_seeds_exact(&setup.seeds)?;
            assign(&[setup.dynamics.n], &setup.seeds, s.count)
                .map_err(|e| format!("--shard {s}: {e}"))?[s.index]
                .iter()
                .map(|p| p.1)
                .collect()
        }
    };
    let out_path = output_path(path, out);
    let mut file = create_output(&sc, path, &out_path, "particles", force)?;
    super::warn_quadrature(&sc);
    if let Some(s) = shard {
        file.set_attr("/", "shard", &s.to_string())?;
    }
    if let Some(g) = &sc.grid {
        mfl_io::record::write_grid(&file, g)?;
    }
    let schedule = Schedule::new(&setup.recording.schedule.times()?, setup.t_end, None)?;
    crate::signals::install();
    let mut bar = Progress::new(setup.t_end, quiet, "particles");
    let result = (|| -> Result<(), String> {
        let mut ens =
            Ensemble::new(&setup.dynamics, &setup.eval, &run_seeds).map_err(|e| e.to_string())?;
        ens.stop_on(&crate::signals::STOP);
        let mut writer = ParticlesWriter::new(&mut file, setup.recording.positions);
        let mut stop = StopFlag::new(&crate::signals::STOP);
        drive(&mut ens, &schedule, &mut [&mut writer, &mut bar, &mut stop]).map_err(
            |e| match e {
                DriveError::Step(e) => e.to_string(),
                DriveError::Observer(m) => m,
            },
        )?;
        Ok(())
    })();
    bar.finish();
    match result {
        Ok(()) => {
            file.finish("complete")?;
            if !quiet {
                eprintln!("wrote {}", out_path.display());
            }
            Ok(())
        }
        Err(msg) => Err(fail_output(file, &msg).into()),
    }
}
