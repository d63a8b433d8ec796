//! Fourier pseudo-spectral solver on 1D and 2D tori: exact diffusion, ETDRK4 in time.
//!
//! On a fully periodic grid of n_a nodes per axis (the cell centres θ_i = lo + (i + ½)h,
//! axis length L_a, wavenumbers k = 2πj/L_a), write the PDE for the Fourier coefficients ρ̂:
//!
//! dρ̂/dt = 𝓛ρ̂ + 𝓝(ρ̂),  𝓛 = −T|k|²  (diagonal),  𝓝(ρ̂) = Σ_a i k_a · P[(ρ ∂_aΨ(·; ρ))^],
//!
//! with ρ = 𝓕⁻¹ρ̂ on the nodes, Ψ(·; ρ) from the [`PotentialField`], ∂_aΨ = 𝓕⁻¹(i k_a P Ψ̂), and
//! P the 2/3-rule projection (keep modes with 3|j_a| < n_a on every axis). The state is kept in
//! the range of P, so the quadratic product ρ·∂_aΨ of two P-band fields is alias-free after P.
//!
//! **Time integrator: ETDRK4** (Cox–Matthews 2002, with the φ-functions of Kassam–Trefethen
//! 2005 evaluated by their Taylor series for |z| < 1 and in closed form otherwise, z = 𝓛dt real
//! ≤ 0). With c = e^{𝓛dt/2}, E = e^{𝓛dt}, Q = (dt/2)φ₁(z/2):
//!
//! a = c v + Q 𝓝(v),  b = c v + Q 𝓝(a),  c' = c a + Q (2𝓝(b) − 𝓝(v)),
//! v⁺ = E v + dt[(φ₁ − 3φ₂ + 4φ₃) 𝓝(v) + 2(φ₂ − 2φ₃)(𝓝(a) + 𝓝(b)) + (4φ₃ − φ₂) 𝓝(c')].
//!
//! Why ETDRK4 rather than an integrating factor or IMEX: (i) the diffusion is integrated exactly
//! (no stiffness limit from T|k|², which grows like n²); (ii) the drift is nonlinear through
//! Ψ(ρ) and only moderately stiff (rate ~ k_max·|∇Ψ|), so an explicit fourth-order treatment is
//! accurate and needs one Ψ evaluation per stage; (iii) unlike integrating-factor RK, every
//! equilibrium of the semi-discrete system (𝓛v* + 𝓝(v*) = 0) is an exact fixed point of the
//! ETDRK4 map for every dt — so long runs converge to the spectral Gibbs state with no time-step
//! error, which is what the exponential-convergence tests measure (integrating-factor RK4 moves
//! the fixed point by an amount that grows with T|k|²dt, largest on the finest modes); (iv) it is one-step, so the steps shortened to
//! hit output times cost only a recomputation of the per-mode coefficients, where IMEX
//! multistep schemes (SBDF2/3) need start-up and variable-step formulas and IMEX-RK schemes of
//! order 4 need a linear solve per stage for no gain (𝓛 is diagonal, so "implicit" is exact
//! anyway). The k = 0 mode has 𝓛 = 0 and 𝓝̂₀ = 0 (a divergence), so the mass is conserved;
//! the step restores the k = 0 mode exactly (adds the constant (Σρ_old − Σρ_new)/M, of
//! round-off size) so that FFT round-off does not accumulate over many steps.
//!
//! The step is `dt` when given, else dt = cfl·2.8/r from the first stage, with
//! r = Σ_a k_max,a max|∂_aΨ| + max|ΔΨ| + max|ρ|·S: advection of the retained modes, the ρΔΨ
//! term, and the interaction's feedback (S = [`PotentialField::stiffness`], sup_k |k|²|Û(k)| for
//! a convolution; without it the step would grow without bound near equilibrium, where ∇Ψ → 0
//! but the linearisation does not). 2.8 ≈ RK4's stability bound on the real and imaginary axes.
//! Clipped to the next output time. For a direct (non-convolution) potential S is unknown (0):
//! give `dt` if the adaptive step proves unstable.
//!
//! Positivity is not guaranteed: a spectral solution of a concentrating density can dip below
//! zero (recorded as `min_density`). [`PositivityFilter::Clip`] replaces ρ by
//! max(ρ, 0)·(Σρ/Σmax(ρ, 0)) after each step: mass-conserving and non-negative, but a kink at
//! every zero crossing, so where it acts the accuracy drops to low order (no exponential
//! convergence); it does nothing where ρ > 0.

use crate::error::PdeError;
use crate::fft::{signed_frequency, RealFft2};
use crate::potential::PotentialField;
use crate::stepper::Stepper;
use mfl_core::{Boundary, Grid};
use num_complex::Complex64;

/// RK4's stability bound along the imaginary axis, ≈ 2√2 (used for the adaptive step).
const RK4_IMAG_BOUND: f64 = 2.8;

/// What to do about negative values of a spectral density.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PositivityFilter {
    /// Nothing: ρ may become slightly negative (min ρ is recorded).
    #[default]
    None,
    /// ρ ← max(ρ, 0)·(Σρ/Σmax(ρ, 0)) after every step (mass-conserving, low order where active).
    Clip,
}

/// That every axis of `grid` is periodic (the spectral scheme's requirement).
pub fn check_periodic(grid: &Grid) -> Result<(), PdeError> {
    for (a, ax) in grid.axes.iter().enumerate() {
        if ax.boundary != Boundary::Periodic {
            return Err(PdeError::invalid(
                "solver.scheme",
                format!(
                    "\"spectral\" needs every grid axis periodic, but grid.boundary[{a}] is \
                     \"noflux\" (use solver.scheme = \"fv\" for walls)"
                ),
            ));
        }
    }
    Ok(())
}

/// ETDRK4 coefficients per mode for one dt.
#[derive(Debug, Clone, Default)]
struct Coefs {
    dt: f64,
    e: Vec<f64>,
    e2: Vec<f64>,
    q: Vec<f64>,
    f1: Vec<f64>,
    f2: Vec<f64>,
    f3: Vec<f64>,
}

/// (φ₁, φ₂, φ₃)(z) for real z ≤ 0, φ_k(z) = Σ_{j≥0} z^j/(j + k)!.
fn phi123(z: f64) -> (f64, f64, f64) {
    if z.abs() < 1.0 {
        let (mut p1, mut p2, mut p3) = (0.0, 0.0, 0.0);
        // Horner in z with terms z^j/(j+k)!, j < 20 (|z|^20/20! < 5e-19)
        for j in (0..20).rev() {
            p1 = 1.0 / factorial(j + 1) + z * p1;
            p2 = 1.0 / factorial(j + 2) + z * p2;
            p3 = 1.0 / factorial(j + 3) + z * p3;
        }
        (p1, p2, p3)
    } else {
        let p1 = z.exp_m1() / z;
        let p2 = (p1 - 1.0) / z;
        let p3 = (p2 - 0.5) / z;
        (p1, p2, p3)
    }
}

fn factorial(n: usize) -> f64 {
    (1..=n).map(|i| i as f64).product()
}

/// Buffers of one evaluation of 𝓝.
struct Work {
    fft: RealFft2,
    /// 1/N.
    inv_n: f64,
    /// 2/3-rule mask per mode.
    keep: Vec<bool>,
    /// k_a per mode, one vector per grid axis.
    k: Vec<Vec<f64>>,
    /// Largest retained |k_a|.
    kmax: Vec<f64>,
    /// |k|² per mode.
    ksq: Vec<f64>,
    tmp: Vec<Complex64>,
    psi_hat: Vec<Complex64>,
    rho: Vec<f64>,
    psi: Vec<f64>,
    dpsi: Vec<f64>,
}

impl Work {
    /// out = 𝓝(u); returns the rate Σ_a k_max,a max|∂_aΨ| (+ max|ΔΨ| + max|ρ|·stiffness when
    /// `want_rate`) and leaves ρ = 𝓕⁻¹u in `self.rho`.
    fn nonlinear(
        &mut self,
        field: &dyn PotentialField,
        u: &[Complex64],
        out: &mut [Complex64],
        want_rate: bool,
    ) -> f64 {
        self.tmp.copy_from_slice(u);
        self.fft.inverse(&mut self.tmp, &mut self.rho);
        self.rho.iter_mut().for_each(|r| *r *= self.inv_n);
        field.potential(&self.rho, &mut self.psi);
        self.fft.forward(&self.psi, &mut self.psi_hat);
        out.iter_mut().for_each(|z| *z = Complex64::new(0.0, 0.0));
        let mut rate = 0.0;
        if want_rate {
            // max|ΔΨ| (the ρΔΨ term) and max ρ · stiffness (the interaction's feedback)
            for (((t, p), q), keep) in self
                .tmp
                .iter_mut()
                .zip(&self.psi_hat)
                .zip(&self.ksq)
                .zip(&self.keep)
            {
                *t = if *keep {
                    -q * p * self.inv_n
                } else {
                    Complex64::new(0.0, 0.0)
                };
            }
            self.fft.inverse(&mut self.tmp, &mut self.dpsi);
            let lap = self.dpsi.iter().fold(0.0f64, |m, d| m.max(d.abs()));
            let rmax = self.rho.iter().fold(0.0f64, |m, r| m.max(r.abs()));
            rate += lap + rmax * field.stiffness();
        }
        for (ka, kmax) in self.k.iter().zip(&self.kmax) {
            for (((t, p), k), keep) in self
                .tmp
                .iter_mut()
                .zip(&self.psi_hat)
                .zip(ka)
                .zip(&self.keep)
            {
                *t = if *keep {
                    Complex64::new(-k * p.im, k * p.re) * self.inv_n
                } else {
                    Complex64::new(0.0, 0.0)
                };
            }
            self.fft.inverse(&mut self.tmp, &mut self.dpsi);
            let mut m: f64 = 0.0;
            for (d, r) in self.dpsi.iter_mut().zip(&self.rho) {
                m = m.max(d.abs());
                *d *= r;
            }
            rate += kmax * m;
            self.fft.forward(&self.dpsi, &mut self.tmp);
            for (((o, t), k), keep) in out.iter_mut().zip(&self.tmp).zip(ka).zip(&self.keep) {
                if *keep {
                    *o += Complex64::new(-k * t.im, k * t.re);
                }
            }
        }
        rate
    }
}

/// The ETDRK4 pseudo-spectral stepper (see the module documentation).
pub struct SpectralEtdrk4 {
    dt: Option<f64>,
    cfl: f64,
    filter: PositivityFilter,
    /// −T|k|² per mode.
    lap: Vec<f64>,
    coefs: Coefs,
    work: Work,
    v: Vec<Complex64>,
    a: Vec<Complex64>,
    b: Vec<Complex64>,
    c: Vec<Complex64>,
    nv: Vec<Complex64>,
    na: Vec<Complex64>,
    nb: Vec<Complex64>,
    nc: Vec<Complex64>,
}

impl std::fmt::Debug for SpectralEtdrk4 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SpectralEtdrk4({:?})", self.work.fft)
    }
}

impl SpectralEtdrk4 {
    /// A stepper for a fully periodic `grid` at temperature T ≥ 0: the fixed step `dt`, or
    /// (None) the adaptive step with 0 < cfl ≤ 1.
    pub fn new(
        grid: &Grid,
        temperature: f64,
        dt: Option<f64>,
        cfl: f64,
        filter: PositivityFilter,
    ) -> Result<Self, PdeError> {
        check_periodic(grid)?;
        if !(temperature >= 0.0 && temperature.is_finite()) {
            return Err(PdeError::invalid(
                "temperature",
                format!("must be ≥ 0, got {temperature}"),
            ));
        }
        if let Some(d) = dt {
            if !(d > 0.0 && d.is_finite()) {
                return Err(PdeError::invalid("dt", format!("must be > 0, got {d}")));
            }
        }
        if !(cfl > 0.0 && cfl <= 1.0) {
            return Err(PdeError::invalid(
                "cfl",
                format!("must be in (0, 1], got {cfl}"),
            ));
        }
        let (n0, n1) = if grid.dim() == 1 {
            (1, grid.axes[0].n)
        } else {
            (grid.axes[0].n, grid.axes[1].n)
        };
        let fft = RealFft2::new(n0, n1);
        let nh = fft.half_width();
        let len = fft.spectrum_len();
        let wav = |a: usize, j: i64| {
            std::f64::consts::TAU * j as f64 / (grid.axes[a].hi - grid.axes[a].lo)
        };
        let mut keep = vec![false; len];
        let mut k = vec![vec![0.0; len]; grid.dim()];
        let mut kmax = vec![0.0f64; grid.dim()];
        let mut lap = vec![0.0; len];
        let mut ksq = vec![0.0; len];
        for i0 in 0..n0 {
            let j0 = signed_frequency(i0, n0);
            for j1 in 0..nh {
                let idx = i0 * nh + j1;
                let j1 = j1 as i64;
                keep[idx] = 3 * j0.unsigned_abs() < n0 as u64 && 3 * j1.unsigned_abs() < n1 as u64;
                let ks: Vec<f64> = if grid.dim() == 1 {
                    vec![wav(0, j1)]
                } else {
                    vec![wav(0, j0), wav(1, j1)]
                };
                for (a, ka) in ks.iter().enumerate() {
                    k[a][idx] = *ka;
                    if keep[idx] {
                        kmax[a] = kmax[a].max(ka.abs());
                    }
                }
                ksq[idx] = ks.iter().map(|v| v * v).sum::<f64>();
                lap[idx] = -temperature * ksq[idx];
            }
        }
        let m = n0 * n1;
        let z = || vec![Complex64::new(0.0, 0.0); len];
        Ok(SpectralEtdrk4 {
            dt,
            cfl,
            filter,
            lap,
            coefs: Coefs {
                dt: f64::NAN,
                ..Coefs::default()
            },
            work: Work {
                fft,
                inv_n: 1.0 / m as f64,
                keep,
                k,
                kmax,
                ksq,
                tmp: z(),
                psi_hat: z(),
                rho: vec![0.0; m],
                psi: vec![0.0; m],
                dpsi: vec![0.0; m],
            },
            v: z(),
            a: z(),
            b: z(),
            c: z(),
            nv: z(),
            na: z(),
            nb: z(),
            nc: z(),
        })
    }

    /// The ETDRK4 coefficients for step dt (recomputed only when dt changes).
    fn coefficients(&mut self, dt: f64) {
        if self.coefs.dt == dt {
            return;
        }
        let n = self.lap.len();
        let c = &mut self.coefs;
        for v in [
            &mut c.e, &mut c.e2, &mut c.q, &mut c.f1, &mut c.f2, &mut c.f3,
        ] {
            v.resize(n, 0.0);
        }
        for (i, l) in self.lap.iter().enumerate() {
            let z = l * dt;
            let (p1, p2, p3) = phi123(z);
            let (h1, _, _) = phi123(0.5 * z);
            c.e[i] = z.exp();
            c.e2[i] = (0.5 * z).exp();
            c.q[i] = 0.5 * dt * h1;
            c.f1[i] = dt * (p1 - 3.0 * p2 + 4.0 * p3);
            c.f2[i] = dt * (p2 - 2.0 * p3);
            c.f3[i] = dt * (4.0 * p3 - p2);
        }
        c.dt = dt;
    }

    fn apply_filter(&self, rho: &mut [f64]) {
        if self.filter == PositivityFilter::Clip && rho.iter().any(|&r| r < 0.0) {
            let total: f64 = rho.iter().sum();
            let pos: f64 = rho.iter().map(|r| r.max(0.0)).sum();
            let s = if pos > 0.0 { total / pos } else { 0.0 };
            rho.iter_mut().for_each(|r| *r = r.max(0.0) * s);
        }
    }
}

impl Stepper for SpectralEtdrk4 {
    fn step(
        &mut self,
        field: &dyn PotentialField,
        rho: &mut [f64],
        dt_max: f64,
    ) -> Result<f64, PdeError> {
        let mass0: f64 = rho.iter().sum();
        let w = &mut self.work;
        w.fft.forward(rho, &mut self.v);
        for (v, keep) in self.v.iter_mut().zip(&w.keep) {
            if !keep {
                *v = Complex64::new(0.0, 0.0);
            }
        }
        let rate = w.nonlinear(field, &self.v, &mut self.nv, self.dt.is_none());
        let dt = match self.dt {
            Some(d) => d.min(dt_max),
            None if rate > 0.0 => (self.cfl * RK4_IMAG_BOUND / rate).min(dt_max),
            None => dt_max,
        };
        if !(dt > 0.0 && dt.is_finite()) {
            return Err(PdeError::invalid("time step", format!("dt = {dt}")));
        }
        self.coefficients(dt);
        let c = &self.coefs;
        for i in 0..self.v.len() {
            self.a[i] = c.e2[i] * self.v[i] + c.q[i] * self.nv[i];
        }
        self.work.nonlinear(field, &self.a, &mut self.na, false);
        for i in 0..self.v.len() {
            self.b[i] = c.e2[i] * self.v[i] + c.q[i] * self.na[i];
        }
        self.work.nonlinear(field, &self.b, &mut self.nb, false);
        for i in 0..self.v.len() {
            self.c[i] = c.e2[i] * self.a[i] + c.q[i] * (2.0 * self.nb[i] - self.nv[i]);
        }
        self.work.nonlinear(field, &self.c, &mut self.nc, false);
        for i in 0..self.v.len() {
            self.v[i] = c.e[i] * self.v[i]
                + c.f1[i] * self.nv[i]
                + 2.0 * c.f2[i] * (self.na[i] + self.nb[i])
                + c.f3[i] * self.nc[i];
        }
        let w = &mut self.work;
        w.tmp.copy_from_slice(&self.v);
        w.fft.inverse(&mut w.tmp, rho);
        let inv = w.inv_n;
        rho.iter_mut().for_each(|r| *r *= inv);
        // the k = 0 mode is invariant (𝓛₀ = 0, 𝓝̂₀ = 0): restore it exactly, so that FFT
        // round-off does not accumulate in the mass over many steps
        let shift = (mass0 - rho.iter().sum::<f64>()) * inv;
        rho.iter_mut().for_each(|r| *r += shift);
        self.apply_filter(rho);
        Ok(dt)
    }

    fn allows_negative(&self) -> bool {
        self.filter == PositivityFilter::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phi_functions_are_continuous_across_the_series_switch() {
        // the series branch (|z| < 1) against the closed forms, where both are accurate
        for &z in &[-0.9f64, -0.5] {
            let (a, b, c) = phi123(z);
            let p1 = z.exp_m1() / z;
            let p2 = (p1 - 1.0) / z;
            let p3 = (p2 - 0.5) / z;
            assert!((a - p1).abs() < 1e-15 && (b - p2).abs() < 1e-15 && (c - p3).abs() < 1e-14);
        }
        let (a, b, c) = phi123(0.0);
        assert_eq!((a, b), (1.0, 0.5));
        assert!((c - 1.0 / 6.0).abs() < 1e-16);
    }
}
