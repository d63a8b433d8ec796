//! The erf network with Gaussian inputs in closed form: Ψ, ∇Ψ, R and E on a grid without data.
//!
//! For x ~ N(0, 1) (d = 1) and erf units, the Gaussian integral of two units is elementary
//! (Williams 1998):
//!
//! U(u, v) := E[erf(u x) erf(v x)] = (2/π) arcsin(2uv / √((1 + 2u²)(1 + 2v²)))
//!          = (2/π) atan(2uv / √(1 + 2u² + 2v²)),
//!
//! the second form because 1 − 4u²v²/((1 + 2u²)(1 + 2v²)) = (1 + 2u² + 2v²)/((1 + 2u²)(1 + 2v²))
//! exactly — it keeps full relative accuracy where the arcsin argument approaches ±1. Its
//! derivative is
//!
//! ∂U/∂u (u, v) = (4/π) v / ((1 + 2u²) √(1 + 2u² + 2v²)).
//!
//! A unit is σ(x; θ) = A(θ) erf(w(θ) x) with θ = w (A = 1; `param = "w"`) or θ = (a, w)
//! (A = a; `param = "a_w"`); so is the teacher y(x) = Σ_t c_t A_t erf(w_t x) (+ label noise of
//! variance s²). Under the squared loss (DESIGN.md §1)
//!
//! * U(θ, θ') = A A' U(w, w'),  V(θ) = −E[y σ(x; θ)] = A V₀(w),  V₀(w) = −Σ_t c_t A_t U(w_t, w),
//! * E\[y²\] = Σ_{t,t'} c_t c_t' A_t A_t' U(w_t, w_t') + s²,
//! * R(ρ) = E\[y²\] − 2∫E\[yσ\]dρ + ∬U dρ dρ = E\[y²\] + 2 Σ_j S_j V₀(w_j) + Σ_{j,l} S_j U(w_j, w_l) S_l,
//! * Ψ(a_i, w_j) = a_i g_j + (λ/2)|θ|²,  g_j = V₀(w_j) + Σ_l U(w_j, w_l) S_l,
//!
//! where the grid has cells θ = w_j (1D) or θ = (a_i, w_j) (2D, axes (a, w), row-major
//! m = i·n_w + j) and S_j = Σ_i a_i ρ_ij |cell| is the amplitude-weighted w-marginal (S_j = ρ_j|cell|
//! in 1D). E(ρ) = ½R + (λ/2)Σ_m ρ_m|cell| |θ_m|² and Ψ = δE/δρ exactly.
//!
//! Cost per call O(n_a·n_w + n_w²) with n_w the number of w cells: the U sums are formed on the
//! fly (U is never stored), parallel over j in fixed chunks with each sum in l order, so the
//! results are bit-identical for any number of threads. That is acceptable up to
//! [`MAX_W_CELLS`] = 20 000 w cells (4·10⁸ atan per call: about 2 s on two AMD EPYC cores —
//! `mfl stationary examples/stationary_erf_1d.toml --set grid.cells=[20000] --set
//! stationary.max_iter=2 --set stationary.rates=false` makes ~6 evaluations in 13 s); larger
//! grids are refused. There is no quadrature error: this is the population risk itself, which
//! is what Gauss–Hermite data approximate (DESIGN.md §2). Particles keep the quadrature path of
//! [`mfl_core::MeanField`].

use crate::error::PdeError;
use crate::potential::{Energy, LinearResponse, MeanFieldPotential, PotentialField};
use mfl_core::data::Teacher;
use mfl_core::{Activation, Grid, Loss, MeanField, Param, Unit};
use rayon::prelude::*;
use std::f64::consts::FRAC_2_PI;
use std::sync::{Arc, Mutex};

/// The largest number of w cells accepted (the U sums cost n_w² per call).
pub const MAX_W_CELLS: usize = 20_000;

/// w cells per parallel task (each costs n_w kernel evaluations).
const CHUNK: usize = 32;

/// U(u, v) = E[erf(u x) erf(v x)], x ~ N(0, 1): (2/π) atan(2uv / √(1 + 2u² + 2v²))
/// (= (2/π) arcsin(2uv / √((1 + 2u²)(1 + 2v²)))).
#[inline]
pub fn erf_kernel(u: f64, v: f64) -> f64 {
    FRAC_2_PI * (2.0 * u * v / (1.0 + 2.0 * (u * u + v * v)).sqrt()).atan()
}

/// ∂U/∂u (u, v) = (4/π) v / ((1 + 2u²) √(1 + 2u² + 2v²)) for [`erf_kernel`].
#[inline]
pub fn erf_kernel_du(u: f64, v: f64) -> f64 {
    2.0 * FRAC_2_PI * v / ((1.0 + 2.0 * u * u) * (1.0 + 2.0 * (u * u + v * v)).sqrt())
}

/// Whether a unit is an erf ridge unit on d = 1 inputs with θ = w or θ = (a, w), the units
/// [`ErfClosedForm`] handles; Some(true) for θ = (a, w).
pub fn erf_ridge_1d(unit: &Unit) -> Option<bool> {
    match unit {
        Unit::Ridge {
            act: Activation::Erf,
            param: Param::W,
            input_dim: 1,
        } => Some(false),
        Unit::Ridge {
            act: Activation::Erf,
            param: Param::AW,
            input_dim: 1,
        } => Some(true),
        _ => None,
    }
}

/// Work buffers: S_j and the sums h_j = Σ_l U(w_j, w_l) S_l.
#[derive(Debug)]
struct Work {
    s: Vec<f64>,
    h: Vec<f64>,
}

/// The interaction part of the closed form on a grid: the linear map
/// v ↦ ∫U(θ_m, θ')v(θ')dθ' = a_i Σ_l U(w_j, w_l) S_l\[v\], S_l\[v\] = Σ_i a_i v_il|cell| — which is
/// DΨ\[v\] (Ψ is affine in ρ under the squared loss). Shared with the linearisation of the rates.
#[derive(Debug)]
pub struct ErfInteraction {
    /// Amplitudes a_i (just [1] for θ = w).
    a: Vec<f64>,
    /// w_j.
    w: Vec<f64>,
    cell_volume: f64,
}

impl ErfInteraction {
    /// S_j = Σ_i a_i ρ_ij|cell| into `s`.
    fn marginal(&self, rho: &[f64], s: &mut [f64]) {
        let nw = self.w.len();
        s.iter_mut().for_each(|v| *v = 0.0);
        for (i, ai) in self.a.iter().enumerate() {
            for (sj, r) in s.iter_mut().zip(&rho[i * nw..(i + 1) * nw]) {
                *sj += ai * r;
            }
        }
        s.iter_mut().for_each(|v| *v *= self.cell_volume);
    }

    /// out_j = Σ_l k(w_j, w_l) S_l, parallel over j in fixed chunks, each sum in l order.
    fn apply(&self, k: impl Fn(f64, f64) -> f64 + Sync, s: &[f64], out: &mut [f64]) {
        let w = &self.w;
        out.par_chunks_mut(CHUNK).enumerate().for_each(|(c, o)| {
            for (jj, oj) in o.iter_mut().enumerate() {
                let wj = w[c * CHUNK + jj];
                let mut acc = 0.0;
                for (wl, sl) in w.iter().zip(s) {
                    acc += k(wj, *wl) * sl;
                }
                *oj = acc;
            }
        });
    }
}

impl LinearResponse for ErfInteraction {
    /// out_ij = a_i Σ_l U(w_j, w_l) S_l\[v\].
    fn apply(&self, v: &[f64], out: &mut [f64]) {
        let nw = self.w.len();
        let mut s = vec![0.0; nw];
        let mut h = vec![0.0; nw];
        self.marginal(v, &mut s);
        ErfInteraction::apply(self, erf_kernel, &s, &mut h);
        for (i, ai) in self.a.iter().enumerate() {
            for (o, hj) in out[i * nw..(i + 1) * nw].iter_mut().zip(&h) {
                *o = ai * hj;
            }
        }
    }
}

/// The closed-form potential of an erf network with N(0, 1) inputs on a grid (module doc).
#[derive(Debug)]
pub struct ErfClosedForm {
    core: Arc<ErfInteraction>,
    /// Amplitudes a_i (just [1] for θ = w).
    a: Vec<f64>,
    /// Whether θ = (a, w) (the a² term of the regulariser).
    amplitude: bool,
    /// w_j.
    w: Vec<f64>,
    /// V₀(w_j).
    v0: Vec<f64>,
    /// ∂V₀/∂w at w_j.
    dv0: Vec<f64>,
    /// E[y²] (with the label-noise variance).
    ey2: f64,
    lambda: f64,
    cell_volume: f64,
    work: Mutex<Work>,
}

impl ErfClosedForm {
    /// The closed form of `mf` (its unit, loss, λ and label-noise variance; its data points
    /// are not used — the inputs are taken to be x ~ N(0, 1)) with the labels of `teacher`,
    /// on `grid`.
    ///
    /// Errors (never panics): a student or teacher unit other than an erf ridge unit on d = 1
    /// with θ = w or (a, w); a loss other than squared; a grid that does not match the unit
    /// ([`MeanFieldPotential::check_grid`]); more than [`MAX_W_CELLS`] w cells.
    pub fn new(mf: &MeanField, teacher: &Teacher, grid: &Grid) -> Result<Self, PdeError> {
        let amplitude = erf_ridge_1d(&mf.unit).ok_or_else(|| {
            PdeError::invalid(
                "unit",
                "the closed form needs an erf ridge unit with input_dim = 1 and param w or a_w",
            )
        })?;
        let t_amp = erf_ridge_1d(&teacher.unit).ok_or_else(|| {
            PdeError::invalid(
                "teacher",
                "the closed form needs an erf ridge teacher with input_dim = 1 and param w or a_w",
            )
        })?;
        if mf.loss != Loss::Squared {
            return Err(PdeError::invalid(
                "loss",
                "the closed form is for the squared loss",
            ));
        }
        MeanFieldPotential::check_grid(mf, grid)?;
        let (a, w) = if amplitude {
            (grid.axes[0].centres(), grid.axes[1].centres())
        } else {
            (vec![1.0], grid.axes[0].centres())
        };
        if w.len() > MAX_W_CELLS {
            return Err(PdeError::invalid(
                "grid",
                format!(
                    "the closed form costs n_w² per evaluation and accepts at most {MAX_W_CELLS} \
                     w cells, got {}",
                    w.len()
                ),
            ));
        }
        // teacher neurons as (c_t A_t, w_t)
        let tn: Vec<(f64, f64)> = teacher
            .theta
            .rows()
            .into_iter()
            .zip(&teacher.coeffs)
            .map(|(r, c)| if t_amp { (c * r[0], r[1]) } else { (*c, r[0]) })
            .collect();
        if tn.iter().any(|(c, w)| !(c.is_finite() && w.is_finite())) {
            return Err(PdeError::invalid("teacher", "non-finite parameter"));
        }
        let v0 = w
            .iter()
            .map(|&wj| {
                -tn.iter()
                    .map(|&(c, wt)| c * erf_kernel(wt, wj))
                    .sum::<f64>()
            })
            .collect();
        let dv0 = w
            .iter()
            .map(|&wj| {
                -tn.iter()
                    .map(|&(c, wt)| c * erf_kernel_du(wj, wt))
                    .sum::<f64>()
            })
            .collect();
        let mut ey2 = mf.data.noise_var;
        for &(c, wt) in &tn {
            for &(c2, wt2) in &tn {
                ey2 += c * c2 * erf_kernel(wt, wt2);
            }
        }
        let nw = w.len();
        Ok(ErfClosedForm {
            core: Arc::new(ErfInteraction {
                a: a.clone(),
                w: w.clone(),
                cell_volume: grid.cell_volume(),
            }),
            a,
            amplitude,
            v0,
            dv0,
            ey2,
            lambda: mf.lambda,
            cell_volume: grid.cell_volume(),
            work: Mutex::new(Work {
                s: vec![0.0; nw],
                h: vec![0.0; nw],
            }),
            w,
        })
    }

    /// Number of w cells n_w.
    pub fn w_cells(&self) -> usize {
        self.w.len()
    }

    /// V(θ_m) = A_m V₀(w_m) on every cell into `out` (length M).
    pub fn external(&self, out: &mut [f64]) {
        let nw = self.w.len();
        for (i, ai) in self.a.iter().enumerate() {
            for (o, v) in out[i * nw..(i + 1) * nw].iter_mut().zip(&self.v0) {
                *o = ai * v;
            }
        }
    }

    /// E\[y²\] of the teacher (+ the label-noise variance).
    pub fn label_second_moment(&self) -> f64 {
        self.ey2
    }

    fn marginal(&self, rho: &[f64], s: &mut [f64]) {
        self.core.marginal(rho, s)
    }

    fn apply(&self, k: impl Fn(f64, f64) -> f64 + Sync, s: &[f64], out: &mut [f64]) {
        self.core.apply(k, s, out)
    }

    /// ∇_θΨ(θ_m; ρ) at every cell centre into `out` (length M·D, row-major):
    /// θ = w: ∂_wΨ = V₀'(w_j) + Σ_l ∂_uU(w_j, w_l) S_l + λ w_j;
    /// θ = (a, w): ∂_aΨ = g_j + λ a_i, ∂_wΨ = a_i (V₀'(w_j) + Σ_l ∂_uU(w_j, w_l) S_l) + λ w_j.
    /// Wrong lengths are reported, not panicked on.
    pub fn potential_gradient(&self, rho: &[f64], out: &mut [f64]) -> Result<(), PdeError> {
        let nw = self.w.len();
        let m = self.a.len() * nw;
        let dd = if self.amplitude { 2 } else { 1 };
        if rho.len() != m || out.len() != m * dd {
            return Err(PdeError::invalid(
                "gradient",
                format!(
                    "{} densities and {} outputs for {m} cells of dimension {dd}",
                    rho.len(),
                    out.len()
                ),
            ));
        }
        let mut s = vec![0.0; nw];
        self.marginal(rho, &mut s);
        let mut dh = vec![0.0; nw];
        self.apply(erf_kernel_du, &s, &mut dh);
        let mut g = vec![0.0; nw];
        if self.amplitude {
            self.apply(erf_kernel, &s, &mut g);
        }
        let lam = self.lambda;
        for (i, ai) in self.a.iter().enumerate() {
            for j in 0..nw {
                let cell = i * nw + j;
                let dw = self.dv0[j] + dh[j];
                if self.amplitude {
                    out[2 * cell] = self.v0[j] + g[j] + lam * ai;
                    out[2 * cell + 1] = ai * dw + lam * self.w[j];
                } else {
                    out[cell] = dw + lam * self.w[j];
                }
            }
        }
        Ok(())
    }
}

impl PotentialField for ErfClosedForm {
    /// The closed-form interaction [`ErfInteraction`].
    fn linear_response(&self) -> Option<Arc<dyn LinearResponse>> {
        Some(self.core.clone())
    }

    fn dim(&self) -> usize {
        if self.amplitude {
            2
        } else {
            1
        }
    }

    /// Ψ(a_i, w_j) = a_i (V₀(w_j) + Σ_l U(w_j, w_l) S_l) + (λ/2)|θ|².
    fn potential(&self, rho: &[f64], out: &mut [f64]) {
        let mut guard = self.work.lock().unwrap_or_else(|e| e.into_inner());
        let Work { s, h } = &mut *guard;
        self.marginal(rho, s);
        self.apply(erf_kernel, s, h);
        let nw = self.w.len();
        let half = 0.5 * self.lambda;
        for (i, ai) in self.a.iter().enumerate() {
            let a2 = if self.amplitude { ai * ai } else { 0.0 };
            for (j, o) in out[i * nw..(i + 1) * nw].iter_mut().enumerate() {
                let wj = self.w[j];
                *o = ai * (self.v0[j] + h[j]) + half * (a2 + wj * wj);
            }
        }
    }

    /// R = E\[y²\] + Σ_j S_j (2V₀(w_j) + h_j), E = ½R + (λ/2)Σ_m ρ_m|cell||θ_m|².
    fn energy(&self, rho: &[f64]) -> Energy {
        let mut guard = self.work.lock().unwrap_or_else(|e| e.into_inner());
        let Work { s, h } = &mut *guard;
        self.marginal(rho, s);
        self.apply(erf_kernel, s, h);
        let cross: f64 = s
            .iter()
            .zip(h.iter())
            .zip(&self.v0)
            .map(|((sj, hj), vj)| sj * (2.0 * vj + hj))
            .sum();
        let risk = self.ey2 + cross;
        let nw = self.w.len();
        let mut second = 0.0;
        for (i, ai) in self.a.iter().enumerate() {
            let a2 = if self.amplitude { ai * ai } else { 0.0 };
            for (j, r) in rho[i * nw..(i + 1) * nw].iter().enumerate() {
                second += r * (a2 + self.w[j] * self.w[j]);
            }
        }
        Energy {
            risk: Some(risk),
            energy: 0.5 * risk + 0.5 * self.lambda * second * self.cell_volume,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mfl_core::data::Inputs;
    use mfl_core::quadrature::gauss_hermite;

    /// Σ_k w_k a(x_k) erf(v x_k), a = erf(u·) or its u-derivative (2/√π) x e^{−u²x²}.
    fn quad(x: &[f64], w: &[f64], u: f64, v: f64, du: bool) -> f64 {
        x.iter()
            .zip(w)
            .map(|(x, w)| {
                let a = if du {
                    std::f64::consts::FRAC_2_SQRT_PI * x * (-(u * x) * (u * x)).exp()
                } else {
                    Activation::Erf.value(u * x)
                };
                w * a * Activation::Erf.value(v * x)
            })
            .sum()
    }

    fn legendre(panels: usize) -> (Vec<f64>, Vec<f64>) {
        // N(0, 1) on [−10, 10] (dropped tail mass 2Φ(−10) ≈ 1.5e−23), 16 nodes per panel
        let q = Inputs::gauss_legendre(1, panels, 16, 10.0);
        (q.x.column(0).to_vec(), q.w.to_vec())
    }

    #[test]
    fn kernel_and_derivative_match_quadrature() {
        // Gauss–Hermite converges slowly for steep erf units (|u| = 3: 4e−7 off at 200 nodes),
        // so the reference is composite Gauss–Legendre with 64 and 128 panels of 16 nodes;
        // their difference (the error estimate of the coarser) must be ≤ 1e−14 and the closed
        // form must agree with the finer to 1e−14 (a few ulp of the O(1) sums).
        let (x1, w1) = legendre(64);
        let (x2, w2) = legendre(128);
        let vals = [-3.0, -1.3, -0.2, 0.0, 0.4, 1.0, 2.5];
        for &u in &vals {
            for &v in &vals {
                let exact = erf_kernel(u, v);
                let arcsin = FRAC_2_PI
                    * (2.0 * u * v / ((1.0 + 2.0 * u * u) * (1.0 + 2.0 * v * v)).sqrt()).asin();
                assert!((exact - arcsin).abs() < 1e-15, "{u} {v}");
                for du in [false, true] {
                    let (q1, q2) = (quad(&x1, &w1, u, v, du), quad(&x2, &w2, u, v, du));
                    assert!(
                        (q1 - q2).abs() < 1e-14,
                        "reference not converged at {u}, {v}"
                    );
                    let c = if du { erf_kernel_du(u, v) } else { exact };
                    assert!((c - q2).abs() < 1e-14, "{u} {v} (du {du}): {c} vs {q2}");
                }
                let h = 1e-5;
                let fd = (erf_kernel(u + h, v) - erf_kernel(u - h, v)) / (2.0 * h);
                assert!((erf_kernel_du(u, v) - fd).abs() < 1e-9, "fd at {u} {v}");
            }
        }
        // Gauss–Hermite with 400 nodes where it has converged (|u|, |v| ≤ 1: 200 vs 400 ≤ 1e−14)
        let (xh, wh) = gauss_hermite(400);
        let (xh2, wh2) = gauss_hermite(200);
        for &(u, v) in &[(0.3, -0.8), (1.0, 1.0), (-0.5, 0.9)] {
            let q = quad(&xh, &wh, u, v, false);
            assert!((q - quad(&xh2, &wh2, u, v, false)).abs() < 1e-14);
            assert!((erf_kernel(u, v) - q).abs() < 1e-14);
        }
        // accurate where the arcsin argument tends to 1
        let u = 1e4;
        assert!(erf_kernel(u, u) < 1.0 && (erf_kernel(u, u) - 1.0).abs() < 1e-4);
    }
}
