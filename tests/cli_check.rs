//! `mfl check` through the binary: the resolved problem, and one clear message with a non-zero
//! exit for every kind of bad config.

mod common;
use common::{example, scratch};

use std::path::{Path, PathBuf};
use std::process::Command;

fn mfl() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mfl"))
}

/// Run `mfl check` on the quick-start config with overrides; return (success, stderr).
fn check_with(sets: &[&str]) -> (bool, String) {
    let mut c = mfl();
    c.arg("check").arg(example("quickstart_1d.toml"));
    for s in sets {
        c.arg("--set").arg(s);
    }
    let out = c.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn assert_rejected(sets: &[&str], needles: &[&str]) {
    let (ok, err) = check_with(sets);
    assert!(!ok, "{sets:?} was accepted");
    for n in needles {
        assert!(err.contains(n), "{sets:?}: message {err:?} lacks {n:?}");
    }
    assert_eq!(err.trim_end().lines().count(), 1, "one line, got {err:?}");
}

#[test]
fn good_config_prints_the_resolved_problem() {
    let out = mfl()
        .arg("check")
        .arg(example("quickstart_1d.toml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "tanh(w·x)",
        "θ ∈ R^1, x ∈ R^1",
        "gaussian (192 points",
        "256 cells",
        "T = 0.02",
        "λ = 0.01",
        "quadrature error estimate",
        "fv Explicit { cfl: 0.5 }",
        "first dt",
    ] {
        assert!(s.contains(needle), "missing {needle:?} in\n{s}");
    }
}

#[test]
fn bad_values_name_their_key() {
    assert_rejected(&["problem.temperature=-1"], &["problem.temperature", "≥ 0"]);
    assert_rejected(&["grid.hi=[-4.0]"], &["grid.hi", "inverted"]);
    assert_rejected(&["grid.lo=[5.0]"], &["grid.hi", "inverted"]);
    assert_rejected(&["grid.lo=[4.0]"], &["grid.hi", "empty"]);
    assert_rejected(&["data.nodes=0"], &["data.nodes", "0 quadrature nodes"]);
    assert_rejected(
        &["teacher.theta=[[1.0, 2.0]]"],
        &["teacher.theta", "needs 1"],
    );
    assert_rejected(
        &["unit.activation=gelu"],
        &[
            "unit.activation",
            "gelu",
            "tanh, relu, sigmoid, erf, softplus, linear",
        ],
    );
    assert_rejected(&["problem.lambda=-0.5"], &["problem.lambda"]);
    assert_rejected(&["grid.cells=[64, 64]"], &["grid.cells", "dimension 1"]);
    assert_rejected(&["init.std=0.0"], &["init.std"]);
    assert_rejected(&["problem.colour=1"], &["unknown field `colour`"]);
    assert_rejected(&["solver.t_end=\"soon\""], &["t_end"]);
}

fn csv_config(csv: &Path) -> PathBuf {
    let cfg = scratch(&format!(
        "{}.toml",
        csv.file_name().unwrap().to_string_lossy()
    ));
    std::fs::write(
        &cfg,
        format!(
            "[unit]\nactivation = \"tanh\"\n[data]\nkind = \"csv\"\npath = \"{}\"\n",
            csv.display()
        ),
    )
    .unwrap();
    cfg
}

fn check_file(cfg: &Path) -> (bool, String) {
    let out = mfl().arg("check").arg(cfg).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn data_files_are_checked_line_by_line() {
    let good = scratch("good.csv");
    std::fs::write(&good, "x,y\n0.5,1.0\n-1.0,0.25\n").unwrap();
    let (ok, err) = check_file(&csv_config(&good));
    assert!(ok, "{err}");

    let missing = scratch("missing.csv");
    let (ok, err) = check_file(&csv_config(&missing));
    assert!(!ok && err.contains("missing.csv"), "{err}");

    let ragged = scratch("ragged.csv");
    std::fs::write(&ragged, "x,y\n0.5,1.0\n-1.0\n").unwrap();
    let (ok, err) = check_file(&csv_config(&ragged));
    assert!(
        !ok && err.contains("ragged.csv") && err.contains("line 3") && err.contains("columns"),
        "{err}"
    );

    let nan = scratch("nan.csv");
    std::fs::write(&nan, "0.5,1.0\n0.1,NaN\n").unwrap();
    let (ok, err) = check_file(&csv_config(&nan));
    assert!(
        !ok && err.contains("nan.csv") && err.contains("line 2") && err.contains("finite"),
        "{err}"
    );

    let binary = scratch("binary.csv");
    std::fs::write(&binary, [0xffu8, 0xfe, 0x00, 0x41]).unwrap();
    let (ok, err) = check_file(&csv_config(&binary));
    assert!(!ok && err.contains("binary.csv"), "{err}");
}

#[test]
fn missing_and_malformed_config_files() {
    let out = mfl()
        .arg("check")
        .arg("/nonexistent/mfl.toml")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/mfl.toml"));
    let bad = scratch("bad.toml");
    std::fs::write(&bad, "[problem\ntemperature = 1\n").unwrap();
    let (ok, err) = check_file(&bad);
    assert!(!ok && err.contains("bad.toml"), "{err}");
}
