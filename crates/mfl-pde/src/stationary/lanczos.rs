//! The slowest mode of the linearised scheme L = −KH ([`super::linearised`]) by Lanczos in the
//! H inner product.
//!
//! KH is self-adjoint in ⟨u, v⟩_H = uᵀHv and maps mass-zero vectors (Σ_m v_m = 0) to mass-zero
//! vectors (1ᵀK = 0); on that subspace its eigenvalues κ are > 0 and e^{tL} decays like e^{−κt}.
//! Lanczos with full re-orthogonalisation (twice, in ⟨·,·⟩_H) builds
//!
//! KH Q_j = Q_j T_j + β_j q_{j+1} e_jᵀ,  Q_jᵀ H Q_j = I,
//!
//! and the smallest eigenvalue θ of the tridiagonal T_j (bisection on Sturm counts, eigenvector
//! s by inverse iteration with partial pivoting) is the estimate of κ_min, with the a-posteriori
//! bound |θ − κ| ≤ r := ‖KHy − θy‖_H = β_j|s_j| for y = Q_j s (H-self-adjointness; no gap
//! assumption), and the sharper Kato–Temple estimate |θ − κ| ≲ r²/δ with δ = θ₂ − θ the gap to the
//! second Ritz value (the residual carries the stiff modes' share times κ_max, so r itself falls
//! slowly while θ is already exact to r²/δ). Stop when min(r, r²/δ) ≤ `tol`·θ. After `max_dim` vectors the iteration restarts from the
//! current Ritz vector (memory stays 2·max_dim·M numbers).
//!
//! Starting vector: v_m = ρ*_m (g_m − ⟨g⟩_ρ*) with g_m = m/M + 0.1·frac(m φ) (φ the golden ratio),
//! a smooth ramp plus a deterministic quasi-random part so that no mode is missed by symmetry;
//! it vanishes where ρ* = 0 and has mass zero. Every Krylov vector is projected back onto
//! Σ v = 0 along ρ* (v ← v − (Σv/Σρ*)ρ*) against round-off drift. All sums are serial, in
//! index order: the result does not depend on the thread count.

use super::linearised::Linearisation;
use crate::error::PdeError;

/// Options of [`slowest_mode`].
#[derive(Debug, Clone, PartialEq)]
pub struct EigenOptions {
    /// Lanczos vectors kept before a restart (≥ 2).
    pub max_dim: usize,
    /// Stop when the error estimate min(r, r²/δ) ≤ tol·θ (0 < tol < 1; see the module doc).
    pub tol: f64,
    /// At most this many restarts.
    pub max_restarts: usize,
}

impl Default for EigenOptions {
    fn default() -> Self {
        EigenOptions {
            max_dim: 300,
            tol: 1e-8,
            max_restarts: 20,
        }
    }
}

/// The slowest nonzero mode of L at ρ*.
#[derive(Debug, Clone, PartialEq)]
pub struct SlowMode {
    /// κ: L y = −κ y (the slowest decay rate of ρ_t − ρ*).
    pub kappa: f64,
    /// The predicted asymptotic rate of F(ρ_t) − F(ρ*): 2κ.
    pub rate: f64,
    /// The rigorous a-posteriori bound r = ‖KHy − κy‖_H on |κ_estimate − κ_exact|.
    pub bound: f64,
    /// The error estimate min(r, r²/δ) (δ the gap to the second Ritz value).
    pub error: f64,
    /// Applications of L (each one DΨ evaluation, two O(M·K) passes).
    pub applications: usize,
    /// Whether error ≤ tol·κ.
    pub converged: bool,
    /// The mode y (density perturbation, mass zero, ⟨y, Hy⟩ = 1).
    pub vector: Vec<f64>,
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn project(v: &mut [f64], rho: &[f64], rho_sum: f64) {
    let c = v.iter().sum::<f64>() / rho_sum;
    for (vi, r) in v.iter_mut().zip(rho) {
        *vi -= c * r;
    }
}

/// The smallest nonzero eigenvalue κ of −L = KH and its mode (see the module doc).
pub fn slowest_mode(lin: &Linearisation, opts: &EigenOptions) -> Result<SlowMode, PdeError> {
    slowest_mode_from(lin, opts, None)
}

/// [`slowest_mode`] started from `guess` (e.g. the mode at a nearby temperature, projected to
/// mass zero and set to 0 where ρ* = 0), plus a 1e-3 share of the default start so that no mode
/// is missed by symmetry; the default start when `guess` is None or has the wrong length.
pub fn slowest_mode_from(
    lin: &Linearisation,
    opts: &EigenOptions,
    guess: Option<&[f64]>,
) -> Result<SlowMode, PdeError> {
    if opts.max_dim < 2 {
        return Err(PdeError::invalid("max_dim", "needs at least 2 vectors"));
    }
    if !(opts.tol > 0.0 && opts.tol < 1.0) {
        return Err(PdeError::invalid(
            "tol",
            format!("must be in (0, 1), got {}", opts.tol),
        ));
    }
    let m = lin.len();
    let rho = lin.rho();
    let rho_sum: f64 = rho.iter().sum();
    let positive = rho.iter().filter(|r| **r > 0.0).count();
    if positive < 2 {
        return Err(PdeError::invalid(
            "stationary state",
            "fewer than two cells carry mass: there is no mass-zero perturbation",
        ));
    }
    let golden = 0.5 * (1.0 + 5f64.sqrt());
    let g: Vec<f64> = (0..m)
        .map(|i| i as f64 / m as f64 + 0.1 * (i as f64 * golden).fract())
        .collect();
    let mean = dot(&g, rho) / rho_sum;
    let mut start: Vec<f64> = g.iter().zip(rho).map(|(gi, r)| r * (gi - mean)).collect();
    project(&mut start, rho, rho_sum);
    if let Some(y) = guess.filter(|y| y.len() == m && y.iter().all(|v| v.is_finite())) {
        let ny = dot(y, y).sqrt();
        let ns = dot(&start, &start).sqrt();
        if ny > 0.0 && ns > 0.0 {
            for ((s, yi), r) in start.iter_mut().zip(y).zip(rho) {
                let yi = if *r > 0.0 { yi / ny } else { 0.0 };
                *s = yi + 1e-3 * *s / ns;
            }
            project(&mut start, rho, rho_sum);
        }
    }
    let dim = opts.max_dim.min(positive - 1).max(1);
    let mut applications = 0;
    let mut best: Option<(f64, f64, f64, Vec<f64>)> = None;
    let mut z = vec![0.0; m];
    let mut hz = vec![0.0; m];
    for _restart in 0..=opts.max_restarts {
        let mut q: Vec<Vec<f64>> = Vec::with_capacity(dim + 1);
        let mut hq: Vec<Vec<f64>> = Vec::with_capacity(dim + 1);
        lin.hessian(&start, &mut hz);
        applications += 1;
        let nrm = dot(&start, &hz);
        if !(nrm > 0.0 && nrm.is_finite()) {
            return Err(PdeError::invalid(
                "linearisation",
                format!("⟨v, Hv⟩ = {nrm} is not positive: H is not positive definite"),
            ));
        }
        let nrm = nrm.sqrt();
        q.push(start.iter().map(|v| v / nrm).collect());
        hq.push(hz.iter().map(|v| v / nrm).collect());
        let (mut alpha, mut beta): (Vec<f64>, Vec<f64>) = (Vec::new(), Vec::new());
        // (θ, r, error estimate, s)
        let mut ritz = (f64::NAN, f64::INFINITY, f64::INFINITY, vec![1.0]);
        for j in 0..dim {
            lin.onsager(&hq[j], &mut z);
            project(&mut z, rho, rho_sum);
            let a = dot(&hq[j], &z);
            alpha.push(a);
            for (zi, qi) in z.iter_mut().zip(&q[j]) {
                *zi -= a * qi;
            }
            if j > 0 {
                let b = beta[j - 1];
                for (zi, qi) in z.iter_mut().zip(&q[j - 1]) {
                    *zi -= b * qi;
                }
            }
            for _pass in 0..2 {
                for (qi, hqi) in q.iter().zip(&hq) {
                    let c = dot(hqi, &z);
                    for (zi, qv) in z.iter_mut().zip(qi) {
                        *zi -= c * qv;
                    }
                }
            }
            lin.hessian(&z, &mut hz);
            applications += 1;
            let b2 = dot(&z, &hz);
            let b = if b2 > 0.0 { b2.sqrt() } else { 0.0 };
            let scale = alpha.iter().fold(0.0f64, |s, a| s.max(a.abs()));
            let invariant = b <= 1e-13 * scale;
            let last = j + 1 == dim;
            if invariant || last || j % 5 == 4 {
                let (theta, s) = smallest_eigenpair(&alpha, &beta);
                let bound = if invariant { 0.0 } else { b * s[j].abs() };
                let error = if alpha.len() >= 2 {
                    let gap = kth_eigenvalue(&alpha, &beta, 2) - theta;
                    if gap > 0.0 {
                        bound.min(bound * bound / gap)
                    } else {
                        bound
                    }
                } else {
                    bound
                };
                ritz = (theta, bound, error, s);
                if ritz.2 <= opts.tol * theta.abs() || invariant {
                    break;
                }
            }
            if last {
                break;
            }
            beta.push(b);
            q.push(z.iter().map(|v| v / b).collect());
            hq.push(hz.iter().map(|v| v / b).collect());
        }
        let (theta, bound, error, s) = ritz;
        let mut y = vec![0.0; m];
        for (si, qi) in s.iter().zip(&q) {
            for (yi, qv) in y.iter_mut().zip(qi) {
                *yi += si * qv;
            }
        }
        let better = best.as_ref().is_none_or(|b| error < b.2);
        if better {
            best = Some((theta, bound, error, y.clone()));
        }
        if error <= opts.tol * theta.abs() {
            break;
        }
        start = y;
        project(&mut start, rho, rho_sum);
    }
    let (kappa, bound, error, vector) = best.expect("at least one cycle");
    if !kappa.is_finite() {
        return Err(PdeError::invalid(
            "linearisation",
            "the Lanczos estimate is not finite",
        ));
    }
    Ok(SlowMode {
        kappa,
        rate: 2.0 * kappa,
        bound,
        error,
        applications,
        converged: error <= opts.tol * kappa.abs(),
        vector,
    })
}

/// Number of eigenvalues < x of the symmetric tridiagonal (α, β) (Sturm sequence).
fn count_below(alpha: &[f64], beta: &[f64], x: f64) -> usize {
    let tiny = f64::MIN_POSITIVE.sqrt();
    let mut n = 0;
    let mut d = 1.0;
    for i in 0..alpha.len() {
        let b2 = if i > 0 {
            beta[i - 1] * beta[i - 1]
        } else {
            0.0
        };
        d = alpha[i] - x - if i > 0 { b2 / d } else { 0.0 };
        if d == 0.0 {
            d = -tiny;
        }
        if d < 0.0 {
            n += 1;
        }
    }
    n
}

/// The k-th smallest eigenvalue (k ≥ 1) of the symmetric tridiagonal T (diagonal α,
/// off-diagonal β) by bisection on Sturm counts inside the Gershgorin interval, to a relative
/// width 4ε.
pub fn kth_eigenvalue(alpha: &[f64], beta: &[f64], k: usize) -> f64 {
    let (mut lo, mut hi) = gershgorin(alpha, beta);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if count_below(alpha, beta, mid) >= k {
            hi = mid;
        } else {
            lo = mid;
        }
        if hi - lo <= 4.0 * f64::EPSILON * lo.abs().max(hi.abs()) {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// The Gershgorin interval of the symmetric tridiagonal (α, β).
fn gershgorin(alpha: &[f64], beta: &[f64]) -> (f64, f64) {
    let n = alpha.len();
    let off = |i: usize| {
        (if i > 0 { beta[i - 1].abs() } else { 0.0 })
            + (if i + 1 < n { beta[i].abs() } else { 0.0 })
    };
    let lo = (0..n)
        .map(|i| alpha[i] - off(i))
        .fold(f64::INFINITY, f64::min);
    let hi = (0..n)
        .map(|i| alpha[i] + off(i))
        .fold(f64::NEG_INFINITY, f64::max);
    (lo, hi)
}

/// The smallest eigenvalue of the symmetric tridiagonal T ([`kth_eigenvalue`], k = 1) and its
/// unit eigenvector by three steps of inverse iteration.
pub fn smallest_eigenpair(alpha: &[f64], beta: &[f64]) -> (f64, Vec<f64>) {
    let n = alpha.len();
    let (lo, hi) = gershgorin(alpha, beta);
    let scale = lo.abs().max(hi.abs()).max(f64::MIN_POSITIVE);
    let theta = kth_eigenvalue(alpha, beta, 1);
    let mut v = vec![1.0; n];
    for _ in 0..3 {
        solve_shifted(alpha, beta, theta, scale, &mut v);
        let nv = dot(&v, &v).sqrt();
        if !(nv > 0.0 && nv.is_finite()) {
            v = vec![1.0 / (n as f64).sqrt(); n];
            break;
        }
        v.iter_mut().for_each(|x| *x /= nv);
    }
    (theta, v)
}

/// Solve (T − θI)x = b in place by LU with partial pivoting (LAPACK dgttrf/dgttrs); an exactly
/// zero pivot is replaced by ε·scale (inverse iteration only needs the direction).
fn solve_shifted(alpha: &[f64], beta: &[f64], theta: f64, scale: f64, b: &mut [f64]) {
    let n = alpha.len();
    if n == 1 {
        return;
    }
    let mut d: Vec<f64> = alpha.iter().map(|a| a - theta).collect();
    let mut dl: Vec<f64> = beta.to_vec();
    let mut du: Vec<f64> = beta.to_vec();
    let mut du2 = vec![0.0; n.saturating_sub(2)];
    let mut swap = vec![false; n - 1];
    for i in 0..n - 1 {
        if d[i].abs() >= dl[i].abs() {
            if d[i] == 0.0 {
                d[i] = f64::EPSILON * scale;
            }
            let fact = dl[i] / d[i];
            dl[i] = fact;
            d[i + 1] -= fact * du[i];
        } else {
            let fact = d[i] / dl[i];
            d[i] = dl[i];
            dl[i] = fact;
            let temp = du[i];
            du[i] = d[i + 1];
            d[i + 1] = temp - fact * d[i + 1];
            if i + 2 < n {
                du2[i] = du[i + 1];
                du[i + 1] *= -fact;
            }
            swap[i] = true;
        }
    }
    if d[n - 1] == 0.0 {
        d[n - 1] = f64::EPSILON * scale;
    }
    for i in 0..n - 1 {
        if swap[i] {
            let temp = b[i];
            b[i] = b[i + 1];
            b[i + 1] = temp - dl[i] * b[i];
        } else {
            b[i + 1] -= dl[i] * b[i];
        }
    }
    b[n - 1] /= d[n - 1];
    b[n - 2] = (b[n - 2] - du[n - 2] * b[n - 1]) / d[n - 2];
    for i in (0..n.saturating_sub(2)).rev() {
        b[i] = (b[i] - du[i] * b[i + 1] - du2[i] * b[i + 2]) / d[i];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smallest_eigenpair_of_the_discrete_laplacian() {
        // T = tridiag(−1, 2, −1) of size n: λ_min = 2 − 2cos(π/(n+1)), v_i ∝ sin(iπ/(n+1))
        for n in [1usize, 2, 7, 50] {
            let alpha = vec![2.0; n];
            let beta = vec![-1.0; n.saturating_sub(1)];
            let (theta, v) = smallest_eigenpair(&alpha, &beta);
            let h = std::f64::consts::PI / (n + 1) as f64;
            let exact = 2.0 - 2.0 * h.cos();
            assert!(
                (theta - exact).abs() <= 1e-14,
                "n = {n}: {theta} vs {exact}"
            );
            let norm: f64 = (1..=n)
                .map(|i| (i as f64 * h).sin().powi(2))
                .sum::<f64>()
                .sqrt();
            for (i, vi) in v.iter().enumerate() {
                let e = ((i + 1) as f64 * h).sin() / norm;
                assert!(
                    (vi.abs() - e).abs() < 1e-10,
                    "n = {n}, i = {i}: {vi} vs {e}"
                );
            }
        }
    }
}
