//! The fused explicit-stage kernel: dρ/dt = −div J and the positivity rate bound in one pass.
//!
//! For every cell m (flat index i·n1 + c of a row-major grid; a 1D grid is one row), with the
//! face values of [`super::sg_pair`] on each face (L, R) of spacing h,
//!
//! F = (A(ΔΨ) ρ_L − A(−ΔΨ) ρ_R)/h² (= J/h),  P = A(ΔΨ)/h² (out of L),  Q = A(−ΔΨ)/h² (out of R),
//!
//! the kernel writes out_m = (F_{c−½} − F_{c+½}) + (F_{i−½} − F_{i+½}) (in-row faces first,
//! then the faces to the rows above and below; a missing face counts as 0) and returns
//! max(0, max_m rate_m), rate_m = ((Q_{c−½} + P_{c+½}) + Q_{i−½}) + P_{i+½}: the rate at which
//! cell m empties, so forward Euler with dt ≤ 1/rate keeps ρ ≥ 0 ([`super::sg_rhs`],
//! [`super::max_outflow`] are the face-by-face references).
//!
//! **One pass.** The grid is cut into bands of whole rows (≥ 8192 cells each). A band walks
//! its rows top to bottom keeping two rows of cross-row face values (the faces above and below
//! the current row) and one row of in-row face values — 9 rows of scratch, resident in L1/L2 —
//! so Ψ and ρ are read once, `out` written once, and no M-sized intermediate exists. The face
//! above a band's first row is also computed by the band above (one extra row of faces per
//! band, ≈ 3 % at 256²). The scratch is allocated once, in [`SgKernel::new`].
//!
//! **Parallel.** Bands are rayon tasks (one parallel call per stage; 8 bands at 256², 32 at
//! 512²), each writing its own contiguous rows of `out`. Each face value is a function of its
//! two cells only and each cell's sum is taken in the fixed order above, so the result does
//! not depend on the banding or the thread count, bit for bit.
//!
//! **Vectorised.** The band body is compiled once per [`Isa`] ([`mfl_core::isa_dispatch!`]):
//! the exponential is [`mfl_core::simd::exp_expm1_neg`], one per face, with fused
//! multiply–adds on the AVX2 (4 lanes) and AVX-512 (8 lanes) copies — those two give
//! identical bits — and separately rounded multiplies and adds on the generic copy (so a CPU
//! without AVX2+FMA differs in the last bits).

use super::coefficient::sg_pair_impl;
use super::Layout;
use mfl_core::simd::Isa;
use rayon::prelude::*;

/// Cells below which the kernel runs as one band on the calling thread.
const PAR_MIN_CELLS: usize = 1 << 14;
/// Cells per band (at least; whole rows): ≈ 40 µs of work, well above rayon's ≈ 12 µs per
/// task (DESIGN.md §6).
const BAND_CELLS: usize = 8192;

/// The fused explicit-stage kernel (module doc): owns its scratch, built once per grid and
/// temperature.
#[derive(Debug, Clone)]
pub struct SgKernel {
    layout: Layout,
    temperature: f64,
    geometry: Geometry,
    isa: Isa,
    band_rows: usize,
    bands: Vec<Band>,
    band_rate: Vec<f64>,
}

/// What a band needs to know about the grid.
#[derive(Debug, Clone, Copy)]
struct Geometry {
    rows: usize,
    cols: usize,
    /// Whether there are faces between rows (a 2D grid).
    cross: bool,
    /// Spacing and periodicity across rows (axis 0 of a 2D grid).
    h_cross: f64,
    per_cross: bool,
    /// Spacing and periodicity along a row.
    h_in: f64,
    per_in: bool,
    temperature: f64,
}

/// F, P, Q (module doc) of one line of faces.
#[derive(Debug, Clone)]
struct FaceRow {
    fx: Vec<f64>,
    ap: Vec<f64>,
    am: Vec<f64>,
}

impl FaceRow {
    fn new(n: usize) -> Self {
        FaceRow {
            fx: vec![0.0; n],
            ap: vec![0.0; n],
            am: vec![0.0; n],
        }
    }

    fn clear(&mut self) {
        self.fx.iter_mut().for_each(|v| *v = 0.0);
        self.ap.iter_mut().for_each(|v| *v = 0.0);
        self.am.iter_mut().for_each(|v| *v = 0.0);
    }
}

/// A band's scratch: the cross-row faces above and below the current row, and its in-row faces.
#[derive(Debug, Clone)]
struct Band {
    up: FaceRow,
    down: FaceRow,
    inrow: FaceRow,
}

impl SgKernel {
    /// The kernel for `layout` at temperature T ≥ 0, with the instruction set of
    /// [`Isa::detect`].
    pub fn new(layout: &Layout, temperature: f64) -> Self {
        let m = layout.len();
        let geometry = if layout.dim == 2 {
            Geometry {
                rows: layout.n[0],
                cols: layout.n[1],
                cross: true,
                h_cross: layout.h[0],
                per_cross: layout.periodic[0],
                h_in: layout.h[1],
                per_in: layout.periodic[1],
                temperature,
            }
        } else {
            Geometry {
                rows: 1,
                cols: layout.n[0],
                cross: false,
                h_cross: 1.0,
                per_cross: false,
                h_in: layout.h[0],
                per_in: layout.periodic[0],
                temperature,
            }
        };
        let (rows, cols) = (geometry.rows, geometry.cols);
        let band_rows = if m < PAR_MIN_CELLS {
            rows
        } else {
            BAND_CELLS.div_ceil(cols).clamp(1, rows)
        };
        let nb = rows.div_ceil(band_rows);
        let band = Band {
            up: FaceRow::new(cols),
            down: FaceRow::new(cols),
            inrow: FaceRow::new(cols),
        };
        SgKernel {
            layout: layout.clone(),
            temperature,
            geometry,
            isa: Isa::detect(),
            band_rows,
            bands: vec![band; nb],
            band_rate: vec![0.0; nb],
        }
    }

    /// The same kernel compiled for `isa` (for tests and benchmarks of each copy; an
    /// unavailable instruction set runs the generic copy).
    pub fn with_isa(mut self, isa: Isa) -> Self {
        self.isa = isa;
        self
    }

    /// The instruction set the kernel runs with.
    pub fn isa(&self) -> Isa {
        self.isa
    }

    /// The layout and temperature the kernel was built for.
    pub fn layout(&self) -> (&Layout, f64) {
        (&self.layout, self.temperature)
    }

    /// Writes out_m = −(div J)_m (module doc) and returns the forward-Euler rate bound
    /// max(0, max_m Σ_{faces of m} A(Ψ_nbr − Ψ_m)/h²). `psi`, `rho` and `out` have one entry
    /// per cell; panics otherwise (a caller bug).
    pub fn rhs_rate(&mut self, psi: &[f64], rho: &[f64], out: &mut [f64]) -> f64 {
        let g = self.geometry;
        let m = g.rows * g.cols;
        assert!(
            psi.len() == m && rho.len() == m && out.len() == m,
            "SgKernel::rhs_rate: {m} cells, got ψ {}, ρ {}, out {}",
            psi.len(),
            rho.len(),
            out.len()
        );
        let (isa, band_rows) = (self.isa, self.band_rows);
        let run = |b: usize, o: &mut [f64], sc: &mut Band, rate: &mut f64| {
            *rate = band(isa, &g, psi, rho, b * band_rows, o, sc);
        };
        let chunk = band_rows * g.cols;
        if self.bands.len() > 1 && rayon::current_num_threads() > 1 {
            out.par_chunks_mut(chunk)
                .zip(self.bands.par_iter_mut())
                .zip(self.band_rate.par_iter_mut())
                .enumerate()
                .for_each(|(b, ((o, sc), rate))| run(b, o, sc, rate));
        } else {
            for (b, ((o, sc), rate)) in out
                .chunks_mut(chunk)
                .zip(self.bands.iter_mut())
                .zip(self.band_rate.iter_mut())
                .enumerate()
            {
                run(b, o, sc, rate);
            }
        }
        self.band_rate.iter().fold(0.0, |a: f64, &b| a.max(b))
    }
}

/// One band, compiled for `isa`.
#[inline]
fn band(
    isa: Isa,
    g: &Geometry,
    psi: &[f64],
    rho: &[f64],
    first_row: usize,
    out: &mut [f64],
    sc: &mut Band,
) -> f64 {
    mfl_core::isa_dispatch!(isa, [FMA] fn k(g: &Geometry, psi: &[f64], rho: &[f64],
        first_row: usize, out: &mut [f64], sc: &mut Band) -> f64 {
        band_body::<FMA>(g, psi, rho, first_row, out, sc)
    })
}

/// The rows of `out` (whole rows, starting at `first_row`): cross-row faces above each row
/// carried over from the row before, below computed, then the row itself ([`row_body`]).
#[inline(always)]
fn band_body<const FMA: bool>(
    g: &Geometry,
    psi: &[f64],
    rho: &[f64],
    first_row: usize,
    out: &mut [f64],
    sc: &mut Band,
) -> f64 {
    let cols = g.cols;
    let Band { up, down, inrow } = sc;
    cross_faces::<FMA>(g, psi, rho, g.face_above(first_row), up);
    let mut rate = 0.0f64;
    for (j, o) in out.chunks_exact_mut(cols).enumerate() {
        let i = first_row + j;
        cross_faces::<FMA>(g, psi, rho, g.face_below(i), down);
        // one cell past the row where the grid has one, so that the in-row face loop runs
        // over n faces (a whole number of vectors when 8 | n) instead of n − 1
        let end = ((i + 1) * cols + 1).min(psi.len());
        let row = i * cols..end;
        let r = row_body::<FMA>(
            g.temperature,
            g.h_in,
            g.per_in,
            &psi[row.clone()],
            &rho[row],
            o,
            inrow,
            (&up.fx, &up.am),
            (&down.fx, &down.ap),
        );
        rate = rate.max(r);
        std::mem::swap(up, down);
    }
    rate
}

impl Geometry {
    /// The cross-row face above row i (between rows f and f + 1 mod n0), if any.
    #[inline(always)]
    fn face_above(&self, i: usize) -> Option<usize> {
        if !self.cross {
            None
        } else if i > 0 {
            Some(i - 1)
        } else if self.per_cross {
            Some(self.rows - 1)
        } else {
            None
        }
    }

    /// The cross-row face below row i, if any.
    #[inline(always)]
    fn face_below(&self, i: usize) -> Option<usize> {
        (self.cross && (i + 1 < self.rows || self.per_cross)).then_some(i)
    }
}

/// The faces between rows f and f + 1 (mod n0) into `fr`, or zeros where there is no face.
/// (A function, not a closure, so that it is inlined into each instruction-set copy.)
#[inline(always)]
fn cross_faces<const FMA: bool>(
    g: &Geometry,
    psi: &[f64],
    rho: &[f64],
    f: Option<usize>,
    fr: &mut FaceRow,
) {
    let cols = g.cols;
    match f {
        Some(f) => {
            let h = if f + 1 == g.rows { 0 } else { f + 1 };
            let (lo, hi) = (f * cols..(f + 1) * cols, h * cols..(h + 1) * cols);
            faces_body::<FMA>(
                g.temperature,
                g.h_cross,
                &psi[lo.clone()],
                &psi[hi.clone()],
                &rho[lo],
                &rho[hi],
                &mut fr.fx,
                &mut fr.ap,
                &mut fr.am,
            );
        }
        None => fr.clear(),
    }
}

/// Face values for the faces between cells l[c] and r[c] (spacing h):
/// fx = (A(ΔΨ)ρ_L − A(−ΔΨ)ρ_R)/h², ap = A(ΔΨ)/h², am = A(−ΔΨ)/h².
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

/// Cross-row face values seen from a row: (F, rate out of this row) per column.
type Cross<'a> = (&'a [f64], &'a [f64]);

/// One row of n = `out.len()` ≥ 2 cells: its in-row faces into `fr`, then out = −div J and the
/// row's maximum rate, adding the cross-row faces above (flux in, Q) and below (flux out, P).
/// `p` and `r` hold the row's n values, or n + 1 (the first cell of the next row): then the
/// face loop also evaluates the (meaningless, unused) face between the row's last cell and
/// that one, which only makes the loop a whole number of vectors long.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn row_body<const FMA: bool>(
    t: f64,
    h: f64,
    periodic: bool,
    p: &[f64],
    r: &[f64],
    out: &mut [f64],
    fr: &mut FaceRow,
    up: Cross,
    down: Cross,
) -> f64 {
    let n = out.len();
    let nf = n - 1;
    let (uf, ua, df, da) = (&up.0[..n], &up.1[..n], &down.0[..n], &down.1[..n]);
    let nfc = (p.len().min(r.len()) - 1).min(n);
    faces_body::<FMA>(
        t,
        h,
        &p[..nfc],
        &p[1..nfc + 1],
        &r[..nfc],
        &r[1..nfc + 1],
        &mut fr.fx[..nfc],
        &mut fr.ap,
        &mut fr.am,
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
    let (fx, ap, am) = (&fr.fx[..nf], &fr.ap[..nf], &fr.am[..nf]);
    // out_c = (F_{c−½} − F_{c+½}) + (F_up − F_down); rate_c = ((Q_{c−½} + P_{c+½}) + Q_up) + P_down
    out[0] = (wf - fx[0]) + (uf[0] - df[0]);
    out[nf] = (fx[nf - 1] - wf) + (uf[nf] - df[nf]);
    let ends = (((wb + ap[0]) + ua[0]) + da[0]).max(((am[nf - 1] + wa) + ua[nf]) + da[nf]);
    // interior cells 1..nf: element-wise, so it vectorises
    let len = nf - 1;
    {
        let (o, fl, fr_, u, d) = (
            &mut out[1..nf],
            &fx[..len],
            &fx[1..],
            &uf[1..nf],
            &df[1..nf],
        );
        for c in 0..len {
            o[c] = (fl[c] - fr_[c]) + (u[c] - d[c]);
        }
    }
    // the rate: max is exact, so four running maxima give the same value as one
    let (ql, pr, qu, pd) = (&am[..len], &ap[1..], &ua[1..nf], &da[1..nf]);
    let mut m = [0.0f64; 4];
    let quads = len / 4;
    for q in 0..quads {
        for (l, ml) in m.iter_mut().enumerate() {
            let c = 4 * q + l;
            *ml = ml.max(((ql[c] + pr[c]) + qu[c]) + pd[c]);
        }
    }
    for c in 4 * quads..len {
        m[0] = m[0].max(((ql[c] + pr[c]) + qu[c]) + pd[c]);
    }
    ends.max(m[0].max(m[1]).max(m[2].max(m[3])))
}
