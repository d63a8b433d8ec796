//! Minibatch samplers: a fresh batch of B (x, y) samples, each of weight 1/B, per step.

use crate::error::ParticleError;
use mfl_core::data::{Inputs, Teacher};
use mfl_core::Data;
use ndarray::{Array1, Array2};
use rand::rngs::ChaCha8Rng;
use rand::{Rng, RngExt};
use rand_distr::StandardNormal;

/// A law of (x, y) to draw minibatches from. Draws must depend on `rng` only (never on global
/// state), so that a run is reproducible.
pub trait DataSampler: Send + Sync + std::fmt::Debug {
    /// Input dimension d.
    fn dim(&self) -> usize;
    /// Size n of the underlying finite data set, if the law is the empirical law of one
    /// (a batch may not exceed it).
    fn size(&self) -> Option<usize> {
        None
    }
    /// B samples with weights 1/B.
    fn sample(&self, rng: &mut ChaCha8Rng, b: usize) -> Result<Data, ParticleError>;
    /// The finite data set whose weighted sums are the exact conditional means of a batch's
    /// sums (E[Σ_b (1/B) g(x_b, y_b)] = Σ_k w_k g(x_k, y_k)), if there is one. None for laws
    /// without a finite support (their mean is an integral no quadrature equals exactly).
    fn mean_data(&self) -> Option<&Data> {
        None
    }
}

/// x ~ N(0, I_d), y = teacher(x) + s ε, ε ~ N(0, 1). The inputs come from
/// [`Inputs::gaussian_samples`] seeded by one draw of `rng`; the noise is then drawn from `rng`.
#[derive(Debug, Clone, PartialEq)]
pub struct TeacherSampler {
    /// y(x) = Σ_j c_j σ_t(x; θ_j).
    pub teacher: Teacher,
    /// Label-noise standard deviation s ≥ 0.
    pub noise_sd: f64,
}

impl TeacherSampler {
    /// A sampler for the teacher with label noise of standard deviation `noise_sd` ≥ 0.
    pub fn new(teacher: Teacher, noise_sd: f64) -> Result<Self, ParticleError> {
        if !(noise_sd >= 0.0 && noise_sd.is_finite()) {
            return Err(ParticleError::invalid(
                "noise_sd",
                format!("must be finite and ≥ 0, got {noise_sd}"),
            ));
        }
        Ok(TeacherSampler { teacher, noise_sd })
    }
}

impl DataSampler for TeacherSampler {
    fn dim(&self) -> usize {
        self.teacher.unit.input_dim()
    }

    fn sample(&self, rng: &mut ChaCha8Rng, b: usize) -> Result<Data, ParticleError> {
        let mut data =
            Inputs::gaussian_samples(self.dim(), b, rng.next_u64()).label(&self.teacher, 0.0)?;
        if self.noise_sd > 0.0 {
            for y in data.y.iter_mut() {
                *y += self.noise_sd * rng.sample::<f64, _>(StandardNormal);
            }
        }
        Ok(data)
    }
}

/// Mei–Montanari–Nguyen's two classes: y = ±1 with probability ½, x | y ~ N(0, (1 + yΔ)² I_d);
/// drawn by [`Data::two_class_samples`] seeded by one draw of `rng`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TwoClassSampler {
    /// Input dimension d.
    pub dim: usize,
    /// Δ with |Δ| < 1.
    pub delta: f64,
}

impl TwoClassSampler {
    /// A validated sampler: d ≥ 1, |Δ| < 1.
    pub fn new(dim: usize, delta: f64) -> Result<Self, ParticleError> {
        if dim == 0 {
            return Err(ParticleError::invalid("dim", "must be at least 1"));
        }
        if delta.is_nan() || delta.abs() >= 1.0 {
            return Err(ParticleError::invalid(
                "delta",
                "need |Δ| < 1 so that both scales 1 ± Δ are positive",
            ));
        }
        Ok(TwoClassSampler { dim, delta })
    }
}

impl DataSampler for TwoClassSampler {
    fn dim(&self) -> usize {
        self.dim
    }

    fn sample(&self, rng: &mut ChaCha8Rng, b: usize) -> Result<Data, ParticleError> {
        Ok(Data::two_class_samples(
            self.dim,
            self.delta,
            b,
            rng.next_u64(),
        )?)
    }
}

/// B distinct points of a finite data set of n equally weighted points, uniformly without
/// replacement (`rand::seq::index::sample`); B ≤ n.
#[derive(Debug, Clone, PartialEq)]
pub struct Resample {
    /// The finite data set (equal weights).
    pub data: Data,
}

impl Resample {
    /// A resampler; the data set's weights must be equal (a sample of weights 1/n).
    pub fn new(data: Data) -> Result<Self, ParticleError> {
        let w0 = data.w[0];
        if data
            .w
            .iter()
            .any(|&w| (w - w0).abs() > 1e-12 * w0.abs().max(f64::MIN_POSITIVE))
        {
            return Err(ParticleError::invalid(
                "data",
                "minibatches are drawn uniformly: the data set must have equal weights",
            ));
        }
        Ok(Resample { data })
    }
}

impl DataSampler for Resample {
    fn dim(&self) -> usize {
        self.data.dim()
    }

    fn size(&self) -> Option<usize> {
        Some(self.data.len())
    }

    /// Each point is in a uniform B-subset with probability B/n and has weight 1/B there, so
    /// its expected weight is 1/n = w_k.
    fn mean_data(&self) -> Option<&Data> {
        let n = self.data.len() as f64;
        ((self.data.w[0] * n - 1.0).abs() <= 1e-12).then_some(&self.data)
    }

    fn sample(&self, rng: &mut ChaCha8Rng, b: usize) -> Result<Data, ParticleError> {
        let n = self.data.len();
        if b > n {
            return Err(ParticleError::BatchTooLarge { batch: b, n });
        }
        let idx = rand::seq::index::sample(rng, n, b);
        let d = self.dim();
        let mut x = Array2::zeros((b, d));
        let mut y = Array1::zeros(b);
        for (r, i) in idx.iter().enumerate() {
            x.row_mut(r).assign(&self.data.x.row(i));
            y[r] = self.data.y[i];
        }
        Ok(Data::new(
            x,
            y,
            Array1::from_elem(b, 1.0 / b as f64),
            self.data.noise_var,
        )?)
    }
}
