//! Scharfetter–Gummel fluxes.
//!
//! On the face between cells L and R of an axis with spacing h, with ΔΨ = Ψ_R − Ψ_L,
//!
//! J = (1/h) [A(ΔΨ) ρ_L − A(−ΔΨ) ρ_R],   A(a) = T·B(a/T) = a / expm1(a/T),  A(0) = T,
//!
//! (B the Bernoulli function) approximates the flux −ρ∂Ψ − T∂ρ to O(h²). At T = 0,
//! A(a) = max(−a, 0): pure upwind transport. Since A(−a) = A(a) + a and
//! A(−a)e^{−a/T} = A(a), a discrete Gibbs state ρ ∝ e^{−Ψ/T} makes every face flux vanish.
//! The semi-discrete scheme is dρ_m/dt = −Σ_axes (J_{m,+} − J_{m,−})/h_axis, with J = 0 on
//! the outer faces of a no-flux axis and the last cell facing the first on a periodic axis.

use mfl_core::{Boundary, Grid};

/// A(a) = a/expm1(a/T) (A(0) = T) for T > 0; max(−a, 0) for T = 0.
///
/// Evaluated without 0/0 (series 1 − z/2 + z²/12 for |z| < 1e-5, z = a/T) and without
/// overflow: A(a) = −a for z < −37 (where e^z < 1e-16) and A(a) = a·e^{−z} for z > 700.
#[inline]
pub fn sg_coefficient(a: f64, temperature: f64) -> f64 {
    if temperature == 0.0 {
        return (-a).max(0.0);
    }
    let z = a / temperature;
    if z.abs() < 1e-5 {
        temperature * (1.0 - 0.5 * z + z * z / 12.0)
    } else if z < -37.0 {
        -a
    } else if z > 700.0 {
        a * (-z).exp()
    } else {
        a / z.exp_m1()
    }
}

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

/// The right-hand side dρ/dt = −div J into `out`: for each face with flux
/// J = (1/h)[A(ΔΨ)ρ_L − A(−ΔΨ)ρ_R], out_L −= J/h and out_R += J/h.
pub fn sg_rhs(layout: &Layout, temperature: f64, psi: &[f64], rho: &[f64], out: &mut [f64]) {
    out.iter_mut().for_each(|v| *v = 0.0);
    layout.for_each_face(|l, r, h| {
        let d = psi[r] - psi[l];
        let j = (sg_coefficient(d, temperature) * rho[l]
            - sg_coefficient(-d, temperature) * rho[r])
            / (h * h);
        out[l] -= j;
        out[r] += j;
    });
}

/// max_m Σ_{faces of m} A(Ψ_nbr − Ψ_m)/h²: the rate at which cell m empties. Forward Euler
/// with dt ≤ 1/(this) maps non-negative densities to non-negative densities.
pub fn max_outflow(layout: &Layout, temperature: f64, psi: &[f64], scratch: &mut [f64]) -> f64 {
    scratch.iter_mut().for_each(|v| *v = 0.0);
    layout.for_each_face(|l, r, h| {
        let d = psi[r] - psi[l];
        let h2 = h * h;
        scratch[l] += sg_coefficient(d, temperature) / h2;
        scratch[r] += sg_coefficient(-d, temperature) / h2;
    });
    scratch.iter().fold(0.0, |a: f64, &b| a.max(b))
}

/// The discrete dissipation rate I = −dF_h/dt of the semi-discrete scheme,
///
/// I = −Σ_faces (|cell|/h) J_f (μ_R − μ_L),  μ = Ψ + T log ρ,
///
/// which is ≥ 0 face by face (J and Δμ have opposite signs) and is the discrete analogue of
/// ∫ ρ|∇(Ψ + T log ρ)|². Faces with ρ = 0 on both sides contribute 0; at T > 0 a face with
/// exactly one empty cell contributes +∞ (the true entropy production there is unbounded).
pub fn dissipation(layout: &Layout, temperature: f64, psi: &[f64], rho: &[f64]) -> f64 {
    let mut s = 0.0;
    layout.for_each_face(|l, r, h| {
        let d = psi[r] - psi[l];
        let j = (sg_coefficient(d, temperature) * rho[l]
            - sg_coefficient(-d, temperature) * rho[r])
            / h;
        if j == 0.0 {
            return;
        }
        let dmu = if temperature > 0.0 {
            d + temperature * (rho[r].ln() - rho[l].ln())
        } else {
            d
        };
        s -= layout.cell_volume / h * j * dmu;
    });
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coefficient_is_smooth_and_satisfies_the_identities() {
        let t = 0.3;
        // both branches near the series switch |z| = 1e-5 agree with the series to round-off
        for &z in &[0.99e-5, 1.01e-5, -0.99e-5, -1.01e-5, 3e-5] {
            let series = t * (1.0 - 0.5 * z + z * z / 12.0);
            assert!(
                (sg_coefficient(z * t, t) - series).abs() < 4e-16 * t,
                "z = {z}"
            );
        }
        for &a in &[-50.0, -3.0, -1e-7, 0.0, 1e-9, 0.2, 5.0, 400.0] {
            let p = sg_coefficient(a, t);
            let m = sg_coefficient(-a, t);
            assert!(p >= 0.0 && m >= 0.0);
            // A(−a) = A(a) + a
            assert!((m - p - a).abs() <= 1e-13 * (1.0 + a.abs()), "a = {a}");
            // A(−a) e^{−a/T} = A(a) (where representable)
            if a.abs() < 100.0 {
                assert!(
                    (m * (-a / t).exp() - p).abs() <= 1e-13 * p.max(1e-300),
                    "a = {a}"
                );
            }
        }
        assert_eq!(sg_coefficient(0.0, t), t);
        assert_eq!(sg_coefficient(2.0, 0.0), 0.0);
        assert_eq!(sg_coefficient(-2.0, 0.0), 2.0);
        assert!(sg_coefficient(1.0, 1e-300).is_finite());
        assert_eq!(sg_coefficient(-1.0, 1e-300), 1.0);
    }
}
