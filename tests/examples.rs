//! Every shipped example passes `mfl check`, and runs in a shortened form (`--set` on the end
//! time and sizes): an example that no longer runs is a failing test.

use mfl::io::h5::read_attr;
use std::path::{Path, PathBuf};
use std::process::Command;

fn examples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    v.sort();
    assert!(v.len() >= 2, "examples/ has no configs");
    v
}

fn run(args: &[&str], cfg: &Path) -> (bool, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_mfl"))
        .args(args)
        .arg(cfg)
        .output()
        .unwrap();
    (
        o.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

#[test]
fn every_example_passes_check() {
    for cfg in examples() {
        let (ok, out) = run(&["check"], &cfg);
        assert!(ok, "{}: {out}", cfg.display());
    }
}

#[test]
fn every_example_with_a_solver_runs_shortened() {
    let dir = std::env::temp_dir().join(format!("mfl-examples-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for cfg in examples() {
        let text = std::fs::read_to_string(&cfg).unwrap();
        if !text.contains("[solver]") {
            continue;
        }
        let out = dir.join(format!("{}.h5", cfg.file_stem().unwrap().to_string_lossy()));
        let out_s = out.to_string_lossy().into_owned();
        let (ok, msg) = run(
            &[
                "solve",
                "--quiet",
                "--set",
                "solver.t_end=0.05",
                "--set",
                "output.snapshots=2",
                "-o",
                &out_s,
            ],
            &cfg,
        );
        assert!(ok, "{}: {msg}", cfg.display());
        assert_eq!(read_attr(&out, "/", "status").unwrap(), "complete");
    }
}

#[test]
fn every_example_with_particles_runs_shortened() {
    let dir = std::env::temp_dir().join(format!("mfl-examples-p-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for cfg in examples() {
        let text = std::fs::read_to_string(&cfg).unwrap();
        if !text.contains("[particles]") {
            continue;
        }
        let out = dir.join(format!("{}.h5", cfg.file_stem().unwrap().to_string_lossy()));
        let out_s = out.to_string_lossy().into_owned();
        let (ok, msg) = run(
            &[
                "particles",
                "--quiet",
                "--n",
                "16",
                "--seeds",
                "2",
                "--set",
                "particles.t_end=0.1",
                "--set",
                "output.snapshots=2",
                "-o",
                &out_s,
            ],
            &cfg,
        );
        assert!(ok, "{}: {msg}", cfg.display());
        assert_eq!(read_attr(&out, "/", "status").unwrap(), "complete");
    }
}

#[test]
fn every_example_with_a_stationary_table_converges() {
    let dir = std::env::temp_dir().join(format!("mfl-examples-s-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for cfg in examples() {
        let text = std::fs::read_to_string(&cfg).unwrap();
        if !text.contains("[stationary]") {
            continue;
        }
        let out = dir.join(format!("{}.h5", cfg.file_stem().unwrap().to_string_lossy()));
        let out_s = out.to_string_lossy().into_owned();
        let (ok, msg) = run(&["stationary", "--quiet", "-o", &out_s], &cfg);
        assert!(ok, "{}: {msg}", cfg.display());
        assert_eq!(read_attr(&out, "/", "status").unwrap(), "complete");
    }
}
