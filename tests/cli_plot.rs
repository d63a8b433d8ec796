//! `mfl plot` and `mfl inspect` end to end: every figure kind rendered from small output files
//! (tiny solve and particle runs, a synthetic /compare file), decoded, and checked for its size
//! and for not being blank; bad files get one clear error.

mod common;
use common::{example, scratch};

use mfl::io::h5::OutputFile;
use ndarray::{Array1, Array2};
use std::collections::HashSet;
use std::path::Path;
use std::process::Command;

fn mfl(args: &[&str]) -> (bool, String, String) {
    // The synthetic files are written by this (multi-threaded) test process; HDF5 may close
    // them lazily, so the child must not insist on a file lock.
    let o = Command::new(env!("CARGO_BIN_EXE_mfl"))
        .args(args)
        .env("HDF5_USE_FILE_LOCKING", "FALSE")
        .output()
        .unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// Decode a PNG; assert its size, that it has many colours and is not mostly background.
fn check_png(path: &Path, size: (u32, u32)) {
    let dec = png::Decoder::new(std::fs::File::open(path).unwrap_or_else(|e| {
        panic!("{}: {e}", path.display());
    }));
    let mut r = dec.read_info().unwrap();
    let mut buf = vec![0; r.output_buffer_size()];
    let info = r.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), size, "{}", path.display());
    let ch = info.color_type.samples();
    assert!(
        ch >= 3,
        "{}: colour type {:?}",
        path.display(),
        info.color_type
    );
    let px = &buf[..info.buffer_size()];
    let mut colours = HashSet::new();
    let mut ink = 0usize;
    for p in px.chunks(ch) {
        colours.insert((p[0], p[1], p[2]));
        if p[0] < 240 || p[1] < 240 || p[2] < 240 {
            ink += 1;
        }
    }
    let total = (info.width * info.height) as usize;
    assert!(
        colours.len() > 30,
        "{}: {} colours",
        path.display(),
        colours.len()
    );
    assert!(
        ink * 50 > total,
        "{}: only {ink} of {total} pixels drawn",
        path.display()
    );
}

fn plot(files: &[&Path], dir: &Path) -> Vec<String> {
    let mut args = vec!["plot".to_string(), "--quiet".into()];
    args.extend(files.iter().map(|f| s(f)));
    args.extend(["-o".into(), s(dir)]);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let (ok, out, err) = mfl(&a);
    assert!(ok, "{err}");
    out.lines().map(str::to_string).collect()
}

#[test]
fn plots_of_1d_solve_and_particle_runs() {
    let (solve, part) = (scratch("s1.h5"), scratch("p1.h5"));
    let cfg = s(&example("quickstart_1d.toml"));
    let small = [
        "--set",
        "grid.cells=[64]",
        "--set",
        "output.snapshots=4",
        "--set",
        "solver.t_end=0.3",
        "--set",
        "particles.t_end=0.3",
    ];
    let (ok, _, err) = mfl(&[&["solve", "--quiet", &cfg, "-o", &s(&solve)], &small[..]].concat());
    assert!(ok, "{err}");
    let p = [
        "particles",
        "--quiet",
        &cfg,
        "-o",
        &s(&part),
        "--n",
        "100",
        "--seeds",
        "2",
        "--set",
        "particles.positions=true",
    ];
    let (ok, _, err) = mfl(&[&p[..], &small[..]].concat());
    assert!(ok, "{err}");
    let dir = scratch("plots1");
    let written = plot(&[&solve, &part], &dir);
    let names = ["density.png", "energy.png", "particles.png"];
    assert_eq!(written.len(), 3, "{written:?}");
    for (w, n) in written.iter().zip(names) {
        assert_eq!(Path::new(w), dir.join(n));
    }
    check_png(&dir.join("density.png"), (1000, 650));
    check_png(&dir.join("energy.png"), (1500, 560 + 2 * 28));
    check_png(&dir.join("particles.png"), (2000, 650));
    // chosen times, and F − F* from an f_star attribute (`mfl solve` at T > 0 writes its own
    // F* of the discrete Gibbs state; replace it)
    {
        let f = hdf5::File::open_rw(&solve).unwrap();
        assert!(f.attr("f_star").is_ok(), "mfl solve at T > 0 stores f_star");
        f.delete_attr("f_star").unwrap();
        f.new_attr::<f64>()
            .create("f_star")
            .unwrap()
            .write_scalar(&-0.02)
            .unwrap();
    }
    let dir2 = scratch("plots1b");
    let (ok, out, err) = mfl(&[
        "plot",
        "--quiet",
        &s(&solve),
        "--times",
        "0,0.3",
        "-o",
        &s(&dir2),
    ]);
    assert!(ok, "{err}");
    assert_eq!(out.lines().count(), 2, "{out}");
    check_png(&dir2.join("density.png"), (1000, 650));
    check_png(&dir2.join("energy.png"), (1500, 560 + 2 * 28));
}

#[test]
fn plots_of_2d_runs() {
    let (solve, part) = (scratch("s2.h5"), scratch("p2.h5"));
    let cfg = s(&example("two_layer_2d.toml"));
    let small = [
        "--set",
        "grid.cells=[24, 32]",
        "--set",
        "output.snapshots=3",
        "--set",
        "solver.t_end=0.2",
        "--set",
        "particles.t_end=0.2",
    ];
    let (ok, _, err) = mfl(&[&["solve", "--quiet", &cfg, "-o", &s(&solve)], &small[..]].concat());
    assert!(ok, "{err}");
    let p = [
        "particles",
        "--quiet",
        &cfg,
        "-o",
        &s(&part),
        "--n",
        "60",
        "--seeds",
        "1",
        "--set",
        "particles.positions=true",
    ];
    let (ok, _, err) = mfl(&[&p[..], &small[..]].concat());
    assert!(ok, "{err}");
    let dir = scratch("plots2");
    let written = plot(&[&part, &solve], &dir);
    assert_eq!(written.len(), 3, "{written:?}");
    check_png(&dir.join("density.png"), (1300, 1000));
    check_png(&dir.join("energy.png"), (1500, 560 + 2 * 28));
    check_png(&dir.join("particles.png"), (1000, 950));
}

/// A /compare file in the layout `mfl compare` writes.
fn compare_file(path: &Path, bad_shape: bool) {
    let out = OutputFile::create(path, "compare", "[problem]\ntemperature = 0.01\n").unwrap();
    let n = Array1::from(vec![16.0, 32.0, 64.0, 128.0, 256.0]);
    let t = Array1::from(vec![0.0, 1.0, 2.0]);
    let c = [0.2, 0.35, 0.5];
    let gap = Array2::from_shape_fn((if bad_shape { 4 } else { 5 }, 3), |(i, k)| {
        c[k] / n[i] * (1.0 + 0.05 * ((i + k) as f64).sin())
    });
    let se = gap.mapv(|g| 0.1 * g);
    out.write_array("/compare/n", n.view().into_dyn()).unwrap();
    out.write_array("/compare/time", t.view().into_dyn())
        .unwrap();
    out.write_array("/compare/gap_risk", gap.view().into_dyn())
        .unwrap();
    out.write_array("/compare/gap_risk_se", se.view().into_dyn())
        .unwrap();
    out.write_array("/compare/spread_risk", se.view().into_dyn())
        .unwrap();
    for (name, v) in [
        ("slope", [-0.98, -1.01, -1.03]),
        ("slope_lo", [-1.05, -1.08, -1.1]),
        ("slope_hi", [-0.91, -0.94, -0.96]),
        ("prefactor", c),
    ] {
        out.write_array(
            &format!("/compare/{name}"),
            Array1::from(v.to_vec()).view().into_dyn(),
        )
        .unwrap();
    }
    out.finish("complete").unwrap();
    drop(out);
}

#[test]
fn gap_plot_from_a_compare_file() {
    let f = scratch("cmp.h5");
    compare_file(&f, false);
    let dir = scratch("plots3");
    let written = plot(&[&f], &dir);
    assert_eq!(written, vec![s(&dir.join("gap.png"))]);
    check_png(&dir.join("gap.png"), (1100, 800));
    let (ok, out, err) = mfl(&["inspect", &s(&f)]);
    assert!(ok, "{err}");
    assert!(out.contains("compare     3 at t ∈ [0, 2]"), "{out}");
}

#[test]
fn bad_files_get_one_clear_error() {
    let text = scratch("not.h5");
    std::fs::write(&text, "not hdf5").unwrap();
    let empty = scratch("empty.h5");
    OutputFile::create(&empty, "solve", "")
        .unwrap()
        .finish("complete")
        .unwrap();
    let bad = scratch("badcmp.h5");
    compare_file(&bad, true);
    let missing = scratch("missing.h5");
    for (f, needle) in [
        (&missing, "no such file"),
        (&text, "not an HDF5 file"),
        (&empty, "nothing to plot"),
        (&bad, "/compare/gap_risk has shape"),
    ] {
        let (ok, _, err) = mfl(&["plot", "--quiet", &s(f), "-o", &s(&scratch("bad"))]);
        assert!(!ok, "{}", f.display());
        assert!(err.contains(needle), "{}: {err}", f.display());
        assert!(!err.contains("panicked"), "{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
}

#[test]
fn inspect_shows_setup_time_range_and_final_r_and_f() {
    let f = scratch("i.h5");
    let cfg = s(&example("quickstart_1d.toml"));
    let (ok, _, err) = mfl(&[
        "solve",
        "--quiet",
        &cfg,
        "-o",
        &s(&f),
        "--set",
        "grid.cells=[32]",
        "--set",
        "solver.t_end=0.1",
        "--set",
        "output.snapshots=3",
    ]);
    assert!(ok, "{err}");
    let (ok, out, err) = mfl(&["inspect", &s(&f)]);
    assert!(ok, "{err}");
    for needle in [
        "mfl solve",
        "status: complete",
        "pde         FV explicit cfl 0.5, grid 32, T = 0.02",
        "/density",
        "snapshots   3 at t ∈ [0, 0.1]",
        "final       t = 0.1, R = ",
        ", F = ",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in\n{out}");
    }
    let (ok, out, _) = mfl(&["inspect", "--config", &s(&f)]);
    assert!(ok);
    assert!(
        out.contains("[problem]") && out.contains("cells = [32]"),
        "{out}"
    );
}
