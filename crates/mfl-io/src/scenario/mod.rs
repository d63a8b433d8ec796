//! The typed, resolved run of a config: [`Scenario`], built once.
//!
//! A config (TOML, after `--set`) is resolved into the numerics crates' types exactly once:
//! one [`MeanField`] (behind an [`Arc`]) shared by the PDE's potential field, the particles'
//! dynamics and the evaluation of R_N; the grid; the initial density ρ₀; and, for each table
//! present, the resolved run — `[solver]` → [`pde::SolveSetup`], `[particles]` →
//! [`particles::ParticleSetup`], `[compare]` → [`compare::CompareSetup`], `[stationary]` →
//! [`stationary::StationarySettings`]. `mfl check` builds exactly this, so it rejects exactly
//! what the runs reject. Variants of a run ([`Scenario::with_n`], [`Scenario::with_eta`],
//! [`Scenario::refined`]) are derived from the built objects, never by re-parsing the config.

pub mod compare;
pub mod fingerprint;
pub mod particles;
pub mod pde;
pub mod stationary;

use crate::config::Config;
use crate::{build, ConfigError};
use mfl_core::{Grid, MeanField};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The error of resolving a config: one message naming the key or file.
pub type Error = Box<dyn std::error::Error>;

/// Which runs of a config to resolve: a command resolves the tables it runs (so `mfl solve`
/// is not stopped by a `[compare]` whose times lie past a shortened `solver.t_end`); `mfl
/// check` resolves every table present, so it rejects everything any run would.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// Every table present (`mfl check`).
    Check,
    /// `[solver]` (`mfl solve`).
    Solve,
    /// `[particles]` (`mfl particles`).
    Particles,
    /// `[solver]`, `[particles]` and `[compare]` (`mfl compare`).
    Compare,
    /// `[stationary]` or its defaults (`mfl stationary`).
    Stationary,
}

/// The data quadrature's accuracy ([`Scenario::quadrature_error`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuadratureError {
    /// What was integrated: "R(ρ₀)" or "E\[y²\]".
    pub what: &'static str,
    /// Its value under the config's rule (K nodes).
    pub value: f64,
    /// Its value under the rule refined (2K nodes).
    pub refined: f64,
    /// K.
    pub nodes: usize,
    /// 2K (the refined rule's node count).
    pub refined_nodes: usize,
}

impl QuadratureError {
    /// The fraction of |value| beyond which a run warns (0.1 %).
    pub const WARN_FRACTION: f64 = 1e-3;

    /// |value − refined| / |value| (∞ when value is 0 and refined is not).
    pub fn relative(&self) -> f64 {
        let d = (self.value - self.refined).abs();
        if d == 0.0 {
            0.0
        } else {
            d / self.value.abs()
        }
    }

    /// The warning a run prints when [`QuadratureError::relative`] exceeds
    /// [`QuadratureError::WARN_FRACTION`], naming the keys that fix it.
    pub fn warning(&self) -> Option<String> {
        let rel = self.relative();
        (rel > Self::WARN_FRACTION).then(|| {
            format!(
                "warning: the data quadrature is coarse: {} = {:.6e} with data.nodes ({} nodes) \
                 but {:.6e} with twice as many ({:.2} % apart, above {} %); raise data.nodes, \
                 or for steep units use data.quadrature = \"legendre\" with data.panels (R, F \
                 and Ψ are those of the quadrature's data law; a gap R_N − R(ρ) uses the same \
                 rule on both sides)",
                self.what,
                self.value,
                self.nodes,
                self.refined,
                100.0 * rel,
                100.0 * Self::WARN_FRACTION
            )
        })
    }
}

/// A config resolved into the objects its runs use (see the module documentation).
#[derive(Clone)]
pub struct Scenario {
    /// The resolved config (after `--set`; also the tables' defaults), as stored in outputs.
    pub config: Config,
    /// The directory relative paths in the config are resolved against.
    pub base: PathBuf,
    /// Unit, data, loss and λ: the one problem of the PDE, the particles and R_N.
    pub mean_field: Arc<MeanField>,
    /// The θ grid of `[grid]`.
    pub grid: Option<Grid>,
    /// The PDE run of `[solver]` (its ρ₀ is the initial density of the grid runs).
    pub pde: Option<pde::SolveSetup>,
    /// The particle run of `[particles]`.
    pub particles: Option<particles::ParticleSetup>,
    /// The N sweep of `[compare]`.
    pub compare: Option<compare::CompareSetup>,
    /// The settings of `[stationary]`.
    pub stationary: Option<stationary::StationarySettings>,
}

impl Scenario {
    /// The input files the config reads, each with its key: `data.path` and `init.file`,
    /// resolved against [`Scenario::base`].
    pub fn input_files(&self) -> Vec<(&'static str, PathBuf)> {
        let mut inputs = Vec::new();
        if let Some(p) = &self.config.data.path {
            inputs.push(("data.path", self.base.join(p)));
        }
        if let Some(p) = self.config.init.as_ref().and_then(|i| i.file.as_ref()) {
            inputs.push(("init.file", self.base.join(p)));
        }
        inputs
    }

    /// The resolved config as TOML text (after `--set`, every default filled in): what an
    /// output stores in its `config` attribute.
    pub fn resolved_toml(&self) -> String {
        toml::to_string(&self.config)
            .unwrap_or_else(|e| format!("# config could not be serialised: {e}"))
    }

    /// The data quadrature's accuracy: the risk under the config's rule (K nodes) and under
    /// the same rule refined (2K): R(ρ₀) on the grid when there is a grid and an `[init]` law,
    /// else E\[y²\] (the risk of the zero network). None for the radial (isotropic) problems,
    /// whose own tables carry their accuracy.
    pub fn quadrature_error(&self) -> Result<Option<QuadratureError>, Error> {
        if build::is_radial(&self.config) {
            return Ok(None);
        }
        let mf = &self.mean_field;
        let fine = build::mean_field(&self.config, &self.base, 2)?;
        let law_init = self
            .config
            .init
            .as_ref()
            .is_some_and(|i| !matches!(i.kind.as_str(), "snapshot" | "particles"));
        let (what, coarse, refined) = match (&self.grid, law_init) {
            (Some(grid), true) if mf.unit.theta_dim() == grid.dim() => {
                let law = build::law(&self.config, grid.dim(), Some(grid))?;
                let rho = law
                    .on_grid(grid)
                    .map_err(|e| ConfigError::key("init", e.to_string()))?;
                let c = grid.centres();
                let w: ndarray::Array1<f64> = rho.iter().map(|p| p * grid.cell_volume()).collect();
                let mu = mfl_core::Measure::new(c.view(), w.view());
                ("R(ρ₀)", mf.risk(mu), fine.risk(mu))
            }
            _ => (
                "E[y²]",
                mf.risk_of_network(&vec![0.0; mf.data.len()]),
                fine.risk_of_network(&vec![0.0; fine.data.len()]),
            ),
        };
        Ok(Some(QuadratureError {
            what,
            value: coarse,
            refined,
            nodes: mf.data.len(),
            refined_nodes: fine.data.len(),
        }))
    }

    /// The config hash ([`fingerprint::config_hash`]) of the resolved config and its input
    /// files: equal hashes mean the same run; resume and merge check it.
    pub fn config_hash(&self) -> Result<String, Error> {
        let inputs = self.input_files();
        let refs: Vec<(&str, &Path)> = inputs.iter().map(|(k, p)| (*k, p.as_path())).collect();
        Ok(fingerprint::config_hash(&self.resolved_toml(), &refs)?)
    }

    /// Read `path`, apply the `key=value` overrides and resolve the tables of `job`.
    pub fn load(path: &Path, sets: &[String], job: Job) -> Result<Self, Error> {
        let cfg = build::load(path, sets)?;
        Scenario::for_job(cfg, &build::base_dir(path), job)
    }

    /// Resolve every table of a parsed config whose relative paths are relative to `base`.
    pub fn new(config: Config, base: &Path) -> Result<Self, Error> {
        Scenario::for_job(config, base, Job::Check)
    }

    /// Resolve the tables `job` runs (all present ones for [`Job::Check`]).
    pub fn for_job(config: Config, base: &Path, job: Job) -> Result<Self, Error> {
        let mean_field = Arc::new(build::mean_field(&config, base, 1)?);
        build::temperature(&config)?;
        let grid = match &config.grid {
            Some(_) => Some(build::grid(&config)?),
            None => None,
        };
        let mut sc = Scenario {
            config,
            base: base.to_path_buf(),
            mean_field,
            grid,
            pde: None,
            particles: None,
            compare: None,
            stationary: None,
        };
        let all = job == Job::Check;
        let c = &sc.config;
        let (want_pde, want_particles, want_compare, want_stationary) = (
            matches!(job, Job::Solve | Job::Compare) || (all && c.solver.is_some()),
            job == Job::Particles
                || (job == Job::Compare && c.particles.is_some())
                || (all && c.particles.is_some()),
            job == Job::Compare || (all && c.compare.is_some()),
            job == Job::Stationary || (all && c.stationary.is_some()),
        );
        if job == Job::Compare {
            // name the tables a comparison needs before anything is built
            for (table, present, what) in [
                ("compare", c.compare.is_some(), "a [compare] table"),
                (
                    "particles",
                    c.particles.is_some(),
                    "a [particles] table (η, t_end)",
                ),
                ("solver", c.solver.is_some(), "a [solver] table for the PDE"),
            ] {
                if !present {
                    return Err(
                        ConfigError::key(table, format!("`mfl compare` needs {what}")).into(),
                    );
                }
            }
        }
        if want_pde {
            sc.pde = Some(pde::setup(&sc)?);
        }
        if want_particles {
            sc.particles = Some(particles::setup(&sc)?);
        }
        if want_compare {
            sc.compare = Some(compare::setup(&sc)?);
        }
        if want_stationary {
            sc.stationary = Some(stationary::settings(&sc.config)?);
        }
        Ok(sc)
    }

    /// The grid, or an error naming `[grid]` for `what` (e.g. "`mfl solve`").
    pub fn require_grid(&self, what: &str) -> Result<&Grid, ConfigError> {
        self.grid
            .as_ref()
            .ok_or_else(|| ConfigError::key("grid", format!("{what} needs a [grid] table")))
    }

    /// The PDE run, or an error naming `[solver]`.
    pub fn require_pde(&self) -> Result<&pde::SolveSetup, ConfigError> {
        self.pde
            .as_ref()
            .ok_or_else(|| ConfigError::key("solver", "`mfl solve` needs a [solver] table"))
    }

    /// The particle run, or an error naming `[particles]`.
    pub fn require_particles(&self) -> Result<&particles::ParticleSetup, ConfigError> {
        self.particles.as_ref().ok_or_else(|| {
            ConfigError::key("particles", "`mfl particles` needs a [particles] table")
        })
    }

    /// The same scenario with N particles (`particles.n`), derived from the built dynamics.
    pub fn with_n(&self, n: usize) -> Result<Self, Error> {
        let mut sc = self.clone();
        let p = sc
            .particles
            .as_mut()
            .ok_or_else(|| ConfigError::key("particles", "needs a [particles] table"))?;
        p.dynamics = p
            .dynamics
            .clone()
            .with_n(n)
            .map_err(|e| ConfigError::key("particles.n", e.to_string()))?;
        if let Some(c) = sc.config.particles.as_mut() {
            c.n = n;
        }
        Ok(sc)
    }

    /// The same scenario with base step size η (`particles.eta`).
    pub fn with_eta(&self, eta: f64) -> Result<Self, Error> {
        let mut sc = self.clone();
        let p = sc
            .particles
            .as_mut()
            .ok_or_else(|| ConfigError::key("particles", "needs a [particles] table"))?;
        p.dynamics = p
            .dynamics
            .clone()
            .with_eta(eta)
            .map_err(|e| ConfigError::key("particles.eta", e.to_string()))?;
        if let Some(c) = sc.config.particles.as_mut() {
            c.eta = eta;
        }
        Ok(sc)
    }

    /// The PDE run on the grid refined k times per axis (cells × k; an implicit step dt/k², so
    /// that the first-order time error shrinks with the second-order space error): the same
    /// [`MeanField`], ρ₀ of `[init]` on the refined grid, the potential field rebuilt on it.
    /// Initial densities read from files cannot be refined (error naming `init.kind`).
    pub fn refined(&self, k: usize) -> Result<Self, Error> {
        if k == 0 {
            return Err(ConfigError::key("grid.cells", "refinement factor must be ≥ 1").into());
        }
        if let Some(kind) = self
            .config
            .init
            .as_ref()
            .map(|i| i.kind.as_str())
            .filter(|k| matches!(*k, "snapshot" | "particles"))
        {
            return Err(ConfigError::key(
                "init.kind",
                format!("a {kind} [init] is given on the original grid; it has no refined version"),
            )
            .into());
        }
        let mut config = self.config.clone();
        let g = config
            .grid
            .as_mut()
            .ok_or_else(|| ConfigError::key("grid", "refining needs a [grid] table"))?;
        for c in g.cells.iter_mut() {
            *c *= k;
        }
        if let Some(dt) = config.solver.as_mut().and_then(|s| s.dt.as_mut()) {
            *dt /= (k * k) as f64;
        }
        let mut sc = Scenario {
            grid: Some(build::grid(&config)?),
            config,
            pde: None,
            particles: None,
            compare: None,
            stationary: None,
            ..self.clone()
        };
        if sc.config.solver.is_some() {
            sc.pde = Some(pde::setup(&sc)?);
        }
        Ok(sc)
    }
}
