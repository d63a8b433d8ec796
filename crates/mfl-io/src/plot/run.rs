//! An output file opened for plotting: its datasets, its resolved config and the labels drawn
//! from it (solver, N, η, T, grid).

use super::PlotError;
use crate::h5::{list_datasets, read_array, read_attr, read_attr_f64};
use ndarray::ArrayD;
use std::path::{Path, PathBuf};

/// Gibbs residual ‖ρ − e^{−Ψ/T}/Z‖₁ below which a run's final F is taken as F*.
pub const GIBBS_CONVERGED: f64 = 1e-5;

/// One output file.
pub struct Run {
    /// The file.
    pub path: PathBuf,
    /// The `mfl` command that wrote it (root attribute `command`).
    pub command: String,
    /// Its `status` attribute (`running`, `complete`, `failed: …`).
    pub status: String,
    /// The stored config as an untyped table (any version).
    pub config: toml::Table,
    /// The stored config read back into the same types the run was built from (None for a
    /// file whose config does not parse, e.g. one written by another version).
    pub typed: Option<crate::Config>,
    sets: Vec<(String, Vec<usize>)>,
}

impl Run {
    /// Open `path` and read its root attributes and dataset list.
    pub fn open(path: &Path) -> Result<Run, PlotError> {
        if !path.is_file() {
            return Err(PlotError::new(format!("{}: no such file", path.display())));
        }
        let sets = list_datasets(path)
            .map_err(|e| PlotError::new(format!("{}: not an HDF5 file ({e})", path.display())))?;
        let command = read_attr(path, "/", "command").map_err(|_| {
            PlotError::new(format!(
                "{}: not an mfl output (no `command` attribute)",
                path.display()
            ))
        })?;
        let status = read_attr(path, "/", "status").unwrap_or_else(|_| "unknown".into());
        let text = read_attr(path, "/", "config").ok();
        let config = text
            .as_deref()
            .and_then(|s| toml::from_str::<toml::Table>(s).ok())
            .unwrap_or_default();
        let typed = text
            .as_deref()
            .and_then(|s| toml::from_str::<crate::Config>(s).ok());
        Ok(Run {
            path: path.to_path_buf(),
            command,
            status,
            config,
            typed,
            sets,
        })
    }

    /// The file name, for messages and titles.
    pub fn name(&self) -> String {
        self.path.file_name().map_or_else(
            || self.path.display().to_string(),
            |s| s.to_string_lossy().into_owned(),
        )
    }

    /// Whether the dataset (or any dataset under the group) `name` exists.
    pub fn has(&self, name: &str) -> bool {
        let group = format!("{name}/");
        self.sets
            .iter()
            .any(|(n, _)| n == name || n.starts_with(&group))
    }

    /// The shape of dataset `name`.
    pub fn shape(&self, name: &str) -> Option<&[usize]> {
        self.sets
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| s.as_slice())
    }

    /// Read dataset `name`, checking its rank; the error names the file and the dataset.
    pub fn get(&self, name: &str, rank: usize) -> Result<ArrayD<f64>, PlotError> {
        let shape = self.shape(name).ok_or_else(|| {
            PlotError::new(format!(
                "{}: dataset {name} is missing",
                self.path.display()
            ))
        })?;
        if shape.len() != rank {
            return Err(PlotError::new(format!(
                "{}: dataset {name} has shape {shape:?}, expected {rank} dimension(s)",
                self.path.display()
            )));
        }
        read_array(&self.path, name).map_err(|e| PlotError::new(e.to_string()))
    }

    /// Read a 1D dataset.
    pub fn vec(&self, name: &str) -> Result<Vec<f64>, PlotError> {
        Ok(self.get(name, 1)?.iter().copied().collect())
    }

    /// Read a 1D dataset of length `n`.
    pub fn vec_len(&self, name: &str, n: usize) -> Result<Vec<f64>, PlotError> {
        let v = self.vec(name)?;
        if v.len() != n {
            return Err(PlotError::new(format!(
                "{}: dataset {name} has {} entries, expected {n}",
                self.path.display(),
                v.len()
            )));
        }
        Ok(v)
    }

    fn value(&self, key: &str) -> Option<&toml::Value> {
        let mut parts = key.split('.');
        let mut v = self.config.get(parts.next()?)?;
        for p in parts {
            v = v.get(p)?;
        }
        Some(v)
    }

    /// A number of the resolved config (`section.key`).
    pub fn num(&self, key: &str) -> Option<f64> {
        match self.value(key)? {
            toml::Value::Float(f) => Some(*f),
            toml::Value::Integer(i) => Some(*i as f64),
            _ => None,
        }
    }

    /// A string of the resolved config.
    pub fn text(&self, key: &str) -> Option<String> {
        self.value(key)?.as_str().map(str::to_string)
    }

    fn cells(&self) -> Option<String> {
        let a = self.value("grid.cells")?.as_array()?;
        let v: Vec<String> = a.iter().map(|c| c.to_string()).collect();
        Some(v.join("×"))
    }

    /// "T = …, λ = …".
    fn t_lambda(&self) -> String {
        let t = self.num("problem.temperature").unwrap_or(0.0);
        let l = self.num("problem.lambda").unwrap_or(0.0);
        format!("T = {}, λ = {}", num(t), num(l))
    }

    /// The PDE run's label: solver, grid, T, λ.
    pub fn pde_label(&self) -> String {
        let typed = self.typed.as_ref().and_then(|c| c.solver.as_ref());
        let solver = match typed {
            Some(s) if s.scheme == crate::config::Scheme::Spectral => format!(
                "spectral ETDRK4 dt {}",
                s.dt.map_or(format!("adaptive (cfl {})", num(s.cfl)), num)
            ),
            Some(s) if s.stepper == crate::config::StepperKind::Mprk22 => match s.dt {
                Some(dt) => format!("FV MPRK22 dt {}", num(dt)),
                None => format!(
                    "FV MPRK22 rtol {}",
                    num(s.rtol.unwrap_or(crate::scenario::pde::DEFAULT_RTOL))
                ),
            },
            Some(s) if s.stepper == crate::config::StepperKind::Implicit => {
                format!("FV implicit Euler dt {}", s.dt.map_or("?".into(), num))
            }
            Some(s) => format!("FV {} cfl {}", s.stepper, num(s.cfl)),
            None => self.untyped_solver(),
        };
        let grid = self
            .cells()
            .map_or(String::new(), |c| format!(", grid {c}"));
        format!("{solver}{grid}, {}", self.t_lambda())
    }

    /// The solver's label from the untyped table (files whose config does not parse).
    fn untyped_solver(&self) -> String {
        match self.text("solver.stepper").as_deref() {
            Some("implicit") => format!(
                "FV implicit Euler dt {}",
                self.num("solver.dt").map_or("?".into(), num)
            ),
            Some(s) => format!(
                "FV {s} cfl {}",
                self.num("solver.cfl").map_or("?".into(), num)
            ),
            None => "PDE".into(),
        }
    }

    /// The particle run's label: N, η, seeds, T, λ (for `mfl compare`: the range of N and
    /// the seeds of `[compare]`).
    pub fn particles_label(&self) -> String {
        let eta = self.num("particles.eta").map_or("?".into(), num);
        let (n, seeds) = if self.command == "compare" {
            let n = match self.value("compare.n").and_then(|v| v.as_array().cloned()) {
                Some(ns) => format!(
                    "{}…{}",
                    ns.first().map_or("?".into(), |v| v.to_string()),
                    ns.last().map_or("?".into(), |v| v.to_string())
                ),
                None => format!(
                    "{}…{}",
                    self.num("compare.n_min").map_or("?".into(), num),
                    self.num("compare.n_max").map_or("?".into(), num)
                ),
            };
            (n, self.num("compare.seeds").map_or("?".into(), num))
        } else {
            (
                self.num("particles.n").map_or("?".into(), num),
                self.num("particles.seeds").map_or("?".into(), num),
            )
        };
        let grad = match self.text("particles.gradient").as_deref() {
            Some("minibatch") => format!(
                ", minibatch B = {}",
                self.num("particles.batch").map_or("?".into(), num)
            ),
            _ => String::new(),
        };
        format!(
            "particles N = {n}, η = {eta}, {seeds} seeds{grad}, {}",
            self.t_lambda()
        )
    }

    /// A run-level label for titles: the file, the command and its status when not complete.
    pub fn title(&self) -> String {
        let status = if self.status == "complete" {
            String::new()
        } else {
            format!(" [status: {}]", self.status)
        };
        format!("{} (mfl {}){status}", self.name(), self.command)
    }

    /// Names of the θ axes, from the unit's parameterisation.
    pub fn axis_names(&self, dim: usize) -> Vec<String> {
        let kind = self.text("unit.kind").unwrap_or_else(|| "ridge".into());
        let param = self.text("unit.param").unwrap_or_else(|| "w".into());
        let weighted = matches!(
            self.value("unit.weighted"),
            Some(toml::Value::Boolean(true))
        );
        let names: Vec<&str> = match (kind.as_str(), param.as_str()) {
            ("ridge", "a_w") if dim == 2 => vec!["a", "w"],
            ("ridge", "w_b") if dim == 2 => vec!["w", "b"],
            ("ridge", "w") if dim == 1 => vec!["w"],
            ("ridge", "w") if dim == 2 => vec!["w₁", "w₂"],
            ("rbf", "y_s") if dim == 2 => vec!["y", "s"],
            ("rbf", "y") if dim == 1 => vec!["y"],
            ("rbf", _) if dim == 2 => vec!["y", "c"],
            ("periodic", _) if weighted && dim == 2 => vec!["a", "θ"],
            _ => vec![],
        };
        if names.len() == dim {
            names.into_iter().map(String::from).collect()
        } else {
            (0..dim).map(|a| format!("θ{}", sub(a))).collect()
        }
    }

    /// The teacher's neurons as points in θ-space, when the teacher shares the student's unit.
    pub fn teacher_points(&self, dim: usize) -> Vec<Vec<f64>> {
        if self.value("teacher.unit").is_some() {
            return vec![];
        }
        let Some(rows) = self.value("teacher.theta").and_then(|v| v.as_array()) else {
            return vec![];
        };
        rows.iter()
            .filter_map(|r| {
                let p: Vec<f64> = r
                    .as_array()?
                    .iter()
                    .filter_map(|x| x.as_float().or(x.as_integer().map(|i| i as f64)))
                    .collect();
                (p.len() == dim).then_some(p)
            })
            .collect()
    }

    /// F* and where it comes from: the root attribute `f_star` if the file has one, else the
    /// final free energy when the final Gibbs residual is below [`GIBBS_CONVERGED`].
    pub fn f_star(&self) -> Option<(f64, String)> {
        if let Ok(v) = read_attr_f64(&self.path, "/", "f_star") {
            if v.is_finite() {
                return Some((v, "F* from the file's f_star".into()));
            }
        }
        let res = self.vec("/diagnostics/gibbs_residual").ok()?;
        let f = self.vec("/diagnostics/free_energy").ok()?;
        let (r, fl) = (*res.last()?, *f.last()?);
        (r.is_finite() && r < GIBBS_CONVERGED && fl.is_finite())
            .then(|| (fl, format!("F* = F(t_end), Gibbs residual {r:.1e}")))
    }
}

/// A compact number: 0.02, 512, 1e-5.
pub fn num(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e7 {
        format!("{v:.0}")
    } else if v.abs() >= 1e-3 && v.abs() < 1e4 {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{v:.2e}")
    }
}

fn sub(a: usize) -> &'static str {
    ["₀", "₁", "₂", "₃"].get(a).copied().unwrap_or("ₙ")
}
