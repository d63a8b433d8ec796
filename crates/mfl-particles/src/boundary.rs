//! What happens to a particle at the ends of each θ-axis.
//!
//! Matches [`mfl_core::grid::Boundary`]: no-flux walls ↔ reflection, periodic ↔ wrapping, so a
//! particle cloud lives on the same domain as the grid density it is compared with.

use crate::error::ParticleError;
use mfl_core::{Boundary, Grid, Unit, TORUS_PERIOD};

/// The boundary of one θ-axis.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum AxisBoundary {
    /// Unconfined: θ ∈ R.
    #[default]
    Free,
    /// No-flux walls at lo and hi: a particle that leaves [lo, hi] is mirrored back, repeatedly
    /// until it is inside. Closed form: u = (θ − lo) mod 2L, θ ← lo + min(u, 2L − u), L = hi − lo.
    Reflect {
        /// Lower wall.
        lo: f64,
        /// Upper wall.
        hi: f64,
    },
    /// θ identified with θ + L, L = hi − lo: θ ← lo + ((θ − lo) mod L) ∈ [lo, hi).
    Periodic {
        /// Start of the period.
        lo: f64,
        /// End of the period (identified with lo).
        hi: f64,
    },
}

impl AxisBoundary {
    /// Map θ back into the domain. Points already inside are returned unchanged (bit for bit).
    #[inline]
    pub fn apply(&self, t: f64) -> f64 {
        match *self {
            AxisBoundary::Free => t,
            AxisBoundary::Reflect { lo, hi } => {
                if (lo..=hi).contains(&t) || !t.is_finite() {
                    return t;
                }
                let l = hi - lo;
                let u = (t - lo).rem_euclid(2.0 * l);
                let v = if u > l { 2.0 * l - u } else { u };
                (lo + v).clamp(lo, hi)
            }
            AxisBoundary::Periodic { lo, hi } => {
                if (t >= lo && t < hi) || !t.is_finite() {
                    return t;
                }
                let l = hi - lo;
                let v = lo + (t - lo).rem_euclid(l);
                // rem_euclid may round up to L for tiny negative offsets
                if v >= hi {
                    lo
                } else {
                    v
                }
            }
        }
    }

    /// Whether θ lies in the domain (always, on a free axis).
    #[inline]
    pub fn contains(&self, t: f64) -> bool {
        match *self {
            AxisBoundary::Free => true,
            AxisBoundary::Reflect { lo, hi } => (lo..=hi).contains(&t),
            AxisBoundary::Periodic { lo, hi } => t >= lo && t < hi,
        }
    }

    /// Check lo < hi, both finite.
    pub fn validate(&self, axis: usize) -> Result<(), ParticleError> {
        match *self {
            AxisBoundary::Free => Ok(()),
            AxisBoundary::Reflect { lo, hi } | AxisBoundary::Periodic { lo, hi } => {
                if lo.is_finite() && hi.is_finite() && lo < hi {
                    Ok(())
                } else {
                    Err(ParticleError::invalid(
                        format!("boundaries[{axis}]"),
                        format!("need finite lo < hi, got [{lo}, {hi}]"),
                    ))
                }
            }
        }
    }

    /// The boundaries of a grid: no-flux axis ↦ `Reflect{lo, hi}`, periodic ↦ `Periodic{lo, hi}`.
    pub fn from_grid(grid: &Grid) -> Vec<AxisBoundary> {
        grid.axes
            .iter()
            .map(|a| match a.boundary {
                Boundary::NoFlux => AxisBoundary::Reflect { lo: a.lo, hi: a.hi },
                Boundary::Periodic => AxisBoundary::Periodic { lo: a.lo, hi: a.hi },
            })
            .collect()
    }

    /// The natural domain of a unit: `Periodic{0, 2π}` on every axis that is a position on the
    /// torus ([`Unit::axis_is_periodic`]), `Free` elsewhere.
    pub fn natural(unit: &Unit) -> Vec<AxisBoundary> {
        (0..unit.theta_dim())
            .map(|a| {
                if unit.axis_is_periodic(a) {
                    AxisBoundary::Periodic {
                        lo: 0.0,
                        hi: TORUS_PERIOD,
                    }
                } else {
                    AxisBoundary::Free
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reflection_mirrors_repeatedly() {
        let b = AxisBoundary::Reflect { lo: -1.0, hi: 2.0 };
        assert_eq!(b.apply(0.5), 0.5);
        assert!((b.apply(-1.25) - (-0.75)).abs() < 1e-15);
        assert!((b.apply(2.5) - 1.5).abs() < 1e-15);
        // 2.5 + 2L = 8.5 folds to 1.5; −1.25 − 2L folds to −0.75; 3.5 = hi + 1.5 → 0.5
        assert!((b.apply(8.5) - 1.5).abs() < 1e-14);
        assert!((b.apply(-7.25) - (-0.75)).abs() < 1e-14);
        assert!((b.apply(3.5) - 0.5).abs() < 1e-15);
        // hi + L lands on lo
        assert!((b.apply(5.0) - (-1.0)).abs() < 1e-15);
    }

    #[test]
    fn wrapping_is_modular() {
        let b = AxisBoundary::Periodic { lo: 0.0, hi: 1.0 };
        assert_eq!(b.apply(0.25), 0.25);
        assert!((b.apply(3.25) - 0.25).abs() < 1e-15);
        assert!((b.apply(-0.25) - 0.75).abs() < 1e-15);
        assert_eq!(b.apply(1.0), 0.0);
        assert!(b.contains(b.apply(-1e-18)));
    }
}
