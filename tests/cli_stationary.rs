//! `mfl stationary` end to end: the HDF5 layout and a round trip against the library, the
//! stationary state being exactly stationary for `mfl solve` started from it, a run that does
//! not converge (one error line naming the last residual, non-zero exit, best iterate written,
//! status failed), and bad `[stationary]` keys rejected with one line naming the key.

mod common;
use common::{example, scratch};

use mfl::io::h5::{read_array, read_attr, read_attr_f64};
use std::process::Command;

fn mfl() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mfl"))
}

const SHORT: [&str; 4] = [
    "--set",
    "grid.cells=[96]",
    "--set",
    "stationary.temperatures=[0.1, 0.05]",
];

#[test]
fn stationary_writes_the_documented_layout_and_reads_back_equal() {
    let out = scratch("st.h5");
    let o = mfl()
        .args(["stationary", "--quiet"])
        .arg(example("stationary_1d.toml"))
        .args(SHORT)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("T = 0.05: converged"), "{stdout}");
    assert!(stdout.contains("predicted rate of F − F*: 2κ"), "{stdout}");
    assert_eq!(read_attr(&out, "/", "status").unwrap(), "complete");
    assert_eq!(read_attr(&out, "/", "command").unwrap(), "stationary");
    let temps = read_array(&out, "/stationary/temperature").unwrap();
    assert_eq!(temps.as_slice().unwrap(), &[0.1, 0.05]);
    let dens = read_array(&out, "/stationary/density").unwrap();
    assert_eq!(dens.shape(), &[2, 96]);
    assert_eq!(
        read_array(&out, "/stationary/slow_mode").unwrap().shape(),
        &[2, 96]
    );
    let res = read_array(&out, "/stationary/residual").unwrap();
    assert!(res.iter().all(|r| *r <= 1e-12), "{res:?}");
    let hist = read_array(&out, "/stationary/history/residual").unwrap();
    let iters = read_array(&out, "/stationary/iterations").unwrap();
    assert_eq!(hist.len() as f64, iters.sum() + 2.0);
    let f = read_array(&out, "/stationary/free_energy").unwrap();
    assert_eq!(read_attr_f64(&out, "/", "f_star").unwrap(), f[1]);
    let rate = read_array(&out, "/stationary/rate").unwrap();
    assert!(rate.iter().all(|r| *r > 0.0 && r.is_finite()));

    // the library, driven with the same resolved config, gives the same bits
    let sets: Vec<String> = vec![
        "grid.cells=[96]".into(),
        "stationary.temperatures=[0.1, 0.05]".into(),
    ];
    let cfg = mfl::io::build::load(&example("stationary_1d.toml"), &sets).unwrap();
    let s = mfl::io::scenario::stationary::setup(
        &mfl::io::Scenario::new(cfg.clone(), &example("")).unwrap(),
    )
    .unwrap();
    let pts = mfl::pde::stationary::continuation(
        &s.grid,
        s.field.as_ref(),
        Some(&s.mf),
        &s.settings.temperatures,
        &s.psi0,
        &s.settings.opts,
        s.settings.rates.as_ref(),
        &mut |_| Ok(()),
    )
    .unwrap();
    let last: Vec<f64> = dens
        .index_axis(ndarray::Axis(0), 1)
        .iter()
        .copied()
        .collect();
    assert_eq!(last, pts[1].state.rho);
    assert_eq!(
        rate[1].to_bits(),
        pts[1].mode.as_ref().unwrap().rate.to_bits()
    );

    // `mfl plot` draws R, F and 2κ against T
    let dir = scratch("st_plots");
    let o = mfl()
        .args(["plot", "--quiet"])
        .arg(&out)
        .arg("-o")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let png = std::fs::read(dir.join("stationary.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
}

#[test]
fn the_stationary_state_is_stationary_for_mfl_solve() {
    // ρ* written by `mfl stationary` as the initial density of `mfl solve` (init kind =
    // "snapshot" reads /density, so copy it there through the library), then F stays at F*.
    let out = scratch("st_solve.h5");
    let o = mfl()
        .args(["stationary", "--quiet"])
        .arg(example("stationary_1d.toml"))
        .args(SHORT)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let f_star = read_attr_f64(&out, "/", "f_star").unwrap();
    let sets: Vec<String> = vec![
        "grid.cells=[96]".into(),
        "problem.temperature=0.05".into(),
        "solver.t_end=20.0".into(),
        "solver.dt=1.0".into(),
    ];
    let cfg = mfl::io::build::load(&example("stationary_1d.toml"), &sets).unwrap();
    let mut setup = mfl::io::Scenario::new(cfg.clone(), &example(""))
        .unwrap()
        .pde
        .unwrap();
    let dens = read_array(&out, "/stationary/density").unwrap();
    setup.rho0 = dens
        .index_axis(ndarray::Axis(0), 1)
        .iter()
        .copied()
        .collect();
    let mut rec = mfl::pde::Recorder::default();
    mfl::pde::solve(&setup.problem, setup.rho0, &setup.opts, &mut rec).unwrap();
    for d in &rec.diagnostics {
        // F_h at ρ* is stationary to round-off of F (≈ 1e-15 relative per step)
        assert!(
            (d.free_energy - f_star).abs() < 1e-13,
            "t = {}: {}",
            d.t,
            d.free_energy
        );
        assert!(
            d.gibbs_residual < 1e-11,
            "t = {}: {}",
            d.t,
            d.gibbs_residual
        );
    }
}

#[test]
fn no_convergence_is_one_line_naming_the_residual_and_a_failed_file() {
    let out = scratch("st_fail.h5");
    let o = mfl()
        .args(["stationary", "--quiet"])
        .arg(example("stationary_1d.toml"))
        .args(SHORT)
        .args(["--set", "stationary.max_iter=3", "-o"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("not converged at T = 0.1"), "{err}");
    assert!(err.contains("last residual"), "{err}");
    let status = read_attr(&out, "/", "status").unwrap();
    assert!(status.starts_with("failed: not converged"), "{status}");
    // the best iterate is written, labelled not converged
    assert_eq!(
        read_array(&out, "/stationary/density").unwrap().shape(),
        &[1, 96]
    );
    assert_eq!(read_array(&out, "/stationary/converged").unwrap()[0], 0.0);
}

#[test]
fn bad_stationary_keys_are_rejected_naming_the_key() {
    for (set, key) in [
        ("stationary.tolerance=1e-9", "tolerance"),
        ("stationary.damping=1.5", "stationary.damping"),
        ("stationary.tol=0", "stationary.tol"),
        (
            "stationary.temperatures=[0.1, 0.2]",
            "stationary.temperatures",
        ),
        (
            "stationary.temperatures=[0.1, -0.2]",
            "stationary.temperatures",
        ),
        ("stationary.krylov_dim=1", "stationary.krylov_dim"),
        ("stationary.rate_tol=2", "stationary.rate_tol"),
    ] {
        for cmd in ["stationary", "check"] {
            let mut c = mfl();
            c.args([cmd, "--set", set])
                .arg(example("stationary_1d.toml"));
            if cmd == "stationary" {
                c.args(["--quiet", "-o"]).arg(scratch("bad.h5"));
            }
            let o = c.output().unwrap();
            assert!(!o.status.success(), "{cmd} {set}");
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(err.trim().lines().count(), 1, "{cmd} {set}: {err}");
            assert!(err.contains(key), "{cmd} {set}: {err}");
        }
    }
}

/// Stops a time run at the first diagnostics record with Gibbs residual ≤ the target.
struct StopAt {
    target: f64,
    reached: Option<f64>,
}

impl mfl::pde::Observer for StopAt {
    fn diagnostics(&mut self, d: &mfl::pde::Diagnostics) -> Result<(), String> {
        if d.gibbs_residual <= self.target {
            self.reached = Some(d.t);
            return Err("reached".into());
        }
        Ok(())
    }
}

/// benches/README.md "Stationary states": wall time to Gibbs residual 1e-10 by the fixed point
/// vs by implicit time stepping (residual checked every 10 steps) on the same grid.
/// `cargo test --release --test cli_stationary -- --ignored --nocapture time_to_residual`
#[test]
#[ignore]
fn time_to_residual_1e10_stationary_vs_time_stepping() {
    use std::time::Instant;
    let target = 1e-10;
    for (name, t, dts) in [
        ("stationary_1d.toml", 0.02, vec![0.05, 0.5, 2.0]),
        ("two_layer_2d.toml", 0.01, vec![0.2, 1.0, 2.0]),
    ] {
        let sets = vec![
            format!("problem.temperature={t}"),
            format!("stationary.temperatures=[{t}]"),
            format!("stationary.tol={target}"),
        ];
        let cfg = mfl::io::build::load(&example(name), &sets).unwrap();
        let s = mfl::io::scenario::stationary::setup(
            &mfl::io::Scenario::new(cfg.clone(), &example("")).unwrap(),
        )
        .unwrap();
        let t0 = Instant::now();
        let st =
            mfl::pde::stationary(&s.grid, s.field.as_ref(), t, &s.psi0, &s.settings.opts).unwrap();
        let t_fp = t0.elapsed().as_secs_f64();
        assert!(st.converged);
        eprintln!(
            "{name} T = {t} ({} cells): stationary {:.3} s ({} iterations, residual {:.1e})",
            s.grid.len(),
            t_fp,
            st.evaluations - 1,
            st.residual
        );
        for dt in dts {
            let mut sets = sets.clone();
            sets.push("solver.stepper=\"implicit\"".into());
            sets.push(format!("solver.dt={dt}"));
            sets.push("solver.t_end=100000.0".into());
            sets.push("output.snapshots=0".into());
            sets.push(format!("output.diagnostics_every={}", 10.0 * dt));
            let cfg = mfl::io::build::load(&example(name), &sets).unwrap();
            let setup = mfl::io::Scenario::new(cfg.clone(), &example(""))
                .unwrap()
                .pde
                .unwrap();
            let mut stop = StopAt {
                target,
                reached: None,
            };
            let t0 = Instant::now();
            let _ = mfl::pde::solve(&setup.problem, setup.rho0, &setup.opts, &mut stop);
            let t_ts = t0.elapsed().as_secs_f64();
            eprintln!(
                "  implicit dt = {dt}: residual ≤ {target:e} at t = {:?} after {t_ts:.2} s: {:.0}× slower",
                stop.reached,
                t_ts / t_fp
            );
        }
    }
}

/// The predicted slow mode y is what the scheme does: started at ρ* + εy, the FV run's
/// F − F* decays at the predicted 2κ (temperature_sweep.toml at T = 0.2, implicit dt = 0.01:
/// its own bias −κdt ≈ −0.2 %).
#[test]
fn a_run_started_on_the_slow_mode_decays_at_the_predicted_rate() {
    let t = 0.2;
    let sets = vec![
        format!("problem.temperature={t}"),
        format!("stationary.temperatures=[{t}]"),
        "solver.t_end=40.0".into(),
        "output.diagnostics_every=0.1".into(),
        "output.snapshots=0".into(),
    ];
    let cfg = mfl::io::build::load(&example("temperature_sweep.toml"), &sets).unwrap();
    let s = mfl::io::scenario::stationary::setup(
        &mfl::io::Scenario::new(cfg.clone(), &example("")).unwrap(),
    )
    .unwrap();
    let pts = mfl::pde::stationary::continuation(
        &s.grid,
        s.field.as_ref(),
        Some(&s.mf),
        &s.settings.temperatures,
        &s.psi0,
        &s.settings.opts,
        s.settings.rates.as_ref(),
        &mut |_| Ok(()),
    )
    .unwrap();
    let p = &pts[0];
    let mode = p.mode.as_ref().unwrap();
    // ε so that ρ* + εy ≥ ρ*/2
    let ratio = p
        .state
        .rho
        .iter()
        .zip(&mode.vector)
        .map(|(r, y)| y.abs() / r)
        .fold(0.0f64, f64::max);
    let eps = 0.5 / ratio;
    let mut setup = mfl::io::Scenario::new(cfg.clone(), &example(""))
        .unwrap()
        .pde
        .unwrap();
    setup.rho0 = p
        .state
        .rho
        .iter()
        .zip(&mode.vector)
        .map(|(r, y)| r + eps * y)
        .collect();
    let mut rec = mfl::pde::Recorder::default();
    mfl::pde::solve(&setup.problem, setup.rho0, &setup.opts, &mut rec).unwrap();
    let ts: Vec<f64> = rec.diagnostics.iter().map(|d| d.t).collect();
    let fs: Vec<f64> = rec.diagnostics.iter().map(|d| d.free_energy).collect();
    let fit = mfl::pde::fit_decay(&ts, &fs, p.diagnostics.free_energy).unwrap();
    eprintln!("predicted 2κ = {}, fitted {fit:?}", mode.rate);
    assert!((fit.rate / mode.rate - 1.0).abs() < 0.01);
}

/// `mfl solve` at T > 0 stores F* and the decay fit; `mfl plot run.h5 st.h5` puts the predicted
/// rate of the stationary file next to the fit (energy.png) and draws stationary.png.
#[test]
fn solve_stores_the_decay_fit_and_plot_takes_the_predicted_rate() {
    let (st, run) = (scratch("pl_st.h5"), scratch("pl_run.h5"));
    let o = mfl()
        .args(["stationary", "--quiet"])
        .arg(example("stationary_1d.toml"))
        .args(SHORT)
        .arg("-o")
        .arg(&st)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = mfl()
        .args(["solve", "--quiet"])
        .arg(example("stationary_1d.toml"))
        .args([
            "--set",
            "grid.cells=[96]",
            "--set",
            "problem.temperature=0.05",
            "--set",
            "solver.t_end=150.0",
            "--set",
            "solver.dt=0.5",
            "-o",
        ])
        .arg(&run)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // the same F* (the same discrete Gibbs state) in both files
    let (f1, f2) = (
        read_attr_f64(&run, "/", "f_star").unwrap(),
        read_attr_f64(&st, "/", "f_star").unwrap(),
    );
    assert!((f1 - f2).abs() <= 1e-14 * f2.abs().max(1.0), "{f1} vs {f2}");
    let k = read_attr_f64(&run, "/diagnostics", "decay_rate").unwrap();
    let (lo, hi) = (
        read_attr_f64(&run, "/diagnostics", "decay_rate_lo").unwrap(),
        read_attr_f64(&run, "/diagnostics", "decay_rate_hi").unwrap(),
    );
    assert!(lo <= k && k <= hi);
    let predicted = read_array(&st, "/stationary/rate").unwrap()[1];
    assert!(
        (k / predicted - 1.0).abs() < 0.05,
        "fitted {k} vs predicted {predicted}"
    );
    let dir = scratch("pl_plots");
    let o = mfl()
        .args(["plot", "--quiet"])
        .arg(&run)
        .arg(&st)
        .arg("-o")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for f in ["energy.png", "stationary.png"] {
        assert!(dir.join(f).is_file(), "{f}");
    }
}

/// `output.proximal_gap`: one value per snapshot; at the end of a long run it is the gap of
/// the SG generator of Ψ(ρ*) (the proximal Gibbs measure of ρ* is ρ* itself); T = 0 rejected.
#[test]
fn solve_records_the_proximal_gap_per_snapshot() {
    let (st, run) = (scratch("px_st.h5"), scratch("px_run.h5"));
    let o = mfl()
        .args(["stationary", "--quiet"])
        .arg(example("stationary_1d.toml"))
        .args(SHORT)
        .arg("-o")
        .arg(&st)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let base = [
        "--set",
        "grid.cells=[96]",
        "--set",
        "problem.temperature=0.05",
        "--set",
        "solver.t_end=300.0",
        "--set",
        "solver.dt=0.5",
        "--set",
        "output.snapshots=4",
        "--set",
        "output.proximal_gap=true",
    ];
    let o = mfl()
        .args(["solve", "--quiet"])
        .arg(example("stationary_1d.toml"))
        .args(base)
        .arg("-o")
        .arg(&run)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let gap = read_array(&run, "/proximal_gap").unwrap();
    assert_eq!(gap.len(), 4);
    assert!(gap.iter().all(|k| *k > 0.0 && k.is_finite()), "{gap:?}");
    // the gap at ρ* from the stationary file's density
    let cfg = mfl::io::build::load(
        &example("stationary_1d.toml"),
        &["grid.cells=[96]".into(), "problem.temperature=0.05".into()],
    )
    .unwrap();
    let s = mfl::io::scenario::stationary::setup(
        &mfl::io::Scenario::new(cfg.clone(), &example("")).unwrap(),
    )
    .unwrap();
    let dens = read_array(&st, "/stationary/density").unwrap();
    let rho: Vec<f64> = dens
        .index_axis(ndarray::Axis(0), 1)
        .iter()
        .copied()
        .collect();
    let mut psi = vec![0.0; rho.len()];
    s.field.potential(&rho, &mut psi);
    let want = mfl::pde::stationary::proximal_gap(
        &s.grid,
        0.05,
        &psi,
        &mfl::pde::stationary::EigenOptions::default(),
        None,
    )
    .unwrap()
    .kappa;
    assert!((gap[3] / want - 1.0).abs() < 1e-3, "{} vs {want}", gap[3]);
    let o = mfl()
        .args(["solve", "--quiet", "--set", "output.proximal_gap=true"])
        .arg(example("quickstart_1d.toml"))
        .args(["--set", "problem.temperature=0.0", "-o"])
        .arg(scratch("px_bad.h5"))
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("output.proximal_gap"), "{err}");
}
