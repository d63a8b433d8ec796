//! The PDE run of a config: problem, initial density and run options.

use super::{Error, Scenario};
use crate::config::{Config, InteractionKind, Positivity, Scheme, StepperKind};
use crate::h5::read_array;
use crate::{build, ConfigError};
use mfl_core::Grid;
use mfl_pde::{
    mean_field_potential, FvProblem, Interaction, PositivityFilter, PotentialField, RunOptions,
    StepControl, StepperChoice,
};

/// The default `solver.rtol` of the mprk22 stepper.
pub const DEFAULT_RTOL: f64 = 1e-6;
use std::path::Path;

/// Everything a PDE run needs, resolved from a config.
#[derive(Clone)]
pub struct SolveSetup {
    /// Grid, temperature and the potential field Ψ(·; ρ).
    pub problem: FvProblem,
    /// ρ₀ on the grid's cells.
    pub rho0: Vec<f64>,
    /// Stepper, final time, snapshot times, diagnostics interval.
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
            if let Some(w) = ts.windows(2).find(|w| w[0] >= w[1]) {
                return Err(ConfigError::key(
                    "output.times",
                    format!(
                        "must be strictly increasing, but {} is followed by {}",
                        w[0], w[1]
                    ),
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
    init: &crate::config::InitCfg,
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
    if build::is_radial(cfg) {
        return Ok(build::radial_initial_density(cfg, grid)?);
    }
    let law = build::law(cfg, grid.dim(), Some(grid))?;
    Ok(law
        .on_grid(grid)
        .map_err(|e| ConfigError::key("init", e.to_string()))?)
}

/// Resolve `[solver]` (with `[grid]`, `[init]`, `[output]`) into a PDE problem on the
/// scenario's mean field, initial density and run options.
pub fn setup(sc: &Scenario) -> Result<SolveSetup, Error> {
    let (cfg, base) = (&sc.config, sc.base.as_path());
    let mf = sc.mean_field.clone();
    let grid = sc.require_grid("`mfl solve`")?.clone();
    let temperature = build::temperature(cfg)?;
    let s = cfg
        .solver
        .as_ref()
        .ok_or_else(|| ConfigError::key("solver", "`mfl solve` needs a [solver] table"))?;
    let spectral = s.scheme == Scheme::Spectral;
    let filter = match s.positivity {
        Positivity::None => PositivityFilter::None,
        Positivity::Clip if spectral => PositivityFilter::Clip,
        Positivity::Clip => {
            return Err(ConfigError::key(
                "solver.positivity",
                "\"clip\" is for solver.scheme = \"spectral\" (the FV schemes are positive)",
            )
            .into())
        }
    };
    let interaction = interaction(s.interaction);
    if !(s.t_end > 0.0 && s.t_end.is_finite()) {
        return Err(
            ConfigError::key("solver.t_end", format!("must be > 0, got {}", s.t_end)).into(),
        );
    }
    let stepper = match s.stepper {
        StepperKind::Implicit | StepperKind::Mprk22 if spectral => {
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
        StepperKind::Explicit => {
            if !(s.cfl > 0.0 && s.cfl <= 1.0) {
                return Err(ConfigError::key(
                    "solver.cfl",
                    format!("must be in (0, 1], got {}", s.cfl),
                )
                .into());
            }
            StepperChoice::Explicit { cfl: s.cfl }
        }
        StepperKind::Implicit => {
            let dt = s.dt.ok_or_else(|| {
                ConfigError::key("solver.dt", "the implicit stepper needs a time step dt")
            })?;
            if !(dt > 0.0 && dt.is_finite()) {
                return Err(ConfigError::key("solver.dt", format!("must be > 0, got {dt}")).into());
            }
            StepperChoice::Implicit { dt }
        }
        // mprk22: the tolerances (which need max ρ₀) are filled in below
        StepperKind::Mprk22 => {
            if let Some(dt) = s.dt {
                if !(dt > 0.0 && dt.is_finite()) {
                    return Err(
                        ConfigError::key("solver.dt", format!("must be > 0, got {dt}")).into(),
                    );
                }
            }
            match (s.dt, s.rtol) {
                // dt alone: fixed steps
                (Some(dt), None) => StepperChoice::Mprk22 {
                    control: StepControl::Fixed { dt },
                },
                // rtol (or neither): error control, dt (if given) the first step tried
                (first_dt, rtol) => {
                    let rtol = rtol.unwrap_or(DEFAULT_RTOL);
                    if !(rtol > 0.0 && rtol < 1.0) {
                        return Err(ConfigError::key(
                            "solver.rtol",
                            format!("must be in (0, 1), got {rtol}"),
                        )
                        .into());
                    }
                    StepperChoice::Mprk22 {
                        control: StepControl::Tolerance {
                            rtol,
                            atol: 0.0,
                            first_dt,
                        },
                    }
                }
            }
        }
    };
    if s.stepper != StepperKind::Mprk22 || spectral {
        for (key, v) in [("solver.rtol", s.rtol), ("solver.atol", s.atol)] {
            if v.is_some() {
                return Err(ConfigError::key(
                    key,
                    "error-controlled steps are those of solver.stepper = \"mprk22\" (the \
                     explicit stepper is held by its positivity limit, the others take solver.dt)",
                )
                .into());
            }
        }
    }
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
    let mut opts = opts;
    if let StepperChoice::Mprk22 {
        control: StepControl::Tolerance { rtol, atol, .. },
    } = &mut opts.stepper
    {
        *atol = match s.atol {
            Some(a) if !(a > 0.0 && a.is_finite()) => {
                return Err(ConfigError::key("solver.atol", format!("must be > 0, got {a}")).into())
            }
            Some(a) => a,
            None => *rtol * rho0.iter().fold(0.0f64, |m, &v| m.max(v)),
        };
    }
    let radial = build::radial_field(cfg, &mf, &grid)?;
    let field: Box<dyn PotentialField> = match build::closed_form_field(cfg, &mf, &grid)? {
        _ if radial.is_some() => Box::new(radial.expect("checked")),
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

/// What `mfl check` prints for `data.quadrature = "radial"`: the radial grid, the u_d table and
/// its K-vs-2K accuracy (every 8th radius, pairs), R(p₀) and the particles' data.
pub fn radial_summary(sc: &Scenario) -> Result<Vec<String>, Error> {
    let cfg = &sc.config;
    let grid = sc.require_grid("the radial reduction")?;
    let kernel = build::radial_kernel(cfg, 1)?;
    let k = &kernel;
    let ax = &grid.axes[0];
    let (du, dv) = k
        .accuracy(&ax.centres(), 8)
        .map_err(|e| ConfigError::key("data.nodes", e.to_string()))?;
    let rule = k.rule();
    let mut out = vec![
        format!(
            "grid        radius r = |w| ∈ [0, {}], {} cells (h = {:.4}, no-flux; the law of |w| for w ∈ R^{})",
            ax.hi,
            ax.n,
            ax.h(),
            k.dim()
        ),
        format!(
            "interaction radial reduction: u_d(r, r') = E_s[½Σ_y P(a_y r, a_y r', s)], {} Gauss–Gegenbauer \
             nodes in s, {} panels × 8 in g on [−{}, {}]; tabulated {}×{}; K vs 2K: max|Δu| = {du:.1e}, \
             max|Δv| = {dv:.1e}",
            rule.s_nodes, rule.panels, rule.truncate, rule.truncate, ax.n, ax.n
        ),
    ];
    if let Some(pde) = &sc.pde {
        // the field `mfl solve` built (its table is not computed twice)
        let e = pde.problem.field.energy(&pde.rho0);
        out.push(format!(
            "R(p₀)       {:.10e}   (on the radial grid; R(ρ₀) of the d-dimensional law up to the grid's O(h²))",
            e.risk.unwrap_or(f64::NAN),
        ));
    }
    out.push(format!(
        "particles   data: {} two-class samples in R^{} (R_N and exact gradients; minibatches are fresh draws)",
        sc.mean_field.data.len(),
        k.dim()
    ));
    Ok(out)
}

/// The reason of an invalid-value error without its leading key.
fn strip_what(e: &mfl_pde::PdeError) -> String {
    match e {
        mfl_pde::PdeError::Invalid { why, .. } => why.clone(),
        other => other.to_string(),
    }
}

/// The stepper as stored in the output's `solver` attribute and printed by `mfl check`:
/// "spectral ETDRK4 …" or "fv Explicit { cfl: … }" / "fv Implicit { dt: … }".
pub fn describe_stepper(s: &StepperChoice) -> String {
    match s {
        StepperChoice::Spectral { dt, cfl, filter } => format!(
            "spectral ETDRK4 (Fourier pseudo-spectral, 2/3 dealiasing), dt = {}, positivity = {filter:?}",
            dt.map_or(format!("adaptive (cfl {cfl})"), |d| d.to_string())
        ),
        other => format!("fv {other:?}"),
    }
}

/// The potential's evaluation of `solver.interaction`.
pub fn interaction(k: InteractionKind) -> Interaction {
    match k {
        InteractionKind::Auto => Interaction::Auto,
        InteractionKind::Fft => Interaction::Fft,
        InteractionKind::Direct => Interaction::Direct,
    }
}
