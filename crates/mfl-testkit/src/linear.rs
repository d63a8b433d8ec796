//! The linear-unit mean-field problem, the one nonlocal problem with a closed-form solution.
//!
//! Units σ(x; θ) = θ·x (θ = w ∈ R^d, d = 1 or 2), inputs x = Lz with z ~ N(0, I) (so
//! x ~ N(0, C), C = LLᵀ), a noiseless linear teacher y = β·x, squared loss, ridge λ > 0. Then
//! f_ρ(x) = m·x with m the mean of ρ, and
//!
//! Ψ(θ; ρ) = (m − β)ᵀCθ + λ|θ|²/2,   ∇Ψ(θ; ρ) = C(m − β) + λθ — affine in θ.
//!
//! **Continuous time** (the PDE): a Gaussian ρ stays Gaussian with dm/dt = −(C + λI)m + Cβ and
//! dΣ/dt = −2λΣ + 2TI, so
//!
//! m(t) = m∞ + e^{−(C+λI)t}(m₀ − m∞),  m∞ = (C + λI)⁻¹Cβ,
//! Σ(t) = e^{−2λt}Σ₀ + (T/λ)(1 − e^{−2λt}) I.
//!
//! **Discrete time** (Euler–Maruyama with step h, N = ∞): θ′ = (1 − hλ)θ − hC(m − β) + √(2Th) g
//! maps mean and covariance exactly, whatever the shape of the law (no walls within reach):
//!
//! m′ = m − h(C(m − β) + λm),  Σ′ = (1 − hλ)²Σ + 2Th I.
//!
//! Risk and energy: R = (m − β)ᵀC(m − β), E = ½R + (λ/2)(tr Σ + |m|²).
//!
//! A Gauss–Hermite rule with ≥ 2 nodes per axis integrates the quadratic moments of x exactly,
//! so [`LinearUnits::mean_field`] realises this problem up to round-off.

use crate::mat2::{expm_neg_sym2, inv2, matvec2};
use mfl_core::data::{Inputs, Teacher};
use mfl_core::{Activation, Loss, MeanField, Param, Unit};
use ndarray::Array2;

/// The linear-unit problem: input factor L (d × d, C = LLᵀ), teacher β, ridge λ.
#[derive(Debug, Clone)]
pub struct LinearUnits {
    /// L with x = Lz, z ~ N(0, I); C = LLᵀ.
    pub l: Array2<f64>,
    /// The teacher's weights β (y = β·x).
    pub beta: Vec<f64>,
    /// The ridge λ (> 0 for a stationary law).
    pub lambda: f64,
}

impl LinearUnits {
    /// The problem with L, β and λ; d = β.len() must be 1 or 2 and L must be d × d.
    pub fn new(l: Array2<f64>, beta: &[f64], lambda: f64) -> Self {
        let d = beta.len();
        assert!(d == 1 || d == 2, "LinearUnits: d = {d}, only 1 and 2");
        assert_eq!(l.dim(), (d, d), "LinearUnits: L must be d × d");
        Self {
            l,
            beta: beta.to_vec(),
            lambda,
        }
    }

    /// 1D: x ~ N(0, 1) (L = 1), y = βx.
    pub fn standard_1d(beta: f64, lambda: f64) -> Self {
        Self::new(Array2::eye(1), &[beta], lambda)
    }

    /// The input dimension d.
    pub fn dim(&self) -> usize {
        self.beta.len()
    }

    /// The unit θ·x (ridge, linear activation, θ = w).
    pub fn unit(&self) -> Unit {
        Unit::Ridge {
            act: Activation::Linear,
            param: Param::W,
            input_dim: self.dim(),
        }
    }

    /// The population problem on a `nodes`-per-axis Gauss–Hermite rule for z, mapped by L,
    /// labelled by the teacher β·x without noise, squared loss, ridge λ.
    pub fn mean_field(&self, nodes: usize) -> MeanField {
        let d = self.dim();
        let unit = self.unit();
        let teacher = Teacher::new(
            unit.clone(),
            Array2::from_shape_vec((1, d), self.beta.clone()).expect("shape"),
            vec![1.0],
        )
        .expect("teacher");
        let data = Inputs::gauss_hermite(d, nodes)
            .transform(self.l.view())
            .label(&teacher, 0.0)
            .expect("labels");
        MeanField::new(unit, Loss::Squared, data, self.lambda).expect("mean field")
    }

    /// C = LLᵀ, row-major d × d.
    pub fn c(&self) -> Vec<f64> {
        self.l.dot(&self.l.t()).iter().copied().collect()
    }

    /// m∞ = (C + λI)⁻¹Cβ.
    pub fn mean_limit(&self) -> Vec<f64> {
        let c = self.c();
        let cb = self.c_times(&self.beta);
        if self.dim() == 1 {
            vec![cb[0] / (c[0] + self.lambda)]
        } else {
            let cl = [c[0] + self.lambda, c[1], c[2], c[3] + self.lambda];
            matvec2(inv2(cl), [cb[0], cb[1]]).to_vec()
        }
    }

    /// m(t) = m∞ + e^{−(C+λI)t}(m₀ − m∞) (continuous time).
    pub fn mean_at(&self, m0: &[f64], t: f64) -> Vec<f64> {
        let c = self.c();
        let minf = self.mean_limit();
        if self.dim() == 1 {
            vec![minf[0] + (-(c[0] + self.lambda) * t).exp() * (m0[0] - minf[0])]
        } else {
            let cl = [c[0] + self.lambda, c[1], c[2], c[3] + self.lambda];
            let dm = matvec2(expm_neg_sym2(cl, t), [m0[0] - minf[0], m0[1] - minf[1]]);
            vec![minf[0] + dm[0], minf[1] + dm[1]]
        }
    }

    /// Σ(t) = e^{−2λt}Σ₀ + (T/λ)(1 − e^{−2λt})I (continuous time; row-major d × d).
    pub fn cov_at(&self, s0: &[f64], temperature: f64, t: f64) -> Vec<f64> {
        let e = (-2.0 * self.lambda * t).exp();
        let q = temperature / self.lambda * (1.0 - e);
        self.scaled_plus_identity(s0, e, q)
    }

    /// One exact Euler–Maruyama step h of the N = ∞ law:
    /// m′ = m − h(C(m − β) + λm), Σ′ = (1 − hλ)²Σ + 2Th I.
    pub fn em_step(&self, m: &[f64], s: &[f64], temperature: f64, h: f64) -> (Vec<f64>, Vec<f64>) {
        let diff: Vec<f64> = m.iter().zip(&self.beta).map(|(a, b)| a - b).collect();
        let cd = self.c_times(&diff);
        let m_new = m
            .iter()
            .zip(&cd)
            .map(|(mi, ci)| mi - h * (ci + self.lambda * mi))
            .collect();
        let a = 1.0 - h * self.lambda;
        (
            m_new,
            self.scaled_plus_identity(s, a * a, 2.0 * temperature * h),
        )
    }

    /// R(ρ) = (m − β)ᵀC(m − β) for any ρ of mean m.
    pub fn risk(&self, m: &[f64]) -> f64 {
        let diff: Vec<f64> = m.iter().zip(&self.beta).map(|(a, b)| a - b).collect();
        self.c_times(&diff)
            .iter()
            .zip(&diff)
            .map(|(a, b)| a * b)
            .sum()
    }

    /// E(ρ) = ½R + (λ/2)(tr Σ + |m|²) for any ρ of mean m and covariance Σ.
    pub fn energy(&self, m: &[f64], s: &[f64]) -> f64 {
        let d = self.dim();
        let tr: f64 = (0..d).map(|i| s[i * d + i]).sum();
        let m2: f64 = m.iter().map(|x| x * x).sum();
        0.5 * self.risk(m) + 0.5 * self.lambda * (tr + m2)
    }

    fn c_times(&self, v: &[f64]) -> Vec<f64> {
        let c = self.c();
        let d = self.dim();
        (0..d)
            .map(|i| (0..d).map(|j| c[i * d + j] * v[j]).sum())
            .collect()
    }

    /// αS + βI.
    fn scaled_plus_identity(&self, s: &[f64], alpha: f64, beta: f64) -> Vec<f64> {
        let d = self.dim();
        (0..d * d)
            .map(|k| alpha * s[k] + if k % (d + 1) == 0 { beta } else { 0.0 })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuous_law_solves_its_odes_and_em_is_consistent() {
        // the closed forms against the ODEs they solve: central differences of m(t), Σ(t) and
        // one Euler–Maruyama step of size h agree with the derivative to O(h²) / O(h)
        let p = LinearUnits::new(ndarray::array![[1.0, 0.0], [0.5, 0.8]], &[1.0, -0.5], 0.5);
        let (m0, s0, temp, t) = ([-0.5, 0.5], [0.25, 0.1, 0.1, 0.2], 0.3, 0.4);
        let h = 1e-4;
        let m = p.mean_at(&m0, t);
        let s = p.cov_at(&s0, temp, t);
        let (mp, mm) = (p.mean_at(&m0, t + h), p.mean_at(&m0, t - h));
        let (sp, sm) = (p.cov_at(&s0, temp, t + h), p.cov_at(&s0, temp, t - h));
        let (m1, s1) = p.em_step(&m, &s, temp, h);
        for i in 0..2 {
            let dm = (mp[i] - mm[i]) / (2.0 * h);
            assert!((dm - (m1[i] - m[i]) / h).abs() < 1e-3, "mean {i}");
        }
        for k in 0..4 {
            let ds = (sp[k] - sm[k]) / (2.0 * h);
            assert!((ds - (s1[k] - s[k]) / h).abs() < 1e-3, "cov {k}");
        }
        // the limit is a fixed point of the EM map at T = 0 (mean only)
        let minf = p.mean_limit();
        let (mf, _) = p.em_step(&minf, &s0, 0.0, 0.1);
        assert!((mf[0] - minf[0]).abs() < 1e-15 && (mf[1] - minf[1]).abs() < 1e-15);
    }
}
