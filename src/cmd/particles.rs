//! `mfl particles CONFIG [-o OUT.h5] [--n N] [--seeds S]`: the N-neuron network under noisy SGD.

use super::{output_path, resolved_config, CmdResult};
use crate::progress::Progress;
use mfl_core::drive::{drive, DriveError, Schedule};
use mfl_io::h5::OutputFile;
use mfl_io::record::ParticlesWriter;
use mfl_io::scenario::Job;
use mfl_io::Scenario;
use mfl_particles::Ensemble;
use std::path::Path;

/// `mfl particles CONFIG`: every seed of the particle run, written at each record time.
pub fn run(
    path: &Path,
    sets: &[String],
    out: Option<&Path>,
    n: Option<usize>,
    seeds: Option<usize>,
    quiet: bool,
) -> CmdResult {
    let mut sets = sets.to_vec();
    if let Some(n) = n {
        sets.push(format!("particles.n={n}"));
    }
    if let Some(s) = seeds {
        sets.push(format!("particles.seeds={s}"));
    }
    let sc = Scenario::load(path, &sets, Job::Particles)?;
    let cfg = &sc.config;
    let setup = sc.require_particles()?;
    let out_path = output_path(path, out);
    let mut file = OutputFile::create(&out_path, "particles", &resolved_config(cfg))?;
    if let Some(g) = &sc.grid {
        mfl_io::record::write_grid(&file, g)?;
    }
    let schedule = Schedule::new(&setup.recording.schedule.times()?, setup.t_end, None)?;
    let mut bar = Progress::new(setup.t_end, quiet, "particles");
    let result = (|| -> Result<(), String> {
        let mut ens =
            Ensemble::new(&setup.dynamics, &setup.eval, &setup.seeds).map_err(|e| e.to_string())?;
        let mut writer = ParticlesWriter::new(&mut file, setup.recording.positions);
        drive(&mut ens, &schedule, &mut [&mut writer, &mut bar]).map_err(|e| match e {
            DriveError::Step(e) => e.to_string(),
            DriveError::Observer(m) => m,
        })?;
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
        Err(msg) => {
            let _ = file.finish(&format!("failed: {msg}"));
            Err(msg.into())
        }
    }
}
