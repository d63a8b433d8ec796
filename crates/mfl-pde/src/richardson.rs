//! Richardson/Romberg extrapolation in the grid spacing of a quantity computed on grids h, h/2
//! (and h/4), with an error estimate and the observed order.
//!
//! For a scheme of order p the value on the grid h is Q_h = Q + C₁hᵖ + C₂h²ᵖ + …. With
//! r = 2ᵖ:
//!
//! * two levels: Q₁ = (r·Q_{h/2} − Q_h)/(r − 1) removes the hᵖ term;
//! * three levels: Q₁ and Q₁' (the same from h/2, h/4), then Q₂ = (r²Q₁' − Q₁)/(r² − 1) removes
//!   the h²ᵖ term as well;
//! * the error estimate is the estimated error of the value one elimination short of the
//!   extrapolated one — |Q_{h/2} − Q_h|/(r − 1) for Q_{h/2} (two levels), |Q₁' − Q₁|/(r² − 1) for
//!   Q₁' (three levels). It is a conservative bound on the extrapolated value's error (which is of
//!   higher order still) and cannot be sharper without another level;
//! * the observed order (three levels) is log₂(|Q_h − Q_{h/2}| / |Q_{h/2} − Q_{h/4}|), which
//!   should be p when the grids are in the asymptotic range.
//!
//! The SG scheme has p = 2 at T > 0 and p = 1 at T = 0 (first-order upwind).

/// The extrapolation of one quantity at one time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Extrapolated {
    /// The extrapolated value (Q₁ from two levels, Q₂ from three).
    pub value: f64,
    /// The error estimate (see the module documentation).
    pub error_estimate: f64,
    /// The observed order from three levels (None from two, or when a difference is 0).
    pub observed_order: Option<f64>,
}

/// Extrapolate `levels` = [Q_h, Q_{h/2}] or [Q_h, Q_{h/2}, Q_{h/4}] for a scheme of order `p`.
/// Returns None for another number of levels or a non-finite value.
pub fn extrapolate(levels: &[f64], p: f64) -> Option<Extrapolated> {
    if levels.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let r = 2f64.powf(p);
    let once = |coarse: f64, fine: f64| (r * fine - coarse) / (r - 1.0);
    match *levels {
        [a, b] => Some(Extrapolated {
            value: once(a, b),
            error_estimate: (b - a).abs() / (r - 1.0),
            observed_order: None,
        }),
        [a, b, c] => {
            let (q1, q1f) = (once(a, b), once(b, c));
            let r2 = r * r;
            let (d1, d2) = ((a - b).abs(), (b - c).abs());
            Some(Extrapolated {
                value: (r2 * q1f - q1) / (r2 - 1.0),
                error_estimate: (q1f - q1).abs() / (r2 - 1.0),
                observed_order: (d1 > 0.0 && d2 > 0.0).then(|| (d1 / d2).log2()),
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_on_a_polynomial_in_h_squared() {
        // Q_h = 1 + 3h² − 2h⁴: two levels leave the h⁴ term, three remove it
        let q = |h: f64| 1.0 + 3.0 * h * h - 2.0 * h.powi(4);
        let h = 0.1;
        let two = extrapolate(&[q(h), q(h / 2.0)], 2.0).unwrap();
        // Q₁ = 1 − b h⁴/4 with b = −2; the estimate is the error of Q_{h/2} (≈ 3h²/4)
        assert!(
            (two.value - (1.0 + h.powi(4) / 2.0)).abs() < 1e-15,
            "{}",
            two.value
        );
        let err_fine = (q(h / 2.0) - 1.0).abs();
        assert!((two.error_estimate / err_fine - 1.0).abs() < 0.01);
        assert!(two.observed_order.is_none());
        let three = extrapolate(&[q(h), q(h / 2.0), q(h / 4.0)], 2.0).unwrap();
        assert!((three.value - 1.0).abs() < 1e-15, "{}", three.value);
        // Q₂ is exact here; the estimate is the error of Q₁' = 1 + (h/2)⁴/2, exactly
        let q1f = (4.0 * q(h / 4.0) - q(h / 2.0)) / 3.0;
        assert!((three.error_estimate - (q1f - 1.0).abs()).abs() < 1e-15);
        let o = three.observed_order.unwrap();
        assert!((o - 2.0).abs() < 0.05, "{o}");
        assert!(extrapolate(&[1.0], 2.0).is_none());
        assert!(extrapolate(&[1.0, f64::NAN], 2.0).is_none());
    }
}
