//! `solver.extrapolate = 2 | 3`: one `mfl solve` runs the PDE on the grid h, h/2 (and h/4) and
//! stores the Richardson/Romberg extrapolation of the diagnostics ([`mfl_pde::richardson`]).
//!
//! The coarser grids run first, in memory (each with every thread); the finest grid is the run
//! the output holds (its /density, /diagnostics). Then, at every time where all levels have a
//! diagnostics row — t = 0, each output time and t_end, which [`mfl_core::drive`] lands on
//! exactly — the output gets
//!
//! * `/extrapolated/time` and `/extrapolated/<q>` for q = risk (when the problem has one),
//!   free_energy, energy, entropy;
//! * `/error_estimate/time` (the same times) and `/error_estimate/<q>`: the estimated error of the value one elimination short of the
//!   extrapolated one, a conservative bound on the extrapolated value's error;
//! * with three levels, `/extrapolated/observed_order_<q>`, log₂ of the ratio of successive
//!   differences; a warning is printed when it is off the scheme's order (2 at T > 0, 1 at
//!   T = 0) by more than [`ORDER_TOLERANCE`] where the differences are above round-off.
//!
//! The time error must be small against the grid error for this to mean anything: with
//! `stepper = "mprk22"` keep `rtol` well below the accuracy wanted (the steps differ between
//! grids); `refined` divides a fixed dt by k², so fixed steps scale with the grid error.

use mfl_io::h5::OutputFile;
use mfl_io::scenario::Error;
use mfl_io::{ConfigError, Scenario};
use mfl_pde::{extrapolate, Diagnostics, Recorder};

/// How far the observed order may be from the scheme's before a warning.
pub const ORDER_TOLERANCE: f64 = 0.2;

/// The scenarios of the levels, coarse to fine: `[sc]` without extrapolation, else the grid
/// refined ×1, ×2 (, ×4) per axis ([`Scenario::refined`]).
pub fn levels(sc: &Scenario) -> Result<Vec<Scenario>, Error> {
    let k = sc
        .config
        .solver
        .as_ref()
        .and_then(|s| s.extrapolate)
        .unwrap_or(1);
    match k {
        1 => Ok(vec![sc.clone()]),
        2 | 3 => (0..k).map(|l| sc.refined(1 << l)).collect(),
        other => Err(ConfigError::key(
            "solver.extrapolate",
            format!("must be 1 (off), 2 (h, h/2) or 3 (h, h/2, h/4), got {other}"),
        )
        .into()),
    }
}

/// Run every level but the finest in memory; `tick(level)` after each. An interrupt
/// ([`crate::signals::STOP`]) or a failure stops them with a message naming the grid.
pub fn run_coarse(
    levels: &[Scenario],
    mut tick: impl FnMut(usize),
) -> Result<Vec<Vec<Diagnostics>>, String> {
    let mut out = Vec::new();
    for (l, sc) in levels[..levels.len().saturating_sub(1)].iter().enumerate() {
        let pde = sc.require_pde().map_err(|e| e.to_string())?;
        let mut rec = Stopping(Recorder::default());
        mfl_pde::solve(&pde.problem, pde.rho0.clone(), &pde.opts, &mut rec).map_err(|e| {
            let cells: Vec<String> = pde
                .problem
                .grid
                .axes
                .iter()
                .map(|a| a.n.to_string())
                .collect();
            format!(
                "extrapolation level {} (grid {}): {e}",
                l + 1,
                cells.join("×")
            )
        })?;
        out.push(rec.0.diagnostics);
        tick(l);
    }
    Ok(out)
}

/// A recorder that also honours the stop flag of SIGINT/SIGTERM.
struct Stopping(Recorder);

impl mfl_pde::Observer for Stopping {
    fn diagnostics(&mut self, d: &Diagnostics) -> Result<(), String> {
        self.0.diagnostics(d)
    }
    fn after_step(&mut self, t: f64, _steps: u64) -> Result<(), String> {
        mfl_core::drive::StopFlag::new(&crate::signals::STOP).check(t)
    }
}

/// A quantity extrapolated: its name and its value in a diagnostics row.
type Quantity = (&'static str, fn(&Diagnostics) -> f64);

/// The quantities extrapolated.
fn quantities(with_risk: bool) -> Vec<Quantity> {
    let mut q: Vec<Quantity> = Vec::new();
    if with_risk {
        q.push(("risk", |d| d.risk.unwrap_or(f64::NAN)));
    }
    q.push(("free_energy", |d| d.free_energy));
    q.push(("energy", |d| d.energy));
    q.push(("entropy", |d| d.entropy));
    q
}

/// The extrapolated series of every quantity at the common times of `rows` (one diagnostics
/// series per level, coarse to fine) for a scheme of order `p`, written to `file`; returns the
/// warnings to print (observed orders off p).
pub fn write(file: &OutputFile, rows: &[Vec<Diagnostics>], p: f64) -> Result<Vec<String>, Error> {
    let finest = rows.last().expect("≥ 2 levels");
    let times: Vec<f64> = finest
        .iter()
        .map(|d| d.t)
        .filter(|t| rows.iter().all(|r| r.iter().any(|d| d.t == *t)))
        .collect();
    let at = |r: &[Diagnostics], t: f64| r.iter().rfind(|d| d.t == t).cloned().expect("common");
    let with_risk = finest.iter().all(|d| d.risk.is_some());
    let vec = |v: &[f64]| ndarray::Array1::from(v.to_vec()).into_dyn();
    let mut warnings = Vec::new();
    file.write_array("/extrapolated/time", vec(&times).view())?;
    // each group carries its own time coordinate (xarray looks dimensions up in a group and
    // its parents only)
    file.write_array("/error_estimate/time", vec(&times).view())?;
    file.set_attr_f64("/extrapolated", "levels", rows.len() as f64)?;
    file.set_attr_f64("/extrapolated", "order_assumed", p)?;
    for (name, get) in quantities(with_risk) {
        let (mut value, mut error, mut order) = (Vec::new(), Vec::new(), Vec::new());
        let mut off: Vec<(f64, f64)> = Vec::new();
        for &t in &times {
            let levels: Vec<f64> = rows.iter().map(|r| get(&at(r, t))).collect();
            let e = extrapolate(&levels, p);
            value.push(e.map_or(f64::NAN, |e| e.value));
            error.push(e.map_or(f64::NAN, |e| e.error_estimate));
            let o = e.and_then(|e| e.observed_order);
            order.push(o.unwrap_or(f64::NAN));
            // differences at round-off level carry no order
            let scale = levels.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            let resolved = levels
                .windows(2)
                .all(|w| (w[0] - w[1]).abs() > 1e-11 * scale);
            if let Some(o) = o.filter(|o| resolved && t > 0.0 && (o - p).abs() > ORDER_TOLERANCE) {
                off.push((t, o));
            }
        }
        if let Some(&(t, o)) = off.first() {
            warnings.push(format!(
                "warning: the observed grid order of {name} is off {p} by more than \
                 {ORDER_TOLERANCE} at {} of {} times (first t = {t}: {o:.2}); there the grids \
                 are not in the asymptotic range or the time error is not small against the \
                 grid error, and the extrapolation and its error estimate are not to be trusted",
                off.len(),
                times.len()
            ));
        }
        file.write_array(&format!("/extrapolated/{name}"), vec(&value).view())?;
        file.write_array(&format!("/error_estimate/{name}"), vec(&error).view())?;
        if rows.len() == 3 {
            file.write_array(
                &format!("/extrapolated/observed_order_{name}"),
                vec(&order).view(),
            )?;
        }
    }
    file.flush()?;
    Ok(warnings)
}
