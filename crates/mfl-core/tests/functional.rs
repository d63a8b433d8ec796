//! The one kernel against direct formulas, functional derivatives and finite differences.

use mfl_core::data::{Inputs, Teacher};
use mfl_core::functional::{free_energy, MeanField};
use mfl_core::{Activation, Axis, Boundary, Grid, Loss, Measure, Param, Unit};
use ndarray::{array, Array1, Array2};

fn tanh_aw(d: usize) -> Unit {
    Unit::Ridge {
        act: Activation::Tanh,
        param: Param::AW,
        input_dim: d,
    }
}

fn teacher_problem(loss: Loss) -> MeanField {
    let unit = tanh_aw(1);
    let teacher = Teacher::new(
        unit.clone(),
        array![[1.0, 2.0], [-0.5, -1.0]],
        vec![1.0, 1.0],
    )
    .unwrap();
    let mut data = Inputs::gauss_hermite(1, 30).label(&teacher, 0.0).unwrap();
    if loss == Loss::Logistic {
        data.y.mapv_inplace(|y| if y >= 0.0 { 1.0 } else { -1.0 });
    }
    MeanField::new(unit, loss, data, 0.1).unwrap()
}

#[test]
fn particle_risk_equals_direct_finite_network_risk() {
    let mf = teacher_problem(Loss::Squared);
    let theta = array![
        [0.3, 1.1],
        [-0.7, 0.4],
        [1.2, -2.0],
        [0.05, 0.9],
        [-1.5, 3.0]
    ];
    let n = theta.nrows();
    let w = Array1::from_elem(n, 1.0 / n as f64);
    let r = mf.risk(Measure::new(theta.view(), w.view()));
    // direct: f_N(x) = (1/N) Σ a_i tanh(w_i x), R = Σ_k w_k (y_k − f_N(x_k))²
    let mut direct = 0.0;
    for k in 0..mf.data.len() {
        let x = mf.data.x[[k, 0]];
        let f: f64 = theta
            .rows()
            .into_iter()
            .map(|t| t[0] * (t[1] * x).tanh())
            .sum::<f64>()
            / n as f64;
        direct += mf.data.w[k] * (mf.data.y[k] - f).powi(2);
    }
    assert!(
        (r - direct).abs() <= 1e-15 * direct.max(1.0),
        "{r} vs {direct}"
    );
}

/// (F(ρ + ε δ_m) − F(ρ − ε δ_m))/(2ε) = Ψ(θ_m) + T(log ρ_m + 1) + O(ε²): a unit mass at cell m is
/// a density bump of height 1/|cell|.
#[test]
fn potential_is_the_functional_derivative_of_the_free_energy() {
    for loss in [Loss::Squared, Loss::Logistic] {
        let mf = teacher_problem(loss);
        let grid = Grid::new(vec![
            Axis::new(-2.0, 2.0, 12, Boundary::NoFlux).unwrap(),
            Axis::new(-3.0, 3.0, 10, Boundary::NoFlux).unwrap(),
        ])
        .unwrap();
        let c = grid.centres();
        let vol = grid.cell_volume();
        let rho: Vec<f64> = c
            .rows()
            .into_iter()
            .map(|r| (-(r[0] - 0.3).powi(2) - 0.5 * r[1] * r[1]).exp() + 0.05)
            .collect();
        let temp = 0.2;
        let f_of = |rho: &[f64]| -> f64 {
            let w: Array1<f64> = rho.iter().map(|p| p * vol).collect();
            free_energy(&mf, Measure::new(c.view(), w.view()), rho, vol, temp)
        };
        let w: Array1<f64> = rho.iter().map(|p| p * vol).collect();
        let psi = mf.potential(Measure::new(c.view(), w.view()), c.view());
        let eps = 1e-5;
        for &m in &[0usize, 17, 55, 119] {
            let mut p = rho.clone();
            let mut q = rho.clone();
            p[m] += eps / vol;
            q[m] -= eps / vol;
            let fd = (f_of(&p) - f_of(&q)) / (2.0 * eps);
            let exact = psi[m] + temp * (rho[m].ln() + 1.0);
            // truncation ε²·F'''/6 with F''' ~ 1/(ρ_m² |cell|²)·T, round-off ~ 1e-16·|F|/ε
            let tol = eps * eps * temp / (rho[m] * vol).powi(2) + 1e-10;
            assert!(
                (fd - exact).abs() < tol,
                "{loss:?} m={m}: fd {fd} vs {exact}"
            );
        }
    }
}

#[test]
fn gradient_matches_finite_differences_of_the_potential() {
    for loss in [Loss::Squared, Loss::Logistic] {
        let mf = teacher_problem(loss);
        let theta = array![[0.3, 1.1], [-0.7, 0.4], [1.2, -2.0]];
        let w = Array1::from_elem(3, 1.0 / 3.0);
        let mu = Measure::new(theta.view(), w.view());
        let at = array![[0.2, -0.4], [1.5, 2.5]];
        let (psi, grad) = mf.potential_grad(mu, at.view());
        let psi2 = mf.potential(mu, at.view());
        assert_eq!(psi, psi2);
        let e = 1e-6;
        for i in 0..2 {
            for j in 0..2 {
                let mut p = at.clone();
                let mut q = at.clone();
                p[[i, j]] += e;
                q[[i, j]] -= e;
                let fd =
                    (mf.potential(mu, p.view())[i] - mf.potential(mu, q.view())[i]) / (2.0 * e);
                assert!(
                    (fd - grad[[i, j]]).abs() < 1e-8,
                    "{loss:?}: {fd} vs {}",
                    grad[[i, j]]
                );
            }
        }
    }
}

/// Eigenvalues of a symmetric matrix by cyclic Jacobi rotations.
fn symmetric_eigenvalues(mut a: Array2<f64>) -> Vec<f64> {
    let n = a.nrows();
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[[i, j]].powi(2))
            .sum();
        if off < 1e-30 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                if a[[p, q]].abs() < 1e-300 {
                    continue;
                }
                let theta = (a[[q, q]] - a[[p, p]]) / (2.0 * a[[p, q]]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (akp, akq) = (a[[k, p]], a[[k, q]]);
                    a[[k, p]] = c * akp - s * akq;
                    a[[k, q]] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[[p, k]], a[[q, k]]);
                    a[[p, k]] = c * apk - s * aqk;
                    a[[q, k]] = s * apk + c * aqk;
                }
            }
        }
    }
    (0..n).map(|i| a[[i, i]]).collect()
}

#[test]
fn interaction_kernel_is_positive_semidefinite() {
    let unit = Unit::Ridge {
        act: Activation::Tanh,
        param: Param::WB,
        input_dim: 2,
    };
    let data = mfl_core::Data::new(
        Inputs::gauss_hermite(2, 8).x,
        Array1::zeros(64),
        Inputs::gauss_hermite(2, 8).w,
        0.0,
    )
    .unwrap();
    let mf = MeanField::new(unit, Loss::Squared, data, 0.0).unwrap();
    // 40 pseudo-random θ ∈ [−2, 2]³ (a fixed LCG: the test does not depend on a RNG crate)
    let mut s = 12345u64;
    let mut next = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((s >> 11) as f64 / (1u64 << 53) as f64) * 4.0 - 2.0
    };
    let th: Vec<[f64; 3]> = (0..40).map(|_| [next(), next(), next()]).collect();
    let u = Array2::from_shape_fn((40, 40), |(i, j)| mf.interaction(&th[i], &th[j]));
    let ev = symmetric_eigenvalues(u);
    let min = ev.iter().cloned().fold(f64::INFINITY, f64::min);
    assert!(min > -1e-12, "smallest eigenvalue {min}");
    // and 40 units on 64 nodes: the kernel is not trivially zero
    assert!(ev.iter().cloned().fold(0.0, f64::max) > 1e-2);
}

#[test]
fn results_do_not_depend_on_the_number_of_threads() {
    let mf = teacher_problem(Loss::Squared);
    let theta = Array2::from_shape_fn((3000, 2), |(i, j)| {
        ((i * 7 + j * 3) % 17) as f64 / 5.0 - 1.6
    });
    let w = Array1::from_elem(3000, 1.0 / 3000.0);
    let run = |n| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .unwrap()
            .install(|| {
                let mu = Measure::new(theta.view(), w.view());
                (mf.risk(mu), mf.potential_grad(mu, theta.view()))
            })
    };
    let (r1, (p1, g1)) = run(1);
    let (r2, (p2, g2)) = run(2);
    assert_eq!(r1.to_bits(), r2.to_bits());
    assert_eq!(p1, p2);
    assert_eq!(g1, g2);
}

/// `self_gradient_into` (the tabled kernel for tanh units: activations of the network pass
/// reused for Ψ and ∇Ψ) gives the same bits as network → residual → potential-gradient, for
/// every ridge layout, folded and unfolded data, 1 and 2 input dimensions, and point counts
/// that are not multiples of the tile (8), the block (512) or the chunk (256).
#[test]
fn self_gradient_is_bit_identical_to_the_three_passes() {
    use mfl_core::data::Data;
    use mfl_core::functional::ridge::Table;
    let mut s = 17u64;
    let mut next = move || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    };
    for act in [Activation::Tanh, Activation::Relu] {
        for param in [Param::W, Param::AW, Param::WB] {
            for d in [1usize, 2] {
                for symmetric in [true, false] {
                    let unit = Unit::Ridge {
                        act,
                        param,
                        input_dim: d,
                    };
                    let inputs = if symmetric {
                        Inputs::gauss_hermite(d, 12)
                    } else {
                        Inputs::gaussian_samples(d, 37, 5)
                    };
                    let k = inputs.x.nrows();
                    let y = Array1::from_iter((0..k).map(|_| next()));
                    let data = Data::new(inputs.x, y, inputs.w, 0.0).unwrap();
                    let mf = MeanField::new(unit.clone(), Loss::Squared, data, 0.03).unwrap();
                    let dd = unit.theta_dim();
                    let mut table = Table::default();
                    for n in [1usize, 13, 700] {
                        let theta = Array2::from_shape_fn((n, dd), |_| 2.0 * next());
                        let w = Array1::from_elem(n, 1.0 / n as f64);
                        let mu = Measure::new(theta.view(), w.view());
                        let (mut f1, mut r1) = (vec![0.0; k], vec![0.0; k]);
                        let mut p1 = vec![0.0; n];
                        let mut g1 = Array2::zeros((n, dd));
                        mf.self_gradient_into(
                            mu,
                            &mut f1,
                            &mut r1,
                            &mut p1,
                            g1.view_mut(),
                            &mut table,
                        );
                        let (mut f2, mut r2) = (vec![0.0; k], vec![0.0; k]);
                        let mut p2 = vec![0.0; n];
                        let mut g2 = Array2::zeros((n, dd));
                        mf.network_into(mu, &mut f2);
                        mf.residual_into(&f2, &mut r2);
                        mf.potential_grad_of_residual_into(
                            &r2,
                            theta.view(),
                            &mut p2,
                            g2.view_mut(),
                        );
                        let same = |a: &[f64], b: &[f64]| {
                            a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
                        };
                        let what =
                            format!("{act:?} {param:?} d = {d} symmetric = {symmetric} N = {n}");
                        assert!(same(&f1, &f2), "f: {what}");
                        assert!(same(&p1, &p2), "Ψ: {what}");
                        assert!(
                            same(g1.as_slice().unwrap(), g2.as_slice().unwrap()),
                            "∇Ψ: {what}"
                        );
                    }
                }
            }
        }
    }
}
