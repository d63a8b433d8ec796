//! `mfl solve` with `solver.stepper = "mprk22"` and `solver.extrapolate`: the extrapolated
//! diagnostics and their error estimates land in the output next to the finest run, every
//! output time has a diagnostics row, and bad values name their key.

mod common;
use common::{example, scratch};

use mfl::io::h5::read_array;
use std::process::Command;

fn mfl() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mfl"))
}

const RUN: [&str; 10] = [
    "--set",
    "solver.t_end=2",
    "--set",
    "grid.cells=[48]",
    "--set",
    "solver.stepper=\"mprk22\"",
    "--set",
    "solver.rtol=1e-9",
    "--set",
    "output.times=[0, 0.3, 0.7, 2]",
];

#[test]
fn extrapolate_3_stores_values_estimates_and_orders_on_the_output_times() {
    let out = scratch("extrap3.h5");
    let o = mfl()
        .args(["solve", "--quiet", "--force"])
        .arg(example("quickstart_1d.toml"))
        .args(RUN)
        .args(["--set", "solver.extrapolate=3", "-o"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // the file holds the finest run (48·4 cells) …
    assert_eq!(read_array(&out, "/grid/theta_0").unwrap().len(), 192);
    // … with a diagnostics row at every output time (0.3 and 0.7 are off any interval)
    let dt = read_array(&out, "/diagnostics/time").unwrap();
    for t in [0.0, 0.3, 0.7, 2.0] {
        assert!(dt.iter().any(|&x| x == t), "no diagnostics row at t = {t}");
    }
    let et = read_array(&out, "/extrapolated/time").unwrap();
    assert_eq!(et.as_slice().unwrap(), &[0.0, 0.3, 0.7, 2.0]);
    let risk = read_array(&out, "/extrapolated/risk").unwrap();
    let est = read_array(&out, "/error_estimate/risk").unwrap();
    let order = read_array(&out, "/extrapolated/observed_order_risk").unwrap();
    let fine_t = read_array(&out, "/diagnostics/time").unwrap();
    let fine_r = read_array(&out, "/diagnostics/risk").unwrap();
    for (k, &t) in et.iter().enumerate().skip(1) {
        let i = fine_t.iter().position(|&x| x == t).unwrap();
        // the extrapolated value moves off the finest grid's by more than the estimate of
        // the once-extrapolated value, and the order is the scheme's
        assert!(
            est[k] > 0.0 && est[k] < 1e-3 * risk[k],
            "t = {t}: estimate {}",
            est[k]
        );
        assert!((risk[k] - fine_r[i]).abs() > est[k], "t = {t}");
        assert!(
            (order[k] - 2.0).abs() < 0.2,
            "t = {t}: observed order {}",
            order[k]
        );
    }
    // `mfl plot` draws the error band
    let dir = scratch("extrap3-plots");
    let _ = std::fs::remove_dir_all(&dir);
    let o = mfl()
        .args(["plot", "--quiet"])
        .arg(&out)
        .arg("-o")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let png = std::fs::read(dir.join("extrapolation.png")).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "{} bytes",
        png.len()
    );
    for q in ["free_energy", "energy", "entropy"] {
        assert_eq!(
            read_array(&out, &format!("/extrapolated/{q}"))
                .unwrap()
                .len(),
            4
        );
        assert_eq!(
            read_array(&out, &format!("/error_estimate/{q}"))
                .unwrap()
                .len(),
            4
        );
    }
}

#[test]
fn bad_extrapolate_and_tolerances_name_their_keys() {
    for (set, key) in [
        ("solver.extrapolate=4", "solver.extrapolate"),
        ("solver.rtol=2", "solver.rtol"),
        ("solver.atol=-1", "solver.atol"),
        ("solver.dt=0", "solver.dt"),
    ] {
        let o = mfl()
            .args(["solve", "--quiet", "--force"])
            .arg(example("quickstart_1d.toml"))
            .args(RUN)
            .args(["--set", set, "-o"])
            .arg(scratch("extrap-bad.h5"))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{set} was accepted");
        assert!(err.contains(key), "{set}: {err}");
    }
    // tolerances belong to mprk22
    let o = mfl()
        .args(["check"])
        .arg(example("quickstart_1d.toml"))
        .args(["--set", "solver.rtol=1e-6"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("solver.rtol"));
}
