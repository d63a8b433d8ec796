//! MMN's isotropic experiment (examples/mmn_isotropic.toml): the radially reduced PDE against
//! N neurons trained by online SGD in R^d, at the config's snapshot times.
//!
//! ```sh
//! cargo run --release --example mmn_isotropic [-- key=value ...]   # e.g. particles.seeds=4
//! ```
//!
//! For each record time it prints R(p_t) of the radial PDE; the seeds' mean population risk
//! R(ρ_N) of the particles, computed exactly through the radial functions
//! ([`mfl::pde::IsotropicKernel::risk_of_particles`]: 1 + (2/N)Σv(|w_i|) + (1/N²)Σ_ij U(w_i, w_j),
//! no data) with its standard error over seeds; the risk on the config's 20 000-sample data set
//! (what `mfl particles` records); V(p_t)/N with V(p) = ∫U(w, w)dρ − ∬U dρdρ (the gap of
//! i.i.d. draws from p_t, exactly: the t = 0 identity of DESIGN.md §1); the mean and standard deviation of |w| for both; and a
//! χ² statistic of the pooled radial histogram against p_t (bins of width 0.1 with expected
//! count ≥ 5, dof = bins − 1; for i.i.d. draws from p_t, χ²/dof ≈ 1 ± √(2/dof)).

use mfl::core::drive::{drive, Observer, Schedule, TimeStepper};
use mfl::io::scenario::Job;
use mfl::io::{build, Scenario};
use mfl::particles::Ensemble;
use mfl::pde::FvRun;
use std::path::Path;

/// (t, R(p_t), p_t) at each record time.
#[derive(Default)]
struct Pde(Vec<(f64, f64, Vec<f64>)>);

impl Observer<FvRun<'_>> for Pde {
    fn record(&mut self, s: &FvRun<'_>) -> Result<(), String> {
        let risk = s
            .problem()
            .field
            .energy(s.density())
            .risk
            .unwrap_or(f64::NAN);
        self.0.push((s.time(), risk, s.density().to_vec()));
        Ok(())
    }
}

/// One seed at one record time: (exact R(ρ_N), R_N on the sample, the radii |w_i|).
type SeedRecord = (f64, f64, Vec<f64>);

/// Per record time: (t, one [`SeedRecord`] per seed).
struct Particles<'k> {
    kernel: &'k mfl::pde::IsotropicKernel,
    rows: Vec<(f64, Vec<SeedRecord>)>,
}

impl Observer<Ensemble<'_>> for Particles<'_> {
    fn record(&mut self, e: &Ensemble<'_>) -> Result<(), String> {
        let mut per_seed = Vec::new();
        for (sys, st) in e.systems().iter().zip(e.stats()) {
            let th = sys.theta().as_standard_layout().into_owned();
            let flat = th.as_slice().ok_or("contiguous")?;
            let exact = self.kernel.risk_of_particles(flat);
            let radii = th.rows().into_iter().map(|w| w.dot(&w).sqrt()).collect();
            per_seed.push((exact, st.risk, radii));
        }
        self.rows.push((e.time(), per_seed));
        Ok(())
    }
}

fn moments(x: impl Iterator<Item = (f64, f64)>) -> (f64, f64) {
    let (mut m, mut m2, mut w) = (0.0, 0.0, 0.0);
    for (v, wt) in x {
        m += wt * v;
        m2 += wt * v * v;
        w += wt;
    }
    let mean = m / w;
    (mean, (m2 / w - mean * mean).max(0.0).sqrt())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cfg = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/mmn_isotropic.toml");
    let sets: Vec<String> = std::env::args().skip(1).collect();
    let sc = Scenario::load(&cfg, &sets, Job::Check)?;
    let kernel = build::radial_kernel(&sc.config, 1)?;
    let pde = sc.pde.as_ref().ok_or("the config has a [solver]")?;
    let p = sc.particles.as_ref().ok_or("the config has [particles]")?;
    let t_end = pde.opts.t_end.min(p.t_end);
    let times: Vec<f64> = pde
        .opts
        .snapshot_times
        .iter()
        .copied()
        .filter(|&t| t <= t_end)
        .collect();

    let clock = std::time::Instant::now();
    let stepper = pde
        .opts
        .stepper
        .build(&pde.problem.grid, pde.problem.temperature)?;
    let mut run = FvRun::new(&pde.problem, stepper, pde.rho0.clone(), pde.opts.dt_min)?;
    let mut rec = Pde::default();
    drive(
        &mut run,
        &Schedule::new(&times, t_end, None)?,
        &mut [&mut rec],
    )
    .map_err(|e| format!("{e:?}"))?;
    let pde_secs = clock.elapsed().as_secs_f64();

    let clock = std::time::Instant::now();
    let mut ens = Ensemble::new(&p.dynamics, &p.eval, &p.seeds)?;
    let mut prec = Particles {
        kernel: &kernel,
        rows: Vec::new(),
    };
    drive(
        &mut ens,
        &Schedule::new(&times, t_end, None)?,
        &mut [&mut prec],
    )
    .map_err(|e| format!("{e:?}"))?;
    let part_secs = clock.elapsed().as_secs_f64();

    let ax = &pde.problem.grid.axes[0];
    let (r, h) = (ax.centres(), ax.h());
    println!(
        "d = {}, Δ = {}, N = {}, {} seed(s), η = {}, radial grid {} cells on [0, {}]; PDE {pde_secs:.1} s, particles (with exact risks) {part_secs:.1} s",
        kernel.dim(),
        kernel.delta(),
        p.dynamics.n,
        p.seeds.len(),
        p.dynamics.eta,
        ax.n,
        ax.hi
    );
    println!(
        "{:>5} {:>11} {:>11} {:>9} {:>11} {:>10} {:>10} {:>15} {:>15} {:>12}",
        "t",
        "R(p_t)",
        "R(ρ_N)",
        "± se",
        "gap",
        "V(p_t)/N",
        "R_N sample",
        "|w|: PDE",
        "|w|: particles",
        "χ²/dof (dof)"
    );
    // V(p) = ∫U(w, w)dρ − ∬U dρdρ: i.i.d. draws from p have E R(ρ_N) − R(p) = V/N exactly
    let self_term: Vec<f64> = r.iter().map(|&x| kernel.self_term(x)).collect();
    let v: Vec<f64> = r.iter().map(|&x| kernel.v(x)).collect();
    for ((t, risk, dens), (tp, seeds)) in rec.0.iter().zip(&prec.rows) {
        assert!((t - tp).abs() < 1e-12);
        let s = seeds.len() as f64;
        let exact: Vec<f64> = seeds.iter().map(|x| x.0).collect();
        let mean = exact.iter().sum::<f64>() / s;
        let se = if seeds.len() > 1 {
            (exact.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (s - 1.0) / s).sqrt()
        } else {
            f64::NAN
        };
        let sample = seeds.iter().map(|x| x.1).sum::<f64>() / s;
        let int = |f: &[f64]| f.iter().zip(dens).map(|(a, q)| a * q).sum::<f64>() * h;
        let quad = risk - 1.0 - 2.0 * int(&v);
        let fluct = (int(&self_term) - quad) / p.dynamics.n as f64;
        let (pm, ps) = moments(r.iter().zip(dens).map(|(x, q)| (*x, q * h)));
        let radii: Vec<f64> = seeds.iter().flat_map(|x| x.2.iter().copied()).collect();
        let (qm, qs) = moments(radii.iter().map(|x| (*x, 1.0)));
        // χ² on bins of 5 cells (width 5h)
        let total = radii.len() as f64;
        let (mut chi2, mut bins) = (0.0, 0usize);
        let (mut acc_e, mut acc_o) = (0.0, 0.0);
        for b in 0..ax.n.div_ceil(5) {
            let (lo, hi) = (b * 5, ((b + 1) * 5).min(ax.n));
            let e: f64 = dens[lo..hi].iter().sum::<f64>() * h * total;
            let (a, c) = (lo as f64 * h, hi as f64 * h);
            let o = radii.iter().filter(|&&x| x >= a && x < c).count() as f64;
            acc_e += e;
            acc_o += o;
            if acc_e >= 5.0 {
                chi2 += (acc_o - acc_e).powi(2) / acc_e;
                bins += 1;
                acc_e = 0.0;
                acc_o = 0.0;
            }
        }
        let dof = bins.saturating_sub(1).max(1);
        println!(
            "{t:>5.1} {risk:>11.6} {mean:>11.6} {se:>9.2e} {:>+11.2e} {fluct:>10.2e} {sample:>10.6} {:>15} {:>15} {:>12}",
            mean - risk,
            format!("{pm:.4} ± {ps:.4}"),
            format!("{qm:.4} ± {qs:.4}"),
            format!("{:.2} ({dof})", chi2 / dof as f64)
        );
    }
    Ok(())
}
