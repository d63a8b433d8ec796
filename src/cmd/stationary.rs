//! `mfl stationary CONFIG [-o OUT.h5]`: stationary states ρ* = e^{−Ψ(ρ*)/T}/Z on the config's
//! grid, per temperature of `[stationary]`, with F, R, entropy, the residual history and the
//! predicted rate, printed and written into HDF5.

use super::{output_path, resolved_config, CmdResult};
use mfl_core::{Grid, MeanField};
use mfl_io::config::{Config, StationaryCfg};
use mfl_io::h5::OutputFile;
use mfl_io::record::{write_grid, StationaryWriter};
use mfl_io::{build, ConfigError};
use mfl_pde::stationary::{continuation, EigenOptions, StationaryOptions, StationaryPoint};
use mfl_pde::{mean_field_potential, Interaction, PotentialField};
use std::path::Path;

/// The validated `[stationary]` settings (defaults when the table is absent).
#[derive(Debug, Clone, PartialEq)]
pub struct StationarySettings {
    /// Temperatures in the order they are solved.
    pub temperatures: Vec<f64>,
    /// Fixed-point options.
    pub opts: StationaryOptions,
    /// Lanczos options, when rates are asked for.
    pub rates: Option<EigenOptions>,
}

/// `[stationary]` resolved and checked; every rejection names its key.
pub fn settings(cfg: &Config) -> Result<StationarySettings, ConfigError> {
    let s = cfg.stationary.clone().unwrap_or_default();
    let StationaryCfg {
        tol,
        max_iter,
        damping,
        anderson,
        temperatures,
        rates,
        krylov_dim,
        rate_tol,
    } = s;
    if !(tol > 0.0 && tol.is_finite()) {
        return Err(ConfigError::key(
            "stationary.tol",
            format!("must be > 0, got {tol}"),
        ));
    }
    if !(damping > 0.0 && damping <= 1.0) {
        return Err(ConfigError::key(
            "stationary.damping",
            format!("must be in (0, 1], got {damping}"),
        ));
    }
    if krylov_dim < 2 {
        return Err(ConfigError::key("stationary.krylov_dim", "must be ≥ 2"));
    }
    if !(rate_tol > 0.0 && rate_tol < 1.0) {
        return Err(ConfigError::key(
            "stationary.rate_tol",
            format!("must be in (0, 1), got {rate_tol}"),
        ));
    }
    let temps = match temperatures {
        Some(ts) => {
            if ts.is_empty() {
                return Err(ConfigError::key(
                    "stationary.temperatures",
                    "needs at least one temperature",
                ));
            }
            if let Some(bad) = ts.iter().find(|t| !(**t > 0.0 && t.is_finite())) {
                return Err(ConfigError::key(
                    "stationary.temperatures",
                    format!("a stationary state e^(−Ψ/T)/Z needs T > 0, got {bad}"),
                ));
            }
            if ts.windows(2).any(|w| w[1] >= w[0]) {
                return Err(ConfigError::key(
                    "stationary.temperatures",
                    format!(
                        "must decrease strictly (T₁ > T₂ > …: each state warm-starts the next, \
                         colder one), got {ts:?}"
                    ),
                ));
            }
            ts
        }
        None => {
            let t = build::temperature(cfg)?;
            if t <= 0.0 {
                return Err(ConfigError::key(
                    "problem.temperature",
                    "a stationary state e^(−Ψ/T)/Z needs T > 0 (or give stationary.temperatures)",
                ));
            }
            vec![t]
        }
    };
    Ok(StationarySettings {
        temperatures: temps,
        opts: StationaryOptions {
            tol,
            max_iter,
            damping,
            anderson,
        },
        rates: rates.then_some(EigenOptions {
            max_dim: krylov_dim,
            tol: rate_tol,
            ..EigenOptions::default()
        }),
    })
}

/// Everything `mfl stationary` needs, resolved from a config.
pub struct StationarySetup {
    pub grid: Grid,
    pub field: Box<dyn PotentialField>,
    /// The problem behind `field` (for the linearisation's DΨ).
    pub mf: MeanField,
    /// The starting potential: Ψ(·; ρ₀) with ρ₀ of `[init]`, or 0 (uniform ρ₀) without one.
    pub psi0: Vec<f64>,
    pub settings: StationarySettings,
}

/// Resolve a config (the same objects `mfl check` builds).
pub fn setup(cfg: &Config, base: &Path) -> Result<StationarySetup, Box<dyn std::error::Error>> {
    let mf = build::mean_field(cfg, base, 1)?;
    let grid = build::grid(cfg)?;
    let settings = settings(cfg)?;
    let interaction = match cfg
        .solver
        .as_ref()
        .map_or("auto", |s| s.interaction.as_str())
    {
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
    let field: Box<dyn PotentialField> = match build::closed_form_field(cfg, &mf, &grid)? {
        Some(f) => Box::new(f),
        None => mean_field_potential(mf.clone(), &grid, interaction).map_err(|e| match e {
            mfl_pde::PdeError::Invalid { what, why } if what == "interaction" => {
                ConfigError::key("solver.interaction", why)
            }
            other => ConfigError::key("grid", other.to_string()),
        })?,
    };
    let mut psi0 = vec![0.0; grid.len()];
    if cfg.init.is_some() {
        let rho0 = super::solve::initial_density(cfg, base, &grid)?;
        field.potential(&rho0, &mut psi0);
    }
    Ok(StationarySetup {
        grid,
        field,
        mf,
        psi0,
        settings,
    })
}

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

pub fn run(path: &Path, sets: &[String], out: Option<&Path>, quiet: bool) -> CmdResult {
    let cfg = build::load(path, sets)?;
    let base = build::base_dir(path);
    let StationarySetup {
        grid,
        field,
        mf,
        psi0,
        settings,
    } = setup(&cfg, &base)?;
    let out_path = output_path(path, out);
    let mut file = OutputFile::create(&out_path, "stationary", &resolved_config(&cfg))?;
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
                writer.point(p).map_err(|e| e.to_string())
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
