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
//!
//! One idea per file:
//! * [`coefficient`]: A(a), A'(a) and the branch-free pair (A(a), A(−a));
//! * [`layout`]: the grid's faces ([`Layout`]);
//! * [`mod@reference`]: the face-by-face operators (right-hand side, rate bound, dissipation);
//! * [`kernel`]: the fused, vectorised, parallel explicit-stage kernel ([`SgKernel`]).

pub mod coefficient;
pub mod kernel;
pub mod layout;
pub mod reference;
#[cfg(test)]
mod tests;

pub use coefficient::{sg_coefficient, sg_coefficient_derivative, sg_pair};
pub use kernel::SgKernel;
pub use layout::Layout;
pub use reference::{dissipation, max_outflow, sg_rhs};
