//! The one kernel: f_ρ, R(ρ), Ψ(θ; ρ), ∇_θΨ(θ; ρ) and F(ρ) for any weighted θ point set.
//!
//! With data (x_k, y_k, w_k), k = 1..K, and a measure μ = Σ_m α_m δ_{θ_m}:
//!
//! * network  f_k = Σ_m α_m σ(x_k; θ_m)
//! * risk     R(μ) = Σ_k w_k ℓ(y_k, f_k) (+ s² for label noise of variance s², squared loss)
//! * residual r_k = ½ w_k ∂_ŷ ℓ(y_k, f_k)
//! * potential Ψ(θ; μ) = Σ_k r_k σ(x_k; θ) + (λ/2)|θ|², gradient ∇_θΨ likewise
//! * energy   E(μ) = ½ R(μ) + (λ/2) ∫|θ|² dμ  (the free energy without entropy)
//!
//! Cost O(M·K) — the interaction matrix U is never formed. Work is split into fixed blocks of θ
//! points (for f: per-block partial sums, added in block order; for Ψ: per point), so results
//! are bit-identical for any number of threads.
//!
//! Ridge units (act(w·x), a·act(w·x), act(w·x + b)) with inputs of dimension d ≤ 2 take the
//! blocked path of [`ridge`]: tiles of 8 θ points × all data points, the activation evaluated
//! by straight-line code that the compiler vectorises (for tanh,
//! [`crate::activation::tanh_inline`]), compiled for AVX-512, AVX2+FMA or the baseline target
//! and chosen at run time ([`crate::simd::Isa::detect`]) — with the same bits on every path. Where the data are exactly symmetric (x_{K−1−k} = −x_k, as
//! for Gauss–Hermite and symmetric Gauss–Legendre nodes) and the unit is odd in x
//! (odd activation, no bias), σ(−x; θ) = −σ(x; θ) exactly, so only the first ⌈K/2⌉ nodes are
//! evaluated: f_{K−1−k} = −f_k, and Ψ = Σ_{k<K/2} (r_k − r_{K−1−k}) σ(x_k; θ) (+ the middle
//! node). Other units (periodic, RBF, ridge units with d > 2) take the direct scalar loops.

use crate::data::Data;
use crate::error::CoreError;
use crate::loss::{ConvexLoss, Loss};
use crate::measure::Measure;
use crate::unit::Unit;
use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2};
use rayon::prelude::*;

/// Evaluation points per parallel task (rayon costs ~10 µs a call; see DESIGN.md §6).
const CHUNK: usize = 256;

/// Largest number of point–node pairs whose activations [`MeanField::self_gradient_into`]
/// keeps (16 bytes each: 2 MiB, about one core's L2). Beyond it, streaming the table from
/// memory (32 bytes per pair) costs about what recomputing tanh/sech² does, so the three
/// passes are used (benches/README.md, "Tabled kernel").
pub const TABLE_ENTRIES: usize = 1 << 17;

/// A mean-field problem: unit, loss, data and ridge λ.
#[derive(Debug, Clone, PartialEq)]
pub struct MeanField {
    /// The unit σ(x; θ) (the network is f_ρ(x) = ∫ σ(x; θ) ρ(dθ)).
    pub unit: Unit,
    /// The loss ℓ(y, ŷ) of R(ρ) = Σ_k w_k ℓ(y_k, f_ρ(x_k)).
    pub loss: Loss,
    /// The weighted data (x_k, y_k, w_k): quadrature nodes or samples.
    pub data: Data,
    /// Weight decay λ ≥ 0 in Ψ = … + (λ/2)|θ|².
    pub lambda: f64,
}

impl MeanField {
    /// A validated problem: the unit's input dimension matches the data, λ ≥ 0.
    pub fn new(unit: Unit, loss: Loss, data: Data, lambda: f64) -> Result<Self, CoreError> {
        unit.validate()?;
        if unit.input_dim() != data.dim() {
            return Err(CoreError::invalid(
                "unit",
                format!(
                    "unit takes inputs of dimension {}, data has dimension {}",
                    unit.input_dim(),
                    data.dim()
                ),
            ));
        }
        if !(lambda >= 0.0 && lambda.is_finite()) {
            return Err(CoreError::invalid(
                "lambda",
                format!("must be ≥ 0, got {lambda}"),
            ));
        }
        if loss == Loss::Logistic && data.y.iter().any(|&y| y != 1.0 && y != -1.0) {
            return Err(CoreError::invalid("loss", "logistic loss needs labels ±1"));
        }
        Ok(MeanField {
            unit,
            loss,
            data,
            lambda,
        })
    }

    /// Parameter dimension D.
    pub fn theta_dim(&self) -> usize {
        self.unit.theta_dim()
    }

    /// f_k = Σ_m α_m σ(x_k; θ_m) into `out` (length K).
    ///
    /// Ridge units: blocks of [`ridge::BLOCK`] points, f_k = Σ_blocks (Σ_{m ∈ block} α_m σ)
    /// in block order, halved over symmetric data (see the module doc).
    pub fn network_into(&self, mu: Measure, out: &mut [f64]) {
        if let Some(plan) = ridge::Plan::new(&self.unit, &self.data) {
            let th = mu.theta.as_standard_layout();
            let alpha = mu.weight.as_standard_layout();
            plan.network(
                th.as_slice().expect("standard layout"),
                alpha.as_slice().expect("standard layout"),
                out,
            );
            return;
        }
        self.network_into_direct(mu, out);
    }

    /// f_k by the direct loop: one data point per task, Σ_m in point order.
    fn network_into_direct(&self, mu: Measure, out: &mut [f64]) {
        let th = mu.theta.as_standard_layout();
        let th = th.as_slice().expect("standard layout");
        let dd = mu.dim().max(1);
        let alpha = mu.weight.as_standard_layout();
        let alpha = alpha.as_slice().expect("standard layout");
        let x = self.data.x.as_slice().expect("standard layout");
        let d = self.data.dim();
        out.par_iter_mut().enumerate().for_each(|(k, fk)| {
            let xk = &x[k * d..(k + 1) * d];
            let mut s = 0.0;
            for (t, a) in th.chunks_exact(dd).zip(alpha) {
                s += a * self.unit.value(xk, t);
            }
            *fk = s;
        });
    }

    /// f_k for every data point.
    pub fn network(&self, mu: Measure) -> Array1<f64> {
        let mut f = Array1::zeros(self.data.len());
        self.network_into(mu, f.as_slice_mut().expect("contiguous"));
        f
    }

    /// R = Σ_k w_k ℓ(y_k, f_k) (+ s² for label noise under the squared loss).
    pub fn risk_of_network(&self, f: &[f64]) -> f64 {
        let mut r = 0.0;
        for ((fk, yk), wk) in f.iter().zip(&self.data.y).zip(&self.data.w) {
            r += wk * self.loss.value(*yk, *fk);
        }
        if self.loss == Loss::Squared {
            r += self.data.noise_var;
        }
        r
    }

    /// R(μ).
    pub fn risk(&self, mu: Measure) -> f64 {
        self.risk_of_network(self.network(mu).as_slice().expect("contiguous"))
    }

    /// r_k = ½ w_k ∂_ŷ ℓ(y_k, f_k) into `out`.
    pub fn residual_into(&self, f: &[f64], out: &mut [f64]) {
        for (((r, fk), yk), wk) in out.iter_mut().zip(f).zip(&self.data.y).zip(&self.data.w) {
            *r = 0.5 * wk * self.loss.deriv(*yk, *fk);
        }
    }

    /// c_k = ½ w_k ∂²_ŷ ℓ(y_k, f_k) into `out`: the linearisation of the residual,
    /// δr_k = c_k δf_k, so that δΨ\[ν\](θ) = Σ_k c_k f_ν(x_k) σ(x_k; θ) (squared loss: c_k = w_k,
    /// and δΨ\[ν\] = ∫U(θ, θ') ν(dθ')).
    pub fn curvature_into(&self, f: &[f64], out: &mut [f64]) {
        for (((c, fk), yk), wk) in out.iter_mut().zip(f).zip(&self.data.y).zip(&self.data.w) {
            *c = 0.5 * wk * self.loss.second_deriv(*yk, *fk);
        }
    }

    /// r_k for the network outputs f.
    pub fn residual(&self, f: &[f64]) -> Array1<f64> {
        let mut r = Array1::zeros(f.len());
        self.residual_into(f, r.as_slice_mut().expect("contiguous"));
        r
    }

    /// Ψ(θ) = Σ_k r_k σ(x_k; θ) + (λ/2)|θ|² at each row of `at`, into `out`.
    ///
    /// Ridge units: tiles of 8 points, Σ_k in node order (over the folded coefficients
    /// r_k − r_{K−1−k} on symmetric data); a·act units as a·Σ_k r_k act(w·x_k).
    ///
    /// The table Φ_mk = σ(x_k; θ_m) is recomputed on every call rather than cached: with the
    /// vectorised tanh one evaluation costs less than streaming its 8 bytes from memory
    /// (measured in benches/README.md, "General O(M·K) path").
    pub fn potential_of_residual_into(&self, r: &[f64], at: ArrayView2<f64>, out: &mut [f64]) {
        if let Some(plan) = ridge::Plan::new(&self.unit, &self.data) {
            let at = at.as_standard_layout();
            plan.potential(
                r,
                at.as_slice().expect("standard layout"),
                self.lambda,
                out,
                None,
            );
            return;
        }
        let at = at.as_standard_layout();
        let dd = at.ncols().max(1);
        let th = at.as_slice().expect("standard layout");
        let x = self.data.x.as_slice().expect("standard layout");
        let d = self.data.dim();
        out.par_chunks_mut(CHUNK)
            .zip(th.par_chunks(CHUNK * dd))
            .for_each(|(o, t)| {
                for (om, tm) in o.iter_mut().zip(t.chunks_exact(dd)) {
                    let mut s = 0.0;
                    for (xk, rk) in x.chunks_exact(d).zip(r) {
                        s += rk * self.unit.value(xk, tm);
                    }
                    *om = s + 0.5 * self.lambda * tm.iter().map(|v| v * v).sum::<f64>();
                }
            });
    }

    /// Ψ and ∇_θΨ = Σ_k r_k ∇_θσ(x_k; θ) + λθ at each row of `at`.
    ///
    /// Ridge units as [`MeanField::potential_of_residual_into`], with (act, act') from one
    /// evaluation ([`crate::activation::tanh_sech2_inline`] for tanh).
    pub fn potential_grad_of_residual_into(
        &self,
        r: &[f64],
        at: ArrayView2<f64>,
        psi: &mut [f64],
        mut grad: ArrayViewMut2<f64>,
    ) {
        if let Some(plan) = ridge::Plan::new(&self.unit, &self.data) {
            let at = at.as_standard_layout();
            let g = grad
                .as_slice_mut()
                .expect("gradient output must be in standard layout");
            plan.potential(
                r,
                at.as_slice().expect("standard layout"),
                self.lambda,
                psi,
                Some(g),
            );
            return;
        }
        let at = at.as_standard_layout();
        let dd = at.ncols();
        let th = at.as_slice().expect("standard layout");
        let x = self.data.x.as_slice().expect("standard layout");
        let d = self.data.dim();
        let g = grad
            .as_slice_mut()
            .expect("gradient output must be in standard layout");
        psi.par_chunks_mut(CHUNK)
            .zip(g.par_chunks_mut(CHUNK * dd))
            .zip(th.par_chunks(CHUNK * dd))
            .for_each(|((p, gc), t)| {
                let mut tmp = vec![0.0; dd];
                for ((pm, gm), tm) in p
                    .iter_mut()
                    .zip(gc.chunks_exact_mut(dd))
                    .zip(t.chunks_exact(dd))
                {
                    let mut s = 0.0;
                    gm.iter_mut().for_each(|v| *v = 0.0);
                    for (xk, rk) in x.chunks_exact(d).zip(r) {
                        s += rk * self.unit.value_grad(xk, tm, &mut tmp);
                        for (gi, ti) in gm.iter_mut().zip(&tmp) {
                            *gi += rk * ti;
                        }
                    }
                    for (gi, ti) in gm.iter_mut().zip(tm) {
                        *gi += self.lambda * ti;
                    }
                    *pm = s + 0.5 * self.lambda * tm.iter().map(|v| v * v).sum::<f64>();
                }
            });
    }

    /// One gradient evaluation of a point set on itself: f_k = Σ_m α_m σ(x_k; θ_m) into `f`,
    /// r_k = ½w_k∂ℓ(y_k, f_k) into `r`, and Ψ(θ_m) and ∇_θΨ(θ_m) for that residual at the same
    /// points — what a particle step needs. The same bits as [`MeanField::network_into`],
    /// [`MeanField::residual_into`] and [`MeanField::potential_grad_of_residual_into`] in
    /// turn; for tanh ridge units (and at most [`TABLE_ENTRIES`] point–node pairs) the
    /// activations of the first pass are kept in `table` and reused, which halves the
    /// transcendental work. `table` is the caller's workspace (no allocation of the kernel's
    /// buffers per call once it has grown to the problem's size).
    pub fn self_gradient_into(
        &self,
        mu: Measure,
        f: &mut [f64],
        r: &mut [f64],
        psi: &mut [f64],
        grad: ArrayViewMut2<f64>,
        table: &mut ridge::Table,
    ) {
        let Some(plan) = ridge::Plan::new(&self.unit, &self.data) else {
            self.network_into(mu, f);
            self.residual_into(f, r);
            self.potential_grad_of_residual_into(r, mu.theta, psi, grad);
            return;
        };
        let th = mu.theta.as_standard_layout();
        let th = th.as_slice().expect("standard layout");
        let alpha = mu.weight.as_standard_layout();
        let alpha = alpha.as_slice().expect("standard layout");
        let mut grad = grad;
        let g = grad
            .as_slice_mut()
            .expect("gradient output must be in standard layout");
        if plan.tables() && mu.len().saturating_mul(self.data.len()) <= TABLE_ENTRIES {
            plan.network_table(th, alpha, f, table);
            self.residual_into(f, r);
            plan.potential_from_table(r, th, self.lambda, psi, g, table);
        } else {
            plan.network_with_table(th, alpha, f, table);
            self.residual_into(f, r);
            plan.potential_with_table(r, th, self.lambda, psi, g, table);
        }
    }

    /// Ψ(θ; μ) at each row of `at`.
    pub fn potential(&self, mu: Measure, at: ArrayView2<f64>) -> Array1<f64> {
        let f = self.network(mu);
        let r = self.residual(f.as_slice().expect("contiguous"));
        let mut out = Array1::zeros(at.nrows());
        self.potential_of_residual_into(
            r.as_slice().expect("contiguous"),
            at,
            out.as_slice_mut().expect("contiguous"),
        );
        out
    }

    /// (Ψ, ∇_θΨ)(θ; μ) at each row of `at`.
    pub fn potential_grad(&self, mu: Measure, at: ArrayView2<f64>) -> (Array1<f64>, Array2<f64>) {
        let f = self.network(mu);
        let r = self.residual(f.as_slice().expect("contiguous"));
        let mut psi = Array1::zeros(at.nrows());
        let mut grad = Array2::zeros((at.nrows(), at.ncols()));
        self.potential_grad_of_residual_into(
            r.as_slice().expect("contiguous"),
            at,
            psi.as_slice_mut().expect("contiguous"),
            grad.view_mut(),
        );
        (psi, grad)
    }

    /// (λ/2) ∫|θ|² dμ.
    pub fn regulariser(&self, mu: Measure) -> f64 {
        0.5 * self.lambda * mu.second_moment()
    }

    /// E(μ) = ½ R(μ) + (λ/2) ∫|θ|² dμ: the free energy without its entropy term.
    pub fn energy(&self, mu: Measure) -> f64 {
        0.5 * self.risk(mu) + self.regulariser(mu)
    }

    /// U(θ, θ') = Σ_k w_k σ(x_k; θ) σ(x_k; θ'), for tests and exact identities on small sets
    /// (never used by the solvers).
    pub fn interaction(&self, a: &[f64], b: &[f64]) -> f64 {
        self.data
            .x
            .rows()
            .into_iter()
            .zip(self.data.w.iter())
            .map(|(x, w)| {
                let x = x.as_slice().expect("contiguous");
                w * self.unit.value(x, a) * self.unit.value(x, b)
            })
            .sum()
    }
}

/// Differential entropy term ∫ ρ log ρ dθ ≈ Σ_m ρ_m log ρ_m |cell| (0 log 0 = 0).
pub fn neg_entropy(rho: &[f64], cell_volume: f64) -> f64 {
    rho.iter()
        .map(|&p| if p > 0.0 { p * p.ln() } else { 0.0 })
        .sum::<f64>()
        * cell_volume
}

/// F(ρ) = E(μ_ρ) + T ∫ ρ log ρ on a grid, with μ_ρ the cell centres weighted by ρ_m|cell|.
pub fn free_energy(
    mf: &MeanField,
    mu: Measure,
    rho: &[f64],
    cell_volume: f64,
    temperature: f64,
) -> f64 {
    let e = mf.energy(mu);
    if temperature > 0.0 {
        e + temperature * neg_entropy(rho, cell_volume)
    } else {
        e
    }
}

pub mod ridge;
