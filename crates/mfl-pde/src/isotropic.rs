//! Isotropic problems in input dimension d, reduced exactly to the radius r = |w|
//! (Mei–Montanari–Nguyen 2018, §"isotropic Gaussians").
//!
//! # The problem
//!
//! Units σ(⟨w, x⟩), w ∈ R^d (d ≥ 2), output weights 1, squared loss; two classes y = ±1 with
//! probability ½ and x | y ~ N(0, a_y² I_d), a_y = 1 + yΔ (|Δ| < 1). Then (DESIGN.md §1)
//! V(w) = −E[yσ(⟨w, x⟩)] and U(w, w') = E[σ(⟨w, x⟩)σ(⟨w', x⟩)] depend on w, w' only through
//! r = |w|, r' = |w'| and the cosine s = ⟨w, w'⟩/(rr'):
//!
//! * ⟨w, x⟩ | y ~ N(0, a_y² r²), so with m(μ, τ) := E[σ(μ + τh)], h ~ N(0, 1),
//!   **v(r) = −½[m(0, a₊r) − m(0, a₋r)]**;
//! * (⟨w, x⟩, ⟨w', x⟩) | y = a_y(r g₁, r' g₂) with (g₁, g₂) standard normal of correlation s, so
//!   with P(α, β, s) := E[σ(αg₁)σ(βg₂)], U(w, w') = ½Σ_y P(a_y r, a_y r', s).
//!
//! A radial law ρ(dw) = p(r)dr × (uniform direction) stays radial under the mean-field
//! dynamics, and for w' uniform on the sphere the cosine s with any fixed direction has density
//! c_d(1 − s²)^{(d−3)/2} on [−1, 1]. So ∫U(w, w')ρ(dw') = ∫u_d(r, r')p(r')dr' with
//!
//! **u_d(r, r') = E_s[½Σ_y P(a_y r, a_y r', s)]**,
//!
//! and Ψ(w; ρ) = ψ(|w|) with ψ(r) = v(r) + ∫u_d(r, r')p(dr') + λr²/2. In polar coordinates
//! ∇·(ρ∇Ψ) + TΔρ becomes, for the law p(r) = |S^{d−1}| r^{d−1} ρ(r) of the radius,
//!
//! ∂_t p = ∂_r(p ∂_r ψ) + T[∂_rr p − ∂_r((d − 1)p/r)] = ∂_r(p ∂_r ψ_eff) + T∂_rr p,
//! **ψ_eff(r) = ψ(r) − T(d − 1) log r**,
//!
//! a one-dimensional Fokker–Planck equation with the fixed extra potential −T(d − 1) log r, so the
//! Scharfetter–Gummel flux of [`crate::flux`] applies unchanged with Ψ = ψ_eff on the cells of a
//! cell-centred grid on [0, r_max] (no-flux walls; every centre has r > 0). Its Gibbs state is
//! p* ∝ e^{−ψ_eff/T} = r^{d−1}e^{−ψ/T}, the law of |w| under ρ* ∝ e^{−Ψ/T}.
//!
//! **Free energy.** With ρ(w) = p(r)/(|S^{d−1}| r^{d−1}),
//! ∫ρ log ρ dw = ∫p log(p / r^{d−1}) dr − log|S^{d−1}|, so the d-dimensional
//! F(ρ) = ½R + (λ/2)∫|w|²ρ + T∫ρ log ρ equals, up to the constant −T log|S^{d−1}|,
//!
//! F_r(p) = ½R(p) + (λ/2)∫r²p dr − T(d − 1)∫p log r dr + T∫p log p dr,
//!
//! which is exactly the one-dimensional free energy of the potential field here when its energy
//! ([`PotentialField::energy`]) is E(p) = ½R + (λ/2)∫r²p − T(d − 1)∫p log r — the energy of
//! ψ_eff (ψ_eff = δE/δp). The diagnostics' `entropy` is then the 1D −∫p log p; the
//! d-dimensional entropy is −∫ρ log ρ dw = −∫p log p + (d − 1)∫p log r + log|S^{d−1}|.
//! R(p) = E\[y²\] + 2∫v p + ∬u_d p p with E\[y²\] = 1.
//!
//! # Evaluation
//!
//! * **closed forms** of P: linear αβs; relu αβ(√(1 − s²) + (π − arccos s)s)/(2π) (α, β ≥ 0, the
//!   arc-cosine kernel); erf (2/π) arcsin(2αβs/√((1 + 2α²)(1 + 2β²))); and of m: linear μ, relu
//!   R_τ(μ) := μΦ(μ/τ) + τφ(μ/τ), erf erf(μ/√(1 + 2τ²)), piecewise linear
//!   s₁ + k[R_τ(μ − t₁) − R_τ(μ − t₂)] (σ = s₁ + k[relu(z − t₁) − relu(z − t₂)]);
//! * otherwise P(α, β, s) = ∫φ(g)σ(αg) m(βsg, β√(1 − s²)) dg (g₂ = sg₁ + √(1 − s²)h): composite
//!   Gauss–Legendre on [−L, L] (`panels` equal panels of 8 nodes, each also split at the kinks
//!   t_i/α of σ(αg), and of σ(βg) when |s| = 1, so every piece is smooth and converges
//!   spectrally), with m in closed form (piecewise linear, relu) or by the same composite
//!   Gauss–Legendre rule in h (smooth activations: tanh, sigmoid, softplus — then a table costs
//!   ~panels·8 times more);
//! * E_s by the K-node Gauss–Gegenbauer rule of the density ∝ (1 − s²)^{(d−3)/2}
//!   ([`gauss_gegenbauer`]; exact for polynomials of degree ≤ 2K − 1; the integrand is analytic
//!   on (−1, 1) and the weight kills the endpoints for large d).
//!
//! u_d is tabulated once on the radial cells ([`IsotropicField::new`]), symmetric, at
//! O(n²·K·nodes) cost, parallel over rows (each entry computed alone: bit-identical for any
//! thread count); a call of Ψ is then an O(n²) matrix–vector product. The table's accuracy is
//! estimated by the K-vs-2K rule (every node count doubled) on a subset of entries
//! ([`IsotropicKernel::accuracy`]).
//!
//! The particles of the same problem live in R^d ([`mfl_core::MeanField`] with samples);
//! [`IsotropicKernel::risk_of_particles`] evaluates their population risk R(ρ_N) exactly through
//! P, without data.

use crate::error::PdeError;
use crate::potential::{Energy, LinearResponse, PotentialField};
use mfl_core::quadrature::gauss_legendre;
use mfl_core::{Activation, Grid};
use rayon::prelude::*;
use std::f64::consts::{FRAC_1_SQRT_2, PI};
use std::sync::Arc;

/// Gauss–Legendre nodes per panel of the g-rule.
pub const NODES_PER_PANEL: usize = 8;
/// The largest radial grid accepted (the table holds n² numbers).
pub const MAX_RADIAL_CELLS: usize = 4000;

/// K-node Gauss–Gegenbauer rule for the density c_d(1 − s²)^{(d−3)/2} on [−1, 1] of the
/// cosine between two independent uniform directions in R^d (d ≥ 2): nodes ascending, weights
/// summing to 1, exact for polynomials of degree ≤ 2K − 1.
///
/// The nodes are the eigenvalues of the Jacobi matrix (zero diagonal, off-diagonal √b_j with
/// b_j = j(j + 2a)/(4(j + a)² − 1), a = (d − 3)/2; b₁ = ½ for d = 2, the Chebyshev case), by
/// Sturm-sequence bisection to the last bit; the weights are the Christoffel numbers
/// 1/Σ_{j<K} p̃_j(s_i)² of the orthonormal polynomials p̃_j.
pub fn gauss_gegenbauer(k: usize, d: usize) -> (Vec<f64>, Vec<f64>) {
    assert!(k >= 1 && d >= 2, "gauss_gegenbauer needs K ≥ 1, d ≥ 2");
    let a = (d as f64 - 3.0) / 2.0;
    let b: Vec<f64> = (0..k)
        .map(|j| {
            if j == 0 {
                0.0
            } else if d == 2 && j == 1 {
                0.5
            } else {
                let jf = j as f64;
                jf * (jf + 2.0 * a) / (4.0 * (jf + a) * (jf + a) - 1.0)
            }
        })
        .collect();
    // eigenvalues of J below x (LDLᵀ pivots q_j = −x − b_j/q_{j−1})
    let count_below = |x: f64| -> usize {
        let mut q = -x;
        let mut c = usize::from(q < 0.0);
        for bj in b.iter().skip(1) {
            let qp = if q == 0.0 { f64::MIN_POSITIVE } else { q };
            q = -x - bj / qp;
            c += usize::from(q < 0.0);
        }
        c
    };
    let mut nodes = Vec::with_capacity(k);
    for i in 0..k {
        // the (i+1)-th smallest eigenvalue: the smallest x with count_below(x) ≥ i + 1
        let (mut lo, mut hi) = (-1.0f64, 1.0f64);
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if mid <= lo || mid >= hi {
                break;
            }
            if count_below(mid) > i {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        nodes.push(0.5 * (lo + hi));
    }
    let e: Vec<f64> = b.iter().map(|v| v.sqrt()).collect();
    let weights: Vec<f64> = nodes
        .iter()
        .map(|&x| {
            let (mut pm, mut p) = (0.0f64, 1.0f64);
            let mut sum = 0.0;
            for j in 0..k {
                sum += p * p;
                if j + 1 < k {
                    let next = (x * p - e[j] * pm) / e[j + 1];
                    pm = p;
                    p = next;
                }
            }
            1.0 / sum
        })
        .collect();
    (nodes, weights)
}

/// Φ(x), the standard normal distribution function (½ erfc(−x/√2)).
#[inline]
fn norm_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x * FRAC_1_SQRT_2)
}

/// φ(x), the standard normal density.
#[inline]
fn norm_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * PI).sqrt()
}

/// R_τ(c) = E[relu(c + τh)] = cΦ(c/τ) + τφ(c/τ) for τ > 0; relu(c) for τ = 0.
#[inline]
fn smoothed_relu(c: f64, tau: f64) -> f64 {
    if tau == 0.0 {
        c.max(0.0)
    } else {
        let z = c / tau;
        c * norm_cdf(z) + tau * norm_pdf(z)
    }
}

/// The composite Gauss–Legendre rule of E[f(h)], h ~ N(0, 1), for smooth f: `rule.panels`
/// equal panels of [`NODES_PER_PANEL`] nodes on [−L, L], weights multiplied by φ(h).
fn smooth_rule(rule: RadialRule) -> (Vec<f64>, Vec<f64>) {
    let (x0, w0) = gauss_legendre(NODES_PER_PANEL, 0.0, 1.0);
    let (l, p) = (rule.truncate, rule.panels);
    let width = 2.0 * l / p as f64;
    let mut nodes = Vec::with_capacity(p * x0.len());
    let mut weights = Vec::with_capacity(p * x0.len());
    for i in 0..p {
        let a = -l + width * i as f64;
        for (x, w) in x0.iter().zip(&w0) {
            let h = a + width * x;
            nodes.push(h);
            weights.push(width * w * norm_pdf(h));
        }
    }
    (nodes, weights)
}

/// The quadrature sizes of the radial reduction (the "K" of the K-vs-2K estimate).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RadialRule {
    /// Gauss–Gegenbauer nodes K in the cosine s.
    pub s_nodes: usize,
    /// Equal panels of [`NODES_PER_PANEL`] Gauss–Legendre nodes on [−L, L] in g (before the
    /// splits at kinks).
    pub panels: usize,
    /// L: the g-rule's truncation of the standard normal (mass beyond ≈ 2φ(L)/L).
    pub truncate: f64,
}

impl Default for RadialRule {
    /// K = 16 cosine nodes, 16 panels on [−8, 8]: for MMN's σ in d = 40 (r ≤ 3)
    /// |u_K − u_2K| ≈ 7e-15, and P(α, β, s) within 1e-13 of its Mehler series even at |s| = 0.86
    /// (crates/mfl-pde/tests/isotropic.rs).
    fn default() -> Self {
        RadialRule {
            s_nodes: 16,
            panels: 16,
            truncate: 8.0,
        }
    }
}

impl RadialRule {
    /// Every node count multiplied by `k` (k = 2: the rule of the K-vs-2K estimate).
    pub fn refined(self, k: usize) -> Self {
        RadialRule {
            s_nodes: self.s_nodes * k,
            panels: self.panels * k,
            truncate: self.truncate,
        }
    }
}

/// v, u_d and P of one isotropic two-class problem (see the module documentation).
#[derive(Debug, Clone)]
pub struct IsotropicKernel {
    act: Activation,
    d: usize,
    delta: f64,
    rule: RadialRule,
    s_nodes: Vec<f64>,
    s_weights: Vec<f64>,
    /// reference Gauss–Legendre nodes and weights on [0, 1]
    gl: (Vec<f64>, Vec<f64>),
    /// nodes h and weights (including φ(h)) of m for smooth activations without a closed
    /// form: the composite Gauss–Legendre g-rule of the smooth case
    gh: (Vec<f64>, Vec<f64>),
}

impl IsotropicKernel {
    /// The kernel of units act(⟨w, x⟩) on d ≥ 2 inputs, two classes with |Δ| < 1.
    pub fn new(act: Activation, d: usize, delta: f64, rule: RadialRule) -> Result<Self, PdeError> {
        if d < 2 {
            return Err(PdeError::invalid(
                "input_dim",
                format!("the radial reduction needs d ≥ 2, got {d}"),
            ));
        }
        if delta.is_nan() || delta.abs() >= 1.0 {
            return Err(PdeError::invalid(
                "delta",
                format!("need |Δ| < 1, got {delta}"),
            ));
        }
        if rule.s_nodes == 0 || rule.panels == 0 || rule.truncate.is_nan() || rule.truncate <= 0.0 {
            return Err(PdeError::invalid(
                "nodes",
                format!("need ≥ 1 cosine node, ≥ 1 panel and L > 0, got {rule:?}"),
            ));
        }
        let (s_nodes, s_weights) = gauss_gegenbauer(rule.s_nodes, d);
        Ok(IsotropicKernel {
            act,
            d,
            delta,
            rule,
            s_nodes,
            s_weights,
            gl: gauss_legendre(NODES_PER_PANEL, 0.0, 1.0),
            gh: smooth_rule(rule),
        })
    }

    /// The same kernel with the quadrature rule `rule`.
    pub fn with_rule(&self, rule: RadialRule) -> Result<Self, PdeError> {
        IsotropicKernel::new(self.act, self.d, self.delta, rule)
    }

    /// The activation.
    pub fn activation(&self) -> Activation {
        self.act
    }
    /// Input dimension d.
    pub fn dim(&self) -> usize {
        self.d
    }
    /// Δ.
    pub fn delta(&self) -> f64 {
        self.delta
    }
    /// The quadrature rule.
    pub fn rule(&self) -> RadialRule {
        self.rule
    }

    /// m(μ, τ) = E[σ(μ + τh)], h ~ N(0, 1), τ ≥ 0: closed form for linear, relu, erf and
    /// piecewise linear, the composite Gauss–Legendre rule of the g-rule otherwise (panels × 8
    /// nodes on [−L, L]; Gauss–Hermite converges too slowly for tanh, DESIGN.md §2); σ(μ) at
    /// τ = 0.
    pub fn smoothed(&self, mu: f64, tau: f64) -> f64 {
        if tau == 0.0 {
            return self.act.value(mu);
        }
        match self.act {
            Activation::Linear => mu,
            Activation::Relu => smoothed_relu(mu, tau),
            Activation::Erf => libm::erf(mu / (1.0 + 2.0 * tau * tau).sqrt()),
            Activation::PiecewiseLinear { t1, t2, s1, s2 } => {
                let k = (s2 - s1) / (t2 - t1);
                s1 + k * (smoothed_relu(mu - t1, tau) - smoothed_relu(mu - t2, tau))
            }
            a => self
                .gh
                .0
                .iter()
                .zip(&self.gh.1)
                .map(|(h, w)| w * a.value(mu + tau * h))
                .sum(),
        }
    }

    /// P(α, β, s) = E[σ(αg₁)σ(βg₂)], (g₁, g₂) standard normal with correlation s ∈ [−1, 1],
    /// α, β ≥ 0: closed form for linear, relu, erf; the g-rule otherwise.
    pub fn pair(&self, alpha: f64, beta: f64, s: f64) -> f64 {
        match self.act {
            Activation::Linear => alpha * beta * s,
            Activation::Relu => {
                let s = s.clamp(-1.0, 1.0);
                alpha * beta * ((1.0 - s * s).sqrt() + (PI - s.acos()) * s) / (2.0 * PI)
            }
            Activation::Erf => {
                let c = 2.0 * alpha * beta * s
                    / ((1.0 + 2.0 * alpha * alpha) * (1.0 + 2.0 * beta * beta)).sqrt();
                std::f64::consts::FRAC_2_PI * c.clamp(-1.0, 1.0).asin()
            }
            _ => {
                let (nodes, weights) =
                    self.g_rule(alpha, if s.abs() >= 1.0 { beta * s } else { 0.0 });
                self.pair_on(&nodes, &weights, beta, s)
            }
        }
    }

    /// Σ_i ω_i m(βs g_i, β√(1 − s²)) with ω_i the g-rule weights already multiplied by
    /// φ(g_i)σ(αg_i).
    fn pair_on(&self, nodes: &[f64], weights: &[f64], beta: f64, s: f64) -> f64 {
        let tau = beta * (1.0 - s * s).max(0.0).sqrt();
        nodes
            .iter()
            .zip(weights)
            .map(|(g, w)| w * self.smoothed(beta * s * g, tau))
            .sum()
    }

    /// The g-rule for σ(αg)·(smooth): panels on [−L, L] split at the kinks t/α of σ(αg) (and
    /// t/γ, for the kinks of σ(γg) when the second factor is σ(γg) itself, γ ≠ 0); returns the
    /// nodes and the weights multiplied by φ(g)σ(αg).
    fn g_rule(&self, alpha: f64, gamma: f64) -> (Vec<f64>, Vec<f64>) {
        let l = self.rule.truncate;
        let mut cuts: Vec<f64> = (0..=self.rule.panels)
            .map(|p| -l + 2.0 * l * p as f64 / self.rule.panels as f64)
            .collect();
        for scale in [alpha, gamma] {
            if scale != 0.0 {
                for t in self.act.kinks() {
                    let c = t / scale;
                    if c > -l && c < l {
                        cuts.push(c);
                    }
                }
            }
        }
        cuts.sort_by(f64::total_cmp);
        cuts.dedup();
        let (x0, w0) = &self.gl;
        let mut nodes = Vec::with_capacity(cuts.len() * x0.len());
        let mut weights = Vec::with_capacity(cuts.len() * x0.len());
        for c in cuts.windows(2) {
            let (a, b) = (c[0], c[1]);
            if b <= a {
                continue;
            }
            for (x, w) in x0.iter().zip(w0) {
                let g = a + (b - a) * x;
                nodes.push(g);
                weights.push((b - a) * w * norm_pdf(g) * self.act.value(alpha * g));
            }
        }
        (nodes, weights)
    }

    /// a_y = 1 + yΔ for the classes y = +1, −1.
    fn scales(&self) -> [f64; 2] {
        [1.0 + self.delta, 1.0 - self.delta]
    }

    /// v(r) = −E[yσ(⟨w, x⟩)] = −½[m(0, (1 + Δ)r) − m(0, (1 − Δ)r)] for |w| = r.
    pub fn v(&self, r: f64) -> f64 {
        let [ap, am] = self.scales();
        -0.5 * (self.smoothed(0.0, ap * r) - self.smoothed(0.0, am * r))
    }

    /// u_d(r, r') = E_s[½Σ_y P(a_y r, a_y r', s)], s with density ∝ (1 − s²)^{(d−3)/2}.
    pub fn u(&self, r: f64, rp: f64) -> f64 {
        let mut acc = 0.0;
        for a in self.scales() {
            let closed = matches!(
                self.act,
                Activation::Linear | Activation::Relu | Activation::Erf
            );
            if closed {
                for (s, w) in self.s_nodes.iter().zip(&self.s_weights) {
                    acc += 0.5 * w * self.pair(a * r, a * rp, *s);
                }
            } else {
                let (nodes, weights) = self.g_rule(a * r, 0.0);
                for (s, w) in self.s_nodes.iter().zip(&self.s_weights) {
                    acc += 0.5 * w * self.pair_on(&nodes, &weights, a * rp, *s);
                }
            }
        }
        acc
    }

    /// The self term U(w, w) = ½Σ_y E[σ(a_y r g)²] for |w| = r (P at s = 1; the diagonal of the
    /// finite network's risk and of the t = 0 gap identity).
    pub fn self_term(&self, r: f64) -> f64 {
        self.scales()
            .iter()
            .map(|a| 0.5 * self.pair(a * r, a * r, 1.0))
            .sum()
    }

    /// E\[y²\] = 1 (labels ±1).
    pub fn label_second_moment(&self) -> f64 {
        1.0
    }

    /// The symmetric table u_d(r_i, r_j) (row-major n × n) on the radii `r`, parallel over rows.
    pub fn table(&self, r: &[f64]) -> Vec<f64> {
        let n = r.len();
        let mut t = vec![0.0; n * n];
        t.par_chunks_mut(n).enumerate().for_each(|(i, row)| {
            for j in i..n {
                row[j] = self.u(r[i], r[j]);
            }
        });
        for i in 0..n {
            for j in 0..i {
                t[i * n + j] = t[j * n + i];
            }
        }
        t
    }

    /// The K-vs-2K estimate: max |u_K − u_2K| and max |v_K − v_2K| over every `stride`-th
    /// radius of `r` (pairs of them), the rule with every node count doubled as reference.
    pub fn accuracy(&self, r: &[f64], stride: usize) -> Result<(f64, f64), PdeError> {
        let fine = self.with_rule(self.rule.refined(2))?;
        let pick: Vec<f64> = r.iter().step_by(stride.max(1)).copied().collect();
        let du = pick
            .par_iter()
            .map(|&a| {
                pick.iter()
                    .map(|&b| (self.u(a, b) - fine.u(a, b)).abs())
                    .fold(0.0, f64::max)
            })
            .reduce(|| 0.0, f64::max);
        let dv = pick
            .iter()
            .map(|&a| (self.v(a) - fine.v(a)).abs())
            .fold(0.0, f64::max);
        Ok((du, dv))
    }

    /// The population risk R(ρ_N) of N particles w_i ∈ R^d (rows of `theta`, row-major N × d),
    /// exactly through the radial functions:
    /// R = 1 + (2/N)Σ_i v(|w_i|) + (1/N²)Σ_{i,j} ½Σ_y P(a_y|w_i|, a_y|w_j|, s_ij),
    /// s_ij the cosine of w_i and w_j (1 on the diagonal). N(N + 1)/2 pair expectations, parallel
    /// over i.
    pub fn risk_of_particles(&self, theta: &[f64]) -> f64 {
        let d = self.d;
        let n = theta.len() / d;
        let r: Vec<f64> = theta
            .chunks(d)
            .map(|w| w.iter().map(|x| x * x).sum::<f64>().sqrt())
            .collect();
        let rows: Vec<f64> = (0..n)
            .into_par_iter()
            .map(|i| {
                let wi = &theta[i * d..(i + 1) * d];
                // j ≥ i only (P(α, β, s) = P(β, α, s)): off-diagonal pairs count twice
                let mut acc = 0.0;
                for a in self.scales() {
                    let (nodes, weights) = self.g_rule(a * r[i], 0.0);
                    for j in i..n {
                        let wj = &theta[j * d..(j + 1) * d];
                        let p = if i == j {
                            self.pair(a * r[i], a * r[i], 1.0)
                        } else {
                            let dot: f64 = wi.iter().zip(wj).map(|(x, y)| x * y).sum();
                            let den = r[i] * r[j];
                            let s = if den > 0.0 {
                                (dot / den).clamp(-1.0, 1.0)
                            } else {
                                0.0
                            };
                            match self.act {
                                Activation::Linear | Activation::Relu | Activation::Erf => {
                                    self.pair(a * r[i], a * r[j], s)
                                }
                                _ if s.abs() >= 1.0 => self.pair(a * r[i], a * r[j], s),
                                _ => self.pair_on(&nodes, &weights, a * r[j], s),
                            }
                        };
                        acc += if i == j { 0.5 * p } else { p };
                    }
                }
                acc
            })
            .collect();
        let nf = n as f64;
        let v: f64 = r.iter().map(|&ri| self.v(ri)).sum();
        self.label_second_moment() + 2.0 * v / nf + rows.iter().sum::<f64>() / (nf * nf)
    }
}

/// p ↦ out_m = Σ_l u_d(r_m, r_l) v_l h: the linearisation DΨ\[v\] of the radial potential
/// (Ψ is affine in p), for the stationary solver's rates.
#[derive(Debug)]
pub struct RadialInteraction {
    table: Vec<f64>,
    h: f64,
}

impl RadialInteraction {
    fn apply_into(&self, v: &[f64], out: &mut [f64]) {
        let n = v.len();
        out.par_iter_mut().enumerate().for_each(|(m, o)| {
            let row = &self.table[m * n..(m + 1) * n];
            *o = row.iter().zip(v).map(|(u, p)| u * p).sum::<f64>() * self.h;
        });
    }
}

impl LinearResponse for RadialInteraction {
    /// out_m = Σ_l u_d(r_m, r_l) v_l h.
    fn apply(&self, v: &[f64], out: &mut [f64]) {
        self.apply_into(v, out);
    }
}

/// The radially reduced potential field on a cell-centred grid [0, r_max] (1D, no-flux):
/// Ψ_m = ψ_eff(r_m) = v(r_m) + Σ_l u_d(r_m, r_l) p_l h + λr_m²/2 − T(d − 1) log r_m, and
/// E(p) = ½R + (λ/2)Σ r_m² p_m h − T(d − 1)Σ log r_m p_m h, R = 1 + 2Σ v_m p_m h + Σ p u p h²
/// (module documentation: E + T∫p log p is the d-dimensional free energy minus T log|S^{d−1}|).
#[derive(Debug, Clone)]
pub struct IsotropicField {
    kernel: IsotropicKernel,
    r: Vec<f64>,
    h: f64,
    /// v(r_m) + λr_m²/2 − T(d − 1) log r_m
    external: Vec<f64>,
    v: Vec<f64>,
    interaction: Arc<RadialInteraction>,
    lambda: f64,
    temperature: f64,
}

impl IsotropicField {
    /// The field of `kernel` with weight decay λ ≥ 0 and temperature T ≥ 0 on `grid`: 1D,
    /// lo = 0, no-flux, at most [`MAX_RADIAL_CELLS`] cells. Tabulates u_d once.
    pub fn new(
        kernel: IsotropicKernel,
        grid: &Grid,
        lambda: f64,
        temperature: f64,
    ) -> Result<Self, PdeError> {
        if grid.dim() != 1 {
            return Err(PdeError::invalid(
                "grid",
                format!("the radial grid is 1D (r), got {} axes", grid.dim()),
            ));
        }
        let ax = &grid.axes[0];
        if ax.lo != 0.0 || ax.boundary != mfl_core::Boundary::NoFlux {
            return Err(PdeError::invalid(
                "grid",
                format!(
                    "the radial grid is [0, r_max] with no-flux walls, got [{}, {}] {:?}",
                    ax.lo, ax.hi, ax.boundary
                ),
            ));
        }
        if ax.n > MAX_RADIAL_CELLS {
            return Err(PdeError::invalid(
                "grid",
                format!(
                    "at most {MAX_RADIAL_CELLS} radial cells (the u_d table is n²), got {}",
                    ax.n
                ),
            ));
        }
        if !(lambda >= 0.0 && temperature >= 0.0) {
            return Err(PdeError::invalid("lambda", "need λ ≥ 0 and T ≥ 0"));
        }
        let r = ax.centres();
        let h = ax.h();
        let dm1 = kernel.dim() as f64 - 1.0;
        let v: Vec<f64> = r.iter().map(|&x| kernel.v(x)).collect();
        let external = r
            .iter()
            .zip(&v)
            .map(|(&x, vx)| vx + 0.5 * lambda * x * x - temperature * dm1 * x.ln())
            .collect();
        let table = kernel.table(&r);
        Ok(IsotropicField {
            kernel,
            r,
            h,
            external,
            v,
            interaction: Arc::new(RadialInteraction { table, h }),
            lambda,
            temperature,
        })
    }

    /// The kernel (v, u_d, P).
    pub fn kernel(&self) -> &IsotropicKernel {
        &self.kernel
    }
    /// The cell centres r_m.
    pub fn radii(&self) -> &[f64] {
        &self.r
    }
    /// The table u_d(r_m, r_l), row-major n × n.
    pub fn table(&self) -> &[f64] {
        &self.interaction.table
    }
    /// v(r_m) on the cells.
    pub fn v(&self) -> &[f64] {
        &self.v
    }
    /// The fixed part v + λr²/2 − T(d − 1) log r of Ψ on the cells.
    pub fn external(&self) -> &[f64] {
        &self.external
    }
    /// R(p) = 1 + 2Σ v_m p_m h + Σ_{m,l} p_m u_ml p_l h².
    pub fn risk(&self, p: &[f64]) -> f64 {
        let mut up = vec![0.0; p.len()];
        self.interaction.apply_into(p, &mut up);
        self.risk_with(p, &up)
    }

    fn risk_with(&self, p: &[f64], up: &[f64]) -> f64 {
        let h = self.h;
        let lin: f64 = self.v.iter().zip(p).map(|(v, q)| v * q).sum::<f64>() * h;
        let quad: f64 = up.iter().zip(p).map(|(u, q)| u * q).sum::<f64>() * h;
        self.kernel.label_second_moment() + 2.0 * lin + quad
    }

    /// The radial law on the cells of `grid` of |w| for w ~ N(0, std² I_d):
    /// p(r) ∝ r^{d−1} e^{−r²/(2 std²)} (a scaled χ_d density) at the cell centres, mass 1.
    pub fn gaussian_radius(grid: &Grid, d: usize, std: f64) -> Result<Vec<f64>, PdeError> {
        if !(std > 0.0 && std.is_finite()) {
            return Err(PdeError::invalid("std", format!("must be > 0, got {std}")));
        }
        let ax = &grid.axes[0];
        let r = ax.centres();
        let logp: Vec<f64> = r
            .iter()
            .map(|&x| (d as f64 - 1.0) * x.ln() - x * x / (2.0 * std * std))
            .collect();
        let mx = logp.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
        let mut p: Vec<f64> = logp.iter().map(|l| (l - mx).exp()).collect();
        let mass: f64 = p.iter().sum::<f64>() * ax.h();
        if !(mass > 0.0 && mass.is_finite()) {
            return Err(PdeError::invalid("std", "no mass on the radial grid"));
        }
        p.iter_mut().for_each(|v| *v /= mass);
        Ok(p)
    }
}

impl PotentialField for IsotropicField {
    fn dim(&self) -> usize {
        1
    }

    /// Ψ_m = v(r_m) + Σ_l u_d(r_m, r_l) p_l h + λr_m²/2 − T(d − 1) log r_m.
    fn potential(&self, rho: &[f64], out: &mut [f64]) {
        self.interaction.apply_into(rho, out);
        for (o, e) in out.iter_mut().zip(&self.external) {
            *o += e;
        }
    }

    /// R and E = ½R + (λ/2)Σ r²p h − T(d − 1)Σ p log r h.
    fn energy(&self, rho: &[f64]) -> Energy {
        let mut up = vec![0.0; rho.len()];
        self.interaction.apply_into(rho, &mut up);
        let risk = self.risk_with(rho, &up);
        let dm1 = self.kernel.dim() as f64 - 1.0;
        let extra: f64 = self
            .r
            .iter()
            .zip(rho)
            .map(|(&x, p)| (0.5 * self.lambda * x * x - self.temperature * dm1 * x.ln()) * p)
            .sum::<f64>()
            * self.h;
        Energy {
            risk: Some(risk),
            energy: 0.5 * risk + extra,
        }
    }

    fn linear_response(&self) -> Option<Arc<dyn LinearResponse>> {
        Some(self.interaction.clone())
    }
}
