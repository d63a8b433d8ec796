//! `mfl particles` end to end: bad input, and the same bits whatever `--threads` says.

mod common;
use common::{example, scratch};

use mfl::io::h5::read_array;
use std::path::Path;
use std::process::Command;

fn particles(extra: &[&str], out: &Path) -> (bool, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_mfl"))
        .args(["particles", "--quiet"])
        .arg(example("quickstart_1d.toml"))
        .args([
            "--set",
            "particles.t_end=0.2",
            "--set",
            "output.snapshots=3",
        ])
        .args(extra)
        .arg("-o")
        .arg(out)
        .output()
        .unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn bad_particle_settings_are_rejected_by_key() {
    let out = scratch("bad.h5");
    for (extra, needle) in [
        (vec!["--n", "0"], "particles.n"),
        (vec!["--set", "particles.eta=0"], "particles.eta"),
        (vec!["--set", "particles.eta=-0.1"], "particles.eta"),
        (
            vec![
                "--set",
                "particles.gradient=minibatch",
                "--set",
                "data.kind=samples",
                "--set",
                "data.n=20",
                "--set",
                "particles.batch=50",
            ],
            "particles.batch",
        ),
        (vec!["--set", "init.mean=[0.0, 1.0]"], "init.mean"),
        (
            vec!["--set", "particles.gradient=sgd"],
            "particles.gradient",
        ),
    ] {
        let (ok, err) = particles(&extra, &out);
        assert!(!ok, "{extra:?} accepted");
        assert!(err.contains(needle), "{extra:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
}

#[test]
fn same_seed_same_bits_with_one_or_two_threads() {
    let a = scratch("t1.h5");
    let b = scratch("t2.h5");
    for (threads, out) in [("1", &a), ("2", &b)] {
        let (ok, err) = particles(
            &[
                "--threads",
                threads,
                "--n",
                "300",
                "--seeds",
                "3",
                "--set",
                "particles.gradient=minibatch",
                "--set",
                "particles.batch=64",
            ],
            out,
        );
        assert!(ok, "{err}");
    }
    for name in [
        "/particles/risk",
        "/particles/final_theta",
        "/particles/mean",
    ] {
        let x = read_array(&a, name).unwrap();
        let y = read_array(&b, name).unwrap();
        assert_eq!(x.shape(), y.shape());
        assert!(
            x.iter()
                .zip(y.iter())
                .all(|(p, q)| p.to_bits() == q.to_bits()),
            "{name} differs"
        );
    }
    // and different seeds do differ
    let r = read_array(&a, "/particles/risk").unwrap();
    assert_ne!(r[[0, 2]], r[[1, 2]]);
}
