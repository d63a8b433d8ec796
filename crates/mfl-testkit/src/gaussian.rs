//! Gaussian densities N(m, S) in 1D and 2D.

use crate::mat2::inv2;
use mfl_core::Grid;

/// The density of N(m, S) at x: 1D, `s = [σ²]`: e^{−(x−m)²/(2σ²)}/√(2πσ²); 2D, `s` the
/// row-major covariance: e^{−½(x−m)ᵀS⁻¹(x−m)}/(2π√det S).
pub fn gauss_pdf(m: &[f64], s: &[f64], x: &[f64]) -> f64 {
    match m.len() {
        1 => {
            let z = x[0] - m[0];
            (-0.5 * z * z / s[0]).exp() / (2.0 * std::f64::consts::PI * s[0]).sqrt()
        }
        2 => {
            let det = s[0] * s[3] - s[1] * s[2];
            let inv = inv2([s[0], s[1], s[2], s[3]]);
            let z = [x[0] - m[0], x[1] - m[1]];
            let q = z[0] * (inv[0] * z[0] + inv[1] * z[1]) + z[1] * (inv[2] * z[0] + inv[3] * z[1]);
            (-0.5 * q).exp() / (2.0 * std::f64::consts::PI * det.sqrt())
        }
        d => panic!("gauss_pdf: dimension {d}, only 1 and 2"),
    }
}

/// [`gauss_pdf`] at every cell centre of `grid` (row-major cell order, not renormalised: the
/// pointwise exact density, whose midpoint-rule mass is 1 − O(h²) − tails).
pub fn gaussian_at_centres(grid: &Grid, m: &[f64], s: &[f64]) -> Vec<f64> {
    grid.centres()
        .rows()
        .into_iter()
        .map(|c| gauss_pdf(m, s, c.as_slice().expect("contiguous")))
        .collect()
}
