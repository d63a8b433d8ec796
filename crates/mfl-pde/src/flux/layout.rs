//! The face structure of a grid: shape, spacings, boundaries, and the loop over faces.

use mfl_core::{Boundary, Grid};

/// The face structure of a grid: shape (n0, n1) (n1 = 1 in 1D), spacings and boundaries.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// Cells per axis, padded to two axes with n1 = 1.
    pub n: [usize; 2],
    /// Cell widths h_a (h1 = 1 in 1D, unused).
    pub h: [f64; 2],
    /// Whether each axis is periodic.
    pub periodic: [bool; 2],
    /// Number of real axes (1 or 2).
    pub dim: usize,
    /// |cell| = Π h_a.
    pub cell_volume: f64,
}

impl Layout {
    /// The layout of `grid`.
    pub fn new(grid: &Grid) -> Self {
        let mut n = [1, 1];
        let mut h = [1.0, 1.0];
        let mut periodic = [false, false];
        for (a, ax) in grid.axes.iter().enumerate() {
            n[a] = ax.n;
            h[a] = ax.h();
            periodic[a] = ax.boundary == Boundary::Periodic;
        }
        Layout {
            n,
            h,
            periodic,
            dim: grid.dim(),
            cell_volume: grid.cell_volume(),
        }
    }

    /// Number of cells M.
    pub fn len(&self) -> usize {
        self.n[0] * self.n[1]
    }

    /// Always false (a grid has ≥ 2 cells).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Flat-index stride of axis `a` (n1 for axis 0, 1 for axis 1).
    pub fn stride(&self, a: usize) -> usize {
        if a == 0 {
            self.n[1]
        } else {
            1
        }
    }

    /// Calls `f(l, r, h)` for every interior face of every axis, L the lower and R the upper
    /// cell (on a periodic axis the wrap face has L = last, R = first cell).
    #[inline]
    pub fn for_each_face(&self, mut f: impl FnMut(usize, usize, f64)) {
        let [n0, n1] = self.n;
        // axis 0
        let faces0 = if self.periodic[0] { n0 } else { n0 - 1 };
        for i0 in 0..faces0 {
            let j0 = if i0 + 1 == n0 { 0 } else { i0 + 1 };
            for i1 in 0..n1 {
                f(i0 * n1 + i1, j0 * n1 + i1, self.h[0]);
            }
        }
        if self.dim == 2 {
            let faces1 = if self.periodic[1] { n1 } else { n1 - 1 };
            for i0 in 0..n0 {
                for i1 in 0..faces1 {
                    let j1 = if i1 + 1 == n1 { 0 } else { i1 + 1 };
                    f(i0 * n1 + i1, i0 * n1 + j1, self.h[1]);
                }
            }
        }
    }
}
