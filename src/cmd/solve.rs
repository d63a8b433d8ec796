//! `mfl solve CONFIG [-o OUT.h5]`: the finite-volume or spectral PDE run, streamed into HDF5.

use super::{create_output, fail_output, output_path, CmdResult};
use crate::progress::Progress;
use mfl_core::drive::StopFlag;
use mfl_io::h5::OutputFile;
use mfl_io::record::{write_grid, SolveWriter};
use mfl_io::scenario::pde::{describe_stepper, SolveSetup};
use mfl_io::scenario::Job;
use mfl_io::Scenario;
use mfl_pde::{Diagnostics, FvProblem, Observer};
use std::path::Path;

/// The `solver` attribute of the output file.
/// Both observers: the file first, then the progress bar; keeps (t, F) for the decay fit.
struct Both<'a, 'b> {
    file: SolveWriter<'a>,
    bar: &'b mut Progress,
    series: Vec<(f64, f64)>,
    /// Every diagnostics row, when the run is the finest of an extrapolation.
    rows: Option<Vec<Diagnostics>>,
    /// `output.proximal_gap`: the problem, and the previous snapshot's mode (warm start).
    proximal: Option<(&'b FvProblem, Option<Vec<f64>>)>,
}

impl Both<'_, '_> {
    /// `/proximal_gap` (one value per snapshot, aligned with `/time`): κ of the SG generator
    /// of Ψ(·; ρ_t) ([`mfl_pde::stationary::proximal_gap`]); NaN where Lanczos fails.
    fn proximal(&mut self, rho: &[f64]) -> Result<(), String> {
        let Some((problem, guess)) = &mut self.proximal else {
            return Ok(());
        };
        let mut psi = vec![0.0; rho.len()];
        problem.field.potential(rho, &mut psi);
        let opts = mfl_pde::stationary::EigenOptions::default();
        let m = mfl_pde::stationary::proximal_gap(
            &problem.grid,
            problem.temperature,
            &psi,
            &opts,
            guess.as_deref(),
        );
        let k = match m {
            Ok(m) => {
                *guess = Some(m.vector);
                m.kappa
            }
            Err(_) => f64::NAN,
        };
        self.file
            .out
            .append_scalar("/proximal_gap", k)
            .map_err(|e| e.to_string())?;
        self.file.out.flush().map_err(|e| e.to_string())
    }
}

impl Observer for Both<'_, '_> {
    fn diagnostics(&mut self, d: &Diagnostics) -> Result<(), String> {
        self.file.diagnostics(d)?;
        self.series.push((d.t, d.free_energy));
        if let Some(rows) = &mut self.rows {
            rows.push(d.clone());
        }
        self.bar.set(
            d.t,
            &format!(
                "t={:.4} dt={:.2e} R={} F={:.6e}",
                d.t,
                d.dt,
                d.risk.map_or("-".into(), |r| format!("{r:.6e}")),
                d.free_energy
            ),
        );
        Ok(())
    }
    fn snapshot(&mut self, t: f64, rho: &[f64]) -> Result<(), String> {
        self.file.snapshot(t, rho)?;
        self.proximal(rho)
    }
    fn after_step(&mut self, t: f64, _steps: u64) -> Result<(), String> {
        StopFlag::new(&crate::signals::STOP).check(t)
    }
}

/// Most fixed-point updates spent on F* after a run (a side computation: it is skipped, not an
/// error, when it does not converge).
const F_STAR_MAX_ITER: usize = 300;

/// At T > 0: F* = F(ρ*) of the discrete Gibbs state (`mfl stationary`'s fixed point, started
/// from Ψ of the final density) as the root attribute `f_star`, and the exponential fit of
/// F(ρ_t) − F* ([`mfl_pde::fit_decay`]) as attributes of `/diagnostics`: `decay_rate`,
/// `decay_intercept` (a in F − F* ≈ e^{a − κt}), `decay_rate_lo`, `decay_rate_hi` (the half-window interval), `decay_window_start`,
/// `decay_window_end`. Nothing is written when the fixed point does not reach 1e-12 within
/// [`F_STAR_MAX_ITER`] updates or the run has no asymptotic window.
fn write_decay(
    file: &OutputFile,
    problem: &FvProblem,
    rho: &[f64],
    series: &[(f64, f64)],
) -> Result<(), Box<dyn std::error::Error>> {
    let grid = &problem.grid;
    let field = problem.field.as_ref();
    let mut psi = vec![0.0; grid.len()];
    field.potential(rho, &mut psi);
    let opts = mfl_pde::StationaryOptions {
        max_iter: F_STAR_MAX_ITER,
        ..Default::default()
    };
    let Ok(st) = mfl_pde::stationary(grid, field, problem.temperature, &psi, &opts) else {
        return Ok(());
    };
    if !st.converged {
        return Ok(());
    }
    let f_star =
        mfl_pde::diagnose(grid, field, &st.rho, problem.temperature, 0.0, 0.0, 0).free_energy;
    file.set_attr_f64("/", "f_star", f_star)?;
    let (t, f): (Vec<f64>, Vec<f64>) = series.iter().copied().unzip();
    if let Some(fit) = mfl_pde::fit_decay(&t, &f, f_star) {
        file.set_attr_f64("/diagnostics", "decay_rate", fit.rate)?;
        file.set_attr_f64("/diagnostics", "decay_intercept", fit.intercept)?;
        file.set_attr_f64("/diagnostics", "decay_rate_lo", fit.interval.0)?;
        file.set_attr_f64("/diagnostics", "decay_rate_hi", fit.interval.1)?;
        file.set_attr_f64("/diagnostics", "decay_window_start", fit.window.0)?;
        file.set_attr_f64("/diagnostics", "decay_window_end", fit.window.1)?;
    }
    Ok(())
}

/// `mfl solve CONFIG`: the PDE run, streamed into the output; `attrs` are extra root
/// attributes (a sweep point's `sweep_point`, `sweep`).
pub fn run(
    path: &Path,
    sets: &[String],
    out: Option<&Path>,
    force: bool,
    quiet: bool,
    attrs: &[(&str, String)],
) -> CmdResult {
    let sc = Scenario::load(path, sets, Job::Solve)?;
    let cfg = &sc.config;
    // solver.extrapolate: the coarser grids first, the finest is the run the file holds
    let levels = crate::extrapolate::levels(&sc)?;
    let SolveSetup {
        problem,
        rho0,
        opts,
    } = levels.last().expect("≥ 1 level").require_pde()?.clone();
    let out_path = output_path(path, out);
    let mut file = create_output(&sc, path, &out_path, "solve", force)?;
    super::warn_quadrature(&sc);
    for (name, value) in attrs {
        file.set_attr("/", name, value)?;
    }
    write_grid(&file, &problem.grid)?;
    file.set_attr("/", "solver", &describe_stepper(&opts.stepper))?;
    crate::signals::install();
    let coarse = crate::extrapolate::run_coarse(&levels, |l| {
        if !quiet {
            eprintln!(
                "extrapolation: grid level {} of {} done",
                l + 1,
                levels.len()
            );
        }
    });
    let coarse = match coarse {
        Ok(c) => c,
        Err(e) => return Err(fail_output(file, &e).into()),
    };
    let mut bar = Progress::new(opts.t_end, quiet, "solve");
    let (result, series) = {
        let mut obs = Both {
            file: SolveWriter::new(&mut file, &problem.grid),
            bar: &mut bar,
            series: Vec::new(),
            rows: (levels.len() > 1).then(Vec::new),
            proximal: cfg.output.proximal_gap.then_some((&problem, None)),
        };
        let r = mfl_pde::solve(&problem, rho0, &opts, &mut obs);
        (r, (obs.series, obs.rows))
    };
    let (series, rows) = series;
    bar.finish();
    match result {
        Ok(rho) => {
            if problem.temperature > 0.0 {
                write_decay(&file, &problem, &rho, &series)?;
            }
            if let Some(fine) = rows {
                let mut all = coarse;
                all.push(fine);
                let p = if problem.temperature > 0.0 { 2.0 } else { 1.0 };
                for w in crate::extrapolate::write(&file, &all, p)? {
                    eprintln!("{w}");
                }
            }
            file.finish("complete")?;
            if !quiet {
                eprintln!("wrote {}", out_path.display());
            }
            Ok(())
        }
        Err(e) => {
            let msg = match e {
                mfl_pde::PdeError::Observer(m) => m,
                e => e.to_string(),
            };
            Err(fail_output(file, &msg).into())
        }
    }
}
