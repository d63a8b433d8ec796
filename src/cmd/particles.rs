//! `mfl particles CONFIG [-o OUT.h5] [--n N] [--seeds S]`: the N-neuron network under noisy SGD.

use super::progress::Progress;
use super::{output_path, resolved_config, CmdResult};
use crate::scenario::particles::setup;
use mfl_io::build;
use mfl_io::h5::OutputFile;
use mfl_particles::Trajectory;
use ndarray::{Array1, Array2, Array3, ArrayD, IxDyn};
use std::path::Path;

/// Write the trajectories under /particles.
pub fn write(
    out: &OutputFile,
    trajs: &[Trajectory],
    n: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let s = trajs.len();
    let r = trajs[0].len();
    let d = trajs[0].mean.ncols();
    let stack = |f: &dyn Fn(&Trajectory) -> Vec<f64>| -> Array2<f64> {
        let mut a = Array2::zeros((s, r));
        for (i, t) in trajs.iter().enumerate() {
            a.row_mut(i).assign(&Array1::from(f(t)));
        }
        a
    };
    let time = Array1::from(trajs[0].time.clone());
    out.write_array("/particles/time", time.view().into_dyn())?;
    out.write_array(
        "/particles/seeds",
        Array1::from_iter(trajs.iter().map(|t| t.seed as f64))
            .view()
            .into_dyn(),
    )?;
    let risk = stack(&|t| t.risk.clone());
    out.write_array("/particles/risk", risk.view().into_dyn())?;
    out.write_array(
        "/particles/energy",
        stack(&|t| t.energy.clone()).view().into_dyn(),
    )?;
    let mean = risk.mean_axis(ndarray::Axis(0)).expect("≥ 1 seed");
    out.write_array("/particles/risk_mean", mean.view().into_dyn())?;
    if s > 1 {
        let se = risk.std_axis(ndarray::Axis(0), 1.0) / (s as f64).sqrt();
        out.write_array("/particles/risk_se", se.view().into_dyn())?;
    }
    let mut m = Array3::zeros((s, r, d));
    let mut c = ArrayD::zeros(IxDyn(&[s, r, d, d]));
    for (i, t) in trajs.iter().enumerate() {
        m.index_axis_mut(ndarray::Axis(0), i).assign(&t.mean);
        c.index_axis_mut(ndarray::Axis(0), i)
            .assign(&t.cov.view().into_dyn());
    }
    out.write_array("/particles/mean", m.view().into_dyn())?;
    out.write_array("/particles/cov", c.view())?;
    let mut fin = Array3::zeros((s, n, d));
    for (i, t) in trajs.iter().enumerate() {
        fin.index_axis_mut(ndarray::Axis(0), i)
            .assign(&t.final_theta);
    }
    out.write_array("/particles/final_theta", fin.view().into_dyn())?;
    if trajs[0].positions.is_some() {
        let mut pos = ArrayD::zeros(IxDyn(&[s, r, n, d]));
        for (i, t) in trajs.iter().enumerate() {
            pos.index_axis_mut(ndarray::Axis(0), i)
                .assign(&t.positions.as_ref().expect("recorded").view().into_dyn());
        }
        out.write_array("/particles/positions", pos.view())?;
    }
    out.flush()?;
    Ok(())
}

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
    let cfg = build::load(path, &sets)?;
    let base = build::base_dir(path);
    let setup = setup(&cfg, &base)?;
    let out_path = output_path(path, out);
    let file = OutputFile::create(&out_path, "particles", &resolved_config(&cfg))?;
    if let Some(g) = &cfg.grid {
        let _ = g;
        mfl_io::record::write_grid(&file, &build::grid(&cfg)?)?;
    }
    let total = (setup.seeds.len() * setup.recording.schedule.times()?.len()) as f64;
    let mut bar = Progress::new(total, quiet, "particles");
    let mut done = 0.0;
    let result = setup
        .dynamics
        .run_seeds(&setup.eval, &setup.seeds, &setup.recording, |_, rec| {
            done += 1.0;
            bar.set(done, &format!("t={:.4} R_N={:.6e}", rec.time, rec.risk));
        });
    bar.finish();
    match result {
        Ok(trajs) => {
            write(&file, &trajs, setup.dynamics.n)?;
            file.finish("complete")?;
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
