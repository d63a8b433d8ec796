//! The blocked kernel for ridge units σ = act(w·x), a·act(w·x) or act(w·x + b) with d ≤ 2
//! (the general O(M·K) path of the grids and the particle step alike).
//!
//! * f (pass 1): θ points in blocks of [`BLOCK`]; inside a block, tiles of 8 points × all
//!   (canonical) nodes accumulate α_m c_m act(z_mk) per lane (c_m = a_m or 1); a block's
//!   partial f_k is the sum of its 8 lanes in lane order, and f_k the sum of the blocks in
//!   block order — fixed by M alone, so the same for any thread count.
//! * Ψ, ∇Ψ (pass 2): tiles of 8 points, each lane one point summing over the nodes in order:
//!   S₀ = Σ_k ρ_k act(z_k), S_j = Σ_k (ρ_k x_kj) act'(z_k), S_b = Σ_k ρ_k act'(z_k), with
//!   ρ_k = r_k, or on folded data ρ_k = r_k − r_{K−1−k} (k < K/2) and ρ_mid = r_mid; then
//!   Ψ = c S₀ + (λ/2)|θ|², ∂_a = S₀ + λa, ∂_{w_j} = c S_j + λw_j, ∂_b = S_b + λb.
//!
//! * [`Plan`] holds what the kernel needs to know about the unit and the data (the symmetry scan,
//!   the instruction set; building one costs a scan of ⌈K/2⌉·d node coordinates, nothing else);
//!   [`Table`] is the caller's workspace: the stored (tanh, sech²) values and the scratch of the
//!   partial sums and folded coefficients, so a particle step
//!   ([`crate::MeanField::self_gradient_into`]) allocates none of them.
//!
//! z = w·x (+ b) is computed exactly as [`crate::unit::dot`] does, so the odd symmetry
//! z(−x) = −z(x) holds bit for bit and folding changes f not at all and Ψ by rounding only.

// lane loops index several arrays in step on purpose: that is what vectorises
#![allow(clippy::needless_range_loop)]

use crate::activation::Activation;
use crate::data::Data;
use crate::simd::Isa;
use crate::unit::{Param, Unit};
use blocks::{net_block, net_tanh, net_tanh_table, pot_block, pot_table, pot_tanh, Nodes};
use rayon::prelude::*;

mod blocks;
#[cfg(test)]
mod tests;

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

/// A ridge unit on a data set, ready for the blocked kernel: unit, nodes, the number Kc of
/// canonical nodes (⌈K/2⌉ when folded, else K), and the instruction set.
#[derive(Debug, Clone, Copy)]
pub struct Plan<'a> {
    act: Activation,
    param: Param,
    d: usize,
    x: &'a [f64],
    k: usize,
    kc: usize,
    folded: bool,
    isa: Isa,
}

/// The unit part of a [`Plan`] (activation, parametrisation, input dimension d ≤ 2).
#[derive(Debug, Clone, Copy, PartialEq)]
struct PlanKey {
    act: Activation,
    param: Param,
    d: usize,
}

impl<'a> Plan<'a> {
    /// The plan of `unit` on `data`, or None when the unit is not a ridge unit with d ≤ 2.
    /// Folds the nodes when the unit is odd ([`unit_is_odd`]) and the data are
    /// [`reverse_symmetric`]; runs with [`Isa::detect`].
    pub fn new(unit: &Unit, data: &'a Data) -> Option<Self> {
        let (key, x) = Self::key(unit, data)?;
        let folded = x.len() >= 2 * key.d && unit_is_odd(key.act, key.param) && {
            reverse_symmetric(x, key.d)
        };
        Some(Self::from_key(key, x, folded))
    }

    fn key(unit: &Unit, data: &'a Data) -> Option<(PlanKey, &'a [f64])> {
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
        let key = PlanKey { act, param, d };
        Some((key, x))
    }

    fn from_key(key: PlanKey, x: &'a [f64], folded: bool) -> Self {
        let k = x.len() / key.d;
        Plan {
            act: key.act,
            param: key.param,
            d: key.d,
            x,
            k,
            kc: if folded { k.div_ceil(2) } else { k },
            folded,
            isa: Isa::detect(),
        }
    }

    /// The same plan compiled for `isa` (which must be [`Isa::available`]; an unavailable one
    /// runs the generic copy). Every copy returns the same bits (`mul_add` is exactly rounded).
    pub fn with_isa(self, isa: Isa) -> Self {
        Plan { isa, ..self }
    }

    /// The instruction set the kernel runs with.
    pub fn isa(&self) -> Isa {
        self.isa
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
        self.network_with(theta, alpha, out, &mut Vec::new());
    }

    /// [`Plan::network`] with the caller's buffer for the per-block partial sums.
    fn network_with(&self, theta: &[f64], alpha: &[f64], out: &mut [f64], partial: &mut Vec<f64>) {
        let (kc, dd) = (self.kc, self.theta_dim());
        out.iter_mut().for_each(|v| *v = 0.0);
        let n = alpha.len();
        if kc == 0 || n == 0 {
            return;
        }
        let blocks = n.div_ceil(BLOCK);
        partial.clear();
        partial.resize(blocks * kc, 0.0);
        partial
            .par_chunks_mut(kc)
            .enumerate()
            .for_each(|(b, part)| {
                let (lo, hi) = (b * BLOCK, ((b + 1) * BLOCK).min(n));
                self.network_block(&theta[lo * dd..hi * dd], &alpha[lo..hi], part);
            });
        self.sum_blocks(partial, out);
    }

    /// f_k = Σ_blocks partial_{b,k} in block order, then f_{K−1−k} = −f_k when folded.
    fn sum_blocks(&self, partial: &[f64], out: &mut [f64]) {
        let kc = self.kc;
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

    /// The pass-2 coefficients ρ_k (= r_k, or r_k − r_{K−1−k} for k < K/2 when folded) and
    /// ρ_k x_k into the caller's buffers.
    fn fold_coefficients(&self, r: &[f64], coef: &mut Vec<f64>, coefx: &mut Vec<f64>) {
        let (k, kc, d) = (self.k, self.kc, self.d);
        coef.clear();
        coef.extend((0..kc).map(|i| {
            if self.folded && i < k / 2 {
                r[i] - r[k - 1 - i]
            } else {
                r[i]
            }
        }));
        coefx.clear();
        coefx.extend((0..kc * d).map(|i| coef[i / d] * self.x[i]));
    }

    /// Ψ(θ_m) = Σ_k r_k σ(x_k; θ_m) + (λ/2)|θ_m|² (and ∇_θΨ(θ_m) = Σ_k r_k ∇_θσ + λθ_m into
    /// `grad`, M × D row-major, when given) for the residual r.
    pub fn potential(
        &self,
        r: &[f64],
        theta: &[f64],
        lambda: f64,
        psi: &mut [f64],
        grad: Option<&mut [f64]>,
    ) {
        let (mut coef, mut coefx) = (Vec::new(), Vec::new());
        self.potential_with(r, theta, lambda, psi, grad, &mut coef, &mut coefx);
    }

    /// [`Plan::potential`] with the caller's buffers for the folded coefficients.
    #[allow(clippy::too_many_arguments)]
    fn potential_with(
        &self,
        r: &[f64],
        theta: &[f64],
        lambda: f64,
        psi: &mut [f64],
        grad: Option<&mut [f64]>,
        coef: &mut Vec<f64>,
        coefx: &mut Vec<f64>,
    ) {
        let (kc, d, dd) = (self.kc, self.d, self.theta_dim());
        self.fold_coefficients(r, coef, coefx);
        let nodes = Nodes {
            x: &self.x[..kc * d],
            coef,
            coefx,
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
    /// `table` (tiles of 8 points × Kc nodes), so that the potential and its
    /// gradient for the resulting residual need no further transcendental:
    /// [`Plan::potential_from_table`]. Same bits as [`Plan::network`] (the tanh is the
    /// first output of [`crate::activation::tanh_sech2_inline`], identical to
    /// [`crate::activation::tanh_inline`]). tanh only.
    pub fn network_table(&self, theta: &[f64], alpha: &[f64], out: &mut [f64], table: &mut Table) {
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
        let mut partial = std::mem::take(&mut table.partial);
        partial.clear();
        partial.resize(blocks * kc, 0.0);
        let x = &self.x[..kc * self.d];
        let (p, isa) = (self.param, self.isa);
        partial
            .par_chunks_mut(kc)
            .zip(table.value.par_chunks_mut(per_block))
            .zip(table.slope.par_chunks_mut(per_block))
            .enumerate()
            .for_each(|(b, ((part, tv), ts))| {
                let (lo, hi) = (b * BLOCK, ((b + 1) * BLOCK).min(n));
                let (th, al) = (&theta[lo * dd..hi * dd], &alpha[lo..hi]);
                match (self.d, p == Param::WB) {
                    (1, false) => net_tanh_table::<1, false>(isa, x, p, th, al, part, tv, ts),
                    (1, true) => net_tanh_table::<1, true>(isa, x, p, th, al, part, tv, ts),
                    (2, false) => net_tanh_table::<2, false>(isa, x, p, th, al, part, tv, ts),
                    _ => net_tanh_table::<2, true>(isa, x, p, th, al, part, tv, ts),
                }
            });
        self.sum_blocks(&partial, out);
        table.partial = partial;
    }

    /// [`Plan::potential`] with ∇Ψ, for the points `theta` whose (tanh, sech²) values
    /// [`Plan::network_table`] stored: Ψ = c Σ_k ρ_k t_k + (λ/2)|θ|², ∇Ψ by the same sums of
    /// ρ_k x_k s_k — pure multiply–adds, in the order of [`Plan::potential`], so the same bits.
    pub fn potential_from_table(
        &self,
        r: &[f64],
        theta: &[f64],
        lambda: f64,
        psi: &mut [f64],
        grad: &mut [f64],
        table: &mut Table,
    ) {
        let (kc, d, dd) = (self.kc, self.d, self.theta_dim());
        let (mut coef, mut coefx) = (
            std::mem::take(&mut table.coef),
            std::mem::take(&mut table.coefx),
        );
        self.fold_coefficients(r, &mut coef, &mut coefx);
        let nodes = Nodes {
            x: &self.x[..kc * d],
            coef: &coef,
            coefx: &coefx,
        };
        let per_chunk = PSI_CHUNK / LANES * kc;
        let (p, isa) = (self.param, self.isa);
        psi.par_chunks_mut(PSI_CHUNK)
            .zip(grad.par_chunks_mut(PSI_CHUNK * dd))
            .zip(theta.par_chunks(PSI_CHUNK * dd))
            .zip(table.value.par_chunks(per_chunk))
            .zip(table.slope.par_chunks(per_chunk))
            .for_each(|((((ps, g), t), tv), ts)| match (self.d, p == Param::WB) {
                (1, false) => pot_table::<1, false>(isa, &nodes, p, t, lambda, ps, g, tv, ts),
                (1, true) => pot_table::<1, true>(isa, &nodes, p, t, lambda, ps, g, tv, ts),
                (2, false) => pot_table::<2, false>(isa, &nodes, p, t, lambda, ps, g, tv, ts),
                _ => pot_table::<2, true>(isa, &nodes, p, t, lambda, ps, g, tv, ts),
            });
        table.coef = coef;
        table.coefx = coefx;
    }

    /// [`Plan::network`] with the partial-sum scratch of `table` (same bits): pass 1 of a
    /// particle step too large for the tabled kernel.
    pub(crate) fn network_with_table(
        &self,
        theta: &[f64],
        alpha: &[f64],
        out: &mut [f64],
        table: &mut Table,
    ) {
        self.network_with(theta, alpha, out, &mut table.partial);
    }

    /// [`Plan::potential`] with ∇Ψ, using the coefficient scratch of `table` (same bits): pass 2
    /// of a particle step too large for the tabled kernel.
    pub(crate) fn potential_with_table(
        &self,
        r: &[f64],
        theta: &[f64],
        lambda: f64,
        psi: &mut [f64],
        grad: &mut [f64],
        table: &mut Table,
    ) {
        let (mut coef, mut coefx) = (
            std::mem::take(&mut table.coef),
            std::mem::take(&mut table.coefx),
        );
        self.potential_with(r, theta, lambda, psi, Some(grad), &mut coef, &mut coefx);
        table.coef = coef;
        table.coefx = coefx;
    }

    fn network_block(&self, theta: &[f64], alpha: &[f64], part: &mut [f64]) {
        let x = &self.x[..self.kc * self.d];
        let (p, isa) = (self.param, self.isa);
        macro_rules! go {
            ($d:literal, $bias:literal) => {
                match self.act {
                    Activation::Tanh => net_tanh::<$d, $bias>(isa, x, p, theta, alpha, part),
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
        let (p, isa) = (self.param, self.isa);
        macro_rules! go {
            ($d:literal, $bias:literal) => {
                match (self.act, grad) {
                    (Activation::Tanh, None) => {
                        pot_tanh::<$d, $bias, false>(isa, nodes, p, theta, lambda, psi, &mut [])
                    }
                    (Activation::Tanh, Some(g)) => {
                        pot_tanh::<$d, $bias, true>(isa, nodes, p, theta, lambda, psi, g)
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

/// The particle step's workspace for the ridge kernel: (tanh z, sech² z) per tile of
/// 8 points and node (entry `tile · Kc + k`), and the scratch of the partial sums of f
/// and of the folded coefficients, kept from call to call so that a step allocates none of them.
#[derive(Debug, Clone, Default)]
pub struct Table {
    value: Vec<[f64; LANES]>,
    slope: Vec<[f64; LANES]>,
    partial: Vec<f64>,
    coef: Vec<f64>,
    coefx: Vec<f64>,
}

impl Table {
    fn resize(&mut self, n: usize) {
        self.value.resize(n, [0.0; LANES]);
        self.slope.resize(n, [0.0; LANES]);
    }

    /// Bytes held by the (tanh, sech²) values.
    pub fn bytes(&self) -> usize {
        16 * LANES * self.value.len()
    }
}
