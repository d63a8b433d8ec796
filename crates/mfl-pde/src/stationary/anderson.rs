//! Anderson acceleration of a damped fixed-point iteration x ← G(x) (type II, Walker–Ni 2011).
//!
//! With residuals f_j = G(x_j) − x_j, differences ΔX_j = x_{j+1} − x_j, ΔF_j = f_{j+1} − f_j of
//! the last m iterates and damping β ∈ (0, 1], the next iterate is
//!
//! x_{k+1} = x_k + β f_k − (ΔX + β ΔF) γ,  γ = argmin_γ ‖f_k − ΔF γ‖₂,
//!
//! which is the damped Picard step x_k + β f_k for m = 0 (or an empty history). The least-squares
//! problem is solved by modified Gram–Schmidt with re-orthogonalisation ("twice is enough"),
//! dropping the oldest differences while the triangular factor is ill-conditioned
//! (min |R_jj| < 1e-10 · max |R_jj|): Anderson steps along nearly dependent directions amplify
//! round-off, not progress. Every sum runs over the cells in index order (deterministic).

use std::collections::VecDeque;

/// The history and work space of an Anderson mixer on vectors of one length.
#[derive(Debug, Clone)]
pub struct Anderson {
    depth: usize,
    damping: f64,
    /// (ΔX_j, ΔF_j), oldest first.
    hist: VecDeque<(Vec<f64>, Vec<f64>)>,
    /// The previous (x, f), to form the next differences.
    prev: Option<(Vec<f64>, Vec<f64>)>,
}

/// Condition bound of the least-squares factor (see the module doc).
const MIN_PIVOT_RATIO: f64 = 1e-10;

impl Anderson {
    /// A mixer keeping `depth` differences (0: damped Picard) with damping β ∈ (0, 1].
    pub fn new(depth: usize, damping: f64) -> Self {
        Anderson {
            depth,
            damping,
            hist: VecDeque::new(),
            prev: None,
        }
    }

    /// Forget the history (after a rejected step): the next step is a damped Picard step.
    pub fn reset(&mut self) {
        self.hist.clear();
        self.prev = None;
    }

    /// Number of stored differences.
    pub fn len(&self) -> usize {
        self.hist.len()
    }

    /// Whether no differences are stored.
    pub fn is_empty(&self) -> bool {
        self.hist.is_empty()
    }

    /// The next iterate from the current x and its residual f = G(x) − x, into `next`.
    pub fn step(&mut self, x: &[f64], f: &[f64], next: &mut [f64]) {
        let beta = self.damping;
        if self.depth > 0 {
            if let Some((px, pf)) = self.prev.take() {
                let dx: Vec<f64> = x.iter().zip(&px).map(|(a, b)| a - b).collect();
                let df: Vec<f64> = f.iter().zip(&pf).map(|(a, b)| a - b).collect();
                if self.hist.len() == self.depth {
                    self.hist.pop_front();
                }
                self.hist.push_back((dx, df));
            }
            self.prev = Some((x.to_vec(), f.to_vec()));
        }
        for ((n, xi), fi) in next.iter_mut().zip(x).zip(f) {
            *n = xi + beta * fi;
        }
        while !self.hist.is_empty() {
            match least_squares(&self.hist, f) {
                Some(gamma) => {
                    for ((dx, df), g) in self.hist.iter().zip(&gamma) {
                        for ((n, a), b) in next.iter_mut().zip(dx).zip(df) {
                            *n -= g * (a + beta * b);
                        }
                    }
                    return;
                }
                None => {
                    self.hist.pop_front();
                }
            }
        }
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// γ = argmin ‖f − ΔF γ‖₂ by MGS-QR of the ΔF columns, or None when the factor is
/// ill-conditioned (the caller drops the oldest column).
fn least_squares(hist: &VecDeque<(Vec<f64>, Vec<f64>)>, f: &[f64]) -> Option<Vec<f64>> {
    let m = hist.len();
    let mut q: Vec<Vec<f64>> = Vec::with_capacity(m);
    let mut r = vec![0.0; m * m];
    for (j, (_, df)) in hist.iter().enumerate() {
        let mut v = df.clone();
        for _pass in 0..2 {
            for (i, qi) in q.iter().enumerate() {
                let c = dot(qi, &v);
                r[i * m + j] += c;
                for (a, b) in v.iter_mut().zip(qi) {
                    *a -= c * b;
                }
            }
        }
        let nv = dot(&v, &v).sqrt();
        if !(nv.is_finite() && nv > 0.0) {
            return None;
        }
        r[j * m + j] = nv;
        v.iter_mut().for_each(|a| *a /= nv);
        q.push(v);
    }
    let (mut dmin, mut dmax) = (f64::INFINITY, 0.0f64);
    for j in 0..m {
        dmin = dmin.min(r[j * m + j]);
        dmax = dmax.max(r[j * m + j]);
    }
    if dmin < MIN_PIVOT_RATIO * dmax {
        return None;
    }
    // back substitution R γ = Qᵀ f
    let qtf: Vec<f64> = q.iter().map(|qi| dot(qi, f)).collect();
    let mut g = vec![0.0; m];
    for i in (0..m).rev() {
        let mut s = qtf[i];
        for k in i + 1..m {
            s -= r[i * m + k] * g[k];
        }
        g[i] = s / r[i * m + i];
    }
    Some(g)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On a linear contraction G(x) = Ax + b in n dimensions, Anderson with depth ≥ n reaches
    /// the fixed point in about n + 1 steps (it is GMRES on (I − A)x = b in exact arithmetic).
    #[test]
    fn solves_a_linear_fixed_point_in_n_plus_one_steps() {
        let n = 5;
        let a: Vec<f64> = (0..n * n)
            .map(|k| 0.15 * ((k as f64) * 0.7).sin())
            .collect();
        let b: Vec<f64> = (0..n).map(|i| 1.0 + i as f64).collect();
        let g = |x: &[f64]| -> Vec<f64> {
            (0..n)
                .map(|i| (0..n).map(|j| a[i * n + j] * x[j]).sum::<f64>() + b[i])
                .collect()
        };
        let mut mix = Anderson::new(n, 1.0);
        let mut x = vec![0.0; n];
        let mut next = vec![0.0; n];
        let mut res = f64::INFINITY;
        for _ in 0..n + 2 {
            let gx = g(&x);
            let f: Vec<f64> = gx.iter().zip(&x).map(|(p, q)| p - q).collect();
            res = dot(&f, &f).sqrt();
            mix.step(&x, &f, &mut next);
            x.copy_from_slice(&next);
        }
        assert!(res < 1e-12, "residual {res}");
    }
}
