//! The mean-field potential of a convolution-type problem by FFT, in O(M log M).
//!
//! A periodic unit σ(x; θ) = a·Π_j φ₁(x_j − p_j) (a ≡ 1 unless the unit is weighted, θ = (a, p))
//! with φ₁(u) = Σ_{|l|≤L} c_{|l|} e^{ilu} (a Fourier/Dirichlet kernel; a wrapped Gaussian of
//! width s has c_l = s e^{−s²l²/2}/√(2π), truncated where c_l/c_0 < 1e-17), on data whose weights
//! integrate every e^{im·x} with |m_j| ≤ 2L exactly (uniform torus nodes, K ≥ 2L + 1 per axis),
//! has, under the squared loss (DESIGN.md §1),
//!
//! U(θ, θ') = Σ_k w_k σ(x_k; θ)σ(x_k; θ') = a a' κ(p − p'),  κ(δ) = Σ_{l ∈ [−L,L]^d} k̂_l e^{il·δ},
//! k̂_l = Π_j c_{|l_j|}²,  V(θ) = −Σ_k w_k y_k σ(x_k; θ) = a V₀(p),
//! V₀(p) = −Σ_l c_l Y_l e^{−il·p}, Y_l = Σ_k w_k y_k e^{il·x_k},  c_l = Π_j c_{|l_j|},
//!
//! so with s_p = Σ_a a·ρ(a, p)|cell| (the a-weighted marginal on the position grid),
//!
//! Ψ(a, p) = a [(κ ⊛ s)(p) + V₀(p)] + (λ/2)(a² + |p|²),
//!
//! where ⊛ is the circular convolution on the position grid, computed as the inverse real FFT of
//! ŝ\[q\]·κ̃\[q\] with κ̃\[q\] = Σ_{l ≡ q (mod n)} k̂_l (the DFT of κ(m h)/N). This equals the direct
//! O(M·K) sum of [`crate::MeanFieldPotential`] to round-off. The energy uses the network on the
//! data, f_k = Σ_l c_l ŝ(l) e^{il·x_k} with ŝ(l) = Σ_p s_p e^{−il·p} (read off the same FFT),
//! and R = Σ_k w_k (f_k − y_k)² as in the direct path: O(M log M + K·(2L+1)^d) per call.

use crate::error::PdeError;
use crate::fft::RealFft2;
use crate::potential::{Energy, MeanFieldPotential, PotentialField};
use mfl_core::{Grid, Loss, MeanField, PeriodicKernel, Unit, TORUS_PERIOD};
use num_complex::Complex64;
use std::sync::{Arc, Mutex};

/// How Ψ of a mean-field problem is computed on a grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Interaction {
    /// FFT when the problem is of convolution type ([`ConvolutionPotential::applies`]), else
    /// the direct path.
    #[default]
    Auto,
    /// Always the direct O(M·K) path of [`MeanFieldPotential`].
    Direct,
    /// The FFT path; an error when the problem is not of convolution type.
    Fft,
}

/// The potential field of `mf` on `grid` chosen by `how`.
pub fn mean_field_potential(
    mf: impl Into<Arc<MeanField>>,
    grid: &Grid,
    how: Interaction,
) -> Result<Box<dyn PotentialField>, PdeError> {
    let mf: Arc<MeanField> = mf.into();
    match how {
        Interaction::Direct => Ok(Box::new(MeanFieldPotential::new(mf, grid)?)),
        Interaction::Fft => Ok(Box::new(ConvolutionPotential::new(mf, grid)?)),
        Interaction::Auto => match ConvolutionPotential::applies(&mf, grid) {
            Ok(()) => Ok(Box::new(ConvolutionPotential::new(mf, grid)?)),
            Err(_) => Ok(Box::new(MeanFieldPotential::new(mf, grid)?)),
        },
    }
}

/// c_0..c_L of φ₁(u) = Σ_{|l|≤L} c_{|l|} e^{ilu}.
pub fn kernel_coefficients(kernel: &PeriodicKernel) -> Vec<f64> {
    match kernel {
        PeriodicKernel::Fourier { coeffs } => coeffs.clone(),
        PeriodicKernel::WrappedGaussian { width } => {
            let c0 = width / TORUS_PERIOD.sqrt();
            let mut c = vec![c0];
            for l in 1.. {
                let v = c0 * (-0.5 * width * width * (l * l) as f64).exp();
                if v < 1e-17 * c0 {
                    break;
                }
                c.push(v);
            }
            c
        }
    }
}

/// Work buffers of one evaluation.
#[derive(Debug)]
struct Work {
    fft: RealFft2,
    s: Vec<f64>,
    spec: Vec<Complex64>,
    g: Vec<f64>,
    f: Vec<f64>,
}

/// Ψ of a convolution-type mean-field problem by FFT (see the module documentation).
#[derive(Debug)]
pub struct ConvolutionPotential {
    mf: Arc<MeanField>,
    weighted: bool,
    /// a_i (weighted units), else [1].
    a: Vec<f64>,
    /// Position grid shape (n0, n1), n0 = 1 for one position axis.
    pos: (usize, usize),
    /// First position node per axis, θ_0 = lo + h/2 (padded to two axes).
    origin: [f64; 2],
    /// κ̃ on the half spectrum.
    kernel: Vec<f64>,
    /// V₀ on the position grid.
    v0: Vec<f64>,
    /// (λ/2)|θ_m|² on the cells.
    reg: Vec<f64>,
    /// |θ_m|² on the cells.
    sq: Vec<f64>,
    cell_volume: f64,
    /// c_0..c_L.
    coeffs: Vec<f64>,
    work: Mutex<Work>,
}

impl ConvolutionPotential {
    /// Whether `mf` on `grid` is of convolution type: squared loss, a periodic unit with d ≤ 2
    /// position axes (all periodic, of length 2π, checked as for the direct path), and data
    /// weights that integrate e^{im·x} exactly for |m_j| ≤ 2L. `Err` says why not.
    pub fn applies(mf: &MeanField, grid: &Grid) -> Result<(), PdeError> {
        let no = |why: String| Err(PdeError::invalid("interaction", why));
        if mf.loss != Loss::Squared {
            return no("the FFT interaction needs the squared loss".into());
        }
        let Unit::Periodic {
            kernel, input_dim, ..
        } = &mf.unit
        else {
            return no("the FFT interaction needs a periodic unit".into());
        };
        MeanFieldPotential::check_grid(mf, grid)?;
        let l = kernel_coefficients(kernel).len() as i64 - 1;
        let d = *input_dim;
        if let Some(n) = torus_nodes(&mf.data.x, &mf.data.w, d) {
            // n uniform nodes per axis integrate e^{imx} exactly for |m| < n
            if n as i64 > 2 * l {
                return Ok(());
            }
            return no(format!(
                "the data have {n} torus nodes per axis, but U is a convolution only with at \
                 least 2L + 1 = {} (data.nodes)",
                2 * l + 1
            ));
        }
        // other data: Σ_k w_k e^{im·x_k} = δ_{m,0} for m ∈ [−2L, 2L]^d, if cheap enough to check
        let x = &mf.data.x;
        let w = &mf.data.w;
        let range = 4 * l + 1;
        let total = range.pow(d as u32);
        if total as usize * x.nrows() > 10_000_000 {
            return no("the data are not uniform torus nodes (and too large to check)".into());
        }
        for idx in 0..total {
            let mut rem = idx;
            let mut m = [0i64; 2];
            for mj in m.iter_mut().take(d) {
                *mj = rem % range - 2 * l;
                rem /= range;
            }
            let mut s = Complex64::new(0.0, 0.0);
            for (xk, wk) in x.rows().into_iter().zip(w.iter()) {
                let ph: f64 = (0..d).map(|j| m[j] as f64 * xk[j]).sum();
                s += wk * Complex64::from_polar(1.0, ph);
            }
            let want = if m[..d].iter().all(|&v| v == 0) {
                1.0
            } else {
                0.0
            };
            if (s - want).norm() > 1e-12 {
                return no(format!(
                    "the data do not integrate e^{{im·x}} exactly for m = {:?} (|m_j| ≤ 2L = {}): \
                     use torus data with at least {} nodes per axis",
                    &m[..d],
                    2 * l,
                    2 * l + 1
                ));
            }
        }
        Ok(())
    }

    /// The FFT potential of `mf` on `grid`; an error naming the reason when it does not apply.
    pub fn new(mf: impl Into<Arc<MeanField>>, grid: &Grid) -> Result<Self, PdeError> {
        let mf: Arc<MeanField> = mf.into();
        Self::applies(&mf, grid)?;
        let Unit::Periodic {
            kernel,
            weighted,
            input_dim: d,
        } = mf.unit.clone()
        else {
            unreachable!("checked by applies")
        };
        let coeffs = kernel_coefficients(&kernel);
        let l = coeffs.len() - 1;
        let off = usize::from(weighted);
        let pos_axes = &grid.axes[off..];
        let pos = if d == 1 {
            (1, pos_axes[0].n)
        } else {
            (pos_axes[0].n, pos_axes[1].n)
        };
        let mut origin = [0.0; 2];
        for (j, ax) in pos_axes.iter().enumerate() {
            origin[2 - d + j] = ax.centre(0);
        }
        let a = if weighted {
            grid.axes[0].centres()
        } else {
            vec![1.0]
        };
        let fft = RealFft2::new(pos.0, pos.1);
        let nh = fft.half_width();
        // κ̃[q] = Σ_{l ≡ q} Π c_l², over the half spectrum (κ is real and even)
        let mut kern = vec![0.0; fft.spectrum_len()];
        let li = l as i64;
        for l0 in if d == 2 { -li..=li } else { 0..=0 } {
            for l1 in -li..=li {
                let q0 = l0.rem_euclid(pos.0 as i64) as usize;
                let q1 = l1.rem_euclid(pos.1 as i64) as usize;
                if q1 >= nh {
                    continue; // the conjugate half
                }
                let c0 = if d == 2 {
                    coeffs[l0.unsigned_abs() as usize]
                } else {
                    1.0
                };
                let c1 = coeffs[l1.unsigned_abs() as usize];
                kern[q0 * nh + q1] += (c0 * c1).powi(2);
            }
        }
        // V₀(p) = −Σ_l c_l Y_l e^{−il·p}, separably over the position axes
        let y_hat = label_transform(&mf, d, li);
        let width = 2 * l + 1;
        let v0 = {
            let p1 = &pos_axes[d - 1].centres();
            let p0 = if d == 2 {
                pos_axes[0].centres()
            } else {
                vec![0.0]
            };
            let mut v0 = vec![0.0; pos.0 * pos.1];
            let rows0 = if d == 2 { width } else { 1 };
            // G[l0][i1] = Σ_{l1} c_{l1} Y_{l0,l1} e^{−i l1 p1}
            let mut g = vec![Complex64::new(0.0, 0.0); rows0 * pos.1];
            for r in 0..rows0 {
                for (i1, p) in p1.iter().enumerate() {
                    let mut s = Complex64::new(0.0, 0.0);
                    for l1 in -li..=li {
                        let c = coeffs[l1.unsigned_abs() as usize];
                        s += c
                            * y_hat[r * width + (l1 + li) as usize]
                            * Complex64::from_polar(1.0, -(l1 as f64) * p);
                    }
                    g[r * pos.1 + i1] = s;
                }
            }
            for (i0, q) in p0.iter().enumerate() {
                for i1 in 0..pos.1 {
                    let mut s = Complex64::new(0.0, 0.0);
                    for r in 0..rows0 {
                        let l0 = if d == 2 { r as i64 - li } else { 0 };
                        let c = if d == 2 {
                            coeffs[l0.unsigned_abs() as usize]
                        } else {
                            1.0
                        };
                        s += c * g[r * pos.1 + i1] * Complex64::from_polar(1.0, -(l0 as f64) * q);
                    }
                    v0[i0 * pos.1 + i1] = -s.re;
                }
            }
            v0
        };
        let centres = grid.centres();
        let sq: Vec<f64> = centres.rows().into_iter().map(|t| t.dot(&t)).collect();
        let reg = sq.iter().map(|v| 0.5 * mf.lambda * v).collect();
        let np = pos.0 * pos.1;
        let k = mf.data.len();
        Ok(ConvolutionPotential {
            weighted,
            a,
            pos,
            origin,
            kernel: kern,
            v0,
            reg,
            sq,
            cell_volume: grid.cell_volume(),
            coeffs,
            work: Mutex::new(Work {
                spec: vec![Complex64::new(0.0, 0.0); fft.spectrum_len()],
                fft,
                s: vec![0.0; np],
                g: vec![0.0; np],
                f: vec![0.0; k],
            }),
            mf,
        })
    }

    /// The wrapped problem.
    pub fn mean_field(&self) -> &MeanField {
        &self.mf
    }

    /// V₀ on the position grid (without the weight a and the ridge term).
    pub fn v0(&self) -> &[f64] {
        &self.v0
    }

    /// s_p = Σ_a a ρ(a, p)|cell| into w.s.
    fn marginal(&self, rho: &[f64], w: &mut Work) {
        let np = self.pos.0 * self.pos.1;
        w.s.iter_mut().for_each(|v| *v = 0.0);
        for (ai, row) in self.a.iter().zip(rho.chunks_exact(np)) {
            for (s, r) in w.s.iter_mut().zip(row) {
                *s += ai * r;
            }
        }
        w.s.iter_mut().for_each(|v| *v *= self.cell_volume);
    }

    /// f_k of ρ into w.f: the marginal s, its transform ŝ, then f_k = Σ_l c_l ŝ(l) e^{il·x_k}.
    fn network_of_density(&self, rho: &[f64], w: &mut Work) {
        self.marginal(rho, w);
        let Work { fft, s, spec, .. } = w;
        fft.forward(s, spec);
        self.network_of_spectrum(w);
    }

    /// f_k = Σ_l c_l ŝ(l) e^{il·x_k} from the forward transform in w.spec.
    fn network_of_spectrum(&self, w: &mut Work) {
        let (n0, n1) = self.pos;
        let nh = n1 / 2 + 1;
        let li = self.coeffs.len() as i64 - 1;
        let d = self.mf.unit.input_dim();
        let two_d = d == 2;
        let width = (2 * li + 1) as usize;
        // ŝ(l) c_l for every l ∈ [−L, L]^d
        let rows0 = if two_d { width } else { 1 };
        let mut modes = vec![Complex64::new(0.0, 0.0); rows0 * width];
        for r in 0..rows0 {
            let l0 = if two_d { r as i64 - li } else { 0 };
            for l1 in -li..=li {
                let q0 = l0.rem_euclid(n0 as i64) as usize;
                let q1 = l1.rem_euclid(n1 as i64) as usize;
                let dft = if q1 < nh {
                    w.spec[q0 * nh + q1]
                } else {
                    w.spec[((n0 - q0) % n0) * nh + (n1 - q1)].conj()
                };
                let ph = -(l0 as f64 * self.origin[0] + l1 as f64 * self.origin[1]);
                let c0 = if two_d {
                    self.coeffs[l0.unsigned_abs() as usize]
                } else {
                    1.0
                };
                let c = c0 * self.coeffs[l1.unsigned_abs() as usize];
                modes[r * width + (l1 + li) as usize] = c * dft * Complex64::from_polar(1.0, ph);
            }
        }
        let x = &self.mf.data.x;
        for (fk, xk) in w.f.iter_mut().zip(x.rows()) {
            let x1 = xk[d - 1];
            let x0 = if two_d { xk[0] } else { 0.0 };
            let mut s = Complex64::new(0.0, 0.0);
            for r in 0..rows0 {
                let l0 = if two_d { r as i64 - li } else { 0 };
                let mut inner = Complex64::new(0.0, 0.0);
                for l1 in -li..=li {
                    inner += modes[r * width + (l1 + li) as usize]
                        * Complex64::from_polar(1.0, l1 as f64 * x1);
                }
                s += inner * Complex64::from_polar(1.0, l0 as f64 * x0);
            }
            *fk = s.re;
        }
    }
}

/// Some(n) when the data are the tensor rule of n uniform nodes i·2π/n per axis with equal
/// weights (the layout of `Inputs::torus`), checked in O(K).
fn torus_nodes(x: &ndarray::Array2<f64>, w: &ndarray::Array1<f64>, d: usize) -> Option<usize> {
    let k = x.nrows();
    let n = (k as f64).powf(1.0 / d as f64).round() as usize;
    if n == 0 || n.pow(d as u32) != k {
        return None;
    }
    let h = TORUS_PERIOD / n as f64;
    let wk = 1.0 / k as f64;
    for (idx, (row, wi)) in x.rows().into_iter().zip(w).enumerate() {
        if (wi - wk).abs() > 1e-12 * wk {
            return None;
        }
        let mut rem = idx;
        for a in (0..d).rev() {
            if (row[a] - (rem % n) as f64 * h).abs() > 1e-12 {
                return None;
            }
            rem /= n;
        }
    }
    Some(n)
}

/// Y_l = Σ_k w_k y_k e^{il·x_k} for l ∈ [−L, L]^d, row-major (l0, l1) (one row for d = 1).
fn label_transform(mf: &MeanField, d: usize, li: i64) -> Vec<Complex64> {
    let width = (2 * li + 1) as usize;
    let rows0 = if d == 2 { width } else { 1 };
    let mut y = vec![Complex64::new(0.0, 0.0); rows0 * width];
    for ((xk, yk), wk) in mf.data.x.rows().into_iter().zip(&mf.data.y).zip(&mf.data.w) {
        let wy = wk * yk;
        for r in 0..rows0 {
            let l0 = if d == 2 { r as i64 - li } else { 0 };
            let p0 = if d == 2 { l0 as f64 * xk[0] } else { 0.0 };
            for l1 in -li..=li {
                y[r * width + (l1 + li) as usize] +=
                    wy * Complex64::from_polar(1.0, p0 + l1 as f64 * xk[d - 1]);
            }
        }
    }
    y
}

impl PotentialField for ConvolutionPotential {
    fn problem(&self) -> Option<&Arc<MeanField>> {
        Some(&self.mf)
    }
    fn dim(&self) -> usize {
        self.mf.theta_dim()
    }

    fn potential(&self, rho: &[f64], out: &mut [f64]) {
        let mut guard = self.work.lock().unwrap_or_else(|e| e.into_inner());
        let w = &mut *guard;
        self.marginal(rho, w);
        let Work {
            fft, s, spec, g, ..
        } = w;
        fft.forward(s, spec);
        for (z, k) in spec.iter_mut().zip(&self.kernel) {
            *z *= *k;
        }
        fft.inverse(spec, g);
        for (gi, v) in g.iter_mut().zip(&self.v0) {
            *gi += v;
        }
        let np = self.pos.0 * self.pos.1;
        for ((ai, o), reg) in self
            .a
            .iter()
            .zip(out.chunks_exact_mut(np))
            .zip(self.reg.chunks_exact(np))
        {
            for ((oi, gi), ri) in o.iter_mut().zip(g.iter()).zip(reg) {
                *oi = if self.weighted { ai * gi } else { *gi } + ri;
            }
        }
    }

    /// sup_q |k_q|² κ̃\[q\] (times max a² · the a-extent for weighted units).
    fn stiffness(&self) -> f64 {
        let (n0, n1) = self.pos;
        let nh = n1 / 2 + 1;
        let mut s: f64 = 0.0;
        for q0 in 0..n0 {
            let j0 = crate::fft::signed_frequency(q0, n0) as f64;
            for q1 in 0..nh {
                s = s.max((j0 * j0 + (q1 * q1) as f64) * self.kernel[q0 * nh + q1]);
            }
        }
        if self.weighted {
            let amax = self.a.iter().fold(0.0f64, |m, a| m.max(a.abs()));
            let extent = (self.a.len() as f64) * (self.a[1] - self.a[0]).abs();
            s *= amax * amax * extent;
        }
        s
    }

    fn network(&self, rho: &[f64]) -> Option<Vec<f64>> {
        let mut guard = self.work.lock().unwrap_or_else(|e| e.into_inner());
        self.network_of_density(rho, &mut guard);
        Some(guard.f.clone())
    }

    fn energy(&self, rho: &[f64]) -> Energy {
        let mut guard = self.work.lock().unwrap_or_else(|e| e.into_inner());
        let w = &mut *guard;
        self.network_of_density(rho, w);
        let risk = self.mf.risk_of_network(&w.f);
        let second: f64 =
            self.sq.iter().zip(rho).map(|(q, r)| q * r).sum::<f64>() * self.cell_volume;
        Energy {
            risk: Some(risk),
            energy: 0.5 * risk + 0.5 * self.mf.lambda * second,
        }
    }
}
