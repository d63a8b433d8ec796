//! Weighted point sets in θ-space: μ = Σ_m w_m δ_{θ_m}.
//!
//! A grid density is the set of cell centres with weights ρ_m·|cell|; a particle cloud has
//! weights 1/N. Both are handed to [`crate::functional`] through this one borrowed type.

use ndarray::{ArrayView1, ArrayView2};

/// A borrowed weighted point set: `theta` is M × D, `weight` has length M.
#[derive(Debug, Clone, Copy)]
pub struct Measure<'a> {
    /// Points θ_i, one row each (M × D).
    pub theta: ArrayView2<'a, f64>,
    /// Weights ω_i (Σω_i = 1 for a probability measure).
    pub weight: ArrayView1<'a, f64>,
}

impl<'a> Measure<'a> {
    /// μ = Σ_m weight_m δ_{theta_m}.
    pub fn new(theta: ArrayView2<'a, f64>, weight: ArrayView1<'a, f64>) -> Self {
        assert_eq!(theta.nrows(), weight.len(), "one weight per point");
        Measure { theta, weight }
    }

    /// Number of points M.
    pub fn len(&self) -> usize {
        self.weight.len()
    }

    /// Whether the set has no points.
    pub fn is_empty(&self) -> bool {
        self.weight.is_empty()
    }

    /// Dimension D.
    pub fn dim(&self) -> usize {
        self.theta.ncols()
    }

    /// Total mass Σ_m w_m.
    pub fn mass(&self) -> f64 {
        self.weight.sum()
    }

    /// ∫ |θ|² dμ = Σ_m w_m |θ_m|².
    pub fn second_moment(&self) -> f64 {
        self.theta
            .rows()
            .into_iter()
            .zip(self.weight.iter())
            .map(|(t, w)| w * t.dot(&t))
            .sum()
    }

    /// Mean ∫ θ dμ / ∫ dμ.
    pub fn mean(&self) -> Vec<f64> {
        let mass = self.mass();
        let mut m = vec![0.0; self.dim()];
        for (t, w) in self.theta.rows().into_iter().zip(self.weight.iter()) {
            for (mi, ti) in m.iter_mut().zip(t.iter()) {
                *mi += w * ti;
            }
        }
        m.iter().map(|v| v / mass).collect()
    }

    /// Covariance ∫ (θ − m)(θ − m)ᵀ dμ / ∫ dμ, row-major D × D.
    pub fn covariance(&self) -> Vec<f64> {
        let d = self.dim();
        let mean = self.mean();
        let mass = self.mass();
        let mut c = vec![0.0; d * d];
        for (t, w) in self.theta.rows().into_iter().zip(self.weight.iter()) {
            for i in 0..d {
                for j in 0..d {
                    c[i * d + j] += w * (t[i] - mean[i]) * (t[j] - mean[j]);
                }
            }
        }
        c.iter().map(|v| v / mass).collect()
    }
}
