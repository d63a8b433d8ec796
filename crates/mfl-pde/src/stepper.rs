//! Time steppers for dρ/dt = −div J(Ψ(ρ), ρ) with Scharfetter–Gummel fluxes ([`crate::flux`]).
//!
//! A [`Stepper`] is built once for a grid and temperature, owns its work buffers (the time loop
//! never allocates, apart from per-thread line buffers of the implicit 2D solver), and advances
//! ρ in place by one step no longer than a given `dt_max`, returning the step it took.

use crate::error::PdeError;
use crate::flux::{sg_coefficient, Layout, SgKernel};
use crate::potential::PotentialField;
use mfl_core::Grid;
use rayon::prelude::*;

/// One time step of a scheme.
pub trait Stepper {
    /// Advance `rho` by one step of length dt ≤ `dt_max` (the stepper's own choice, clipped to
    /// `dt_max` so that output times are hit exactly) and return dt.
    fn step(
        &mut self,
        field: &dyn PotentialField,
        rho: &mut [f64],
        dt_max: f64,
    ) -> Result<f64, PdeError>;

    /// [`Stepper::step`] when Ψ(·; ρ) at the current ρ is already known (`psi`, e.g. from the
    /// diagnostics just taken): schemes whose first stage evaluates exactly this Ψ use it
    /// instead of evaluating it again — same numbers, one evaluation fewer. By default `psi` is
    /// ignored.
    fn step_from(
        &mut self,
        field: &dyn PotentialField,
        rho: &mut [f64],
        dt_max: f64,
        psi: Option<&[f64]>,
    ) -> Result<f64, PdeError> {
        let _ = psi;
        self.step(field, rho, dt_max)
    }

    /// Whether the scheme may produce (small) negative densities, so that the driver records
    /// min ρ instead of treating a negative value as a blow-up (false for the FV schemes).
    fn allows_negative(&self) -> bool {
        false
    }

    /// Whether the scheme's steps decrease the discrete free energy F for every dt of a fixed
    /// potential (the linearly implicit SG step), so that a rise of F over a step means the
    /// step was too long for the interaction: the driver then stops the run ([`crate::FvRun`]).
    fn decreases_free_energy(&self) -> bool {
        false
    }
}

/// Explicit third-order strong-stability-preserving Runge–Kutta (Shu–Osher):
///
/// u₁ = ρ + dt L(u₀)u₀,  u₂ = ¾ρ + ¼(u₁ + dt L(u₁)u₁),  ρ⁺ = ⅓ρ + ⅔(u₂ + dt L(u₂)u₂),
///
/// with L(u) the SG operator of Ψ(·; u), Ψ re-evaluated at every stage. Each stage is a forward
/// Euler step, which keeps ρ ≥ 0 when dt·max_m Σ_{faces} A(Ψ_nbr − Ψ_m)/h² ≤ 1; SSP-RK3 is a
/// convex combination of such steps, so ρ stays ≥ 0. dt = cfl / (that maximum), taken at ρ
/// (and reduced and the step redone if a later stage's Ψ needs a smaller one).
#[derive(Debug, Clone)]
pub struct ExplicitSsprk3 {
    cfl: f64,
    kernel: SgKernel,
    psi: Vec<f64>,
    k0: Vec<f64>,
    k: Vec<f64>,
    u1: Vec<f64>,
    u2: Vec<f64>,
}

impl ExplicitSsprk3 {
    /// A stepper for `grid` at temperature T ≥ 0 with 0 < cfl ≤ 1.
    pub fn new(grid: &Grid, temperature: f64, cfl: f64) -> Result<Self, PdeError> {
        check_temperature(temperature)?;
        if !(cfl > 0.0 && cfl <= 1.0) {
            return Err(PdeError::invalid(
                "cfl",
                format!("must be in (0, 1] for positivity, got {cfl}"),
            ));
        }
        let m = grid.len();
        Ok(ExplicitSsprk3 {
            cfl,
            kernel: SgKernel::new(&Layout::new(grid), temperature),
            psi: vec![0.0; m],
            k0: vec![0.0; m],
            k: vec![0.0; m],
            u1: vec![0.0; m],
            u2: vec![0.0; m],
        })
    }

    /// Ψ(u) into psi and L(u)u into `k`; returns the forward-Euler rate bound.
    fn stage(&mut self, field: &dyn PotentialField, u: &[f64], k: &mut [f64]) -> f64 {
        field.potential(u, &mut self.psi);
        self.kernel.rhs_rate(&self.psi, u, k)
    }
}

/// T ≥ 0 and finite, or an error naming `temperature`.
pub(crate) fn check_temperature(t: f64) -> Result<(), PdeError> {
    if !(t >= 0.0 && t.is_finite()) {
        return Err(PdeError::invalid(
            "temperature",
            format!("must be ≥ 0, got {t}"),
        ));
    }
    Ok(())
}

impl Stepper for ExplicitSsprk3 {
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
        psi0: Option<&[f64]>,
    ) -> Result<f64, PdeError> {
        let mut k0 = std::mem::take(&mut self.k0);
        let mut k = std::mem::take(&mut self.k);
        let mut u1 = std::mem::take(&mut self.u1);
        let mut u2 = std::mem::take(&mut self.u2);
        let rate0 = match psi0 {
            Some(p) if p.len() == self.psi.len() => {
                self.psi.copy_from_slice(p);
                self.kernel.rhs_rate(&self.psi, rho, &mut k0)
            }
            _ => self.stage(field, rho, &mut k0),
        };
        let mut dt = if rate0 > 0.0 {
            (self.cfl / rate0).min(dt_max)
        } else {
            dt_max
        };
        let mut result = None;
        for _attempt in 0..20 {
            for ((u, r), kk) in u1.iter_mut().zip(rho.iter()).zip(&k0) {
                *u = r + dt * kk;
            }
            let rate = self.stage(field, &u1, &mut k);
            if dt * rate > 1.0 {
                dt = self.cfl / rate;
                continue;
            }
            // u2 = ¾ρ + ¼(u1 + dt k)
            for (((v, r), u), kk) in u2.iter_mut().zip(rho.iter()).zip(&u1).zip(&k) {
                *v = 0.75 * r + 0.25 * (u + dt * kk);
            }
            let rate = self.stage(field, &u2, &mut k);
            if dt * rate > 1.0 {
                dt = self.cfl / rate;
                continue;
            }
            // ρ⁺ = ⅓ρ + ⅔(u2 + dt k)
            for ((r, u), kk) in rho.iter_mut().zip(&u2).zip(&k) {
                *r = (1.0 / 3.0) * *r + (2.0 / 3.0) * (u + dt * kk);
            }
            result = Some(dt);
            break;
        }
        self.k0 = k0;
        self.k = k;
        self.u1 = u1;
        self.u2 = u2;
        result.ok_or_else(|| {
            PdeError::invalid(
                "time step",
                "the positivity limit kept shrinking within one step",
            )
        })
    }
}

/// Linearly implicit backward Euler with Ψ frozen at the start of the step, solved by
/// dimensional (Lie) splitting into 1D implicit SG solves:
///
/// (I + dt L_a(Ψⁿ)) ρ^{(a)} = ρ^{(a−1)}  for a = each axis in turn (order alternating between
/// steps), L_a the SG operator along axis a with Ψⁿ = Ψ(·; ρⁿ).
///
/// Why: each 1D matrix I + dt L_a is tridiagonal (cyclic on a periodic axis), has unit column
/// sums and non-positive off-diagonals (an M-matrix), so each solve is conservative and maps
/// ρ ≥ 0 to ρ ≥ 0 for every dt — and a no-pivoting elimination keeps that exactly in floating
/// point (all updates add terms of one sign). L_a ρ* = 0 for the discrete Gibbs state
/// ρ* ∝ e^{−Ψ/T}, so each solve leaves it stationary; at T = 0 the same matrices are the
/// implicit upwind scheme. A fully coupled 2D solve would need a sparse iterative solver whose
/// truncation breaks exact positivity and conservation; the splitting costs O(M) per step.
/// For a fixed potential the step is unconditionally free-energy decreasing (the solution
/// operator is positive, mass-preserving and fixes ρ*, so it contracts KL(ρ‖ρ*)). The scheme is
/// first order in time (plus an O(dt) splitting error): use dt ∝ h² for second order overall.
#[derive(Debug, Clone)]
pub struct ImplicitSg {
    layout: Layout,
    temperature: f64,
    dt: f64,
    psi: Vec<f64>,
    trans_rho: Vec<f64>,
    trans_psi: Vec<f64>,
    flip: bool,
}

impl ImplicitSg {
    /// A stepper for `grid` at temperature T ≥ 0 with the fixed step dt > 0.
    pub fn new(grid: &Grid, temperature: f64, dt: f64) -> Result<Self, PdeError> {
        check_temperature(temperature)?;
        if !(dt > 0.0 && dt.is_finite()) {
            return Err(PdeError::invalid("dt", format!("must be > 0, got {dt}")));
        }
        let m = grid.len();
        let two_d = grid.dim() == 2;
        Ok(ImplicitSg {
            layout: Layout::new(grid),
            temperature,
            dt,
            psi: vec![0.0; m],
            trans_rho: if two_d { vec![0.0; m] } else { Vec::new() },
            trans_psi: if two_d { vec![0.0; m] } else { Vec::new() },
            flip: false,
        })
    }

    /// Implicit solves along the contiguous lines (length n) of `rho` with potential `psi`.
    fn solve_lines(&self, rho: &mut [f64], psi: &[f64], n: usize, h: f64, periodic: bool, dt: f64) {
        let t = self.temperature;
        let c = dt / (h * h);
        let lines = rho.len() / n;
        let min_len = (4096 / n).max(1);
        if lines * n < 20_000 {
            let mut s = LineSolver::new(n);
            for (r, p) in rho.chunks_mut(n).zip(psi.chunks(n)) {
                s.solve(r, p, c, t, periodic);
            }
        } else {
            rho.par_chunks_mut(n)
                .zip(psi.par_chunks(n))
                .with_min_len(min_len)
                .for_each_init(
                    || LineSolver::new(n),
                    |s, (r, p)| s.solve(r, p, c, t, periodic),
                );
        }
    }
}

/// `dst` (n1 × n0) = `src` (n0 × n1) transposed, both row-major.
pub(crate) fn transpose(src: &[f64], n0: usize, n1: usize, dst: &mut [f64]) {
    for i0 in 0..n0 {
        for i1 in 0..n1 {
            dst[i1 * n0 + i0] = src[i0 * n1 + i1];
        }
    }
}

impl Stepper for ImplicitSg {
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
        psi0: Option<&[f64]>,
    ) -> Result<f64, PdeError> {
        let dt = self.dt.min(dt_max);
        let mut psi = std::mem::take(&mut self.psi);
        match psi0 {
            Some(p) if p.len() == psi.len() => psi.copy_from_slice(p),
            _ => field.potential(rho, &mut psi),
        }
        let lay = self.layout.clone();
        let [n0, n1] = lay.n;
        if lay.dim == 1 {
            self.solve_lines(rho, &psi, n0, lay.h[0], lay.periodic[0], dt);
        } else {
            let order = if self.flip { [1, 0] } else { [0, 1] };
            for a in order {
                if a == 1 {
                    self.solve_lines(rho, &psi, n1, lay.h[1], lay.periodic[1], dt);
                } else {
                    let mut tr = std::mem::take(&mut self.trans_rho);
                    let mut tp = std::mem::take(&mut self.trans_psi);
                    transpose(rho, n0, n1, &mut tr);
                    transpose(&psi, n0, n1, &mut tp);
                    self.solve_lines(&mut tr, &tp, n0, lay.h[0], lay.periodic[0], dt);
                    transpose(&tr, n1, n0, rho);
                    self.trans_rho = tr;
                    self.trans_psi = tp;
                }
            }
            self.flip = !self.flip;
        }
        self.psi = psi;
        Ok(dt)
    }

    fn decreases_free_energy(&self) -> bool {
        true
    }
}

/// Solver of one 1D implicit SG system (I + c·h²L) x = b, L the SG operator, by Gaussian
/// elimination without pivoting on the "bordered tridiagonal" structure: rows/columns 0..N−1
/// tridiagonal, plus the last column, last row and corner (N = n − 1), which holds the
/// no-flux matrix and the cyclic (periodic) matrix alike.
#[derive(Debug, Clone)]
pub struct LineSolver {
    d: Vec<f64>,
    sup: Vec<f64>,
    sub: Vec<f64>,
    lc: Vec<f64>,
    lr: Vec<f64>,
}

impl LineSolver {
    /// Buffers for lines of n ≥ 2 cells.
    pub fn new(n: usize) -> Self {
        LineSolver {
            d: vec![0.0; n],
            sup: vec![0.0; n],
            sub: vec![0.0; n],
            lc: vec![0.0; n],
            lr: vec![0.0; n],
        }
    }

    #[inline]
    fn add(&mut self, i: usize, j: usize, v: f64) {
        let last = self.d.len() - 1;
        if i < last && j < last {
            if j == i {
                self.d[i] += v;
            } else if j == i + 1 {
                self.sup[i] += v;
            } else {
                debug_assert!(j + 1 == i);
                self.sub[i] += v;
            }
        } else if i < last {
            self.lc[i] += v;
        } else if j < last {
            self.lr[j] += v;
        } else {
            self.d[last] += v;
        }
    }

    /// Solve (I + c M) x = b in place (`x` holds b on entry), where for each face (i, i+1)
    /// with ΔΨ = Ψ_{i+1} − Ψ_i the SG flux h·J = A(ΔΨ)x_i − A(−ΔΨ)x_{i+1} leaves cell i and enters
    /// cell i+1 (c = dt/h²); `periodic` adds the face (n−1, 0).
    pub fn solve(&mut self, x: &mut [f64], psi: &[f64], c: f64, t: f64, periodic: bool) {
        self.solve_terms(
            x,
            &[LineTerm {
                psi,
                c,
                weight: None,
            }],
            t,
            periodic,
        );
    }

    /// Solve (I + Σ_s c_s M(Ψ_s) W_s) x = b in place (`x` holds b on entry): a sum of SG
    /// operators of several potentials, each with optional column weights W_s = diag(w_s)
    /// (w ≥ 0; none means W = I), the matrix of the modified Patankar stages ([`crate::Mprk22`]).
    /// Every term has zero column sums and non-positive off-diagonals, so the matrix is an
    /// M-matrix with unit column sums for any c_s ≥ 0: the solve conserves Σx and keeps x ≥ 0.
    pub fn solve_terms(&mut self, x: &mut [f64], terms: &[LineTerm<'_>], t: f64, periodic: bool) {
        let n = x.len();
        let last = n - 1;
        for v in [&mut self.sup, &mut self.sub, &mut self.lc, &mut self.lr] {
            v.iter_mut().for_each(|e| *e = 0.0);
        }
        self.d.iter_mut().for_each(|e| *e = 1.0);
        let faces = if periodic { n } else { n - 1 };
        for term in terms {
            let (psi, c) = (term.psi, term.c);
            for i in 0..faces {
                let j = if i == last { 0 } else { i + 1 };
                let dpsi = psi[j] - psi[i];
                let mut ap = c * sg_coefficient(dpsi, t);
                let mut am = c * sg_coefficient(-dpsi, t);
                if let Some(w) = term.weight {
                    ap *= w[i];
                    am *= w[j];
                }
                self.add(i, i, ap);
                self.add(j, i, -ap);
                self.add(j, j, am);
                self.add(i, j, -am);
            }
        }
        // forward elimination of columns 0..last
        for k in 0..last {
            let p = self.d[k];
            if k + 1 < last {
                let m = self.sub[k + 1] / p;
                self.d[k + 1] -= m * self.sup[k];
                self.lc[k + 1] -= m * self.lc[k];
                x[k + 1] -= m * x[k];
            }
            let ml = self.lr[k] / p;
            if k + 1 < last {
                self.lr[k + 1] -= ml * self.sup[k];
            }
            self.d[last] -= ml * self.lc[k];
            x[last] -= ml * x[k];
        }
        x[last] /= self.d[last];
        let xl = x[last];
        for k in (0..last).rev() {
            let mut s = x[k] - self.lc[k] * xl;
            if k + 1 < last {
                s -= self.sup[k] * x[k + 1];
            }
            x[k] = s / self.d[k];
        }
    }
}

/// One term c·M(Ψ)·W of a line system ([`LineSolver::solve_terms`]).
#[derive(Debug, Clone, Copy)]
pub struct LineTerm<'a> {
    /// Ψ on the line's cells.
    pub psi: &'a [f64],
    /// dt/h² times the stage weight.
    pub c: f64,
    /// Column weights w_j ≥ 0 (None: all 1).
    pub weight: Option<&'a [f64]>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Dense reference: build the matrix and multiply.
    fn apply(x: &[f64], psi: &[f64], c: f64, t: f64, periodic: bool) -> Vec<f64> {
        let n = x.len();
        let mut y = x.to_vec();
        let faces = if periodic { n } else { n - 1 };
        for i in 0..faces {
            let j = (i + 1) % n;
            let d = psi[j] - psi[i];
            let flux = c * (sg_coefficient(d, t) * x[i] - sg_coefficient(-d, t) * x[j]);
            y[i] += flux;
            y[j] -= flux;
        }
        y
    }

    #[test]
    fn line_solver_inverts_the_matrix() {
        for &n in &[2usize, 3, 4, 9] {
            for &periodic in &[false, true] {
                for &t in &[0.0, 0.2] {
                    let psi: Vec<f64> = (0..n).map(|i| (1.3 * i as f64).sin()).collect();
                    let b: Vec<f64> = (0..n).map(|i| 1.0 + (0.7 * i as f64).cos()).collect();
                    let mut x = b.clone();
                    LineSolver::new(n).solve(&mut x, &psi, 3.0, t, periodic);
                    assert!(x.iter().all(|&v| v >= 0.0));
                    let y = apply(&x, &psi, 3.0, t, periodic);
                    for (yi, bi) in y.iter().zip(&b) {
                        assert!((yi - bi).abs() < 1e-13, "n={n} periodic={periodic} T={t}");
                    }
                }
            }
        }
    }
}
