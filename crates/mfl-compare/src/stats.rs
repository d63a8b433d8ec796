//! Sample statistics, Student-t quantiles and the fits of gap(N).
//!
//! * [`slope_fit`]: gap ≈ C·N^s by weighted least squares of y = log|gap| on x = log N with
//!   weights w_i = 1/var(log|gap_i|) ≈ (gap_i/se_i)² (delta method). The covariance of
//!   (log C, s) is (XᵀWX)⁻¹ scaled by the weighted residual variance
//!   s² = Σ w_i (y_i − ŷ_i)² / (n − 2), and 95% intervals use the Student-t quantile with
//!   n − 2 degrees of freedom (the exact interval when the weights are right up to a common
//!   factor and the errors Gaussian).
//! * [`fit_inverse_n`]: the fixed-slope model gap = C/N, weighted least squares through the
//!   origin in u = 1/N with weights 1/se_i²; its standard error uses the given se_i as known.
//!
//! Student-t quantiles ([`t_quantile`]) are computed, not tabulated: the t CDF via the
//! regularised incomplete beta function (Lentz continued fraction, Lanczos log-gamma; relative
//! accuracy ~1e-12), inverted by bisection to ~1e-12.

use crate::error::CompareError;

/// Mean, standard error of the mean and sample standard deviation of a sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Sample mean.
    pub mean: f64,
    /// Standard error of the mean, std / √n (NaN for n < 2).
    pub se: f64,
    /// Sample standard deviation (n − 1 denominator; NaN for n < 2).
    pub std: f64,
    /// Sample size.
    pub n: usize,
}

impl Summary {
    /// Summarise a sample.
    pub fn of(x: &[f64]) -> Self {
        Summary {
            mean: mean(x),
            se: std_error(x),
            std: sample_std(x),
            n: x.len(),
        }
    }
}

/// Arithmetic mean (NaN for an empty sample).
pub fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// Sample standard deviation with the n − 1 denominator (NaN for n < 2).
pub fn sample_std(x: &[f64]) -> f64 {
    let n = x.len();
    if n < 2 {
        return f64::NAN;
    }
    let m = mean(x);
    (x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (n - 1) as f64).sqrt()
}

/// Standard error of the mean, sample std / √n (NaN for n < 2).
pub fn std_error(x: &[f64]) -> f64 {
    sample_std(x) / (x.len() as f64).sqrt()
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; ~1e-15 relative).
fn ln_gamma(x: f64) -> f64 {
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // reflection
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + 7.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// Continued fraction of the incomplete beta function (modified Lentz).
fn beta_cf(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..=300 {
        let m = m as f64;
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// Regularised incomplete beta I_x(a, b).
fn beta_inc(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let bt = (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        bt * beta_cf(a, b, x) / a
    } else {
        1.0 - bt * beta_cf(b, a, 1.0 - x) / b
    }
}

/// CDF of Student's t with `dof` degrees of freedom.
pub fn t_cdf(t: f64, dof: f64) -> f64 {
    let tail = 0.5 * beta_inc(0.5 * dof, 0.5, dof / (dof + t * t));
    if t >= 0.0 {
        1.0 - tail
    } else {
        tail
    }
}

/// The p-quantile of Student's t with `dof` > 0 degrees of freedom (0 < p < 1), by bisection
/// on [`t_cdf`]; e.g. t_quantile(0.975, 2) = 4.302653, t_quantile(0.975, 10) = 2.228139.
pub fn t_quantile(p: f64, dof: f64) -> f64 {
    assert!(
        p > 0.0 && p < 1.0 && dof > 0.0,
        "t_quantile: need 0 < p < 1, dof > 0"
    );
    if p < 0.5 {
        return -t_quantile(1.0 - p, dof);
    }
    let mut hi = 1.0;
    while t_cdf(hi, dof) < p {
        hi *= 2.0;
        if hi > 1e12 {
            return f64::INFINITY;
        }
    }
    let mut lo = 0.0;
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if t_cdf(mid, dof) < p {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-13 * hi {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// A power-law fit gap ≈ C·N^slope (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlopeFit {
    /// The exponent s.
    pub slope: f64,
    /// Standard error of the slope (residual-variance scaled).
    pub slope_se: f64,
    /// 95% interval of the slope (Student t, n − 2 dof).
    pub slope_ci95: (f64, f64),
    /// C, with the sign of the gaps.
    pub prefactor: f64,
    /// 95% interval of C: sign·exp(log|C| ± t·se), ordered (lo, hi).
    pub prefactor_ci95: (f64, f64),
    /// log|C| (the intercept at N = 1).
    pub log_prefactor: f64,
    /// Standard error of log|C|.
    pub log_prefactor_se: f64,
    /// Weighted residual variance Σ w (y − ŷ)² / (n − 2) (≈ 1 when the se's are right).
    pub residual_variance: f64,
    /// Number of points.
    pub n_points: usize,
}

fn check_lengths(n: &[f64], gap: &[f64], se: &[f64], min: usize) -> Result<(), CompareError> {
    if n.len() != gap.len() || n.len() != se.len() {
        return Err(CompareError::invalid(
            "fit",
            format!(
                "lengths differ: {} N, {} gaps, {} se",
                n.len(),
                gap.len(),
                se.len()
            ),
        ));
    }
    if n.len() < min {
        return Err(CompareError::invalid(
            "fit",
            format!("needs at least {min} points, got {}", n.len()),
        ));
    }
    if n.iter().any(|v| !(*v > 0.0 && v.is_finite())) {
        return Err(CompareError::invalid(
            "fit",
            "every N must be finite and > 0",
        ));
    }
    if se.iter().any(|v| !(*v > 0.0 && v.is_finite())) {
        return Err(CompareError::invalid(
            "fit",
            "every standard error must be finite and > 0",
        ));
    }
    if gap.iter().any(|v| !v.is_finite()) {
        return Err(CompareError::invalid("fit", "every gap must be finite"));
    }
    Ok(())
}

/// Weighted least squares of log|gap| on log N (see the module docs). Needs ≥ 3 points, all
/// gaps non-zero and of one sign.
pub fn slope_fit(n: &[f64], gap: &[f64], se: &[f64]) -> Result<SlopeFit, CompareError> {
    check_lengths(n, gap, se, 3)?;
    let sign = if gap[0] > 0.0 { 1.0 } else { -1.0 };
    if gap.iter().any(|g| !(g * sign > 0.0)) {
        return Err(CompareError::invalid(
            "fit",
            "gaps must be non-zero and of one sign for a log-log fit (use fit_inverse_n)",
        ));
    }
    let (mut s, mut sx, mut sy, mut sxx, mut sxy) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let pts: Vec<(f64, f64, f64)> = n
        .iter()
        .zip(gap)
        .zip(se)
        .map(|((ni, gi), si)| {
            let w = (gi / si) * (gi / si);
            (ni.ln(), gi.abs().ln(), w)
        })
        .collect();
    for &(x, y, w) in &pts {
        s += w;
        sx += w * x;
        sy += w * y;
        sxx += w * x * x;
        sxy += w * x * y;
    }
    let det = s * sxx - sx * sx;
    if !(det > 0.0) {
        return Err(CompareError::invalid(
            "fit",
            "needs at least two distinct N",
        ));
    }
    let slope = (s * sxy - sx * sy) / det;
    let icpt = (sxx * sy - sx * sxy) / det;
    let dof = (pts.len() - 2) as f64;
    let rss: f64 = pts
        .iter()
        .map(|&(x, y, w)| w * (y - icpt - slope * x).powi(2))
        .sum();
    let s2 = rss / dof;
    let slope_se = (s2 * s / det).sqrt();
    let icpt_se = (s2 * sxx / det).sqrt();
    let t = t_quantile(0.975, dof);
    let (c_lo, c_hi) = (
        sign * (icpt - t * icpt_se).exp(),
        sign * (icpt + t * icpt_se).exp(),
    );
    Ok(SlopeFit {
        slope,
        slope_se,
        slope_ci95: (slope - t * slope_se, slope + t * slope_se),
        prefactor: sign * icpt.exp(),
        prefactor_ci95: (c_lo.min(c_hi), c_lo.max(c_hi)),
        log_prefactor: icpt,
        log_prefactor_se: icpt_se,
        residual_variance: s2,
        n_points: pts.len(),
    })
}

/// Model standard errors ŝ_i = N_i^{−β}, up to a common factor (which no weighted fit
/// depends on): β = 1 for an estimator whose remaining noise is the O(1/N) remainder (a control
/// variate that removes the O(N^{-1/2}) fluctuation), β = ½ for a plain mean over seeds. Weights
/// from each point's *own* sample se correlate with the values they weight — per-seed values
/// are skewed, and a sample that comes out low usually has a low se too, so 1/se² weights pull
/// a fit towards low samples (measured: with 24 seeds, C of gap = C/N came out 11 % low on
/// average over 20 blocks, 5.7 se off in the worst; data-independent weights remove that bias,
/// crates/mfl-compare/tests/t0_identity.rs). Model weights depend on no sample.
pub fn model_se(n: &[f64], beta: f64) -> Vec<f64> {
    n.iter().map(|v| v.powf(-beta)).collect()
}

/// The log–log fit of [`slope_fit`] with given weights w_i for y_i = log|gap_i|.
pub fn slope_fit_weighted(n: &[f64], gap: &[f64], w: &[f64]) -> Result<SlopeFit, CompareError> {
    // w_i = (gap_i/se_i)² ⇔ se_i = |gap_i|/√w_i
    let se: Vec<f64> = gap
        .iter()
        .zip(w)
        .map(|(g, wi)| g.abs() / wi.sqrt())
        .collect();
    slope_fit(n, gap, &se)
}

/// The fixed-slope model gap = C/N: weighted least squares through the origin in u = 1/N
/// with weights 1/se²: C = Σ w u g / Σ w u², se(C) = (Σ w u²)^{-1/2}. Returns (C, se(C)).
pub fn fit_inverse_n(n: &[f64], gap: &[f64], se: &[f64]) -> Result<(f64, f64), CompareError> {
    check_lengths(n, gap, se, 1)?;
    let (mut num, mut den) = (0.0, 0.0);
    for ((ni, gi), si) in n.iter().zip(gap).zip(se) {
        let u = 1.0 / ni;
        let w = 1.0 / (si * si);
        num += w * u * gi;
        den += w * u * u;
    }
    Ok((num / den, den.sqrt().recip()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_tables() {
        for (p, dof, q) in [
            (0.975, 1.0, 12.706_204_736),
            (0.975, 2.0, 4.302_652_730),
            (0.975, 5.0, 2.570_581_836),
            (0.975, 10.0, 2.228_138_852),
            (0.975, 30.0, 2.042_272_456),
            (0.95, 3.0, 2.353_363_435),
            (0.975, 1000.0, 1.962_339_081),
        ] {
            let got = t_quantile(p, dof);
            assert!(
                (got - q).abs() < 1e-7 * q,
                "t({p}, {dof}) = {got}, want {q}"
            );
        }
        assert!((t_quantile(0.025, 2.0) + 4.302_652_730).abs() < 1e-7);
    }

    #[test]
    fn summary_basics() {
        let s = Summary::of(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(s.mean, 2.5);
        assert!((s.std - (5.0f64 / 3.0).sqrt()).abs() < 1e-15);
        assert!((s.se - s.std / 2.0).abs() < 1e-15);
    }

    #[test]
    fn exact_power_law_is_recovered() {
        let n = [10.0, 20.0, 40.0, 80.0];
        let gap: Vec<f64> = n.iter().map(|v: &f64| -3.0 * v.powf(-1.5)).collect();
        let se: Vec<f64> = gap.iter().map(|g| 0.1 * g.abs()).collect();
        let f = slope_fit(&n, &gap, &se).unwrap();
        assert!((f.slope + 1.5).abs() < 1e-12);
        assert!((f.prefactor + 3.0).abs() < 1e-10);
        let (c, _) =
            fit_inverse_n(&n, &n.iter().map(|v| 2.0 / v).collect::<Vec<_>>(), &se).unwrap();
        assert!((c - 2.0).abs() < 1e-12);
    }
}
