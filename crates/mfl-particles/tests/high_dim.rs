//! D > 2: Mei–Montanari–Nguyen's two-class problem in d = 40 with σ(x; w) = act(w·x), θ = w ∈ R⁴⁰
//! (the ridge kernel's direct path, d > 4), by minibatches of fresh two-class samples
//! ([`TwoClassSampler`]) and by the exact gradient of a finite sample.
//!
//! * one T = 0 step equals θ_i − η(Σ_k r_k ∇σ(x_k; θ_i) + λθ_i) written out by hand, within a
//!   forward rounding-error bound;
//! * 1 and 2 threads give the same bits after 20 noisy steps;
//! * `last_gradient` is ∇_θΨ(θ_i; ρ_N): central differences of [`MeanField::potential`] in random
//!   coordinates, within the truncation + rounding bound of the difference quotient;
//! * at T > 0 the step's noise is √(2Tη) × standard normal in all D coordinates.

use mfl_core::{Activation, Data, Gaussian, Law, Loss, MeanField, Measure, Param, Unit};
use mfl_particles::rng::{key, stream_rng, BATCH_STREAM};
use mfl_particles::{Dynamics, Gradient, Init, Temperature, TwoClassSampler};
use ndarray::{Array1, Array2};
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use std::sync::Arc;

const D: usize = 40;
const DELTA: f64 = 0.5;
const EPS: f64 = f64::EPSILON;

fn unit(act: Activation) -> Unit {
    Unit::Ridge {
        act,
        param: Param::W,
        input_dim: D,
    }
}

/// Squared loss on a finite two-class sample of n points (weights 1/n).
fn problem(act: Activation, n: usize, lambda: f64) -> MeanField {
    let data = Data::two_class_samples(D, DELTA, n, 11).unwrap();
    MeanField::new(unit(act), Loss::Squared, data, lambda).unwrap()
}

/// w ~ N(0, I/d): pre-activations w·x of order 1 ± Δ.
fn init() -> Init {
    Init::Law(Law::Gaussian(
        Gaussian::isotropic(vec![0.0; D], 1.0 / D as f64).unwrap(),
    ))
}

fn minibatch(b: usize) -> Gradient {
    Gradient::Minibatch {
        batch: b,
        sampler: Arc::new(TwoClassSampler::new(D, DELTA).unwrap()),
    }
}

fn dynamics(pb: &MeanField, n: usize, eta: f64, t: f64, g: Gradient) -> Dynamics {
    Dynamics::new(pb.clone(), n, eta, init())
        .unwrap()
        .with_temperature(Temperature::Constant(t))
        .unwrap()
        .with_gradient(g)
        .unwrap()
}

/// The data the step of `slot` (= steps taken + 1) sees: the problem's own, or the minibatch the
/// system draws (stream 2⁶³, slot k + 1 of the seed's key).
fn step_data(dy: &Dynamics, seed: u64, slot: u64) -> Data {
    match &dy.gradient {
        Gradient::Exact => dy.problem.data.clone(),
        Gradient::Minibatch { batch, sampler } => {
            let mut rng = stream_rng(&key(seed), BATCH_STREAM, slot);
            sampler.sample(&mut rng, *batch).unwrap()
        }
    }
}

fn act_deriv(act: Activation, z: f64) -> (f64, f64) {
    match act {
        Activation::Tanh => {
            let t = z.tanh();
            (t, 1.0 / (z.cosh() * z.cosh()))
        }
        Activation::Relu => {
            if z > 0.0 {
                (z, 1.0)
            } else {
                (0.0, 0.0)
            }
        }
        // the formula of the definition, written out (exactly the arithmetic of activation.rs,
        // so bit-equal; the relu form s₁ + k[relu(z − t₁) − relu(z − t₂)] is checked there)
        Activation::PiecewiseLinear { t1, t2, s1, s2 } => {
            if z <= t1 {
                (s1, 0.0)
            } else if z >= t2 {
                (s2, 0.0)
            } else {
                (
                    s1 + (s2 - s1) * ((z - t1) / (t2 - t1)),
                    (s2 - s1) / (t2 - t1),
                )
            }
        }
        _ => unreachable!(),
    }
}

/// Mei–Montanari–Nguyen's piecewise-linear σ with kinks inside the range of w·x here
/// (w·x ~ N(0, (1 ± Δ)²) for these particles and data): t₁ = −0.1, t₂ = 0.2, s₁ = −2.5, s₂ = 7.5.
fn mmn_pl() -> Activation {
    Activation::piecewise_linear(-0.1, 0.2, -2.5, 7.5).unwrap()
}

/// ulps of relative error of mfl's (act, act') against libm's tanh and 1/cosh² (unit.rs /
/// activation.rs: tanh within 3 ulp of libm, sech² within 8; libm itself ~1 ulp of exact).
/// relu and its derivative are exact.
fn act_ulps(act: Activation) -> (f64, f64) {
    match act {
        Activation::Tanh => (4.0, 10.0),
        _ => (0.0, 0.0),
    }
}

/// (a) One T = 0 step against the formula, with a componentwise first-order error bound.
fn one_step_matches_formula(act: Activation, gradient: Gradient) {
    let (n, eta, lambda, seed) = (64usize, 0.05, 0.1, 5u64);
    let pb = problem(act, 300, lambda);
    let dy = dynamics(&pb, n, eta, 0.0, gradient);
    let mut sys = dy.system(seed).unwrap();
    let th0 = sys.theta().to_owned();
    let data = step_data(&dy, seed, 1);
    sys.step().unwrap();
    let th1 = sys.theta().to_owned();
    let k = data.len();
    let (ua, ud) = act_ulps(act);

    // hand-written: z_ik = w_i·x_k, f_k = (1/N) Σ_i act(z_ik), r_k = ½ w_k · 2(f_k − y_k)
    let mut sig = Array2::<f64>::zeros((n, k));
    let mut der = Array2::<f64>::zeros((n, k));
    for i in 0..n {
        for kk in 0..k {
            let z: f64 = (0..D).map(|j| th0[[i, j]] * data.x[[kk, j]]).sum();
            let (s, ds) = act_deriv(act, z);
            sig[[i, kk]] = s;
            der[[i, kk]] = ds;
        }
    }
    let f: Vec<f64> = (0..k)
        .map(|kk| (0..n).map(|i| sig[[i, kk]] / n as f64).sum())
        .collect();
    let r: Vec<f64> = (0..k)
        .map(|kk| 0.5 * data.w[kk] * 2.0 * (f[kk] - data.y[kk]))
        .collect();
    // error of r_k: the σ's relative error (ua ulp) and N + 4 roundings in the sum of f_k, then
    // the subtraction and products
    let dr: Vec<f64> = (0..k)
        .map(|kk| {
            let s: f64 = (0..n).map(|i| sig[[i, kk]].abs()).sum::<f64>() / n as f64;
            data.w[kk] * (n as f64 + 4.0 + ua) * EPS * s + 4.0 * EPS * r[kk].abs()
        })
        .collect();

    let (mut worst_ratio, mut worst_rel, mut scale) = (0.0f64, 0.0f64, 0.0f64);
    for i in 0..n {
        for j in 0..D {
            let (mut g, mut abs_terms, mut dg) = (0.0, 0.0, 0.0);
            for kk in 0..k {
                let term = r[kk] * der[[i, kk]] * data.x[[kk, j]];
                g += term;
                abs_terms += term.abs();
                dg += dr[kk] * (der[[i, kk]] * data.x[[kk, j]]).abs();
            }
            g += lambda * th0[[i, j]];
            let want = th0[[i, j]] - eta * g;
            // |δg| ≤ Σ|δr_k σ' x| + (K + 3 + ud) ε Σ|r_k σ' x| + 2ε λ|θ| (recursive summation
            // of K + 1 terms, three products per term, σ' to ud ulp); |δθ'| ≤ η|δg| + 2ε(|θ| + η|g|)
            let bound_g = dg
                + (k as f64 + 3.0 + ud) * EPS * abs_terms
                + 2.0 * EPS * lambda * th0[[i, j]].abs();
            let bound = eta * bound_g + 2.0 * EPS * (th0[[i, j]].abs() + eta * g.abs());
            let err = (th1[[i, j]] - want).abs();
            worst_ratio = worst_ratio.max(err / bound);
            worst_rel = worst_rel.max(err);
            scale = scale.max(want.abs());
            // the gradient the system reports is the same Σ_k r_k ∇σ + λθ
            let gs = sys.last_gradient()[[i, j]];
            assert!(
                (gs - g).abs() <= 2.0 * bound_g + 2.0 * EPS * g.abs(),
                "{act:?} ∇Ψ[{i},{j}] = {gs}, by hand {g}, bound {bound_g}"
            );
        }
    }
    let rel = worst_rel / scale;
    eprintln!("{act:?}: max |Δθ| / max|θ| = {rel:.2e}, max err/bound = {worst_ratio:.3}");
    // the componentwise bound (×2 for second-order terms), and overall 1e-13 relative
    assert!(
        worst_ratio <= 2.0,
        "{act:?}: error {worst_ratio} × the bound"
    );
    assert!(rel <= 1e-13, "{act:?}: relative error {rel:e}");
    // the step moved the particles (the data term is not negligible)
    let moved = (&th1 - &th0).iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(moved > 1e-3, "{act:?}: step too small to test ({moved:e})");
}

#[test]
fn one_step_matches_the_formula_exact() {
    for act in [Activation::Tanh, Activation::Relu, mmn_pl()] {
        one_step_matches_formula(act, Gradient::Exact);
    }
}

#[test]
fn one_step_matches_the_formula_minibatch() {
    for act in [Activation::Tanh, Activation::Relu, mmn_pl()] {
        one_step_matches_formula(act, minibatch(48));
    }
}

/// (b) 20 noisy steps, all bits of θ and of the last gradient, with `threads` threads.
fn run_bits(dy: &Dynamics, threads: usize) -> Vec<u64> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        assert_eq!(rayon::current_num_threads(), threads);
        let mut sys = dy.system(3).unwrap();
        for _ in 0..20 {
            sys.step().unwrap();
        }
        sys.theta()
            .iter()
            .chain(sys.last_gradient().iter())
            .map(|v| v.to_bits())
            .collect()
    })
}

#[test]
fn thread_count_does_not_change_the_bits() {
    // N = 1100 > 1024 particles per update task and > 256 per potential task; 300 samples
    let pb = problem(Activation::Tanh, 300, 0.05);
    for g in [Gradient::Exact, minibatch(300)] {
        let dy = dynamics(&pb, 1100, 0.02, 0.05, g);
        let one = run_bits(&dy, 1);
        let two = run_bits(&dy, 2);
        assert_eq!(one.len(), 2 * 1100 * D);
        assert!(one == two, "{:?}: 1 and 2 threads differ", dy.gradient);
        // and the run is not trivially constant
        let start: Vec<u64> = dy
            .system(3)
            .unwrap()
            .theta()
            .iter()
            .map(|v| v.to_bits())
            .collect();
        assert_ne!(one[..1100 * D], start[..]);
    }
}

/// (c) ∇Ψ reported by the system against central differences of Ψ(·; ρ_N) (ρ_N frozen at the
/// positions before the step).
fn gradient_matches_finite_differences(gradient: Gradient) {
    let (n, lambda, seed) = (200usize, 0.1, 9u64);
    let pb = problem(Activation::Tanh, 300, lambda);
    let dy = dynamics(&pb, n, 0.01, 0.0, gradient);
    let mut sys = dy.system(seed).unwrap();
    let th0 = sys.theta().to_owned();
    let step_pb =
        MeanField::new(pb.unit.clone(), pb.loss, step_data(&dy, seed, 1), lambda).unwrap();
    sys.step().unwrap();
    let grad = sys.last_gradient().to_owned();
    let wts = Array1::from_elem(n, 1.0 / n as f64);
    let mu = Measure::new(th0.view(), wts.view());
    let r = step_pb.residual(step_pb.network(mu).as_slice().unwrap());
    let x = &step_pb.data.x;

    let h = 1e-4;
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    for _ in 0..8 {
        let i = rng.random_range(0..n);
        let j = rng.random_range(0..D);
        let mut at = Array2::zeros((2, D));
        at.row_mut(0).assign(&th0.row(i));
        at.row_mut(1).assign(&th0.row(i));
        at[[0, j]] += h;
        at[[1, j]] -= h;
        let hp = at[[0, j]] - th0[[i, j]];
        let hm = th0[[i, j]] - at[[1, j]];
        let psi = step_pb.potential(mu, at.view());
        let fd = (psi[0] - psi[1]) / (hp + hm);
        // truncation: Ψ's data part is Σ_k r_k tanh(θ·x_k), ∂_j³ = Σ r_k tanh'''(z) x_kj³ with
        // |tanh'''| ≤ 2; the λ-part is quadratic (no truncation): |error| ≤ (h²/6)·2Σ|r_k||x_kj|³
        let third: f64 = (0..r.len())
            .map(|k| 2.0 * r[k].abs() * x[[k, j]].abs().powi(3))
            .sum();
        let trunc = h * h / 6.0 * third;
        // rounding: each Ψ within (K + 5)ε Σ|r_k| (|tanh| ≤ 1, 4 ulp) + (D + 2)ε λ|θ|²/2 + ε|Ψ|,
        // divided by the 2h of the quotient (×2 for two evaluations); the steps hp, hm are exact
        let norm2: f64 = at.row(0).iter().map(|v| v * v).sum();
        let sr: f64 = r.iter().map(|v| v.abs()).sum();
        let dpsi = (r.len() as f64 + 5.0) * EPS * sr
            + (D as f64 + 2.0) * EPS * 0.5 * lambda * norm2
            + EPS * psi[0].abs().max(psi[1].abs());
        let round = 2.0 * dpsi / (hp + hm);
        // the system's own ∇Ψ: (K + 14) ε Σ|r_k x_kj| + ε λ|θ|
        let own = (r.len() as f64 + 14.0)
            * EPS
            * (0..r.len()).map(|k| (r[k] * x[[k, j]]).abs()).sum::<f64>()
            + EPS * lambda * th0[[i, j]].abs();
        let tol = 2.0 * (trunc + round + own);
        let err = (fd - grad[[i, j]]).abs();
        assert!(
            err <= tol,
            "∂_{j}Ψ(θ_{i}) = {} vs FD {fd}: error {err:e} > tolerance {tol:e}",
            grad[[i, j]]
        );
        // the test is sharp: the tolerance is ≤ 1e-5 of the size Σ_k|r_k x_kj| + λ|θ| of the
        // terms that make up ∂_jΨ (so a wrong factor or a missing term would fail it)
        let size = (0..r.len()).map(|k| (r[k] * x[[k, j]]).abs()).sum::<f64>()
            + lambda * th0[[i, j]].abs();
        eprintln!(
            "∂_{j}Ψ(θ_{i}) = {:+.6e}: FD error {err:.1e}, tolerance {tol:.1e}",
            grad[[i, j]]
        );
        assert!(
            tol < 1e-5 * size,
            "tolerance {tol:e} too loose for size {size:e}"
        );
    }
}

#[test]
fn gradient_matches_finite_differences_exact() {
    gradient_matches_finite_differences(Gradient::Exact);
}

#[test]
fn gradient_matches_finite_differences_minibatch() {
    gradient_matches_finite_differences(minibatch(64));
}

/// (d) T > 0: θ_new − (θ − η∇Ψ) = √(2Tη) g with g ~ N(0, I_D) in each of the D = 40 coordinates.
#[test]
fn noise_has_the_right_size_in_every_coordinate() {
    let (n, eta, t) = (1100usize, 0.01, 0.05);
    let pb = problem(Activation::Tanh, 300, 0.05);
    for g in [Gradient::Exact, minibatch(64)] {
        let dy = dynamics(&pb, n, eta, t, g);
        let mut sys = dy.system(4).unwrap();
        let th0 = sys.theta().to_owned();
        sys.step().unwrap();
        let s = (2.0 * t * eta).sqrt();
        let xi = (&sys.theta() - &th0 + &(eta * &sys.last_gradient())) / s;
        let m = (n * D) as f64;
        let mean = xi.sum() / m;
        let var = xi.iter().map(|v| v * v).sum::<f64>() / m;
        // 44 000 standard normals: 5σ bounds for the mean (1/√m) and E g² (√(2/m))
        assert!(mean.abs() < 5.0 / m.sqrt(), "noise mean {mean}");
        assert!(
            (var - 1.0).abs() < 5.0 * (2.0 / m).sqrt(),
            "noise E g² = {var}"
        );
        // per coordinate (1100 draws each): variance within 6σ
        for j in 0..D {
            let vj = xi.column(j).iter().map(|v| v * v).sum::<f64>() / n as f64;
            assert!(
                (vj - 1.0).abs() < 6.0 * (2.0 / n as f64).sqrt(),
                "axis {j}: E g² = {vj}"
            );
        }
    }
}
