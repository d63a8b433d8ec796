//! Uniform cell-centred grids in 1D and 2D.
//!
//! Axis `a` covers [lo, hi] with `n` cells of width h = (hi − lo)/n and centres
//! θ_i = lo + (i + ½) h. A 2D grid stores cells in row-major order: m = i0·n1 + i1.

use crate::error::CoreError;
use ndarray::Array2;

/// What happens at the two ends of an axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Boundary {
    /// Reflecting walls: the normal flux vanishes on both ends.
    NoFlux,
    /// The last cell neighbours the first (θ is identified with θ + (hi − lo)).
    Periodic,
}

/// One axis of a grid: `n` cells covering [lo, hi].
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// Lower end of the axis.
    pub lo: f64,
    /// Upper end of the axis (> lo).
    pub hi: f64,
    /// Number of cells n ≥ 1 (spacing h = (hi − lo)/n, centres lo + (i + ½)h).
    pub n: usize,
    /// No-flux walls or periodic.
    pub boundary: Boundary,
}

impl Axis {
    /// A validated axis: lo < hi finite, n ≥ 2, a periodic axis of length 2π.
    pub fn new(lo: f64, hi: f64, n: usize, boundary: Boundary) -> Result<Self, CoreError> {
        if !(lo.is_finite() && hi.is_finite()) {
            return Err(CoreError::invalid("box", "bounds must be finite"));
        }
        if lo >= hi {
            return Err(CoreError::invalid(
                "box",
                format!("empty or inverted interval [{lo}, {hi}]: need lo < hi"),
            ));
        }
        if n < 2 {
            return Err(CoreError::invalid(
                "cells",
                format!("need at least 2 cells, got {n}"),
            ));
        }
        Ok(Axis {
            lo,
            hi,
            n,
            boundary,
        })
    }

    /// Cell width h = (hi − lo)/n.
    pub fn h(&self) -> f64 {
        (self.hi - self.lo) / self.n as f64
    }

    /// Centre of cell i: lo + (i + ½)h.
    pub fn centre(&self, i: usize) -> f64 {
        self.lo + (i as f64 + 0.5) * self.h()
    }

    /// All cell centres.
    pub fn centres(&self) -> Vec<f64> {
        (0..self.n).map(|i| self.centre(i)).collect()
    }

    /// Index of the cell containing t (clamped to the box; wrapped on a periodic axis).
    pub fn cell_of(&self, t: f64) -> usize {
        let u = match self.boundary {
            Boundary::Periodic => (t - self.lo).rem_euclid(self.hi - self.lo),
            Boundary::NoFlux => t - self.lo,
        };
        let i = (u / self.h()).floor();
        if i < 0.0 {
            0
        } else {
            (i as usize).min(self.n - 1)
        }
    }
}

/// A tensor grid of one or two axes.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// One axis per θ-dimension (row-major order: the last axis varies fastest).
    pub axes: Vec<Axis>,
}

impl Grid {
    /// A grid from 1 or 2 axes.
    pub fn new(axes: Vec<Axis>) -> Result<Self, CoreError> {
        if axes.is_empty() || axes.len() > 2 {
            return Err(CoreError::invalid(
                "grid",
                format!("grids have 1 or 2 axes, got {}", axes.len()),
            ));
        }
        Ok(Grid { axes })
    }

    /// A 1D grid.
    pub fn line(lo: f64, hi: f64, n: usize, boundary: Boundary) -> Result<Self, CoreError> {
        Grid::new(vec![Axis::new(lo, hi, n, boundary)?])
    }

    /// Dimension D of θ-space.
    pub fn dim(&self) -> usize {
        self.axes.len()
    }

    /// Number of cells M = Π n_a.
    pub fn len(&self) -> usize {
        self.axes.iter().map(|a| a.n).product()
    }

    /// Always false: a grid has at least two cells.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Shape [n0(, n1)].
    pub fn shape(&self) -> Vec<usize> {
        self.axes.iter().map(|a| a.n).collect()
    }

    /// Cell volume |cell| = Π h_a.
    pub fn cell_volume(&self) -> f64 {
        self.axes.iter().map(Axis::h).product()
    }

    /// Cell centres as an M × D array, row-major cell order.
    pub fn centres(&self) -> Array2<f64> {
        let m = self.len();
        let d = self.dim();
        let mut c = Array2::zeros((m, d));
        let cs: Vec<Vec<f64>> = self.axes.iter().map(Axis::centres).collect();
        for idx in 0..m {
            let mut rem = idx;
            for a in (0..d).rev() {
                let n = self.axes[a].n;
                c[[idx, a]] = cs[a][rem % n];
                rem /= n;
            }
        }
        c
    }

    /// Flat index of the cell containing θ.
    pub fn cell_of(&self, theta: &[f64]) -> usize {
        let mut idx = 0;
        for (a, ax) in self.axes.iter().enumerate() {
            idx = idx * ax.n + ax.cell_of(theta[a]);
        }
        idx
    }

    /// Whether θ lies in the box (periodic axes always contain it).
    pub fn contains(&self, theta: &[f64]) -> bool {
        self.axes
            .iter()
            .zip(theta)
            .all(|(a, &t)| a.boundary == Boundary::Periodic || (a.lo..=a.hi).contains(&t))
    }

    /// Smallest cell width.
    pub fn h_min(&self) -> f64 {
        self.axes.iter().map(Axis::h).fold(f64::INFINITY, f64::min)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn centres_are_row_major() {
        let g = Grid::new(vec![
            Axis::new(0.0, 1.0, 2, Boundary::NoFlux).unwrap(),
            Axis::new(0.0, 3.0, 3, Boundary::NoFlux).unwrap(),
        ])
        .unwrap();
        let c = g.centres();
        assert_eq!(c.shape(), &[6, 2]);
        assert_eq!(c.row(1).to_vec(), vec![0.25, 1.5]);
        assert_eq!(c.row(3).to_vec(), vec![0.75, 0.5]);
        assert_eq!(g.cell_of(&[0.8, 1.2]), 4);
        assert!((g.cell_volume() - 0.5).abs() < 1e-15);
    }

    #[test]
    fn rejects_bad_axes() {
        assert!(Axis::new(1.0, 1.0, 4, Boundary::NoFlux).is_err());
        assert!(Axis::new(2.0, 1.0, 4, Boundary::NoFlux).is_err());
        assert!(Axis::new(0.0, 1.0, 1, Boundary::NoFlux).is_err());
        assert!(Axis::new(f64::NAN, 1.0, 8, Boundary::Periodic).is_err());
    }
}
