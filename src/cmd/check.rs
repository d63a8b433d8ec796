//! `mfl check CONFIG`: validate and print the resolved problem.

use super::CmdResult;
use mfl_core::{Boundary, Measure, Unit};
use mfl_io::scenario::pde::describe_stepper;
use mfl_io::scenario::Job;
use mfl_io::{build, Scenario};
use mfl_pde::StepperChoice;
use ndarray::Array1;
use std::fmt::Write;
use std::path::Path;

/// `mfl check CONFIG`: build the Scenario exactly as the runs do and print it.
pub fn run(path: &Path, sets: &[String]) -> CmdResult {
    print!("{}", report(path, sets)?);
    Ok(())
}

/// What `mfl check` prints: the Scenario built exactly as the runs build it, described.
pub fn report(path: &Path, sets: &[String]) -> Result<String, Box<dyn std::error::Error>> {
    let mut out = String::new();
    // exactly what the runs build: every table present is resolved, or the first error is
    // reported naming its key
    let sc = Scenario::load(path, sets, Job::Check)?;
    let (cfg, mf) = (&sc.config, &sc.mean_field);
    let t = build::temperature(cfg)?;
    let dd = mf.theta_dim();
    writeln!(out, "config      {}", path.display())?;
    writeln!(
        out,
        "unit        {}  (θ ∈ R^{dd}, x ∈ R^{})",
        describe(&mf.unit),
        mf.unit.input_dim()
    )?;
    writeln!(
        out,
        "data        {} ({} points, weights sum {:.6})",
        cfg.data.kind,
        mf.data.len(),
        mf.data.w.sum()
    )?;
    writeln!(out, "loss        {:?}, T = {t}, λ = {}", mf.loss, mf.lambda)?;
    if let Some(grid) = sc.grid.as_ref().filter(|_| !build::is_radial(cfg)) {
        let desc: Vec<String> = grid
            .axes
            .iter()
            .enumerate()
            .map(|(a, ax)| {
                format!(
                    "θ_{a} ∈ [{}, {}] {} cells (h = {:.4}, {})",
                    ax.lo,
                    ax.hi,
                    ax.n,
                    ax.h(),
                    match ax.boundary {
                        Boundary::NoFlux => "no-flux",
                        Boundary::Periodic => "periodic",
                    }
                )
            })
            .collect();
        writeln!(out, "grid        {} cells: {}", grid.len(), desc.join("; "))?;
        let closed = build::closed_form_field(cfg, mf, grid)?;
        if closed.is_some() {
            writeln!(
                out,
                "interaction erf closed form E[erf(ux)erf(vx)] = (2/π)arcsin(2uv/√((1+2u²)(1+2v²))): \
                 O(n_a·n_w + n_w²), no quadrature error (particles: {} Gauss–Hermite nodes)",
                mf.data.len()
            )?;
        } else {
            match mfl_pde::ConvolutionPotential::applies(mf, grid) {
                Ok(()) => writeln!(out, "interaction convolution type: Ψ by FFT, O(M log M)")?,
                Err(e) => writeln!(out, "interaction direct O(M·K) sums ({e})")?,
            }
        }
        if cfg
            .init
            .as_ref()
            .is_some_and(|i| !matches!(i.kind.as_str(), "snapshot" | "particles"))
        {
            // the K-vs-2K estimate the runs warn with (Scenario::quadrature_error)
            if let Some(q) = sc.quadrature_error()? {
                writeln!(
                    out,
                    "{}       {:.10e}   quadrature error estimate |R_K − R_2K| = {:.2e} (K = {}, 2K = {})",
                    q.what,
                    q.value,
                    (q.value - q.refined).abs(),
                    q.nodes,
                    q.refined_nodes
                )?;
            }
            if let Some(cf) = &closed {
                use mfl_pde::PotentialField;
                let law = build::law(cfg, dd, Some(grid))?;
                let rho = law.on_grid(grid).map_err(|e| format!("init: {e}"))?;
                let c = grid.centres();
                let w: Array1<f64> = rho.iter().map(|p| p * grid.cell_volume()).collect();
                let r = mf.risk(Measure::new(c.view(), w.view()));
                let rc = cf.energy(&rho).risk.unwrap_or(f64::NAN);
                writeln!(
                out,
                    "R(ρ₀)       {rc:.10e}   closed form (the Gauss–Hermite line above is off by {:.2e})",
                    (r - rc).abs()
                )?;
            }
        }
    } else if build::is_radial(cfg) {
        for line in mfl_io::scenario::pde::radial_summary(&sc)? {
            writeln!(out, "{line}")?;
        }
    } else {
        if let Some(q) = sc.quadrature_error()? {
            writeln!(
                out,
                "{}       {:.10e}   quadrature error estimate |K − 2K| = {:.2e}",
                q.what,
                q.value,
                (q.value - q.refined).abs()
            )?;
        }
    }
    if let Some(pde) = &sc.pde {
        let grid = &pde.problem.grid;
        match pde.opts.stepper {
            StepperChoice::Spectral { .. } => {
                let kept: Vec<String> = grid
                    .axes
                    .iter()
                    .map(|a| format!("|k| ≤ {}", (a.n - 1) / 3))
                    .collect();
                writeln!(
                out,
                    "spectral    ETDRK4, exact diffusion, 2/3 rule keeps {} (all axes must be periodic)",
                    kept.join(" × ")
                )?;
            }
            _ => writeln!(out, "solver      {}", describe_stepper(&pde.opts.stepper))?,
        }
        let dt = mfl_pde::first_step(&pde.problem, &pde.rho0, &pde.opts)
            .map_err(|e| format!("solver: the first step from ρ₀ fails: {e}"))?;
        writeln!(
            out,
            "first dt    {dt:.6e} (the stepper's own first step from ρ₀; t_end = {}, {} snapshots)",
            pde.opts.t_end,
            pde.opts.snapshot_times.len()
        )?;
    }
    if let Some(p) = &sc.particles {
        writeln!(
            out,
            "particles   N = {}, {} seed(s), η = {}, t_end = {}",
            p.dynamics.n,
            p.seeds.len(),
            p.dynamics.eta,
            p.t_end
        )?;
    }
    if let Some(st) = &sc.stationary {
        writeln!(
            out,
            "stationary  T = {:?}, tol {:e}, max_iter {}, damping {}, Anderson depth {}, rates {}",
            st.temperatures,
            st.opts.tol,
            st.opts.max_iter,
            st.opts.damping,
            st.opts.anderson,
            st.rates.as_ref().map_or("off".into(), |e| format!(
                "on (krylov_dim {}, rate_tol {:e})",
                e.max_dim, e.tol
            ))
        )?;
    }
    if let Some(cs) = &sc.compare {
        writeln!(
            out,
            "compare     N = {:?}, {} seeds, times {:?}, control {}, budget {}{}",
            cs.ns,
            cs.seeds.len(),
            cs.times,
            cs.cmp.control,
            if cs.cmp.budget { "on" } else { "off" },
            cs.cmp
                .equilibrium_from
                .map_or(String::new(), |t| format!(", equilibrium from t = {t}"))
        )?;
    }
    writeln!(out, "ok")?;
    Ok(out)
}

fn describe(u: &Unit) -> String {
    match u {
        Unit::Ridge { act, param, .. } => {
            let a = act.name();
            match param {
                mfl_core::Param::W => format!("{a}(w·x)"),
                mfl_core::Param::AW => format!("a·{a}(w·x)"),
                mfl_core::Param::WB => format!("{a}(w·x + b)"),
            }
        }
        Unit::Periodic {
            kernel, weighted, ..
        } => {
            let k = match kernel {
                mfl_core::PeriodicKernel::WrappedGaussian { width } => {
                    format!("wrapped Gaussian (width {width})")
                }
                mfl_core::PeriodicKernel::Fourier { coeffs } => {
                    format!("Fourier kernel ({} frequencies)", coeffs.len() - 1)
                }
            };
            if *weighted {
                format!("a·φ(x − θ), φ = {k}")
            } else {
                format!("φ(x − θ), φ = {k}")
            }
        }
        Unit::Rbf { param, width, .. } => match param {
            mfl_core::RbfParam::Y => format!("N(x; y, {width})"),
            mfl_core::RbfParam::YC => format!("c·N(x; y, {width})"),
            mfl_core::RbfParam::YS => "N(x; y, s)".into(),
        },
    }
}
