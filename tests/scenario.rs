//! The typed Scenario (issue 12): one `MeanField` shared by the PDE, the particles and R_N,
//! variants without re-parsing, `mfl check` rejecting exactly what the runs reject, particle
//! output written incrementally, and runs labelled by their typed config.

mod common;
use common::{example, scratch};

use mfl::io::scenario::{compare, Job};
use mfl::io::Scenario;
use std::process::Command;
use std::sync::Arc;

fn mfl() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mfl"))
}

#[test]
fn a_comparison_builds_one_mean_field_and_parses_the_config_once() {
    let before = mfl::io::build::parse_count();
    let sc = Scenario::load(&example("gap_1d.toml"), &[], Job::Compare).unwrap();
    let cs = sc.compare.as_ref().unwrap();
    let pde = sc.pde.as_ref().unwrap();
    let parts = sc.particles.as_ref().unwrap();
    let field_mf = pde.problem.field.problem().expect("a mean-field potential");
    assert!(Arc::ptr_eq(field_mf, &sc.mean_field));
    assert!(Arc::ptr_eq(&parts.eval, &sc.mean_field));
    assert!(Arc::ptr_eq(&parts.dynamics.problem, &sc.mean_field));
    // every N, the η/2 rerun and the refined grid of the error budget share it too
    for &n in &cs.ns {
        let d = compare::dynamics(&sc, n, cs.eta).unwrap();
        assert_eq!(d.n, n);
        assert!(Arc::ptr_eq(&d.problem, &sc.mean_field));
    }
    let half = compare::dynamics(&sc, 16, 0.5 * cs.eta).unwrap();
    assert_eq!(half.eta, 0.5 * cs.eta);
    let fine = sc.refined(2).unwrap();
    let fine_pde = fine.pde.as_ref().unwrap();
    assert_eq!(fine_pde.problem.grid.shape(), vec![800]);
    assert!(Arc::ptr_eq(
        fine_pde.problem.field.problem().unwrap(),
        &sc.mean_field
    ));
    // the refined ρ₀ is the same law on the finer cells: mass 1 and the same mean to O(h²)
    let g = &fine_pde.problem.grid;
    let mass: f64 = fine_pde.rho0.iter().sum::<f64>() * g.cell_volume();
    assert!((mass - 1.0).abs() < 1e-12, "{mass}");
    // one parse (on this thread) for the whole sweep and its variants
    assert_eq!(mfl::io::build::parse_count() - before, 1);
}

#[test]
fn variants_change_only_what_they_name() {
    let sc = Scenario::load(&example("quickstart_1d.toml"), &[], Job::Check).unwrap();
    let v = sc.with_n(7).unwrap().with_eta(0.5).unwrap();
    let p = v.particles.as_ref().unwrap();
    assert_eq!((p.dynamics.n, p.dynamics.eta), (7, 0.5));
    let cfg = v.config.particles.as_ref().unwrap();
    assert_eq!((cfg.n, cfg.eta), (7, 0.5));
    assert_eq!(p.seeds, sc.particles.as_ref().unwrap().seeds);
    let err = |r: Result<Scenario, mfl::io::scenario::Error>| r.err().unwrap().to_string();
    assert!(err(sc.with_n(0)).contains("particles.n"));
    assert!(err(sc.with_eta(-1.0)).contains("particles.eta"));
}

/// (override, key the message must name): values every run that uses the key rejects.
const REJECTED: &[(&str, &str)] = &[
    ("particles.eta=0.0", "particles.eta"),
    ("particles.eta=nan", "particles.eta"),
    ("particles.n=0", "particles.n"),
    ("particles.seeds=0", "particles.seeds"),
    ("particles.t_end=-1.0", "particles.t_end"),
    ("particles.gradient=\"stochastic\"", "particles.gradient"),
    ("particles.schedule=\"cosine\"", "particles.schedule"),
    ("solver.t_end=inf", "solver.t_end"),
    ("solver.t_end=0.0", "solver.t_end"),
    ("solver.cfl=1.5", "solver.cfl"),
    ("solver.cfl=0.0", "solver.cfl"),
    ("solver.stepper=\"explict\"", "solver.stepper"),
    ("solver.scheme=\"spektral\"", "solver.scheme"),
    ("solver.positivity=\"clip\"", "solver.positivity"),
    ("solver.interaction=\"fast\"", "solver.interaction"),
    ("output.times=[-1.0]", "output.times"),
    ("output.diagnostics_every=-1.0", "output.diagnostics_every"),
    ("problem.temperature=-1.0", "problem.temperature"),
    ("problem.lambda=-1.0", "problem.lambda"),
    ("problem.loss=\"hinge\"", "problem.loss"),
    ("grid.cells=[0]", "grid.cells"),
    ("init.std=-1.0", "init.std"),
    ("unit.activation=\"gelu\"", "unit.activation"),
    ("data.nodes=0", "data.nodes"),
];

/// (override, key, command): values only a given run resolves — check must reject them too.
const REJECTED_BY: &[(&str, &str, &str)] = &[
    ("compare.seeds=2", "compare.seeds", "compare"),
    ("compare.control=\"magic\"", "compare.control", "compare"),
    ("compare.times=[100.0]", "compare.times", "compare"),
    ("compare.n=[16, 32]", "compare.n", "compare"),
    ("stationary.tol=0.0", "stationary.tol", "stationary"),
    ("stationary.damping=2.0", "stationary.damping", "stationary"),
];

/// Run `mfl <cmd> CONFIG --set s`; return (success, stderr).
fn run(cmd: &str, cfg: &std::path::Path, sets: &[&str]) -> (bool, String) {
    let out_file = scratch(&format!("{cmd}-{}.h5", sets.join("_").replace('/', "")));
    let _ = std::fs::remove_file(&out_file);
    let mut c = mfl();
    c.arg(cmd).arg(cfg).arg("--quiet");
    if cmd != "check" {
        c.arg("-o").arg(&out_file);
    }
    for s in sets {
        c.arg("--set").arg(s);
    }
    let out = c.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn check_rejects_every_value_the_runs_reject() {
    // gap_1d has every table a run uses but [stationary]; shorten nothing: rejections come
    // before any step is taken
    let cfg = example("gap_1d.toml");
    for &(set, key) in REJECTED {
        let (ok, err) = run("check", &cfg, &[set]);
        assert!(!ok, "check accepted {set}");
        assert!(
            err.contains(key),
            "check on {set}: {err:?} does not name {key}"
        );
        assert_eq!(err.trim_end().lines().count(), 1, "{set}: {err:?}");
        let table = key.split('.').next().unwrap();
        let cmds: &[&str] = match table {
            "particles" => &["particles"],
            "solver" | "output" | "grid" | "init" => &["solve"],
            _ => &["solve", "particles"],
        };
        for cmd in cmds {
            let (ok, err) = run(cmd, &cfg, &[set]);
            assert!(!ok, "{cmd} accepted {set}");
            assert!(
                err.contains(key),
                "{cmd} on {set}: {err:?} does not name {key}"
            );
        }
    }
    for &(set, key, cmd) in REJECTED_BY {
        let cfg = if cmd == "stationary" {
            example("stationary_1d.toml")
        } else {
            cfg.clone()
        };
        for c in ["check", cmd] {
            let (ok, err) = run(c, &cfg, &[set]);
            assert!(!ok, "{c} accepted {set}");
            assert!(
                err.contains(key),
                "{c} on {set}: {err:?} does not name {key}"
            );
        }
    }
    // and a shortened solve of a config with [compare] is not stopped by compare's times
    let (ok, err) = run(
        "solve",
        &cfg,
        &["solver.t_end=0.01", "output.snapshots=2", "grid.cells=[40]"],
    );
    assert!(ok, "{err}");
}

#[test]
fn particle_records_are_on_disk_before_the_run_ends() {
    // a run that takes far longer than the test waits; each record is flushed as it is
    // reached, so a SIGKILL leaves a readable file with the records so far
    let out = scratch("killed.h5");
    let _ = std::fs::remove_file(&out);
    let mut child = mfl()
        .arg("particles")
        .arg(example("quickstart_1d.toml"))
        .args(["--quiet", "--n", "4096", "--seeds", "3", "-o"])
        .arg(&out)
        .args([
            "--set",
            "particles.t_end=1000.0",
            "--set",
            "particles.eta=0.001",
            "--set",
            "output.snapshots=100001",
        ])
        .spawn()
        .unwrap();
    // wait until at least two records (t = 0 and one more) are in the file
    let start = std::time::Instant::now();
    let mut records = 0;
    while start.elapsed().as_secs() < 120 {
        std::thread::sleep(std::time::Duration::from_millis(300));
        if let Ok(t) = read_unlocked(&out, "/particles/time") {
            records = t.len();
            if records >= 2 {
                break;
            }
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(records >= 2, "no second record after 120 s");
    let t = read_unlocked(&out, "/particles/time").unwrap();
    let r = t.len();
    assert!((2..100001).contains(&r), "{r} records");
    let risk = mfl::io::h5::read_array(&out, "/particles/risk").unwrap();
    assert_eq!(risk.shape(), &[3, r]);
    assert!(risk.iter().all(|v| v.is_finite() && *v > 0.0));
    let mean = mfl::io::h5::read_array(&out, "/particles/risk_mean").unwrap();
    assert_eq!(mean.shape(), &[r]);
    assert_eq!(t[0], 0.0);
    assert!(t.windows(2).all(|w| w[0] < w[1]));
    let status = mfl::io::h5::read_attr(&out, "/", "status").unwrap();
    assert_eq!(status, "running");
}

/// Read a dataset of a file another process may hold open (HDF5's advisory lock off).
fn read_unlocked(path: &std::path::Path, name: &str) -> Result<Vec<f64>, String> {
    std::env::set_var("HDF5_USE_FILE_LOCKING", "FALSE");
    mfl::io::h5::read_array(path, name)
        .map(|a| a.iter().copied().collect())
        .map_err(|e| e.to_string())
}

#[test]
fn spectral_runs_are_labelled_spectral() {
    let out = scratch("torus.h5");
    let _ = std::fs::remove_file(&out);
    let st = mfl()
        .arg("solve")
        .arg(example("deconv_torus_1d.toml"))
        .args(["--quiet", "--set", "solver.t_end=0.01", "-o"])
        .arg(&out)
        .args(["--set", "solver.scheme=\"spectral\""])
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let run = mfl::io::plot::Run::open(&out).unwrap();
    let label = run.pde_label();
    assert!(label.starts_with("spectral ETDRK4"), "{label}");
    let ins = mfl().arg("inspect").arg(&out).output().unwrap();
    let text = String::from_utf8_lossy(&ins.stdout);
    assert!(text.contains("pde         spectral ETDRK4"), "{text}");
    assert!(!text.contains("FV"), "{text}");
}

#[test]
fn command_modules_do_not_import_each_other() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/cmd");
    let cmds: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .filter(|s| s != "mod")
        .collect();
    for me in &cmds {
        let text = std::fs::read_to_string(dir.join(format!("{me}.rs"))).unwrap();
        for other in cmds.iter().filter(|o| *o != me) {
            for pat in [
                format!("super::{other}"),
                format!("cmd::{other}"),
                format!("use super::{{{other}"),
            ] {
                assert!(!text.contains(&pat), "src/cmd/{me}.rs uses {pat}");
            }
        }
    }
}
