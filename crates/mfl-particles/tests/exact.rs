//! Particle dynamics against exact results: the t = 0 gap identity, one hand-computed step,
//! and the stationary variance of the discrete Ornstein–Uhlenbeck process.

mod common;

use common::*;
use mfl_core::quadrature::gauss_hermite;
use mfl_core::{Data, Gaussian, Law, Loss, MeanField, Measure};
use mfl_particles::{Dynamics, Init, ParticleError, Recording, Temperature};
use ndarray::{array, Array1, Array2};

/// ρ₀ = N(m, s²) in θ = w ∈ R.
const M0: f64 = 0.8;
const S0: f64 = 0.5;

/// (R(ρ₀), V(ρ₀) = ∫U(θ,θ)dρ₀ − ∬U dρ₀dρ₀) by a Gauss–Hermite rule of `q` nodes in θ (V by
/// mfl_testkit::prefactor).
fn exact_gap_terms(eval: &MeanField, q: usize) -> (f64, f64) {
    let (z, w) = gauss_hermite(q);
    let theta = Array2::from_shape_fn((q, 1), |(j, _)| M0 + S0 * z[j]);
    let wts = Array1::from(w);
    let r0 = eval.risk(Measure::new(theta.view(), wts.view()));
    (r0, mfl_testkit::gap_prefactor_gaussian_1d(eval, M0, S0, q))
}

/// E[R_N(θ)] − R(ρ₀) = (1/N)(∫U(θ,θ)dρ₀ − ∬U dρ₀dρ₀) for θ_i i.i.d. ρ₀ (squared loss).
///
/// R_N − R(ρ₀) = Σ_k w_k (f_N − f)_k² + L with the linear term
/// L = (2/N) Σ_i Ψ(θ_i; ρ₀) − 2 Σ_k w_k (f − y)_k f_k (λ = 0), E[L] = 0 exactly. L carries the
/// O(1/√N) fluctuations, so R_N − R(ρ₀) − L estimates the same mean with O(1/N) spread (a
/// control variate); both estimators are tested, the second decisively.
#[test]
fn gap_identity_at_time_zero() {
    let eval = population(tanh_w(1), 24, 0.0);
    let (r0, c) = exact_gap_terms(&eval, 60);
    // the θ-quadrature has converged far below the statistical resolution (~1e-7 at N = 512)
    let (r0b, cb) = exact_gap_terms(&eval, 120);
    println!("GH 60 vs 120 in θ: R {:.1e}, c {:.1e}", r0b - r0, cb - c);
    assert!((r0 - r0b).abs() < 1e-8 && (c - cb).abs() < 1e-8);
    // f = f_ρ₀ and r_k = w_k (f_k − y_k) on the quadrature, and Σ_k r_k f_k = E_ρ₀[Ψ]
    let (z, w) = gauss_hermite(60);
    let qtheta = Array2::from_shape_fn((60, 1), |(j, _)| M0 + S0 * z[j]);
    let qw = Array1::from(w);
    let f0 = eval.network(Measure::new(qtheta.view(), qw.view()));
    let r = eval.residual(f0.as_slice().unwrap());
    let mean_psi: f64 = r.iter().zip(f0.iter()).map(|(a, b)| a * b).sum();
    let law = Law::Gaussian(Gaussian::new(vec![M0], vec![S0 * S0]).unwrap());
    for (n, seeds) in [(8usize, 4000u64), (64, 2000), (512, 1000)] {
        let dynamics = Dynamics::new(eval.clone(), n, 0.1, Init::Law(law.clone())).unwrap();
        let mut plain = Vec::new();
        let mut cv = Vec::new();
        for s in 0..seeds {
            let sys = dynamics.system(s).unwrap();
            let gap = eval.risk(sys.measure()) - r0;
            let mut psi = vec![0.0; n];
            eval.potential_of_residual_into(r.as_slice().unwrap(), sys.theta(), &mut psi);
            let l = 2.0 * (psi.iter().sum::<f64>() / n as f64 - mean_psi);
            plain.push(gap);
            cv.push(gap - l);
        }
        let expect = c / n as f64;
        for (name, v, decisive) in [("plain", &plain, false), ("control variate", &cv, true)] {
            let m = v.iter().sum::<f64>() / seeds as f64;
            let var = v.iter().map(|g| (g - m).powi(2)).sum::<f64>() / (seeds - 1) as f64;
            let se = (var / seeds as f64).sqrt();
            println!(
                "N = {n:4}, {name:15}: mean gap {m:.6e}, (1/N)(∫U − ∬U) = {expect:.6e}, \
                 SE {se:.2e}, z = {:+.2}, gap/SE = {:.1}",
                (m - expect) / se,
                expect / se
            );
            assert!((m - expect).abs() < 3.0 * se, "{name}, N = {n}");
            if decisive {
                // a zero gap, or 30% off, would be rejected
                assert!(expect > 10.0 * se);
            }
        }
    }
}

/// One step of gradient descent at T = 0 on N = 2 tanh neurons, θ = w, by hand.
#[test]
fn one_gradient_step_by_hand() {
    let x = [-1.2, 0.5, 2.0];
    let y = [0.3, -0.1, 0.8];
    let w = [0.2, 0.5, 0.3];
    let lambda = 0.05;
    let eta = 0.1;
    let th0 = [0.7, -0.4];
    let data = Data::new(
        Array2::from_shape_vec((3, 1), x.to_vec()).unwrap(),
        Array1::from(y.to_vec()),
        Array1::from(w.to_vec()),
        0.0,
    )
    .unwrap();
    let mf = MeanField::new(tanh_w(1), Loss::Squared, data, lambda).unwrap();
    let dynamics = Dynamics::new(
        mf.clone(),
        2,
        eta,
        Init::Positions(array![[th0[0]], [th0[1]]]),
    )
    .unwrap();
    // by hand: f_k = ½ Σ_i tanh(θ_i x_k); ∂_θΨ(θ) = Σ_k w_k (f_k − y_k)(1 − tanh²(θ x_k)) x_k + λθ
    let f: Vec<f64> = x
        .iter()
        .map(|&xk| 0.5 * ((th0[0] * xk).tanh() + (th0[1] * xk).tanh()))
        .collect();
    let expect: Vec<f64> = th0
        .iter()
        .map(|&t| {
            let g: f64 = (0..3)
                .map(|k| w[k] * (f[k] - y[k]) * (1.0 - (t * x[k]).tanh().powi(2)) * x[k])
                .sum::<f64>()
                + lambda * t;
            t - eta * g
        })
        .collect();
    let mut sys = dynamics.system(9).unwrap();
    sys.step().unwrap();
    for i in 0..2 {
        let got = sys.theta()[[i, 0]];
        println!("θ_{i}: {got:.17} (hand {:.17})", expect[i]);
        assert!((got - expect[i]).abs() < 1e-14);
        assert!((got - th0[i]).abs() > 1e-3, "the step must move θ_{i}");
    }
    assert_eq!(sys.time(), eta);
    assert_eq!(sys.steps(), 1);
    // the driver lands on the same point and evaluates R_N through the same kernel
    let tr = dynamics
        .run(&mf, 9, &Recording::at(vec![0.0, eta]), |_| {})
        .unwrap();
    assert_eq!(tr.final_theta, sys.theta());
    let hand_risk: f64 = (0..3)
        .map(|k| {
            let fk = 0.5 * ((expect[0] * x[k]).tanh() + (expect[1] * x[k]).tanh());
            w[k] * (y[k] - fk).powi(2)
        })
        .sum();
    assert!((tr.risk[1] - hand_risk).abs() < 1e-14);
    let reg = 0.5 * lambda * 0.5 * (expect[0].powi(2) + expect[1].powi(2));
    assert!((tr.energy[1] - (0.5 * hand_risk + reg)).abs() < 1e-14);
}

/// Noise only (∇Ψ = λθ): N particles × D axes from N(0.3, 0.01), recorded `recs` times every
/// `gap` steps after `burn` steps. Returns the pooled second moment of θ, its standard error
/// for a stationary law N(0, v) (Var(θ²) = 2v², Corr(θ_s², θ_t²) = a^{2·gap·|s−t|} with
/// a = 1 − ηλ, particles independent), and the final mean.
fn noise_only_moment(
    (lambda, temp, eta): (f64, f64, f64),
    (n, d): (usize, usize),
    (burn, gap, recs): (u32, u32, u32),
    v: f64,
    seed: u64,
) -> (f64, f64, Vec<f64>) {
    let a: f64 = 1.0 - eta * lambda;
    let times: Vec<f64> = (0..recs).map(|j| f64::from(burn + j * gap) * eta).collect();
    let centre: Vec<f64> = [0.3, -0.2].iter().cycle().take(d).copied().collect();
    let law = Law::Gaussian(Gaussian::isotropic(centre, 0.01).unwrap());
    let mf = no_data(d, lambda);
    let dynamics = Dynamics::new(mf.clone(), n, eta, Init::Law(law))
        .unwrap()
        .with_temperature(Temperature::Constant(temp))
        .unwrap();
    let tr = dynamics
        .run(&mf, seed, &Recording::at(times).with_positions(), |_| {})
        .unwrap();
    let pos = tr.positions.as_ref().unwrap();
    let est = pos.iter().map(|t| t * t).sum::<f64>() / pos.len() as f64;
    let rho = a.powi(2 * gap as i32);
    let r = recs as i32;
    let sum_corr: f64 = (0..r)
        .flat_map(|s| (0..r).map(move |t| rho.powi((s - t).abs())))
        .sum();
    let se = (2.0 * v * v * sum_corr / (f64::from(recs).powi(2) * (n * d) as f64)).sqrt();
    (est, se, tr.mean.row(tr.len() - 1).to_vec())
}

/// With ∇Ψ = λθ the scheme is the AR(1) θ ← (1 − ηλ)θ + √(2Tη) g, whose stationary law is
/// N(0, v), v = 2Tη/(1 − (1 − ηλ)²) = T/(λ(1 − ηλ/2)) (mfl_testkit::discrete_ou).
#[test]
fn noise_only_stationary_variance_is_the_discrete_ou_value() {
    let (lambda, temp, eta) = (1.0, 0.5, 0.1);
    let v = mfl_testkit::em_ou_stationary_variance(lambda, temp, eta);
    let n = 8000;
    // burn: a^{2·150} ≈ 2e−14 of the initial variance remains; records every 10 steps
    // (correlation of θ² a^{20} ≈ 0.12)
    let (est, se, mean) = noise_only_moment((lambda, temp, eta), (n, 2), (150, 10, 10), v, 2024);
    println!(
        "stationary variance {est:.5}, discrete {v:.5}, continuous T/λ = {:.5}, SE {se:.1e}",
        temp / lambda
    );
    assert!((est - v).abs() < 3.0 * se);
    // decisive: the continuous-time value T/λ is rejected
    assert!((est - temp / lambda).abs() > 5.0 * se);
    // and the mean relaxed to 0
    for mi in mean {
        assert!(mi.abs() < 4.0 * (v / n as f64).sqrt());
    }
}

#[test]
fn noise_only_stationary_variance_is_t_over_lambda_for_small_steps() {
    // The statement: with ηλ = 1e-3 the discrete value T/(λ(1 − ηλ/2)) differs from
    // T/λ by 5e-4 relative, far below the ~1% standard error, so T/λ must be within 3 SE.
    // burn 15000 steps (a^{30000} ≈ e^{−30}); records every 1000 (correlation ≈ e^{−2})
    let (lambda, temp, eta) = (1.0, 0.5, 1e-3);
    let v = temp / lambda;
    let (est, se, _) = noise_only_moment((lambda, temp, eta), (1000, 2), (15_000, 1000, 10), v, 7);
    println!("stationary variance {est:.5}, T/λ = {v:.5}, SE {se:.1e}");
    assert!((est - v).abs() < 3.0 * se);
}

#[test]
fn blow_up_names_step_and_time() {
    // ∇Ψ = λθ with ηλ = 1001: θ_k = θ_0 (−1000)^k, beyond the bound 1e10 first at k = 4
    // (particle 0: 1e12), long before it would overflow (k = 103)
    let mf = no_data(1, 1.0);
    let dynamics = Dynamics::new(
        mf.clone(),
        3,
        1001.0,
        Init::Positions(array![[1.0], [2.0], [-1.0]]),
    )
    .unwrap();
    let err = dynamics
        .run(&mf, 1, &Recording::every(1001.0, 1001.0 * 200.0), |_| {})
        .unwrap_err();
    match err {
        ParticleError::Diverged {
            seed,
            particle,
            value,
            step,
            time,
        } => {
            assert_eq!(seed, 1);
            assert_eq!(particle, 0);
            assert_eq!(step, 4);
            assert_eq!(time, 4.0 * 1001.0);
            assert!((value - 1e12).abs() < 1e-3, "{value}");
        }
        e => panic!("wrong error {e}"),
    }
}
