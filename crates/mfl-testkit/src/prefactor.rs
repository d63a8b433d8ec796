//! The exact t = 0 gap prefactor (DESIGN.md §1): for θ_i i.i.d. from a probability measure μ
//! and the squared loss,
//!
//! E[R_N(θ)] − R(μ) = V(μ)/N,   V(μ) = ∫U(θ,θ)dμ − ∬U(θ,θ′)dμ(θ)dμ(θ′),
//!
//! with U(θ, θ′) = Σ_k w_k σ(x_k; θ)σ(x_k; θ′) on the data (x_k, y_k, w_k). The double integral
//! is evaluated through the network: ∬U dμdμ = Σ_k w_k f_k², f_k = ∫σ(x_k; θ)dμ — the definition
//! of U rearranged, O(M·K) instead of O(M²K) — and the diagonal through
//! [`MeanField::interaction`] point by point.

use mfl_core::quadrature::{gauss_hermite, gauss_legendre};
use mfl_core::{Grid, MeanField, Measure};
use ndarray::{Array1, Array2, ArrayView2};

/// V(μ) for the discrete measure μ = Σ_m α_m δ_{θ_m} / Σα (rows of `theta`; the weights are
/// normalised to total 1): Σ_m α_m U(θ_m, θ_m) − Σ_k w_k f_k².
pub fn gap_prefactor(mf: &MeanField, theta: ArrayView2<f64>, alpha: &[f64]) -> f64 {
    assert_eq!(theta.nrows(), alpha.len());
    let total: f64 = alpha.iter().sum();
    let a = Array1::from_iter(alpha.iter().map(|x| x / total));
    let diag: f64 = theta
        .rows()
        .into_iter()
        .zip(&a)
        .map(|(t, w)| {
            let t = t.to_vec();
            w * mf.interaction(&t, &t)
        })
        .sum();
    let f = mf.network(Measure::new(theta, a.view()));
    let cross: f64 = f.iter().zip(&mf.data.w).map(|(fk, wk)| wk * fk * fk).sum();
    diag - cross
}

/// V of the grid density read as point masses ρ_m|cell| at the cell centres (the measure the
/// grid kernel evaluates R, f and Ψ on).
pub fn gap_prefactor_centres(mf: &MeanField, grid: &Grid, rho: &[f64]) -> f64 {
    let alpha: Vec<f64> = rho.iter().map(|r| r * grid.cell_volume()).collect();
    gap_prefactor(mf, grid.centres().view(), &alpha)
}

/// V of the piecewise-constant density (uniform inside each cell: the law particles initialised
/// from a grid density are drawn from), by the 3-point Gauss–Legendre rule per cell and axis
/// (1D and 2D; exact for integrands of degree ≤ 5 in each cell, so the error is O(h⁶) for
/// smooth units).
pub fn gap_prefactor_cells(mf: &MeanField, grid: &Grid, rho: &[f64]) -> f64 {
    let (nodes, weights) = gauss_legendre(3, -0.5, 0.5);
    let d = grid.dim();
    assert!(d == 1 || d == 2, "gap_prefactor_cells: dimension {d}");
    let centres = grid.centres();
    let h: Vec<f64> = grid.axes.iter().map(|a| a.h()).collect();
    let per = nodes.len().pow(d as u32);
    let mut th = Vec::with_capacity(rho.len() * per * d);
    let mut al = Vec::with_capacity(rho.len() * per);
    for (c, r) in centres.rows().into_iter().zip(rho) {
        if d == 1 {
            for (x, w) in nodes.iter().zip(&weights) {
                th.push(c[0] + h[0] * x);
                al.push(r * w);
            }
        } else {
            for (x, wx) in nodes.iter().zip(&weights) {
                for (y, wy) in nodes.iter().zip(&weights) {
                    th.push(c[0] + h[0] * x);
                    th.push(c[1] + h[1] * y);
                    al.push(r * wx * wy);
                }
            }
        }
    }
    let theta = Array2::from_shape_vec((al.len(), d), th).expect("shape");
    gap_prefactor(mf, theta.view(), &al)
}

/// V(N(m, s²)) for a 1D Gaussian law in θ, by the `q`-node Gauss–Hermite rule
/// θ_j = m + s z_j (z_j, w_j the probabilists' nodes and weights).
pub fn gap_prefactor_gaussian_1d(mf: &MeanField, m: f64, s: f64, q: usize) -> f64 {
    let (z, w) = gauss_hermite(q);
    let theta = Array2::from_shape_fn((q, 1), |(j, _)| m + s * z[j]);
    gap_prefactor(mf, theta.view(), &w)
}
