//! The blocked ridge kernel against the direct formulas, folding, thread-count and ISA independence.

use crate::activation::Activation;
use crate::data::{Data, Inputs};
use crate::functional::MeanField;
use crate::loss::Loss;
use crate::measure::Measure;
use crate::unit::{Param, Unit};
use ndarray::{Array1, Array2};

/// A deterministic pseudo-random stream in [−1, 1).
fn noise(seed: u64, n: usize) -> Vec<f64> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 52) as f64 - 1.0
        })
        .collect()
}

fn data(d: usize, k: usize, symmetric: bool) -> Data {
    let inp = if symmetric {
        Inputs::gauss_hermite(d, k)
    } else {
        Inputs::gaussian_samples(d, k, 7)
    };
    let kk = inp.x.nrows();
    let y = Array1::from(noise(3, kk));
    Data::new(inp.x, y, inp.w, 0.0).unwrap()
}

/// The straightforward formulas with the scalar unit (and the system libm's tanh for
/// tanh units): f_k = Σ_m α_m σ, Ψ_m = Σ_k r_k σ + (λ/2)|θ|², ∇Ψ likewise; plus the
/// sums of |terms| for the tolerances.
#[allow(clippy::type_complexity)]
fn reference(
    mf: &MeanField,
    theta: &Array2<f64>,
    alpha: &[f64],
    r: &[f64],
) -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
    let libm_unit = |x: &[f64], t: &[f64], g: &mut [f64]| -> f64 {
        match &mf.unit {
            Unit::Ridge {
                act: Activation::Tanh,
                param,
                ..
            } => {
                let d = x.len();
                let (w, a, b) = match param {
                    Param::W => (&t[..d], 1.0, 0.0),
                    Param::AW => (&t[1..], t[0], 0.0),
                    Param::WB => (&t[..d], 1.0, t[d]),
                };
                let z = crate::unit::dot(w, x) + b;
                let (v, dv) = (z.tanh(), z.cosh().powi(-2));
                let off = usize::from(*param == Param::AW);
                if off == 1 {
                    g[0] = v;
                }
                for j in 0..d {
                    g[off + j] = a * dv * x[j];
                }
                if *param == Param::WB {
                    g[d] = dv;
                }
                a * v
            }
            u => u.value_grad(x, t, g),
        }
    };
    let (k, dd, d) = (mf.data.len(), theta.ncols(), mf.data.dim());
    let mut g = vec![0.0; dd];
    let (mut f, mut fa) = (vec![0.0; k], vec![0.0; k]);
    let n = theta.nrows();
    let (mut psi, mut pa) = (vec![0.0; n], vec![0.0; n]);
    let (mut grad, mut ga) = (vec![0.0; n * dd], vec![0.0; n * dd]);
    // Neumaier-compensated sums (value, compensation)
    fn add(acc: &mut (f64, f64), v: f64) {
        let t = acc.0 + v;
        acc.1 += if acc.0.abs() >= v.abs() {
            (acc.0 - t) + v
        } else {
            (v - t) + acc.0
        };
        acc.0 = t;
    }
    let (mut fc, mut pc, mut gc) = (
        vec![(0.0, 0.0); k],
        vec![(0.0, 0.0); n],
        vec![(0.0, 0.0); n * dd],
    );
    for kk in 0..k {
        let x: Vec<f64> = (0..d).map(|j| mf.data.x[[kk, j]]).collect();
        for m in 0..n {
            let t = theta.row(m).to_vec();
            let v = libm_unit(&x, &t, &mut g);
            add(&mut fc[kk], alpha[m] * v);
            fa[kk] += (alpha[m] * v).abs();
            add(&mut pc[m], r[kk] * v);
            pa[m] += (r[kk] * v).abs();
            for j in 0..dd {
                add(&mut gc[m * dd + j], r[kk] * g[j]);
                ga[m * dd + j] += (r[kk] * g[j]).abs();
            }
        }
    }
    for m in 0..n {
        let t = theta.row(m);
        add(&mut pc[m], 0.5 * mf.lambda * t.dot(&t));
        pa[m] += 0.5 * mf.lambda * t.dot(&t);
        for j in 0..dd {
            add(&mut gc[m * dd + j], mf.lambda * t[j]);
            ga[m * dd + j] += (mf.lambda * t[j]).abs();
        }
    }
    let fin = |v: &[(f64, f64)], out: &mut [f64]| {
        for (o, (s, c)) in out.iter_mut().zip(v) {
            *o = s + c;
        }
    };
    fin(&fc, &mut f);
    fin(&pc, &mut psi);
    fin(&gc, &mut grad);
    (f, fa, psi, pa, grad, ga)
}

fn close(what: &str, got: &[f64], want: &[f64], scale: &[f64], tol: f64) {
    for (i, ((g, w), s)) in got.iter().zip(want).zip(scale).enumerate() {
        assert!(
            (g - w).abs() <= tol * s + 1e-300,
            "{what}[{i}]: {g} vs {w} (scale {s})"
        );
    }
}

/// The blocked kernel against the direct formulas (compensated sums), within
/// 4·10⁻¹⁵ · Σ|terms| for every output (the fast tanh is within 3 ulp of libm's; the
/// blocked sums of 1100 terms have at most ~75 roundings on any path), for ridge units W, AW, WB in d = 1, 2, on symmetric (folded) and random
/// nodes, odd and even K, with M = 1100 points (several blocks, a partial tile).
#[test]
fn blocked_kernel_matches_direct_formulas() {
    let acts = [
        Activation::Tanh,
        Activation::Erf,
        Activation::Sigmoid,
        Activation::Relu,
    ];
    for d in 1..=2 {
        for param in [Param::W, Param::AW, Param::WB] {
            for act in acts {
                for (k, symmetric) in [(9, true), (12, true), (11, false)] {
                    let unit = Unit::Ridge {
                        act,
                        param,
                        input_dim: d,
                    };
                    let dat = data(d, k, symmetric);
                    let mf = MeanField::new(unit, Loss::Squared, dat, 0.05).unwrap();
                    let plan = super::Plan::new(&mf.unit, &mf.data).unwrap();
                    assert_eq!(
                        plan.is_folded(),
                        symmetric && super::unit_is_odd(act, param)
                    );
                    let dd = mf.theta_dim();
                    let n = 1100;
                    let theta = Array2::from_shape_vec(
                        (n, dd),
                        noise(11, n * dd).iter().map(|v| 2.5 * v).collect(),
                    )
                    .unwrap();
                    let alpha: Vec<f64> = noise(5, n).iter().map(|v| 1.0 + v).collect();
                    let al = Array1::from(alpha.clone());
                    let kk = mf.data.len();
                    let r = noise(13, kk);
                    let (f, fa, psi, pa, grad, ga) = reference(&mf, &theta, &alpha, &r);
                    let got_f = mf.network(Measure::new(theta.view(), al.view()));
                    let tag = format!("{act:?} {param:?} d={d} K={k} sym={symmetric}");
                    close(
                        &format!("f {tag}"),
                        got_f.as_slice().unwrap(),
                        &f,
                        &fa,
                        4e-15,
                    );
                    let mut p1 = vec![0.0; n];
                    mf.potential_of_residual_into(&r, theta.view(), &mut p1);
                    close(&format!("psi {tag}"), &p1, &psi, &pa, 4e-15);
                    let mut p2 = vec![0.0; n];
                    let mut g2 = Array2::zeros((n, dd));
                    mf.potential_grad_of_residual_into(&r, theta.view(), &mut p2, g2.view_mut());
                    assert_eq!(p1, p2, "{tag}");
                    close(
                        &format!("grad {tag}"),
                        g2.as_slice().unwrap(),
                        &grad,
                        &ga,
                        4e-15,
                    );
                }
            }
        }
    }
}

/// Folding changes f not at all: the folded f equals the unfolded one bit for bit.
#[test]
fn folding_is_exact_for_f() {
    for k in [40, 41] {
        let unit = Unit::Ridge {
            act: Activation::Tanh,
            param: Param::AW,
            input_dim: 1,
        };
        let mf = MeanField::new(unit, Loss::Squared, data(1, k, true), 0.0).unwrap();
        let plan = super::Plan::new(&mf.unit, &mf.data).unwrap();
        assert!(plan.is_folded());
        let unfolded = super::Plan {
            folded: false,
            kc: k,
            ..plan
        };
        let n = 2000;
        let theta: Vec<f64> = noise(17, 2 * n).iter().map(|v| 3.0 * v).collect();
        let alpha = vec![1.0 / n as f64; n];
        let (mut a, mut b) = (vec![0.0; k], vec![0.0; k]);
        plan.network(&theta, &alpha, &mut a);
        unfolded.network(&theta, &alpha, &mut b);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&a), bits(&b));
        // Ψ: the same up to the rounding of r_k − r_{K−1−k}
        let r = noise(2, k);
        let (mut pa, mut pb) = (vec![0.0; n], vec![0.0; n]);
        plan.potential(&r, &theta, 0.1, &mut pa, None);
        unfolded.potential(&r, &theta, 0.1, &mut pb, None);
        for (x, y) in pa.iter().zip(&pb) {
            assert!((x - y).abs() <= 1e-14 * (1.0 + y.abs()), "{x} vs {y}");
        }
    }
}

/// Same bits with 1 and 2 threads (and M not a multiple of the block or tile).
#[test]
fn blocked_kernel_is_thread_count_independent() {
    let unit = Unit::Ridge {
        act: Activation::Tanh,
        param: Param::AW,
        input_dim: 1,
    };
    let mf = MeanField::new(unit, Loss::Squared, data(1, 51, true), 0.01).unwrap();
    let n = 3 * super::BLOCK + 37;
    let theta = Array2::from_shape_vec((n, 2), noise(23, 2 * n)).unwrap();
    let al = Array1::from_elem(n, 1.0 / n as f64);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let f = mf.network(Measure::new(theta.view(), al.view()));
            let r = mf.residual(f.as_slice().unwrap());
            let (mut p, mut g) = (vec![0.0; n], Array2::zeros((n, 2)));
            mf.potential_grad_of_residual_into(
                r.as_slice().unwrap(),
                theta.view(),
                &mut p,
                g.view_mut(),
            );
            f.iter()
                .chain(&p)
                .chain(g.iter())
                .map(|v| v.to_bits())
                .collect::<Vec<_>>()
        })
    };
    assert_eq!(run(1), run(2));
}

/// Every compiled copy of the kernel (generic, AVX2 on 4 lanes, AVX-512 on 8 — those this CPU
/// has) gives the same bits for f, Ψ, ∇Ψ and the tabled pair, for each parametrisation.
#[test]
fn every_isa_copy_gives_the_same_bits() {
    use crate::simd::Isa;
    let isas = Isa::all_available();
    assert!(isas.contains(&Isa::Generic));
    for (d, param) in [(1, Param::W), (1, Param::AW), (2, Param::WB)] {
        let unit = Unit::Ridge {
            act: Activation::Tanh,
            param,
            input_dim: d,
        };
        let mf = MeanField::new(unit, Loss::Squared, data(d, 21, true), 0.01).unwrap();
        let dd = mf.theta_dim();
        let n = super::BLOCK + 77;
        let theta: Vec<f64> = noise(29, n * dd).iter().map(|v| 2.0 * v).collect();
        let alpha = vec![1.0 / n as f64; n];
        let k = mf.data.len();
        let run = |isa: Isa| {
            let plan = super::Plan::new(&mf.unit, &mf.data).unwrap().with_isa(isa);
            assert_eq!(plan.isa(), isa);
            let mut f = vec![0.0; k];
            plan.network(&theta, &alpha, &mut f);
            let r = mf.residual(&f);
            let r = r.as_slice().unwrap();
            let (mut p, mut g) = (vec![0.0; n], vec![0.0; n * dd]);
            plan.potential(r, &theta, 0.01, &mut p, Some(&mut g));
            let mut table = super::Table::default();
            let (mut f2, mut p2, mut g2) = (vec![0.0; k], vec![0.0; n], vec![0.0; n * dd]);
            plan.network_table(&theta, &alpha, &mut f2, &mut table);
            plan.potential_from_table(r, &theta, 0.01, &mut p2, &mut g2, &mut table);
            assert_eq!(f, f2);
            assert_eq!(p, p2);
            assert_eq!(g, g2);
            f.iter()
                .chain(&p)
                .chain(&g)
                .map(|v| v.to_bits())
                .collect::<Vec<_>>()
        };
        let want = run(Isa::Generic);
        for &isa in &isas {
            assert_eq!(run(isa), want, "{isa:?} d={d} {param:?}");
        }
    }
}
