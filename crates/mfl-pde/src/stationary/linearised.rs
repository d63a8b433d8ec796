//! The exact linearisation of the semi-discrete Scharfetter–Gummel scheme at a discrete Gibbs
//! state, in gradient-flow form.
//!
//! The scheme is dρ/dt = −div_h J(Ψ(ρ), ρ), with face fluxes h²J = A(d)ρ_L − A(−d)ρ_R,
//! d = Ψ_R − Ψ_L, A(a) = a/expm1(a/T) ([`crate::flux`]). At a Gibbs state ρ*_m ∝ e^{−Ψ*_m/T} the
//! two face terms agree, a_f := A(d)ρ*_L = A(−d)ρ*_R, and since B'(z) + B'(−z)e^{−z} = −B(z)
//! (B(z) = z/(e^z − 1)) the flux sensitivity is ∂(h²J)/∂d = A'(d)ρ*_L + A'(−d)ρ*_R = −a_f/T.
//! So a perturbation v of ρ* (with δΨ = DΨ\[v\]) moves the face flux by
//!
//! h² δJ = A(d)v_L − A(−d)v_R − (a_f/T)(δΨ_R − δΨ_L) = (a_f/T)(μ_L − μ_R),  μ = H v,
//!
//! H v = T v/ρ* + DΨ\[v\]  (the Hessian of the discrete free energy F_h = E + T Σρ log ρ |cell|,
//! per |cell|), and the linearised scheme is
//!
//! dv/dt = L v = −K H v,  (Kμ)_L += c_f(μ_L − μ_R), (Kμ)_R −= c_f(μ_L − μ_R),  c_f = a_f/(T h²),
//!
//! with K symmetric positive semi-definite (its kernel: constants) and H symmetric positive
//! definite whenever DΨ is positive semi-definite (squared loss: DΨ\[v\](θ) = ∫U(θ, θ')v(θ')dθ',
//! U a Gram kernel; logistic: curvature weights ≥ 0). L is therefore self-adjoint in
//! ⟨u, v⟩_H = uᵀHv, with real eigenvalues −κ ≤ 0; κ = 0 only for the mass direction.
//!
//! DΨ\[v\]_m = Σ_k c_k δf_k σ(x_k; θ_m), δf_k = Σ_n v_n|cell| σ(x_k; θ_n), c_k = ½w_k ∂²ℓ(y_k, f_k)
//! at ρ*: two O(M·K) passes of [`MeanField::network_into`] and
//! [`MeanField::potential_of_residual_into`] (λ set to 0: the (λ/2)|θ|² part of Ψ does not depend
//! on ρ) — U is never formed. For a fixed potential DΨ = 0.
//!
//! A field with a closed-form interaction (`PotentialField::linear_response`, e.g. the erf
//! network of [`crate::erf_closed`]) supplies DΨ\[v\] itself ([`Linearisation::with_response`]).
//!
//! a_f is taken as the mean of its two expressions, so K is symmetric to the last bit; at a state
//! with Gibbs residual r the operator differs from the exact Jacobian of the scheme by O(r).
//! Cells where ρ* underflows to 0 carry no perturbation (v/ρ* := 0 there): their faces have
//! a_f = 0 and decouple.

use crate::error::PdeError;
use crate::flux::{sg_coefficient, Layout};
use crate::potential::LinearResponse;
use mfl_core::{Grid, MeanField, Measure};
use ndarray::{Array1, Array2};
use std::sync::{Arc, Mutex};

/// DΨ of a mean-field problem at ρ*.
#[derive(Debug)]
struct Response {
    /// The problem with λ = 0.
    mf0: MeanField,
    centres: Array2<f64>,
    /// c_k = ½ w_k ∂²ℓ(y_k, f_k(ρ*)).
    curvature: Vec<f64>,
    work: Mutex<(Array1<f64>, Vec<f64>)>,
}

/// How DΨ[v] is computed.
#[derive(Debug)]
enum Dpsi {
    /// Through the data of a mean-field problem.
    Data(Box<Response>),
    /// A closed-form map ([`LinearResponse`], e.g. [`crate::ErfInteraction`]).
    Closed(Arc<dyn LinearResponse>),
}

/// L = −K H at a Gibbs state (see the module doc).
#[derive(Debug)]
pub struct Linearisation {
    layout: Layout,
    temperature: f64,
    rho: Vec<f64>,
    /// c_f = a_f/(T h²) per face, in [`Layout::for_each_face`] order.
    face: Vec<f64>,
    response: Option<Dpsi>,
}

impl Linearisation {
    /// The linearisation at ρ* with potential Ψ* = Ψ(·; ρ*) on `grid` at T > 0; `mf` is the
    /// mean-field problem behind Ψ (None for a fixed potential, DΨ = 0).
    pub fn new(
        grid: &Grid,
        temperature: f64,
        rho: &[f64],
        psi: &[f64],
        mf: Option<&MeanField>,
    ) -> Result<Self, PdeError> {
        let m = grid.len();
        if !(temperature > 0.0 && temperature.is_finite()) {
            return Err(PdeError::invalid(
                "temperature",
                format!("the linearisation at a Gibbs state needs T > 0, got {temperature}"),
            ));
        }
        if rho.len() != m || psi.len() != m {
            return Err(PdeError::invalid(
                "stationary state",
                format!("{} / {} values for {m} cells", rho.len(), psi.len()),
            ));
        }
        if rho.iter().any(|r| !(*r >= 0.0 && r.is_finite())) || psi.iter().any(|p| !p.is_finite()) {
            return Err(PdeError::invalid(
                "stationary state",
                "ρ must be finite and ≥ 0, Ψ finite",
            ));
        }
        let layout = Layout::new(grid);
        let mut face = Vec::new();
        layout.for_each_face(|l, r, h| {
            let d = psi[r] - psi[l];
            let a = 0.5
                * (sg_coefficient(d, temperature) * rho[l]
                    + sg_coefficient(-d, temperature) * rho[r]);
            face.push(a / (temperature * h * h));
        });
        let response = match mf {
            None => None,
            Some(mf) => {
                if mf.theta_dim() != grid.dim() {
                    return Err(PdeError::invalid(
                        "grid",
                        format!(
                            "the unit has {} parameters, the grid has {} axes",
                            mf.theta_dim(),
                            grid.dim()
                        ),
                    ));
                }
                let centres = grid.centres();
                let vol = grid.cell_volume();
                let w: Array1<f64> = rho.iter().map(|r| r * vol).collect();
                let f = mf.network(Measure::new(centres.view(), w.view()));
                let mut curvature = vec![0.0; f.len()];
                mf.curvature_into(f.as_slice().expect("contiguous"), &mut curvature);
                let mut mf0 = mf.clone();
                mf0.lambda = 0.0;
                let k = f.len();
                Some(Dpsi::Data(Box::new(Response {
                    mf0,
                    centres,
                    curvature,
                    work: Mutex::new((Array1::zeros(m), vec![0.0; k])),
                })))
            }
        };
        Ok(Linearisation {
            layout,
            temperature,
            rho: rho.to_vec(),
            face,
            response,
        })
    }

    /// The linearisation at ρ* with potential Ψ* on `grid` at T > 0, with DΨ\[v\] given in
    /// closed form by `response` (squared loss: DΨ\[v\] = ∫U(·, θ')v(θ')dθ', e.g. from
    /// [`crate::PotentialField::linear_response`]) instead of through the data.
    pub fn with_response(
        grid: &Grid,
        temperature: f64,
        rho: &[f64],
        psi: &[f64],
        response: Arc<dyn LinearResponse>,
    ) -> Result<Self, PdeError> {
        let mut lin = Linearisation::new(grid, temperature, rho, psi, None)?;
        lin.response = Some(Dpsi::Closed(response));
        Ok(lin)
    }

    /// Number of cells M.
    pub fn len(&self) -> usize {
        self.rho.len()
    }

    /// Always false (a grid has ≥ 2 cells).
    pub fn is_empty(&self) -> bool {
        self.rho.is_empty()
    }

    /// ρ* on the cells.
    pub fn rho(&self) -> &[f64] {
        &self.rho
    }

    /// DΨ\[v\] into `out` (zeros for a fixed potential).
    pub fn potential_response(&self, v: &[f64], out: &mut [f64]) {
        match &self.response {
            None => out.iter_mut().for_each(|o| *o = 0.0),
            Some(Dpsi::Closed(op)) => op.apply(v, out),
            Some(Dpsi::Data(r)) => {
                let mut guard = r.work.lock().unwrap_or_else(|e| e.into_inner());
                let (w, df) = &mut *guard;
                let vol = self.layout.cell_volume;
                for (wi, vi) in w.iter_mut().zip(v) {
                    *wi = vi * vol;
                }
                r.mf0
                    .network_into(Measure::new(r.centres.view(), w.view()), df);
                for (d, c) in df.iter_mut().zip(&r.curvature) {
                    *d *= c;
                }
                r.mf0.potential_of_residual_into(df, r.centres.view(), out);
            }
        }
    }

    /// H v = T v/ρ* + DΨ\[v\] into `out` (v/ρ* := 0 where ρ* = 0).
    pub fn hessian(&self, v: &[f64], out: &mut [f64]) {
        self.potential_response(v, out);
        let t = self.temperature;
        for ((o, vi), r) in out.iter_mut().zip(v).zip(&self.rho) {
            if *r > 0.0 {
                *o += t * vi / r;
            }
        }
    }

    /// K μ into `out`: Σ over faces of c_f(μ_L − μ_R) into L, minus it into R.
    pub fn onsager(&self, mu: &[f64], out: &mut [f64]) {
        out.iter_mut().for_each(|o| *o = 0.0);
        let mut i = 0;
        self.layout.for_each_face(|l, r, _h| {
            let j = self.face[i] * (mu[l] - mu[r]);
            out[l] += j;
            out[r] -= j;
            i += 1;
        });
    }

    /// L v = −K H v into `out` (`scratch` of length M receives H v).
    pub fn apply(&self, v: &[f64], out: &mut [f64], scratch: &mut [f64]) {
        self.hessian(v, scratch);
        self.onsager(scratch, out);
        out.iter_mut().for_each(|o| *o = -*o);
    }
}
