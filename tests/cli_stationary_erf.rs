//! `mfl stationary` on the erf network in closed form (`[data] quadrature = "closed_form"`):
//! it converges (residual ≤ 1e−12), and its F*, R* and predicted rates agree with the same
//! problem solved from Gauss–Hermite data to within that quadrature's error, estimated by
//! K vs 2K nodes; units the closed form does not cover are refused with one line naming the key.

mod common;
use common::{example, scratch};

use mfl::io::h5::{read_array, read_attr};
use std::process::Command;

fn mfl() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mfl"))
}

/// (F*, R*, rate) per temperature of one `mfl stationary` run.
fn run(cfg: &str, tag: &str, sets: &[&str]) -> Vec<(f64, f64, f64)> {
    let out = scratch(&format!("{tag}.h5"));
    let _ = std::fs::remove_file(&out);
    let mut c = mfl();
    c.args(["stationary", "--quiet"]).arg(example(cfg));
    for s in sets {
        c.args(["--set", s]);
    }
    let o = c.arg("-o").arg(&out).output().unwrap();
    assert!(
        o.status.success(),
        "{tag}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(read_attr(&out, "/", "status").unwrap(), "complete");
    let res = read_array(&out, "/stationary/residual").unwrap();
    assert!(res.iter().all(|r| *r <= 1e-12), "{tag}: {res:?}");
    let f = read_array(&out, "/stationary/free_energy").unwrap();
    let r = read_array(&out, "/stationary/risk").unwrap();
    let k = read_array(&out, "/stationary/rate").unwrap();
    (0..f.len()).map(|i| (f[i], r[i], k[i])).collect()
}

fn agrees_within_quadrature_error(cfg: &str, k: usize, sets: &[&str]) {
    let closed = run(cfg, &format!("{cfg}-closed"), sets);
    let herm = |n: usize| {
        let mut s: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        s.push("data.quadrature=\"hermite\"".into());
        s.push(format!("data.nodes={n}"));
        let s: Vec<&str> = s.iter().map(String::as_str).collect();
        run(cfg, &format!("{cfg}-gh{n}"), &s)
    };
    let (hk, h2k) = (herm(k), herm(2 * k));
    for ((c, a), b) in closed.iter().zip(&hk).zip(&h2k) {
        // Gauss–Hermite converges fast here, so the 2K result is far closer than |K − 2K|:
        // the closed form must sit within that estimate (plus round-off of the solves).
        for (x, (y, z)) in [(c.0, (a.0, b.0)), (c.1, (a.1, b.1)), (c.2, (a.2, b.2))] {
            let est = (y - z).abs();
            assert!(
                (x - z).abs() <= est + 1e-11 * (1.0 + x.abs()),
                "{cfg}: closed {x} vs Gauss–Hermite {z} (2K), |K − 2K| = {est:e}"
            );
        }
    }
}

#[test]
fn closed_form_1d_agrees_with_gauss_hermite_within_its_error() {
    agrees_within_quadrature_error(
        "stationary_erf_1d.toml",
        100,
        &["stationary.temperatures=[0.2, 0.05]"],
    );
}

#[test]
fn closed_form_2d_agrees_with_gauss_hermite_within_its_error() {
    agrees_within_quadrature_error("stationary_erf_2d.toml", 100, &[]);
}

#[test]
fn closed_form_is_refused_for_other_units_and_large_grids() {
    for (sets, key) in [
        (vec!["unit.activation=\"tanh\""], "data.quadrature"),
        (vec!["data.kind=\"torus\""], "data.quadrature"),
        (vec!["grid.cells=[20001]"], "grid"),
    ] {
        let mut c = mfl();
        c.arg("check").arg(example("stationary_erf_1d.toml"));
        for s in &sets {
            c.args(["--set", s]);
        }
        let o = c.output().unwrap();
        assert!(!o.status.success(), "{sets:?} accepted");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(err.contains(key), "{sets:?}: {err}");
    }
}

#[test]
fn compare_refuses_the_closed_form() {
    // R_N of the particles is a quadrature, so R(ρ_t) must be the same one
    let cfg = scratch("cmp_erf.toml");
    let base = std::fs::read_to_string(example("stationary_erf_1d.toml")).unwrap();
    let text = format!(
        "{base}\n[particles]\nn = 10\neta = 0.01\nt_end = 0.1\n\n[compare]\nn = [10, 20]\nseeds = 2\n"
    );
    std::fs::write(&cfg, text).unwrap();
    let o = mfl()
        .arg("compare")
        .arg(&cfg)
        .arg("-o")
        .arg(scratch("cmp_erf.h5"))
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("data.quadrature"), "{err}");
}
