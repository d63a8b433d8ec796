//! The one kernel: f_ρ, R(ρ), Ψ(θ; ρ), ∇_θΨ(θ; ρ) and F(ρ) for any weighted θ point set.
//!
//! With data (x_k, y_k, w_k), k = 1..K, and a measure μ = Σ_m α_m δ_{θ_m}:
//!
//! * network  f_k = Σ_m α_m σ(x_k; θ_m)
//! * risk     R(μ) = Σ_k w_k ℓ(y_k, f_k) (+ s² for label noise of variance s², squared loss)
//! * residual r_k = ½ w_k ∂_ŷ ℓ(y_k, f_k)
//! * potential Ψ(θ; μ) = Σ_k r_k σ(x_k; θ) + (λ/2)|θ|², gradient ∇_θΨ likewise
//! * energy   E(μ) = ½ R(μ) + (λ/2) ∫|θ|² dμ  (the free energy without entropy)
//!
//! Cost O(M·K) — the interaction matrix U is never formed. Work is split into fixed blocks of θ
//! points (for f: per-block partial sums, added in block order; for Ψ: per point), so results
//! are bit-identical for any number of threads.
//!
//! Ridge units (act(w·x), a·act(w·x), act(w·x + b), d ≤ 4) take the blocked path of
//! [`ridge`]: tiles of 8 θ points × all data points, the activation evaluated by
//! straight-line code that the compiler vectorises (for tanh, [`crate::activation::tanh_inline`]),
//! compiled for AVX-512, AVX2+FMA or plain x86-64/other targets and chosen at run time — with
//! the same bits on every path. Where the data are exactly symmetric (x_{K−1−k} = −x_k, as
//! for Gauss–Hermite and symmetric Gauss–Legendre nodes) and the unit is odd in x
//! (odd activation, no bias), σ(−x; θ) = −σ(x; θ) exactly, so only the first ⌈K/2⌉ nodes are
//! evaluated: f_{K−1−k} = −f_k, and Ψ = Σ_{k<K/2} (r_k − r_{K−1−k}) σ(x_k; θ) (+ the middle
//! node). Other units (periodic, d > 4) take the direct scalar loops.

use crate::data::Data;
use crate::error::CoreError;
use crate::loss::{ConvexLoss, Loss};
use crate::measure::Measure;
use crate::unit::Unit;
use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2};
use rayon::prelude::*;

/// Evaluation points per parallel task (rayon costs ~10 µs a call; see DESIGN.md §6).
const CHUNK: usize = 256;

/// Largest number of point–node pairs whose activations [`MeanField::self_gradient_into`]
/// keeps (16 bytes each: 2 MiB, about one core's L2). Beyond it, streaming the table from
/// memory (32 bytes per pair) costs about what recomputing tanh/sech² does, so the three
/// passes are used (benches/README.md, "Tabled kernel").
pub const TABLE_ENTRIES: usize = 1 << 17;

/// A mean-field problem: unit, loss, data and ridge λ.
#[derive(Debug, Clone, PartialEq)]
pub struct MeanField {
    pub unit: Unit,
    pub loss: Loss,
    pub data: Data,
    /// Weight decay λ ≥ 0 in Ψ = … + (λ/2)|θ|².
    pub lambda: f64,
}

impl MeanField {
    /// A validated problem: the unit's input dimension matches the data, λ ≥ 0.
    pub fn new(unit: Unit, loss: Loss, data: Data, lambda: f64) -> Result<Self, CoreError> {
        unit.validate()?;
        if unit.input_dim() != data.dim() {
            return Err(CoreError::invalid(
                "unit",
                format!(
                    "unit takes inputs of dimension {}, data has dimension {}",
                    unit.input_dim(),
                    data.dim()
                ),
            ));
        }
        if !(lambda >= 0.0 && lambda.is_finite()) {
            return Err(CoreError::invalid(
                "lambda",
                format!("must be ≥ 0, got {lambda}"),
            ));
        }
        if loss == Loss::Logistic && data.y.iter().any(|&y| y != 1.0 && y != -1.0) {
            return Err(CoreError::invalid("loss", "logistic loss needs labels ±1"));
        }
        Ok(MeanField {
            unit,
            loss,
            data,
            lambda,
        })
    }

    /// Parameter dimension D.
    pub fn theta_dim(&self) -> usize {
        self.unit.theta_dim()
    }

    /// f_k = Σ_m α_m σ(x_k; θ_m) into `out` (length K).
    ///
    /// Ridge units: blocks of [`ridge::BLOCK`] points, f_k = Σ_blocks (Σ_{m ∈ block} α_m σ)
    /// in block order, halved over symmetric data (see the module doc).
    pub fn network_into(&self, mu: Measure, out: &mut [f64]) {
        if let Some(plan) = ridge::Plan::new(&self.unit, &self.data) {
            let th = mu.theta.as_standard_layout();
            let alpha = mu.weight.as_standard_layout();
            plan.network(
                th.as_slice().expect("standard layout"),
                alpha.as_slice().expect("standard layout"),
                out,
            );
            return;
        }
        self.network_into_direct(mu, out);
    }

    /// f_k by the direct loop: one data point per task, Σ_m in point order.
    fn network_into_direct(&self, mu: Measure, out: &mut [f64]) {
        let th = mu.theta.as_standard_layout();
        let th = th.as_slice().expect("standard layout");
        let dd = mu.dim().max(1);
        let alpha = mu.weight.as_standard_layout();
        let alpha = alpha.as_slice().expect("standard layout");
        let x = self.data.x.as_slice().expect("standard layout");
        let d = self.data.dim();
        out.par_iter_mut().enumerate().for_each(|(k, fk)| {
            let xk = &x[k * d..(k + 1) * d];
            let mut s = 0.0;
            for (t, a) in th.chunks_exact(dd).zip(alpha) {
                s += a * self.unit.value(xk, t);
            }
            *fk = s;
        });
    }

    /// f_k for every data point.
    pub fn network(&self, mu: Measure) -> Array1<f64> {
        let mut f = Array1::zeros(self.data.len());
        self.network_into(mu, f.as_slice_mut().expect("contiguous"));
        f
    }

    /// R = Σ_k w_k ℓ(y_k, f_k) (+ s² for label noise under the squared loss).
    pub fn risk_of_network(&self, f: &[f64]) -> f64 {
        let mut r = 0.0;
        for ((fk, yk), wk) in f.iter().zip(&self.data.y).zip(&self.data.w) {
            r += wk * self.loss.value(*yk, *fk);
        }
        if self.loss == Loss::Squared {
            r += self.data.noise_var;
        }
        r
    }

    /// R(μ).
    pub fn risk(&self, mu: Measure) -> f64 {
        self.risk_of_network(self.network(mu).as_slice().expect("contiguous"))
    }

    /// r_k = ½ w_k ∂_ŷ ℓ(y_k, f_k) into `out`.
    pub fn residual_into(&self, f: &[f64], out: &mut [f64]) {
        for (((r, fk), yk), wk) in out.iter_mut().zip(f).zip(&self.data.y).zip(&self.data.w) {
            *r = 0.5 * wk * self.loss.deriv(*yk, *fk);
        }
    }

    /// c_k = ½ w_k ∂²_ŷ ℓ(y_k, f_k) into `out`: the linearisation of the residual,
    /// δr_k = c_k δf_k, so that δΨ[ν](θ) = Σ_k c_k f_ν(x_k) σ(x_k; θ) (squared loss: c_k = w_k,
    /// and δΨ[ν] = ∫U(θ, θ') ν(dθ')).
    pub fn curvature_into(&self, f: &[f64], out: &mut [f64]) {
        for (((c, fk), yk), wk) in out.iter_mut().zip(f).zip(&self.data.y).zip(&self.data.w) {
            *c = 0.5 * wk * self.loss.second_deriv(*yk, *fk);
        }
    }

    /// r_k for the network outputs f.
    pub fn residual(&self, f: &[f64]) -> Array1<f64> {
        let mut r = Array1::zeros(f.len());
        self.residual_into(f, r.as_slice_mut().expect("contiguous"));
        r
    }

    /// Ψ(θ) = Σ_k r_k σ(x_k; θ) + (λ/2)|θ|² at each row of `at`, into `out`.
    ///
    /// Ridge units: tiles of 8 points, Σ_k in node order (over the folded coefficients
    /// r_k − r_{K−1−k} on symmetric data); a·act units as a·Σ_k r_k act(w·x_k).
    ///
    /// The table Φ_mk = σ(x_k; θ_m) is recomputed on every call rather than cached: with the
    /// vectorised tanh one evaluation costs less than streaming its 8 bytes from memory
    /// (measured in benches/README.md, "General O(M·K) path").
    pub fn potential_of_residual_into(&self, r: &[f64], at: ArrayView2<f64>, out: &mut [f64]) {
        if let Some(plan) = ridge::Plan::new(&self.unit, &self.data) {
            let at = at.as_standard_layout();
            plan.potential(
                r,
                at.as_slice().expect("standard layout"),
                self.lambda,
                out,
                None,
            );
            return;
        }
        let at = at.as_standard_layout();
        let dd = at.ncols().max(1);
        let th = at.as_slice().expect("standard layout");
        let x = self.data.x.as_slice().expect("standard layout");
        let d = self.data.dim();
        out.par_chunks_mut(CHUNK)
            .zip(th.par_chunks(CHUNK * dd))
            .for_each(|(o, t)| {
                for (om, tm) in o.iter_mut().zip(t.chunks_exact(dd)) {
                    let mut s = 0.0;
                    for (xk, rk) in x.chunks_exact(d).zip(r) {
                        s += rk * self.unit.value(xk, tm);
                    }
                    *om = s + 0.5 * self.lambda * tm.iter().map(|v| v * v).sum::<f64>();
                }
            });
    }

    /// Ψ and ∇_θΨ = Σ_k r_k ∇_θσ(x_k; θ) + λθ at each row of `at`.
    ///
    /// Ridge units as [`MeanField::potential_of_residual_into`], with (act, act') from one
    /// evaluation ([`crate::activation::tanh_sech2_inline`] for tanh).
    pub fn potential_grad_of_residual_into(
        &self,
        r: &[f64],
        at: ArrayView2<f64>,
        psi: &mut [f64],
        mut grad: ArrayViewMut2<f64>,
    ) {
        if let Some(plan) = ridge::Plan::new(&self.unit, &self.data) {
            let at = at.as_standard_layout();
            let g = grad
                .as_slice_mut()
                .expect("gradient output must be in standard layout");
            plan.potential(
                r,
                at.as_slice().expect("standard layout"),
                self.lambda,
                psi,
                Some(g),
            );
            return;
        }
        let at = at.as_standard_layout();
        let dd = at.ncols();
        let th = at.as_slice().expect("standard layout");
        let x = self.data.x.as_slice().expect("standard layout");
        let d = self.data.dim();
        let g = grad
            .as_slice_mut()
            .expect("gradient output must be in standard layout");
        psi.par_chunks_mut(CHUNK)
            .zip(g.par_chunks_mut(CHUNK * dd))
            .zip(th.par_chunks(CHUNK * dd))
            .for_each(|((p, gc), t)| {
                let mut tmp = vec![0.0; dd];
                for ((pm, gm), tm) in p
                    .iter_mut()
                    .zip(gc.chunks_exact_mut(dd))
                    .zip(t.chunks_exact(dd))
                {
                    let mut s = 0.0;
                    gm.iter_mut().for_each(|v| *v = 0.0);
                    for (xk, rk) in x.chunks_exact(d).zip(r) {
                        s += rk * self.unit.value_grad(xk, tm, &mut tmp);
                        for (gi, ti) in gm.iter_mut().zip(&tmp) {
                            *gi += rk * ti;
                        }
                    }
                    for (gi, ti) in gm.iter_mut().zip(tm) {
                        *gi += self.lambda * ti;
                    }
                    *pm = s + 0.5 * self.lambda * tm.iter().map(|v| v * v).sum::<f64>();
                }
            });
    }

    /// One gradient evaluation of a point set on itself: f_k = Σ_m α_m σ(x_k; θ_m) into `f`,
    /// r_k = ½w_k∂ℓ(y_k, f_k) into `r`, and Ψ(θ_m) and ∇_θΨ(θ_m) for that residual at the same
    /// points — what a particle step needs. The same bits as [`MeanField::network_into`],
    /// [`MeanField::residual_into`] and [`MeanField::potential_grad_of_residual_into`] in
    /// turn; for tanh ridge units (and at most [`TABLE_ENTRIES`] point–node pairs) the
    /// activations of the first pass are kept in `table` and reused, which halves the
    /// transcendental work.
    pub fn self_gradient_into(
        &self,
        mu: Measure,
        f: &mut [f64],
        r: &mut [f64],
        psi: &mut [f64],
        grad: ArrayViewMut2<f64>,
        table: &mut ridge::Table,
    ) {
        if let Some(plan) = ridge::Plan::new(&self.unit, &self.data) {
            let th = mu.theta.as_standard_layout();
            let th = th.as_slice().expect("standard layout");
            if plan.tables() && mu.len().saturating_mul(self.data.len()) <= TABLE_ENTRIES {
                let alpha = mu.weight.as_standard_layout();
                let mut grad = grad;
                let g = grad
                    .as_slice_mut()
                    .expect("gradient output must be in standard layout");
                plan.network_table(th, alpha.as_slice().expect("standard layout"), f, table);
                self.residual_into(f, r);
                plan.potential_from_table(r, th, self.lambda, psi, g, table);
                return;
            }
        }
        self.network_into(mu, f);
        self.residual_into(f, r);
        self.potential_grad_of_residual_into(r, mu.theta, psi, grad);
    }

    /// Ψ(θ; μ) at each row of `at`.
    pub fn potential(&self, mu: Measure, at: ArrayView2<f64>) -> Array1<f64> {
        let f = self.network(mu);
        let r = self.residual(f.as_slice().expect("contiguous"));
        let mut out = Array1::zeros(at.nrows());
        self.potential_of_residual_into(
            r.as_slice().expect("contiguous"),
            at,
            out.as_slice_mut().expect("contiguous"),
        );
        out
    }

    /// (Ψ, ∇_θΨ)(θ; μ) at each row of `at`.
    pub fn potential_grad(&self, mu: Measure, at: ArrayView2<f64>) -> (Array1<f64>, Array2<f64>) {
        let f = self.network(mu);
        let r = self.residual(f.as_slice().expect("contiguous"));
        let mut psi = Array1::zeros(at.nrows());
        let mut grad = Array2::zeros((at.nrows(), at.ncols()));
        self.potential_grad_of_residual_into(
            r.as_slice().expect("contiguous"),
            at,
            psi.as_slice_mut().expect("contiguous"),
            grad.view_mut(),
        );
        (psi, grad)
    }

    /// (λ/2) ∫|θ|² dμ.
    pub fn regulariser(&self, mu: Measure) -> f64 {
        0.5 * self.lambda * mu.second_moment()
    }

    /// E(μ) = ½ R(μ) + (λ/2) ∫|θ|² dμ: the free energy without its entropy term.
    pub fn energy(&self, mu: Measure) -> f64 {
        0.5 * self.risk(mu) + self.regulariser(mu)
    }

    /// U(θ, θ') = Σ_k w_k σ(x_k; θ) σ(x_k; θ'), for tests and exact identities on small sets
    /// (never used by the solvers).
    pub fn interaction(&self, a: &[f64], b: &[f64]) -> f64 {
        self.data
            .x
            .rows()
            .into_iter()
            .zip(self.data.w.iter())
            .map(|(x, w)| {
                let x = x.as_slice().expect("contiguous");
                w * self.unit.value(x, a) * self.unit.value(x, b)
            })
            .sum()
    }
}

/// Differential entropy term ∫ ρ log ρ dθ ≈ Σ_m ρ_m log ρ_m |cell| (0 log 0 = 0).
pub fn neg_entropy(rho: &[f64], cell_volume: f64) -> f64 {
    rho.iter()
        .map(|&p| if p > 0.0 { p * p.ln() } else { 0.0 })
        .sum::<f64>()
        * cell_volume
}

/// F(ρ) = E(μ_ρ) + T ∫ ρ log ρ on a grid, with μ_ρ the cell centres weighted by ρ_m|cell|.
pub fn free_energy(
    mf: &MeanField,
    mu: Measure,
    rho: &[f64],
    cell_volume: f64,
    temperature: f64,
) -> f64 {
    let e = mf.energy(mu);
    if temperature > 0.0 {
        e + temperature * neg_entropy(rho, cell_volume)
    } else {
        e
    }
}

/// The blocked kernel for ridge units σ = act(w·x), a·act(w·x) or act(w·x + b) with d ≤ 2
/// (the general O(M·K) path of the grids and the particle step alike).
///
/// * f (pass 1): θ points in blocks of [`BLOCK`]; inside a block, tiles of 8 points × all
///   (canonical) nodes accumulate α_m c_m act(z_mk) per lane (c_m = a_m or 1); a block's
///   partial f_k is the sum of its 8 lanes in lane order, and f_k the sum of the blocks in
///   block order — fixed by M alone, so the same for any thread count.
/// * Ψ, ∇Ψ (pass 2): tiles of 8 points, each lane one point summing over the nodes in order:
///   S₀ = Σ_k ρ_k act(z_k), S_j = Σ_k (ρ_k x_kj) act'(z_k), S_b = Σ_k ρ_k act'(z_k), with
///   ρ_k = r_k, or on folded data ρ_k = r_k − r_{K−1−k} (k < K/2) and ρ_mid = r_mid; then
///   Ψ = c S₀ + (λ/2)|θ|², ∂_a = S₀ + λa, ∂_{w_j} = c S_j + λw_j, ∂_b = S_b + λb.
///
/// z = w·x (+ b) is computed exactly as [`crate::unit::dot`] does, so the odd symmetry
/// z(−x) = −z(x) holds bit for bit and folding changes f not at all and Ψ by rounding only.
// lane loops index several arrays in step on purpose: that is what vectorises
#[allow(clippy::needless_range_loop)]
pub mod ridge {
    use crate::activation::{tanh_inline, tanh_sech2_inline, Activation};
    use crate::data::Data;
    use crate::unit::{Param, Unit};
    use rayon::prelude::*;

    /// θ points per block of partial sums of f.
    pub const BLOCK: usize = 512;
    /// θ points per tile (one SIMD lane each).
    const LANES: usize = 8;
    /// θ points per parallel task of pass 2 (a multiple of [`LANES`]).
    const PSI_CHUNK: usize = 256;

    /// Whether x_{K−1−k} = −x_k for every node k (rows of the K × d array `x`), compared
    /// exactly; the middle node of an odd K must then be 0.
    pub fn reverse_symmetric(x: &[f64], d: usize) -> bool {
        let k = x.len().checked_div(d).unwrap_or(0);
        (0..k.div_ceil(2)).all(|i| {
            let j = k - 1 - i;
            (0..d).all(|c| x[i * d + c] == -x[j * d + c])
        })
    }

    /// Whether σ(−x; θ) = −σ(x; θ) exactly for every θ: an odd activation (tanh, erf, linear,
    /// each evaluated on |z| with the sign restored) and no bias.
    pub fn unit_is_odd(act: Activation, param: Param) -> bool {
        matches!(act, Activation::Tanh | Activation::Erf | Activation::Linear)
            && matches!(param, Param::W | Param::AW)
    }

    /// A ridge unit on a data set, ready for the blocked kernel.
    #[derive(Debug, Clone, Copy)]
    pub struct Plan<'a> {
        act: Activation,
        param: Param,
        d: usize,
        x: &'a [f64],
        k: usize,
        kc: usize,
        folded: bool,
    }

    impl<'a> Plan<'a> {
        /// The plan of `unit` on `data`, or None when the unit is not a ridge unit with d ≤ 2.
        /// Folds the nodes when the unit is odd ([`unit_is_odd`]) and the data are
        /// [`reverse_symmetric`].
        pub fn new(unit: &Unit, data: &'a Data) -> Option<Self> {
            let Unit::Ridge {
                act,
                param,
                input_dim: d,
            } = *unit
            else {
                return None;
            };
            if !(1..=2).contains(&d) || data.dim() != d {
                return None;
            }
            let x = data.x.as_slice()?;
            let k = data.len();
            let folded = k >= 2 && unit_is_odd(act, param) && reverse_symmetric(x, d);
            Some(Plan {
                act,
                param,
                d,
                x,
                k,
                kc: if folded { k.div_ceil(2) } else { k },
                folded,
            })
        }

        /// Whether only the first ⌈K/2⌉ nodes are evaluated.
        pub fn is_folded(&self) -> bool {
            self.folded
        }

        fn theta_dim(&self) -> usize {
            self.d + usize::from(self.param != Param::W)
        }

        /// f_k = Σ_m α_m σ(x_k; θ_m) into `out` (length K); `theta` is M × D row-major.
        pub fn network(&self, theta: &[f64], alpha: &[f64], out: &mut [f64]) {
            let (kc, dd) = (self.kc, self.theta_dim());
            out.iter_mut().for_each(|v| *v = 0.0);
            let n = alpha.len();
            if kc == 0 || n == 0 {
                return;
            }
            let blocks = n.div_ceil(BLOCK);
            let mut partial = vec![0.0; blocks * kc];
            partial
                .par_chunks_mut(kc)
                .enumerate()
                .for_each(|(b, part)| {
                    let (lo, hi) = (b * BLOCK, ((b + 1) * BLOCK).min(n));
                    self.network_block(&theta[lo * dd..hi * dd], &alpha[lo..hi], part);
                });
            let f = &mut out[..kc];
            f.copy_from_slice(&partial[..kc]);
            for part in partial.chunks_exact(kc).skip(1) {
                for (fk, p) in f.iter_mut().zip(part) {
                    *fk += p;
                }
            }
            if self.folded {
                for i in 0..self.k / 2 {
                    out[self.k - 1 - i] = -out[i];
                }
            }
        }

        /// Ψ(θ_m) (and ∇_θΨ(θ_m) into `grad`, M × D row-major, when given) for the residual r.
        pub fn potential(
            &self,
            r: &[f64],
            theta: &[f64],
            lambda: f64,
            psi: &mut [f64],
            grad: Option<&mut [f64]>,
        ) {
            let (k, kc, d, dd) = (self.k, self.kc, self.d, self.theta_dim());
            let coef: Vec<f64> = (0..kc)
                .map(|i| {
                    if self.folded && i < k / 2 {
                        r[i] - r[k - 1 - i]
                    } else {
                        r[i]
                    }
                })
                .collect();
            let coefx: Vec<f64> = (0..kc * d).map(|i| coef[i / d] * self.x[i]).collect();
            let nodes = Nodes {
                x: &self.x[..kc * d],
                coef: &coef,
                coefx: &coefx,
            };
            match grad {
                Some(g) => psi
                    .par_chunks_mut(PSI_CHUNK)
                    .zip(g.par_chunks_mut(PSI_CHUNK * dd))
                    .zip(theta.par_chunks(PSI_CHUNK * dd))
                    .for_each(|((p, gc), t)| self.potential_chunk(&nodes, t, lambda, p, Some(gc))),
                None => psi
                    .par_chunks_mut(PSI_CHUNK)
                    .zip(theta.par_chunks(PSI_CHUNK * dd))
                    .for_each(|(p, t)| self.potential_chunk(&nodes, t, lambda, p, None)),
            }
        }

        /// Whether the tabled two-pass kernel ([`Plan::network_table`],
        /// [`Plan::potential_from_table`]) applies: tanh units.
        pub fn tables(&self) -> bool {
            self.act == Activation::Tanh
        }

        /// [`Plan::network`] that also stores (tanh z, sech² z) of every (point, node) in
        /// `table` (tiles of [`LANES`] points × Kc nodes), so that the potential and its
        /// gradient for the resulting residual need no further transcendental:
        /// [`Plan::potential_from_table`]. Same bits as [`Plan::network`] (the tanh is the
        /// first output of [`tanh_sech2_inline`], identical to [`tanh_inline`]). tanh only.
        pub fn network_table(
            &self,
            theta: &[f64],
            alpha: &[f64],
            out: &mut [f64],
            table: &mut Table,
        ) {
            let (kc, dd) = (self.kc, self.theta_dim());
            out.iter_mut().for_each(|v| *v = 0.0);
            let n = alpha.len();
            let tiles = n.div_ceil(LANES);
            table.resize(tiles * kc);
            if kc == 0 || n == 0 {
                return;
            }
            let blocks = n.div_ceil(BLOCK);
            let per_block = BLOCK / LANES * kc;
            let mut partial = vec![0.0; blocks * kc];
            let x = &self.x[..kc * self.d];
            let p = self.param;
            partial
                .par_chunks_mut(kc)
                .zip(table.value.par_chunks_mut(per_block))
                .zip(table.slope.par_chunks_mut(per_block))
                .enumerate()
                .for_each(|(b, ((part, tv), ts))| {
                    let (lo, hi) = (b * BLOCK, ((b + 1) * BLOCK).min(n));
                    let (th, al) = (&theta[lo * dd..hi * dd], &alpha[lo..hi]);
                    match (self.d, p == Param::WB) {
                        (1, false) => net_tanh_table::<1, false>(x, p, th, al, part, tv, ts),
                        (1, true) => net_tanh_table::<1, true>(x, p, th, al, part, tv, ts),
                        (2, false) => net_tanh_table::<2, false>(x, p, th, al, part, tv, ts),
                        _ => net_tanh_table::<2, true>(x, p, th, al, part, tv, ts),
                    }
                });
            let f = &mut out[..kc];
            f.copy_from_slice(&partial[..kc]);
            for part in partial.chunks_exact(kc).skip(1) {
                for (fk, p) in f.iter_mut().zip(part) {
                    *fk += p;
                }
            }
            if self.folded {
                for i in 0..self.k / 2 {
                    out[self.k - 1 - i] = -out[i];
                }
            }
        }

        /// [`Plan::potential`] with ∇Ψ, for the points `theta` whose (tanh, sech²) values
        /// [`Plan::network_table`] stored: Ψ = c Σ_k coef_k t_k + reg, ∇Ψ by the same sums of
        /// coef_k x_k s_k — pure multiply–adds, in the order of [`Plan::potential`], so the
        /// same bits.
        pub fn potential_from_table(
            &self,
            r: &[f64],
            theta: &[f64],
            lambda: f64,
            psi: &mut [f64],
            grad: &mut [f64],
            table: &Table,
        ) {
            let (k, kc, d, dd) = (self.k, self.kc, self.d, self.theta_dim());
            let coef: Vec<f64> = (0..kc)
                .map(|i| {
                    if self.folded && i < k / 2 {
                        r[i] - r[k - 1 - i]
                    } else {
                        r[i]
                    }
                })
                .collect();
            let coefx: Vec<f64> = (0..kc * d).map(|i| coef[i / d] * self.x[i]).collect();
            let nodes = Nodes {
                x: &self.x[..kc * d],
                coef: &coef,
                coefx: &coefx,
            };
            let per_chunk = PSI_CHUNK / LANES * kc;
            let p = self.param;
            psi.par_chunks_mut(PSI_CHUNK)
                .zip(grad.par_chunks_mut(PSI_CHUNK * dd))
                .zip(theta.par_chunks(PSI_CHUNK * dd))
                .zip(table.value.par_chunks(per_chunk))
                .zip(table.slope.par_chunks(per_chunk))
                .for_each(|((((ps, g), t), tv), ts)| match (self.d, p == Param::WB) {
                    (1, false) => pot_table::<1, false>(&nodes, p, t, lambda, ps, g, tv, ts),
                    (1, true) => pot_table::<1, true>(&nodes, p, t, lambda, ps, g, tv, ts),
                    (2, false) => pot_table::<2, false>(&nodes, p, t, lambda, ps, g, tv, ts),
                    _ => pot_table::<2, true>(&nodes, p, t, lambda, ps, g, tv, ts),
                });
        }

        fn network_block(&self, theta: &[f64], alpha: &[f64], part: &mut [f64]) {
            let x = &self.x[..self.kc * self.d];
            let p = self.param;
            macro_rules! go {
                ($d:literal, $bias:literal) => {
                    match self.act {
                        Activation::Tanh => net_tanh::<$d, $bias>(x, p, theta, alpha, part),
                        a => net_block::<$d, $bias>(|z| a.value(z), x, p, theta, alpha, part),
                    }
                };
            }
            match (self.d, p == Param::WB) {
                (1, false) => go!(1, false),
                (1, true) => go!(1, true),
                (2, false) => go!(2, false),
                _ => go!(2, true),
            }
        }

        fn potential_chunk(
            &self,
            nodes: &Nodes,
            theta: &[f64],
            lambda: f64,
            psi: &mut [f64],
            grad: Option<&mut [f64]>,
        ) {
            let p = self.param;
            macro_rules! go {
                ($d:literal, $bias:literal) => {
                    match (self.act, grad) {
                        (Activation::Tanh, None) => {
                            pot_tanh::<$d, $bias, false>(nodes, p, theta, lambda, psi, &mut [])
                        }
                        (Activation::Tanh, Some(g)) => {
                            pot_tanh::<$d, $bias, true>(nodes, p, theta, lambda, psi, g)
                        }
                        (a, None) => pot_block::<$d, $bias, false>(
                            |z| a.value(z),
                            |z| a.value_deriv(z),
                            nodes,
                            p,
                            theta,
                            lambda,
                            psi,
                            &mut [],
                        ),
                        (a, Some(g)) => pot_block::<$d, $bias, true>(
                            |z| a.value(z),
                            |z| a.value_deriv(z),
                            nodes,
                            p,
                            theta,
                            lambda,
                            psi,
                            g,
                        ),
                    }
                };
            }
            match (self.d, p == Param::WB) {
                (1, false) => go!(1, false),
                (1, true) => go!(1, true),
                (2, false) => go!(2, false),
                _ => go!(2, true),
            }
        }
    }

    /// The canonical nodes of pass 2: x (Kc × d), ρ_k and ρ_k x_k.
    struct Nodes<'n> {
        x: &'n [f64],
        coef: &'n [f64],
        coefx: &'n [f64],
    }

    /// A tile of up to 8 θ points in lanes: w_j, the amplitude c (a or 1), the bias b.
    struct Tile<const D: usize> {
        w: [[f64; LANES]; D],
        c: [f64; LANES],
        b: [f64; LANES],
    }

    impl<const D: usize> Tile<D> {
        /// Rows of `theta` (layout of `param`) into lanes; unused lanes get w = b = c = 0.
        #[inline(always)]
        fn load(param: Param, theta: &[f64]) -> Self {
            let dd = D + usize::from(param != Param::W);
            let mut t = Tile {
                w: [[0.0; LANES]; D],
                c: [0.0; LANES],
                b: [0.0; LANES],
            };
            for (l, row) in theta.chunks_exact(dd).enumerate() {
                let (c, w, b) = match param {
                    Param::W => (1.0, &row[..D], 0.0),
                    Param::AW => (row[0], &row[1..], 0.0),
                    Param::WB => (1.0, &row[..D], row[D]),
                };
                t.c[l] = c;
                for j in 0..D {
                    t.w[j][l] = w[j];
                }
                t.b[l] = b;
            }
            t
        }

        /// z = w·x (+ b) in lane l, summed as [`crate::unit::dot`] sums.
        #[inline(always)]
        fn z<const BIAS: bool>(&self, l: usize, x: &[f64; D]) -> f64 {
            let mut z = self.w[0][l] * x[0];
            for j in 1..D {
                z += self.w[j][l] * x[j];
            }
            if BIAS {
                z += self.b[l];
            }
            z
        }
    }

    /// Pass 1 on one block: part[k] = Σ_lanes Σ_tiles α c act(z).
    #[inline(always)]
    fn net_block<const D: usize, const BIAS: bool>(
        act: impl Fn(f64) -> f64,
        x: &[f64],
        param: Param,
        theta: &[f64],
        alpha: &[f64],
        part: &mut [f64],
    ) {
        let dd = D + usize::from(param != Param::W);
        let kc = part.len();
        let mut acc = vec![[0.0f64; LANES]; kc];
        for (th, al) in theta.chunks(LANES * dd).zip(alpha.chunks(LANES)) {
            let mut tile = Tile::<D>::load(param, th);
            for (c, a) in tile.c.iter_mut().zip(al) {
                *c *= a;
            }
            for (xk, acck) in x.chunks_exact(D).zip(acc.iter_mut()) {
                let xk: &[f64; D] = xk.try_into().expect("D coordinates");
                for l in 0..LANES {
                    let z = tile.z::<BIAS>(l, xk);
                    acck[l] = tile.c[l].mul_add(act(z), acck[l]);
                }
            }
        }
        for (p, a) in part.iter_mut().zip(&acc) {
            let mut s = a[0];
            for v in &a[1..] {
                s += v;
            }
            *p = s;
        }
    }

    /// Pass 2 on one chunk of points (see the module doc for S₀, S_j, S_b).
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn pot_block<const D: usize, const BIAS: bool, const GRAD: bool>(
        act: impl Fn(f64) -> f64,
        act_d: impl Fn(f64) -> (f64, f64),
        nodes: &Nodes,
        param: Param,
        theta: &[f64],
        lambda: f64,
        psi: &mut [f64],
        grad: &mut [f64],
    ) {
        let dd = D + usize::from(param != Param::W);
        for (i, (th, ps)) in theta
            .chunks(LANES * dd)
            .zip(psi.chunks_mut(LANES))
            .enumerate()
        {
            let tile = Tile::<D>::load(param, th);
            let mut s0 = [0.0f64; LANES];
            let mut sj = [[0.0f64; LANES]; D];
            let mut sb = [0.0f64; LANES];
            for ((xk, rk), rxk) in nodes
                .x
                .chunks_exact(D)
                .zip(nodes.coef)
                .zip(nodes.coefx.chunks_exact(D))
            {
                let xk: &[f64; D] = xk.try_into().expect("D coordinates");
                for l in 0..LANES {
                    let z = tile.z::<BIAS>(l, xk);
                    if GRAD {
                        let (v, dv) = act_d(z);
                        s0[l] = rk.mul_add(v, s0[l]);
                        for j in 0..D {
                            sj[j][l] = rxk[j].mul_add(dv, sj[j][l]);
                        }
                        if BIAS {
                            sb[l] = rk.mul_add(dv, sb[l]);
                        }
                    } else {
                        s0[l] = rk.mul_add(act(z), s0[l]);
                    }
                }
            }
            for (l, (row, p)) in th.chunks_exact(dd).zip(ps.iter_mut()).enumerate() {
                let reg = 0.5 * lambda * row.iter().map(|v| v * v).sum::<f64>();
                let c = tile.c[l];
                *p = c * s0[l] + reg;
                if GRAD {
                    let g = &mut grad[(i * LANES + l) * dd..(i * LANES + l + 1) * dd];
                    let off = usize::from(param == Param::AW);
                    if param == Param::AW {
                        g[0] = s0[l] + lambda * row[0];
                    }
                    for j in 0..D {
                        g[off + j] = c * sj[j][l] + lambda * row[off + j];
                    }
                    if param == Param::WB {
                        g[D] = sb[l] + lambda * row[D];
                    }
                }
            }
        }
    }

    /// (tanh z, sech² z) per tile of [`LANES`] points and node: entry `tile · Kc + k`.
    #[derive(Debug, Clone, Default)]
    pub struct Table {
        value: Vec<[f64; LANES]>,
        slope: Vec<[f64; LANES]>,
    }

    impl Table {
        fn resize(&mut self, n: usize) {
            self.value.resize(n, [0.0; LANES]);
            self.slope.resize(n, [0.0; LANES]);
        }

        /// Bytes held.
        pub fn bytes(&self) -> usize {
            16 * LANES * self.value.len()
        }
    }

    /// [`net_block`] for tanh that also stores (tanh z, sech² z) of every lane and node.
    #[inline(always)]
    fn net_block_table<const D: usize, const BIAS: bool>(
        x: &[f64],
        param: Param,
        theta: &[f64],
        alpha: &[f64],
        part: &mut [f64],
        tv: &mut [[f64; LANES]],
        ts: &mut [[f64; LANES]],
    ) {
        let dd = D + usize::from(param != Param::W);
        let kc = part.len();
        let mut acc = vec![[0.0f64; LANES]; kc];
        for (i, (th, al)) in theta
            .chunks(LANES * dd)
            .zip(alpha.chunks(LANES))
            .enumerate()
        {
            let mut tile = Tile::<D>::load(param, th);
            for (c, a) in tile.c.iter_mut().zip(al) {
                *c *= a;
            }
            let (rv, rs) = (&mut tv[i * kc..(i + 1) * kc], &mut ts[i * kc..(i + 1) * kc]);
            for (((xk, acck), vk), sk) in x
                .chunks_exact(D)
                .zip(acc.iter_mut())
                .zip(rv.iter_mut())
                .zip(rs.iter_mut())
            {
                let xk: &[f64; D] = xk.try_into().expect("D coordinates");
                for l in 0..LANES {
                    let z = tile.z::<BIAS>(l, xk);
                    let (v, dv) = tanh_sech2_inline(z);
                    vk[l] = v;
                    sk[l] = dv;
                    acck[l] = tile.c[l].mul_add(v, acck[l]);
                }
            }
        }
        for (p, a) in part.iter_mut().zip(&acc) {
            let mut s = a[0];
            for v in &a[1..] {
                s += v;
            }
            *p = s;
        }
    }

    /// [`net_block_table`], dispatched like [`net_tanh`].
    fn net_tanh_table<const D: usize, const BIAS: bool>(
        x: &[f64],
        param: Param,
        theta: &[f64],
        alpha: &[f64],
        part: &mut [f64],
        tv: &mut [[f64; LANES]],
        ts: &mut [[f64; LANES]],
    ) {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn avx2<const D: usize, const BIAS: bool>(
            x: &[f64],
            param: Param,
            theta: &[f64],
            alpha: &[f64],
            part: &mut [f64],
            tv: &mut [[f64; LANES]],
            ts: &mut [[f64; LANES]],
        ) {
            net_block_table::<D, BIAS>(x, param, theta, alpha, part, tv, ts)
        }
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx512f,avx2,fma")]
        unsafe fn avx512<const D: usize, const BIAS: bool>(
            x: &[f64],
            param: Param,
            theta: &[f64],
            alpha: &[f64],
            part: &mut [f64],
            tv: &mut [[f64; LANES]],
            ts: &mut [[f64; LANES]],
        ) {
            net_block_table::<D, BIAS>(x, param, theta, alpha, part, tv, ts)
        }
        match isa() {
            // SAFETY: `isa` checked that the CPU has these features.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => unsafe { avx512::<D, BIAS>(x, param, theta, alpha, part, tv, ts) },
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => unsafe { avx2::<D, BIAS>(x, param, theta, alpha, part, tv, ts) },
            Isa::Generic => net_block_table::<D, BIAS>(x, param, theta, alpha, part, tv, ts),
        }
    }

    /// [`pot_table_body`], dispatched like [`net_tanh`] (hardware FMA for `mul_add`).
    #[allow(clippy::too_many_arguments)]
    fn pot_table<const D: usize, const BIAS: bool>(
        nodes: &Nodes,
        param: Param,
        theta: &[f64],
        lambda: f64,
        psi: &mut [f64],
        grad: &mut [f64],
        tv: &[[f64; LANES]],
        ts: &[[f64; LANES]],
    ) {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2,fma")]
        #[allow(clippy::too_many_arguments)]
        unsafe fn avx2<const D: usize, const BIAS: bool>(
            nodes: &Nodes,
            param: Param,
            theta: &[f64],
            lambda: f64,
            psi: &mut [f64],
            grad: &mut [f64],
            tv: &[[f64; LANES]],
            ts: &[[f64; LANES]],
        ) {
            pot_table_body::<D, BIAS>(nodes, param, theta, lambda, psi, grad, tv, ts)
        }
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx512f,avx2,fma")]
        #[allow(clippy::too_many_arguments)]
        unsafe fn avx512<const D: usize, const BIAS: bool>(
            nodes: &Nodes,
            param: Param,
            theta: &[f64],
            lambda: f64,
            psi: &mut [f64],
            grad: &mut [f64],
            tv: &[[f64; LANES]],
            ts: &[[f64; LANES]],
        ) {
            pot_table_body::<D, BIAS>(nodes, param, theta, lambda, psi, grad, tv, ts)
        }
        match isa() {
            // SAFETY: `isa` checked that the CPU has these features.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => unsafe {
                avx512::<D, BIAS>(nodes, param, theta, lambda, psi, grad, tv, ts)
            },
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => unsafe { avx2::<D, BIAS>(nodes, param, theta, lambda, psi, grad, tv, ts) },
            Isa::Generic => {
                pot_table_body::<D, BIAS>(nodes, param, theta, lambda, psi, grad, tv, ts)
            }
        }
    }

    /// [`pot_block`] with ∇Ψ from stored (tanh, sech²) values: the same sums in the same order.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn pot_table_body<const D: usize, const BIAS: bool>(
        nodes: &Nodes,
        param: Param,
        theta: &[f64],
        lambda: f64,
        psi: &mut [f64],
        grad: &mut [f64],
        tv: &[[f64; LANES]],
        ts: &[[f64; LANES]],
    ) {
        let dd = D + usize::from(param != Param::W);
        let kc = nodes.coef.len();
        for (i, (th, ps)) in theta
            .chunks(LANES * dd)
            .zip(psi.chunks_mut(LANES))
            .enumerate()
        {
            let tile = Tile::<D>::load(param, th);
            let mut s0 = [0.0f64; LANES];
            let mut sj = [[0.0f64; LANES]; D];
            let mut sb = [0.0f64; LANES];
            let (rv, rs) = (&tv[i * kc..(i + 1) * kc], &ts[i * kc..(i + 1) * kc]);
            for (((rk, rxk), vk), sk) in nodes
                .coef
                .iter()
                .zip(nodes.coefx.chunks_exact(D))
                .zip(rv)
                .zip(rs)
            {
                for l in 0..LANES {
                    let (v, dv) = (vk[l], sk[l]);
                    s0[l] = rk.mul_add(v, s0[l]);
                    for j in 0..D {
                        sj[j][l] = rxk[j].mul_add(dv, sj[j][l]);
                    }
                    if BIAS {
                        sb[l] = rk.mul_add(dv, sb[l]);
                    }
                }
            }
            for (l, (row, p)) in th.chunks_exact(dd).zip(ps.iter_mut()).enumerate() {
                let reg = 0.5 * lambda * row.iter().map(|v| v * v).sum::<f64>();
                let c = tile.c[l];
                *p = c * s0[l] + reg;
                let g = &mut grad[(i * LANES + l) * dd..(i * LANES + l + 1) * dd];
                let off = usize::from(param == Param::AW);
                if param == Param::AW {
                    g[0] = s0[l] + lambda * row[0];
                }
                for j in 0..D {
                    g[off + j] = c * sj[j][l] + lambda * row[off + j];
                }
                if param == Param::WB {
                    g[D] = sb[l] + lambda * row[D];
                }
            }
        }
    }

    /// The instruction sets the tanh kernels are compiled for.
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Isa {
        Generic,
        #[cfg(target_arch = "x86_64")]
        Avx2,
        #[cfg(target_arch = "x86_64")]
        Avx512,
    }

    #[inline]
    fn isa() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::is_x86_feature_detected as has;
            if has!("avx512f") && has!("fma") {
                return Isa::Avx512;
            }
            if has!("avx2") && has!("fma") {
                return Isa::Avx2;
            }
        }
        Isa::Generic
    }

    /// [`net_block`] with the inlined tanh, compiled for the best instruction set present
    /// (`mul_add` is exactly rounded everywhere, so every variant returns the same bits).
    fn net_tanh<const D: usize, const BIAS: bool>(
        x: &[f64],
        param: Param,
        theta: &[f64],
        alpha: &[f64],
        part: &mut [f64],
    ) {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn avx2<const D: usize, const BIAS: bool>(
            x: &[f64],
            param: Param,
            theta: &[f64],
            alpha: &[f64],
            part: &mut [f64],
        ) {
            net_block::<D, BIAS>(tanh_inline, x, param, theta, alpha, part)
        }
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx512f,avx2,fma")]
        unsafe fn avx512<const D: usize, const BIAS: bool>(
            x: &[f64],
            param: Param,
            theta: &[f64],
            alpha: &[f64],
            part: &mut [f64],
        ) {
            net_block::<D, BIAS>(tanh_inline, x, param, theta, alpha, part)
        }
        match isa() {
            // SAFETY: `isa` checked that the CPU has these features.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => unsafe { avx512::<D, BIAS>(x, param, theta, alpha, part) },
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => unsafe { avx2::<D, BIAS>(x, param, theta, alpha, part) },
            Isa::Generic => net_block::<D, BIAS>(tanh_inline, x, param, theta, alpha, part),
        }
    }

    /// [`pot_block`] with the inlined tanh/sech², dispatched like [`net_tanh`].
    fn pot_tanh<const D: usize, const BIAS: bool, const GRAD: bool>(
        nodes: &Nodes,
        param: Param,
        theta: &[f64],
        lambda: f64,
        psi: &mut [f64],
        grad: &mut [f64],
    ) {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn avx2<const D: usize, const BIAS: bool, const GRAD: bool>(
            nodes: &Nodes,
            param: Param,
            theta: &[f64],
            lambda: f64,
            psi: &mut [f64],
            grad: &mut [f64],
        ) {
            pot_block::<D, BIAS, GRAD>(
                tanh_inline,
                tanh_sech2_inline,
                nodes,
                param,
                theta,
                lambda,
                psi,
                grad,
            )
        }
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx512f,avx2,fma")]
        unsafe fn avx512<const D: usize, const BIAS: bool, const GRAD: bool>(
            nodes: &Nodes,
            param: Param,
            theta: &[f64],
            lambda: f64,
            psi: &mut [f64],
            grad: &mut [f64],
        ) {
            pot_block::<D, BIAS, GRAD>(
                tanh_inline,
                tanh_sech2_inline,
                nodes,
                param,
                theta,
                lambda,
                psi,
                grad,
            )
        }
        match isa() {
            // SAFETY: `isa` checked that the CPU has these features.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => unsafe {
                avx512::<D, BIAS, GRAD>(nodes, param, theta, lambda, psi, grad)
            },
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => unsafe { avx2::<D, BIAS, GRAD>(nodes, param, theta, lambda, psi, grad) },
            Isa::Generic => pot_block::<D, BIAS, GRAD>(
                tanh_inline,
                tanh_sech2_inline,
                nodes,
                param,
                theta,
                lambda,
                psi,
                grad,
            ),
        }
    }

    #[cfg(test)]
    mod tests {
        use crate::activation::Activation;
        use crate::data::{Data, Inputs};
        use crate::functional::MeanField;
        use crate::loss::Loss;
        use crate::measure::Measure;
        use crate::unit::{Param, Unit};
        use ndarray::{Array1, Array2};

        /// A deterministic pseudo-random stream in [−1, 1).
        fn noise(seed: u64, n: usize) -> Vec<f64> {
            let mut s = seed;
            (0..n)
                .map(|_| {
                    s = s
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    (s >> 11) as f64 / (1u64 << 52) as f64 - 1.0
                })
                .collect()
        }

        fn data(d: usize, k: usize, symmetric: bool) -> Data {
            let inp = if symmetric {
                Inputs::gauss_hermite(d, k)
            } else {
                Inputs::gaussian_samples(d, k, 7)
            };
            let kk = inp.x.nrows();
            let y = Array1::from(noise(3, kk));
            Data::new(inp.x, y, inp.w, 0.0).unwrap()
        }

        /// The straightforward formulas with the scalar unit (and the system libm's tanh for
        /// tanh units): f_k = Σ_m α_m σ, Ψ_m = Σ_k r_k σ + (λ/2)|θ|², ∇Ψ likewise; plus the
        /// sums of |terms| for the tolerances.
        #[allow(clippy::type_complexity)]
        fn reference(
            mf: &MeanField,
            theta: &Array2<f64>,
            alpha: &[f64],
            r: &[f64],
        ) -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
            let libm_unit = |x: &[f64], t: &[f64], g: &mut [f64]| -> f64 {
                match &mf.unit {
                    Unit::Ridge {
                        act: Activation::Tanh,
                        param,
                        ..
                    } => {
                        let d = x.len();
                        let (w, a, b) = match param {
                            Param::W => (&t[..d], 1.0, 0.0),
                            Param::AW => (&t[1..], t[0], 0.0),
                            Param::WB => (&t[..d], 1.0, t[d]),
                        };
                        let z = crate::unit::dot(w, x) + b;
                        let (v, dv) = (z.tanh(), z.cosh().powi(-2));
                        let off = usize::from(*param == Param::AW);
                        if off == 1 {
                            g[0] = v;
                        }
                        for j in 0..d {
                            g[off + j] = a * dv * x[j];
                        }
                        if *param == Param::WB {
                            g[d] = dv;
                        }
                        a * v
                    }
                    u => u.value_grad(x, t, g),
                }
            };
            let (k, dd, d) = (mf.data.len(), theta.ncols(), mf.data.dim());
            let mut g = vec![0.0; dd];
            let (mut f, mut fa) = (vec![0.0; k], vec![0.0; k]);
            let n = theta.nrows();
            let (mut psi, mut pa) = (vec![0.0; n], vec![0.0; n]);
            let (mut grad, mut ga) = (vec![0.0; n * dd], vec![0.0; n * dd]);
            // Neumaier-compensated sums (value, compensation)
            fn add(acc: &mut (f64, f64), v: f64) {
                let t = acc.0 + v;
                acc.1 += if acc.0.abs() >= v.abs() {
                    (acc.0 - t) + v
                } else {
                    (v - t) + acc.0
                };
                acc.0 = t;
            }
            let (mut fc, mut pc, mut gc) = (
                vec![(0.0, 0.0); k],
                vec![(0.0, 0.0); n],
                vec![(0.0, 0.0); n * dd],
            );
            for kk in 0..k {
                let x: Vec<f64> = (0..d).map(|j| mf.data.x[[kk, j]]).collect();
                for m in 0..n {
                    let t = theta.row(m).to_vec();
                    let v = libm_unit(&x, &t, &mut g);
                    add(&mut fc[kk], alpha[m] * v);
                    fa[kk] += (alpha[m] * v).abs();
                    add(&mut pc[m], r[kk] * v);
                    pa[m] += (r[kk] * v).abs();
                    for j in 0..dd {
                        add(&mut gc[m * dd + j], r[kk] * g[j]);
                        ga[m * dd + j] += (r[kk] * g[j]).abs();
                    }
                }
            }
            for m in 0..n {
                let t = theta.row(m);
                add(&mut pc[m], 0.5 * mf.lambda * t.dot(&t));
                pa[m] += 0.5 * mf.lambda * t.dot(&t);
                for j in 0..dd {
                    add(&mut gc[m * dd + j], mf.lambda * t[j]);
                    ga[m * dd + j] += (mf.lambda * t[j]).abs();
                }
            }
            let fin = |v: &[(f64, f64)], out: &mut [f64]| {
                for (o, (s, c)) in out.iter_mut().zip(v) {
                    *o = s + c;
                }
            };
            fin(&fc, &mut f);
            fin(&pc, &mut psi);
            fin(&gc, &mut grad);
            (f, fa, psi, pa, grad, ga)
        }

        fn close(what: &str, got: &[f64], want: &[f64], scale: &[f64], tol: f64) {
            for (i, ((g, w), s)) in got.iter().zip(want).zip(scale).enumerate() {
                assert!(
                    (g - w).abs() <= tol * s + 1e-300,
                    "{what}[{i}]: {g} vs {w} (scale {s})"
                );
            }
        }

        /// The blocked kernel against the direct formulas (compensated sums), within
        /// 4·10⁻¹⁵ · Σ|terms| for every output (the fast tanh is within 3 ulp of libm's; the
        /// blocked sums of 1100 terms have at most ~75 roundings on any path), for ridge units W, AW, WB in d = 1, 2, on symmetric (folded) and random
        /// nodes, odd and even K, with M = 1100 points (several blocks, a partial tile).
        #[test]
        fn blocked_kernel_matches_direct_formulas() {
            let acts = [
                Activation::Tanh,
                Activation::Erf,
                Activation::Sigmoid,
                Activation::Relu,
            ];
            for d in 1..=2 {
                for param in [Param::W, Param::AW, Param::WB] {
                    for act in acts {
                        for (k, symmetric) in [(9, true), (12, true), (11, false)] {
                            let unit = Unit::Ridge {
                                act,
                                param,
                                input_dim: d,
                            };
                            let dat = data(d, k, symmetric);
                            let mf = MeanField::new(unit, Loss::Squared, dat, 0.05).unwrap();
                            let plan = super::Plan::new(&mf.unit, &mf.data).unwrap();
                            assert_eq!(
                                plan.is_folded(),
                                symmetric && super::unit_is_odd(act, param)
                            );
                            let dd = mf.theta_dim();
                            let n = 1100;
                            let theta = Array2::from_shape_vec(
                                (n, dd),
                                noise(11, n * dd).iter().map(|v| 2.5 * v).collect(),
                            )
                            .unwrap();
                            let alpha: Vec<f64> = noise(5, n).iter().map(|v| 1.0 + v).collect();
                            let al = Array1::from(alpha.clone());
                            let kk = mf.data.len();
                            let r = noise(13, kk);
                            let (f, fa, psi, pa, grad, ga) = reference(&mf, &theta, &alpha, &r);
                            let got_f = mf.network(Measure::new(theta.view(), al.view()));
                            let tag = format!("{act:?} {param:?} d={d} K={k} sym={symmetric}");
                            close(
                                &format!("f {tag}"),
                                got_f.as_slice().unwrap(),
                                &f,
                                &fa,
                                4e-15,
                            );
                            let mut p1 = vec![0.0; n];
                            mf.potential_of_residual_into(&r, theta.view(), &mut p1);
                            close(&format!("psi {tag}"), &p1, &psi, &pa, 4e-15);
                            let mut p2 = vec![0.0; n];
                            let mut g2 = Array2::zeros((n, dd));
                            mf.potential_grad_of_residual_into(
                                &r,
                                theta.view(),
                                &mut p2,
                                g2.view_mut(),
                            );
                            assert_eq!(p1, p2, "{tag}");
                            close(
                                &format!("grad {tag}"),
                                g2.as_slice().unwrap(),
                                &grad,
                                &ga,
                                4e-15,
                            );
                        }
                    }
                }
            }
        }

        /// Folding changes f not at all: the folded f equals the unfolded one bit for bit.
        #[test]
        fn folding_is_exact_for_f() {
            for k in [40, 41] {
                let unit = Unit::Ridge {
                    act: Activation::Tanh,
                    param: Param::AW,
                    input_dim: 1,
                };
                let mf = MeanField::new(unit, Loss::Squared, data(1, k, true), 0.0).unwrap();
                let plan = super::Plan::new(&mf.unit, &mf.data).unwrap();
                assert!(plan.is_folded());
                let unfolded = super::Plan {
                    folded: false,
                    kc: k,
                    ..plan
                };
                let n = 2000;
                let theta: Vec<f64> = noise(17, 2 * n).iter().map(|v| 3.0 * v).collect();
                let alpha = vec![1.0 / n as f64; n];
                let (mut a, mut b) = (vec![0.0; k], vec![0.0; k]);
                plan.network(&theta, &alpha, &mut a);
                unfolded.network(&theta, &alpha, &mut b);
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&a), bits(&b));
                // Ψ: the same up to the rounding of r_k − r_{K−1−k}
                let r = noise(2, k);
                let (mut pa, mut pb) = (vec![0.0; n], vec![0.0; n]);
                plan.potential(&r, &theta, 0.1, &mut pa, None);
                unfolded.potential(&r, &theta, 0.1, &mut pb, None);
                for (x, y) in pa.iter().zip(&pb) {
                    assert!((x - y).abs() <= 1e-14 * (1.0 + y.abs()), "{x} vs {y}");
                }
            }
        }

        /// Same bits with 1 and 2 threads (and M not a multiple of the block or tile).
        #[test]
        fn blocked_kernel_is_thread_count_independent() {
            let unit = Unit::Ridge {
                act: Activation::Tanh,
                param: Param::AW,
                input_dim: 1,
            };
            let mf = MeanField::new(unit, Loss::Squared, data(1, 51, true), 0.01).unwrap();
            let n = 3 * super::BLOCK + 37;
            let theta = Array2::from_shape_vec((n, 2), noise(23, 2 * n)).unwrap();
            let al = Array1::from_elem(n, 1.0 / n as f64);
            let run = |threads: usize| {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                pool.install(|| {
                    let f = mf.network(Measure::new(theta.view(), al.view()));
                    let r = mf.residual(f.as_slice().unwrap());
                    let (mut p, mut g) = (vec![0.0; n], Array2::zeros((n, 2)));
                    mf.potential_grad_of_residual_into(
                        r.as_slice().unwrap(),
                        theta.view(),
                        &mut p,
                        g.view_mut(),
                    );
                    f.iter()
                        .chain(&p)
                        .chain(g.iter())
                        .map(|v| v.to_bits())
                        .collect::<Vec<_>>()
                })
            };
            assert_eq!(run(1), run(2));
        }
    }
}
