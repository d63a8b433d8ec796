//! Ornstein–Uhlenbeck: ∂_tρ = ∇·(ρ∇V) + TΔρ with the fixed potential V(θ) = ½θᵀAθ (A symmetric
//! positive definite). From a Gaussian start N(m₀, Σ₀) the law stays Gaussian with
//!
//! m(t) = e^{−At}m₀,   Σ(t) = e^{−At}Σ₀e^{−At} + T A⁻¹(I − e^{−2At}),
//!
//! (A and e^{−At} commute), and the stationary law is N(0, T A⁻¹).

use crate::mat2::{expm_neg_sym2, inv2, matvec2, mul2};

/// OU in 1D: V(θ) = ½aθ², a > 0, temperature T.
#[derive(Debug, Clone, Copy)]
pub struct Ou1 {
    /// The stiffness a.
    pub a: f64,
    /// The temperature T.
    pub temperature: f64,
}

impl Ou1 {
    /// V(θ) = ½aθ².
    pub fn potential(&self, x: &[f64]) -> f64 {
        0.5 * self.a * x[0] * x[0]
    }

    /// (m(t), σ²(t)) from N(m₀, s₀): m(t) = e^{−at}m₀, σ²(t) = e^{−2at}s₀ + (T/a)(1 − e^{−2at}).
    pub fn law_at(&self, m0: f64, s0: f64, t: f64) -> (f64, f64) {
        let e2 = (-2.0 * self.a * t).exp();
        (
            m0 * (-self.a * t).exp(),
            s0 * e2 + self.temperature / self.a * (1.0 - e2),
        )
    }

    /// The stationary variance T/a.
    pub fn stationary_variance(&self) -> f64 {
        self.temperature / self.a
    }
}

/// OU in 2D: V(θ) = ½θᵀAθ with A = [[a00, a01], [a01, a11]] row-major (anisotropic and
/// non-diagonal allowed), temperature T.
#[derive(Debug, Clone, Copy)]
pub struct Ou2 {
    /// The symmetric positive definite matrix A, row-major.
    pub a: [f64; 4],
    /// The temperature T.
    pub temperature: f64,
}

impl Ou2 {
    /// V(θ) = ½(a00θ₀² + 2a01θ₀θ₁ + a11θ₁²).
    pub fn potential(&self, x: &[f64]) -> f64 {
        let a = self.a;
        0.5 * (a[0] * x[0] * x[0] + 2.0 * a[1] * x[0] * x[1] + a[3] * x[1] * x[1])
    }

    /// (m(t), Σ(t)) from N(m₀, Σ₀): m(t) = e^{−At}m₀,
    /// Σ(t) = e^{−At}Σ₀e^{−At} + T A⁻¹(I − e^{−2At}).
    pub fn law_at(&self, m0: [f64; 2], s0: [f64; 4], t: f64) -> ([f64; 2], [f64; 4]) {
        let e = expm_neg_sym2(self.a, t);
        let e2 = mul2(e, e);
        let esd = mul2(mul2(e, s0), e);
        let stat = mul2(inv2(self.a), [1.0 - e2[0], -e2[1], -e2[2], 1.0 - e2[3]]);
        let mut s = [0.0; 4];
        for i in 0..4 {
            s[i] = esd[i] + self.temperature * stat[i];
        }
        (matvec2(e, m0), s)
    }
}
