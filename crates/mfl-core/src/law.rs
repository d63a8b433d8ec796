//! Initial laws ρ₀ shared by grids (as densities) and particles (as samplers).

use crate::error::CoreError;
use crate::grid::Grid;
use rand::RngExt;
use rand_distr::StandardNormal;

/// One Gaussian N(mean, cov) in R^D, with its Cholesky factor.
#[derive(Debug, Clone, PartialEq)]
pub struct Gaussian {
    /// Mean m (length D).
    pub mean: Vec<f64>,
    /// Row-major D × D covariance.
    pub cov: Vec<f64>,
    chol: Vec<f64>,
    log_norm: f64,
    inv: Vec<f64>,
}

impl Gaussian {
    /// N(mean, cov); `cov` row-major D × D, symmetric positive definite.
    pub fn new(mean: Vec<f64>, cov: Vec<f64>) -> Result<Self, CoreError> {
        let d = mean.len();
        if d == 0 || cov.len() != d * d {
            return Err(CoreError::invalid(
                "cov",
                format!("covariance must be {d}×{d} for a mean of length {d}"),
            ));
        }
        for i in 0..d {
            for j in 0..d {
                if (cov[i * d + j] - cov[j * d + i]).abs() > 1e-12 * (1.0 + cov[i * d + j].abs()) {
                    return Err(CoreError::invalid("cov", "covariance must be symmetric"));
                }
            }
        }
        let chol = cholesky(&cov, d)
            .ok_or_else(|| CoreError::invalid("cov", "covariance must be positive definite"))?;
        let logdet: f64 = (0..d).map(|i| 2.0 * chol[i * d + i].ln()).sum();
        let log_norm = -0.5 * (d as f64 * (2.0 * std::f64::consts::PI).ln() + logdet);
        // inverse via the Cholesky factor, column by column
        let mut inv = vec![0.0; d * d];
        for c in 0..d {
            let mut e = vec![0.0; d];
            e[c] = 1.0;
            let y = forward(&chol, d, &e);
            let x = backward(&chol, d, &y);
            for r in 0..d {
                inv[r * d + c] = x[r];
            }
        }
        Ok(Gaussian {
            mean,
            cov,
            chol,
            log_norm,
            inv,
        })
    }

    /// Isotropic N(mean, s² I).
    pub fn isotropic(mean: Vec<f64>, s2: f64) -> Result<Self, CoreError> {
        let d = mean.len();
        let mut cov = vec![0.0; d * d];
        for i in 0..d {
            cov[i * d + i] = s2;
        }
        Gaussian::new(mean, cov)
    }

    /// Dimension D.
    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    /// Density (2π)^{−D/2} |Σ|^{−1/2} exp(−½ (θ − m)ᵀ Σ⁻¹ (θ − m)).
    pub fn pdf(&self, theta: &[f64]) -> f64 {
        let d = self.dim();
        let mut q = 0.0;
        for i in 0..d {
            for j in 0..d {
                q += (theta[i] - self.mean[i]) * self.inv[i * d + j] * (theta[j] - self.mean[j]);
            }
        }
        (self.log_norm - 0.5 * q).exp()
    }

    /// One sample m + L g, g ~ N(0, I).
    pub fn sample<R: rand::Rng + ?Sized>(&self, rng: &mut R, out: &mut [f64]) {
        let d = self.dim();
        let g: Vec<f64> = (0..d)
            .map(|_| rng.sample::<f64, _>(StandardNormal))
            .collect();
        for (i, o) in out.iter_mut().enumerate().take(d) {
            *o = self.mean[i] + (0..=i).map(|j| self.chol[i * d + j] * g[j]).sum::<f64>();
        }
    }
}

/// An initial law ρ₀.
#[derive(Debug, Clone, PartialEq)]
pub enum Law {
    /// N(mean, cov).
    Gaussian(Gaussian),
    /// Uniform on the box Π [lo_i, hi_i].
    Uniform {
        /// Lower corner.
        lo: Vec<f64>,
        /// Upper corner.
        hi: Vec<f64>,
    },
    /// Σ_j p_j N(m_j, Σ_j), p_j ≥ 0 summing to 1.
    Mixture {
        /// Mixture weights p_j.
        weights: Vec<f64>,
        /// The components N(m_j, Σ_j).
        parts: Vec<Gaussian>,
    },
}

impl Law {
    /// Dimension D.
    pub fn dim(&self) -> usize {
        match self {
            Law::Gaussian(g) => g.dim(),
            Law::Uniform { lo, .. } => lo.len(),
            Law::Mixture { parts, .. } => parts[0].dim(),
        }
    }

    /// A validated uniform law.
    pub fn uniform(lo: Vec<f64>, hi: Vec<f64>) -> Result<Self, CoreError> {
        if lo.is_empty() || lo.len() != hi.len() || lo.iter().zip(&hi).any(|(a, b)| !(a < b)) {
            return Err(CoreError::invalid(
                "init",
                "uniform law needs lo < hi on every axis",
            ));
        }
        Ok(Law::Uniform { lo, hi })
    }

    /// A validated mixture: weights ≥ 0, normalised to sum 1, parts of one dimension.
    pub fn mixture(weights: Vec<f64>, parts: Vec<Gaussian>) -> Result<Self, CoreError> {
        if parts.is_empty() || weights.len() != parts.len() {
            return Err(CoreError::invalid(
                "init.weights",
                "one weight per mixture component",
            ));
        }
        let s: f64 = weights.iter().sum();
        if weights.iter().any(|&w| w < 0.0) || !(s > 0.0) {
            return Err(CoreError::invalid(
                "init.weights",
                "weights must be ≥ 0 with a positive sum",
            ));
        }
        if parts.iter().any(|p| p.dim() != parts[0].dim()) {
            return Err(CoreError::invalid(
                "init",
                "mixture components differ in dimension",
            ));
        }
        Ok(Law::Mixture {
            weights: weights.iter().map(|w| w / s).collect(),
            parts,
        })
    }

    /// Density ρ₀(θ).
    pub fn pdf(&self, theta: &[f64]) -> f64 {
        match self {
            Law::Gaussian(g) => g.pdf(theta),
            Law::Uniform { lo, hi } => {
                if theta
                    .iter()
                    .zip(lo.iter().zip(hi))
                    .all(|(t, (a, b))| a <= t && t <= b)
                {
                    1.0 / lo.iter().zip(hi).map(|(a, b)| b - a).product::<f64>()
                } else {
                    0.0
                }
            }
            Law::Mixture { weights, parts } => weights
                .iter()
                .zip(parts)
                .map(|(w, p)| w * p.pdf(theta))
                .sum(),
        }
    }

    /// One sample into `out` (length D).
    pub fn sample<R: rand::Rng + ?Sized>(&self, rng: &mut R, out: &mut [f64]) {
        match self {
            Law::Gaussian(g) => g.sample(rng, out),
            Law::Uniform { lo, hi } => {
                for i in 0..lo.len() {
                    out[i] = lo[i] + (hi[i] - lo[i]) * rng.random::<f64>();
                }
            }
            Law::Mixture { weights, parts } => {
                let u: f64 = rng.random();
                let mut acc = 0.0;
                let mut pick = parts.len() - 1;
                for (j, w) in weights.iter().enumerate() {
                    acc += w;
                    if u < acc {
                        pick = j;
                        break;
                    }
                }
                parts[pick].sample(rng, out)
            }
        }
    }

    /// ρ₀ at the cell centres, rescaled so that Σ_m ρ_m |cell| = 1 (mass inside the box).
    /// Errors if the law puts (numerically) no mass in the box.
    pub fn on_grid(&self, grid: &Grid) -> Result<Vec<f64>, CoreError> {
        if self.dim() != grid.dim() {
            return Err(CoreError::invalid(
                "init",
                format!(
                    "initial law has dimension {}, grid has {}",
                    self.dim(),
                    grid.dim()
                ),
            ));
        }
        let c = grid.centres();
        let mut rho: Vec<f64> = c
            .rows()
            .into_iter()
            .map(|r| self.pdf(r.as_slice().expect("contiguous")))
            .collect();
        let mass: f64 = rho.iter().sum::<f64>() * grid.cell_volume();
        if !(mass > 1e-300) {
            return Err(CoreError::invalid(
                "init",
                "the initial law puts no mass on the grid's cell centres",
            ));
        }
        rho.iter_mut().for_each(|v| *v /= mass);
        Ok(rho)
    }
}

/// Lower Cholesky factor of a row-major d × d SPD matrix, or None.
pub fn cholesky(a: &[f64], d: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..=i {
            let s: f64 = a[i * d + j] - (0..j).map(|k| l[i * d + k] * l[j * d + k]).sum::<f64>();
            if i == j {
                if !(s > 0.0) {
                    return None;
                }
                l[i * d + i] = s.sqrt();
            } else {
                l[i * d + j] = s / l[j * d + j];
            }
        }
    }
    Some(l)
}

fn forward(l: &[f64], d: usize, b: &[f64]) -> Vec<f64> {
    let mut y = vec![0.0; d];
    for i in 0..d {
        y[i] = (b[i] - (0..i).map(|j| l[i * d + j] * y[j]).sum::<f64>()) / l[i * d + i];
    }
    y
}

fn backward(l: &[f64], d: usize, y: &[f64]) -> Vec<f64> {
    let mut x = vec![0.0; d];
    for i in (0..d).rev() {
        x[i] = (y[i] - (i + 1..d).map(|j| l[j * d + i] * x[j]).sum::<f64>()) / l[i * d + i];
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::{Axis, Boundary};
    use rand::SeedableRng;

    #[test]
    fn gaussian_on_grid_has_unit_mass_and_right_moments() {
        let g = Gaussian::new(vec![0.5, -0.2], vec![0.5, 0.2, 0.2, 0.3]).unwrap();
        let grid = Grid::new(vec![
            Axis::new(-5.0, 6.0, 220, Boundary::NoFlux).unwrap(),
            Axis::new(-5.0, 5.0, 200, Boundary::NoFlux).unwrap(),
        ])
        .unwrap();
        let rho = Law::Gaussian(g.clone()).on_grid(&grid).unwrap();
        let c = grid.centres();
        let v = grid.cell_volume();
        let m0: f64 = rho.iter().zip(c.rows()).map(|(p, r)| p * r[0] * v).sum();
        let c01: f64 = rho
            .iter()
            .zip(c.rows())
            .map(|(p, r)| p * (r[0] - 0.5) * (r[1] + 0.2) * v)
            .sum();
        assert!((m0 - 0.5).abs() < 1e-10);
        // midpoint rule on a smooth density: O(h²) = (0.05)²·Σ/12 scale
        assert!((c01 - 0.2).abs() < 1e-3);
    }

    #[test]
    fn samples_have_the_covariance() {
        let g = Gaussian::new(vec![1.0, 0.0], vec![2.0, 0.6, 0.6, 0.5]).unwrap();
        let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(7);
        let n = 200_000;
        let mut s = [0.0; 2];
        let (mut c01, mut c11) = (0.0, 0.0);
        for _ in 0..n {
            g.sample(&mut rng, &mut s);
            c01 += (s[0] - 1.0) * s[1];
            c11 += s[1] * s[1];
        }
        // standard error of a sample covariance ~ sqrt((Σ00Σ11 + Σ01²)/n) ≈ 2.5e-3
        assert!((c01 / n as f64 - 0.6).abs() < 4.0 * 2.6e-3);
        assert!((c11 / n as f64 - 0.5).abs() < 4.0 * 1.6e-3);
    }

    #[test]
    fn bad_covariances_are_rejected() {
        assert!(Gaussian::new(vec![0.0, 0.0], vec![1.0, 2.0, 2.0, 1.0]).is_err());
        assert!(Gaussian::new(vec![0.0, 0.0], vec![1.0, 0.1, 0.2, 1.0]).is_err());
        assert!(Gaussian::new(vec![0.0], vec![1.0, 0.0]).is_err());
    }
}
