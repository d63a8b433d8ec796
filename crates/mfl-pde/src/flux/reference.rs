//! The reference operators, one face at a time ([`Layout::for_each_face`] with
//! [`sg_coefficient`]): the right-hand side, the positivity rate bound and the dissipation.
//! Plain and slow; the explicit steppers use the fused [`super::SgKernel`], which agrees with
//! these to a few ulp (tested).

use super::{sg_coefficient, Layout};

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
