//! Sharded runs end to end: `mfl compare --shard i/k` ×3 merged by `mfl merge` (any order) is
//! the unsharded run bit for bit (every /compare dataset, the per-seed samples, the PDE part,
//! the printed table); missing, duplicated, foreign, unfinished and unsharded files are refused
//! by name; `mfl particles --shard` merges into the unsharded /particles; `mfl solve --sweep
//! --shard` writes one ordinary solve file per point.

mod common;
use common::{example, scratch};

use mfl::io::h5::{list_datasets, read_array, read_attr};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Run mfl with `args`: (success, stdout, stderr).
fn mfl(args: &[&str]) -> (bool, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_mfl"))
        .args(args)
        .output()
        .unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// A small version of examples/gap_1d.toml (adjoint control variate, distances, 1D budget).
const SMALL: &[&str] = &[
    "--set",
    "compare.n=[8, 16, 32]",
    "--set",
    "compare.seeds=7",
    "--set",
    "compare.times=[0.0, 0.1, 0.2]",
    "--set",
    "grid.cells=[80]",
    "--set",
    "particles.eta=0.02",
];

fn compare(out: &Path, extra: &[&str]) -> (bool, String, String) {
    let cfg = example("gap_1d.toml");
    let mut args = vec!["compare", "--quiet", cfg.to_str().unwrap()];
    args.extend_from_slice(SMALL);
    args.extend_from_slice(extra);
    args.extend(["-o", out.to_str().unwrap()]);
    mfl(&args)
}

fn merge(shards: &[&Path], out: &Path) -> (bool, String, String) {
    let mut args = vec!["merge", "--quiet"];
    args.extend(shards.iter().map(|p| p.to_str().unwrap()));
    args.extend(["-o", out.to_str().unwrap()]);
    mfl(&args)
}

/// Every dataset under `group` of `a` is in `b` with the same shape and the same bits.
fn same_bits(a: &Path, b: &Path, group: &str) -> usize {
    let names: Vec<(String, Vec<usize>)> = list_datasets(a)
        .unwrap()
        .into_iter()
        .filter(|(n, _)| n.starts_with(group))
        .collect();
    let other = list_datasets(b).unwrap();
    for (name, shape) in &names {
        assert!(
            other.iter().any(|(n, s)| n == name && s == shape),
            "{name} {shape:?} is not in {}",
            b.display()
        );
        let (x, y) = (read_array(a, name).unwrap(), read_array(b, name).unwrap());
        assert!(
            x.iter()
                .zip(y.iter())
                .all(|(p, q)| p.to_bits() == q.to_bits()),
            "{name} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
    names.len()
}

/// h5diff's verdict on `group` of both files, when h5diff is installed.
fn h5diff(a: &Path, b: &Path, group: &str) -> Option<bool> {
    let o = Command::new("h5diff")
        .args([a, b])
        .args([group, group])
        .output()
        .ok()?;
    Some(o.status.success())
}

#[test]
fn compare_sharded_three_ways_merges_into_the_unsharded_bits() {
    let full = scratch("full.h5");
    let (ok, table, err) = compare(&full, &[]);
    assert!(ok, "{err}");
    let shards: Vec<PathBuf> = (0..3).map(|i| scratch(&format!("s{i}.h5"))).collect();
    let mut held = Vec::new();
    for (i, s) in shards.iter().enumerate() {
        let (ok, out, err) = compare(s, &["--shard", &format!("{i}/3")]);
        assert!(ok, "shard {i}: {err}");
        assert!(out.contains(&format!("shard {i}/3")), "{out}");
        assert_eq!(read_attr(s, "/", "shard").unwrap(), format!("{i}/3"));
        assert_eq!(read_attr(s, "/", "status").unwrap(), "complete");
        let (ok, shown, err) = mfl(&["inspect", s.to_str().unwrap()]);
        assert!(
            ok && shown.contains(&format!("shard       {i}/3")),
            "{shown}{err}"
        );
        // a shard holds its (N, seed) runs, not a partial /compare
        assert!(read_array(s, "/compare/gap_risk").is_err());
        let n = read_array(s, "/shard/n").unwrap();
        let seed = read_array(s, "/shard/seed").unwrap();
        held.extend(
            n.iter()
                .zip(seed.iter())
                .map(|(a, b)| (*a as u64, *b as u64)),
        );
    }
    held.sort_unstable();
    let mut want: Vec<(u64, u64)> = [8, 16, 32]
        .iter()
        .flat_map(|&n| (0..7).map(move |s| (n, s)))
        .collect();
    want.sort_unstable();
    assert_eq!(held.len(), want.len(), "every run in exactly one shard");
    // the (N, seed) pairs are disjoint and cover the sweep (seeds as the config numbers them)
    let mut firsts: Vec<u64> = held.iter().map(|p| p.0).collect();
    firsts.dedup();
    assert_eq!(firsts, vec![8, 16, 32]);
    // cost ∝ N balanced: no shard holds more than one largest-N run above another
    let cost = |s: &PathBuf| read_array(s, "/shard/n").unwrap().sum();
    let costs: Vec<f64> = shards.iter().map(cost).collect();
    let (lo, hi) = costs
        .iter()
        .fold((f64::MAX, 0.0f64), |(l, h), &c| (l.min(c), h.max(c)));
    assert!(hi - lo <= 32.0, "{costs:?}");

    for (k, order) in [[2usize, 0, 1], [0, 1, 2]].iter().enumerate() {
        let merged = scratch(&format!("merged{k}.h5"));
        let files: Vec<&Path> = order.iter().map(|&i| shards[i].as_path()).collect();
        let (ok, printed, err) = merge(&files, &merged);
        assert!(ok, "{err}");
        assert_eq!(printed, table, "the merge prints the unsharded table");
        assert_eq!(read_attr(&merged, "/", "status").unwrap(), "complete");
        assert_eq!(read_attr(&merged, "/", "command").unwrap(), "compare");
        assert_eq!(
            read_attr(&merged, "/", "config_hash").unwrap(),
            read_attr(&full, "/", "config_hash").unwrap()
        );
        let n = same_bits(&full, &merged, "/compare");
        assert!(n > 30, "only {n} datasets under /compare");
        for g in ["/compare/samples", "/density", "/diagnostics", "/time"] {
            assert!(same_bits(&full, &merged, g) >= 1, "{g}");
        }
        // nothing extra either
        assert_eq!(same_bits(&merged, &full, "/compare"), n);
        if let Some(same) = h5diff(&full, &merged, "/compare") {
            assert!(same, "h5diff finds /compare different");
        }
    }

    // refusals, each naming the files, nothing written
    let out = scratch("refused.h5");
    let (ok, _, err) = merge(&[&shards[0], &shards[2]], &out);
    assert!(
        !ok && err.contains("missing: 1/3") && err.contains("s2.h5"),
        "{err}"
    );
    let (ok, _, err) = merge(&[&shards[0], &shards[1], &shards[1]], &out);
    assert!(
        !ok && err.contains("shard 1/3 is given twice") && err.contains("s1.h5"),
        "{err}"
    );
    let foreign = scratch("foreign.h5");
    let (ok, _, err) = compare(
        &foreign,
        &["--set", "problem.temperature=0.03", "--shard", "1/3"],
    );
    assert!(ok, "{err}");
    let (ok, _, err) = merge(&[&shards[0], &foreign, &shards[2]], &out);
    assert!(
        !ok && err.contains("different configs")
            && err.contains("foreign.h5")
            && err.contains("s0.h5"),
        "{err}"
    );
    let (ok, _, err) = merge(&[&shards[0], &shards[1], &full], &out);
    assert!(!ok && err.contains("full.h5 is not a shard"), "{err}");
    // a shard split differently (2 shards) does not complete a 3-way split
    let half = scratch("half.h5");
    let (ok, _, err) = compare(&half, &["--shard", "1/2"]);
    assert!(ok, "{err}");
    let (ok, _, err) = merge(&[&shards[0], &half, &shards[2]], &out);
    assert!(
        !ok && err.contains("different numbers of shards") && err.contains("half.h5"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!out.exists(), "a refused merge writes nothing");
    // the output of a merge is never one of its shards
    let (ok, _, err) = mfl(&[
        "merge",
        "--force",
        shards[0].to_str().unwrap(),
        shards[1].to_str().unwrap(),
        shards[2].to_str().unwrap(),
        "-o",
        shards[1].to_str().unwrap(),
    ]);
    assert!(!ok && err.contains("over the shard"), "{err}");
    assert_eq!(read_attr(&shards[1], "/", "status").unwrap(), "complete");
}

#[test]
fn an_unfinished_shard_is_refused() {
    let s = scratch("unfinished.h5");
    let (ok, _, err) = compare(&s, &["--shard", "0/2"]);
    assert!(ok, "{err}");
    // what a killed shard leaves: status = running
    std::env::set_var("HDF5_USE_FILE_LOCKING", "FALSE");
    let f = hdf5::File::open_rw(&s).unwrap();
    let status: hdf5::types::VarLenUnicode = "running".parse().unwrap();
    f.attr("status").unwrap().write_scalar(&status).unwrap();
    drop(f);
    let (ok, _, err) = merge(&[&s, &s], &scratch("never.h5"));
    assert!(
        !ok && err.contains("unfinished.h5 is not complete (status = running)"),
        "{err}"
    );
}

#[test]
fn bad_shard_options_are_refused_with_the_rule() {
    let out = scratch("bad.h5");
    for (shard, needle) in [
        ("3/3", "0-based and must be in 0..3"),
        ("1", "is not i/k"),
        ("0/0", "at least 1"),
        ("0/100", "every shard needs at least one run"),
    ] {
        let (ok, _, err) = compare(&out, &["--shard", shard]);
        assert!(!ok && err.contains(needle), "--shard {shard}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    assert!(!out.exists());
}

/// A small version of examples/gap_2d.toml: its budget reruns the largest N at η/2.
const SMALL_2D: &[&str] = &[
    "--set",
    "compare.n_min=4",
    "--set",
    "compare.n_max=16",
    "--set",
    "compare.seeds=3",
    "--set",
    "compare.times=[0.0, 0.025, 0.05]",
    "--set",
    "solver.t_end=0.05",
    "--set",
    "particles.t_end=0.05",
    "--set",
    "particles.eta=0.025",
    "--set",
    "grid.cells=[20, 24]",
];

#[test]
fn the_eta_half_reruns_of_a_2d_budget_are_sharded_too() {
    let cfg = example("gap_2d.toml");
    let run = |out: &Path, extra: &[&str]| {
        let mut a = vec!["compare", "--quiet", cfg.to_str().unwrap()];
        a.extend_from_slice(SMALL_2D);
        a.extend_from_slice(extra);
        a.extend(["-o", out.to_str().unwrap()]);
        mfl(&a)
    };
    let full = scratch("full2d.h5");
    let (ok, table, err) = run(&full, &[]);
    assert!(ok, "{err}");
    assert!(table.contains("error budget"), "{table}");
    // 3 N × 3 seeds and 3 η/2 reruns: 12 units, one per shard — some hold only a rerun
    let shards: Vec<PathBuf> = (0..12).map(|i| scratch(&format!("s2d{i}.h5"))).collect();
    let mut reruns = 0;
    for (i, s) in shards.iter().enumerate() {
        let (ok, out, err) = run(s, &["--shard", &format!("{i}/12")]);
        assert!(ok, "{err}");
        if out.contains("and 1 of the 3 η/2 reruns") {
            reruns += 1;
        }
    }
    assert_eq!(reruns, 3);
    let refs: Vec<&Path> = shards.iter().rev().map(|p| p.as_path()).collect();
    let merged = scratch("merged2d.h5");
    let (ok, printed, err) = merge(&refs, &merged);
    assert!(ok, "{err}");
    assert_eq!(printed, table);
    let n = same_bits(&full, &merged, "/compare");
    assert_eq!(n, same_bits(&merged, &full, "/compare"));
    for name in [
        "/compare/step_bias",
        "/compare/step_bias_se",
        "/compare/pde_error",
    ] {
        assert!(read_array(&merged, name).is_ok(), "{name}");
    }
    // without the shard holding a rerun the merge is refused
    let (ok, _, err) = merge(&refs[1..], &scratch("gap2d.h5"));
    assert!(!ok && err.contains("missing: 11/12"), "{err}");
    let (ok, _, _) = run(&scratch("bad2d.h5"), &["--shard", "0/13"]);
    assert!(!ok);
}

#[test]
fn particles_sharded_two_ways_merge_into_the_unsharded_particles() {
    let cfg = example("quickstart_1d.toml");
    let base = [
        "particles",
        "--quiet",
        cfg.to_str().unwrap(),
        "--set",
        "particles.n=32",
        "--set",
        "particles.seeds=5",
        "--set",
        "particles.t_end=0.3",
        "--set",
        "particles.positions=true",
    ];
    let run = |out: &Path, extra: &[&str]| {
        let mut a = base.to_vec();
        a.extend_from_slice(extra);
        a.extend(["-o", out.to_str().unwrap()]);
        mfl(&a)
    };
    let full = scratch("pfull.h5");
    let (ok, _, err) = run(&full, &[]);
    assert!(ok, "{err}");
    let shards: Vec<PathBuf> = (0..2).map(|i| scratch(&format!("ps{i}.h5"))).collect();
    for (i, s) in shards.iter().enumerate() {
        let (ok, _, err) = run(s, &["--shard", &format!("{i}/2")]);
        assert!(ok, "{err}");
        assert_eq!(read_attr(s, "/", "shard").unwrap(), format!("{i}/2"));
    }
    let seeds: Vec<usize> = shards
        .iter()
        .map(|s| read_array(s, "/particles/seeds").unwrap().len())
        .collect();
    assert_eq!(seeds.iter().sum::<usize>(), 5);
    let merged = scratch("pmerged.h5");
    let (ok, _, err) = merge(&[&shards[1], &shards[0]], &merged);
    assert!(ok, "{err}");
    assert_eq!(read_attr(&merged, "/", "command").unwrap(), "particles");
    let n = same_bits(&full, &merged, "/particles");
    assert_eq!(n, same_bits(&merged, &full, "/particles"));
    assert!(n >= 10, "{n} datasets");
    if let Some(same) = h5diff(&full, &merged, "/particles") {
        assert!(same, "h5diff finds /particles different");
    }
    // a compare shard does not complete a particles run
    let c = scratch("cshard.h5");
    let (ok, _, err) = compare(&c, &["--shard", "1/2"]);
    assert!(ok, "{err}");
    let (ok, _, err) = merge(&[&shards[0], &c], &scratch("mixed.h5"));
    assert!(
        !ok && err.contains("different commands") && err.contains("cshard.h5"),
        "{err}"
    );
}

#[test]
fn solve_sweep_shards_write_one_ordinary_solve_per_point() {
    let cfg = example("quickstart_1d.toml");
    let dir = scratch("sweep");
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("t.h5");
    let sets = ["--set", "solver.t_end=0.2", "--set", "grid.cells=[40]"];
    for i in 0..2 {
        let mut a = vec!["solve", "--quiet", cfg.to_str().unwrap()];
        a.extend_from_slice(&sets);
        let shard = format!("{i}/2");
        a.extend([
            "--sweep",
            "problem.temperature=0.05,0.1,0.2",
            "--shard",
            &shard,
            "-o",
            out.to_str().unwrap(),
        ]);
        let (ok, _, err) = mfl(&a);
        assert!(ok, "{err}");
    }
    for (j, t) in ["0.05", "0.1", "0.2"].iter().enumerate() {
        let p = dir.join(format!("t.p{j}.h5"));
        assert_eq!(read_attr(&p, "/", "status").unwrap(), "complete");
        assert_eq!(
            read_attr(&p, "/", "sweep_point").unwrap(),
            format!("problem.temperature={t}")
        );
        assert_eq!(read_attr(&p, "/", "sweep").unwrap(), format!("{j}/3"));
    }
    assert!(!out.exists());
    // a point is the plain solve with that --set
    let plain = dir.join("plain.h5");
    let mut a = vec!["solve", "--quiet", cfg.to_str().unwrap()];
    a.extend_from_slice(&sets);
    a.extend([
        "--set",
        "problem.temperature=0.1",
        "-o",
        plain.to_str().unwrap(),
    ]);
    let (ok, _, err) = mfl(&a);
    assert!(ok, "{err}");
    assert!(same_bits(&plain, &dir.join("t.p1.h5"), "/density") == 1);
    // --shard without --sweep is refused for solve
    let (ok, _, err) = mfl(&["solve", cfg.to_str().unwrap(), "--shard", "0/2"]);
    assert!(!ok && err.contains("--sweep"), "{err}");
    let plot = dir.join("plots");
    let (ok, _, err) = mfl(&[
        "plot",
        dir.join("t.p0.h5").to_str().unwrap(),
        dir.join("t.p1.h5").to_str().unwrap(),
        dir.join("t.p2.h5").to_str().unwrap(),
        "-o",
        plot.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(plot.join("energy.png").exists());
}

#[test]
fn every_control_variate_and_distances_merge_bit_for_bit() {
    // none: the t = 0 linear control variate (/shard/linear); coupled: the independent copy
    // (/shard/bar_risk, bar_energy); both with and without distances
    for (k, sets) in [
        &["compare.control=\"none\"", "compare.distances=false"][..],
        &["compare.control=\"coupled\"", "compare.distances=true"][..],
    ]
    .iter()
    .enumerate()
    {
        let extra: Vec<&str> = sets.iter().flat_map(|s| ["--set", s]).collect();
        let full = scratch(&format!("cv{k}.h5"));
        let (ok, table, err) = compare(&full, &extra);
        assert!(ok, "{sets:?}: {err}");
        let shards: Vec<PathBuf> = (0..2).map(|i| scratch(&format!("cv{k}s{i}.h5"))).collect();
        for (i, s) in shards.iter().enumerate() {
            let mut e = extra.clone();
            let shard = format!("{i}/2");
            e.extend(["--shard", &shard]);
            let (ok, _, err) = compare(s, &e);
            assert!(ok, "{sets:?}: {err}");
        }
        let names: Vec<String> = list_datasets(&shards[0])
            .unwrap()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        let want = if k == 0 {
            "/shard/linear"
        } else {
            "/shard/bar_risk"
        };
        assert!(names.iter().any(|n| n == want), "{sets:?}: {names:?}");
        let merged = scratch(&format!("cv{k}m.h5"));
        let (ok, printed, err) = merge(&[&shards[1], &shards[0]], &merged);
        assert!(ok, "{sets:?}: {err}");
        assert_eq!(printed, table, "{sets:?}");
        let n = same_bits(&full, &merged, "/compare");
        assert_eq!(n, same_bits(&merged, &full, "/compare"), "{sets:?}");
    }
}

#[test]
fn stationary_sweeps_shard_the_same_way() {
    let cfg = example("stationary_1d.toml");
    let dir = scratch("stsweep");
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("st.h5");
    let (ok, _, err) = mfl(&[
        "stationary",
        "--quiet",
        cfg.to_str().unwrap(),
        "--set",
        "stationary.temperatures=[0.2]",
        "--set",
        "grid.cells=[48]",
        "--sweep",
        "problem.lambda=0.05,0.1",
        "--shard",
        "1/2",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let p1 = dir.join("st.p1.h5");
    assert_eq!(read_attr(&p1, "/", "command").unwrap(), "stationary");
    assert_eq!(
        read_attr(&p1, "/", "sweep_point").unwrap(),
        "problem.lambda=0.1"
    );
    assert!(
        !dir.join("st.p0.h5").exists(),
        "point 0 belongs to shard 0/2"
    );
}
