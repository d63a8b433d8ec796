//! Convex losses ℓ(y, ŷ) and their derivatives ∂_ŷ ℓ.

use crate::activation::sigmoid;
use crate::error::CoreError;

/// A convex loss in its second argument. The potential uses ½ ∂_ŷ ℓ (DESIGN.md §1).
pub trait ConvexLoss: Sync {
    /// ℓ(y, ŷ).
    fn value(&self, y: f64, yhat: f64) -> f64;
    /// ∂_ŷ ℓ(y, ŷ).
    fn deriv(&self, y: f64, yhat: f64) -> f64;
    /// ∂²_ŷ ℓ(y, ŷ): the curvature that linearises Ψ in ρ (δΨ\[ν\] = ½ E[∂²ℓ · f_ν σ]).
    fn second_deriv(&self, y: f64, yhat: f64) -> f64;
}

/// The losses mfl ships.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loss {
    /// ℓ = (y − ŷ)², ∂ℓ = 2(ŷ − y), ∂²ℓ = 2
    Squared,
    /// ℓ = log(1 + e^{−yŷ}) for labels y = ±1, ∂ℓ = −y σ(−yŷ), ∂²ℓ = σ(yŷ) σ(−yŷ)
    Logistic,
}

impl Loss {
    /// Parse `squared` or `logistic`.
    pub fn parse(name: &str) -> Result<Self, CoreError> {
        match name {
            "squared" => Ok(Loss::Squared),
            "logistic" => Ok(Loss::Logistic),
            other => Err(CoreError::invalid(
                "loss",
                format!("unknown loss '{other}'; valid: squared, logistic"),
            )),
        }
    }
}

impl ConvexLoss for Loss {
    #[inline]
    fn value(&self, y: f64, yhat: f64) -> f64 {
        match self {
            Loss::Squared => (y - yhat) * (y - yhat),
            Loss::Logistic => crate::activation::softplus(-y * yhat),
        }
    }

    #[inline]
    fn deriv(&self, y: f64, yhat: f64) -> f64 {
        match self {
            Loss::Squared => 2.0 * (yhat - y),
            Loss::Logistic => -y * sigmoid(-y * yhat),
        }
    }

    #[inline]
    fn second_deriv(&self, y: f64, yhat: f64) -> f64 {
        match self {
            Loss::Squared => 2.0,
            // y² = 1 for labels ±1
            Loss::Logistic => sigmoid(y * yhat) * sigmoid(-y * yhat),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivative_matches_finite_difference() {
        for l in [Loss::Squared, Loss::Logistic] {
            for &(y, yh) in &[(1.0, 0.3), (-1.0, 2.0), (1.0, -40.0)] {
                let e = 1e-6;
                let fd = (l.value(y, yh + e) - l.value(y, yh - e)) / (2.0 * e);
                // round-off of the difference quotient ~ ε_mach |ℓ| / e
                let tol = 1e-8 + 4.0 * f64::EPSILON * l.value(y, yh).abs() / e;
                assert!((fd - l.deriv(y, yh)).abs() < tol);
                let fd2 = (l.deriv(y, yh + e) - l.deriv(y, yh - e)) / (2.0 * e);
                // truncation |ℓ''''| e²/6 ≤ e² for both losses, round-off as above
                let tol2 = e * e + 4.0 * f64::EPSILON * l.deriv(y, yh).abs().max(1.0) / e;
                assert!((fd2 - l.second_deriv(y, yh)).abs() < tol2);
            }
        }
    }
}
