//! `mfl compare` end to end: bad input by key, the /compare layout, thread-independent bits,
//! and the shipped gap examples' claims.

mod common;
use common::{example, scratch};

use mfl::io::h5::{read_array, read_attr};
use std::path::Path;
use std::process::Command;

fn compare(cfg: &str, sets: &[&str], out: &Path, extra: &[&str]) -> (bool, String, String) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mfl"));
    c.args(["compare", "--quiet"]).arg(example(cfg));
    for s in sets {
        c.args(["--set", s]);
    }
    let o = c.args(extra).arg("-o").arg(out).output().unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// A small, fast version of examples/gap_1d.toml.
const SMALL: &[&str] = &[
    "compare.n=[8, 16, 32]",
    "compare.seeds=12",
    "compare.times=[0.0, 0.2]",
    "grid.cells=[100]",
    "particles.eta=0.02",
];

#[test]
fn bad_compare_settings_are_rejected_by_key() {
    let out = scratch("bad.h5");
    for (sets, needle) in [
        (vec!["compare.n=[8, 16]"], "compare.n"),
        (vec!["compare.n=[16, 8, 32]"], "compare.n"),
        (vec!["compare.seeds=2"], "compare.seeds"),
        (vec!["compare.control=\"magic\""], "compare.control"),
        (vec!["compare.times=[0.0, 9.0]"], "compare.times"),
        (vec!["compare.times=[1.0, 0.5]"], "compare.times"),
        (vec!["particles.confine=false"], "particles.confine"),
        (
            vec![
                "particles.gradient=\"minibatch\"",
                "particles.batch=10",
                "compare.control=\"coupled\"",
            ],
            "compare.control",
        ),
        (vec!["compare.n_min=4"], "compare.n"),
        (
            vec!["compare.equilibrium_from=0.3"],
            "compare.equilibrium_from",
        ),
        (
            vec!["problem.temperature=0.0", "compare.equilibrium_from=0.1"],
            "compare.equilibrium_from",
        ),
        (vec!["compare.bogus=1"], "bogus"),
    ] {
        let mut all: Vec<&str> = SMALL.to_vec();
        all.extend(sets.iter().copied());
        let (ok, _, err) = compare("gap_1d.toml", &all, &out, &[]);
        assert!(!ok, "{sets:?} was accepted");
        assert!(err.contains(needle), "{sets:?}: {err}");
        assert_eq!(
            err.trim().lines().count(),
            1,
            "{sets:?}: one line, got {err}"
        );
    }
    // a config without [compare]
    let o = Command::new(env!("CARGO_BIN_EXE_mfl"))
        .args(["compare", "--quiet"])
        .arg(example("quickstart_1d.toml"))
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("`compare`"));
}

#[test]
fn small_sweep_writes_the_compare_layout_with_the_same_bits_for_any_thread_count() {
    let (a, b) = (scratch("small1.h5"), scratch("small2.h5"));
    let (ok, table, err) = compare("gap_1d.toml", SMALL, &a, &["--threads", "1"]);
    assert!(ok, "{err}");
    assert!(
        table.contains("slope") && table.contains("error budget"),
        "{table}"
    );
    let (ok, _, err) = compare("gap_1d.toml", SMALL, &b, &["--threads", "2"]);
    assert!(ok, "{err}");
    assert_eq!(read_attr(&a, "/", "status").unwrap(), "complete");
    assert_eq!(read_attr(&a, "/", "command").unwrap(), "compare");
    for (name, shape) in [
        ("/compare/n", vec![3]),
        ("/compare/time", vec![2]),
        ("/compare/gap_risk", vec![3, 2]),
        ("/compare/gap_risk_se", vec![3, 2]),
        ("/compare/spread_risk", vec![3, 2]),
        ("/compare/variance_reduction", vec![3, 2]),
        ("/compare/distance", vec![3, 2]),
        ("/compare/slope", vec![2]),
        ("/compare/slope_lo", vec![2]),
        ("/compare/slope_hi", vec![2]),
        ("/compare/prefactor", vec![2]),
        ("/compare/pde_risk", vec![2]),
        ("/compare/pde_fluctuation", vec![2]),
        ("/compare/pde_error", vec![2]),
        ("/compare/step_bias", vec![2]),
        ("/compare/trustworthy", vec![2]),
        ("/density", vec![5, 100]),
    ] {
        let x = read_array(&a, name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(x.shape(), shape.as_slice(), "{name}");
        let y = read_array(&b, name).unwrap();
        assert!(
            x.iter()
                .zip(y.iter())
                .all(|(p, q)| p.to_bits() == q.to_bits()),
            "{name} differs between 1 and 2 threads"
        );
    }
    let n = read_array(&a, "/compare/n").unwrap();
    assert_eq!(n.iter().copied().collect::<Vec<_>>(), vec![8.0, 16.0, 32.0]);
    // at t = 0 nothing has moved: the η/2 rerun agrees exactly
    assert_eq!(read_array(&a, "/compare/step_bias").unwrap()[[0]], 0.0);
}

#[test]
fn every_compare_example_runs_shortened() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let text = std::fs::read_to_string(&p).unwrap_or_default();
        if p.extension().is_none_or(|x| x != "toml") || !text.contains("[compare]") {
            continue;
        }
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let out = scratch(&format!("short-{name}.h5"));
        let mut sets = if text.contains("n_min") {
            vec!["compare.n_min=4", "compare.n_max=16"]
        } else {
            vec!["compare.n=[4, 8, 16]"]
        };
        sets.extend([
            "compare.seeds=4",
            "compare.times=[0.0, 0.025, 0.05]",
            "compare.equilibrium_from=0.02",
            "solver.t_end=0.05",
            "particles.t_end=0.05",
            "particles.eta=0.025",
        ]);
        let (ok, table, err) = compare(&name, &sets, &out, &[]);
        assert!(ok, "{name}: {err}");
        assert!(table.contains("slope"), "{name}: {table}");
        assert!(
            table.contains("equilibrium: time averages over 2"),
            "{name}: {table}"
        );
        let g = read_array(&out, "/compare/equilibrium/gap_risk").unwrap();
        assert_eq!(g.shape(), &[3]);
        assert!(g.iter().all(|v| v.is_finite()));
        n += 1;
    }
    assert!(n >= 2, "expected the gap examples, found {n}");
}

/// The claims of examples/gap_1d.toml at its earlier, CI-sized settings (N = 16 … 512,
/// η = 5e-3, t ≤ 2; the shipped t ≤ 4, N ≤ 2048 study takes minutes and is measured in
/// examples/README.md): at t = 2 the slope lies in [−1.15, −0.85], within 3 of its
/// seed-jackknife standard errors of −1 (a single fixed set of seeds: a 95% interval misses
/// −1 one time in twenty by design, 3 se one time in ~400), every budget row is trustworthy, C(0) = V(ρ₀) within 3 se (the exact t = 0
/// identity), and the adjoint control variate's variance reduction grows with N at every t.
#[test]
fn gap_1d_example_has_slope_minus_one_at_t2_within_its_error_budget() {
    let out = scratch("gap_1d.h5");
    let sets = [
        "compare.n=[16, 32, 64, 128, 256, 512]",
        "compare.times=[0.0, 0.5, 1.0, 2.0]",
        "solver.t_end=2.0",
        "particles.t_end=2.0",
        "particles.eta=0.005",
    ];
    let (ok, table, err) = compare("gap_1d.toml", &sets, &out, &[]);
    assert!(ok, "{err}");
    eprintln!("{table}");
    let time = read_array(&out, "/compare/time").unwrap();
    let j = time.iter().position(|&t| t == 2.0).expect("t = 2 recorded");
    let slope = read_array(&out, "/compare/slope").unwrap()[[j]];
    let (lo, hi) = (
        read_array(&out, "/compare/slope_lo").unwrap()[[j]],
        read_array(&out, "/compare/slope_hi").unwrap()[[j]],
    );
    assert!(
        (-1.15..=-0.85).contains(&slope),
        "slope {slope} [{lo}, {hi}]"
    );
    // the interval is the Student t with S − 1 = 199 degrees of freedom: se = half-width/1.972
    let se = 0.5 * (hi - lo) / 1.972;
    assert!((slope + 1.0).abs() <= 3.0 * se, "slope {slope} ± {se}");
    assert!(hi - lo < 0.2, "95% CI [{lo}, {hi}]");
    let trusted = read_array(&out, "/compare/trustworthy").unwrap();
    assert!(trusted.iter().all(|&v| v == 1.0), "budget: {table}");
    // t = 0: the prefactor of gap = C/N is V(ρ₀) within its standard error (the exact
    // identity), up to the O(h²) difference between the grid measure and the particles' law
    let c = read_array(&out, "/compare/inverse_n_prefactor").unwrap()[[0]];
    let c_se = read_array(&out, "/compare/inverse_n_prefactor_se").unwrap()[[0]];
    let v0 = read_array(&out, "/compare/pde_fluctuation").unwrap()[[0]];
    assert!(
        (c - v0).abs() < 3.0 * c_se,
        "C(0) = {c} ± {c_se}, V(ρ₀) = {v0}"
    );
    // the adjoint control variate: VR at N = 512 at least 8× VR at N = 16 (it grows ∝ N when
    // only the O(1/N) remainder is left), and the per-seed data behind it are stored
    let vr = read_array(&out, "/compare/variance_reduction").unwrap();
    for j in 0..time.len() {
        assert!(vr[[5, j]] > 8.0 * vr[[0, j]], "t = {}: VR {vr:?}", time[j]);
    }
    let z = read_array(&out, "/compare/samples/z_risk").unwrap();
    assert_eq!(z.shape(), &[6, 4, 200]);
    assert!(read_attr(&out, "/compare", "reference")
        .unwrap()
        .contains("continuous-time"));
}
