//! Issue 3 "Measure": steps/s and cell-updates/s of the FV steppers (throughput = cells, so
//! criterion's elem/s is cell-updates/s), on 1 and 2 threads, plus a STREAM triad for the
//! memory-bandwidth reference. Results and how to read them: benches/README.md.
//!
//! Cases (K = 170 Gauss–Hermite data points, tanh units, λ = 1e-3, T = 0.05):
//! * `1d_w_general_4096`: θ = w on 4096 cells, general O(M·K) potential path;
//! * `2d_aw_fact_{128,256,512}`: θ = (a, w), factorised potential path;
//! * `2d_aw_general_256`: θ = (a, w) forced onto the general O(M·K) path;
//! * `2d_ou_256`: fixed quadratic potential (the OU problem of benches/ou_pypde.py).
//!
//! Group `general_path` (issue 3, the O(M·K) path at 256², K = 170, (a, w) tanh units): the
//! potential recomputing σ(x_k; θ_m) with the vectorised tanh (what mfl does), against the
//! same potential from a table Φ_mk = σ(x_k; θ_m) built once (M·K·8 = 89 MB) and streamed
//! twice per call (f = Φᵀ(ρ|cell|), Ψ = Φ r), and the STREAM triad, back to back in one run.
//! Throughput is in bytes of Φ streamed (2·M·K·8 per call) for both variants, so criterion's
//! GiB/s compare directly with the triad's.
//!
//! Group `peer_fv` (issue 17): the problem of ../shared/bench/numpy_fv_step.py — θ = (a, w) on
//! [−3, 3] × [−4, 4] (no-flux), σ = a·tanh(w x), y = 1.2 tanh(2x) − 0.8 tanh(0.5x), 171
//! trapezoid nodes on [−8.5, 8.5] (h = 0.1, Gaussian weights; exactly symmetric, so mfl folds
//! them), λ = 0.05, T = 0.05 — at 128², 256², 512², 1 and 2 threads: `flux` = one
//! `SgKernel::rhs_rate` (fluxes, divergence and the positivity rate bound; Ψ given), also on the
//! AVX2 copy (`flux_avx2`) and by the two-pass kernel of main 522f864 (`flux_main522f864`,
//! benches/old_flux.rs); `potential` = Ψ alone (factorised path); `euler` = Ψ + rhs_rate +
//! ρ += dt·k, the unit of work the NumPy peer times. Group `peer_paths`: the same stage on the
//! general O(M·K) path and on the FFT path (see [`peer_paths`]). `benches/peers.sh` runs it with
//! `--output-format bencher` and tabulates it next to the peer.

#[allow(dead_code)]
#[path = "old_flux.rs"]
mod old_flux;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use mfl_core::data::{Inputs, Teacher};
use mfl_core::unit::Unit;
use mfl_core::{Activation, Axis, Boundary, Gaussian, Grid, Law, Loss, MeanField, Param};
use mfl_pde::{
    ExplicitSsprk3, FixedPotential, ImplicitSg, MeanFieldPotential, PotentialField, Stepper,
};
use ndarray::array;
use std::hint::black_box;
use std::time::Duration;

const K: usize = 170;
const T: f64 = 0.05;

fn mean_field(param: Param) -> MeanField {
    let unit = Unit::Ridge {
        act: Activation::Tanh,
        param,
        input_dim: 1,
    };
    let theta = match param {
        Param::AW => array![[1.0, 2.0], [-0.5, 0.7]],
        _ => array![[2.0], [0.7]],
    };
    let teacher = Teacher::new(unit.clone(), theta, vec![1.0, 1.0]).unwrap();
    let data = Inputs::gauss_hermite(1, K).label(&teacher, 0.0).unwrap();
    MeanField::new(unit, Loss::Squared, data, 1e-3).unwrap()
}

struct Case {
    name: String,
    grid: Grid,
    field: Box<dyn PotentialField>,
    rho0: Vec<f64>,
}

fn case_1d() -> Case {
    let grid = Grid::new(vec![Axis::new(-4.0, 4.0, 4096, Boundary::NoFlux).unwrap()]).unwrap();
    let field = MeanFieldPotential::new(mean_field(Param::W), &grid).unwrap();
    let rho0 = Law::Gaussian(Gaussian::new(vec![0.5], vec![1.0]).unwrap())
        .on_grid(&grid)
        .unwrap();
    Case {
        name: "1d_w_general_4096".into(),
        grid,
        field: Box::new(field),
        rho0,
    }
}

fn grid_2d(n: usize) -> Grid {
    Grid::new(vec![
        Axis::new(-3.0, 3.0, n, Boundary::NoFlux).unwrap(),
        Axis::new(-4.0, 4.0, n, Boundary::NoFlux).unwrap(),
    ])
    .unwrap()
}

fn rho_2d(grid: &Grid) -> Vec<f64> {
    Law::Gaussian(Gaussian::new(vec![0.2, 0.3], vec![0.5, 0.1, 0.1, 1.0]).unwrap())
        .on_grid(grid)
        .unwrap()
}

fn case_aw(n: usize, factorised: bool) -> Case {
    let grid = grid_2d(n);
    let mf = mean_field(Param::AW);
    let field = if factorised {
        MeanFieldPotential::new(mf, &grid).unwrap()
    } else {
        MeanFieldPotential::general(mf, &grid).unwrap()
    };
    assert_eq!(field.is_factorised(), factorised);
    Case {
        name: format!("2d_aw_{}_{n}", if factorised { "fact" } else { "general" }),
        rho0: rho_2d(&grid),
        grid,
        field: Box::new(field),
    }
}

fn case_ou() -> Case {
    let grid = grid_2d(256);
    let field = FixedPotential::from_fn(&grid, |x| {
        0.5 * (x[0] * x[0] + x[0] * x[1] + 0.8 * x[1] * x[1])
    })
    .unwrap();
    Case {
        name: "2d_ou_256".into(),
        rho0: rho_2d(&grid),
        grid,
        field: Box::new(field),
    }
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
}

fn steppers(c: &mut Criterion) {
    let mut cases = vec![case_1d()];
    for n in [128, 256, 512] {
        cases.push(case_aw(n, true));
    }
    cases.push(case_aw(256, false));
    cases.push(case_ou());
    for implicit in [false, true] {
        let mut g = c.benchmark_group(if implicit {
            "implicit_step"
        } else {
            "explicit_step"
        });
        g.sample_size(10)
            .measurement_time(Duration::from_secs(2))
            .warm_up_time(Duration::from_millis(500));
        for case in &cases {
            g.throughput(Throughput::Elements(case.grid.len() as u64));
            for threads in [1, 2] {
                let p = pool(threads);
                let h = case.grid.h_min();
                let mut st: Box<dyn Stepper + Send> = if implicit {
                    Box::new(ImplicitSg::new(&case.grid, T, 10.0 * h * h).unwrap())
                } else {
                    Box::new(ExplicitSsprk3::new(&case.grid, T, 0.9).unwrap())
                };
                let mut rho = case.rho0.clone();
                let field = case.field.as_ref();
                g.bench_function(BenchmarkId::new(&case.name, format!("{threads}t")), |b| {
                    p.install(|| {
                        b.iter(|| black_box(st.step(field, &mut rho, f64::INFINITY).unwrap()))
                    })
                });
            }
        }
        g.finish();
    }
}

/// The potential alone (the O(M·K) part) on the general and factorised paths at 256².
fn potentials(c: &mut Criterion) {
    let mut g = c.benchmark_group("potential");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500));
    for case in [case_aw(256, true), case_aw(256, false), case_1d()] {
        g.throughput(Throughput::Elements(case.grid.len() as u64));
        let mut out = vec![0.0; case.grid.len()];
        for threads in [1, 2] {
            let p = pool(threads);
            g.bench_function(BenchmarkId::new(&case.name, format!("{threads}t")), |b| {
                p.install(|| b.iter(|| case.field.potential(black_box(&case.rho0), &mut out)))
            });
        }
    }
    g.finish();
}

/// STREAM triad a = b + s·c on 3 × 64 MiB arrays; throughput in bytes (3 × 8 per element,
/// not counting write-allocate), split over threads in fixed chunks.
fn triad(c: &mut Criterion) {
    use rayon::prelude::*;
    let n = 8 << 20;
    let (mut a, b, cc) = (vec![0.0f64; n], vec![1.0f64; n], vec![2.0f64; n]);
    let mut g = c.benchmark_group("stream_triad");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500));
    g.throughput(Throughput::Bytes((3 * 8 * n) as u64));
    for threads in [1, 2] {
        let p = pool(threads);
        g.bench_function(
            BenchmarkId::new("triad_64MiB", format!("{threads}t")),
            |bch| {
                p.install(|| {
                    bch.iter(|| {
                        let s = black_box(3.0);
                        a.par_chunks_mut(1 << 16)
                            .zip(b.par_chunks(1 << 16))
                            .zip(cc.par_chunks(1 << 16))
                            .for_each(|((x, y), z)| {
                                for ((x, y), z) in x.iter_mut().zip(y).zip(z) {
                                    *x = y + s * z;
                                }
                            });
                    })
                })
            },
        );
    }
    g.finish();
}

/// Φ (M × K, row-major) streamed as two GEMVs, parallel over fixed row blocks (the f partials
/// summed in block order): the tabulated alternative to recomputing σ.
struct Tabulated {
    phi: Vec<f64>,
    k: usize,
    theta: Vec<f64>,
    cell_volume: f64,
    lambda: f64,
}

const ROWS: usize = 512;

/// Σ_i a_i b_i with 8 accumulators (vectorises).
#[inline]
fn dot8(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    let mut s: f64 = acc.iter().sum();
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

impl Tabulated {
    fn new(mf: &MeanField, grid: &Grid) -> Self {
        let c = grid.centres();
        let (m, k) = (grid.len(), mf.data.len());
        let mut phi = vec![0.0; m * k];
        for (i, t) in c.rows().into_iter().enumerate() {
            let t = t.as_slice().unwrap();
            for kk in 0..k {
                phi[i * k + kk] = mf.unit.value(mf.data.x.row(kk).as_slice().unwrap(), t);
            }
        }
        Tabulated {
            phi,
            k,
            theta: c.as_slice().unwrap().to_vec(),
            cell_volume: grid.cell_volume(),
            lambda: mf.lambda,
        }
    }

    fn potential(&self, mf: &MeanField, rho: &[f64], out: &mut [f64]) {
        use rayon::prelude::*;
        let k = self.k;
        let blocks = rho.len().div_ceil(ROWS);
        let mut partial = vec![0.0; blocks * k];
        partial
            .par_chunks_mut(k)
            .zip(self.phi.par_chunks(ROWS * k))
            .zip(rho.par_chunks(ROWS))
            .for_each(|((p, phi), rb)| {
                for (row, r) in phi.chunks_exact(k).zip(rb) {
                    let a = r * self.cell_volume;
                    for (pk, v) in p.iter_mut().zip(row) {
                        *pk += a * v;
                    }
                }
            });
        let mut f = vec![0.0; k];
        for p in partial.chunks_exact(k) {
            for (fk, v) in f.iter_mut().zip(p) {
                *fk += v;
            }
        }
        let r = mf.residual(&f);
        let r = r.as_slice().unwrap();
        let lambda = self.lambda;
        out.par_chunks_mut(ROWS)
            .zip(self.phi.par_chunks(ROWS * k))
            .zip(self.theta.par_chunks(ROWS * 2))
            .for_each(|((o, phi), th)| {
                for ((om, row), t) in o
                    .iter_mut()
                    .zip(phi.chunks_exact(k))
                    .zip(th.chunks_exact(2))
                {
                    *om = dot8(row, r) + 0.5 * lambda * (t[0] * t[0] + t[1] * t[1]);
                }
            });
    }
}

/// The general O(M·K) path at 256²: recomputed (mfl) vs tabulated, and the triad, in one run.
fn general_path(c: &mut Criterion) {
    use rayon::prelude::*;
    let case = case_aw(256, false);
    let mf = mean_field(Param::AW);
    let tab = Tabulated::new(&mf, &case.grid);
    let m = case.grid.len();
    let bytes = (2 * m * K * 8) as u64;
    let mut out = vec![0.0; m];
    let mut out2 = vec![0.0; m];
    // the two variants agree
    case.field.potential(&case.rho0, &mut out);
    tab.potential(&mf, &case.rho0, &mut out2);
    let scale = out.iter().fold(0.0f64, |a, b| a.max(b.abs()));
    for (a, b) in out.iter().zip(&out2) {
        assert!((a - b).abs() <= 1e-12 * scale, "{a} vs {b}");
    }
    let mut g = c.benchmark_group("general_path");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500));
    g.throughput(Throughput::Bytes(bytes));
    let n = 8 << 20;
    let (mut a, b, cc) = (vec![0.0f64; n], vec![1.0f64; n], vec![2.0f64; n]);
    for threads in [1, 2] {
        let p = pool(threads);
        g.throughput(Throughput::Bytes(bytes));
        g.bench_function(
            BenchmarkId::new("recomputed_256", format!("{threads}t")),
            |bch| p.install(|| bch.iter(|| case.field.potential(black_box(&case.rho0), &mut out))),
        );
        g.bench_function(
            BenchmarkId::new("tabulated_256", format!("{threads}t")),
            |bch| p.install(|| bch.iter(|| tab.potential(&mf, black_box(&case.rho0), &mut out2))),
        );
        g.throughput(Throughput::Bytes((3 * 8 * n) as u64));
        g.bench_function(
            BenchmarkId::new("triad_64MiB", format!("{threads}t")),
            |bch| {
                p.install(|| {
                    bch.iter(|| {
                        let s = black_box(3.0);
                        a.par_chunks_mut(1 << 16)
                            .zip(b.par_chunks(1 << 16))
                            .zip(cc.par_chunks(1 << 16))
                            .for_each(|((x, y), z)| {
                                for ((x, y), z) in x.iter_mut().zip(y).zip(z) {
                                    *x = y + s * z;
                                }
                            });
                    })
                })
            },
        );
    }
    g.finish();
}

/// The NumPy peer's problem (module doc, group `peer_fv`) on an n × n grid.
fn peer_case(n: usize) -> (Grid, MeanFieldPotential, Vec<f64>) {
    use mfl_core::data::Data;
    use ndarray::Array1;
    let grid = grid_2d(n);
    let unit = Unit::Ridge {
        act: Activation::Tanh,
        param: Param::AW,
        input_dim: 1,
    };
    let x: Vec<f64> = (0..171).map(|i| 0.1 * (i as f64 - 85.0)).collect();
    let w: Vec<f64> = x
        .iter()
        .map(|v| (-v * v / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt() * 0.1)
        .collect();
    let y: Vec<f64> = x
        .iter()
        .map(|v| 1.2 * (2.0 * v).tanh() - 0.8 * (0.5 * v).tanh())
        .collect();
    let data = Data::new(
        ndarray::Array2::from_shape_vec((171, 1), x).unwrap(),
        Array1::from(y),
        Array1::from(w),
        0.0,
    )
    .unwrap();
    let mf = MeanField::new(unit, Loss::Squared, data, 0.05).unwrap();
    let field = MeanFieldPotential::new(mf, &grid).unwrap();
    assert!(field.is_factorised());
    let rho = Law::Gaussian(Gaussian::new(vec![0.0, 0.0], vec![0.25, 0.0, 0.0, 0.25]).unwrap())
        .on_grid(&grid)
        .unwrap();
    (grid, field, rho)
}

fn peer_fv(c: &mut Criterion) {
    use mfl_core::simd::Isa;
    use mfl_pde::flux::{Layout, SgKernel};
    const TP: f64 = 0.05;
    let mut g = c.benchmark_group("peer_fv");
    g.sample_size(20)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(300));
    for n in [128, 256, 512] {
        let (grid, field, rho0) = peer_case(n);
        let m = grid.len();
        g.throughput(Throughput::Elements(m as u64));
        let mut psi = vec![0.0; m];
        field.potential(&rho0, &mut psi);
        let mut out = vec![0.0; m];
        for threads in [1, 2] {
            let p = pool(threads);
            let id = |what: &str| BenchmarkId::new(what, format!("{n}/{threads}t"));
            let mut k = SgKernel::new(&Layout::new(&grid), TP);
            g.bench_function(id("flux"), |b| {
                p.install(|| b.iter(|| black_box(k.rhs_rate(&psi, &rho0, &mut out))))
            });
            let mut k0 = old_flux::SgKernel::new(&old_flux::Layout::new(&grid), TP);
            g.bench_function(id("flux_main522f864"), |b| {
                p.install(|| b.iter(|| black_box(k0.rhs_rate(&psi, &rho0, &mut out))))
            });
            if Isa::Avx2.available() {
                let mut k2 = SgKernel::new(&Layout::new(&grid), TP).with_isa(Isa::Avx2);
                g.bench_function(id("flux_avx2"), |b| {
                    p.install(|| b.iter(|| black_box(k2.rhs_rate(&psi, &rho0, &mut out))))
                });
            }
            g.bench_function(id("potential"), |b| {
                p.install(|| b.iter(|| field.potential(black_box(&rho0), &mut psi)))
            });
            let mut rho = rho0.clone();
            let mut kk = vec![0.0; m];
            g.bench_function(id("euler"), |b| {
                p.install(|| {
                    b.iter(|| {
                        field.potential(&rho, &mut psi);
                        let rate = k.rhs_rate(&psi, &rho, &mut kk);
                        let dt = 0.9 / rate;
                        for (r, d) in rho.iter_mut().zip(&kk) {
                            *r += dt * d;
                        }
                        black_box(dt)
                    })
                })
            });
        }
    }
    g.finish();
}

/// The MMD problem of examples/mmd_torus_2d.toml (Ψ by FFT) on an n × n torus.
fn fft_case(n: usize) -> (Grid, Box<dyn PotentialField>, Vec<f64>) {
    use mfl_core::data::Teacher;
    use mfl_core::PeriodicKernel;
    use std::f64::consts::TAU;
    let grid = Grid::new(vec![
        Axis::new(0.0, TAU, n, Boundary::Periodic).unwrap(),
        Axis::new(0.0, TAU, n, Boundary::Periodic).unwrap(),
    ])
    .unwrap();
    let unit = Unit::Periodic {
        kernel: PeriodicKernel::Fourier {
            coeffs: (0..=5).map(|l| 1.0 / (1.0 + l as f64).sqrt()).collect(),
        },
        weighted: false,
        input_dim: 2,
    };
    let atoms = ndarray::Array2::from_shape_fn((10, 2), |(i, j)| {
        (0.6 + 1.7 * i as f64 + 2.9 * j as f64 * (i as f64 + 1.0)).rem_euclid(TAU)
    });
    let teacher = Teacher::new(unit.clone(), atoms, vec![0.1; 10]).unwrap();
    let data = Inputs::torus(2, 16).label(&teacher, 0.0).unwrap();
    let mf = MeanField::new(unit, Loss::Squared, data, 0.0).unwrap();
    let field = mfl_pde::mean_field_potential(mf, &grid, mfl_pde::Interaction::Fft).unwrap();
    let c = grid.centres();
    let mut rho: Vec<f64> = c
        .rows()
        .into_iter()
        .map(|t| 1.0 + 0.25 * ((t[0] - 0.3).sin() + (t[1] - 0.3).sin()))
        .collect();
    let mass: f64 = rho.iter().sum::<f64>() * grid.cell_volume();
    rho.iter_mut().for_each(|x| *x /= mass);
    (grid, field, rho)
}

/// Group `peer_paths` (issue 17): the per-stage cost (Ψ, then Ψ + rhs_rate + Euler update) of
/// the general O(M·K) path (the peer's problem at 256² with the factorisation switched off)
/// and of the FFT path (the MMD torus problem at 256²), 1 and 2 threads.
fn peer_paths(c: &mut Criterion) {
    use mfl_pde::flux::{Layout, SgKernel};
    let mut g = c.benchmark_group("peer_paths");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_millis(300));
    let n = 256;
    let (grid, fact, rho0) = peer_case(n);
    let general: Box<dyn PotentialField> =
        Box::new(MeanFieldPotential::general(fact.mean_field().clone(), &grid).unwrap());
    let (tgrid, fft, trho0) = fft_case(n);
    for (name, grid, field, rho0, t) in [
        ("general", &grid, general, rho0, 0.05),
        ("fft", &tgrid, fft, trho0, 0.05),
    ] {
        let m = grid.len();
        g.throughput(Throughput::Elements(m as u64));
        let (mut psi, mut kk) = (vec![0.0; m], vec![0.0; m]);
        for threads in [1, 2] {
            let p = pool(threads);
            let id =
                |what: &str| BenchmarkId::new(format!("{name}_{what}"), format!("{n}/{threads}t"));
            g.bench_function(id("potential"), |b| {
                p.install(|| b.iter(|| field.potential(black_box(&rho0), &mut psi)))
            });
            let mut k = SgKernel::new(&Layout::new(grid), t);
            let mut rho = rho0.clone();
            g.bench_function(id("euler"), |b| {
                p.install(|| {
                    b.iter(|| {
                        field.potential(&rho, &mut psi);
                        let rate = k.rhs_rate(&psi, &rho, &mut kk);
                        let dt = 0.9 / rate;
                        for (r, d) in rho.iter_mut().zip(&kk) {
                            *r += dt * d;
                        }
                        black_box(dt)
                    })
                })
            });
        }
    }
    g.finish();
}

criterion_group!(
    benches,
    steppers,
    potentials,
    triad,
    general_path,
    peer_fv,
    peer_paths
);
criterion_main!(benches);
