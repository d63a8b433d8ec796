//! `[init]` read from earlier outputs: a histogram of a particle run (`kind = "particles"`) and a
//! snapshot of a PDE run (`kind = "snapshot"`), and the errors for files that cannot serve.

mod common;
use common::{example, scratch};

use mfl::io::h5::read_array;
use std::path::Path;
use std::process::Command;

/// `mfl CMD --quiet EXAMPLE ARGS -o OUT`: (success, stderr).
fn run(cmd: &str, ex: &str, args: &[String], out: &Path) -> (bool, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_mfl"))
        .env("HDF5_USE_FILE_LOCKING", "FALSE")
        .args([cmd, "--quiet"])
        .arg(example(ex))
        .args(args)
        .arg("-o")
        .arg(out)
        .output()
        .unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn sets(kv: &[&str]) -> Vec<String> {
    kv.iter()
        .flat_map(|s| ["--set".into(), s.to_string()])
        .collect()
}

fn init_from(kind: &str, file: &Path) -> Vec<String> {
    sets(&[
        &format!("init.kind=\"{kind}\""),
        &format!("init.file=\"{}\"", file.display()),
    ])
}

const SHORT_SOLVE: [&str; 3] = ["solver.t_end=0.2", "grid.cells=[64]", "output.snapshots=3"];
const SHORT_PARTICLES: [&str; 4] = [
    "particles.t_end=0.2",
    "particles.n=2000",
    "particles.seeds=2",
    "output.snapshots=3",
];

fn particle_run(out: &Path) {
    let mut args = sets(&SHORT_PARTICLES);
    args.extend(sets(&["particles.positions=true"]));
    let (ok, err) = run("particles", "quickstart_1d.toml", &args, out);
    assert!(ok, "{err}");
}

const LO: f64 = -4.0;
const CELLS: usize = 64;
const H: f64 = 8.0 / CELLS as f64;

/// The histogram by hand on [-4, 4] / 64 cells: all particles pooled, no-flux edges clamp into
/// the edge cells, mass 1.
fn hand_histogram<'a>(xs: impl ExactSizeIterator<Item = &'a f64>) -> Vec<f64> {
    let n = xs.len();
    let mut want = vec![0.0; CELLS];
    for &x in xs {
        let i = ((x - LO) / H).floor().clamp(0.0, (CELLS - 1) as f64) as usize;
        want[i] += 1.0;
    }
    let scale = 1.0 / (n as f64 * H);
    want.iter().map(|w| w * scale).collect()
}

fn first_density(out: &Path) -> Vec<f64> {
    let d = read_array(out, "/density").unwrap();
    d.index_axis(ndarray::Axis(0), 0).iter().copied().collect()
}

fn assert_close(got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len());
    for (i, (a, w)) in got.iter().zip(want).enumerate() {
        assert!((a - w).abs() < 1e-12, "cell {i}: {a} vs {w}");
    }
}

#[test]
fn particles_init_is_the_pooled_histogram_with_mass_one() {
    let parts = scratch("p.h5");
    particle_run(&parts);
    let out = scratch("from_particles.h5");
    let mut args = sets(&SHORT_SOLVE);
    args.extend(init_from("particles", &parts));
    let (ok, err) = run("solve", "quickstart_1d.toml", &args, &out);
    assert!(ok, "{err}");

    let rho0 = first_density(&out);
    assert_eq!(rho0.len(), CELLS);
    let mass: f64 = rho0.iter().map(|r| r * H).sum();
    assert!((mass - 1.0).abs() < 1e-12, "mass {mass}");
    let th = read_array(&parts, "/particles/final_theta").unwrap();
    assert_eq!(th.shape(), &[2, 2000, 1]);
    assert_close(&rho0, &hand_histogram(th.iter()));
    assert!(rho0.iter().filter(|&&r| r > 0.0).count() > 5);

    // `init.index = 0`: the recorded positions at the first record instead
    let out0 = scratch("from_positions0.h5");
    args.extend(sets(&["init.index=0"]));
    let (ok, err) = run("solve", "quickstart_1d.toml", &args, &out0);
    assert!(ok, "{err}");
    let pos = read_array(&parts, "/particles/positions").unwrap();
    assert_eq!(pos.shape(), &[2, 3, 2000, 1]);
    let p0 = pos.index_axis(ndarray::Axis(1), 0).to_owned();
    let rho = first_density(&out0);
    assert_close(&rho, &hand_histogram(p0.iter()));
    assert_ne!(rho, rho0);
}

#[test]
fn snapshot_init_restarts_bit_for_bit_and_seeds_particles() {
    let first = scratch("first.h5");
    let (ok, err) = run("solve", "quickstart_1d.toml", &sets(&SHORT_SOLVE), &first);
    assert!(ok, "{err}");
    let second = scratch("second.h5");
    let mut args = sets(&SHORT_SOLVE);
    args.extend(init_from("snapshot", &first));
    let (ok, err) = run("solve", "quickstart_1d.toml", &args, &second);
    assert!(ok, "{err}");
    let d1 = read_array(&first, "/density").unwrap();
    let d2 = read_array(&second, "/density").unwrap();
    let last = d1.index_axis(ndarray::Axis(0), d1.shape()[0] - 1);
    let start = d2.index_axis(ndarray::Axis(0), 0);
    assert_eq!(last.shape(), start.shape());
    for (a, b) in last.iter().zip(start.iter()) {
        assert_eq!(a.to_bits(), b.to_bits());
    }

    let parts = scratch("from_snapshot_particles.h5");
    let mut args = sets(&SHORT_PARTICLES);
    args.extend(sets(&["grid.cells=[64]", "particles.n=200"]));
    args.extend(init_from("snapshot", &first));
    let (ok, err) = run("particles", "quickstart_1d.toml", &args, &parts);
    assert!(ok, "{err}");
    assert_eq!(
        read_array(&parts, "/particles/final_theta")
            .unwrap()
            .shape(),
        &[2, 200, 1]
    );
}

#[test]
fn unusable_particle_files_are_one_error_naming_init_file() {
    let solve_out = scratch("plain_solve.h5");
    let (ok, err) = run(
        "solve",
        "quickstart_1d.toml",
        &sets(&SHORT_SOLVE),
        &solve_out,
    );
    assert!(ok, "{err}");
    let two_d = scratch("p2d.h5");
    let (ok, err) = run(
        "particles",
        "two_layer_2d.toml",
        &sets(&[
            "particles.t_end=0.05",
            "particles.n=50",
            "particles.seeds=1",
            "output.snapshots=2",
        ]),
        &two_d,
    );
    assert!(ok, "{err}");
    let missing = scratch("does_not_exist.h5");

    for (file, needle) in [
        (&missing, "no such file"),
        (&solve_out, "/particles/final_theta"),
        (&two_d, "2-dimensional"),
    ] {
        for cmd in ["solve", "particles"] {
            let mut args = sets(&SHORT_SOLVE);
            args.extend(sets(&["particles.t_end=0.05", "particles.n=10"]));
            args.extend(init_from("particles", file));
            let out = scratch(&format!("bad_{cmd}.h5"));
            let (ok, err) = run(cmd, "quickstart_1d.toml", &args, &out);
            assert!(!ok, "{cmd} with {} succeeded", file.display());
            assert!(!err.contains("panicked"), "{err}");
            let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
            assert_eq!(lines.len(), 1, "one line: {err}");
            assert!(lines[0].contains("init.file"), "{err}");
            assert!(
                lines[0].contains(&file.display().to_string()),
                "names the file: {err}"
            );
            assert!(lines[0].contains(needle), "{needle}: {err}");
        }
    }
}
