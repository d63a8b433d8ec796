//! The coefficient identities and the fused kernel against the reference operators.

use super::*;
use mfl_core::{Boundary, Grid};

#[test]
fn coefficient_is_smooth_and_satisfies_the_identities() {
    let t = 0.3;
    // both branches near the series switch |z| = 1e-5 agree with the series to round-off
    for &z in &[0.99e-5, 1.01e-5, -0.99e-5, -1.01e-5, 3e-5] {
        let series = t * (1.0 - 0.5 * z + z * z / 12.0);
        assert!(
            (sg_coefficient(z * t, t) - series).abs() < 4e-16 * t,
            "z = {z}"
        );
    }
    for &a in &[-50.0, -3.0, -1e-7, 0.0, 1e-9, 0.2, 5.0, 400.0] {
        let p = sg_coefficient(a, t);
        let m = sg_coefficient(-a, t);
        assert!(p >= 0.0 && m >= 0.0);
        // A(−a) = A(a) + a
        assert!((m - p - a).abs() <= 1e-13 * (1.0 + a.abs()), "a = {a}");
        // A(−a) e^{−a/T} = A(a) (where representable)
        if a.abs() < 100.0 {
            assert!(
                (m * (-a / t).exp() - p).abs() <= 1e-13 * p.max(1e-300),
                "a = {a}"
            );
        }
    }
    assert_eq!(sg_coefficient(0.0, t), t);
    assert_eq!(sg_coefficient(2.0, 0.0), 0.0);
    assert_eq!(sg_coefficient(-2.0, 0.0), 2.0);
    assert!(sg_coefficient(1.0, 1e-300).is_finite());
    assert_eq!(sg_coefficient(-1.0, 1e-300), 1.0);
}

#[test]
fn coefficient_derivative_matches_central_differences() {
    for &t in &[1e-2, 0.3, 2.0] {
        for &z in &[
            -60.0, -30.0, -3.0, -0.5, -2e-3, -5e-4, 0.0, 5e-4, 2e-3, 0.7, 10.0, 36.0, 38.0, 80.0,
        ] {
            let a = z * t;
            let e = 1e-5 * t;
            let fd = (sg_coefficient(a + e, t) - sg_coefficient(a - e, t)) / (2.0 * e);
            // truncation |A'''| e²/6 ≤ e²/T² and round-off 4 ε (|a| + T)/e of the quotient
            let tol = (e / t).powi(2) + 4.0 * f64::EPSILON * (a.abs() + t) / e;
            let d = sg_coefficient_derivative(a, t);
            assert!((fd - d).abs() <= tol, "T = {t}, z = {z}: {d} vs {fd}");
        }
    }
    assert_eq!(sg_coefficient_derivative(-1.0, 0.0), -1.0);
    assert_eq!(sg_coefficient_derivative(1.0, 0.0), 0.0);
}

#[test]
fn pair_matches_the_scalar_coefficient() {
    for &t in &[1e-3, 0.3, 2.0] {
        let mut a = -800.0 * t;
        while a < 800.0 * t {
            let (p, m) = sg_pair(a, t, 1.0 / t);
            let (p0, m0) = (sg_coefficient(a, t), sg_coefficient(-a, t));
            // e^{−z} has condition number z: a few ulp of z (a·(1/T) vs a/T) times z
            let tol = 4e-16 * (8.0 + (a / t).abs());
            for (x, y) in [(p, p0), (m, m0)] {
                assert!(
                    (x - y).abs() <= tol * y.abs() + 1e-300,
                    "a={a} T={t}: {x} vs {y}"
                );
            }
            a += 0.0137 * t;
        }
        for &a in &[0.0, 1e-9, -1e-9, 9.9e-6 * t, 1.01e-5 * t] {
            let (p, m) = sg_pair(a, t, 1.0 / t);
            assert!((p - sg_coefficient(a, t)).abs() <= 4e-16 * t);
            assert!((m - sg_coefficient(-a, t)).abs() <= 4e-16 * t);
        }
    }
}

#[test]
fn kernel_matches_the_reference_and_is_thread_independent() {
    use mfl_core::Axis;
    for (per, t) in [(false, 0.2), (true, 0.05), (false, 0.0)] {
        let b = if per {
            Boundary::Periodic
        } else {
            Boundary::NoFlux
        };
        for grid in [
            Grid::new(vec![Axis::new(-1.0, 2.0, 37, b).unwrap()]).unwrap(),
            Grid::new(vec![
                Axis::new(-1.0, 2.0, 150, b).unwrap(),
                Axis::new(0.0, 1.0, 130, b).unwrap(),
            ])
            .unwrap(),
        ] {
            let lay = Layout::new(&grid);
            let m = lay.len();
            let psi: Vec<f64> = (0..m).map(|i| (0.37 * i as f64).sin() * 0.3).collect();
            let rho: Vec<f64> = (0..m).map(|i| 1.0 + (0.11 * i as f64).cos()).collect();
            let mut want = vec![0.0; m];
            sg_rhs(&lay, t, &psi, &rho, &mut want);
            let mut scratch = vec![0.0; m];
            let want_rate = max_outflow(&lay, t, &psi, &mut scratch);
            let mut k = SgKernel::new(&lay, t);
            let mut got = vec![0.0; m];
            let rate = k.rhs_rate(&psi, &rho, &mut got);
            let scale = want.iter().fold(0.0f64, |a, b| a.max(b.abs()));
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() <= 1e-12 * scale, "{g} vs {w}");
            }
            assert!((rate - want_rate).abs() <= 1e-13 * want_rate);
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(3)
                .build()
                .unwrap();
            let mut got3 = vec![0.0; m];
            let rate3 = pool.install(|| k.rhs_rate(&psi, &rho, &mut got3));
            assert_eq!(rate3.to_bits(), rate.to_bits());
            assert!(got3
                .iter()
                .zip(&got)
                .all(|(a, b)| a.to_bits() == b.to_bits()));
        }
    }
}

/// The AVX2 (4-lane) and AVX-512 (8-lane) copies of the kernel give identical bits, the
/// generic copy agrees with them to a few ulp, and the banded parallel run (several bands at
/// 300 × 140) equals the one-band serial run bit for bit.
#[test]
fn kernel_copies_agree_and_bands_do_not_change_bits() {
    use mfl_core::simd::Isa;
    use mfl_core::Axis;
    for (per, t) in [(false, 0.07), (true, 0.3), (false, 0.0)] {
        let b = if per {
            Boundary::Periodic
        } else {
            Boundary::NoFlux
        };
        let grid = Grid::new(vec![
            Axis::new(-3.0, 3.0, 300, b).unwrap(),
            Axis::new(-4.0, 4.0, 140, b).unwrap(),
        ])
        .unwrap();
        let lay = Layout::new(&grid);
        let m = lay.len();
        let psi: Vec<f64> = (0..m).map(|i| (0.013 * i as f64).sin() * 0.8).collect();
        let rho: Vec<f64> = (0..m).map(|i| 1.1 + (0.029 * i as f64).cos()).collect();
        let run = |isa: Isa, threads: usize| {
            let mut k = SgKernel::new(&lay, t).with_isa(isa);
            assert_eq!(k.isa(), isa);
            let mut out = vec![0.0; m];
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let rate = pool.install(|| k.rhs_rate(&psi, &rho, &mut out));
            (rate, out)
        };
        let bits = |(r, v): &(f64, Vec<f64>)| {
            std::iter::once(r.to_bits())
                .chain(v.iter().map(|x| x.to_bits()))
                .collect::<Vec<_>>()
        };
        let generic = run(Isa::Generic, 1);
        let scale = generic.1.iter().fold(0.0f64, |a, b| a.max(b.abs()));
        for isa in Isa::all_available() {
            let one = run(isa, 1);
            assert_eq!(bits(&one), bits(&run(isa, 2)), "{isa:?}");
            assert_eq!(bits(&one), bits(&run(isa, 3)), "{isa:?}");
            for (a, b) in one.1.iter().zip(&generic.1) {
                assert!((a - b).abs() <= 1e-13 * scale, "{isa:?}: {a} vs {b}");
            }
            assert!((one.0 - generic.0).abs() <= 1e-14 * generic.0);
        }
        if Isa::Avx2.available() && Isa::Avx512.available() {
            assert_eq!(bits(&run(Isa::Avx2, 2)), bits(&run(Isa::Avx512, 2)));
        }
    }
}
