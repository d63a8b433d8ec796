//! The discrete Ornstein–Uhlenbeck process of Euler–Maruyama with step sizes h_k:
//!
//! θ ← θ − h aθ + √(2Th) g = (1 − ha)θ + √(2Th) g,  g ~ N(0, 1) independent of θ,
//!
//! whose mean and variance follow exactly m ← (1 − ha)m, v ← (1 − ha)²v + 2Th. For a constant
//! step η and |1 − ηa| < 1 the stationary law is N(0, v∞) with
//!
//! v∞ = 2Tη / (1 − (1 − ηa)²) = T / (a(1 − ηa/2)),
//!
//! which differs from the continuous-time T/a at O(ηa) — the discrete law is the reference for a
//! particle scheme, not the SDE's.

/// The variance after the steps `steps` from v₀: v ← (1 − ha)²v + 2Th for each h in turn.
pub fn em_ou_variance(v0: f64, a: f64, temperature: f64, steps: &[f64]) -> f64 {
    steps.iter().fold(v0, |v, &h| {
        let r = 1.0 - h * a;
        r * r * v + 2.0 * temperature * h
    })
}

/// The mean after the steps `steps` from m₀: m ← (1 − ha)m.
pub fn em_ou_mean(m0: f64, a: f64, steps: &[f64]) -> f64 {
    steps.iter().fold(m0, |m, &h| (1.0 - h * a) * m)
}

/// v∞ = 2Tη / (1 − (1 − ηa)²), the stationary variance of constant steps η.
pub fn em_ou_stationary_variance(a: f64, temperature: f64, eta: f64) -> f64 {
    let r = 1.0 - eta * a;
    2.0 * temperature * eta / (1.0 - r * r)
}

/// The variance after k steps of η in closed form: v_k = v∞ + (1 − ηa)^{2k}(v₀ − v∞).
pub fn em_ou_variance_after(v0: f64, a: f64, temperature: f64, eta: f64, k: u32) -> f64 {
    let vinf = em_ou_stationary_variance(a, temperature, eta);
    vinf + (1.0 - eta * a).powi(2 * k as i32) * (v0 - vinf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recursion_closed_form_and_limits_agree() {
        let (a, temp, eta) = (1.0, 0.5, 0.1);
        let v = em_ou_variance(0.01, a, temp, &[eta; 37]);
        let c = em_ou_variance_after(0.01, a, temp, eta, 37);
        assert!((v - c).abs() < 1e-15, "{v} vs {c}");
        let vinf = em_ou_stationary_variance(a, temp, eta);
        assert!((vinf - temp / (a * (1.0 - eta * a / 2.0))).abs() < 1e-15);
        // the stationary variance is a fixed point, and the mean decays geometrically
        assert!((em_ou_variance(vinf, a, temp, &[eta]) - vinf).abs() < 1e-15);
        assert_eq!(em_ou_mean(2.0, a, &[eta, eta]), 2.0 * 0.9 * 0.9);
    }
}
