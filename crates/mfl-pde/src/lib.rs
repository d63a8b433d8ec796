//! # mfl-pde
//!
//! Finite-volume and Fourier pseudo-spectral solvers for the mean-field Fokker–Planck equation
//! (DESIGN.md §1, §5)
//!
//! ∂_t ρ = ∇·(ρ ∇Ψ(θ; ρ)) + T Δρ
//!
//! on a 1D or 2D [`mfl_core::Grid`] (each axis with no-flux walls or periodic). A density is a
//! flat row-major vector of cell values ρ_m (m = i0·n1 + i1) with mass Σ_m ρ_m |cell|.
//!
//! * [`potential`] — Ψ(·; ρ) on the cells: a fixed V, or the mean-field potential of
//!   [`mfl_core::MeanField`] (with a factorised fast path for θ = (a, w) units);
//! * [`flux`] — Scharfetter–Gummel face fluxes (positive, conservative, exact on Gibbs states);
//! * [`stepper`] — explicit SSP-RK3 and linearly implicit (frozen-Ψ) backward Euler;
//! * [`mprk`] — MPRK22: second order, positive and conservative for every dt, with an embedded
//!   error estimate for tolerance-controlled steps (Strang-split line solves in 2D);
//! * [`richardson`] — Richardson/Romberg extrapolation in h with an error estimate and the
//!   observed order;
//! * [`spectral`] — Fourier pseudo-spectral ETDRK4 on fully periodic grids (exact diffusion,
//!   2/3-rule dealiasing, optional positivity filter); [`fft`] — the planned real FFTs;
//! * [`convolution`] — Ψ of convolution-type problems (periodic unit, torus data) by FFT in
//!   O(M log M), used by both schemes ([`mean_field_potential`] picks it automatically);
//! * [`erf_closed`] — Ψ, ∇Ψ and R of an erf network with N(0, 1) inputs in closed form
//!   (E[erf(ux)erf(vx)] = (2/π) arcsin(2uv/√((1+2u²)(1+2v²)))), no quadrature error;
//! * [`isotropic`] — units σ(⟨w, x⟩) on MMN's isotropic two classes in d dimensions, reduced
//!   exactly to the law of r = |w|: v(r), u_d(r, r') (Gauss–Gegenbauer in the cosine), the
//!   entropic potential −T(d − 1) log r, and the exact risk of d-dimensional particles;
//! * [`decay`] — the measured exponential rate of F(ρ_t) − F* with its window and interval;
//! * [`diagnostics`] — mass, risk, free energy, entropy, moments, dissipation, Gibbs residual;
//! * [`driver`] — the time loop, blow-up detection and the [`driver::Observer`] interface;
//! * [`mod@histogram`] — particles binned to a grid density;
//! * [`mod@stationary`] — stationary states e^{−Ψ(·;ρ)/T}/Z by Anderson-accelerated fixed-point
//!   iteration, temperature continuation, and the slowest mode of the linearised scheme.
//!
//! Nothing here knows about files, configurations or terminals.

#![warn(missing_docs)]

pub mod convolution;
pub mod decay;
pub mod diagnostics;
pub mod driver;
pub mod erf_closed;
pub mod error;
pub mod fft;
pub mod flux;
pub mod histogram;
pub mod isotropic;
pub mod mprk;
pub mod potential;
pub mod richardson;
pub mod spectral;
pub mod stationary;
pub mod stepper;

pub use convolution::{mean_field_potential, ConvolutionPotential, Interaction};
pub use decay::{fit_decay, DecayFit};
pub use diagnostics::{diagnose, diagnose_into, Diagnostics};
pub use driver::{
    first_step, solve, FvProblem, FvRun, NoObserver, Observer, Recorder, RunOptions, StepperChoice,
};
pub use erf_closed::{ErfClosedForm, ErfInteraction};
pub use error::PdeError;
pub use histogram::histogram;
pub use isotropic::{IsotropicField, IsotropicKernel, RadialRule};
pub use mprk::{Mprk22, StepControl};
pub use potential::{Energy, FixedPotential, LinearResponse, MeanFieldPotential, PotentialField};
pub use richardson::{extrapolate, Extrapolated};
pub use spectral::{PositivityFilter, SpectralEtdrk4};
pub use stationary::{stationary, Stationary, StationaryOptions};
pub use stepper::{ExplicitSsprk3, ImplicitSg, LineSolver, LineTerm, Stepper};
