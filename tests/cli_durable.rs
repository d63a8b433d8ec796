//! Runs that never lose or corrupt data (issue 13): exclusive outputs (existing files, the
//! config or a data file, a second writer), SIGINT/SIGTERM, `inspect` on a running file, write
//! faults reported truthfully, and numerical nonsense (a too-long implicit step, diverging
//! particles) reported as `failed`, never as `complete`.

mod common;
use common::{example, scratch};

use mfl::io::h5::{read_array, read_attr};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn mfl() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mfl"))
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const SHORT: [&str; 4] = ["--set", "solver.t_end=0.2", "--set", "grid.cells=[32]"];

fn short_solve(out: &Path, extra: &[&str]) -> Output {
    mfl()
        .args(["solve", "--quiet"])
        .arg(example("quickstart_1d.toml"))
        .args(SHORT)
        .args(extra)
        .arg("-o")
        .arg(out)
        .output()
        .unwrap()
}

/// A solve that runs for minutes unless stopped.
fn long_solve(out: &Path) -> Child {
    mfl()
        .args(["solve", "--quiet"])
        .arg(example("quickstart_1d.toml"))
        .args([
            "--set",
            "solver.t_end=5000",
            "--set",
            "output.snapshots=100001",
            "--set",
            "grid.cells=[64]",
        ])
        .arg("-o")
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Poll `mfl inspect` until it reports `status: running` with at least one dataset `name`.
fn wait_running(file: &Path, name: &str) -> String {
    let start = Instant::now();
    loop {
        let o = mfl().arg("inspect").arg(file).output().unwrap();
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        if o.status.success() && out.contains(name) {
            return out;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the run never showed {name}: {out} {}",
            stderr(&o)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn signal(child: &Child, sig: libc::c_int) {
    // SAFETY: sending a signal to our own child process.
    let r = unsafe { libc::kill(child.id() as libc::pid_t, sig) };
    assert_eq!(r, 0);
}

#[test]
fn an_existing_output_is_refused_without_force_and_replaced_with_it() {
    let out = scratch("exists.h5");
    let o = short_solve(&out, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let before = read_array(&out, "/density").unwrap();
    // again, without --force: refused, the file untouched
    let o = short_solve(&out, &["--set", "grid.cells=[16]"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("exists") && err.contains("--force"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert_eq!(read_attr(&out, "/", "status").unwrap(), "complete");
    assert_eq!(read_array(&out, "/density").unwrap(), before);
    // with --force: replaced
    let o = short_solve(&out, &["--force", "--set", "grid.cells=[16]"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(read_array(&out, "/density").unwrap().shape()[1], 16);
    // a text file is not replaced either without --force
    let txt = scratch("notes.txt");
    std::fs::write(&txt, "my notes").unwrap();
    let o = short_solve(&txt, &[]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(&txt).unwrap(), "my notes");
}

#[test]
fn the_output_is_never_the_config_or_a_data_file_even_with_force() {
    let dir = scratch("inputs");
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("q.toml");
    let text = std::fs::read_to_string(example("quickstart_1d.toml")).unwrap();
    std::fs::write(&cfg, &text).unwrap();
    let o = mfl()
        .args(["solve", "--quiet", "--force"])
        .arg(&cfg)
        .arg("-o")
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("config file"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&cfg).unwrap(), text);
    // a CSV data file, named through another path
    let csv = dir.join("d.csv");
    let rows: String = (0..20)
        .map(|i| {
            let x = -2.0 + 0.2 * i as f64;
            format!("{x},{}\n", (2.0 * x).tanh())
        })
        .collect();
    std::fs::write(&csv, format!("x,y\n{rows}")).unwrap();
    let o = mfl()
        .args(["solve", "--quiet", "--force"])
        .arg(&cfg)
        .args(SHORT)
        .args([
            "--set",
            "data.kind=\"csv\"",
            "--set",
            "data.path=\"./d.csv\"",
        ])
        .arg("-o")
        .arg(dir.join("..").join("inputs").join("d.csv"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("data.path"), "{}", stderr(&o));
    assert!(std::fs::read_to_string(&csv).unwrap().starts_with("x,y\n"));
}

#[test]
fn a_second_writer_is_refused_the_running_file_inspects_and_sigint_stops_it() {
    let out = scratch("busy.h5");
    let first = long_solve(&out);
    // the file being written opens for readers and says so
    let shown = wait_running(&out, "/density");
    assert!(shown.contains("status: running"), "{shown}");
    // a second writer, even with --force, is refused before it touches the file
    let o = short_solve(&out, &["--force"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("another process"), "{}", stderr(&o));
    // SIGINT: the first run stops cleanly, exit 130, one line, status failed: interrupted
    signal(&first, libc::SIGINT);
    let o = first.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    let err = stderr(&o);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("interrupted at t = "), "{err}");
    let status = read_attr(&out, "/", "status").unwrap();
    assert!(
        status.starts_with("failed: interrupted at t = "),
        "{status}"
    );
    let dens = read_array(&out, "/density").unwrap();
    let time = read_array(&out, "/time").unwrap();
    assert!(!time.is_empty() && dens.shape()[0] == time.len());
    let vol = 8.0 / 64.0;
    for k in 0..time.len() {
        let m: f64 = dens.index_axis(ndarray::Axis(0), k).sum() * vol;
        assert!((m - 1.0).abs() < 1e-12, "snapshot {k} has mass {m}");
    }
}

#[test]
fn sigterm_stops_a_particle_run_with_143_and_keeps_its_records() {
    let out = scratch("term.h5");
    let child = mfl()
        .args(["particles", "--quiet"])
        .arg(example("quickstart_1d.toml"))
        .args([
            "--set",
            "particles.t_end=100000",
            "--set",
            "solver.t_end=100000",
            "--set",
            "output.snapshots=100001",
            "--set",
            "particles.n=64",
        ])
        .arg("-o")
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_running(&out, "/particles/risk ");
    signal(&child, libc::SIGTERM);
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(143), "{}", stderr(&o));
    let status = read_attr(&out, "/", "status").unwrap();
    assert!(
        status.starts_with("failed: interrupted at t = "),
        "{status}"
    );
    let t = read_array(&out, "/particles/time").unwrap();
    let risk = read_array(&out, "/particles/risk").unwrap();
    assert!(!t.is_empty());
    assert_eq!(risk.shape(), &[4, t.len()]);
    assert!(risk.iter().all(|r| r.is_finite()));
}

#[test]
fn a_write_fault_is_reported_truthfully() {
    use std::os::unix::process::CommandExt;
    let out = scratch("full.h5");
    let mut cmd = mfl();
    cmd.args(["solve", "--quiet"])
        .arg(example("quickstart_1d.toml"))
        .args([
            "--set",
            "solver.t_end=5000",
            "--set",
            "output.snapshots=100001",
            "--set",
            "grid.cells=[64]",
        ])
        .arg("-o")
        .arg(&out);
    // the file may not grow beyond 100 KiB: writes past it fail with EFBIG, as on a full disk
    // SAFETY: async-signal-safe calls only, between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: 100 * 1024,
                rlim_max: 100 * 1024,
            };
            libc::setrlimit(libc::RLIMIT_FSIZE, &lim);
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            Ok(())
        });
    }
    let o = cmd.output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("File too large"), "the OS's reason: {err}");
    assert!(!err.contains("18446744073709551615"), "{err}");
    // the message claims the file keeps its records only when it does
    let status = read_attr(&out, "/", "status");
    if err.contains("keeps what was written before") {
        assert!(status.unwrap().starts_with("failed: "));
    } else {
        assert!(err.contains("do not trust it"), "{err}");
        assert!(!matches!(status.as_deref(), Ok("complete")));
    }
}

#[test]
fn an_implicit_step_that_raises_the_free_energy_fails_naming_solver_dt() {
    let out = scratch("dt100.h5");
    let o = mfl()
        .args(["solve", "--quiet"])
        .arg(example("two_layer_2d.toml"))
        .args([
            "--set",
            "solver.dt=100",
            "--set",
            "solver.t_end=100",
            "--set",
            "output.snapshots=2",
            "--set",
            "grid.cells=[24,32]",
        ])
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("free energy rose") && err.contains("solver.dt"),
        "{err}"
    );
    let status = read_attr(&out, "/", "status").unwrap();
    assert!(status.starts_with("failed: "), "{status}");
    // a step short enough still completes
    let ok = scratch("dt01.h5");
    let o = mfl()
        .args(["solve", "--quiet"])
        .arg(example("two_layer_2d.toml"))
        .args([
            "--set",
            "solver.dt=0.1",
            "--set",
            "solver.t_end=1",
            "--set",
            "output.snapshots=2",
            "--set",
            "grid.cells=[24,32]",
        ])
        .arg("-o")
        .arg(&ok)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(read_attr(&ok, "/", "status").unwrap(), "complete");
}

#[test]
fn diverging_particles_fail_with_the_step_not_complete() {
    let out = scratch("diverge.h5");
    let o = mfl()
        .args(["particles", "--quiet"])
        .arg(example("mmn_two_class.toml"))
        .args([
            "--set",
            "particles.eta=50",
            "--set",
            "particles.t_end=2000",
            "--set",
            "particles.n=50",
        ])
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("diverged at step") && err.contains("eta"),
        "{err}"
    );
    let status = read_attr(&out, "/", "status").unwrap();
    assert!(status.starts_with("failed: seed 0"), "{status}");
}

#[test]
fn bad_input_gets_one_line_naming_the_key_file_or_override() {
    let dir = scratch("bad");
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("c.toml");
    let text = std::fs::read_to_string(example("quickstart_1d.toml")).unwrap();
    std::fs::write(&cfg, text).unwrap();
    // a first data row with one bad cell is an error naming line 1, not a header
    std::fs::write(dir.join("bad_first.csv"), "0.5,x1\n1.0,0.2\n").unwrap();
    // a comment before the header is fine
    std::fs::write(
        dir.join("comment.csv"),
        "# source: me\nx,y\n0.5,0.1\n1.0,0.2\n",
    )
    .unwrap();
    let csv = |f: &str| {
        vec![
            "--set".to_string(),
            "data.kind=\"csv\"".into(),
            "--set".into(),
            format!("data.path=\"{f}\""),
        ]
    };
    let cases: Vec<(Vec<String>, Option<&str>)> = vec![
        (csv("bad_first.csv"), Some("bad_first.csv', line 1")),
        (csv("comment.csv"), None),
        (
            vec!["--set".into(), "grid.cells=[1,2".into()],
            Some("error: --set grid.cells=[1,2: `[1,2` is not a valid TOML value"),
        ),
        (
            vec!["--set".into(), "solver.t_end=\"abc\"".into()],
            Some("error: --set solver.t_end=\"abc\": "),
        ),
        (
            vec!["--set".into(), "output.times=[0.0, 2.0, 1.0]".into()],
            Some("`output.times`: must be strictly increasing, but 2 is followed by 1"),
        ),
    ];
    for (args, needle) in cases {
        let o = mfl().arg("check").arg(&cfg).args(&args).output().unwrap();
        let err = stderr(&o);
        match needle {
            None => assert!(o.status.success(), "{args:?}: {err}"),
            Some(n) => {
                assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
                assert_eq!(err.trim_end().lines().count(), 1, "{err}");
                assert!(err.contains(n), "{args:?}: {err}");
            }
        }
    }
    // the config file itself is still blamed for its own errors
    std::fs::write(dir.join("typo.toml"), "[problem]\ntemperature = \"hot\"\n").unwrap();
    let o = mfl()
        .arg("check")
        .arg(dir.join("typo.toml"))
        .output()
        .unwrap();
    assert!(stderr(&o).contains("typo.toml"), "{}", stderr(&o));
    // absurd --threads: warned and capped, and the run still works
    let o = mfl()
        .args(["--threads", "100000", "check"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("warning: --threads 100000"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_plot_that_fails_leaves_no_empty_folder() {
    // an mfl-looking file whose /density has no grid: planned, then the figure fails
    let f = scratch("foreign.h5");
    let out = mfl::io::h5::OutputFile::create(&f, "solve", "").unwrap();
    out.write_array(
        "/density",
        ndarray::Array2::<f64>::zeros((2, 3)).view().into_dyn(),
    )
    .unwrap();
    out.finish("complete").unwrap();
    drop(out);
    let dir = scratch("foreign_plots");
    let o = mfl()
        .args(["plot", "--quiet"])
        .arg(&f)
        .arg("-o")
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(!dir.exists(), "{} was left behind", dir.display());
}

#[test]
fn sigint_stops_a_comparison_cleanly() {
    // a long PDE part: the signal lands during it and stops it at the end of a step
    let out = scratch("cmp-int.h5");
    let child = mfl()
        .args(["compare", "--quiet", "--force"])
        .arg(example("gap_1d.toml"))
        .args([
            "--set",
            "solver.t_end=100000",
            "--set",
            "particles.t_end=100000",
            "--set",
            "compare.times=[0.0, 100000.0]",
            "--set",
            "output.snapshots=2",
        ])
        .arg("-o")
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_running(&out, "/diagnostics");
    signal(&child, libc::SIGINT);
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.trim_end()
            .lines()
            .last()
            .unwrap()
            .contains("interrupted at t = "),
        "{err}"
    );
    let status = read_attr(&out, "/", "status").unwrap();
    assert!(
        status.starts_with("failed: interrupted at t = "),
        "{status}"
    );
    assert!(!read_array(&out, "/diagnostics/time").unwrap().is_empty());
}
