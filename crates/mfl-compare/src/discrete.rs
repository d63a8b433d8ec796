//! The N = ∞ limit of the discrete-time particle scheme in 1D: the law ρ^k of one particle
//! under the Euler–Maruyama step of [`mfl_particles`],
//!
//! θ^{k+1} = B(θ^k − η_k ∇Ψ(θ^k; ρ^k) + √(2 T η_k) g),   g ~ N(0, 1),
//!
//! where ∇Ψ(·; ρ^k) is the mean-field potential gradient of the *law* ρ^k (what N → ∞ particles
//! converge to), B the boundary map of the grid's axis (reflection at no-flux walls, wrapping on
//! a periodic axis) and η_k the step sizes of the particle runs for a constant η: steps of η,
//! the step before each record time shortened to land on it (`advance_to` in mfl-particles).
//! ρ^0 is the piecewise-constant density `rho0` of the grid, uniform inside cells — the law of
//! [`mfl_particles::Init::GridDensity`]. The error budget's time-step bias is
//! R(ρ^k)|_{t_k = t} − R(ρ_t), against the continuous-time PDE.
//!
//! # The scheme
//!
//! One step is the exact composition m_# (the drift map m(θ) = θ − h∇Ψ(θ; ρ^k)), convolution
//! with the Gaussian G_σ, σ² = 2Th, and the fold B_#. For y in the box,
//!
//! ρ^{k+1}(y) = ∫ ρ^k(θ) K(θ, y) dθ,   K(θ, y) = Σ_images G_σ(ỹ − m(θ)),
//!
//! the images being y + 2nL and 2lo − y + 2nL (reflection, L = hi − lo) or y + nL (periodic),
//! n ∈ Z, and G_σ truncated at ±8.5σ (tail mass ≈ 2e-17; each row is renormalised anyway). The law is represented by its values
//! at the centres y_j = lo + (j + ½)δ of a fine grid, δ = h_grid / `refine`, and the θ-integral is
//! a quadrature (Nyström):
//!
//! * k = 0: ρ^0 is piecewise constant, so ∫ρ^0 K dθ is integrated exactly enough by 8-node
//!   Gauss–Legendre rules on sub-cells of width ≤ δ (the PDE cells' edges are sub-cell edges);
//! * k ≥ 1: ρ^k = Σ_p c_p K(θ_p, ·) is smooth (a sum of Gaussians), and its even extension
//!   across a reflecting wall is smooth too (the image sum is even about each wall). The
//!   midpoint rule δ Σ_j ρ^k(y_j) K(y_j, y) on the fine centres is then spectrally accurate in
//!   the interior — its aliasing error is ≈ 2 exp(−2π² σ_eff²/δ²), σ_eff⁻² = σ⁻² + s_k⁻² with s_k²
//!   the variance the noise has added so far (the integrand's width), and below 1e-13 when
//!   σ_eff ≥ 1.25 δ. Where that does not hold (the first steps after the piecewise-constant
//!   start, or a short step before a record time), the step integrates on a q× finer sub-grid
//!   whose values are the exact sums Σ_p c_p K(θ_p, ·) of the previous step.
//!   At the ends of the interval the integrand θ ↦ ρ^k(θ) K(θ, y) is smooth only one-sided (the
//!   drift does not vanish at a wall; on a periodic axis (λ/2)θ² is not periodic), so the
//!   midpoint rule gets the Euler–Maclaurin end corrections
//!   ∫g = δΣg(y_j) + (δ²/24)[g′]_{lo}^{hi} − (7δ⁴/5760)[g‴]_{lo}^{hi} + O(δ⁶), with the
//!   one-sided derivatives of ρ^k from an 8-point (even, or wrapped) interpolation and those of
//!   K(·, y) from 5-point differences — i.e. as signed pseudo-points next to each end, which the
//!   same kernel then treats like every other source point.
//!
//! The drift ∇Ψ(·; ρ^k) comes from mfl-core's one kernel on the same quadrature measure (so f,
//! R, Ψ and ∇Ψ are those of the represented law, to the quadrature's accuracy). Each source
//! point's kernel row is normalised to unit mass on the fine grid (δ Σ_j K(θ_p, y_j) = 1), so the
//! mass δ Σ_j ρ_j is conserved to round-off and ρ_j ≥ 0 (the end pseudo-points carry signed
//! weights of relative size ~(δ/σ)² |η∇Ψ|/σ at the walls; they cannot make ρ negative there in
//! practice, and [`DiscreteLaw::min_density`] reports it). R(ρ^k), f and E at a record time use
//! the same quadrature.
//!
//! Why point values and not cell masses: a scheme that keeps fine-cell masses and spreads each
//! cell's mass uniformly before the next step adds the variance of that projection, ≈ δ²/6
//! (Sheppard), at every step — an effective temperature error δ²/(12η), i.e. O(δ²/η) in R:
//! ~1e-4 for δ = 0.002 on the gap_1d problem, far above the bias it is meant to measure.
//!
//! A step whose σ_eff is below ~1.5·10⁻⁷ of the box length (a record time a hair after a step,
//! e.g. 4·10⁻⁸η on the gap_1d problem, or a tiny T·η) would need a quadrature of more than 2²³
//! points and is refused with an error.
//!
//! At T = 0 the step is the deterministic map θ ↦ B(m(θ)): ρ^k is the push-forward of ρ^0 and is
//! carried exactly by Lagrangian points — 8-node Gauss–Legendre rules on `refine` sub-cells per
//! grid cell, weights fixed, each point moved by the map (spectral in the sub-cell width as long
//! as the composed map stays smooth over a sub-cell, i.e. until a fold at a wall).
//!
//! # Accuracy (measured)
//!
//! On `examples/gap_1d.toml` (400 cells on [−4, 4], 40 Gauss–Hermite nodes, T = 0.02,
//! λ = 0.01, η = 10⁻³, σ = 0.0063, t ≤ 4): |R_2 − R_4| ≤ 2e-16 and |R_4 − R_8| ≤ 5e-15 (refine
//! 2, 4, 8; δ = 0.01, 0.005, 0.0025) — the interior is spectrally converged (round-off after
//! 4000 steps), and that problem has no mass at its walls. With mass at reflecting walls
//! (tests: [−1, 1.5], ρ ≈ 0.01–0.04 at the walls, |∇Ψ| = O(1) there) the end corrections leave
//! |R_4 − R_8| ≈ 5e-11 and |R_8 − R_16| ≈ 8e-13: order ≈ 3–6 down to a ~1e-12 floor; without
//! them the error would be ~1e-8. At T = 0 (Lagrangian) refine 1, 2, 4 agree to round-off.
//! [`euler_maruyama_limit`] runs `refine` and `2·refine`, returns the finer run's values and
//! |difference| as their error: a bound for any convergence order ≥ 1, conservative when (as
//! here) convergence is spectral, so no Richardson step is taken.
//!
//! Cost per step: ∇Ψ at M = cells·refine points (M·K kernel evaluations) plus M·(17σ/δ + 1)
//! Gaussian values (two multiplications each, by recurrence). The gap_1d problem with η = 10⁻³
//! (4000 steps), refine 4 and 8, takes ≈ 6 s on 2 cores (η = 5·10⁻³: 1.4 s). Work is split into
//! fixed chunks of source points whose partial sums are added in chunk order, so results are
//! bit-identical for any number of threads.

use crate::error::CompareError;
use mfl_core::quadrature::gauss_legendre;
use mfl_core::{Boundary, Grid, MeanField, Measure};
use mfl_particles::AxisBoundary;
use ndarray::{Array1, Array2};
use rayon::prelude::*;

/// The Gaussian is truncated at ±8.5σ: the neglected tail mass is erfc(8.5/√2) ≈ 1.9e-17.
pub const TRUNCATION: f64 = 8.5;
/// Minimum σ_eff / spacing of a midpoint quadrature (aliasing ≈ 2e^{−2π²·1.25²} ≈ 8e-14).
pub const RESOLUTION: f64 = 1.25;
/// Gauss–Legendre nodes per sub-cell of the piecewise-constant initial law.
const GL_NODES: usize = 8;
/// Source points per parallel task.
const SOURCE_CHUNK: usize = 256;
/// Nodes on each side of an end for the one-sided derivatives of ρ there.
const END_NODES: usize = 4;
/// Largest quadrature (points) a step may need before the run is refused.
const MAX_POINTS: usize = 1 << 23;

/// The law ρ^k at one resolution: one entry per record time.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscreteLaw {
    /// Record times t_k.
    pub times: Vec<f64>,
    /// Steps taken k at each record (the same count as the particle runs).
    pub steps: Vec<u64>,
    /// R(ρ^k) on the problem's data (`eval.risk_of_network` of f_{ρ^k}).
    pub risk: Vec<f64>,
    /// E(ρ^k) = ½ R(ρ^k) + (λ/2) ∫ θ² dρ^k.
    pub energy: Vec<f64>,
    /// δ Σ_j ρ_j: the mass of the represented law (1 up to round-off; at T = 0 the sum of the
    /// Lagrangian weights).
    pub mass: Vec<f64>,
    /// min_j ρ_j (at T = 0: the smallest Lagrangian weight, ≥ 0).
    pub min_density: Vec<f64>,
    /// ρ_j at the fine centres lo + (j + ½)δ at every record (T > 0; empty at T = 0). At t = 0,
    /// the piecewise-constant ρ^0.
    pub density: Vec<Vec<f64>>,
    /// The refinement per grid cell of this run.
    pub refine: usize,
    /// Fine spacing δ = h / refine.
    pub spacing: f64,
}

/// The N = ∞, step-η law with its error estimated by refinement (see [`euler_maruyama_limit`]).
#[derive(Debug, Clone, PartialEq)]
pub struct DiscreteLimit {
    /// Record times.
    pub times: Vec<f64>,
    /// R_{N=∞, η}(t) = R(ρ^k) at t_k = t, from the finer run.
    pub risk: Vec<f64>,
    /// E(ρ^k) = ½R + (λ/2)∫θ²dρ^k, from the finer run.
    pub energy: Vec<f64>,
    /// |R_{refine} − R_{2·refine}|: the estimated error of `risk`.
    pub risk_error: Vec<f64>,
    /// |E_{refine} − E_{2·refine}|.
    pub energy_error: Vec<f64>,
    /// The run with `refine`.
    pub coarse: DiscreteLaw,
    /// The run with `2·refine` (the one `risk` and `energy` come from).
    pub fine: DiscreteLaw,
}

/// [`euler_maruyama_law`] at `refine` and at `2·refine`: the finer run's R and E, and as their
/// error the difference of the two runs, |R_r − R_{2r}| (a bound on the finer run's error for
/// any convergence order ≥ 1; the observed convergence is spectral in the interior and of
/// order ≈ 3–6 at walls that carry mass — see the module docs).
pub fn euler_maruyama_limit(
    eval: &MeanField,
    grid: &Grid,
    rho0: &[f64],
    temperature: f64,
    eta: f64,
    times: &[f64],
    refine: usize,
) -> Result<DiscreteLimit, CompareError> {
    let double = refine
        .checked_mul(2)
        .ok_or_else(|| CompareError::invalid("refine", "too large"))?;
    let coarse = euler_maruyama_law(eval, grid, rho0, temperature, eta, times, refine)?;
    let fine = euler_maruyama_law(eval, grid, rho0, temperature, eta, times, double)?;
    let diff = |a: &[f64], b: &[f64]| -> Vec<f64> {
        a.iter().zip(b).map(|(x, y)| (x - y).abs()).collect()
    };
    Ok(DiscreteLimit {
        times: fine.times.clone(),
        risk: fine.risk.clone(),
        energy: fine.energy.clone(),
        risk_error: diff(&coarse.risk, &fine.risk),
        energy_error: diff(&coarse.energy, &fine.energy),
        coarse,
        fine,
    })
}

/// The law ρ^k of the Euler–Maruyama scheme with exact mean-field drift (N = ∞) on the 1D
/// `grid`, started from the piecewise-constant `rho0` (cell values, rescaled to unit mass) at
/// temperature T ≥ 0 with the constant step η, recorded at `times` (strictly increasing, ≥ 0)
/// with the particle runs' step sequence; fine grid `refine` × per cell (see the module docs).
/// `eval` supplies the unit, loss, λ and data of both the drift (exact full-batch gradient)
/// and R.
pub fn euler_maruyama_law(
    eval: &MeanField,
    grid: &Grid,
    rho0: &[f64],
    temperature: f64,
    eta: f64,
    times: &[f64],
    refine: usize,
) -> Result<DiscreteLaw, CompareError> {
    let line = validate(eval, grid, rho0, temperature, eta, times, refine)?;
    let ax = &grid.axes[0];
    let h = ax.h();
    let mass0: f64 = rho0.iter().sum::<f64>() * h;
    let rho0: Vec<f64> = rho0.iter().map(|v| v / mass0).collect();
    let spacing = h / refine as f64;
    let m = ax.n * refine;
    if temperature == 0.0 {
        return lagrangian(eval, &line, &rho0, h, eta, times, refine);
    }
    let mut run = Run {
        eval,
        line,
        rho0,
        h,
        refine,
        m,
        spacing,
        temperature,
        state: State::Initial,
        ends: EndStencil::new(),
        buffers: Buffers::default(),
    };
    let mut out = DiscreteLaw {
        times: Vec::with_capacity(times.len()),
        steps: Vec::with_capacity(times.len()),
        risk: Vec::with_capacity(times.len()),
        energy: Vec::with_capacity(times.len()),
        mass: Vec::with_capacity(times.len()),
        min_density: Vec::with_capacity(times.len()),
        density: Vec::with_capacity(times.len()),
        refine,
        spacing,
    };
    let mut t = 0.0;
    let mut steps = 0u64;
    for &tau in times {
        advance(&mut t, tau, eta, |hk, tk| {
            steps += 1;
            run.step(hk, tk, steps)
        })?;
        let pts = run.record_points()?;
        let (risk, energy) = risk_energy(eval, &pts, &mut run.buffers);
        let density = run.density();
        out.times.push(tau);
        out.steps.push(steps);
        out.risk.push(risk);
        out.energy.push(energy);
        out.mass.push(density.iter().sum::<f64>() * spacing);
        out.min_density
            .push(density.iter().copied().fold(f64::INFINITY, f64::min));
        out.density.push(density);
    }
    Ok(out)
}

/// The step sequence of the particle runs (mfl-particles' `advance_to` with a constant η):
/// steps of η while more than η (+10⁻⁹η) remains, then one step of the remainder, after which
/// the clock is set to τ exactly. `step(h, t)` is called with the step size and the time
/// before the step. A remainder below [`SKIP`]·η (floating-point residue of summing η, e.g.
/// 3·10⁻¹³ after 2000 steps of 2.5·10⁻⁴) is not stepped: it moves the law by O(10⁻⁶η) in
/// position and O(T·10⁻⁶η) in variance — below 10⁻¹⁰ in R — while its Gaussian would need a
/// quadrature finer than any grid.
fn advance(
    t: &mut f64,
    tau: f64,
    eta: f64,
    mut step: impl FnMut(f64, f64) -> Result<(), CompareError>,
) -> Result<(), CompareError> {
    loop {
        let tol = 1e-9 * eta;
        let remaining = tau - *t;
        if remaining <= tol {
            return Ok(());
        }
        if eta >= remaining - tol {
            if remaining >= SKIP * eta {
                step(remaining, *t)?;
            }
            *t = tau;
            return Ok(());
        }
        step(eta, *t)?;
        *t += eta;
    }
}

/// Remainders of a step below SKIP·η are not stepped (see `advance`).
pub const SKIP: f64 = 1e-6;

#[allow(clippy::too_many_arguments)]
fn validate(
    eval: &MeanField,
    grid: &Grid,
    rho0: &[f64],
    temperature: f64,
    eta: f64,
    times: &[f64],
    refine: usize,
) -> Result<Line, CompareError> {
    if grid.dim() != 1 {
        return Err(CompareError::invalid(
            "grid",
            format!(
                "the discrete-time limit is implemented in 1D; the grid has {} axes",
                grid.dim()
            ),
        ));
    }
    if eval.theta_dim() != 1 {
        return Err(CompareError::invalid(
            "eval",
            format!(
                "the unit has a {}-dimensional θ; the discrete-time limit needs θ ∈ R",
                eval.theta_dim()
            ),
        ));
    }
    if rho0.len() != grid.len() {
        return Err(CompareError::invalid(
            "rho0",
            format!("{} values for a grid of {} cells", rho0.len(), grid.len()),
        ));
    }
    if rho0.iter().any(|v| !(v.is_finite() && *v >= 0.0)) {
        return Err(CompareError::invalid(
            "rho0",
            "values must be finite and ≥ 0",
        ));
    }
    if !(rho0.iter().sum::<f64>() > 0.0) {
        return Err(CompareError::invalid("rho0", "has no mass"));
    }
    if !(temperature >= 0.0 && temperature.is_finite()) {
        return Err(CompareError::invalid(
            "temperature",
            format!("must be finite and ≥ 0, got {temperature}"),
        ));
    }
    if !(eta > 0.0 && eta.is_finite()) {
        return Err(CompareError::invalid(
            "eta",
            format!("must be finite and > 0, got {eta}"),
        ));
    }
    if times.is_empty() {
        return Err(CompareError::invalid("times", "no record times"));
    }
    if times.iter().any(|t| !(t.is_finite() && *t >= 0.0)) {
        return Err(CompareError::invalid(
            "times",
            "times must be finite and ≥ 0",
        ));
    }
    if times.windows(2).any(|w| !(w[0] < w[1])) {
        return Err(CompareError::invalid(
            "times",
            "times must be strictly increasing",
        ));
    }
    let ax = &grid.axes[0];
    if refine == 0 {
        return Err(CompareError::invalid("refine", "must be at least 1"));
    }
    match ax.n.checked_mul(refine) {
        Some(m) if (2 * END_NODES..=MAX_POINTS).contains(&m) => {}
        _ => {
            return Err(CompareError::invalid(
                "refine",
                format!(
                    "{} cells × refine {refine} must give between {} and {MAX_POINTS} fine cells",
                    ax.n,
                    2 * END_NODES
                ),
            ))
        }
    }
    Ok(Line {
        lo: ax.lo,
        hi: ax.hi,
        len: ax.hi - ax.lo,
        periodic: ax.boundary == Boundary::Periodic,
    })
}

/// The axis: [lo, hi] with reflecting walls or periodic.
#[derive(Debug, Clone, Copy)]
struct Line {
    lo: f64,
    hi: f64,
    len: f64,
    periodic: bool,
}

impl Line {
    /// The centres c′ of all images of a Gaussian centred at c whose window [c′ − R, c′ + R]
    /// meets [lo, hi]: c + 2nL and 2lo − c + 2nL (reflection), c + nL (periodic).
    fn images(&self, c: f64, reach: f64, out: &mut Vec<f64>) {
        out.clear();
        let mirror = [c, 2.0 * self.lo - c];
        let (period, bases) = if self.periodic {
            (self.len, &mirror[..1])
        } else {
            (2.0 * self.len, &mirror[..])
        };
        for &base in bases {
            let n0 = ((self.lo - reach - base) / period).ceil() as i64;
            let n1 = ((self.hi + reach - base) / period).floor() as i64;
            for n in n0..=n1 {
                out.push(base + n as f64 * period);
            }
        }
    }

    /// The boundary map of the particles on this axis.
    fn boundary(&self) -> AxisBoundary {
        if self.periodic {
            AxisBoundary::Periodic {
                lo: self.lo,
                hi: self.hi,
            }
        } else {
            AxisBoundary::Reflect {
                lo: self.lo,
                hi: self.hi,
            }
        }
    }
}

/// Midpoint nodes lo + (j + ½)s, j < n.
#[derive(Debug, Clone, Copy)]
struct Nodes {
    lo: f64,
    spacing: f64,
    n: usize,
}

/// The unnormalised Gaussian g(u) = exp(−a u²), a = 1/(2σ²), truncated at |u| ≤ reach = 8.5σ.
#[derive(Debug, Clone, Copy)]
struct Gauss {
    a: f64,
    reach: f64,
}

impl Gauss {
    fn new(sigma: f64) -> Self {
        Gauss {
            a: 0.5 / (sigma * sigma),
            reach: TRUNCATION * sigma,
        }
    }
}

/// Append g(y_j − c) for the nodes y_j within reach of c to `vals`; returns the first index
/// and the count. From the node nearest c outwards by the exact recurrence
/// g(u ± s) = g(u)·r, r ← r·e^{−2as²} (two multiplications per node, relative error ≲ n·ε).
fn window(c: f64, g: &Gauss, nodes: &Nodes, vals: &mut Vec<f64>) -> Option<(usize, usize)> {
    let s = nodes.spacing;
    let last = (nodes.n - 1) as f64;
    let jl = ((c - g.reach - nodes.lo) / s - 0.5).ceil().max(0.0);
    let jh = ((c + g.reach - nodes.lo) / s - 0.5).floor().min(last);
    if !(jl <= jh) {
        return None;
    }
    let (jl, jh) = (jl as usize, jh as usize);
    let js = ((c - nodes.lo) / s - 0.5)
        .round()
        .clamp(jl as f64, jh as f64) as usize;
    let start = vals.len();
    vals.resize(start + jh - jl + 1, 0.0);
    let v = &mut vals[start..];
    let a = g.a;
    let c2 = (-2.0 * a * s * s).exp();
    let u = nodes.lo + (js as f64 + 0.5) * s - c;
    let e0 = (-a * u * u).exp();
    v[js - jl] = e0;
    let (mut e, mut r) = (e0, (-a * (2.0 * u * s + s * s)).exp());
    for x in v[js - jl + 1..].iter_mut() {
        e *= r;
        r *= c2;
        *x = e;
    }
    let (mut e, mut r) = (e0, (-a * (s * s - 2.0 * u * s)).exp());
    for x in v[..js - jl].iter_mut().rev() {
        e *= r;
        r *= c2;
        *x = e;
    }
    Some((jl, jh - jl + 1))
}

/// out_j += Σ_p c_p Σ_images g(y_j − c′_p) over the sources with centres `means`. With
/// `normalise`, c_p = w_p / (s Σ_j Σ_images g(y_j − c′_p)) (each row has unit mass on these
/// nodes), else c_p = w_p. Returns the c_p used. Fixed chunks of sources, partial sums added in
/// chunk order: bit-identical for any number of threads.
fn scatter(
    line: &Line,
    g: &Gauss,
    means: &[f64],
    weights: &[f64],
    nodes: &Nodes,
    normalise: bool,
    out: &mut [f64],
) -> Vec<f64> {
    let parts: Vec<(usize, Vec<f64>, Vec<f64>)> = means
        .par_chunks(SOURCE_CHUNK)
        .zip(weights.par_chunks(SOURCE_CHUNK))
        .map(|(mc, wc)| {
            let mut vals = Vec::new();
            let mut segs: Vec<(usize, usize, usize)> = Vec::new();
            let mut first_seg = Vec::with_capacity(mc.len() + 1);
            let mut centres = Vec::new();
            let mut coefs = Vec::with_capacity(mc.len());
            for (&c, &w) in mc.iter().zip(wc) {
                first_seg.push(segs.len());
                line.images(c, g.reach, &mut centres);
                let mut sum = 0.0;
                for &ci in &centres {
                    let off = vals.len();
                    if let Some((start, len)) = window(ci, g, nodes, &mut vals) {
                        segs.push((start, len, off));
                        sum += vals[off..].iter().sum::<f64>();
                    }
                }
                coefs.push(if !normalise {
                    w
                } else if sum > 0.0 {
                    w / (nodes.spacing * sum)
                } else {
                    0.0
                });
            }
            first_seg.push(segs.len());
            let lo = segs.iter().map(|s| s.0).min().unwrap_or(0);
            let hi = segs.iter().map(|s| s.0 + s.1).max().unwrap_or(0);
            let mut acc = vec![0.0; hi.saturating_sub(lo)];
            for (k, &cf) in coefs.iter().enumerate() {
                for &(start, len, off) in &segs[first_seg[k]..first_seg[k + 1]] {
                    for (a, v) in acc[start - lo..start - lo + len]
                        .iter_mut()
                        .zip(&vals[off..off + len])
                    {
                        *a += cf * v;
                    }
                }
            }
            (lo, acc, coefs)
        })
        .collect();
    let mut coefs = Vec::with_capacity(means.len());
    for (lo, acc, c) in parts {
        for (o, a) in out[lo..lo + acc.len()].iter_mut().zip(&acc) {
            *o += a;
        }
        coefs.extend(c);
    }
    coefs
}

/// Z_p = s Σ_j Σ_images g(y_j − c′_p) on `nodes` (the row masses of [`scatter`]).
fn row_masses(line: &Line, g: &Gauss, means: &[f64], nodes: &Nodes) -> Vec<f64> {
    means
        .par_chunks(SOURCE_CHUNK)
        .flat_map_iter(|mc| {
            let mut vals = Vec::new();
            let mut centres = Vec::new();
            mc.iter()
                .map(|&c| {
                    line.images(c, g.reach, &mut centres);
                    vals.clear();
                    for &ci in &centres {
                        window(ci, g, nodes, &mut vals);
                    }
                    nodes.spacing * vals.iter().sum::<f64>()
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// A weighted point set (θ_p, w_p) of the quadrature of ∫ φ dρ.
#[derive(Debug, Clone, Default)]
struct Points {
    theta: Vec<f64>,
    weight: Vec<f64>,
}

impl Points {
    fn push(&mut self, t: f64, w: f64) {
        self.theta.push(t);
        self.weight.push(w);
    }

    fn mass(&self) -> f64 {
        self.weight.iter().sum()
    }

    fn measure_arrays(&self) -> (Array2<f64>, Array1<f64>) {
        (
            Array2::from_shape_vec((self.theta.len(), 1), self.theta.clone()).expect("one column"),
            Array1::from_vec(self.weight.clone()),
        )
    }
}

/// 8-node Gauss–Legendre on `sub` equal sub-cells of every grid cell, weights ρ^0_c × GL weight.
fn initial_points(line: &Line, rho0: &[f64], h: f64, sub: usize) -> Points {
    let w = h / sub as f64;
    let (x, wq) = gauss_legendre(GL_NODES, 0.0, w);
    let mut p = Points::default();
    for (c, &rc) in rho0.iter().enumerate() {
        if rc == 0.0 {
            continue;
        }
        for s in 0..sub {
            let a = line.lo + c as f64 * h + s as f64 * w;
            for (xi, wi) in x.iter().zip(&wq) {
                p.push(a + xi, rc * wi);
            }
        }
    }
    p
}

/// Fornberg's finite-difference weights at 0 for derivatives 0..=3 on unit-spaced midpoint
/// nodes ±(i + ½), i < [`END_NODES`] (ascending): an 8-point interpolation of ρ across an end.
#[derive(Debug, Clone)]
struct EndStencil {
    /// Node offsets in units of the spacing, ascending.
    x: Vec<f64>,
    /// w[k][i]: weight of node i for the k-th derivative (unit spacing).
    w: Vec<Vec<f64>>,
}

impl EndStencil {
    fn new() -> Self {
        let x: Vec<f64> = (0..2 * END_NODES)
            .map(|i| i as f64 - END_NODES as f64 + 0.5)
            .collect();
        EndStencil {
            w: fornberg(0.0, &x, 3),
            x,
        }
    }
}

/// Weights c[k][j] with f^{(k)}(z) ≈ Σ_j c[k][j] f(x_j), k ≤ m (Fornberg 1988).
fn fornberg(z: f64, x: &[f64], m: usize) -> Vec<Vec<f64>> {
    let n = x.len();
    let mut c = vec![vec![0.0; n]; m + 1];
    let mut c1 = 1.0;
    let mut c4 = x[0] - z;
    c[0][0] = 1.0;
    for i in 1..n {
        let mn = i.min(m);
        let mut c2 = 1.0;
        let c5 = c4;
        c4 = x[i] - z;
        for j in 0..i {
            let c3 = x[i] - x[j];
            c2 *= c3;
            if j == i - 1 {
                for k in (1..=mn).rev() {
                    c[k][i] = c1 * (k as f64 * c[k - 1][i - 1] - c5 * c[k][i - 1]) / c2;
                }
                c[0][i] = -c1 * c5 * c[0][i - 1] / c2;
            }
            for k in (1..=mn).rev() {
                c[k][j] = (c4 * c[k][j] - k as f64 * c[k - 1][j]) / c3;
            }
            c[0][j] = c4 * c[0][j] / c3;
        }
        c1 = c2;
    }
    c
}

/// The midpoint quadrature of a smooth ρ given at nodes lo + (j + ½)s, with the Euler–Maclaurin
/// end corrections as pseudo-points (module docs): for each end w with sign ς (+1 at hi, −1 at
/// lo) and the one-sided derivatives ρ_n = ρ^{(n)}(w), the correction
/// ς[(s²/24) g′(w) − (7s⁴/5760) g‴(w)], g = ρφ, is Σ_n c_n φ^{(n)}(w) with
/// c_0 = ς(Aρ_1 − Bρ_3), c_1 = ς(Aρ_0 − 3Bρ_2), c_2 = −3ςBρ_1, c_3 = −ςBρ_0
/// (A = s²/24, B = 7s⁴/5760), and φ^{(n)}(w) by 5-point differences at w + iε, |i| ≤ 2.
/// Reflecting walls: ρ is even about the wall (ρ_1 = ρ_3 = 0); periodic: ρ is interpolated across
/// the seam from both ends, the positions are not wrapped (one-sided extensions of φ).
fn node_points(line: &Line, values: &[f64], s: f64, ends: &EndStencil) -> Points {
    let n = values.len();
    let mut p = Points::default();
    p.theta.reserve(n + 10);
    p.weight.reserve(n + 10);
    for (j, &v) in values.iter().enumerate() {
        p.push(line.lo + (j as f64 + 0.5) * s, s * v);
    }
    let eps = s / 8.0;
    let a = s * s / 24.0;
    let b = 7.0 * s.powi(4) / 5760.0;
    let d1 = [1.0, -8.0, 0.0, 8.0, -1.0].map(|v| v / (12.0 * eps));
    let d2 = [-1.0, 16.0, -30.0, 16.0, -1.0].map(|v| v / (12.0 * eps * eps));
    let d3 = [-1.0, 2.0, 0.0, -2.0, 1.0].map(|v| v / (2.0 * eps * eps * eps));
    // samples across each end, ascending in θ − w
    let k = END_NODES;
    let mut at_lo = vec![0.0; 2 * k];
    let mut at_hi = vec![0.0; 2 * k];
    for i in 0..k {
        let inner_lo = values[i];
        let inner_hi = values[n - 1 - i];
        at_lo[k + i] = inner_lo;
        at_hi[k - 1 - i] = inner_hi;
        if line.periodic {
            at_lo[k - 1 - i] = inner_hi;
            at_hi[k + i] = inner_lo;
        } else {
            at_lo[k - 1 - i] = inner_lo;
            at_hi[k + i] = inner_hi;
        }
    }
    for (w, sign, data) in [(line.lo, -1.0, &at_lo), (line.hi, 1.0, &at_hi)] {
        let mut rho = [0.0; 4];
        for (r, (wk, kk)) in rho.iter_mut().zip(ends.w.iter().zip(0..)) {
            let d: f64 = wk.iter().zip(data.iter()).map(|(c, v)| c * v).sum();
            *r = d / s.powi(kk);
        }
        debug_assert_eq!(ends.x.len(), data.len());
        if !line.periodic {
            rho[1] = 0.0;
            rho[3] = 0.0;
        }
        let c0 = sign * (a * rho[1] - b * rho[3]);
        let c1 = sign * (a * rho[0] - 3.0 * b * rho[2]);
        let c2 = -3.0 * sign * b * rho[1];
        let c3 = -sign * b * rho[0];
        for i in 0..5 {
            let wt = c1 * d1[i] + c2 * d2[i] + c3 * d3[i] + if i == 2 { c0 } else { 0.0 };
            if wt != 0.0 {
                p.push(w + (i as f64 - 2.0) * eps, wt);
            }
        }
    }
    p
}

/// Kernel buffers: f_k, r_k, Ψ and ∇Ψ at the points.
#[derive(Debug, Default)]
struct Buffers {
    f: Vec<f64>,
    r: Vec<f64>,
    psi: Vec<f64>,
}

/// (R, E) of the quadrature measure `pts`: R = Σ_k w_k ℓ(y_k, f_k) with f_k = Σ_p w_p σ(x_k; θ_p),
/// E = ½R + (λ/2) Σ_p w_p θ_p².
fn risk_energy(eval: &MeanField, pts: &Points, buf: &mut Buffers) -> (f64, f64) {
    let (th, w) = pts.measure_arrays();
    let mu = Measure::new(th.view(), w.view());
    buf.f.resize(eval.data.len(), 0.0);
    eval.network_into(mu, &mut buf.f);
    let risk = eval.risk_of_network(&buf.f);
    (risk, 0.5 * risk + eval.regulariser(mu))
}

/// ∇Ψ(θ_p; μ) at every point of the quadrature measure μ = `pts`.
fn gradient(eval: &MeanField, pts: &Points, buf: &mut Buffers) -> Vec<f64> {
    let (th, w) = pts.measure_arrays();
    let mu = Measure::new(th.view(), w.view());
    let k = eval.data.len();
    buf.f.resize(k, 0.0);
    buf.r.resize(k, 0.0);
    eval.network_into(mu, &mut buf.f);
    eval.residual_into(&buf.f, &mut buf.r);
    let np = pts.theta.len();
    buf.psi.resize(np, 0.0);
    let mut grad = Array2::zeros((np, 1));
    eval.potential_grad_of_residual_into(&buf.r, th.view(), &mut buf.psi, grad.view_mut());
    grad.into_raw_vec_and_offset().0
}

/// The last step's kernel: ρ^k(y) = Σ_p c_p Σ_images g(ỹ − m_p).
#[derive(Debug, Clone)]
struct Previous {
    means: Vec<f64>,
    coefs: Vec<f64>,
    gauss: Gauss,
}

#[derive(Debug, Clone)]
enum State {
    /// ρ^0, piecewise constant on the grid.
    Initial,
    /// ρ^k (k ≥ 1) at the fine centres, the kernel sum it came from, and the variance the
    /// noise has added so far, Σ 2Th (the width of ρ^k's finest structure).
    Smooth {
        values: Vec<f64>,
        previous: Previous,
        smoothing: f64,
    },
}

struct Run<'a> {
    eval: &'a MeanField,
    line: Line,
    rho0: Vec<f64>,
    h: f64,
    refine: usize,
    m: usize,
    spacing: f64,
    temperature: f64,
    state: State,
    ends: EndStencil,
    buffers: Buffers,
}

impl Run<'_> {
    /// The sub-division q ≥ 1 that gives a midpoint quadrature of resolution σ_eff/(δ/q) ≥ 1.25.
    fn subdivision(&self, width: f64) -> Result<usize, CompareError> {
        let q = (RESOLUTION * self.spacing / width).ceil().max(1.0);
        if !(q * self.m as f64 <= MAX_POINTS as f64) {
            return Err(CompareError::invalid(
                "discrete limit",
                format!(
                    "a step's Gaussian of width {width:.3e} needs a quadrature spacing ≤ \
                     {:.3e}, more than {MAX_POINTS} points on this box (very short steps, or \
                     T·h tiny): a record time just after a step is not supported — put the \
                     record times on multiples of η",
                    width / RESOLUTION
                ),
            ));
        }
        Ok(q as usize)
    }

    /// The quadrature measure of the current ρ^k resolving structure of width `width`.
    fn points(&self, width: f64) -> Result<Points, CompareError> {
        let q = self.subdivision(width)?;
        Ok(match &self.state {
            State::Initial => initial_points(&self.line, &self.rho0, self.h, self.refine * q),
            State::Smooth {
                values, previous, ..
            } => {
                if q == 1 {
                    node_points(&self.line, values, self.spacing, &self.ends)
                } else {
                    let nodes = Nodes {
                        lo: self.line.lo,
                        spacing: self.spacing / q as f64,
                        n: self.m * q,
                    };
                    let mut sub = vec![0.0; nodes.n];
                    scatter(
                        &self.line,
                        &previous.gauss,
                        &previous.means,
                        &previous.coefs,
                        &nodes,
                        false,
                        &mut sub,
                    );
                    node_points(&self.line, &sub, nodes.spacing, &self.ends)
                }
            }
        })
    }

    /// The quadrature for R and E at a record time.
    fn record_points(&self) -> Result<Points, CompareError> {
        match &self.state {
            State::Initial => Ok(initial_points(&self.line, &self.rho0, self.h, self.refine)),
            State::Smooth { smoothing, .. } => self.points(smoothing.sqrt()),
        }
    }

    /// ρ_j at the fine centres.
    fn density(&self) -> Vec<f64> {
        match &self.state {
            State::Initial => self
                .rho0
                .iter()
                .flat_map(|&v| std::iter::repeat_n(v, self.refine))
                .collect(),
            State::Smooth { values, .. } => values.clone(),
        }
    }

    /// One step of size `hk` from time `tk` (the `k`-th): ρ^{k+1}(y_j) = Σ_p c_p K(θ_p, y_j).
    fn step(&mut self, hk: f64, tk: f64, k: u64) -> Result<(), CompareError> {
        let sigma = (2.0 * self.temperature * hk).sqrt();
        let gauss = Gauss::new(sigma);
        let (width, smoothing) = match &self.state {
            State::Initial => (sigma, 0.0),
            State::Smooth { smoothing, .. } => (
                1.0 / (1.0 / (sigma * sigma) + 1.0 / smoothing).sqrt(),
                *smoothing,
            ),
        };
        // ρ^k is a probability: every step's source weights are rescaled to total mass 1
        // (a factor 1 + O(ε) with the midpoint nodes, 1 + spectrally small on a sub-grid), so
        // the mass does not drift over many steps
        let mass = 1.0;
        let mut pts = self.points(width)?;
        let scale = mass / pts.mass();
        pts.weight.iter_mut().for_each(|w| *w *= scale);
        let grad = gradient(self.eval, &pts, &mut self.buffers);
        let means: Vec<f64> = pts
            .theta
            .iter()
            .zip(&grad)
            .map(|(t, g)| t - hk * g)
            .collect();
        if let Some(i) = means.iter().position(|v| !v.is_finite()) {
            return Err(CompareError::invalid(
                "discrete limit",
                format!(
                    "non-finite drift at θ = {} in step {k} (t = {tk}): the scheme blew up",
                    pts.theta[i]
                ),
            ));
        }
        let nodes = Nodes {
            lo: self.line.lo,
            spacing: self.spacing,
            n: self.m,
        };
        let mut values = vec![0.0; self.m];
        let qz = self.subdivision(sigma)?;
        let coefs = if qz == 1 {
            scatter(
                &self.line,
                &gauss,
                &means,
                &pts.weight,
                &nodes,
                true,
                &mut values,
            )
        } else {
            // a kernel narrower than the fine spacing: row masses on a q× finer grid, then
            // the exact total mass by one global factor (1 + spectrally small)
            let fine = Nodes {
                spacing: self.spacing / qz as f64,
                n: self.m * qz,
                ..nodes
            };
            let z = row_masses(&self.line, &gauss, &means, &fine);
            let mut c: Vec<f64> = pts
                .weight
                .iter()
                .zip(&z)
                .map(|(w, z)| if *z > 0.0 { w / z } else { 0.0 })
                .collect();
            scatter(&self.line, &gauss, &means, &c, &nodes, false, &mut values);
            let got = values.iter().sum::<f64>() * self.spacing;
            if got > 0.0 {
                let f = mass / got;
                values.iter_mut().for_each(|v| *v *= f);
                c.iter_mut().for_each(|v| *v *= f);
            }
            c
        };
        self.state = State::Smooth {
            values,
            previous: Previous {
                means,
                coefs,
                gauss,
            },
            smoothing: smoothing + sigma * sigma,
        };
        Ok(())
    }
}

/// T = 0: Lagrangian points (8-node Gauss–Legendre on `refine` sub-cells per cell, weights
/// ρ^0_c × GL weight) moved by θ ← B(θ − h∇Ψ(θ; μ)), μ the weighted points themselves.
fn lagrangian(
    eval: &MeanField,
    line: &Line,
    rho0: &[f64],
    h: f64,
    eta: f64,
    times: &[f64],
    refine: usize,
) -> Result<DiscreteLaw, CompareError> {
    let mut pts = initial_points(line, rho0, h, refine);
    let total = pts.mass();
    pts.weight.iter_mut().for_each(|w| *w /= total);
    let bc = line.boundary();
    let mut buf = Buffers::default();
    let mut out = DiscreteLaw {
        times: Vec::new(),
        steps: Vec::new(),
        risk: Vec::new(),
        energy: Vec::new(),
        mass: Vec::new(),
        min_density: Vec::new(),
        density: Vec::new(),
        refine,
        spacing: h / refine as f64,
    };
    let mut t = 0.0;
    let mut steps = 0u64;
    for &tau in times {
        advance(&mut t, tau, eta, |hk, tk| {
            steps += 1;
            let grad = gradient(eval, &pts, &mut buf);
            for (i, (th, g)) in pts.theta.iter_mut().zip(&grad).enumerate() {
                let next = *th - hk * g;
                if !next.is_finite() {
                    return Err(CompareError::invalid(
                        "discrete limit",
                        format!(
                            "point {i} became non-finite in step {steps} (t = {tk}): the \
                             scheme blew up"
                        ),
                    ));
                }
                *th = bc.apply(next);
            }
            Ok(())
        })?;
        let (risk, energy) = risk_energy(eval, &pts, &mut buf);
        out.times.push(tau);
        out.steps.push(steps);
        out.risk.push(risk);
        out.energy.push(energy);
        out.mass.push(pts.mass());
        out.min_density
            .push(pts.weight.iter().copied().fold(f64::INFINITY, f64::min));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_matches_direct_exponentials() {
        let g = Gauss::new(0.3);
        let nodes = Nodes {
            lo: -2.0,
            spacing: 0.1,
            n: 40,
        };
        for c in [-2.7, -1.93, 0.0, 0.51, 1.99, 2.6] {
            let mut v = Vec::new();
            if let Some((j0, len)) = window(c, &g, &nodes, &mut v) {
                for (i, x) in v.iter().enumerate().take(len) {
                    let y = nodes.lo + ((j0 + i) as f64 + 0.5) * nodes.spacing;
                    let want = (-g.a * (y - c) * (y - c)).exp();
                    assert!(
                        (x - want).abs() <= 1e-13 * want.max(1e-300),
                        "{c}: {x} vs {want}"
                    );
                }
            }
        }
    }

    #[test]
    fn fornberg_differentiates_polynomials() {
        let e = EndStencil::new();
        // p(x) = 1 + 2x + 3x² + 4x³: p(0) = 1, p′ = 2, p″ = 6, p‴ = 24
        let v: Vec<f64> =
            e.x.iter()
                .map(|x| 1.0 + 2.0 * x + 3.0 * x * x + 4.0 * x * x * x)
                .collect();
        let want = [1.0, 2.0, 6.0, 24.0];
        for (k, wk) in e.w.iter().enumerate() {
            let d: f64 = wk.iter().zip(&v).map(|(a, b)| a * b).sum();
            assert!((d - want[k]).abs() < 1e-10, "derivative {k}: {d}");
        }
    }

    #[test]
    fn end_corrections_integrate_one_sided_functions() {
        // ρ(θ) = cos(θ) (even about 0), φ(θ) = e^{θ}: ∫_0^1 cos θ e^θ dθ with the walls at 0, 1
        // — ρ is even about 0 but not about 1, so use a ρ even about both: cos(πθ)+2
        let line = Line {
            lo: 0.0,
            hi: 1.0,
            len: 1.0,
            periodic: false,
        };
        let rho = |t: f64| (std::f64::consts::PI * t).cos() + 2.0;
        let phi = |t: f64| (1.3 * t).exp();
        // exact: ∫_0^1 (cos πθ + 2) e^{1.3θ} dθ
        let (x, w) = gauss_legendre(40, 0.0, 1.0);
        let exact: f64 = x.iter().zip(&w).map(|(t, w)| w * rho(*t) * phi(*t)).sum();
        let ends = EndStencil::new();
        let mut errs = Vec::new();
        for n in [20, 40] {
            let s = 1.0 / n as f64;
            let vals: Vec<f64> = (0..n).map(|j| rho((j as f64 + 0.5) * s)).collect();
            let p = node_points(&line, &vals, s, &ends);
            let q: f64 = p
                .theta
                .iter()
                .zip(&p.weight)
                .map(|(t, w)| w * phi(*t))
                .sum();
            errs.push((q - exact).abs());
        }
        // sixth order: the δ⁶ term is the first one left
        assert!(errs[0] < 1e-9, "{errs:?}");
        assert!(errs[1] < errs[0] / 40.0, "{errs:?}");
    }
}
