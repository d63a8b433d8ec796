//! Real-to-complex FFTs of 1D and 2D periodic grids, planned once, with preallocated scratch.
//!
//! A field u on an n0 × n1 grid (row-major, m = i0·n1 + i1; a 1D grid is n0 = 1) has the
//! unnormalised transform
//!
//! û[j0, j1] = Σ_{i0,i1} u[i0, i1] e^{−2πi (j0 i0/n0 + j1 i1/n1)},  j0 < n0, j1 ≤ n1/2,
//!
//! stored row-major in n0 × (n1/2 + 1) complex numbers (the other half follows from
//! û[−j] = conj û\[j\]). [`RealFft2::inverse`] computes Σ_j û\[j\] e^{+2πi j·i/n} without the 1/N,
//! so `inverse(forward(u)) = N·u`, N = n0·n1.
//!
//! Rows are real transforms (realfft); columns are complex transforms (rustfft) on a transposed
//! copy so that every transform reads contiguous memory. Large grids split rows/columns over
//! the rayon pool in fixed chunks, each with its own preallocated scratch; every transform is
//! the same arithmetic whichever thread runs it, so results are bit-identical for any number of
//! threads.

use num_complex::Complex64;
use rayon::prelude::*;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use rustfft::{Fft, FftPlanner};
use std::sync::Arc;

/// Grids with fewer points than this are transformed on the calling thread.
const PARALLEL_MIN: usize = 1 << 16;

/// Scratch of one chunk of rows.
#[derive(Clone)]
struct Scratch {
    row: Vec<f64>,
    c: Vec<Complex64>,
}

/// A planned 2D (or 1D, n0 = 1) real FFT with its scratch buffers.
pub struct RealFft2 {
    n0: usize,
    n1: usize,
    n1h: usize,
    r2c: Arc<dyn RealToComplex<f64>>,
    c2r: Arc<dyn ComplexToReal<f64>>,
    col_fwd: Option<Arc<dyn Fft<f64>>>,
    col_inv: Option<Arc<dyn Fft<f64>>>,
    /// The half spectrum transposed: n1h rows of length n0.
    trans: Vec<Complex64>,
    scratch: Vec<Scratch>,
    chunks: usize,
}

impl std::fmt::Debug for RealFft2 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RealFft2({} × {})", self.n0, self.n1)
    }
}

impl RealFft2 {
    /// Plans for an n0 × n1 grid (n0 = 1 for a 1D grid of n1 points), n1 ≥ 2.
    pub fn new(n0: usize, n1: usize) -> Self {
        let mut rp = RealFftPlanner::<f64>::new();
        let r2c = rp.plan_fft_forward(n1);
        let c2r = rp.plan_fft_inverse(n1);
        let n1h = n1 / 2 + 1;
        let (col_fwd, col_inv) = if n0 > 1 {
            let mut cp = FftPlanner::<f64>::new();
            (Some(cp.plan_fft_forward(n0)), Some(cp.plan_fft_inverse(n0)))
        } else {
            (None, None)
        };
        let len = [
            r2c.get_scratch_len(),
            c2r.get_scratch_len(),
            col_fwd.as_ref().map_or(0, |p| p.get_inplace_scratch_len()),
            col_inv.as_ref().map_or(0, |p| p.get_inplace_scratch_len()),
        ]
        .into_iter()
        .max()
        .unwrap_or(0);
        let chunks = if n0 * n1 >= PARALLEL_MIN && n0 > 1 {
            rayon::current_num_threads().clamp(1, n0.min(n1h))
        } else {
            1
        };
        RealFft2 {
            n0,
            n1,
            n1h,
            r2c,
            c2r,
            col_fwd,
            col_inv,
            trans: vec![Complex64::new(0.0, 0.0); if n0 > 1 { n0 * n1h } else { 0 }],
            scratch: vec![
                Scratch {
                    row: vec![0.0; n1],
                    c: vec![Complex64::new(0.0, 0.0); len.max(1)],
                };
                chunks
            ],
            chunks,
        }
    }

    /// Grid shape (n0, n1).
    pub fn shape(&self) -> (usize, usize) {
        (self.n0, self.n1)
    }

    /// Length n0·(n1/2 + 1) of a half spectrum.
    pub fn spectrum_len(&self) -> usize {
        self.n0 * self.n1h
    }

    /// Columns of the half spectrum, n1/2 + 1.
    pub fn half_width(&self) -> usize {
        self.n1h
    }

    /// The forward transform û of `u` (length n0·n1) into `out` (length n0·(n1/2+1)).
    pub fn forward(&mut self, u: &[f64], out: &mut [Complex64]) {
        let (n1, n1h) = (self.n1, self.n1h);
        let r2c = &self.r2c;
        let rows_per = self.n0.div_ceil(self.chunks);
        let job = |(u, o, s): (&[f64], &mut [Complex64], &mut Scratch)| {
            for (ur, or) in u.chunks_exact(n1).zip(o.chunks_exact_mut(n1h)) {
                s.row.copy_from_slice(ur);
                r2c.process_with_scratch(&mut s.row, or, &mut s.c)
                    .expect("realfft forward: lengths are planned");
            }
        };
        if self.chunks > 1 {
            u.par_chunks(rows_per * n1)
                .zip(out.par_chunks_mut(rows_per * n1h))
                .zip(self.scratch.par_iter_mut())
                .for_each(|((a, b), c)| job((a, b, c)));
        } else {
            job((u, out, &mut self.scratch[0]));
        }
        if let Some(p) = self.col_fwd.clone() {
            self.columns(out, p.as_ref());
        }
    }

    /// The unnormalised inverse Σ_j û\[j\] e^{+2πi j·i/n} of the half spectrum `spec` into `out`.
    /// `spec` is used as scratch (its contents are destroyed). The imaginary parts of the
    /// self-conjugate bins (j1 = 0 and, for even n1, j1 = n1/2 after the column transforms) are
    /// discarded, i.e. the real part of the inverse is returned.
    pub fn inverse(&mut self, spec: &mut [Complex64], out: &mut [f64]) {
        if let Some(p) = self.col_inv.clone() {
            self.columns(spec, p.as_ref());
        }
        let (n1, n1h) = (self.n1, self.n1h);
        let even = n1 % 2 == 0;
        let c2r = &self.c2r;
        let rows_per = self.n0.div_ceil(self.chunks);
        let job = |(sp, o, s): (&mut [Complex64], &mut [f64], &mut Scratch)| {
            for (sr, or) in sp.chunks_exact_mut(n1h).zip(o.chunks_exact_mut(n1)) {
                sr[0].im = 0.0;
                if even {
                    sr[n1h - 1].im = 0.0;
                }
                c2r.process_with_scratch(sr, or, &mut s.c)
                    .expect("realfft inverse: lengths are planned, bins made real");
            }
        };
        if self.chunks > 1 {
            spec.par_chunks_mut(rows_per * n1h)
                .zip(out.par_chunks_mut(rows_per * n1))
                .zip(self.scratch.par_iter_mut())
                .for_each(|((a, b), c)| job((a, b, c)));
        } else {
            job((spec, out, &mut self.scratch[0]));
        }
    }

    /// In-place complex transforms of length n0 along the columns of `spec` (via `trans`).
    fn columns(&mut self, spec: &mut [Complex64], plan: &dyn Fft<f64>) {
        let (n0, n1h) = (self.n0, self.n1h);
        transpose(spec, n0, n1h, &mut self.trans);
        let cols_per = n1h.div_ceil(self.chunks);
        if self.chunks > 1 {
            self.trans
                .par_chunks_mut(cols_per * n0)
                .zip(self.scratch.par_iter_mut())
                .for_each(|(t, s)| plan.process_with_scratch(t, &mut s.c));
        } else {
            plan.process_with_scratch(&mut self.trans, &mut self.scratch[0].c);
        }
        transpose(&self.trans, n1h, n0, spec);
    }
}

/// dst[c·rows + r] = src[r·cols + c], blocked for the cache.
fn transpose(src: &[Complex64], rows: usize, cols: usize, dst: &mut [Complex64]) {
    const B: usize = 32;
    for r0 in (0..rows).step_by(B) {
        for c0 in (0..cols).step_by(B) {
            for r in r0..(r0 + B).min(rows) {
                for c in c0..(c0 + B).min(cols) {
                    dst[c * rows + r] = src[r * cols + c];
                }
            }
        }
    }
}

/// The signed integer frequency of DFT bin j of an n-point axis: j for j ≤ n/2, j − n above.
pub fn signed_frequency(j: usize, n: usize) -> i64 {
    if 2 * j <= n {
        j as i64
    } else {
        j as i64 - n as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn direct(u: &[f64], n0: usize, n1: usize, j0: usize, j1: usize) -> Complex64 {
        let mut s = Complex64::new(0.0, 0.0);
        for i0 in 0..n0 {
            for i1 in 0..n1 {
                let ph = -std::f64::consts::TAU
                    * ((j0 * i0) as f64 / n0 as f64 + (j1 * i1) as f64 / n1 as f64);
                s += u[i0 * n1 + i1] * Complex64::new(ph.cos(), ph.sin());
            }
        }
        s
    }

    #[test]
    fn forward_matches_the_dft_and_inverse_inverts() {
        for &(n0, n1) in &[(1usize, 8usize), (1, 9), (6, 8), (5, 7), (4, 10)] {
            let u: Vec<f64> = (0..n0 * n1)
                .map(|m| (0.37 * m as f64).sin() + 0.1 * m as f64)
                .collect();
            let mut f = RealFft2::new(n0, n1);
            let mut spec = vec![Complex64::new(0.0, 0.0); f.spectrum_len()];
            f.forward(&u, &mut spec);
            for j0 in 0..n0 {
                for j1 in 0..n1 / 2 + 1 {
                    let d = direct(&u, n0, n1, j0, j1);
                    assert!((spec[j0 * f.half_width() + j1] - d).norm() < 1e-11);
                }
            }
            let mut back = vec![0.0; n0 * n1];
            f.inverse(&mut spec, &mut back);
            for (b, x) in back.iter().zip(&u) {
                assert!((b / (n0 * n1) as f64 - x).abs() < 1e-13);
            }
        }
    }
}
