//! `mfl solve` end to end: the HDF5 layout, a round trip against the library, a blow-up that
//! names its step and leaves a file marked failed, and a killed run that leaves a readable file.

mod common;
use common::{example, scratch};

use mfl::io::h5::{read_array, read_attr};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn mfl() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mfl"))
}

const SHORT: [&str; 4] = ["--set", "solver.t_end=0.5", "--set", "grid.cells=[64]"];

#[test]
fn solve_writes_the_documented_layout_and_reads_back_equal() {
    let out = scratch("rt.h5");
    let o = mfl()
        .args(["solve", "--quiet"])
        .arg(example("quickstart_1d.toml"))
        .args(SHORT)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(read_attr(&out, "/", "status").unwrap(), "complete");
    let cfg = read_attr(&out, "/", "config").unwrap();
    assert!(
        cfg.contains("t_end = 0.5"),
        "resolved config with overrides: {cfg}"
    );
    let time = read_array(&out, "/time").unwrap();
    let expected: Vec<f64> = (0..11).map(|i| 0.5 * i as f64 / 10.0).collect();
    assert_eq!(time.as_slice().unwrap(), expected.as_slice());
    let dens = read_array(&out, "/density").unwrap();
    assert_eq!(dens.shape(), &[11, 64]);
    assert_eq!(read_array(&out, "/grid/theta_0").unwrap().len(), 64);
    let mass = read_array(&out, "/diagnostics/mass").unwrap();
    assert!(mass.iter().all(|m| (m - 1.0).abs() < 1e-12), "{mass:?}");

    // the library, driven directly with the same resolved config, gives the same bits
    let cfg = mfl::io::build::load(
        &example("quickstart_1d.toml"),
        &["solver.t_end=0.5".into(), "grid.cells=[64]".into()],
    )
    .unwrap();
    let setup = mfl::io::Scenario::new(cfg.clone(), &example(""))
        .unwrap()
        .pde
        .unwrap();
    let mut rec = mfl::pde::Recorder::default();
    let last = mfl::pde::solve(&setup.problem, setup.rho0, &setup.opts, &mut rec).unwrap();
    let from_file: Vec<f64> = dens
        .index_axis(ndarray::Axis(0), 10)
        .iter()
        .copied()
        .collect();
    assert_eq!(from_file, last);
    let risk = read_array(&out, "/diagnostics/risk").unwrap();
    assert_eq!(risk.len(), rec.diagnostics.len());
    for (a, d) in risk.iter().zip(&rec.diagnostics) {
        assert_eq!(a.to_bits(), d.risk.unwrap().to_bits());
    }
}

#[test]
fn blow_up_names_the_step_and_marks_the_file_failed() {
    let out = scratch("blow.h5");
    let o = mfl()
        .args(["solve", "--quiet"])
        .arg(example("quickstart_1d.toml"))
        .args(SHORT)
        .args([
            "--set",
            "solver.dt_min=1.0",
            "--set",
            "output.snapshots=2",
            "-o",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("step 1") && err.contains("t = ") && err.contains("dt_min"),
        "{err}"
    );
    assert!(read_attr(&out, "/", "status")
        .unwrap()
        .starts_with("failed: numerical blow-up at step 1"));
    // the snapshot before the failure is there
    assert_eq!(read_array(&out, "/density").unwrap().shape(), &[1, 64]);
}

#[test]
fn a_killed_run_leaves_a_file_that_opens_with_its_snapshots() {
    let out = scratch("killed.h5");
    let mut child = mfl()
        .args(["solve", "--quiet"])
        .arg(example("quickstart_1d.toml"))
        .args([
            "--set",
            "solver.t_end=5000",
            "--set",
            "output.snapshots=100001",
            "--set",
            "output.diagnostics_every=0.05",
        ])
        .arg("-o")
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    std::thread::sleep(Duration::from_millis(2500));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(start.elapsed() < Duration::from_secs(60));
    // readers of a file a writer died in must not wait on its lock
    std::env::set_var("HDF5_USE_FILE_LOCKING", "FALSE");
    assert_eq!(read_attr(&out, "/", "status").unwrap(), "running");
    let dens = read_array(&out, "/density").unwrap();
    let time = read_array(&out, "/time").unwrap();
    assert!(dens.shape()[0] >= 2, "only {} snapshots", dens.shape()[0]);
    assert!(dens.shape()[0].abs_diff(time.len()) <= 1);
    let vol = 8.0 / 256.0;
    for s in 0..time.len().min(dens.shape()[0]) {
        let m: f64 = dens.index_axis(ndarray::Axis(0), s).sum() * vol;
        assert!((m - 1.0).abs() < 1e-12, "snapshot {s} has mass {m}");
    }
}

#[test]
fn spectral_scheme_writes_the_same_layout_and_rejects_walls() {
    let out = scratch("spectral.h5");
    let o = mfl()
        .args(["solve", "--quiet"])
        .arg(example("deconv_torus_1d.toml"))
        .args([
            "--set",
            "solver.t_end=0.5",
            "--set",
            "grid.cells=[64]",
            "-o",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(read_attr(&out, "/", "status").unwrap(), "complete");
    assert!(read_attr(&out, "/", "solver")
        .unwrap()
        .starts_with("spectral"));
    assert_eq!(read_array(&out, "/density").unwrap().shape(), &[11, 64]);
    let mass = read_array(&out, "/diagnostics/mass").unwrap();
    assert!(mass.iter().all(|m| (m - 1.0).abs() < 1e-12), "{mass:?}");
    assert!(read_array(&out, "/diagnostics/min_density").unwrap().len() >= 2);

    let bad = scratch("spectral_walls.h5");
    let o = mfl()
        .args(["solve", "--quiet"])
        .arg(example("quickstart_1d.toml"))
        .args(["--set", "solver.scheme=\"spectral\"", "-o"])
        .arg(&bad)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("solver.scheme") && err.contains("grid.boundary[0]"),
        "{err}"
    );
}

/// The last of `output.snapshots` evenly spaced times is t_end itself, even where
/// (t_end·(n − 1))/(n − 1) rounds above it (0.2·6/6 = 0.20000000000000004 was rejected as
/// "outside [0, t_end]").
#[test]
fn evenly_spaced_snapshots_end_exactly_at_t_end() {
    let out = scratch("snap7.h5");
    let o = mfl()
        .args(["solve", "--quiet"])
        .arg(example("quickstart_1d.toml"))
        .args(["--set", "solver.t_end=0.2", "--set", "output.snapshots=7"])
        .args(["--set", "grid.cells=[64]", "-o"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let time = read_array(&out, "/time").unwrap();
    assert_eq!(time.len(), 7);
    assert_eq!(time[[6]], 0.2);
}

#[test]
fn a_coarse_data_quadrature_is_warned_about_by_the_run_itself() {
    // gap_1d's Gauss–Hermite-40 rule is 1.4 % off in R(ρ₀) against 80 nodes (a steep tanh
    // teacher); quickstart_1d's composite Legendre rule agrees to 5e-10 relative
    for (name, warns) in [("gap_1d.toml", true), ("quickstart_1d.toml", false)] {
        let o = mfl()
            .args(["solve", "--quiet", "--force"])
            .arg(example(name))
            .args(["--set", "solver.t_end=0.01", "-o"])
            .arg(scratch(&format!("quad-{name}.h5")))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(
            err.contains("data quadrature is coarse"),
            warns,
            "{name}: {err}"
        );
        if warns {
            assert!(err.contains("data.nodes") && err.contains("R(ρ₀)"), "{err}");
        }
    }
}
