//! Issue 4 "Measure": particle-steps/s and unit evaluations/s of one noisy exact-gradient step
//! (mean-field Langevin), tanh a_w unit in d = 1, K Gauss–Hermite nodes, for
//! N = 10³ … 10⁶, K = 50 and 170, on 1 and 2 threads (one rayon pool per case). A step costs
//! O(N·K) twice (f, then ∇Ψ); "unit-evals/s" counts 2·N·K evaluations per step (σ for f and
//! (σ, ∇σ) for ∇Ψ, over all K nodes, although the odd symmetry of the nodes lets the kernel
//! evaluate only half of them). Also: tanh throughput (libm scalar vs mfl-core's vectorised
//! tanh) and the share of the step spent in the kernel (f + ∇Ψ) rather than the update.
//!
//! Plain harness (no criterion): `cargo bench -p mfl-particles --bench step` prints markdown
//! tables (about 1 minute); `MFL_BENCH_TIME=<seconds per case>` (default 0.5),
//! `MFL_BENCH_N=<N>` (one N only), `MFL_BENCH_T=<temperature>` (default 1e-3; 0: no noise). The NumPy
//! reference of the same step is benches/particles_numpy.py; results in benches/README.md.
//!
//! `MFL_BENCH_PEER=1` instead times the problem of ../shared/bench/numpy_particle_step.py
//! (issue 17): σ = tanh(w x), d = 1, θ = w, y = 0.6 tanh(2.5x) − 0.4 tanh(x), λ = 0.05,
//! T = 0.02, η = 2·10⁻³, w ~ N(0, 0.5²), exact population gradient on the peer's "trap" rule
//! (101 trapezoid nodes on [−7.5, 7.5], h = 0.15: 51 canonical after folding — the peer
//! evaluates its 50 positive ones) and on `gh340` (340 Gauss–Hermite nodes, 170 canonical),
//! N = 10⁵ and 10⁶, 1 and 2 threads, and prints one bencher-style line per case
//! (`benches/peers.sh` collects them). `MFL_ISA=avx2` selects the AVX2 copy of the kernel.

use mfl_core::activation::tanh_slice;
use mfl_core::data::{Inputs, Teacher};
use mfl_core::{Activation, Gaussian, Law, Loss, MeanField, Param, Unit};
use mfl_particles::{Dynamics, Init, Temperature};
use ndarray::{array, Array2};
use std::hint::black_box;
use std::time::Instant;

fn problem(k: usize) -> MeanField {
    let unit = Unit::Ridge {
        act: Activation::Tanh,
        param: Param::AW,
        input_dim: 1,
    };
    let teacher = Teacher::new(unit.clone(), array![[1.0, 1.5]], vec![1.0]).unwrap();
    let data = Inputs::gauss_hermite(1, k).label(&teacher, 0.0).unwrap();
    MeanField::new(unit, Loss::Squared, data, 1e-3).unwrap()
}

/// Median seconds per call of `f`, over batches filling about `budget` seconds (≥ 3 calls).
fn time_it(budget: f64, mut f: impl FnMut()) -> f64 {
    f();
    let t0 = Instant::now();
    f();
    let one = t0.elapsed().as_secs_f64().max(1e-7);
    let per_batch = ((budget / 5.0 / one) as usize).max(1);
    let batches = if one > budget / 3.0 { 3 } else { 5 };
    let mut v: Vec<f64> = (0..batches)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..per_batch {
                f();
            }
            t.elapsed().as_secs_f64() / per_batch as f64
        })
        .collect();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn tanh_throughput(budget: f64) {
    let n = 4096;
    let x: Vec<f64> = (0..n).map(|i| -8.0 + 16.0 * i as f64 / n as f64).collect();
    let mut out = vec![0.0; n];
    let libm = time_it(budget, || {
        for (o, v) in out.iter_mut().zip(black_box(&x)) {
            *o = v.tanh();
        }
        black_box(&out);
    });
    let fast = time_it(budget, || {
        tanh_slice(black_box(&x), &mut out);
        black_box(&out);
    });
    println!(
        "## tanh throughput, 1 thread, 4096 arguments in [−8, 8] (load {})",
        load()
    );
    println!("| tanh | ns/eval | Geval/s |");
    println!("|---|---|---|");
    for (name, t) in [("libm (scalar)", libm), ("mfl-core tanh_slice", fast)] {
        println!(
            "| {name} | {:.3} | {:.3} |",
            t / n as f64 * 1e9,
            n as f64 / t / 1e9
        );
    }
    println!();
}

/// The peer's data: "trap" (101 trapezoid nodes, Gaussian weights) or Gauss–Hermite with k nodes.
fn peer_problem(quad: &str) -> MeanField {
    use mfl_core::data::Data;
    use ndarray::Array1;
    let unit = Unit::Ridge {
        act: Activation::Tanh,
        param: Param::W,
        input_dim: 1,
    };
    let (x, w) = if quad == "trap" {
        let x: Vec<f64> = (0..101).map(|i| 0.15 * (i as f64 - 50.0)).collect();
        let w = x
            .iter()
            .map(|v| (-v * v / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt() * 0.15)
            .collect();
        (x, w)
    } else {
        let k: usize = quad.trim_start_matches("gh").parse().unwrap();
        let inp = Inputs::gauss_hermite(1, k);
        (inp.x.iter().copied().collect(), inp.w.to_vec())
    };
    let y: Vec<f64> = x
        .iter()
        .map(|v| 0.6 * (2.5 * v).tanh() - 0.4 * v.tanh())
        .collect();
    let k = x.len();
    let data = Data::new(
        Array2::from_shape_vec((k, 1), x).unwrap(),
        Array1::from(y),
        Array1::from(w),
        0.0,
    )
    .unwrap();
    MeanField::new(unit, Loss::Squared, data, 0.05).unwrap()
}

fn peer(budget: f64) {
    let isa = mfl_core::simd::Isa::detect().name();
    let law = Law::Gaussian(Gaussian::isotropic(vec![0.0], 0.25).unwrap());
    for quad in ["trap", "gh340"] {
        let mf = peer_problem(quad);
        for n in [100_000usize, 1_000_000] {
            let dynamics = Dynamics::new(mf.clone(), n, 2e-3, Init::Law(law.clone()))
                .unwrap()
                .with_temperature(Temperature::Constant(0.02))
                .unwrap();
            for threads in [1usize, 2] {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                let t = pool.install(|| {
                    let mut sys = dynamics.system(1).unwrap();
                    time_it(budget, || sys.step().unwrap())
                });
                println!(
                    "test peer_particle/{quad}/{n}/{threads}t/{isa} ... bench: {:.0} ns/iter (load {})",
                    t * 1e9,
                    load()
                );
            }
        }
    }
}

fn main() {
    // cargo bench passes `--bench`; a filter argument is not supported
    let budget: f64 = std::env::var("MFL_BENCH_TIME")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0.5);
    if std::env::var("MFL_BENCH_PEER").is_ok_and(|v| v != "0") {
        peer(budget);
        return;
    }
    tanh_throughput(budget);
    // MFL_BENCH_T=0 times the noise-free step (no random numbers drawn)
    let temperature: f64 = std::env::var("MFL_BENCH_T")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1e-3);
    let law = Law::Gaussian(Gaussian::isotropic(vec![0.0, 1.0], 0.5).unwrap());
    println!("## particle step, tanh a_w, d = 1, exact population gradient, T = {temperature}");
    println!(
        "| N | K | threads | ms/step | particle-steps/s | unit-evals/s | kernel share | three passes / tabled kernel | load |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    // MFL_BENCH_N=100000 runs one N only
    let ns: Vec<usize> = match std::env::var("MFL_BENCH_N")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        Some(n) => vec![n],
        None => vec![1_000, 10_000, 100_000, 1_000_000],
    };
    for k in [50usize, 170] {
        let mf = problem(k);
        for &n in &ns {
            let dynamics = Dynamics::new(mf.clone(), n, 0.01, Init::Law(law.clone()))
                .unwrap()
                .with_temperature(Temperature::Constant(temperature))
                .unwrap();
            for threads in [1usize, 2] {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                let (step, kernel, tabled) = pool.install(|| {
                    let mut sys = dynamics.system(1).unwrap();
                    let step = time_it(budget, || sys.step().unwrap());
                    // the kernel alone on the current positions: f, r, Ψ and ∇Ψ
                    let theta = sys.theta().to_owned();
                    let w = ndarray::Array1::from_elem(n, 1.0 / n as f64);
                    let (mut f, mut r) = (vec![0.0; k], vec![0.0; k]);
                    let mut psi = vec![0.0; n];
                    let mut grad = Array2::zeros((n, 2));
                    let kernel = time_it(budget / 2.0, || {
                        mf.network_into(mfl_core::Measure::new(theta.view(), w.view()), &mut f);
                        mf.residual_into(&f, &mut r);
                        mf.potential_grad_of_residual_into(
                            &r,
                            theta.view(),
                            &mut psi,
                            grad.view_mut(),
                        );
                    });
                    // the same evaluation by the tabled kernel the step uses (activations of
                    // the network pass reused for Ψ and ∇Ψ, when N·K ≤ TABLE_ENTRIES)
                    let mut table = mfl_core::functional::ridge::Table::default();
                    let tabled = time_it(budget / 2.0, || {
                        mf.self_gradient_into(
                            mfl_core::Measure::new(theta.view(), w.view()),
                            &mut f,
                            &mut r,
                            &mut psi,
                            grad.view_mut(),
                            &mut table,
                        );
                    });
                    (step, kernel, tabled)
                });
                println!(
                    "| {n:.0e} | {k} | {threads} | {:.3} | {:.3e} | {:.3e} | {:.0}% | {:.2} | {} |",
                    step * 1e3,
                    n as f64 / step,
                    2.0 * (n * k) as f64 / step,
                    100.0 * tabled / step,
                    kernel / tabled,
                    load()
                );
            }
        }
    }
}
