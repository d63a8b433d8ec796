//! The PDE side of a sweep: one run of the PDE, with R(ρ_t), E(ρ_t), the density path and
//! the residual path recorded at the times the particles need ([`PdeTrace`]).

use crate::coupled::ResidualPath;
use crate::error::CompareError;
use mfl_core::{Grid, MeanField};
use mfl_pde::{solve, Diagnostics, FvProblem, Observer, PotentialField, RunOptions};

/// What a sweep takes from the PDE run.
#[derive(Debug, Clone, PartialEq)]
pub struct PdeTrace {
    /// R(ρ_t) at each record time.
    pub risk: Vec<f64>,
    /// E(ρ_t) at each record time.
    pub energy: Vec<f64>,
    /// ρ_t at each record time.
    pub density: Vec<Vec<f64>>,
    /// The residual r(t) on a uniform time grid, when asked for.
    pub path: Option<ResidualPath>,
    /// ρ at the density nodes, when asked for.
    pub node_density: Vec<Vec<f64>>,
}

/// Records R, E and ρ at given times (and the residual on a time grid) and forwards the
/// caller's snapshots to its observer.
struct PdeTap<'a> {
    field: &'a dyn PotentialField,
    times: &'a [f64],
    user_snaps: &'a [f64],
    risk: Vec<Option<f64>>,
    energy: Vec<Option<f64>>,
    density: Vec<Option<Vec<f64>>>,
    path: Option<(f64, &'a MeanField)>,
    residuals: Vec<Vec<f64>>,
    nodes: &'a [f64],
    node_density: Vec<Option<Vec<f64>>>,
    inner: &'a mut dyn Observer,
}

pub(super) fn same_time(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

const NO_RISK: &str =
    "the PDE's potential has no risk (a fixed potential); a gap sweep needs a mean-field problem";

impl Observer for PdeTap<'_> {
    fn start(&mut self, grid: &Grid, rho0: &[f64]) -> Result<(), String> {
        self.inner.start(grid, rho0)
    }
    fn diagnostics(&mut self, d: &Diagnostics) -> Result<(), String> {
        self.inner.diagnostics(d)
    }
    fn snapshot(&mut self, t: f64, rho: &[f64]) -> Result<(), String> {
        if let Some(j) = self.times.iter().position(|&s| same_time(s, t)) {
            let e = self.field.energy(rho);
            self.risk[j] = Some(e.risk.ok_or_else(|| NO_RISK.to_string())?);
            self.energy[j] = Some(e.energy);
            self.density[j] = Some(rho.to_vec());
        }
        if let Some((dt, eval)) = self.path {
            let k = (t / dt).round();
            if same_time(k * dt, t) && k as usize == self.residuals.len() {
                let f = self.field.network(rho).ok_or_else(|| NO_RISK.to_string())?;
                self.residuals.push(eval.residual(&f).to_vec());
            }
        }
        if let Some(j) = self.nodes.iter().position(|&s| same_time(s, t)) {
            self.node_density[j] = Some(rho.to_vec());
        }
        if self.user_snaps.iter().any(|&s| same_time(s, t)) {
            self.inner.snapshot(t, rho)?;
        }
        Ok(())
    }
    fn after_step(&mut self, t: f64, steps: u64) -> Result<(), String> {
        // the caller's observer may stop the run here (a stop request)
        self.inner.after_step(t, steps)
    }
    fn finish(&mut self, last: &Diagnostics, rho: &[f64]) -> Result<(), String> {
        self.inner.finish(last, rho)
    }
}

pub(super) fn check_times(times: &[f64]) -> Result<(), CompareError> {
    if times.is_empty() {
        return Err(CompareError::invalid("times", "no record times"));
    }
    if times.iter().any(|t| !(t.is_finite() && *t >= 0.0)) {
        return Err(CompareError::invalid(
            "times",
            "times must be finite and ≥ 0",
        ));
    }
    if times.windows(2).any(|w| w[0] >= w[1]) {
        return Err(CompareError::invalid(
            "times",
            "times must be strictly increasing",
        ));
    }
    Ok(())
}

/// Solve the PDE from `rho0` and return (R(ρ_t), E(ρ_t)) at each of `times` (added to the
/// snapshot times of `opts`; `observer` still sees only the caller's own snapshot times).
pub fn pde_risk_at(
    pde: &FvProblem,
    rho0: Vec<f64>,
    opts: &RunOptions,
    times: &[f64],
    observer: &mut dyn Observer,
) -> Result<(Vec<f64>, Vec<f64>), CompareError> {
    let tr = pde_trace(pde, rho0, opts, times, None, &[], observer)?;
    Ok((tr.risk, tr.energy))
}

/// Solve the PDE from `rho0` and record R, E and ρ at each of `times`; with
/// `path = Some((Δ, eval))` also the residual r(t) of `eval` at t = jΔ up to the last time
/// (the run is extended to the last node if needed), and ρ at each of `nodes` (within the
/// run). `observer` sees only the caller's own snapshot times.
pub fn pde_trace(
    pde: &FvProblem,
    rho0: Vec<f64>,
    opts: &RunOptions,
    times: &[f64],
    path: Option<(f64, &MeanField)>,
    nodes: &[f64],
    observer: &mut dyn Observer,
) -> Result<PdeTrace, CompareError> {
    check_times(times)?;
    let mut o = opts.clone();
    o.snapshot_times.extend_from_slice(times);
    o.snapshot_times.extend_from_slice(nodes);
    let mut n_res = 0;
    if let Some((dt, _)) = path {
        if !(dt > 0.0 && dt.is_finite()) {
            return Err(CompareError::invalid("residual path", "Δ must be > 0"));
        }
        let t_max = times[times.len() - 1];
        n_res = (t_max / dt - 1e-9).ceil().max(0.0) as usize + 1;
        o.t_end = o.t_end.max((n_res - 1) as f64 * dt);
        o.snapshot_times.extend((0..n_res).map(|j| j as f64 * dt));
    }
    let mut tap = PdeTap {
        field: pde.field.as_ref(),
        times,
        user_snaps: &opts.snapshot_times,
        risk: vec![None; times.len()],
        energy: vec![None; times.len()],
        density: vec![None; times.len()],
        path,
        residuals: Vec::with_capacity(n_res),
        nodes,
        node_density: vec![None; nodes.len()],
        inner: observer,
    };
    solve(pde, rho0, &o, &mut tap)?;
    let miss = |j: usize| {
        CompareError::invalid(
            "times",
            format!("the PDE run never reached t = {}", times[j]),
        )
    };
    let pick = |v: &[Option<f64>]| {
        (0..times.len())
            .map(|j| v[j].ok_or_else(|| miss(j)))
            .collect::<Result<Vec<_>, _>>()
    };
    let risk = pick(&tap.risk)?;
    let energy = pick(&tap.energy)?;
    let density = tap
        .density
        .into_iter()
        .enumerate()
        .map(|(j, d)| d.ok_or_else(|| miss(j)))
        .collect::<Result<Vec<_>, _>>()?;
    let path = match path {
        Some((dt, _)) => {
            if tap.residuals.len() != n_res {
                return Err(CompareError::invalid(
                    "residual path",
                    format!("recorded {} of {n_res} nodes", tap.residuals.len()),
                ));
            }
            Some(ResidualPath {
                dt,
                residuals: tap.residuals,
            })
        }
        None => None,
    };
    let node_density = tap
        .node_density
        .into_iter()
        .enumerate()
        .map(|(j, d)| {
            d.ok_or_else(|| {
                CompareError::invalid(
                    "density nodes",
                    format!("the PDE run never reached t = {}", nodes[j]),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PdeTrace {
        risk,
        energy,
        density,
        path,
        node_density,
    })
}
