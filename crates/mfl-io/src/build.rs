//! From a parsed [`Config`] to validated core objects. Every rejection names its key.

use crate::config::{Config, DataCfg, GridCfg, InitCfg, InteractionKind, LossKind, UnitCfg};
use crate::error::{at, ConfigError};
use crate::overrides;
use mfl_core::data::{Inputs, Teacher};
use mfl_core::law::{Gaussian, Law};
use mfl_core::{
    Activation, Axis, Boundary, Data, Grid, Loss, MeanField, Param, PeriodicKernel, RbfParam, Unit,
};
use ndarray::Array2;
use std::path::{Path, PathBuf};

/// Read `path`, apply `--set` overrides, and deserialise (unknown keys rejected).
pub fn load(path: &Path, sets: &[String]) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
        path: path.display().to_string(),
        source: e,
    })?;
    parse(&text, &path.display().to_string(), sets)
}

/// How many configs [`parse`] has read on this thread (a [`crate::Scenario`] parses once;
/// its variants never re-parse — tests check this).
pub fn parse_count() -> usize {
    PARSES.with(|c| c.get())
}

thread_local! {
    static PARSES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Parse TOML text named `name` (for messages), apply overrides, deserialise.
pub fn parse(text: &str, name: &str, sets: &[String]) -> Result<Config, ConfigError> {
    PARSES.with(|c| c.set(c.get() + 1));
    let mut table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| ConfigError::Parse {
            path: name.to_string(),
            msg: e.to_string().trim_end().replace('\n', " "),
        })?;
    let original = table.clone();
    for s in sets {
        overrides::apply(&mut table, s)?;
    }
    let schema = |t: toml::Table| -> Result<Config, String> {
        toml::Value::Table(t)
            .try_into()
            .map_err(|e: toml::de::Error| e.to_string().trim_end().replace('\n', " "))
    };
    match schema(table) {
        Ok(cfg) => Ok(cfg),
        Err(msg) => {
            // blame the first override that breaks a config which is valid without it
            if !sets.is_empty() && schema(original.clone()).is_ok() {
                let mut t = original;
                for s in sets {
                    overrides::apply(&mut t, s)?;
                    if let Err(m) = schema(t.clone()) {
                        return Err(ConfigError::Parse {
                            path: format!("--set {s}"),
                            msg: m.replace("TOML parse error at line 1, column 1 | 1 |  | ^ ", ""),
                        });
                    }
                }
            }
            Err(ConfigError::Parse {
                path: name.to_string(),
                msg,
            })
        }
    }
}

/// The directory relative paths in a config are resolved against.
pub fn base_dir(config_path: &Path) -> PathBuf {
    config_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn finite(key: &str, v: f64) -> Result<f64, ConfigError> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(ConfigError::key(key, format!("must be finite, got {v}")))
    }
}

/// The temperature T ≥ 0.
pub fn temperature(cfg: &Config) -> Result<f64, ConfigError> {
    let t = finite("problem.temperature", cfg.problem.temperature)?;
    if t < 0.0 {
        return Err(ConfigError::key(
            "problem.temperature",
            format!("must be ≥ 0, got {t}"),
        ));
    }
    Ok(t)
}

/// A unit from `[unit]` (or `[teacher.unit]`, with `prefix` naming the table in messages).
pub fn unit(u: &UnitCfg, prefix: &str) -> Result<Unit, ConfigError> {
    let key = |k: &str| format!("{prefix}.{k}");
    if u.input_dim == 0 {
        return Err(ConfigError::key(key("input_dim"), "must be ≥ 1"));
    }
    if u.kind != "ridge" || u.activation != mfl_core::activation::PIECEWISE_LINEAR_NAME {
        for (k, present) in [
            ("breaks", u.breaks.is_some()),
            ("levels", u.levels.is_some()),
        ] {
            if present {
                return Err(ConfigError::key(
                    key(k),
                    "is a parameter of kind = \"ridge\", activation = \"piecewise_linear\" only",
                ));
            }
        }
    }
    let unit = match u.kind.as_str() {
        "ridge" => Unit::Ridge {
            act: activation(u, prefix)?,
            param: Param::parse(&u.param).map_err(|e| ConfigError::key(key("param"), strip(e)))?,
            input_dim: u.input_dim,
        },
        "periodic" => {
            let kernel = match u.kernel.as_deref().unwrap_or("dirichlet") {
                "gaussian" => {
                    let width = u.width.ok_or_else(|| {
                        ConfigError::key(key("width"), "a periodic gaussian unit needs a width")
                    })?;
                    if !(width > 0.0 && width.is_finite()) {
                        return Err(ConfigError::key(
                            key("width"),
                            format!("must be > 0, got {width}"),
                        ));
                    }
                    PeriodicKernel::WrappedGaussian { width }
                }
                "dirichlet" => match (&u.coeffs, u.frequencies) {
                    (Some(c), _) if !c.is_empty() => PeriodicKernel::Fourier { coeffs: c.clone() },
                    (Some(_), _) => {
                        return Err(ConfigError::key(
                            key("coeffs"),
                            "needs at least one coefficient",
                        ))
                    }
                    (None, Some(l)) => PeriodicKernel::dirichlet(l),
                    (None, None) => {
                        return Err(ConfigError::key(
                            key("frequencies"),
                            "a dirichlet unit needs `frequencies` (or `coeffs`)",
                        ))
                    }
                },
                other => {
                    return Err(ConfigError::key(
                        key("kernel"),
                        format!("unknown periodic kernel '{other}'; valid: gaussian, dirichlet"),
                    ))
                }
            };
            Unit::Periodic {
                kernel,
                weighted: u.weighted,
                input_dim: u.input_dim,
            }
        }
        "rbf" => {
            let param = RbfParam::parse(if u.param == "w" { "y_c" } else { &u.param })
                .map_err(|e| ConfigError::key(key("param"), strip(e)))?;
            let width = match (param, u.width) {
                (RbfParam::YS, w) => w.unwrap_or(f64::NAN),
                (_, Some(w)) if w > 0.0 && w.is_finite() => w,
                (_, Some(w)) => {
                    return Err(ConfigError::key(
                        key("width"),
                        format!("must be > 0, got {w}"),
                    ))
                }
                (_, None) => {
                    return Err(ConfigError::key(
                        key("width"),
                        "an rbf unit needs its width s (the standard deviation of N(x; y, s))",
                    ))
                }
            };
            Unit::Rbf {
                param,
                width,
                input_dim: u.input_dim,
            }
        }
        other => {
            return Err(ConfigError::key(
                key("kind"),
                format!("unknown unit kind '{other}'; valid: ridge, periodic, rbf"),
            ))
        }
    };
    unit.validate()
        .map_err(|e| ConfigError::key(key("input_dim"), strip(e)))?;
    Ok(unit)
}

/// The activation of a ridge `[unit]`: a name of [`mfl_core::activation::ACTIVATION_NAMES`], or
/// `piecewise_linear` with `breaks = [t₁, t₂]` (t₁ < t₂) and `levels = [s₁, s₂]`
/// (σ(z) = s₁ for z ≤ t₁, s₂ for z ≥ t₂, linear in between).
pub fn activation(u: &UnitCfg, prefix: &str) -> Result<Activation, ConfigError> {
    let key = |k: &str| format!("{prefix}.{k}");
    if u.activation != mfl_core::activation::PIECEWISE_LINEAR_NAME {
        return Activation::parse(&u.activation)
            .map_err(|e| ConfigError::key(key("activation"), strip(e)));
    }
    let pair = |k: &str, v: &Option<Vec<f64>>, what: &str| -> Result<(f64, f64), ConfigError> {
        match v.as_deref() {
            Some([a, b]) if a.is_finite() && b.is_finite() => Ok((*a, *b)),
            Some(other) => Err(ConfigError::key(
                key(k),
                format!("needs two finite numbers {what}, got {other:?}"),
            )),
            None => Err(ConfigError::key(
                key(k),
                format!("activation = \"piecewise_linear\" needs `{k} = {what}`"),
            )),
        }
    };
    let (t1, t2) = pair("breaks", &u.breaks, "[t1, t2]")?;
    let (s1, s2) = pair("levels", &u.levels, "[s1, s2]")?;
    Activation::piecewise_linear(t1, t2, s1, s2)
        .map_err(|e| ConfigError::key(key("breaks"), strip(e)))
}

/// The message of a core error without its own leading name.
fn strip(e: mfl_core::CoreError) -> String {
    let mfl_core::CoreError::Invalid { why, .. } = e;
    why
}

fn matrix(key: &str, rows: &[Vec<f64>], n: usize) -> Result<Vec<f64>, ConfigError> {
    if rows.len() != n || rows.iter().any(|r| r.len() != n) {
        return Err(ConfigError::key(key, format!("must be a {n}×{n} matrix")));
    }
    let flat: Vec<f64> = rows.iter().flatten().copied().collect();
    if flat.iter().any(|v| !v.is_finite()) {
        return Err(ConfigError::key(key, "has a non-finite entry"));
    }
    Ok(flat)
}

/// The teacher of `[teacher]`, checked against the data's input dimension `d`.
pub fn teacher(cfg: &Config, student: &Unit) -> Result<Option<Teacher>, ConfigError> {
    let Some(t) = &cfg.teacher else {
        return Ok(None);
    };
    let unit = match &t.unit {
        Some(u) => unit(u, "teacher.unit")?,
        None => student.clone(),
    };
    let dt = unit.theta_dim();
    if t.theta.is_empty() {
        return Err(ConfigError::key(
            "teacher.theta",
            "needs at least one neuron",
        ));
    }
    for (j, row) in t.theta.iter().enumerate() {
        if row.len() != dt {
            return Err(ConfigError::key(
                "teacher.theta",
                format!(
                    "neuron {j} has {} parameters, the teacher's unit needs {dt} (θ of dimension {dt})",
                    row.len()
                ),
            ));
        }
        if row.iter().any(|v| !v.is_finite()) {
            return Err(ConfigError::key(
                "teacher.theta",
                format!("neuron {j} has a non-finite value"),
            ));
        }
    }
    let jn = t.theta.len();
    let coeffs = t
        .coeffs
        .clone()
        .unwrap_or_else(|| vec![1.0 / jn as f64; jn]);
    let theta = Array2::from_shape_vec((jn, dt), t.theta.iter().flatten().copied().collect())
        .expect("checked");
    Teacher::new(unit, theta, coeffs)
        .map(Some)
        .map_err(at("teacher.coeffs"))
}

/// The data of `[data]`, with every quadrature's node count multiplied by `refine` (1 for the
/// configured rule, 2 for the K-vs-2K quadrature-error estimate).
pub fn data(cfg: &Config, base: &Path, refine: usize) -> Result<Data, ConfigError> {
    let dc: &DataCfg = &cfg.data;
    let student = unit(&cfg.unit, "unit")?;
    let d = student.input_dim();
    let teacher = teacher(cfg, &student)?;
    if let Some(t) = &teacher {
        if t.unit.input_dim() != d {
            return Err(ConfigError::key(
                "teacher.unit.input_dim",
                format!(
                    "the teacher takes inputs of dimension {}, the student {d}",
                    t.unit.input_dim()
                ),
            ));
        }
    }
    let noise = finite("data.noise", dc.noise)?;
    if noise < 0.0 {
        return Err(ConfigError::key("data.noise", "must be ≥ 0"));
    }
    let need_teacher = || {
        teacher.clone().ok_or_else(|| {
            ConfigError::key(
                "teacher",
                format!(
                    "data of kind '{}' needs a [teacher] for its labels",
                    dc.kind
                ),
            )
        })
    };
    let nodes = |default: usize| -> Result<usize, ConfigError> {
        let k = dc.nodes.unwrap_or(default);
        if k == 0 {
            return Err(ConfigError::key(
                "data.nodes",
                "must be ≥ 1 (0 quadrature nodes)",
            ));
        }
        Ok(k * refine)
    };
    let tensor_limit = |k: usize| -> Result<(), ConfigError> {
        if d > 3 || k.checked_pow(d as u32).is_none_or(|n| n > 4_000_000) {
            return Err(ConfigError::key(
                "data.kind",
                format!("a tensor quadrature in d = {d} with {k} nodes per axis is too large; use kind = \"samples\""),
            ));
        }
        Ok(())
    };
    let standard_gaussian = || -> Result<Inputs, ConfigError> {
        match dc.quadrature.as_deref().unwrap_or("hermite") {
            "hermite" => {
                let k = nodes(40)?;
                tensor_limit(k)?;
                Ok(Inputs::gauss_hermite(d, k))
            }
            "legendre" => {
                let k = nodes(8)?;
                let panels = dc.panels.unwrap_or(32);
                if panels == 0 {
                    return Err(ConfigError::key("data.panels", "must be ≥ 1"));
                }
                let l = finite("data.truncate", dc.truncate.unwrap_or(8.0))?;
                if l <= 0.0 {
                    return Err(ConfigError::key("data.truncate", "must be > 0"));
                }
                tensor_limit(k * panels)?;
                Ok(Inputs::gauss_legendre(d, panels, k, l))
            }
            "closed_form" => {
                // the grid potential (and the rates' DΨ) is exact (`closed_form_field`); these
                // Gauss–Hermite data serve particle runs and `mfl check`'s quadrature line
                let k = nodes(40)?;
                tensor_limit(k)?;
                Ok(Inputs::gauss_hermite(d, k))
            }
            "radial" => Err(ConfigError::key(
                "data.quadrature",
                "\"radial\" (the radially reduced isotropic problem) needs kind = \"two_class\"",
            )),
            other => Err(ConfigError::key(
                "data.quadrature",
                format!(
                    "unknown quadrature '{other}'; valid: hermite, legendre, closed_form, radial"
                ),
            )),
        }
    };
    if is_closed_form(cfg) {
        check_closed_form(cfg, &student, teacher.as_ref())?;
    }
    if is_radial(cfg) && dc.kind != "two_class" {
        return Err(ConfigError::key(
            "data.quadrature",
            format!("\"radial\" (the radially reduced isotropic problem) needs kind = \"two_class\", not '{}'", dc.kind),
        ));
    }
    let out = match dc.kind.as_str() {
        "gaussian" => {
            let mut q = standard_gaussian()?;
            if let Some(c) = &dc.cov {
                let flat = matrix("data.cov", c, d)?;
                let l = mfl_core::law::cholesky(&flat, d)
                    .ok_or_else(|| ConfigError::key("data.cov", "must be symmetric positive definite"))?;
                q = q.transform(Array2::from_shape_vec((d, d), l).expect("d×d").view());
            }
            q.label(&need_teacher()?, noise * noise).map_err(at("teacher"))?
        }
        "two_class" if is_radial(cfg) => {
            check_radial(cfg, &student)?;
            let delta = dc
                .delta
                .ok_or_else(|| ConfigError::key("data.delta", "two_class data needs delta (Δ)"))?;
            // the grid runs use the radial reduction (`radial_field`); these samples are the
            // particles' data (R_N, exact gradients) and `mfl check`'s E[y²] line
            let n = dc.n.unwrap_or(RADIAL_SAMPLES);
            if n == 0 {
                return Err(ConfigError::key("data.n", "must be ≥ 1"));
            }
            Data::two_class_samples(d, delta, n * refine, dc.seed.unwrap_or(0))
                .map_err(at("data.delta"))?
        }
        "two_class" => {
            let delta = dc
                .delta
                .ok_or_else(|| ConfigError::key("data.delta", "two_class data needs delta (Δ)"))?;
            Data::two_class(&standard_gaussian()?, delta).map_err(at("data.delta"))?
        }
        "torus" => {
            let k = nodes(64)?;
            tensor_limit(k)?;
            Inputs::torus(d, k).label(&need_teacher()?, noise * noise).map_err(at("teacher"))?
        }
        "interval" => {
            let k = nodes(40)?;
            tensor_limit(k)?;
            let lo = finite("data.lo", dc.lo.unwrap_or(-1.0))?;
            let hi = finite("data.hi", dc.hi.unwrap_or(1.0))?;
            if lo >= hi {
                return Err(ConfigError::key("data.hi", format!("need lo < hi, got [{lo}, {hi}]")));
            }
            Inputs::interval(d, k, lo, hi, dc.lebesgue)
                .label(&need_teacher()?, noise * noise)
                .map_err(at("teacher"))?
        }
        "csv" => {
            let p = dc
                .path
                .as_ref()
                .ok_or_else(|| ConfigError::key("data.path", "csv data needs a path"))?;
            let (x, y) = crate::csv::read_xy(&base.join(p), d)?;
            Data::samples(x, y).map_err(at("data.path"))?
        }
        "samples" => {
            let n = dc.n.ok_or_else(|| ConfigError::key("data.n", "samples need n"))?;
            if n == 0 {
                return Err(ConfigError::key("data.n", "must be ≥ 1"));
            }
            let seed = dc.seed.unwrap_or(0);
            match dc.law.as_deref().unwrap_or("gaussian") {
                "gaussian" => Inputs::gaussian_samples(d, n, seed)
                    .label(&need_teacher()?, 0.0)
                    .map_err(at("teacher"))?,
                "two_class" => {
                    let delta = dc
                        .delta
                        .ok_or_else(|| ConfigError::key("data.delta", "two_class samples need delta (Δ)"))?;
                    Data::two_class_samples(d, delta, n, seed).map_err(at("data.delta"))?
                }
                other => {
                    return Err(ConfigError::key(
                        "data.law",
                        format!("unknown law '{other}'; valid: gaussian, two_class"),
                    ))
                }
            }
        }
        other => {
            return Err(ConfigError::key(
                "data.kind",
                format!("unknown data kind '{other}'; valid: gaussian, two_class, torus, interval, csv, samples"),
            ))
        }
    };
    Ok(out)
}

/// Whether `[data] quadrature = "closed_form"`: the erf network's grid potential in closed form
/// ([`mfl_pde::ErfClosedForm`]).
pub fn is_closed_form(cfg: &Config) -> bool {
    cfg.data.quadrature.as_deref() == Some("closed_form")
}

/// The conditions of the closed form: `[data] kind = "gaussian"` without `cov`, erf ridge student
/// and teacher units on d = 1 inputs with θ = w or (a, w), the squared loss.
fn check_closed_form(
    cfg: &Config,
    student: &Unit,
    teacher: Option<&Teacher>,
) -> Result<(), ConfigError> {
    const WHY: &str = "quadrature = \"closed_form\" needs";
    if cfg.data.kind != "gaussian" || cfg.data.cov.is_some() {
        return Err(ConfigError::key(
            "data.quadrature",
            format!("{WHY} kind = \"gaussian\" with x ~ N(0, 1) (no data.cov)"),
        ));
    }
    if mfl_pde::erf_closed::erf_ridge_1d(student).is_none() {
        return Err(ConfigError::key(
            "data.quadrature",
            format!("{WHY} an erf ridge unit with input_dim = 1 and param w or a_w ([unit])"),
        ));
    }
    if let Some(t) = teacher {
        if mfl_pde::erf_closed::erf_ridge_1d(&t.unit).is_none() {
            return Err(ConfigError::key(
                "data.quadrature",
                format!("{WHY} an erf ridge teacher with input_dim = 1 and param w or a_w ([teacher.unit])"),
            ));
        }
    }
    if cfg.problem.loss != LossKind::Squared {
        return Err(ConfigError::key(
            "data.quadrature",
            format!("{WHY} the squared loss (problem.loss)"),
        ));
    }
    Ok(())
}

/// The closed-form grid potential when `[data] quadrature = "closed_form"` (None otherwise):
/// [`mfl_pde::ErfClosedForm`] of `mf` with the `[teacher]` labels on `grid`.
pub fn closed_form_field(
    cfg: &Config,
    mf: &MeanField,
    grid: &Grid,
) -> Result<Option<mfl_pde::ErfClosedForm>, ConfigError> {
    if !is_closed_form(cfg) {
        return Ok(None);
    }
    let t = teacher(cfg, &mf.unit)?
        .ok_or_else(|| ConfigError::key("teacher", "the closed form needs a [teacher]"))?;
    check_closed_form(cfg, &mf.unit, Some(&t))?;
    if cfg
        .solver
        .as_ref()
        .is_some_and(|s| s.interaction == InteractionKind::Fft)
    {
        return Err(ConfigError::key(
            "solver.interaction",
            "\"fft\" does not apply with data.quadrature = \"closed_form\"",
        ));
    }
    mfl_pde::ErfClosedForm::new(mf, &t, grid)
        .map(Some)
        .map_err(|e| match e {
            mfl_pde::PdeError::Invalid { why, .. } => ConfigError::key("grid", why),
            other => ConfigError::key("grid", other.to_string()),
        })
}

/// The default number of two-class samples of the particles' data with `quadrature = "radial"`.
pub const RADIAL_SAMPLES: usize = 20_000;

/// Whether `[data] quadrature = "radial"`: the isotropic two-class problem reduced to the law of
/// r = |w| on a 1D grid [0, r_max] ([`mfl_pde::IsotropicField`]); the particles stay in R^d.
pub fn is_radial(cfg: &Config) -> bool {
    cfg.data.quadrature.as_deref() == Some("radial")
}

/// The conditions of the radial reduction: `[data] kind = "two_class"` (checked by the caller),
/// a ridge unit σ(⟨w, x⟩) with `param = "w"` and `input_dim` ≥ 2, no `[teacher]` (the labels
/// are the classes), the squared loss.
fn check_radial(cfg: &Config, student: &Unit) -> Result<(), ConfigError> {
    const WHY: &str = "quadrature = \"radial\" needs";
    match student {
        Unit::Ridge {
            param: Param::W,
            input_dim,
            ..
        } if *input_dim >= 2 => {}
        _ => {
            return Err(ConfigError::key(
                "data.quadrature",
                format!("{WHY} a ridge unit with param = \"w\" and input_dim ≥ 2 ([unit])"),
            ))
        }
    }
    if cfg.teacher.is_some() {
        return Err(ConfigError::key(
            "teacher",
            format!("{WHY} the two classes' labels y = ±1: remove [teacher]"),
        ));
    }
    if cfg.problem.loss != LossKind::Squared {
        return Err(ConfigError::key(
            "data.quadrature",
            format!("{WHY} the squared loss (problem.loss)"),
        ));
    }
    Ok(())
}

/// The radial rule of `[data]`: `nodes` Gauss–Gegenbauer nodes in the cosine (default 16),
/// `panels` Gauss–Legendre panels of 8 nodes in g (default 16), `truncate` L (default 8).
pub fn radial_rule(cfg: &Config, refine: usize) -> Result<mfl_pde::RadialRule, ConfigError> {
    let dc = &cfg.data;
    let d = mfl_pde::RadialRule::default();
    let s_nodes = dc.nodes.unwrap_or(d.s_nodes);
    if s_nodes == 0 {
        return Err(ConfigError::key(
            "data.nodes",
            "must be ≥ 1 (0 quadrature nodes)",
        ));
    }
    let panels = dc.panels.unwrap_or(d.panels);
    if panels == 0 {
        return Err(ConfigError::key("data.panels", "must be ≥ 1"));
    }
    let truncate = finite("data.truncate", dc.truncate.unwrap_or(d.truncate))?;
    if truncate <= 0.0 {
        return Err(ConfigError::key("data.truncate", "must be > 0"));
    }
    Ok(mfl_pde::RadialRule {
        s_nodes,
        panels,
        truncate,
    }
    .refined(refine))
}

/// The radial kernel (v, u_d) of `[unit]` and `[data]` when `quadrature = "radial"`.
pub fn radial_kernel(cfg: &Config, refine: usize) -> Result<mfl_pde::IsotropicKernel, ConfigError> {
    let student = unit(&cfg.unit, "unit")?;
    check_radial(cfg, &student)?;
    let Unit::Ridge { act, input_dim, .. } = student else {
        unreachable!("checked");
    };
    let delta = cfg
        .data
        .delta
        .ok_or_else(|| ConfigError::key("data.delta", "two_class data needs delta (Δ)"))?;
    mfl_pde::IsotropicKernel::new(act, input_dim, delta, radial_rule(cfg, refine)?).map_err(|e| {
        match e {
            mfl_pde::PdeError::Invalid { what, why } if what == "delta" => {
                ConfigError::key("data.delta", why)
            }
            other => ConfigError::key("data.quadrature", other.to_string()),
        }
    })
}

/// The radially reduced grid potential when `[data] quadrature = "radial"` (None otherwise):
/// [`mfl_pde::IsotropicField`] on the radial `grid` with λ of `[problem]` and T. Tabulates u_d.
pub fn radial_field(
    cfg: &Config,
    mf: &MeanField,
    grid: &Grid,
) -> Result<Option<mfl_pde::IsotropicField>, ConfigError> {
    if !is_radial(cfg) {
        return Ok(None);
    }
    if cfg
        .solver
        .as_ref()
        .is_some_and(|s| s.interaction == InteractionKind::Fft)
    {
        return Err(ConfigError::key(
            "solver.interaction",
            "\"fft\" does not apply with data.quadrature = \"radial\"",
        ));
    }
    let kernel = radial_kernel(cfg, 1)?;
    mfl_pde::IsotropicField::new(kernel, grid, mf.lambda, temperature(cfg)?)
        .map(Some)
        .map_err(|e| match e {
            mfl_pde::PdeError::Invalid { why, .. } => ConfigError::key("grid", why),
            other => ConfigError::key("grid", other.to_string()),
        })
}

/// The initial law of the radius on the radial grid: `[init] kind = "gaussian"` with `std`
/// (w ~ N(0, std² I_d); `mean`, if given, all zeros) gives p₀(r) ∝ r^{d−1}e^{−r²/(2 std²)} at the
/// cell centres, mass 1 ([`mfl_pde::IsotropicField::gaussian_radius`]).
pub fn radial_initial_density(cfg: &Config, grid: &Grid) -> Result<Vec<f64>, ConfigError> {
    let i = cfg
        .init
        .as_ref()
        .ok_or_else(|| ConfigError::key("init", "this command needs an [init] table"))?;
    if i.kind != "gaussian" {
        return Err(ConfigError::key(
            "init.kind",
            format!(
                "with data.quadrature = \"radial\" the initial law must stay radial: kind = \"gaussian\" \
                 with `std` (or \"snapshot\"), not '{}'",
                i.kind
            ),
        ));
    }
    if i.cov.is_some() {
        return Err(ConfigError::key(
            "init.cov",
            "with data.quadrature = \"radial\" the initial Gaussian is isotropic: give `std`",
        ));
    }
    if i.mean.as_ref().is_some_and(|m| m.iter().any(|v| *v != 0.0)) {
        return Err(ConfigError::key(
            "init.mean",
            "with data.quadrature = \"radial\" the initial Gaussian is centred (mean 0)",
        ));
    }
    let std = i
        .std
        .ok_or_else(|| ConfigError::key("init.std", "a radial Gaussian needs `std`"))?;
    let d = cfg.unit.input_dim;
    mfl_pde::IsotropicField::gaussian_radius(grid, d, std)
        .map_err(|e| ConfigError::key("init.std", e.to_string()))
}

/// The mean-field problem of `[problem]`, `[unit]`, `[data]`, `[teacher]`.
pub fn mean_field(cfg: &Config, base: &Path, refine: usize) -> Result<MeanField, ConfigError> {
    let u = unit(&cfg.unit, "unit")?;
    let loss = match cfg.problem.loss {
        LossKind::Squared => Loss::Squared,
        LossKind::Logistic => Loss::Logistic,
    };
    let lambda = finite("problem.lambda", cfg.problem.lambda)?;
    if lambda < 0.0 {
        return Err(ConfigError::key(
            "problem.lambda",
            format!("must be ≥ 0, got {lambda}"),
        ));
    }
    temperature(cfg)?;
    let d = data(cfg, base, refine)?;
    if loss == Loss::Logistic && d.noise_var > 0.0 {
        return Err(ConfigError::key(
            "data.noise",
            "label noise is only defined for the squared loss",
        ));
    }
    MeanField::new(u, loss, d, lambda).map_err(at("problem.loss"))
}

/// The grid of `[grid]`, checked against the unit's θ dimension.
pub fn grid(cfg: &Config) -> Result<Grid, ConfigError> {
    let g: &GridCfg = cfg
        .grid
        .as_ref()
        .ok_or_else(|| ConfigError::key("grid", "this command needs a [grid] table"))?;
    let radial = is_radial(cfg);
    let dd = if radial {
        1
    } else {
        unit(&cfg.unit, "unit")?.theta_dim()
    };
    if radial && (g.lo.first() != Some(&0.0) || g.lo.len() != 1) {
        return Err(ConfigError::key(
            "grid.lo",
            "with data.quadrature = \"radial\" the grid is the radius: lo = [0.0], hi = [r_max]",
        ));
    }
    if radial
        && g.boundary
            .as_ref()
            .is_some_and(|b| b.iter().any(|x| x != "noflux"))
    {
        return Err(ConfigError::key(
            "grid.boundary",
            "the radial grid [0, r_max] has no-flux walls",
        ));
    }
    if dd > 2 {
        return Err(ConfigError::key(
            "grid",
            format!(
                "grids are 1D or 2D, but this unit has θ of dimension {dd} (use `mfl particles`)"
            ),
        ));
    }
    for (k, len) in [
        ("grid.lo", g.lo.len()),
        ("grid.hi", g.hi.len()),
        ("grid.cells", g.cells.len()),
    ] {
        if len != dd {
            return Err(ConfigError::key(
                k,
                format!("has {len} entries, the unit's θ has dimension {dd}"),
            ));
        }
    }
    let bounds: Vec<String> = g
        .boundary
        .clone()
        .unwrap_or_else(|| vec!["noflux".into(); dd]);
    if bounds.len() != dd {
        return Err(ConfigError::key(
            "grid.boundary",
            format!("needs {dd} entries"),
        ));
    }
    let mut axes = Vec::new();
    for (a, bound) in bounds.iter().enumerate() {
        let b = match bound.as_str() {
            "noflux" => Boundary::NoFlux,
            "periodic" => Boundary::Periodic,
            other => {
                return Err(ConfigError::key(
                    "grid.boundary",
                    format!("unknown boundary '{other}'; valid: noflux, periodic"),
                ))
            }
        };
        let lo = finite("grid.lo", g.lo[a])?;
        let hi = finite("grid.hi", g.hi[a])?;
        if lo >= hi {
            return Err(ConfigError::key(
                "grid.hi",
                format!("axis {a}: empty or inverted box [{lo}, {hi}] (need lo < hi)"),
            ));
        }
        axes.push(
            Axis::new(lo, hi, g.cells[a], b)
                .map_err(|e| ConfigError::key("grid.cells", strip(e)))?,
        );
    }
    Grid::new(axes).map_err(at("grid"))
}

/// The initial law of `[init]` (not `snapshot` or `particles`, which the caller reads from its file).
pub fn law(cfg: &Config, dd: usize, grid: Option<&Grid>) -> Result<Law, ConfigError> {
    let i: &InitCfg = cfg
        .init
        .as_ref()
        .ok_or_else(|| ConfigError::key("init", "this command needs an [init] table"))?;
    let gauss = |key: &str,
                 mean: &[f64],
                 cov: Option<&Vec<Vec<f64>>>,
                 std: Option<f64>|
     -> Result<Gaussian, ConfigError> {
        if mean.len() != dd {
            return Err(ConfigError::key(
                format!("{key}mean"),
                format!("has {} entries, θ has dimension {dd}", mean.len()),
            ));
        }
        match (cov, std) {
            (Some(c), _) => Gaussian::new(mean.to_vec(), matrix(&format!("{key}cov"), c, dd)?)
                .map_err(|e| ConfigError::key(format!("{key}cov"), strip(e))),
            (None, Some(s)) if s > 0.0 => {
                Gaussian::isotropic(mean.to_vec(), s * s).map_err(at("init.std"))
            }
            (None, Some(s)) => Err(ConfigError::key(
                "init.std",
                format!("must be > 0, got {s}"),
            )),
            (None, None) => Err(ConfigError::key(
                format!("{key}cov"),
                "a Gaussian needs `cov` or `std`",
            )),
        }
    };
    match i.kind.as_str() {
        "gaussian" => {
            let mean = i.mean.clone().unwrap_or_else(|| vec![0.0; dd]);
            Ok(Law::Gaussian(gauss("init.", &mean, i.cov.as_ref(), i.std)?))
        }
        "uniform" => {
            let (lo, hi) = match (&i.lo, &i.hi, grid) {
                (Some(l), Some(h), _) => (l.clone(), h.clone()),
                (None, None, Some(g)) => (
                    g.axes.iter().map(|a| a.lo).collect(),
                    g.axes.iter().map(|a| a.hi).collect(),
                ),
                _ => {
                    return Err(ConfigError::key(
                        "init.lo",
                        "a uniform law needs lo and hi (or a [grid])",
                    ))
                }
            };
            if lo.len() != dd || hi.len() != dd {
                return Err(ConfigError::key(
                    "init.lo",
                    format!("lo and hi need {dd} entries"),
                ));
            }
            Law::uniform(lo, hi).map_err(|e| ConfigError::key("init.hi", strip(e)))
        }
        "mixture" => {
            let means = i
                .means
                .as_ref()
                .ok_or_else(|| ConfigError::key("init.means", "a mixture needs means"))?;
            let weights = i.weights.clone().unwrap_or_else(|| vec![1.0; means.len()]);
            let mut parts = Vec::new();
            for (j, m) in means.iter().enumerate() {
                let cov = i.covs.as_ref().and_then(|c| c.get(j));
                parts.push(gauss(&format!("init.means[{j}]."), m, cov, i.std)?);
            }
            Law::mixture(weights, parts).map_err(|e| ConfigError::key("init.weights", strip(e)))
        }
        "snapshot" | "particles" => Err(ConfigError::key(
            "init.kind",
            format!("a {} init is read from its file by the caller", i.kind),
        )),
        other => Err(ConfigError::key(
            "init.kind",
            format!("unknown initial law '{other}'; valid: gaussian, uniform, mixture, snapshot, particles"),
        )),
    }
}
