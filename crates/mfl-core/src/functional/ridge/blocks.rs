//! The per-tile bodies of the ridge kernel (module doc of [`super`]): the lanes of a
//! [`Tile`], pass 1 ([`net_block`], [`net_block_table`]) and pass 2 ([`pot_block`],
//! [`pot_table_body`]), and their tanh entry points compiled once per [`Isa`] by
//! [`crate::isa_dispatch!`] (`mul_add` is exactly rounded, so every copy gives the same bits).

// lane loops index several arrays in step on purpose: that is what vectorises
#![allow(clippy::needless_range_loop)]

use super::LANES;
use crate::activation::{tanh_inline, tanh_sech2_inline};
use crate::simd::Isa;
use crate::unit::Param;

/// The canonical nodes of pass 2: x (Kc × d), ρ_k and ρ_k x_k.
pub(super) struct Nodes<'n> {
    pub(super) x: &'n [f64],
    pub(super) coef: &'n [f64],
    pub(super) coefx: &'n [f64],
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
pub(super) fn net_block<const D: usize, const BIAS: bool>(
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
pub(super) fn pot_block<const D: usize, const BIAS: bool, const GRAD: bool>(
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

/// [`net_block`] with [`tanh_inline`], compiled for `isa`.
pub(super) fn net_tanh<const D: usize, const BIAS: bool>(
    isa: Isa,
    x: &[f64],
    param: Param,
    theta: &[f64],
    alpha: &[f64],
    part: &mut [f64],
) {
    crate::isa_dispatch!(isa, [_FMA] fn k<const D: usize, const BIAS: bool>(
        x: &[f64], param: Param, theta: &[f64], alpha: &[f64], part: &mut [f64]) -> () {
        net_block::<D, BIAS>(tanh_inline, x, param, theta, alpha, part)
    })
}

/// [`pot_block`] with [`tanh_inline`] / [`tanh_sech2_inline`], compiled for `isa`.
#[allow(clippy::too_many_arguments)]
pub(super) fn pot_tanh<const D: usize, const BIAS: bool, const GRAD: bool>(
    isa: Isa,
    nodes: &Nodes,
    param: Param,
    theta: &[f64],
    lambda: f64,
    psi: &mut [f64],
    grad: &mut [f64],
) {
    crate::isa_dispatch!(isa, [_FMA] fn k<const D: usize, const BIAS: bool, const GRAD: bool>(
        nodes: &Nodes, param: Param, theta: &[f64], lambda: f64, psi: &mut [f64],
        grad: &mut [f64]) -> () {
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
    })
}

/// [`net_block_table`], compiled for `isa`.
#[allow(clippy::too_many_arguments)]
pub(super) fn net_tanh_table<const D: usize, const BIAS: bool>(
    isa: Isa,
    x: &[f64],
    param: Param,
    theta: &[f64],
    alpha: &[f64],
    part: &mut [f64],
    tv: &mut [[f64; LANES]],
    ts: &mut [[f64; LANES]],
) {
    crate::isa_dispatch!(isa, [_FMA] fn k<const D: usize, const BIAS: bool>(
        x: &[f64], param: Param, theta: &[f64], alpha: &[f64], part: &mut [f64],
        tv: &mut [[f64; LANES]], ts: &mut [[f64; LANES]]) -> () {
        net_block_table::<D, BIAS>(x, param, theta, alpha, part, tv, ts)
    })
}

/// [`pot_table_body`], compiled for `isa`.
#[allow(clippy::too_many_arguments)]
pub(super) fn pot_table<const D: usize, const BIAS: bool>(
    isa: Isa,
    nodes: &Nodes,
    param: Param,
    theta: &[f64],
    lambda: f64,
    psi: &mut [f64],
    grad: &mut [f64],
    tv: &[[f64; LANES]],
    ts: &[[f64; LANES]],
) {
    crate::isa_dispatch!(isa, [_FMA] fn k<const D: usize, const BIAS: bool>(
        nodes: &Nodes, param: Param, theta: &[f64], lambda: f64, psi: &mut [f64],
        grad: &mut [f64], tv: &[[f64; LANES]], ts: &[[f64; LANES]]) -> () {
        pot_table_body::<D, BIAS>(nodes, param, theta, lambda, psi, grad, tv, ts)
    })
}
