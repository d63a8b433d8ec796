//! The adjoint (linear-response) control variate of the gap at t > 0.
//!
//! Let ρ_s solve the PDE and μ_N(s) be the particles' empirical measure. To first order in
//! ν = μ_N − ρ, a functional G(μ_N(t)) (G = R or E) moves by ⟨h_t, ν_t⟩ with
//! h_t = δG/δρ(ρ_t) (risk: h = 2E[½∂ℓ σ] = 2(Ψ − (λ/2)|θ|²); energy: h = Ψ). The linearised
//! dynamics carry ⟨φ_s, ν_s⟩ unchanged when φ solves the backward (adjoint) equation
//!
//! ∂_s φ − ∇Ψ(θ; ρ_s)·∇φ + TΔφ − K_s φ = 0,  φ_t = h_t,
//! K_s φ(θ') = −½E[∂²ℓ(y, f_ρs) σ(x; θ') f_q(x)],  f_q(x) = ∫σ(x; θ) ∇·(ρ_s∇φ)(θ) dθ
//!
//! (squared loss: ½∂²ℓ = 1 and K_s φ(θ') = ∫∇_θU(θ, θ')·∇φ(θ) ρ_s(dθ); the logistic loss adds
//! the curvature weight σ(yf)σ(−yf) per data point). Then, with the particles' own Gaussian
//! increments ΔW_i^k = √(2Tη_k) g_i^k,
//!
//! Z = ⟨φ_0, μ_N(0) − ρ_0⟩ + Σ_k (1/N) Σ_i ∇φ_{s_k}(θ_i^k)·ΔW_i^k
//!
//! has mean **exactly** zero whatever φ is — the first term is an i.i.d. average of a fixed
//! function minus its exact mean under the initial law, the second a sum of martingale
//! increments ([`mfl_particles::martingale`]) — and G(μ_N(t)) − G(ρ_t) − Z is the O(1/N)
//! remainder: the O(N^{-1/2}) fluctuation is gone. Errors in φ (grid, time step,
//! interpolation) cost variance, never bias.
//!
//! **Discretisation.** φ lives on the PDE's grid and solves the exact adjoint of the
//! semi-discrete Scharfetter–Gummel scheme linearised around ρ_s: for a face (L, R) with
//! d = Ψ_R − Ψ_L and spacing h, the transport part is the generator of the scheme's jump chain,
//! (A^Tφ)_L += A(d)(φ_R − φ_L)/h², (A^Tφ)_R += A(−d)(φ_L − φ_R)/h² (reflecting at no-flux walls,
//! wrapping on periodic axes), and the nonlocal part uses the flux sensitivity
//! c_f = (A'(d)ρ_L + A'(−d)ρ_R)/h²: q_R += c_f(φ_R − φ_L), q_L −= c_f(φ_R − φ_L), then
//! (J^Tφ)_n += Σ_k c_k g_k σ(x_k; θ_n) with g_k = Σ_m q_m|cell| σ(x_k; θ_m) and
//! c_k = ½w_k∂²ℓ — two O(M·K) passes of the one kernel, never U on the grid. Time: Heun
//! (second order) backward from t to 0 with steps ≤ ½/(max outflow rate), landing on the
//! nodes where ρ_s was recorded; ρ_s, Ψ_s and f_s are linear in time between nodes. All fields
//! are swept backward together, sharing each substep's path state and face coefficients.
//!
//! **Evaluation at particles.** Values Iφ by multilinear interpolation between cell centres
//! (constant beyond the outer centres of a wall axis, wrapping on a periodic one); ∇φ by
//! multilinear interpolation of centred differences (ghost cells φ_{−1} = φ_0 at walls); in
//! time, linear between nodes. The initial term's mean is the exact integral of Iφ_0 against
//! the particles' initial law (piecewise constant on a grid, uniform inside cells): Iφ_0 is
//! multilinear on each box between centres, so the midpoint rule on those boxes is exact.

use crate::error::CompareError;
use mfl_core::{Boundary, Grid, MeanField, Measure};
use mfl_particles::Integrand;
use mfl_pde::flux::{max_outflow, sg_coefficient, sg_coefficient_derivative, Layout};
use ndarray::{Array1, ArrayView2};

/// Which functional a control variate is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Functional {
    /// R(ρ): terminal value h = δR/δρ = 2Σ_k r_k σ(x_k; ·).
    Risk,
    /// E(ρ) = ½R + (λ/2)∫|θ|²: terminal value h = Ψ(·; ρ).
    Energy,
}

/// The PDE trajectory at increasing node times s_0 = 0 < s_1 < …: densities on the cells, and
/// what the adjoint needs of them — Ψ on the cells, f_k and c_k = ½w_k∂²ℓ on the data.
#[derive(Debug, Clone, PartialEq)]
pub struct DensityPath {
    /// Node times (strictly increasing, from 0).
    pub times: Vec<f64>,
    /// ρ at each node (cells, row-major).
    pub rho: Vec<Vec<f64>>,
    /// Ψ(·; ρ) at each node.
    pub psi: Vec<Vec<f64>>,
    /// f_ρ(x_k) at each node.
    pub network: Vec<Vec<f64>>,
}

impl DensityPath {
    /// Ψ and f of each recorded density (two O(M·K) passes per node).
    pub fn new(
        eval: &MeanField,
        grid: &Grid,
        times: Vec<f64>,
        rho: Vec<Vec<f64>>,
    ) -> Result<Self, CompareError> {
        if times.len() != rho.len() || times.is_empty() || times[0] != 0.0 {
            return Err(CompareError::invalid(
                "density path",
                "needs one density per node time, starting at t = 0",
            ));
        }
        if times.windows(2).any(|w| w[0] >= w[1]) {
            return Err(CompareError::invalid(
                "density path",
                "node times must increase",
            ));
        }
        let centres = grid.centres();
        let vol = grid.cell_volume();
        let (mut psi, mut network) = (Vec::new(), Vec::new());
        for r in &rho {
            let w: Array1<f64> = r.iter().map(|v| v * vol).collect();
            let f = eval.network(Measure::new(centres.view(), w.view()));
            let res = eval.residual(f.as_slice().expect("contiguous"));
            let mut p = vec![0.0; r.len()];
            eval.potential_of_residual_into(
                res.as_slice().expect("contiguous"),
                centres.view(),
                &mut p,
            );
            psi.push(p);
            network.push(f.to_vec());
        }
        Ok(DensityPath {
            times,
            rho,
            psi,
            network,
        })
    }

    /// (i, w) with s = (1 − w)s_i + w s_{i+1}, clamped to the recorded range.
    fn locate(&self, s: f64) -> (usize, f64) {
        locate(&self.times, s)
    }

    /// ρ_s, Ψ_s, f_s into the buffers, linear in time between nodes.
    fn at(&self, s: f64, rho: &mut [f64], psi: &mut [f64], f: &mut [f64]) {
        let (i, w) = self.locate(s);
        let j = (i + 1).min(self.times.len() - 1);
        lerp(&self.rho[i], &self.rho[j], w, rho);
        lerp(&self.psi[i], &self.psi[j], w, psi);
        lerp(&self.network[i], &self.network[j], w, f);
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        8 * self.times.len() * (self.rho[0].len() + self.psi[0].len() + self.network[0].len() + 1)
    }
}

fn lerp(a: &[f64], b: &[f64], w: f64, out: &mut [f64]) {
    for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
        *o = x + w * (y - x);
    }
}

/// (i, w) with s between nodes i and i + 1 at fraction w (clamped to the ends).
fn locate(times: &[f64], s: f64) -> (usize, f64) {
    let n = times.len();
    if n == 1 || s <= times[0] {
        return (0, 0.0);
    }
    if s >= times[n - 1] {
        return (n - 1, 0.0);
    }
    let i = times.partition_point(|&t| t <= s) - 1;
    (i, (s - times[i]) / (times[i + 1] - times[i]))
}

/// φ of one control variate: terminal time, and ∇φ at the nodes s_i ≤ t (D per cell,
/// interleaved) plus φ_0.
#[derive(Debug, Clone, PartialEq)]
struct Field {
    terminal: f64,
    phi0: Vec<f64>,
    grad: Vec<Vec<f64>>,
}

/// The adjoint solutions φ^{(q)} for a list of (terminal time, functional) pairs, ready to be
/// evaluated at particles: an [`Integrand`] for the martingale term, [`Adjoint::initial`] and
/// [`Adjoint::initial_mean`] for the initial one.
#[derive(Debug, Clone, PartialEq)]
pub struct Adjoint {
    grid: Grid,
    node_times: Vec<f64>,
    fields: Vec<Field>,
    /// (terminal time, functional) of each field, in order.
    pub targets: Vec<(f64, Functional)>,
}

/// The scratch of one backward sweep.
struct Work {
    rho: Vec<f64>,
    psi: Vec<f64>,
    f: Vec<f64>,
    c: Vec<f64>,
    q: Vec<f64>,
    g: Array1<f64>,
    nonlocal: Vec<f64>,
}

/// The face coefficients of the linearised SG scheme at one path state, in the order of
/// [`Layout::for_each_face`]: A(d)/h², A(−d)/h² (the jump rates L → R and R → L) and the flux
/// sensitivity c_f = (A'(d)ρ_L + A'(−d)ρ_R)/h², d = Ψ_R − Ψ_L. They depend on ρ_s and Ψ_s only,
/// so all fields share them.
struct Faces {
    cells: Vec<(usize, usize)>,
    coef: Vec<[f64; 3]>,
}

impl Faces {
    fn new(layout: &Layout) -> Self {
        let mut cells = Vec::new();
        layout.for_each_face(|l, r, _| cells.push((l, r)));
        let n = cells.len();
        Faces {
            cells,
            coef: vec![[0.0; 3]; n],
        }
    }

    fn set(&mut self, layout: &Layout, temperature: f64, psi: &[f64], rho: &[f64]) {
        let mut i = 0;
        let coef = &mut self.coef;
        layout.for_each_face(|l, r, h| {
            let d = psi[r] - psi[l];
            let h2 = h * h;
            coef[i] = [
                sg_coefficient(d, temperature) / h2,
                sg_coefficient(-d, temperature) / h2,
                (sg_coefficient_derivative(d, temperature) * rho[l]
                    + sg_coefficient_derivative(-d, temperature) * rho[r])
                    / h2,
            ];
            i += 1;
        });
    }
}

/// The backward right-hand side G = J_s^Tφ (dφ/dτ = G in reversed time τ = t − s) at the path
/// state whose face coefficients are `faces` (and c in `w`), into `out`.
fn backward_rhs(
    faces: &Faces,
    cell_volume: f64,
    flat: &MeanField,
    centres: ArrayView2<f64>,
    w: &mut Work,
    phi: &[f64],
    out: &mut [f64],
) {
    out.iter_mut().for_each(|v| *v = 0.0);
    w.q.iter_mut().for_each(|v| *v = 0.0);
    let q = &mut w.q;
    for (&(l, r), &[ap, am, cf]) in faces.cells.iter().zip(&faces.coef) {
        let dphi = phi[r] - phi[l];
        out[l] += ap * dphi;
        out[r] -= am * dphi;
        q[r] += cf * dphi;
        q[l] -= cf * dphi;
    }
    let weights: Array1<f64> = w.q.iter().map(|v| v * cell_volume).collect();
    flat.network_into(
        Measure::new(centres, weights.view()),
        w.g.as_slice_mut().expect("contiguous"),
    );
    for (gk, ck) in w.g.iter_mut().zip(&w.c) {
        *gk *= ck;
    }
    flat.potential_of_residual_into(
        w.g.as_slice().expect("contiguous"),
        centres,
        &mut w.nonlocal,
    );
    for (o, v) in out.iter_mut().zip(&w.nonlocal) {
        *o += v;
    }
}

impl Adjoint {
    /// Solve the adjoint equation backward from each target (t_q, G_q) to 0 around `path`
    /// (every t_q must be a node time of the path) and keep ∇φ at the nodes.
    pub fn solve(
        eval: &MeanField,
        grid: &Grid,
        temperature: f64,
        path: &DensityPath,
        targets: &[(f64, Functional)],
    ) -> Result<Self, CompareError> {
        let layout = Layout::new(grid);
        let m = grid.len();
        let centres = grid.centres();
        let k = eval.data.len();
        let flat = MeanField {
            lambda: 0.0,
            ..eval.clone()
        };
        let mut w = Work {
            rho: vec![0.0; m],
            psi: vec![0.0; m],
            f: vec![0.0; k],
            c: vec![0.0; k],
            q: vec![0.0; m],
            g: Array1::zeros(k),
            nonlocal: vec![0.0; m],
        };
        let mut scratch = vec![0.0; m];
        // the terminal node of every target
        let last: Vec<usize> = targets
            .iter()
            .map(|&(t, _)| {
                path.times.iter().position(|&s| s == t).ok_or_else(|| {
                    CompareError::invalid(
                        "adjoint",
                        format!("the terminal time {t} is not a node of the density path"),
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        // terminal values h_t
        let terminal = |q: usize| -> Vec<f64> {
            let (j, mut phi) = (last[q], vec![0.0; m]);
            match targets[q].1 {
                Functional::Risk => {
                    let mut res = vec![0.0; k];
                    eval.residual_into(&path.network[j], &mut res);
                    flat.potential_of_residual_into(&res, centres.view(), &mut phi);
                    phi.iter_mut().for_each(|v| *v *= 2.0);
                }
                Functional::Energy => phi.copy_from_slice(&path.psi[j]),
            }
            phi
        };
        // one backward sweep for all fields: a field runs from its terminal node down to 0,
        // and the fields running on a substep share its path state and face coefficients
        let nq = targets.len();
        let mut phis: Vec<Vec<f64>> = vec![Vec::new(); nq];
        let mut grads: Vec<Vec<Vec<f64>>> = last.iter().map(|&j| vec![Vec::new(); j + 1]).collect();
        let mut k1s: Vec<Vec<f64>> = vec![Vec::new(); nq];
        let mut trials: Vec<Vec<f64>> = vec![Vec::new(); nq];
        let mut k2 = vec![0.0; m];
        let (mut faces_s, mut faces_next) = (Faces::new(&layout), Faces::new(&layout));
        let top = path.times.len() - 1;
        for q in (0..nq).filter(|&q| last[q] == 0) {
            phis[q] = terminal(q);
            grads[q][0] = gradient(grid, &phis[q]);
        }
        for i in (0..top).rev() {
            for q in (0..nq).filter(|&q| last[q] == i + 1) {
                phis[q] = terminal(q);
                grads[q][i + 1] = gradient(grid, &phis[q]);
                k1s[q] = vec![0.0; m];
                trials[q] = vec![0.0; m];
            }
            let active: Vec<usize> = (0..nq).filter(|&q| last[q] > i).collect();
            if active.is_empty() {
                continue;
            }
            let (s0, s1) = (path.times[i], path.times[i + 1]);
            let rate = max_outflow(&layout, temperature, &path.psi[i], &mut scratch).max(
                max_outflow(&layout, temperature, &path.psi[i + 1], &mut scratch),
            );
            let sub = ((s1 - s0) * rate / 0.5).ceil().max(1.0) as usize;
            let dt = (s1 - s0) / sub as f64;
            for j in 0..sub {
                let s = s1 - j as f64 * dt;
                let s_next = if j + 1 == sub { s0 } else { s - dt };
                // Heun in reversed time, stage 1 at s for every running field
                set_state(path, eval, s, &mut w);
                faces_s.set(&layout, temperature, &w.psi, &w.rho);
                for &q in &active {
                    let k1 = &mut k1s[q];
                    backward_rhs(
                        &faces_s,
                        layout.cell_volume,
                        &flat,
                        centres.view(),
                        &mut w,
                        &phis[q],
                        k1,
                    );
                    for ((tv, p), a) in trials[q].iter_mut().zip(&phis[q]).zip(k1.iter()) {
                        *tv = p + dt * a;
                    }
                }
                // stage 2 at s − dt
                set_state(path, eval, s_next, &mut w);
                faces_next.set(&layout, temperature, &w.psi, &w.rho);
                for &q in &active {
                    backward_rhs(
                        &faces_next,
                        layout.cell_volume,
                        &flat,
                        centres.view(),
                        &mut w,
                        &trials[q],
                        &mut k2,
                    );
                    for ((p, a), b) in phis[q].iter_mut().zip(&k1s[q]).zip(&k2) {
                        *p += 0.5 * dt * (a + b);
                    }
                }
            }
            for &q in &active {
                if let Some(bad) = phis[q].iter().position(|v| !v.is_finite()) {
                    return Err(CompareError::invalid(
                        "adjoint",
                        format!("φ became non-finite at cell {bad}, s = {s0}"),
                    ));
                }
                grads[q][i] = gradient(grid, &phis[q]);
            }
        }
        let fields: Vec<Field> = phis
            .into_iter()
            .zip(grads)
            .zip(targets)
            .map(|((phi0, grad), &(t, _))| Field {
                terminal: t,
                phi0,
                grad,
            })
            .collect();
        Ok(Adjoint {
            grid: grid.clone(),
            node_times: path.times.clone(),
            fields,
            targets: targets.to_vec(),
        })
    }

    /// Bytes held by the stored gradients.
    pub fn bytes(&self) -> usize {
        self.fields
            .iter()
            .map(|f| 8 * (f.phi0.len() + f.grad.iter().map(Vec::len).sum::<usize>()))
            .sum()
    }

    /// φ_0^{(q)} on the cells.
    pub fn phi0(&self, q: usize) -> &[f64] {
        &self.fields[q].phi0
    }

    /// (1/N) Σ_i Iφ_0^{(q)}(θ_i) for every q (rows of `theta` are the θ_i).
    pub fn initial(&self, theta: ArrayView2<f64>) -> Vec<f64> {
        let mut out = vec![0.0; self.fields.len()];
        let n = theta.nrows() as f64;
        let mut st = Stencil::default();
        for row in theta.rows() {
            let p = row.to_vec();
            st.set(&self.grid, &p);
            for (o, f) in out.iter_mut().zip(&self.fields) {
                *o += st.value(&f.phi0);
            }
        }
        out.iter_mut().for_each(|v| *v /= n);
        out
    }

    /// E[Iφ_0^{(q)}(θ)] for θ from the piecewise-constant law `density` on `init_grid`
    /// (cell m with probability ρ_m/Σρ, uniform inside): exact, by the midpoint rule on the
    /// boxes between this grid's centres inside each cell (Iφ_0 is multilinear there).
    pub fn initial_mean(
        &self,
        init_grid: &Grid,
        density: &[f64],
    ) -> Result<Vec<f64>, CompareError> {
        if init_grid.dim() != self.grid.dim() || density.len() != init_grid.len() {
            return Err(CompareError::invalid(
                "initial law",
                "the initial grid density must match the adjoint grid's dimension",
            ));
        }
        let total: f64 = density.iter().sum();
        if !(total > 0.0) {
            return Err(CompareError::invalid("initial law", "has no mass"));
        }
        // per axis and init cell: sub-intervals (midpoint, length fraction)
        let pieces: Vec<Vec<Vec<(f64, f64)>>> = init_grid
            .axes
            .iter()
            .zip(&self.grid.axes)
            .map(|(ia, aa)| {
                let h = ia.h();
                (0..ia.n)
                    .map(|c| {
                        let (a, b) = (ia.lo + c as f64 * h, ia.lo + (c + 1) as f64 * h);
                        let mut cuts = vec![a];
                        cuts.extend(aa.centres().into_iter().filter(|&x| x > a && x < b));
                        cuts.push(b);
                        cuts.windows(2)
                            .map(|w| (0.5 * (w[0] + w[1]), (w[1] - w[0]) / (b - a)))
                            .collect()
                    })
                    .collect()
            })
            .collect();
        let shape = init_grid.shape();
        let mut out = vec![0.0; self.fields.len()];
        let mut st = Stencil::default();
        for (cell, &p) in density.iter().enumerate() {
            if p == 0.0 {
                continue;
            }
            let prob = p / total;
            let idx: Vec<usize> = if shape.len() == 1 {
                vec![cell]
            } else {
                vec![cell / shape[1], cell % shape[1]]
            };
            let mut visit = |pt: &[f64], frac: f64| {
                st.set(&self.grid, pt);
                for (o, f) in out.iter_mut().zip(&self.fields) {
                    *o += prob * frac * st.value(&f.phi0);
                }
            };
            match idx.len() {
                1 => {
                    for &(x, fx) in &pieces[0][idx[0]] {
                        visit(&[x], fx);
                    }
                }
                _ => {
                    for &(x, fx) in &pieces[0][idx[0]] {
                        for &(y, fy) in &pieces[1][idx[1]] {
                            visit(&[x, y], fx * fy);
                        }
                    }
                }
            }
        }
        Ok(out)
    }
}

impl Integrand for Adjoint {
    fn len(&self) -> usize {
        self.fields.len()
    }

    fn add(&self, t: f64, dim: usize, theta: &[f64], increments: &[f64], out: &mut [f64]) {
        let (i, w) = locate(&self.node_times, t);
        // the fields still running at t (t < terminal, so node i + 1 is one of theirs)
        let active: Vec<(usize, &[f64], &[f64])> = self
            .fields
            .iter()
            .enumerate()
            .filter(|(_, f)| t < f.terminal)
            .map(|(q, f)| (q, f.grad[i].as_slice(), f.grad[i + 1].as_slice()))
            .collect();
        if active.is_empty() {
            return;
        }
        let axes = &self.grid.axes;
        if dim == 1 {
            for (p, d) in theta.iter().zip(increments) {
                let (c0, c1, u) = axis_stencil(&axes[0], *p);
                for &(q, a, b) in &active {
                    let ga = a[c0] + u * (a[c1] - a[c0]);
                    let gb = b[c0] + u * (b[c1] - b[c0]);
                    out[q] += (ga + w * (gb - ga)) * d;
                }
            }
            return;
        }
        let n1 = axes[1].n;
        for (p, d) in theta.chunks_exact(2).zip(increments.chunks_exact(2)) {
            let (x0, x1, u) = axis_stencil(&axes[0], p[0]);
            let (y0, y1, v) = axis_stencil(&axes[1], p[1]);
            let cells = [x0 * n1 + y0, x0 * n1 + y1, x1 * n1 + y0, x1 * n1 + y1];
            let wts = [(1.0 - u) * (1.0 - v), (1.0 - u) * v, u * (1.0 - v), u * v];
            for &(q, a, b) in &active {
                let mut s = 0.0;
                for (ax, dv) in d.iter().enumerate() {
                    let (mut ga, mut gb) = (0.0, 0.0);
                    for (c, wt) in cells.iter().zip(&wts) {
                        ga += wt * a[2 * c + ax];
                        gb += wt * b[2 * c + ax];
                    }
                    s += (ga + w * (gb - ga)) * dv;
                }
                out[q] += s;
            }
        }
    }
}

/// The two cells and the weight of the upper one for linear interpolation between centres
/// along one axis: constant beyond the outer centres of a wall axis, wrapping on a periodic
/// one.
#[inline]
fn axis_stencil(ax: &mfl_core::Axis, x: f64) -> (usize, usize, f64) {
    let n = ax.n;
    let u = (x - ax.lo) / ax.h() - 0.5;
    let i0 = u.floor();
    let frac = u - i0;
    if ax.boundary == Boundary::Periodic {
        let i = (i0 as i64).rem_euclid(n as i64) as usize;
        (i, (i + 1) % n, frac)
    } else if i0 < 0.0 {
        (0, 0, 0.0)
    } else if i0 as usize >= n - 1 {
        (n - 1, n - 1, 0.0)
    } else {
        let i = i0 as usize;
        (i, i + 1, frac)
    }
}

/// Centred differences of φ per cell (D per cell, interleaved), with ghost values φ_{−1} = φ_0
/// at walls and wrapping on periodic axes.
fn gradient(grid: &Grid, phi: &[f64]) -> Vec<f64> {
    let dd = grid.dim();
    let shape = grid.shape();
    let n1 = if dd == 2 { shape[1] } else { 1 };
    let mut out = vec![0.0; phi.len() * dd];
    for (a, ax) in grid.axes.iter().enumerate() {
        let n = ax.n;
        let h = ax.h();
        let periodic = ax.boundary == Boundary::Periodic;
        let stride = if a == 0 { n1 } else { 1 };
        for m in 0..phi.len() {
            let i = if a == 0 { m / n1 } else { m % n1 };
            let lo = if i > 0 {
                m - stride
            } else if periodic {
                m + (n - 1) * stride
            } else {
                m
            };
            let hi = if i + 1 < n {
                m + stride
            } else if periodic {
                m - (n - 1) * stride
            } else {
                m
            };
            out[m * dd + a] = (phi[hi] - phi[lo]) / (2.0 * h);
        }
    }
    out
}

/// The multilinear interpolation stencil at a point: up to 4 (cell, weight) pairs.
#[derive(Debug, Default)]
struct Stencil {
    cells: [usize; 4],
    weights: [f64; 4],
    len: usize,
}

impl Stencil {
    fn set(&mut self, grid: &Grid, p: &[f64]) {
        let mut idx = [[0usize; 2]; 2];
        let mut wts = [[0.0f64; 2]; 2];
        for (a, ax) in grid.axes.iter().enumerate() {
            let (i, j, w) = axis_stencil(ax, p[a]);
            idx[a] = [i, j];
            wts[a] = [1.0 - w, w];
        }
        if grid.dim() == 1 {
            self.cells[0] = idx[0][0];
            self.cells[1] = idx[0][1];
            self.weights[0] = wts[0][0];
            self.weights[1] = wts[0][1];
            self.len = 2;
        } else {
            let n1 = grid.axes[1].n;
            let mut c = 0;
            for x in 0..2 {
                for y in 0..2 {
                    self.cells[c] = idx[0][x] * n1 + idx[1][y];
                    self.weights[c] = wts[0][x] * wts[1][y];
                    c += 1;
                }
            }
            self.len = 4;
        }
    }

    fn value(&self, v: &[f64]) -> f64 {
        (0..self.len)
            .map(|c| self.weights[c] * v[self.cells[c]])
            .sum()
    }
}

/// Set ρ_s, Ψ_s, f_s and c_s = ½w∂²ℓ(y, f_s) in `w`.
fn set_state(path: &DensityPath, eval: &MeanField, s: f64, w: &mut Work) {
    path.at(s, &mut w.rho, &mut w.psi, &mut w.f);
    eval.curvature_into(&w.f, &mut w.c);
}
