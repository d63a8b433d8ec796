//! `mfl solve CONFIG [-o OUT.h5]`: the finite-volume or spectral PDE run, streamed into HDF5.

use super::progress::Progress;
use super::{output_path, resolved_config, CmdResult};
use mfl_core::Grid;
use mfl_io::config::Config;
use mfl_io::h5::{read_array, OutputFile};
use mfl_io::record::{write_grid, SolveWriter};
use mfl_io::{build, ConfigError};
use mfl_pde::{
    mean_field_potential, Diagnostics, FvProblem, Interaction, Observer, PositivityFilter,
    PotentialField, RunOptions, StepperChoice,
};
use std::path::Path;

/// Everything a PDE run needs, resolved from a config.
pub struct SolveSetup {
    pub problem: FvProblem,
    pub rho0: Vec<f64>,
    pub opts: RunOptions,
}

/// Snapshot times of `[output]` for a run to `t_end`.
pub fn snapshot_times(cfg: &Config, t_end: f64) -> Result<Vec<f64>, ConfigError> {
    match &cfg.output.times {
        Some(ts) => {
            if let Some(bad) = ts.iter().find(|&&t| !(0.0..=t_end).contains(&t)) {
                return Err(ConfigError::key(
                    "output.times",
                    format!("{bad} is outside [0, t_end = {t_end}]"),
                ));
            }
            Ok(ts.clone())
        }
        None => {
            let n = cfg.output.snapshots;
            if n == 0 {
                return Ok(vec![]);
            }
            if n == 1 {
                return Ok(vec![t_end]);
            }
            // (t_end·i)/(n − 1) can round above t_end at i = n − 1 (0.2·6/6 = 0.20000000000000004):
            // clamp, which leaves every other time's bits as they were
            Ok((0..n)
                .map(|i| (t_end * i as f64 / (n - 1) as f64).min(t_end))
                .collect())
        }
    }
}

/// `[init] kind = "particles"`: the particles of an earlier `mfl particles` output —
/// `/particles/final_theta` [S, N, D], or with `init.index = i` record i of `/particles/positions`
/// [S, R, N, D] — pooled over the seeds and binned onto `grid` by [`mfl_pde::histogram`] (mass 1;
/// periodic axes wrap, particles outside a no-flux box count in the nearest edge cell).
fn particle_density(
    init: &mfl_io::config::InitCfg,
    base: &Path,
    grid: &Grid,
) -> Result<Vec<f64>, Box<dyn std::error::Error>> {
    let file = init.file.as_ref().ok_or_else(|| {
        ConfigError::key(
            "init.file",
            "kind = \"particles\" needs the `mfl particles` output it is read from",
        )
    })?;
    let path = base.join(file);
    let bad = |msg: String| {
        ConfigError::key(
            "init.file",
            format!("{}: {}", path.display(), msg.replace('\n', " ")),
        )
    };
    if !path.is_file() {
        return Err(bad("no such file".into()).into());
    }
    let (name, rank) = match init.index {
        None => ("/particles/final_theta", 3),
        Some(_) => ("/particles/positions", 4),
    };
    let a = read_array(&path, name).map_err(|e| {
        bad(format!(
            "cannot read {name} (not an `mfl particles` output{}?): {}",
            if rank == 4 {
                " with particles.positions = true"
            } else {
                ""
            },
            e.msg
        ))
    })?;
    if a.ndim() != rank || a.shape().contains(&0) {
        return Err(bad(format!(
            "{name} has shape {:?}, expected {rank} non-empty axes",
            a.shape()
        ))
        .into());
    }
    let a = match init.index {
        None => a,
        Some(i) => {
            let r = a.shape()[1];
            if i >= r {
                return Err(ConfigError::key(
                    "init.index",
                    format!(
                        "{} has {r} position records, index {i} is past the end",
                        path.display()
                    ),
                )
                .into());
            }
            a.index_axis(ndarray::Axis(1), i).to_owned()
        }
    };
    let d = a.shape()[2];
    if d != grid.dim() {
        return Err(bad(format!(
            "{name} holds {d}-dimensional particles, the grid is {}-dimensional",
            grid.dim()
        ))
        .into());
    }
    let pooled = a
        .as_standard_layout()
        .into_owned()
        .into_shape_with_order((a.shape()[0] * a.shape()[1], d))
        .map_err(|e| bad(e.to_string()))?;
    Ok(mfl_pde::histogram(grid, pooled.view()).map_err(|e| bad(format!("{name}: {e}")))?)
}

/// The initial density on `grid`: a law of `[init]`, a snapshot of an earlier output, or a
/// histogram of an earlier particle run.
pub fn initial_density(
    cfg: &Config,
    base: &Path,
    grid: &Grid,
) -> Result<Vec<f64>, Box<dyn std::error::Error>> {
    let init = cfg
        .init
        .as_ref()
        .ok_or_else(|| ConfigError::key("init", "`mfl solve` needs an [init] table"))?;
    if init.kind == "particles" {
        return particle_density(init, base, grid);
    }
    if init.kind == "snapshot" {
        let file = init.file.as_ref().ok_or_else(|| {
            ConfigError::key("init.file", "a snapshot needs the file it is read from")
        })?;
        let path = base.join(file);
        let d = read_array(&path, "/density")?;
        let n = d.shape()[0];
        if n == 0 {
            return Err(format!("{}: /density has no snapshots", path.display()).into());
        }
        let i = init.index.unwrap_or(n - 1);
        if i >= n {
            return Err(ConfigError::key(
                "init.index",
                format!(
                    "{} has {n} snapshots, index {i} is past the end",
                    path.display()
                ),
            )
            .into());
        }
        let frame = d.index_axis(ndarray::Axis(0), i);
        if frame.shape() != grid.shape().as_slice() {
            return Err(ConfigError::key(
                "init.file",
                format!(
                    "{}: snapshot shape {:?} does not match the grid {:?}",
                    path.display(),
                    frame.shape(),
                    grid.shape()
                ),
            )
            .into());
        }
        let rho: Vec<f64> = frame.iter().copied().collect();
        if rho.iter().any(|v| !(v.is_finite() && *v >= 0.0)) {
            return Err(format!(
                "{}: snapshot {i} has negative or non-finite values",
                path.display()
            )
            .into());
        }
        return Ok(rho);
    }
    let law = build::law(cfg, grid.dim(), Some(grid))?;
    Ok(law
        .on_grid(grid)
        .map_err(|e| ConfigError::key("init", e.to_string()))?)
}

/// Resolve a config into a PDE problem, initial density and run options.
pub fn setup(cfg: &Config, base: &Path) -> Result<SolveSetup, Box<dyn std::error::Error>> {
    let mf = build::mean_field(cfg, base, 1)?;
    let grid = build::grid(cfg)?;
    let temperature = build::temperature(cfg)?;
    let s = cfg
        .solver
        .as_ref()
        .ok_or_else(|| ConfigError::key("solver", "`mfl solve` needs a [solver] table"))?;
    let spectral = match s.scheme.as_str() {
        "fv" => false,
        "spectral" => true,
        other => {
            return Err(ConfigError::key(
                "solver.scheme",
                format!("unknown scheme '{other}'; valid: fv, spectral"),
            )
            .into())
        }
    };
    let filter = match s.positivity.as_str() {
        "none" => PositivityFilter::None,
        "clip" if spectral => PositivityFilter::Clip,
        "clip" => {
            return Err(ConfigError::key(
                "solver.positivity",
                "\"clip\" is for solver.scheme = \"spectral\" (the FV schemes are positive)",
            )
            .into())
        }
        other => {
            return Err(ConfigError::key(
                "solver.positivity",
                format!("unknown filter '{other}'; valid: none, clip"),
            )
            .into())
        }
    };
    let interaction = match s.interaction.as_str() {
        "auto" => Interaction::Auto,
        "fft" => Interaction::Fft,
        "direct" => Interaction::Direct,
        other => {
            return Err(ConfigError::key(
                "solver.interaction",
                format!("unknown interaction '{other}'; valid: auto, fft, direct"),
            )
            .into())
        }
    };
    if !(s.t_end > 0.0 && s.t_end.is_finite()) {
        return Err(
            ConfigError::key("solver.t_end", format!("must be > 0, got {}", s.t_end)).into(),
        );
    }
    let stepper = match s.stepper.as_str() {
        "implicit" if spectral => {
            return Err(ConfigError::key(
                "solver.stepper",
                "solver.scheme = \"spectral\" always uses ETDRK4 (exact diffusion); remove \
                 `stepper` or use scheme = \"fv\"",
            )
            .into())
        }
        _ if spectral => {
            if !(s.cfl > 0.0 && s.cfl <= 1.0) {
                return Err(ConfigError::key(
                    "solver.cfl",
                    format!("must be in (0, 1], got {}", s.cfl),
                )
                .into());
            }
            if let Some(dt) = s.dt {
                if !(dt > 0.0 && dt.is_finite()) {
                    return Err(
                        ConfigError::key("solver.dt", format!("must be > 0, got {dt}")).into(),
                    );
                }
            }
            StepperChoice::Spectral {
                dt: s.dt,
                cfl: s.cfl,
                filter,
            }
        }
        "explicit" => {
            if !(s.cfl > 0.0 && s.cfl <= 1.0) {
                return Err(ConfigError::key(
                    "solver.cfl",
                    format!("must be in (0, 1], got {}", s.cfl),
                )
                .into());
            }
            StepperChoice::Explicit { cfl: s.cfl }
        }
        "implicit" => {
            let dt = s.dt.ok_or_else(|| {
                ConfigError::key("solver.dt", "the implicit stepper needs a time step dt")
            })?;
            if !(dt > 0.0 && dt.is_finite()) {
                return Err(ConfigError::key("solver.dt", format!("must be > 0, got {dt}")).into());
            }
            StepperChoice::Implicit { dt }
        }
        other => {
            return Err(ConfigError::key(
                "solver.stepper",
                format!("unknown stepper '{other}'; valid: explicit, implicit"),
            )
            .into())
        }
    };
    if cfg.output.proximal_gap && temperature <= 0.0 {
        return Err(ConfigError::key(
            "output.proximal_gap",
            "the proximal Gibbs measure e^(−Ψ/T)/Z needs problem.temperature > 0",
        )
        .into());
    }
    let every = cfg.output.diagnostics_every.unwrap_or(s.t_end / 200.0);
    if !(every >= 0.0) {
        return Err(ConfigError::key("output.diagnostics_every", "must be ≥ 0").into());
    }
    let opts = RunOptions {
        t_end: s.t_end,
        stepper,
        snapshot_times: snapshot_times(cfg, s.t_end)?,
        diagnostics_every: every,
        dt_min: s.dt_min,
    };
    if spectral {
        mfl_pde::spectral::check_periodic(&grid)
            .map_err(|e| ConfigError::key("solver.scheme", strip_what(&e)))?;
    }
    let rho0 = initial_density(cfg, base, &grid)?;
    let field: Box<dyn PotentialField> = match build::closed_form_field(cfg, &mf, &grid)? {
        Some(f) => Box::new(f),
        None => mean_field_potential(mf, &grid, interaction).map_err(|e| match e {
            mfl_pde::PdeError::Invalid { what, why } if what == "interaction" => {
                ConfigError::key("solver.interaction", why)
            }
            other => ConfigError::key("grid", other.to_string()),
        })?,
    };
    let problem = FvProblem::new(grid, temperature, field)
        .map_err(|e| ConfigError::key("grid", e.to_string()))?;
    Ok(SolveSetup {
        problem,
        rho0,
        opts,
    })
}

/// The reason of an invalid-value error without its leading key.
fn strip_what(e: &mfl_pde::PdeError) -> String {
    match e {
        mfl_pde::PdeError::Invalid { why, .. } => why.clone(),
        other => other.to_string(),
    }
}

/// The `solver` attribute of the output file.
fn describe_solver(s: &StepperChoice) -> String {
    match s {
        StepperChoice::Spectral { dt, cfl, filter } => format!(
            "spectral ETDRK4 (Fourier pseudo-spectral, 2/3 dealiasing), dt = {}, positivity = {filter:?}",
            dt.map_or(format!("adaptive (cfl {cfl})"), |d| d.to_string())
        ),
        other => format!("fv {other:?}"),
    }
}

/// Both observers: the file first, then the progress bar; keeps (t, F) for the decay fit.
struct Both<'a, 'b> {
    file: SolveWriter<'a>,
    bar: &'b mut Progress,
    series: Vec<(f64, f64)>,
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

pub fn run(path: &Path, sets: &[String], out: Option<&Path>, quiet: bool) -> CmdResult {
    let cfg = build::load(path, sets)?;
    let base = build::base_dir(path);
    let SolveSetup {
        problem,
        rho0,
        opts,
    } = setup(&cfg, &base)?;
    let out_path = output_path(path, out);
    let mut file = OutputFile::create(&out_path, "solve", &resolved_config(&cfg))?;
    write_grid(&file, &problem.grid)?;
    file.set_attr("/", "solver", &describe_solver(&opts.stepper))?;
    let mut bar = Progress::new(opts.t_end, quiet, "solve");
    let (result, series) = {
        let mut obs = Both {
            file: SolveWriter::new(&mut file, &problem.grid),
            bar: &mut bar,
            series: Vec::new(),
            proximal: cfg.output.proximal_gap.then_some((&problem, None)),
        };
        let r = mfl_pde::solve(&problem, rho0, &opts, &mut obs);
        (r, obs.series)
    };
    bar.finish();
    match result {
        Ok(rho) => {
            if problem.temperature > 0.0 {
                write_decay(&file, &problem, &rho, &series)?;
            }
            file.finish("complete")?;
            if !quiet {
                eprintln!("wrote {}", out_path.display());
            }
            Ok(())
        }
        Err(e) => {
            let msg = e.to_string();
            let _ = file.finish(&format!("failed: {msg}"));
            Err(format!(
                "{msg} ({} keeps the snapshots before it, marked status = failed)",
                out_path.display()
            )
            .into())
        }
    }
}
