//! Slope fits on synthetic data of known slope and noise.

mod common;
use common::Rng;
use mfl_compare::{fit_inverse_n, slope_fit};

const NS: [f64; 5] = [16.0, 64.0, 256.0, 1024.0, 4096.0];
const C: f64 = 0.7;
const REL: f64 = 0.1; // noise standard deviation relative to the gap

fn synthetic(rng: &mut Rng) -> (Vec<f64>, Vec<f64>) {
    let se: Vec<f64> = NS.iter().map(|n| REL * C / n).collect();
    let gap: Vec<f64> = NS
        .iter()
        .zip(&se)
        .map(|(n, s)| C / n + s * rng.normal())
        .collect();
    (gap, se)
}

#[test]
fn one_replicate_covers_minus_one_with_a_sensible_width() {
    let mut rng = Rng(1); // any seed: the CI misses −1 for 5% of them (see the coverage test)
    let (gap, se) = synthetic(&mut rng);
    let f = slope_fit(&NS, &gap, &se).unwrap();
    let (lo, hi) = f.slope_ci95;
    eprintln!(
        "slope {} CI ({lo}, {hi}), C {} CI {:?}",
        f.slope, f.prefactor, f.prefactor_ci95
    );
    assert!(lo <= -1.0 && -1.0 <= hi);
    // ideal se of the slope: 0.1 / sqrt(Σ (x − x̄)²) with x = ln N; the t(3) interval is ±3.18 se
    let x: Vec<f64> = NS.iter().map(|n| n.ln()).collect();
    let xb = x.iter().sum::<f64>() / x.len() as f64;
    let ideal = REL / x.iter().map(|v| (v - xb).powi(2)).sum::<f64>().sqrt();
    let width = hi - lo;
    assert!(
        width > 0.3 * 2.0 * 3.18 * ideal && width < 3.0 * 2.0 * 3.18 * ideal,
        "width {width}, ideal se {ideal}"
    );
    assert!(f.prefactor_ci95.0 <= C && C <= f.prefactor_ci95.1);
    let (c, c_se) = fit_inverse_n(&NS, &gap, &se).unwrap();
    assert!((c - C).abs() < 4.0 * c_se, "{c} ± {c_se}");
    assert!((c_se - REL * C / (NS.len() as f64).sqrt()).abs() < 1e-12);
}

#[test]
fn coverage_over_200_replicates() {
    let mut rng = Rng(2024);
    let (mut slope_hits, mut c_hits, mut inv_hits) = (0, 0, 0);
    let reps = 200;
    for _ in 0..reps {
        let (gap, se) = synthetic(&mut rng);
        let f = slope_fit(&NS, &gap, &se).unwrap();
        if f.slope_ci95.0 <= -1.0 && -1.0 <= f.slope_ci95.1 {
            slope_hits += 1;
        }
        if f.prefactor_ci95.0 <= C && C <= f.prefactor_ci95.1 {
            c_hits += 1;
        }
        let (c, s) = fit_inverse_n(&NS, &gap, &se).unwrap();
        if (c - C).abs() <= 1.96 * s {
            inv_hits += 1;
        }
    }
    let cov = |h: usize| h as f64 / reps as f64;
    eprintln!(
        "coverage: slope {}, prefactor {}, fixed-slope C {}",
        cov(slope_hits),
        cov(c_hits),
        cov(inv_hits)
    );
    for h in [slope_hits, c_hits, inv_hits] {
        assert!((0.90..=0.99).contains(&cov(h)), "coverage {}", cov(h));
    }
}
