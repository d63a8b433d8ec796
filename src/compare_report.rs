//! What `mfl compare` stores under /compare and prints: the gap table per time, the slope
//! fits and the error budget.

use mfl_compare::{slope_fit, BudgetRow, Equilibrium, GapTable, SlopeFit};
use mfl_io::h5::{H5Error, OutputFile};
use mfl_io::scenario::pde::SolveSetup;
use ndarray::{Array1, Array2};
use std::io::Write;

/// The fitted and derived numbers of a sweep.
pub struct Report<'a> {
    table: &'a GapTable,
    budget: Option<&'a [BudgetRow]>,
    equilibrium: Option<&'a Equilibrium>,
    /// Slope fit of log|gap| on log N per time, or why there is none.
    fits: Vec<Result<SlopeFit, String>>,
    /// gap = C/N fit per time: (C, se).
    inverse: Vec<Option<(f64, f64)>>,
    /// Slope of log(mean distance) on log N per time.
    distance_fits: Vec<Option<SlopeFit>>,
    /// ‖ρ_t − e^{−Ψ/T}/Z‖₁ of the PDE per time (NaN at T = 0).
    gibbs: Vec<f64>,
    temperature: f64,
}

const NAN: f64 = f64::NAN;

/// What every gap is measured against (stored as /compare@reference and printed).
const REFERENCE: &str = "the continuous-time R(rho_t) of the PDE on its grid; the Euler-Maruyama \
    bias O(eta) of the particles and the grid error of R(rho_t) are separate lines of the error \
    budget (step_bias, pde_error), not part of the gap";

impl<'a> Report<'a> {
    /// The report of a finished sweep (fits per time, budget, equilibrium).
    pub fn new(
        table: &'a GapTable,
        budget: Option<&'a [BudgetRow]>,
        equilibrium: Option<&'a Equilibrium>,
        pde: &SolveSetup,
    ) -> Self {
        let m = table.times.len();
        let p = &pde.problem;
        let gibbs = (0..m)
            .map(|j| {
                mfl_pde::diagnose(
                    &p.grid,
                    p.field.as_ref(),
                    &table.pde_density[j],
                    p.temperature,
                    table.times[j],
                    0.0,
                    0,
                )
                .gibbs_residual
            })
            .collect();
        let distance_fits = (0..m)
            .map(|j| {
                let (mut n, mut d, mut s) = (vec![], vec![], vec![]);
                for i in 0..table.ns.len() {
                    let r = table.row(i, j);
                    let dist = r.distance.as_ref()?;
                    n.push(r.n as f64);
                    d.push(dist.mean);
                    s.push(dist.se);
                }
                slope_fit(&n, &d, &s).ok()
            })
            .collect();
        Report {
            table,
            budget,
            equilibrium,
            fits: (0..m).map(|j| fit_at(table, j)).collect(),
            inverse: (0..m).map(|j| table.inverse_n_fit(j).ok()).collect(),
            distance_fits,
            gibbs,
            temperature: p.temperature,
        }
    }

    /// /compare/* (layout in README.md "Output files").
    pub fn write(&self, f: &OutputFile) -> Result<(), H5Error> {
        let t = self.table;
        let w1 = |name: &str, v: Vec<f64>| f.write_array(name, arr1(&v).view().into_dyn());
        let w2 = |name: &str, g: &dyn Fn(&mfl_compare::GapRow) -> f64| {
            f.write_array(name, arr2(t, g).view().into_dyn())
        };
        let ns: Vec<u64> = t.ns.iter().map(|&n| n as u64).collect();
        f.write_array("/compare/n", arr1(&ns).view().into_dyn())?;
        w1("/compare/time", t.times.clone())?;
        let seeds: Vec<u64> = t.seeds.clone();
        f.write_array("/compare/seeds", arr1(&seeds).view().into_dyn())?;
        w2("/compare/gap_risk", &|r| r.best_gap_risk().0)?;
        w2("/compare/gap_risk_se", &|r| r.best_gap_risk().1)?;
        w2("/compare/gap_risk_raw", &|r| r.gap_risk)?;
        w2("/compare/gap_risk_raw_se", &|r| r.risk.se)?;
        w2("/compare/spread_risk", &|r| r.risk.std)?;
        w2("/compare/gap_energy", &|r| r.best_gap_energy().0)?;
        w2("/compare/gap_energy_se", &|r| r.best_gap_energy().1)?;
        w2("/compare/variance_reduction", &|r| r.variance_reduction())?;
        w2("/compare/variance_reduction_energy", &|r| {
            r.adjoint
                .as_ref()
                .map_or(NAN, |a| a.variance_reduction_energy)
        })?;
        // the coefficient each estimate used (1 for the adjoint CV, β for the coupled one) and
        // the variance-optimal one estimated from the seeds, for checking
        w2(
            "/compare/control_coefficient",
            &|r| match (&r.adjoint, &r.coupled, &r.control) {
                (Some(_), _, _) => 1.0,
                (None, Some(c), _) => c.beta,
                (None, None, Some(_)) => 1.0,
                _ => 0.0,
            },
        )?;
        w2("/compare/control_coefficient_optimal", &|r| {
            r.adjoint.as_ref().map_or(NAN, |a| a.optimal_coefficient)
        })?;
        // per-seed values [N, time, seed]: raw R_N and E_N, and the control variates Z
        let w3 = |name: &str, g: &dyn Fn(&mfl_compare::GapRow) -> Option<Vec<f64>>| {
            let (nn, nt, ns) = (t.ns.len(), t.times.len(), t.seeds.len());
            let mut a = ndarray::Array3::from_elem((nn, nt, ns), NAN);
            let mut any = false;
            for i in 0..nn {
                for j in 0..nt {
                    if let Some(v) = g(t.row(i, j)) {
                        any = true;
                        for (k, x) in v.into_iter().enumerate() {
                            a[[i, j, k]] = x;
                        }
                    }
                }
            }
            if any {
                f.write_array(name, a.view().into_dyn())
            } else {
                Ok(())
            }
        };
        w3("/compare/samples/risk", &|r| Some(r.risk_samples.clone()))?;
        w3("/compare/samples/energy", &|r| {
            Some(r.energy_samples.clone())
        })?;
        w3("/compare/samples/z_risk", &|r| {
            r.adjoint.as_ref().map(|a| a.z_risk.clone())
        })?;
        w3("/compare/samples/z_energy", &|r| {
            r.adjoint.as_ref().map(|a| a.z_energy.clone())
        })?;
        w2("/compare/distance", &|r| {
            r.distance.as_ref().map_or(NAN, |d| d.mean)
        })?;
        w2("/compare/distance_se", &|r| {
            r.distance.as_ref().map_or(NAN, |d| d.se)
        })?;
        let fit = |g: &dyn Fn(&SlopeFit) -> f64| -> Vec<f64> {
            self.fits
                .iter()
                .map(|o| o.as_ref().map_or(NAN, g))
                .collect()
        };
        w1("/compare/slope", fit(&|s| s.slope))?;
        w1("/compare/slope_lo", fit(&|s| s.slope_ci95.0))?;
        w1("/compare/slope_hi", fit(&|s| s.slope_ci95.1))?;
        w1("/compare/prefactor", fit(&|s| s.prefactor))?;
        w1("/compare/prefactor_lo", fit(&|s| s.prefactor_ci95.0))?;
        w1("/compare/prefactor_hi", fit(&|s| s.prefactor_ci95.1))?;
        w1(
            "/compare/inverse_n_prefactor",
            self.inverse
                .iter()
                .map(|o| o.map_or(NAN, |c| c.0))
                .collect(),
        )?;
        w1(
            "/compare/inverse_n_prefactor_se",
            self.inverse
                .iter()
                .map(|o| o.map_or(NAN, |c| c.1))
                .collect(),
        )?;
        w1(
            "/compare/distance_slope",
            self.distance_fits
                .iter()
                .map(|o| o.as_ref().map_or(NAN, |s| s.slope))
                .collect(),
        )?;
        w1("/compare/pde_risk", t.pde_risk.clone())?;
        w1("/compare/pde_energy", t.pde_energy.clone())?;
        if !t.pde_fluctuation.is_empty() {
            w1("/compare/pde_fluctuation", t.pde_fluctuation.clone())?;
        }
        w1("/compare/gibbs_residual", self.gibbs.clone())?;
        if let Some(b) = self.budget {
            w1(
                "/compare/pde_error",
                b.iter().map(|r| r.pde_error).collect(),
            )?;
            w1(
                "/compare/step_bias",
                b.iter().map(|r| r.step_bias).collect(),
            )?;
            w1(
                "/compare/step_bias_se",
                b.iter().map(|r| r.step_bias_se).collect(),
            )?;
            let ok: Vec<u8> = b.iter().map(|r| u8::from(r.trustworthy)).collect();
            f.write_array("/compare/trustworthy", arr1(&ok).view().into_dyn())?;
            f.set_attr(
                "/compare",
                "step_bias_method",
                if b.iter().all(|r| r.step_bias_exact) {
                    "R_eta - R_0 of the exact N = infinity law of the Euler-Maruyama scheme (1D), R_0 extrapolated from eta, eta/2, eta/4; no particle rerun"
                } else {
                    "2 (mean R_N(eta) - mean R_N(eta/2)) at the largest N, same seeds and Brownian paths"
                },
            )?;
            let warnings: Vec<String> = b.iter().filter_map(|r| r.warning.clone()).collect();
            f.set_attr("/compare", "warnings", &warnings.join("\n"))?;
        }
        if let Some(e) = self.equilibrium {
            let g = "/compare/equilibrium";
            w1(&format!("{g}/times"), e.times.clone())?;
            w1(
                &format!("{g}/gap_risk"),
                e.risk.iter().map(|s| s.mean).collect(),
            )?;
            w1(
                &format!("{g}/gap_risk_se"),
                e.risk.iter().map(|s| s.se).collect(),
            )?;
            w1(
                &format!("{g}/gap_energy"),
                e.energy.iter().map(|s| s.mean).collect(),
            )?;
            w1(
                &format!("{g}/gap_energy_se"),
                e.energy.iter().map(|s| s.se).collect(),
            )?;
            let fit = e.fit.as_ref().ok();
            w1(&format!("{g}/slope"), vec![fit.map_or(NAN, |f| f.slope)])?;
            w1(
                &format!("{g}/slope_lo"),
                vec![fit.map_or(NAN, |f| f.slope_ci95.0)],
            )?;
            w1(
                &format!("{g}/slope_hi"),
                vec![fit.map_or(NAN, |f| f.slope_ci95.1)],
            )?;
            w1(&format!("{g}/pde_risk"), vec![e.pde_risk])?;
            w1(&format!("{g}/pde_energy"), vec![e.pde_energy])?;
        }
        f.set_attr("/compare", "estimator", self.estimator())?;
        f.set_attr("/compare", "reference", REFERENCE)?;
        f.flush()
    }

    fn estimator(&self) -> &'static str {
        if self.table.adjoint.is_some() {
            "adjoint control variate at every time: mean of R_N - Z, E[Z] = 0 exactly"
        } else if self.table.path.is_some() {
            "t = 0: exact linear control variate; t > 0: coupled McKean-Vlasov control variate"
        } else {
            "t = 0: exact linear control variate; t > 0: plain mean over seeds"
        }
    }

    /// The table, the fits and the budget, as text.
    pub fn print(&self, w: &mut dyn Write) -> std::io::Result<()> {
        let t = self.table;
        writeln!(
            w,
            "gap(N, t) = mean over {} seeds of R_N(θ(t)) − R(ρ_t)  [{}]",
            t.seeds.len(),
            self.estimator()
        )?;
        writeln!(w, "measured against {REFERENCE}")?;
        if t.seeds.len() < mfl_compare::MIN_SEEDS {
            writeln!(
                w,
                "WARNING: only {} seeds (< {}): per-seed values are skewed and the sample se is \
                 biased low when a sample comes out low; intervals may under-cover",
                t.seeds.len(),
                mfl_compare::MIN_SEEDS
            )?;
        }
        for (j, &time) in t.times.iter().enumerate() {
            write!(w, "\nt = {time}: R(ρ_t) = {:.6e}", t.pde_risk[j])?;
            if let Some(v) = t.pde_fluctuation.get(j) {
                write!(w, ", V(ρ_t) = {v:.4e} (i.i.d. samples: gap = V/N)")?;
            }
            if self.temperature > 0.0 {
                write!(w, ", Gibbs residual {:.1e}", self.gibbs[j])?;
                if self.gibbs[j] < 1e-3 {
                    write!(w, " (≈ equilibrium ρ*)")?;
                }
            }
            writeln!(w)?;
            writeln!(
                w,
                "  {:>7}  {:>11}  {:>9}  {:>9}  {:>7}  {:>9}  {:>11}  {:>9}",
                "N", "gap", "stderr", "spread", "VR", "N·gap", "E gap", "distance"
            )?;
            for i in 0..t.ns.len() {
                let r = t.row(i, j);
                let (g, se) = r.best_gap_risk();
                let vr = r.variance_reduction();
                writeln!(
                    w,
                    "  {:>7}  {:>+11.4e}  {:>9.2e}  {:>9.2e}  {:>7.1}  {:>9.4}  {:>+11.4e}  {:>9}",
                    r.n,
                    g,
                    se,
                    r.risk.std,
                    vr,
                    g * r.n as f64,
                    r.best_gap_energy().0,
                    r.distance
                        .as_ref()
                        .map_or("-".into(), |d| format!("{:.3e}", d.mean))
                )?;
            }
            match &self.fits[j] {
                Ok(f) => writeln!(
                    w,
                    "  slope {:.3} (95% CI [{:.3}, {:.3}], seed jackknife), gap ≈ C·N^slope with C = {:.4e} [{:.4e}, {:.4e}]",
                    f.slope, f.slope_ci95.0, f.slope_ci95.1, f.prefactor, f.prefactor_ci95.0,
                    f.prefactor_ci95.1
                )?,
                Err(why) => writeln!(w, "  slope: no log-log fit ({why})")?,
            }
            if let Some((c, se)) = self.inverse[j] {
                writeln!(w, "  fixed slope −1: gap ≈ C/N with C = {c:.4e} ± {se:.1e}")?;
            }
            if let Some(d) = &self.distance_fits[j] {
                writeln!(
                    w,
                    "  distance ∝ N^{:.3} (95% CI [{:.3}, {:.3}]; i.i.d. theory −1/2)",
                    d.slope, d.slope_ci95.0, d.slope_ci95.1
                )?;
            }
        }
        if let Some(e) = self.equilibrium {
            let last = *self.gibbs.last().unwrap_or(&NAN);
            writeln!(
                w,
                "\nequilibrium: time averages over {} record times in [{}, {}] per seed, against \
                 the PDE's state (R = {:.6e}, E = {:.6e}; Gibbs residual at the end {:.1e}{})",
                e.times.len(),
                e.times[0],
                e.times[e.times.len() - 1],
                e.pde_risk,
                e.pde_energy,
                last,
                if last < 1e-3 {
                    ""
                } else {
                    " — NOT yet stationary: extend t_end"
                }
            )?;
            writeln!(
                w,
                "  {:>7}  {:>11}  {:>9}  {:>9}  {:>11}  {:>9}",
                "N", "R gap", "stderr", "N·gap", "E gap", "stderr"
            )?;
            for (i, n) in e.ns.iter().enumerate() {
                writeln!(
                    w,
                    "  {:>7}  {:>+11.4e}  {:>9.2e}  {:>9.4}  {:>+11.4e}  {:>9.2e}",
                    n,
                    e.risk[i].mean,
                    e.risk[i].se,
                    e.risk[i].mean * *n as f64,
                    e.energy[i].mean,
                    e.energy[i].se
                )?;
            }
            match &e.fit {
                Ok(f) => writeln!(
                    w,
                    "  slope {:.3} (95% CI [{:.3}, {:.3}], seed jackknife), C = {:.4e}",
                    f.slope, f.slope_ci95.0, f.slope_ci95.1, f.prefactor
                )?,
                Err(why) => writeln!(w, "  slope: no log-log fit ({why})")?,
            }
        }
        if let Some(b) = self.budget {
            writeln!(
                w,
                "\nerror budget at N = {} (trustworthy when both ≤ |gap|/10 and |gap| ≥ 2 stderr):",
                t.ns[t.largest_n_index()]
            )?;
            writeln!(
                w,
                "  η bias (signed): {}",
                if b.iter().all(|r| r.step_bias_exact) {
                    "R_η − R_0 of the exact N = ∞ law of the Euler–Maruyama scheme (R_0 extrapolated from η, η/2, η/4); no particle rerun"
                } else {
                    "2(mean R_N(η) − mean R_N(η/2)) at the largest N, same seeds and Brownian paths"
                }
            )?;
            writeln!(
                w,
                "  {:>7}  {:>10}  {:>10}  {:>10}  {:>10}  {:>10}  verdict",
                "t", "|gap|", "stderr", "PDE error", "η bias", "± (se)"
            )?;
            for r in b {
                writeln!(
                    w,
                    "  {:>7}  {:>10.3e}  {:>10.3e}  {:>10.3e}  {:>+10.3e}  {:>10.3e}  {}",
                    r.time,
                    r.gap_largest_n,
                    r.gap_se,
                    r.pde_error,
                    r.step_bias,
                    r.step_bias_se,
                    if r.trustworthy {
                        "ok"
                    } else {
                        "NOT TRUSTWORTHY"
                    }
                )?;
            }
            for r in b.iter().filter_map(|r| r.warning.as_ref()) {
                writeln!(w, "WARNING: {r}: the slope at this time is not trustworthy")?;
            }
        }
        Ok(())
    }
}

/// A [S]-vector as an HDF5-ready array.
pub(crate) fn arr1<T: Clone>(v: &[T]) -> Array1<T> {
    Array1::from(v.to_vec())
}

/// An [Nn, Nt] table of `f(row)`.
pub(crate) fn arr2(table: &GapTable, f: impl Fn(&mfl_compare::GapRow) -> f64) -> Array2<f64> {
    Array2::from_shape_fn((table.ns.len(), table.times.len()), |(i, j)| {
        f(table.row(i, j))
    })
}

/// The slope fit at time index j (with seed-jackknife intervals), or why there is none.
pub(crate) fn fit_at(table: &GapTable, j: usize) -> Result<mfl_compare::SlopeFit, String> {
    table.slope_fit(j).map_err(|e| e.to_string())
}
