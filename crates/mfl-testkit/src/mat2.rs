//! 2×2 matrices stored row-major as `[a00, a01, a10, a11]`.

/// e^{−tA} for a symmetric A = [[p, q], [q, r]], by its spectral decomposition:
/// λ± = (p + r)/2 ± √((p − r)²/4 + q²), e^{−tA} = e^{−tλ₊}P + e^{−tλ₋}(I − P) with P = uuᵀ the
/// projector on the unit eigenvector u of λ₊ (u ∝ (q, λ₊ − p), or an axis when q = 0).
pub fn expm_neg_sym2(a: [f64; 4], t: f64) -> [f64; 4] {
    let (p, q, r) = (a[0], a[1], a[3]);
    let mean = 0.5 * (p + r);
    let rad = (0.25 * (p - r) * (p - r) + q * q).sqrt();
    let (l1, l2) = (mean + rad, mean - rad);
    let (vx, vy) = if q.abs() > 1e-300 {
        (q, l1 - p)
    } else if p >= r {
        (1.0, 0.0)
    } else {
        (0.0, 1.0)
    };
    let nrm = (vx * vx + vy * vy).sqrt();
    let (ux, uy) = (vx / nrm, vy / nrm);
    let (e1, e2) = ((-t * l1).exp(), (-t * l2).exp());
    let p1 = [ux * ux, ux * uy, ux * uy, uy * uy];
    [
        e1 * p1[0] + e2 * (1.0 - p1[0]),
        e1 * p1[1] - e2 * p1[1],
        e1 * p1[2] - e2 * p1[2],
        e1 * p1[3] + e2 * (1.0 - p1[3]),
    ]
}

/// The product AB.
pub fn mul2(a: [f64; 4], b: [f64; 4]) -> [f64; 4] {
    [
        a[0] * b[0] + a[1] * b[2],
        a[0] * b[1] + a[1] * b[3],
        a[2] * b[0] + a[3] * b[2],
        a[2] * b[1] + a[3] * b[3],
    ]
}

/// A⁻¹ = [[a11, −a01], [−a10, a00]] / det A.
pub fn inv2(a: [f64; 4]) -> [f64; 4] {
    let det = a[0] * a[3] - a[1] * a[2];
    [a[3] / det, -a[1] / det, -a[2] / det, a[0] / det]
}

/// The product Av.
pub fn matvec2(a: [f64; 4], v: [f64; 2]) -> [f64; 2] {
    [a[0] * v[0] + a[1] * v[1], a[2] * v[0] + a[3] * v[1]]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expm_of_a_diagonalisable_matrix() {
        // A = [[2, 1], [1, 2]]: eigenvalues 3 (u = (1, 1)/√2) and 1 (u = (1, −1)/√2)
        let e = expm_neg_sym2([2.0, 1.0, 1.0, 2.0], 0.7);
        let (a, b) = ((-2.1f64).exp(), (-0.7f64).exp());
        let want = [0.5 * (a + b), 0.5 * (a - b), 0.5 * (a - b), 0.5 * (a + b)];
        for (x, y) in e.iter().zip(&want) {
            assert!((x - y).abs() < 1e-15, "{e:?} vs {want:?}");
        }
        // the semigroup property and the diagonal case
        let e2 = mul2(e, e);
        let f = expm_neg_sym2([2.0, 1.0, 1.0, 2.0], 1.4);
        for (x, y) in e2.iter().zip(&f) {
            assert!((x - y).abs() < 1e-15);
        }
        let d = expm_neg_sym2([1.0, 0.0, 0.0, 3.0], 0.5);
        assert_eq!(d, [(-0.5f64).exp(), 0.0, 0.0, (-1.5f64).exp()]);
        let i = mul2(inv2([2.0, 1.0, 1.0, 2.0]), [2.0, 1.0, 1.0, 2.0]);
        assert!((i[0] - 1.0).abs() < 1e-15 && i[1].abs() < 1e-15 && (i[3] - 1.0).abs() < 1e-15);
    }
}
