//! Weighted (x, y) point sets: population quadratures and finite samples.
//!
//! Every expectation over data is E[g(x, y)] ≈ Σ_k w_k g(x_k, y_k). A population is a quadrature
//! rule (weights summing to 1, or to the interval length for the Lebesgue measure); a finite data
//! set of n samples has weights 1/n.

use crate::error::CoreError;
use crate::quadrature::{composite_legendre, gauss_hermite, gauss_legendre};
use crate::unit::Unit;
use crate::TORUS_PERIOD;
use ndarray::{Array1, Array2, ArrayView2};
use rand::{RngExt, SeedableRng};
use rand_distr::StandardNormal;

/// A weighted point set in (x, y)-space, plus the variance of independent label noise
/// (which adds `noise_var` to the squared risk and nothing to f or Ψ).
#[derive(Debug, Clone, PartialEq)]
pub struct Data {
    /// K × d inputs.
    pub x: Array2<f64>,
    /// K labels.
    pub y: Array1<f64>,
    /// K weights.
    pub w: Array1<f64>,
    /// Variance s² of Gaussian label noise y + ε, ε ~ N(0, s²), integrated exactly.
    pub noise_var: f64,
}

/// A weighted set of inputs (a quadrature rule or samples) before labels are attached.
#[derive(Debug, Clone, PartialEq)]
pub struct Inputs {
    /// Inputs x_k, one row per point (K × d).
    pub x: Array2<f64>,
    /// Weights w_k ≥ 0 of the points.
    pub w: Array1<f64>,
}

/// y(x) = Σ_j c_j σ_t(x; θ_j): a teacher network whose unit may differ from the student's.
#[derive(Debug, Clone, PartialEq)]
pub struct Teacher {
    /// The teacher's unit σ_t(x; θ_j).
    pub unit: Unit,
    /// J × D_t teacher parameters.
    pub theta: Array2<f64>,
    /// J output weights c_j.
    pub coeffs: Vec<f64>,
}

impl Teacher {
    /// A validated teacher: one coefficient per neuron, parameters of the unit's dimension.
    pub fn new(unit: Unit, theta: Array2<f64>, coeffs: Vec<f64>) -> Result<Self, CoreError> {
        unit.validate()?;
        if theta.ncols() != unit.theta_dim() {
            return Err(CoreError::invalid(
                "teacher.theta",
                format!(
                    "each teacher neuron needs {} parameters for this unit, got {}",
                    unit.theta_dim(),
                    theta.ncols()
                ),
            ));
        }
        if theta.nrows() != coeffs.len() {
            return Err(CoreError::invalid(
                "teacher.coeffs",
                format!(
                    "{} coefficients for {} neurons",
                    coeffs.len(),
                    theta.nrows()
                ),
            ));
        }
        Ok(Teacher {
            unit,
            theta,
            coeffs,
        })
    }

    /// y(x).
    pub fn label(&self, x: &[f64]) -> f64 {
        self.theta
            .rows()
            .into_iter()
            .zip(&self.coeffs)
            .map(|(t, c)| c * self.unit.value(x, t.as_slice().expect("contiguous")))
            .sum()
    }
}

impl Inputs {
    /// Input dimension d.
    pub fn dim(&self) -> usize {
        self.x.ncols()
    }

    /// Tensor product of a 1D rule (nodes, weights) in d dimensions.
    pub fn tensor(nodes: &[f64], weights: &[f64], d: usize) -> Self {
        let k = nodes.len();
        let total = k.pow(d as u32);
        let mut x = Array2::zeros((total, d));
        let mut w = Array1::zeros(total);
        for idx in 0..total {
            let mut rem = idx;
            let mut wt = 1.0;
            for a in (0..d).rev() {
                x[[idx, a]] = nodes[rem % k];
                wt *= weights[rem % k];
                rem /= k;
            }
            w[idx] = wt;
        }
        Inputs { x, w }
    }

    /// N(0, I_d) by the K-node Gauss–Hermite rule per axis (K^d nodes).
    pub fn gauss_hermite(d: usize, k: usize) -> Self {
        let (n, w) = gauss_hermite(k);
        Inputs::tensor(&n, &w, d)
    }

    /// N(0, I_d) by composite Gauss–Legendre on [−L, L] per axis with the normal density folded
    /// into the weights (the mass beyond L, 2Φ(−L) per axis, is dropped).
    pub fn gauss_legendre(d: usize, panels: usize, per_panel: usize, truncate: f64) -> Self {
        let (n, w) = composite_legendre(panels, per_panel, -truncate, truncate);
        let c = 1.0 / (2.0 * std::f64::consts::PI).sqrt();
        let w: Vec<f64> = n
            .iter()
            .zip(&w)
            .map(|(x, wi)| wi * c * (-0.5 * x * x).exp())
            .collect();
        Inputs::tensor(&n, &w, d)
    }

    /// Uniform law on the torus [0, 2π)^d by n equispaced nodes per axis (exact for
    /// trigonometric polynomials of degree < n).
    pub fn torus(d: usize, n: usize) -> Self {
        let h = TORUS_PERIOD / n as f64;
        let nodes: Vec<f64> = (0..n).map(|i| i as f64 * h).collect();
        let w = vec![1.0 / n as f64; n];
        Inputs::tensor(&nodes, &w, d)
    }

    /// [lo, hi]^d by K-node Gauss–Legendre per axis: the uniform law (weights sum to 1), or the
    /// Lebesgue measure (weights sum to (hi − lo)^d) when `lebesgue`.
    pub fn interval(d: usize, k: usize, lo: f64, hi: f64, lebesgue: bool) -> Self {
        let (n, mut w) = gauss_legendre(k, lo, hi);
        if !lebesgue {
            w.iter_mut().for_each(|v| *v /= hi - lo);
        }
        Inputs::tensor(&n, &w, d)
    }

    /// x ↦ L x for every node (Gaussian inputs of covariance L Lᵀ).
    pub fn transform(mut self, l: ArrayView2<f64>) -> Self {
        self.x = self.x.dot(&l.t());
        self
    }

    /// n i.i.d. samples of N(0, I_d), weights 1/n, from the given seed.
    pub fn gaussian_samples(d: usize, n: usize, seed: u64) -> Self {
        let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(seed);
        let x = Array2::from_shape_fn((n, d), |_| rng.sample::<f64, _>(StandardNormal));
        Inputs {
            x,
            w: Array1::from_elem(n, 1.0 / n as f64),
        }
    }

    /// Attach labels y = teacher(x).
    pub fn label(self, teacher: &Teacher, noise_var: f64) -> Result<Data, CoreError> {
        if teacher.unit.input_dim() != self.dim() {
            return Err(CoreError::invalid(
                "teacher",
                format!(
                    "teacher takes inputs of dimension {}, data has dimension {}",
                    teacher.unit.input_dim(),
                    self.dim()
                ),
            ));
        }
        let y = self
            .x
            .rows()
            .into_iter()
            .map(|r| teacher.label(r.as_slice().expect("contiguous")))
            .collect();
        Data::new(self.x, y, self.w, noise_var)
    }
}

impl Data {
    /// A validated data set: matching lengths, finite values, non-negative weights.
    pub fn new(
        x: Array2<f64>,
        y: Array1<f64>,
        w: Array1<f64>,
        noise_var: f64,
    ) -> Result<Self, CoreError> {
        if x.nrows() == 0 {
            return Err(CoreError::invalid("data", "no data points"));
        }
        if x.nrows() != y.len() || y.len() != w.len() {
            return Err(CoreError::invalid(
                "data",
                format!(
                    "{} inputs, {} labels, {} weights",
                    x.nrows(),
                    y.len(),
                    w.len()
                ),
            ));
        }
        if x.iter()
            .chain(y.iter())
            .chain(w.iter())
            .any(|v| !v.is_finite())
        {
            return Err(CoreError::invalid("data", "non-finite value"));
        }
        if w.iter().any(|&v| v < 0.0) {
            return Err(CoreError::invalid("data", "negative weight"));
        }
        if !(noise_var >= 0.0 && noise_var.is_finite()) {
            return Err(CoreError::invalid(
                "noise",
                "label noise variance must be ≥ 0",
            ));
        }
        Ok(Data { x, y, w, noise_var })
    }

    /// A finite data set of n points with weights 1/n.
    pub fn samples(x: Array2<f64>, y: Array1<f64>) -> Result<Self, CoreError> {
        let n = y.len().max(1);
        Data::new(x, y, Array1::from_elem(n, 1.0 / n as f64), 0.0)
    }

    /// Mei–Montanari–Nguyen's two classes: y = ±1 with probability ½ each and
    /// x | y ~ N(0, (1 + yΔ)² I_d), each class by the given rule for N(0, I_d).
    pub fn two_class(standard: &Inputs, delta: f64) -> Result<Self, CoreError> {
        if !(delta.abs() < 1.0) {
            return Err(CoreError::invalid(
                "delta",
                "need |Δ| < 1 so that both scales 1 ± Δ are positive",
            ));
        }
        let k = standard.x.nrows();
        let d = standard.dim();
        let mut x = Array2::zeros((2 * k, d));
        let mut y = Array1::zeros(2 * k);
        let mut w = Array1::zeros(2 * k);
        for (c, label) in [(0usize, 1.0f64), (1, -1.0)] {
            let s = 1.0 + label * delta;
            for i in 0..k {
                let r = c * k + i;
                for j in 0..d {
                    x[[r, j]] = s * standard.x[[i, j]];
                }
                y[r] = label;
                w[r] = 0.5 * standard.w[i];
            }
        }
        Data::new(x, y, w, 0.0)
    }

    /// n samples of the two-class model, from the given seed.
    pub fn two_class_samples(d: usize, delta: f64, n: usize, seed: u64) -> Result<Self, CoreError> {
        let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(seed);
        let mut x = Array2::zeros((n, d));
        let mut y = Array1::zeros(n);
        for i in 0..n {
            let label = if rng.random::<bool>() { 1.0 } else { -1.0 };
            y[i] = label;
            for j in 0..d {
                x[[i, j]] = (1.0 + label * delta) * rng.sample::<f64, _>(StandardNormal);
            }
        }
        Data::samples(x, y)
    }

    /// Number of points K.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// Whether there are no points (never true for a validated set).
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// Input dimension d.
    pub fn dim(&self) -> usize {
        self.x.ncols()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_dimensional_hermite_integrates_products() {
        let q = Inputs::gauss_hermite(2, 6);
        // E[x0² x1⁴] = 1·3
        let v: f64 =
            q.x.rows()
                .into_iter()
                .zip(q.w.iter())
                .map(|(r, w)| w * r[0].powi(2) * r[1].powi(4))
                .sum();
        assert!((v - 3.0).abs() < 1e-13);
    }

    #[test]
    fn legendre_gaussian_matches_hermite_for_smooth_integrands() {
        let a = Inputs::gauss_legendre(1, 40, 8, 9.0);
        let b = Inputs::gauss_hermite(1, 60);
        let f = |q: &Inputs| -> f64 {
            q.x.column(0)
                .iter()
                .zip(q.w.iter())
                .map(|(x, w)| w * (1.3 * x).cos())
                .sum()
        };
        let exact = (-0.5f64 * 1.69).exp();
        assert!((f(&a) - exact).abs() < 1e-13);
        assert!((f(&b) - exact).abs() < 1e-13);
    }

    #[test]
    fn teacher_of_wrong_dimension_is_rejected() {
        let unit = Unit::Ridge {
            act: crate::Activation::Tanh,
            param: crate::Param::W,
            input_dim: 2,
        };
        assert!(Teacher::new(unit.clone(), Array2::zeros((2, 1)), vec![1.0, 1.0]).is_err());
        let t = Teacher::new(unit, Array2::zeros((2, 2)), vec![1.0, 1.0]).unwrap();
        assert!(Inputs::gauss_hermite(1, 4).label(&t, 0.0).is_err());
    }
}
