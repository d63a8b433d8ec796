//! One-dimensional Gauss quadratures, by Newton's method on the three-term recurrences.
//!
//! * [`gauss_hermite`]: ∫ g(x) φ(x) dx ≈ Σ w_i g(x_i) with φ the standard normal density
//!   (probabilists' weight); exact for polynomials of degree ≤ 2K − 1.
//! * [`gauss_legendre`]: ∫_a^b g(x) dx ≈ Σ w_i g(x_i); exact for degree ≤ 2K − 1.
//! * [`composite_legendre`]: P panels of Gauss–Legendre on [a, b].

use std::f64::consts::PI;

/// K-node Gauss–Hermite rule for the standard normal density: nodes ascending, weights sum to 1;
/// exact for polynomials of degree ≤ 2K − 1.
///
/// Nodes are the eigenvalues of the Jacobi matrix of the probabilists' Hermite polynomials
/// (zero diagonal, off-diagonal √j), found by Sturm-sequence bisection and polished by Newton on
/// the orthonormal recurrence p̃_{j+1} = (x p̃_j − √j p̃_{j−1})/√(j+1); the weights are the
/// Christoffel numbers w_i = 1/Σ_{j<K} p̃_j(x_i)². Robust for K in the hundreds.
pub fn gauss_hermite(k: usize) -> (Vec<f64>, Vec<f64>) {
    assert!(k >= 1, "gauss_hermite needs at least one node");
    // number of eigenvalues of the Jacobi matrix below s
    let count_below = |s: f64| -> usize {
        let mut q = -s;
        let mut c = usize::from(q < 0.0);
        for j in 1..k {
            let qp = if q == 0.0 { f64::MIN_POSITIVE } else { q };
            q = -s - j as f64 / qp;
            c += usize::from(q < 0.0);
        }
        c
    };
    let bound = 2.0 * (k as f64).sqrt() + 2.0;
    // orthonormal values: returns (p̃_K(x), p̃_{K−1}(x), Σ_{j<K} p̃_j(x)²)
    let eval = |x: f64| -> (f64, f64, f64) {
        let (mut pm, mut p) = (0.0f64, 1.0f64);
        let mut sum = 0.0;
        for j in 0..k {
            sum += p * p;
            let next = (x * p - (j as f64).sqrt() * pm) / ((j + 1) as f64).sqrt();
            pm = p;
            p = next;
        }
        (p, pm, sum)
    };
    let mut x = vec![0.0; k];
    let mut w = vec![0.0; k];
    for i in 0..k {
        let (mut lo, mut hi) = (-bound, bound);
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if mid <= lo || mid >= hi {
                break;
            }
            if count_below(mid) > i {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        let mut z = 0.5 * (lo + hi);
        for _ in 0..3 {
            let (p, pm, _) = eval(z);
            let dp = (k as f64).sqrt() * pm;
            if dp != 0.0 {
                let step = p / dp;
                if step.abs() < (hi - lo).max(1e-12) {
                    z -= step;
                }
            }
        }
        x[i] = z;
        w[i] = 1.0 / eval(z).2;
    }
    // exact symmetry
    for i in 0..k / 2 {
        let a = 0.5 * (x[k - 1 - i] - x[i]);
        let b = 0.5 * (w[i] + w[k - 1 - i]);
        x[i] = -a;
        x[k - 1 - i] = a;
        w[i] = b;
        w[k - 1 - i] = b;
    }
    if k % 2 == 1 {
        x[k / 2] = 0.0;
    }
    (x, w)
}

/// K-node Gauss–Legendre rule on [a, b]: nodes ascending, weights sum to b − a.
pub fn gauss_legendre(k: usize, a: f64, b: f64) -> (Vec<f64>, Vec<f64>) {
    assert!(k >= 1, "gauss_legendre needs at least one node");
    let mut x = vec![0.0; k];
    let mut w = vec![0.0; k];
    let xm = 0.5 * (b + a);
    let xl = 0.5 * (b - a);
    let nf = k as f64;
    for i in 0..k.div_ceil(2) {
        let mut z = (PI * (i as f64 + 0.75) / (nf + 0.5)).cos();
        let mut pp = 0.0;
        for _ in 0..100 {
            let mut p1 = 1.0;
            let mut p2 = 0.0;
            for j in 0..k {
                let p3 = p2;
                p2 = p1;
                let jf = j as f64;
                p1 = ((2.0 * jf + 1.0) * z * p2 - jf * p3) / (jf + 1.0);
            }
            pp = nf * (z * p1 - p2) / (z * z - 1.0);
            let z1 = z;
            z = z1 - p1 / pp;
            if (z - z1).abs() <= 1e-15 {
                break;
            }
        }
        x[i] = xm - xl * z;
        x[k - 1 - i] = xm + xl * z;
        w[i] = 2.0 * xl / ((1.0 - z * z) * pp * pp);
        w[k - 1 - i] = w[i];
    }
    (x, w)
}

/// `panels` panels of `per_panel`-node Gauss–Legendre on [a, b].
pub fn composite_legendre(panels: usize, per_panel: usize, a: f64, b: f64) -> (Vec<f64>, Vec<f64>) {
    let h = (b - a) / panels as f64;
    let mut x = Vec::with_capacity(panels * per_panel);
    let mut w = Vec::with_capacity(panels * per_panel);
    for p in 0..panels {
        let lo = a + p as f64 * h;
        let (xp, wp) = gauss_legendre(per_panel, lo, lo + h);
        x.extend(xp);
        w.extend(wp);
    }
    (x, w)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// E[X^p] for X ~ N(0, 1): (p − 1)!! for even p, 0 for odd p.
    fn normal_moment(p: u32) -> f64 {
        if p % 2 == 1 {
            return 0.0;
        }
        (1..p).step_by(2).map(|j| j as f64).product()
    }

    #[test]
    fn hermite_is_exact_to_degree_2k_minus_1() {
        for &k in &[1usize, 2, 5, 10, 20, 40] {
            let (x, w) = gauss_hermite(k);
            assert!(x.windows(2).all(|p| p[0] < p[1]));
            for p in 0..(2 * k as u32) {
                let q: f64 = x
                    .iter()
                    .zip(&w)
                    .map(|(xi, wi)| wi * xi.powi(p as i32))
                    .sum();
                let exact = normal_moment(p);
                // relative to the size of the terms summed (Σ w|x|^p)
                let scale: f64 = x
                    .iter()
                    .zip(&w)
                    .map(|(xi, wi)| wi * xi.abs().powi(p as i32))
                    .sum();
                assert!(
                    (q - exact).abs() <= 1e-13 * scale.max(1.0),
                    "K={k} p={p}: {q} vs {exact}"
                );
            }
            // degree 2K is not exact: E[x^{2K}] − Q(x^{2K}) = E[He_K²] = K! (the rule is sharp)
            let p = 2 * k as i32;
            let q: f64 = x.iter().zip(&w).map(|(xi, wi)| wi * xi.powi(p)).sum();
            let kfact: f64 = (1..=k).map(|j| j as f64).product();
            let exact = normal_moment(p as u32);
            assert!(
                (exact - q - kfact).abs() <= 1e-12 * exact,
                "K={k}: defect {} vs K! {kfact}",
                exact - q
            );
        }
    }

    #[test]
    fn hermite_many_nodes_is_stable() {
        let (x, w) = gauss_hermite(200);
        let s: f64 = w.iter().sum();
        assert!((s - 1.0).abs() < 1e-13);
        let m2: f64 = x.iter().zip(&w).map(|(a, b)| b * a * a).sum();
        assert!((m2 - 1.0).abs() < 1e-12);
    }

    #[test]
    fn legendre_is_exact_to_degree_2k_minus_1() {
        for &k in &[1usize, 3, 8, 16] {
            let (x, w) = gauss_legendre(k, -1.0, 2.0);
            for p in 0..(2 * k as i32) {
                let q: f64 = x.iter().zip(&w).map(|(xi, wi)| wi * xi.powi(p)).sum();
                let exact = (2f64.powi(p + 1) - (-1f64).powi(p + 1)) / (p + 1) as f64;
                assert!(
                    (q - exact).abs() < 1e-12 * exact.abs().max(1.0),
                    "K={k} p={p}"
                );
            }
        }
        let (x, w) = composite_legendre(4, 5, 0.0, 1.0);
        assert_eq!(x.len(), 20);
        let q: f64 = x.iter().zip(&w).map(|(a, b)| b * a.powi(9)).sum();
        assert!((q - 0.1).abs() < 1e-15);
    }
}
