//! The modified Patankar–Runge–Kutta scheme MPRK22 for the SG discretisation: second order in
//! time, positive and conservative for every dt, with an embedded first-order estimate for
//! error-controlled steps.
//!
//! The SG scheme is a linear production–destruction system dρ/dt = L(Ψ(ρ))ρ: L(Ψ) moves mass
//! between neighbouring cells at rates A(±ΔΨ)/h² ≥ 0, so its columns sum to zero. MPRK22
//! (Burchard–Deleersnijder–Meister 2003; Kopecz–Meister 2018, α = 1) weights every production
//! and destruction term by the ratio of the unknown to a known stage ("Patankar weights"); for
//! this system that makes both stages linear solves with M-matrices of unit column sums:
//!
//! (I − dt L(Ψⁿ)) ρ⁽¹⁾ = ρⁿ,                                   Ψⁿ = Ψ(ρⁿ)
//! (I − (dt/2)[L(Ψⁿ) W + L(Ψ⁽¹⁾)]) ρⁿ⁺¹ = ρⁿ,   W = diag(ρⁿ/ρ⁽¹⁾),  Ψ⁽¹⁾ = Ψ(ρ⁽¹⁾).
//!
//! The first stage is the linearly implicit Euler step (order 1), the second is order 2; their
//! difference ρⁿ⁺¹ − ρ⁽¹⁾ = O(dt²) is the local error estimate of the embedded pair. Both matrices
//! are M-matrices with unit column sums for every dt ≥ 0, so ρⁿ⁺¹ ≥ 0 and Σρⁿ⁺¹ = Σρⁿ exactly (up
//! to round-off), whatever the step.
//!
//! In 2D the operator splits into the two axes, L = L₀ + L₁, and one step is the Strang
//! composition S₀(dt/2) S₁(dt) S₀(dt/2) of one-axis MPRK22 steps (second order for the nonlinear
//! flow; each one-axis solve is a set of independent tridiagonal lines, O(M) per stage); Ψ is
//! always the full 2D Ψ(·; ρ) of the current stage.
//!
//! Accuracy: the order 2 is asymptotic — on the linear-unit problem of the tests it shows
//! (2 ± 0.1 in the density's L1 norm) once dt·|∂_t log ρ| ≲ 0.01; at ten times that the observed
//! orders are 1.3–1.7 (the Patankar weights' error constant, not stiffness: the same at every grid
//! size). The α = 1/2 member of the family reaches order 2 sooner but with 2–20× larger errors
//! there, so α = 1 is used.
//!
//! Step control ([`StepControl`]): a fixed dt, or tolerances: the weighted RMS norm
//! err = ‖(ρⁿ⁺¹ − ρ⁽¹⁾)/(atol + rtol·max(ρⁿ, ρⁿ⁺¹))‖ (summed over the 2D sub-steps) must be ≤ 1;
//! a rejected step is redone from ρⁿ, and the next step is dt·min(5, max(0.2, 0.9/√err)). Since
//! err ∝ dt², the global error of the second-order solution scales like rtol.

use crate::error::PdeError;
use crate::flux::{sg_coefficient, Layout};
use crate::potential::PotentialField;
use crate::stepper::{check_temperature, transpose, LineSolver, LineTerm, Stepper};
use mfl_core::Grid;
use rayon::prelude::*;

/// How [`Mprk22`] chooses its steps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StepControl {
    /// Every step dt (the last one before an output time shortened to land on it).
    Fixed {
        /// The step, > 0.
        dt: f64,
    },
    /// Steps chosen so that the embedded error estimate stays within the tolerances.
    Tolerance {
        /// Relative tolerance, in (0, 1).
        rtol: f64,
        /// Absolute tolerance in density units, > 0.
        atol: f64,
        /// The first step tried (None: the explicit positivity limit at ρ₀).
        first_dt: Option<f64>,
    },
}

/// The MPRK22 stepper (see the module documentation).
#[derive(Debug, Clone)]
pub struct Mprk22 {
    layout: Layout,
    temperature: f64,
    control: StepControl,
    /// The next step to try (tolerance control), None before the first.
    dt_next: Option<f64>,
    rejected: u64,
    start: Vec<f64>,
    psi_start: Vec<f64>,
    rho0: Vec<f64>,
    rho1: Vec<f64>,
    psi0: Vec<f64>,
    psi1: Vec<f64>,
    weight: Vec<f64>,
    trans: [Vec<f64>; 4],
}

/// The most rejected attempts of one step before it is a failure.
const MAX_REJECTS: usize = 60;

impl Mprk22 {
    /// A stepper for `grid` at temperature T ≥ 0 with the given step control.
    pub fn new(grid: &Grid, temperature: f64, control: StepControl) -> Result<Self, PdeError> {
        check_temperature(temperature)?;
        match control {
            StepControl::Fixed { dt } if !(dt > 0.0 && dt.is_finite()) => {
                return Err(PdeError::invalid("dt", format!("must be > 0, got {dt}")));
            }
            StepControl::Tolerance { rtol, .. } if !(rtol > 0.0 && rtol < 1.0) => {
                return Err(PdeError::invalid(
                    "rtol",
                    format!("must be in (0, 1), got {rtol}"),
                ));
            }
            StepControl::Tolerance { atol, .. } if !(atol > 0.0 && atol.is_finite()) => {
                return Err(PdeError::invalid(
                    "atol",
                    format!("must be > 0, got {atol}"),
                ));
            }
            _ => {}
        }
        let m = grid.len();
        let buf = || vec![0.0; m];
        let two_d = grid.dim() == 2;
        let tbuf = || if two_d { vec![0.0; m] } else { Vec::new() };
        Ok(Mprk22 {
            layout: Layout::new(grid),
            temperature,
            control,
            dt_next: None,
            rejected: 0,
            start: buf(),
            psi_start: buf(),
            rho0: buf(),
            rho1: buf(),
            psi0: buf(),
            psi1: buf(),
            weight: buf(),
            trans: [tbuf(), tbuf(), tbuf(), tbuf()],
        })
    }

    /// Steps rejected by the error control so far.
    pub fn rejected_steps(&self) -> u64 {
        self.rejected
    }

    /// 1 / max_m Σ_faces A(Ψ_nbr − Ψ_m)/h²: the explicit positivity limit at Ψ, the first step
    /// tried under tolerance control (the controller grows it by up to 5× per step).
    fn explicit_limit(&self, psi: &[f64]) -> f64 {
        let t = self.temperature;
        let mut rate = vec![0.0; psi.len()];
        self.layout.for_each_face(|i, j, h| {
            let d = psi[j] - psi[i];
            rate[i] += sg_coefficient(d, t) / (h * h);
            rate[j] += sg_coefficient(-d, t) / (h * h);
        });
        let max = rate.iter().fold(0.0f64, |a, &b| a.max(b));
        if max > 0.0 {
            1.0 / max
        } else {
            f64::INFINITY
        }
    }

    /// One MPRK22 step of length dt along `axis` only, ρ in place; `psi_first`: Ψ(ρ) if known.
    /// Returns the weighted error norm of ρⁿ⁺¹ − ρ⁽¹⁾ (0 under fixed steps).
    fn axis_step(
        &mut self,
        field: &dyn PotentialField,
        rho: &mut [f64],
        axis: usize,
        dt: f64,
        psi_first: bool,
    ) -> f64 {
        let mut psi0 = std::mem::take(&mut self.psi0);
        if psi_first {
            psi0.copy_from_slice(&self.psi_start);
        } else {
            field.potential(rho, &mut psi0);
        }
        self.rho0.copy_from_slice(rho);
        let h = self.layout.h[axis];
        let c = dt / (h * h);
        // stage 1: linearly implicit Euler with Ψⁿ
        self.solve_axis(rho, axis, &[(&psi0, c, false)]);
        self.rho1.copy_from_slice(rho);
        let mut psi1 = std::mem::take(&mut self.psi1);
        field.potential(&self.rho1, &mut psi1);
        for ((w, &a), &b) in self.weight.iter_mut().zip(&self.rho0).zip(&self.rho1) {
            // ρ⁽¹⁾ > 0 wherever mass can reach; an underflowed 0 keeps the unweighted term
            *w = if b > 0.0 { a / b } else { 1.0 };
        }
        // stage 2
        rho.copy_from_slice(&self.rho0);
        self.solve_axis(
            rho,
            axis,
            &[(&psi0, 0.5 * c, true), (&psi1, 0.5 * c, false)],
        );
        self.psi0 = psi0;
        self.psi1 = psi1;
        match self.control {
            StepControl::Fixed { .. } => 0.0,
            StepControl::Tolerance { rtol, atol, .. } => {
                let mut s = 0.0;
                for ((&new, &emb), &old) in rho.iter().zip(&self.rho1).zip(&self.rho0) {
                    let e = (new - emb) / (atol + rtol * new.max(old));
                    s += e * e;
                }
                (s / rho.len() as f64).sqrt()
            }
        }
    }

    /// Solve (I + Σ_s c_s M_axis(Ψ_s) W_s) ρ = ρ along the lines of `axis`; a term (ψ, c, true)
    /// takes the Patankar weights `self.weight` as W.
    fn solve_axis(&mut self, rho: &mut [f64], axis: usize, terms: &[(&[f64], f64, bool)]) {
        let lay = &self.layout;
        let [n0, n1] = lay.n;
        let periodic = lay.periodic[axis];
        let t = self.temperature;
        let contiguous = lay.dim == 1 || axis == 1;
        let n = if lay.dim == 1 { n0 } else { lay.n[axis] };
        if contiguous {
            lines(rho, n, terms, &self.weight, t, periodic);
        } else {
            let [tr, tp0, tp1, tw] = &mut self.trans;
            transpose(rho, n0, n1, tr);
            transpose(terms[0].0, n0, n1, tp0);
            if let Some(second) = terms.get(1) {
                transpose(second.0, n0, n1, tp1);
            }
            if terms.iter().any(|x| x.2) {
                transpose(&self.weight, n0, n1, tw);
            }
            // the same terms on the transposed potentials (at most two; no allocation)
            let mut tterms: [(&[f64], f64, bool); 2] = [(&tp0[..], 0.0, false); 2];
            for (k, x) in terms.iter().enumerate() {
                tterms[k] = (if k == 0 { &tp0[..] } else { &tp1[..] }, x.1, x.2);
            }
            lines(tr, n, &tterms[..terms.len()], tw, t, periodic);
            transpose(tr, n1, n0, rho);
        }
    }

    /// One full step of length dt from ρ (1D: one MPRK22 step; 2D: the Strang composition).
    fn try_step(&mut self, field: &dyn PotentialField, rho: &mut [f64], dt: f64) -> f64 {
        if self.layout.dim == 1 {
            self.axis_step(field, rho, 0, dt, true)
        } else {
            self.axis_step(field, rho, 0, 0.5 * dt, true)
                + self.axis_step(field, rho, 1, dt, false)
                + self.axis_step(field, rho, 0, 0.5 * dt, false)
        }
    }
}

/// Independent line solves of the contiguous lines (length n) of `rho`.
fn lines(
    rho: &mut [f64],
    n: usize,
    terms: &[(&[f64], f64, bool)],
    weight: &[f64],
    t: f64,
    periodic: bool,
) {
    let solve = |s: &mut LineSolver, l: usize, r: &mut [f64]| {
        let o = l * n;
        let mut lt = [LineTerm {
            psi: &[],
            c: 0.0,
            weight: None,
        }; 2];
        for (k, &(psi, c, weighted)) in terms.iter().enumerate() {
            lt[k] = LineTerm {
                psi: &psi[o..o + n],
                c,
                weight: weighted.then(|| &weight[o..o + n]),
            };
        }
        s.solve_terms(r, &lt[..terms.len()], t, periodic);
    };
    if rho.len() < 20_000 {
        let mut s = LineSolver::new(n);
        for (l, r) in rho.chunks_mut(n).enumerate() {
            solve(&mut s, l, r);
        }
    } else {
        rho.par_chunks_mut(n)
            .enumerate()
            .with_min_len((4096 / n).max(1))
            .for_each_init(|| LineSolver::new(n), |s, (l, r)| solve(s, l, r));
    }
}

impl Stepper for Mprk22 {
    fn step(
        &mut self,
        field: &dyn PotentialField,
        rho: &mut [f64],
        dt_max: f64,
    ) -> Result<f64, PdeError> {
        self.step_from(field, rho, dt_max, None)
    }

    fn step_from(
        &mut self,
        field: &dyn PotentialField,
        rho: &mut [f64],
        dt_max: f64,
        psi: Option<&[f64]>,
    ) -> Result<f64, PdeError> {
        match psi {
            Some(p) if p.len() == rho.len() => self.psi_start.copy_from_slice(p),
            _ => {
                let mut ps = std::mem::take(&mut self.psi_start);
                field.potential(rho, &mut ps);
                self.psi_start = ps;
            }
        }
        let planned = match self.control {
            StepControl::Fixed { dt } => {
                let dt = dt.min(dt_max);
                self.try_step(field, rho, dt);
                return Ok(dt);
            }
            StepControl::Tolerance { first_dt, .. } => match (self.dt_next, first_dt) {
                (Some(dt), _) | (None, Some(dt)) => dt,
                (None, None) => self.explicit_limit(&self.psi_start.clone()),
            },
        };
        self.start.copy_from_slice(rho);
        let mut dt = planned.min(dt_max);
        for _ in 0..MAX_REJECTS {
            let err = self.try_step(field, rho, dt);
            let factor = if !err.is_finite() {
                0.2
            } else if err > 0.0 {
                (0.9 / err.sqrt()).clamp(0.2, 5.0)
            } else {
                5.0
            };
            if err <= 1.0 {
                let clipped = dt < planned;
                let next = dt * factor;
                self.dt_next = Some(if clipped { next.max(planned) } else { next });
                return Ok(dt);
            }
            self.rejected += 1;
            rho.copy_from_slice(&self.start);
            dt *= factor;
        }
        Err(PdeError::invalid(
            "rtol",
            format!(
                "the error control rejected {MAX_REJECTS} attempts in a row (last dt = {dt}); \
                 the tolerances may be below round-off"
            ),
        ))
    }
}
