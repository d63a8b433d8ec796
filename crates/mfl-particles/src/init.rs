//! Initial particle positions θ_i(0), i = 1..N.

use crate::boundary::AxisBoundary;
use crate::error::ParticleError;
use crate::rng::stream_rng;
use mfl_core::{Grid, Law};
use ndarray::Array2;
use rand::rngs::ChaCha8Rng;
use rand::RngExt;
use rayon::prelude::*;

/// Rejection-sampling attempts per particle before giving up (the law has too little mass in
/// the domain).
pub const MAX_REJECTIONS: usize = 100_000;

/// Particles per parallel task when sampling.
const INIT_CHUNK: usize = 1024;

/// How θ_i(0) are drawn.
#[derive(Debug, Clone, PartialEq)]
pub enum Init {
    /// θ_i i.i.d. from ρ₀ conditioned on the domain (resampled until every bounded axis holds
    /// it): the same law as [`Law::on_grid`], which renormalises ρ₀ to the box.
    Law(Law),
    /// θ_i i.i.d. from a piecewise-constant density on a grid: cell m with probability
    /// ρ_m / Σ ρ (uniform cells), found by bisection in the cumulative sums; then uniform inside
    /// the cell. `density` in the grid's row-major cell order, ρ_m ≥ 0 not all 0.
    GridDensity {
        /// The grid (1D or 2D).
        grid: Grid,
        /// ρ_m per cell, row-major.
        density: Vec<f64>,
    },
    /// Given positions (N × D), the same for every seed.
    Positions(Array2<f64>),
}

impl Init {
    /// Dimension D of θ.
    pub fn dim(&self) -> usize {
        match self {
            Init::Law(l) => l.dim(),
            Init::GridDensity { grid, .. } => grid.dim(),
            Init::Positions(p) => p.ncols(),
        }
    }

    /// Check the density (length, sign, finiteness) and the number of given positions.
    pub fn validate(&self, n: usize) -> Result<(), ParticleError> {
        match self {
            Init::Law(_) => Ok(()),
            Init::GridDensity { grid, density } => {
                if density.len() != grid.len() {
                    return Err(ParticleError::invalid(
                        "init.density",
                        format!(
                            "{} values for a grid of {} cells",
                            density.len(),
                            grid.len()
                        ),
                    ));
                }
                if density.iter().any(|v| !(v.is_finite() && *v >= 0.0)) {
                    return Err(ParticleError::invalid(
                        "init.density",
                        "values must be finite and ≥ 0",
                    ));
                }
                if density.iter().sum::<f64>() <= 0.0 {
                    return Err(ParticleError::invalid("init.density", "has no mass"));
                }
                Ok(())
            }
            Init::Positions(p) => {
                if p.nrows() != n {
                    return Err(ParticleError::invalid(
                        "init.positions",
                        format!("{} positions for N = {n} particles", p.nrows()),
                    ));
                }
                if p.iter().any(|v| !v.is_finite()) {
                    return Err(ParticleError::invalid(
                        "init.positions",
                        "non-finite position",
                    ));
                }
                Ok(())
            }
        }
    }

    /// θ(0) for N particles: particle i draws from stream i, slot 0 of `key`
    /// ([`crate::rng`]), so the result does not depend on the number of threads.
    /// Given positions are mapped into the domain by the boundaries.
    pub fn sample(
        &self,
        key: &[u8; 32],
        n: usize,
        bounds: &[AxisBoundary],
    ) -> Result<Array2<f64>, ParticleError> {
        self.validate(n)?;
        let d = self.dim();
        if let Init::Positions(p) = self {
            let mut p = p.as_standard_layout().into_owned();
            for mut row in p.rows_mut() {
                for (t, b) in row.iter_mut().zip(bounds) {
                    *t = b.apply(*t);
                }
            }
            return Ok(p);
        }
        let cdf: Vec<f64> = match self {
            Init::GridDensity { density, .. } => density
                .iter()
                .scan(0.0, |acc, v| {
                    *acc += v;
                    Some(*acc)
                })
                .collect(),
            _ => Vec::new(),
        };
        let mut theta = Array2::zeros((n, d));
        let out = theta.as_slice_mut().expect("standard layout");
        let failed: Vec<Option<usize>> = out
            .par_chunks_mut(INIT_CHUNK * d)
            .enumerate()
            .map(|(c, chunk)| {
                for (j, row) in chunk.chunks_exact_mut(d).enumerate() {
                    let i = c * INIT_CHUNK + j;
                    let mut rng = stream_rng(key, i as u64, 0);
                    let ok = match self {
                        Init::Law(law) => sample_law(law, &mut rng, bounds, row),
                        Init::GridDensity { grid, .. } => {
                            sample_grid(grid, &cdf, &mut rng, row);
                            true
                        }
                        Init::Positions(_) => unreachable!(),
                    };
                    if !ok {
                        return Some(i);
                    }
                }
                None
            })
            .collect();
        if let Some(i) = failed.into_iter().flatten().next() {
            return Err(ParticleError::invalid(
                "init",
                format!(
                    "particle {i}: no sample of the initial law fell inside the domain in \
                     {MAX_REJECTIONS} attempts"
                ),
            ));
        }
        Ok(theta)
    }
}

fn sample_law(law: &Law, rng: &mut ChaCha8Rng, bounds: &[AxisBoundary], out: &mut [f64]) -> bool {
    for _ in 0..MAX_REJECTIONS {
        law.sample(rng, out);
        if out.iter().zip(bounds).all(|(t, b)| b.contains(*t)) {
            return true;
        }
    }
    false
}

fn sample_grid(grid: &Grid, cdf: &[f64], rng: &mut ChaCha8Rng, out: &mut [f64]) {
    let total = *cdf.last().expect("non-empty density");
    let u = rng.random::<f64>() * total;
    // first cell whose cumulative mass exceeds u (it has positive mass); if rounding made
    // u = total, the first cell reaching the total
    let mut m = cdf.partition_point(|&c| c <= u);
    if m == cdf.len() {
        m = cdf.partition_point(|&c| c < total);
    }
    // row-major: m = i0·n1 + i1
    let mut rem = m;
    let mut idx = vec![0usize; grid.dim()];
    for a in (0..grid.dim()).rev() {
        idx[a] = rem % grid.axes[a].n;
        rem /= grid.axes[a].n;
    }
    for (a, ax) in grid.axes.iter().enumerate() {
        let h = ax.h();
        let lo = ax.lo + idx[a] as f64 * h;
        out[a] = (lo + h * rng.random::<f64>()).min(ax.hi);
    }
}
