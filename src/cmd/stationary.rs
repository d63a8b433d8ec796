//! `mfl stationary CONFIG [-o OUT.h5]`: stationary states ρ* = e^{−Ψ(ρ*)/T}/Z on the config's
//! grid, per temperature of `[stationary]`, with F, R, entropy, the residual history and the
//! predicted rate, printed and written into HDF5.

use super::{create_output, output_path, CmdResult};
use mfl_io::record::{write_grid, StationaryWriter};
use mfl_io::scenario::stationary::{setup, StationarySetup};
use mfl_io::scenario::Job;
use mfl_io::Scenario;
use mfl_pde::stationary::{continuation, StationaryPoint};
use std::path::Path;

/// The stdout report of one temperature.
fn report(p: &StationaryPoint, tol: f64) {
    let s = &p.state;
    let d = &p.diagnostics;
    println!(
        "T = {}: {} after {} iterations, Gibbs residual {:.3e} ({} tol {tol:e})",
        s.temperature,
        if s.converged {
            "converged"
        } else {
            "NOT converged"
        },
        s.evaluations - 1,
        s.residual,
        if s.converged { "≤" } else { ">" },
    );
    println!(
        "  F(ρ*) = {:.15e}   R(ρ*) = {}   entropy = {:.12e}   mass = {:.15}",
        d.free_energy,
        d.risk.map_or("-".into(), |r| format!("{r:.15e}")),
        d.entropy,
        d.mass
    );
    if let Some(m) = &p.mode {
        println!(
            "  predicted rate of F − F*: 2κ = {:.10e}   (κ = {:.10e}, error ≈ {:.1e}, bound {:.1e}{}, {} Lanczos steps)",
            m.rate,
            m.kappa,
            m.error,
            m.bound,
            if m.converged { "" } else { ", NOT converged" },
            m.applications
        );
    }
    let h: Vec<String> = s.history.iter().map(|r| format!("{r:.1e}")).collect();
    println!("  residuals: {}", h.join(" "));
}

/// `mfl stationary CONFIG`: the stationary state of each temperature.
pub fn run(
    path: &Path,
    sets: &[String],
    out: Option<&Path>,
    force: bool,
    quiet: bool,
    attrs: &[(&str, String)],
) -> CmdResult {
    let sc = Scenario::load(path, sets, Job::Stationary)?;
    let StationarySetup {
        grid,
        field,
        mf,
        psi0,
        settings,
    } = setup(&sc)?;
    let out_path = output_path(path, out);
    let mut file = create_output(&sc, path, &out_path, "stationary", force)?;
    for (name, value) in attrs {
        file.set_attr("/", name, value)?;
    }
    write_grid(&file, &grid)?;
    file.set_attr(
        "/",
        "solver",
        &format!(
            "stationary: Anderson({}) fixed point on Ψ, damping {}, tol {:e}; rates {}",
            settings.opts.anderson,
            settings.opts.damping,
            settings.opts.tol,
            settings.rates.as_ref().map_or("off".into(), |e| format!(
                "by H-Lanczos (krylov_dim {}, rate_tol {:e})",
                e.max_dim, e.tol
            ))
        ),
    )?;
    let tol = settings.opts.tol;
    crate::signals::install();
    let result = {
        let mut writer = StationaryWriter::new(&mut file, &grid);
        continuation(
            &grid,
            field.as_ref(),
            Some(&mf),
            &settings.temperatures,
            &psi0,
            &settings.opts,
            settings.rates.as_ref(),
            &mut |p| {
                report(p, tol);
                writer.point(p).map_err(|e| e.to_string())?;
                // a signal stops the continuation once the current temperature is written
                match crate::signals::STOP.load(std::sync::atomic::Ordering::SeqCst) {
                    true => Err(format!("interrupted after T = {}", p.state.temperature)),
                    false => Ok(()),
                }
            },
        )
    };
    let points = match result {
        Ok(p) => p,
        Err(e) => {
            let msg = e.to_string();
            let _ = file.finish(&format!("failed: {msg}"));
            return Err(format!("{msg} ({} is marked status = failed)", out_path.display()).into());
        }
    };
    let last = points.last().expect("at least one temperature");
    if last.state.converged {
        file.set_attr_f64("/", "f_star", last.diagnostics.free_energy)?;
        file.finish("complete")?;
        if !quiet {
            eprintln!("wrote {}", out_path.display());
        }
        Ok(())
    } else {
        let s = &last.state;
        let msg = format!(
            "stationary state not converged at T = {}: last residual {:.3e} after {} iterations \
             (best {:.3e}) > stationary.tol = {tol:e}",
            s.temperature,
            s.history.last().copied().unwrap_or(f64::NAN),
            s.evaluations - 1,
            s.residual
        );
        let _ = file.finish(&format!("failed: not converged: {msg}"));
        Err(format!(
            "{msg}; {} holds the best iterate, marked status = failed (try a smaller \
             stationary.damping, a larger stationary.max_iter, or a higher temperature)",
            out_path.display()
        )
        .into())
    }
}
