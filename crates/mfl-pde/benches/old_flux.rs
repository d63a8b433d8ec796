//! The SgKernel of main 522f864 (two passes, M-sized face arrays), kept verbatim for the
//! before/after rows of the `peer_fv` bench group only.
//!
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
use rayon::prelude::*;

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

/// A'(a) = d/da [a/expm1(a/T)] = B'(a/T), B(z) = z/(e^z − 1): the sensitivity of a face
/// flux to the potential difference, J = (1/h)[A(ΔΨ)ρ_L − A(−ΔΨ)ρ_R] ⇒
/// ∂J/∂ΔΨ = (1/h)[A'(ΔΨ)ρ_L + A'(−ΔΨ)ρ_R] (the linearised scheme and its adjoint use it).
///
/// B'(z) = (u − z(u + 1))/u² with u = expm1(z); the series −½ + z/6 − z³/180 for |z| < 10⁻³;
/// e^{−z}(1 − z) for z > 37 and −1 for z < −37 (to round-off). At T = 0, the derivative of
/// max(−a, 0): −1 for a < 0, 0 for a > 0, −½ at a = 0.
#[inline]
pub fn sg_coefficient_derivative(a: f64, temperature: f64) -> f64 {
    if temperature == 0.0 {
        return if a < 0.0 {
            -1.0
        } else if a > 0.0 {
            0.0
        } else {
            -0.5
        };
    }
    let z = a / temperature;
    if z.abs() < 1e-3 {
        -0.5 + z / 6.0 - z * z * z / 180.0
    } else if z < -37.0 {
        -1.0
    } else if z > 37.0 {
        (-z).exp() * (1.0 - z)
    } else {
        let u = z.exp_m1();
        (u - z * (u + 1.0)) / (u * u)
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

/// e^x and e^x − 1 for x ∈ [−708, 0], branch-free so that loops over it vectorise.
///
/// x = k ln2 + r with |r| ≤ ln2/2 (k by the 1.5·2⁵² rounding trick, 2^k from its bits),
/// expm1(r) by its Taylor polynomial to r¹³ (truncation < 1e-17 relative); then
/// e^x = 2^k + 2^k·expm1(r) and e^x − 1 = (2^k − 1) + 2^k·expm1(r), both to a few ulp
/// (relative), also for tiny |x| where k = 0 and e^x − 1 = expm1(r) exactly.
#[inline(always)]
fn exp_expm1_neg<const FMA: bool>(x: f64) -> (f64, f64) {
    const INV_LN2: f64 = std::f64::consts::LOG2_E;
    const LN2_HI: f64 = 6.931_471_803_691_238e-1;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    const MAGIC: f64 = 6_755_399_441_055_744.0; // 1.5·2⁵²
    let km = x * INV_LN2 + MAGIC;
    let k = km.to_bits().wrapping_sub(MAGIC.to_bits()) as i64;
    let kf = km - MAGIC;
    let r = (x - kf * LN2_HI) - kf * LN2_LO;
    // expm1(r) = r + r²·(1/2! + r/3! + … + r¹¹/13!)
    let q = 1.0 / 6_227_020_800.0;
    let q = madd::<FMA>(r, q, 1.0 / 479_001_600.0);
    let q = madd::<FMA>(r, q, 1.0 / 39_916_800.0);
    let q = madd::<FMA>(r, q, 1.0 / 3_628_800.0);
    let q = madd::<FMA>(r, q, 1.0 / 362_880.0);
    let q = madd::<FMA>(r, q, 1.0 / 40_320.0);
    let q = madd::<FMA>(r, q, 1.0 / 5_040.0);
    let q = madd::<FMA>(r, q, 1.0 / 720.0);
    let q = madd::<FMA>(r, q, 1.0 / 120.0);
    let q = madd::<FMA>(r, q, 1.0 / 24.0);
    let q = madd::<FMA>(r, q, 1.0 / 6.0);
    let q = madd::<FMA>(r, q, 0.5);
    let p = madd::<FMA>(r * r, q, r);
    let scale = f64::from_bits(((k + 1023) as u64) << 52);
    (
        madd::<FMA>(scale, p, scale),
        madd::<FMA>(scale, p, scale - 1.0),
    )
}

/// a·b + c, fused (one rounding) when FMA, else two roundings.
#[inline(always)]
fn madd<const FMA: bool>(a: f64, b: f64, c: f64) -> f64 {
    if FMA {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// (A(a), A(−a)) for T > 0 (`inv_t` = 1/T) from a single exponential, branch-free:
/// with z = |a|/T, B(−z) = z/(1 − e^{−z}) and B(z) = B(−z)·e^{−z} (so A(−a) = A(a) + a and
/// A(−a)e^{−a/T} = A(a) hold to round-off, and neither coefficient loses relative accuracy),
/// the series 1 ∓ z/2 + z²/12 for z < 1e-5, and B(z) = 0 beyond z = 708 (true value < 1e-304).
/// Agrees with [`sg_coefficient`] to a few ulp; this is the form the hot loops use.
#[inline(always)]
pub fn sg_pair(a: f64, temperature: f64, inv_t: f64) -> (f64, f64) {
    sg_pair_impl::<false>(a, temperature, inv_t)
}

#[inline(always)]
fn sg_pair_impl<const FMA: bool>(a: f64, temperature: f64, inv_t: f64) -> (f64, f64) {
    let z = a * inv_t;
    let az = z.abs();
    let (e, em1) = exp_expm1_neg::<FMA>(-az.min(708.0));
    let series = az < 1e-5;
    let s2 = az * az * (1.0 / 12.0);
    let big = if series {
        1.0 + 0.5 * az + s2
    } else {
        az / -em1
    };
    let small = if series {
        1.0 - 0.5 * az + s2
    } else if az > 708.0 {
        0.0
    } else {
        big * e
    };
    let (big, small) = (temperature * big, temperature * small);
    if z >= 0.0 {
        (small, big)
    } else {
        (big, small)
    }
}

/// The fused explicit-stage kernel: dρ/dt = −div J into `out` and the forward-Euler rate
/// bound max_m Σ_{faces of m} A(Ψ_nbr − Ψ_m)/h² (see [`sg_rhs`], [`max_outflow`]) in one pass,
/// one exponential per face, vectorised (AVX2 when the CPU has it, with results identical to
/// the SSE2 path: no FMA contraction), and parallel over rows for grids of ≥ 2¹⁴ cells.
/// Each cell's sum is taken in a fixed order, so results are bit-identical for any thread
/// count.
#[derive(Debug, Clone)]
pub struct SgKernel {
    layout: Layout,
    temperature: f64,
    /// Axis-0 face values (2D only), face f between rows f and f+1 (mod n0): flux·(1/h0),
    /// A(ΔΨ)/h0², A(−ΔΨ)/h0².
    fx0: Vec<f64>,
    ap0: Vec<f64>,
    am0: Vec<f64>,
    /// In-row face values (row-local scratch), same meaning along the contiguous axis.
    fx1: Vec<f64>,
    ap1: Vec<f64>,
    am1: Vec<f64>,
    /// Per-row maximum outflow rate.
    row_rate: Vec<f64>,
    /// A row of zeros (the missing cross faces of a wall row, and all of them in 1D).
    zeros: Vec<f64>,
}

/// Cells below which the kernel stays on the calling thread.
const PAR_MIN_CELLS: usize = 1 << 14;
/// Cells per parallel task (at least).
const PAR_TASK_CELLS: usize = 8192;

impl SgKernel {
    /// Buffers for `layout` at temperature T ≥ 0.
    pub fn new(layout: &Layout, temperature: f64) -> Self {
        let m = layout.len();
        let rows = if layout.dim == 2 { layout.n[0] } else { 1 };
        SgKernel {
            layout: layout.clone(),
            temperature,
            fx0: vec![0.0; m],
            ap0: vec![0.0; m],
            am0: vec![0.0; m],
            fx1: vec![0.0; m],
            ap1: vec![0.0; m],
            am1: vec![0.0; m],
            row_rate: vec![0.0; rows],
            zeros: vec![0.0; m / rows],
        }
    }

    /// (rows, cols, h along rows, periodic along rows): a 1D grid is one row.
    fn shape(&self) -> (usize, usize, f64, bool) {
        let l = &self.layout;
        if l.dim == 2 {
            (l.n[0], l.n[1], l.h[1], l.periodic[1])
        } else {
            (1, l.n[0], l.h[0], l.periodic[0])
        }
    }

    /// Writes −div J into `out` and returns the forward-Euler rate bound.
    pub fn rhs_rate(&mut self, psi: &[f64], rho: &[f64], out: &mut [f64]) -> f64 {
        let (rows, cols, h_in, per_in) = self.shape();
        let m = rows * cols;
        assert!(psi.len() == m && rho.len() == m && out.len() == m);
        let t = self.temperature;
        let par = m >= PAR_MIN_CELLS && rayon::current_num_threads() > 1;
        let rows_per_task = PAR_TASK_CELLS.div_ceil(cols).max(1);
        let isa = Isa::detect();
        // pass 1: faces between rows
        if self.layout.dim == 2 {
            let h0 = self.layout.h[0];
            let n0 = rows;
            let faces0 = if self.layout.periodic[0] { n0 } else { n0 - 1 };
            let lim = faces0 * cols;
            let face_row = |f: usize, fx: &mut [f64], ap: &mut [f64], am: &mut [f64]| {
                let g = if f + 1 == n0 { 0 } else { f + 1 };
                let (pl, pr) = (
                    &psi[f * cols..(f + 1) * cols],
                    &psi[g * cols..(g + 1) * cols],
                );
                let (rl, rr) = (
                    &rho[f * cols..(f + 1) * cols],
                    &rho[g * cols..(g + 1) * cols],
                );
                faces(isa, t, h0, pl, pr, rl, rr, fx, ap, am);
            };
            let (fx0, ap0, am0) = (
                &mut self.fx0[..lim],
                &mut self.ap0[..lim],
                &mut self.am0[..lim],
            );
            if par {
                fx0.par_chunks_mut(cols)
                    .zip(ap0.par_chunks_mut(cols))
                    .zip(am0.par_chunks_mut(cols))
                    .enumerate()
                    .with_min_len(rows_per_task)
                    .for_each(|(f, ((fx, ap), am))| face_row(f, fx, ap, am));
            } else {
                for (f, ((fx, ap), am)) in fx0
                    .chunks_mut(cols)
                    .zip(ap0.chunks_mut(cols))
                    .zip(am0.chunks_mut(cols))
                    .enumerate()
                {
                    face_row(f, fx, ap, am);
                }
            }
        }
        // pass 2: faces within rows, and the sum per cell
        let (fx0, ap0, am0) = (&self.fx0, &self.ap0, &self.am0);
        let zeros = &self.zeros[..];
        let layout = &self.layout;
        let row = |i: usize,
                   o: &mut [f64],
                   fx: &mut [f64],
                   ap: &mut [f64],
                   am: &mut [f64],
                   rr: &mut f64| {
            let (p, r) = (
                &psi[i * cols..(i + 1) * cols],
                &rho[i * cols..(i + 1) * cols],
            );
            let (up, down) = if layout.dim == 2 {
                let n0 = layout.n[0];
                let per = layout.periodic[0];
                let up = if i > 0 {
                    Some(i - 1)
                } else if per {
                    Some(n0 - 1)
                } else {
                    None
                };
                let down = if i + 1 < n0 || per { Some(i) } else { None };
                (up, down)
            } else {
                (None, None)
            };
            fn sl<'a>(v: &'a [f64], zeros: &'a [f64], f: Option<usize>, cols: usize) -> &'a [f64] {
                f.map_or(zeros, |f| &v[f * cols..(f + 1) * cols])
            }
            *rr = row_sum(
                isa,
                t,
                h_in,
                per_in,
                p,
                r,
                o,
                fx,
                ap,
                am,
                (sl(fx0, zeros, up, cols), sl(am0, zeros, up, cols)),
                (sl(fx0, zeros, down, cols), sl(ap0, zeros, down, cols)),
            );
        };
        if par {
            out.par_chunks_mut(cols)
                .zip(self.fx1.par_chunks_mut(cols))
                .zip(self.ap1.par_chunks_mut(cols))
                .zip(self.am1.par_chunks_mut(cols))
                .zip(self.row_rate.par_iter_mut())
                .enumerate()
                .with_min_len(rows_per_task)
                .for_each(|(i, ((((o, fx), ap), am), rr))| row(i, o, fx, ap, am, rr));
        } else {
            for (i, ((((o, fx), ap), am), rr)) in out
                .chunks_mut(cols)
                .zip(self.fx1.chunks_mut(cols))
                .zip(self.ap1.chunks_mut(cols))
                .zip(self.am1.chunks_mut(cols))
                .zip(self.row_rate.iter_mut())
                .enumerate()
            {
                row(i, o, fx, ap, am, rr);
            }
        }
        self.row_rate.iter().fold(0.0, |a: f64, &b| a.max(b))
    }
}

/// The instruction set the kernels run with, chosen at run time. Within one machine the choice
/// is fixed, so results do not depend on the thread count; the FMA paths round differently
/// from the plain one (by an ulp or so), so results may differ between CPUs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Isa {
    Generic,
    Avx2Fma,
    Avx512,
}

impl Isa {
    fn detect() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::is_x86_feature_detected as has;
            if has!("avx512f") && has!("avx2") && has!("fma") {
                return Isa::Avx512;
            }
            if has!("avx2") && has!("fma") {
                return Isa::Avx2Fma;
            }
        }
        Isa::Generic
    }
}

/// Face values for the faces between cells l[c] and r[c] (spacing h): flux·h = J·h… stored as
/// (A(ΔΨ)ρ_L − A(−ΔΨ)ρ_R)/h², and A(±ΔΨ)/h².
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn faces_body<const FMA: bool>(
    t: f64,
    h: f64,
    pl: &[f64],
    pr: &[f64],
    rl: &[f64],
    rr: &[f64],
    fx: &mut [f64],
    ap: &mut [f64],
    am: &mut [f64],
) {
    let n = fx.len();
    let (pl, pr, rl, rr, ap, am) = (
        &pl[..n],
        &pr[..n],
        &rl[..n],
        &rr[..n],
        &mut ap[..n],
        &mut am[..n],
    );
    let ih2 = 1.0 / (h * h);
    if t == 0.0 {
        for c in 0..n {
            let d = pr[c] - pl[c];
            let (a, b) = ((-d).max(0.0), d.max(0.0));
            fx[c] = (a * rl[c] - b * rr[c]) * ih2;
            ap[c] = a * ih2;
            am[c] = b * ih2;
        }
    } else {
        let it = 1.0 / t;
        for c in 0..n {
            let d = pr[c] - pl[c];
            let (a, b) = sg_pair_impl::<FMA>(d, t, it);
            fx[c] = (a * rl[c] - b * rr[c]) * ih2;
            ap[c] = a * ih2;
            am[c] = b * ih2;
        }
    }
}

macro_rules! dispatch {
    ($isa:expr, $body:ident, $avx2:ident, $avx512:ident, ($($arg:ident: $ty:ty),*) -> $ret:ty) => {{
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn $avx2($($arg: $ty),*) -> $ret {
            $body::<true>($($arg),*)
        }
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx512f,avx2,fma")]
        unsafe fn $avx512($($arg: $ty),*) -> $ret {
            $body::<true>($($arg),*)
        }
        match $isa {
            // SAFETY: Isa::detect checked that the CPU has these features.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => unsafe { $avx512($($arg),*) },
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2Fma => unsafe { $avx2($($arg),*) },
            _ => $body::<false>($($arg),*),
        }
    }};
}

#[allow(clippy::too_many_arguments)]
#[inline]
fn faces(
    isa: Isa,
    t: f64,
    h: f64,
    pl: &[f64],
    pr: &[f64],
    rl: &[f64],
    rr: &[f64],
    fx: &mut [f64],
    ap: &mut [f64],
    am: &mut [f64],
) {
    dispatch!(isa, faces_body, faces_avx2, faces_avx512,
        (t: f64, h: f64, pl: &[f64], pr: &[f64], rl: &[f64], rr: &[f64],
         fx: &mut [f64], ap: &mut [f64], am: &mut [f64]) -> ())
}

/// Cross-row face values seen from a row: (flux, A/h² out of this row) per column; zeros
/// where there is no face.
type Cross<'a> = (&'a [f64], &'a [f64]);

/// One row: its in-row faces into fx/ap/am, then out = −div J and the row's maximum rate,
/// adding the cross-row faces above (flux in, A(−ΔΨ)) and below (flux out, A(ΔΨ)).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn row_body<const FMA: bool>(
    t: f64,
    h: f64,
    periodic: bool,
    p: &[f64],
    r: &[f64],
    out: &mut [f64],
    fx: &mut [f64],
    ap: &mut [f64],
    am: &mut [f64],
    up: Cross,
    down: Cross,
) -> f64 {
    let n = out.len();
    let nf = n - 1;
    let (uf, ua, df, da) = (&up.0[..n], &up.1[..n], &down.0[..n], &down.1[..n]);
    faces_body::<FMA>(
        t,
        h,
        &p[..nf],
        &p[1..],
        &r[..nf],
        &r[1..],
        &mut fx[..nf],
        ap,
        am,
    );
    // the wrap face (n−1 → 0) on a periodic axis; zero otherwise
    let (wf, wa, wb) = if periodic {
        let d = p[0] - p[nf];
        let (a, b) = if t == 0.0 {
            ((-d).max(0.0), d.max(0.0))
        } else {
            sg_pair_impl::<FMA>(d, t, 1.0 / t)
        };
        let ih2 = 1.0 / (h * h);
        ((a * r[nf] - b * r[0]) * ih2, a * ih2, b * ih2)
    } else {
        (0.0, 0.0, 0.0)
    };
    let (fx, ap, am) = (&fx[..nf], &ap[..nf], &am[..nf]);
    // out_c = (J_{c−½} − J_{c+½}) + (J_up − J_down); rate_c = sum of A/h² out of c
    out[0] = (wf - fx[0]) + (uf[0] - df[0]);
    let mut rate = ((wb + ap[0]) + ua[0]) + da[0];
    for c in 1..nf {
        out[c] = (fx[c - 1] - fx[c]) + (uf[c] - df[c]);
        rate = rate.max(((am[c - 1] + ap[c]) + ua[c]) + da[c]);
    }
    out[nf] = (fx[nf - 1] - wf) + (uf[nf] - df[nf]);
    rate.max(((am[nf - 1] + wa) + ua[nf]) + da[nf])
}

#[allow(clippy::too_many_arguments)]
#[inline]
fn row_sum(
    isa: Isa,
    t: f64,
    h: f64,
    periodic: bool,
    p: &[f64],
    r: &[f64],
    out: &mut [f64],
    fx: &mut [f64],
    ap: &mut [f64],
    am: &mut [f64],
    up: Cross,
    down: Cross,
) -> f64 {
    dispatch!(isa, row_body, row_avx2, row_avx512,
        (t: f64, h: f64, periodic: bool, p: &[f64], r: &[f64], out: &mut [f64],
         fx: &mut [f64], ap: &mut [f64], am: &mut [f64], up: Cross, down: Cross) -> f64)
}
