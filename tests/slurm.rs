//! A real single-node Slurm: scripts/slurm-local.sh installs slurm-wlm and munge with apt when
//! missing, writes a slurm.conf for this host and starts munged, slurmctld and slurmd; the
//! examples/slurm job arrays then run a sharded gap study (3 shards) and a temperature sweep
//! (2 tasks), a dependent merge job (`--dependency=afterok` on both arrays) joins the shards,
//! and the merged file is compared with the unsharded run, bit for bit. The daemons are stopped
//! at the end, also when an assertion fails. A daemon that does not start fails the test with
//! its own log (never a skip). Needs root.

mod common;
use common::{example, scratch};

use mfl::io::h5::{list_datasets, read_array, read_attr};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The Slurm daemons of `dir`, stopped when dropped.
struct LocalSlurm {
    dir: PathBuf,
    conf: PathBuf,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/slurm-local.sh")
}

fn text(o: &Output) -> String {
    format!(
        "status {}\n--- stdout\n{}--- stderr\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

impl LocalSlurm {
    fn start(dir: &Path) -> LocalSlurm {
        let o = Command::new("bash")
            .arg(script())
            .arg("start")
            .arg(dir)
            .output()
            .expect("bash runs");
        assert!(
            o.status.success(),
            "the local Slurm did not come up:\n{}",
            text(&o)
        );
        LocalSlurm {
            dir: dir.to_path_buf(),
            conf: dir.join("slurm.conf"),
        }
    }

    /// A Slurm client command (sbatch, squeue, ...) against this cluster.
    fn cmd(&self, name: &str) -> Command {
        let mut c = Command::new(name);
        c.env("SLURM_CONF", &self.conf);
        c
    }
}

impl Drop for LocalSlurm {
    fn drop(&mut self) {
        let o = Command::new("bash")
            .arg(script())
            .arg("stop")
            .arg(&self.dir)
            .output();
        if let Ok(o) = o {
            if !o.status.success() {
                eprintln!("stopping the local Slurm failed:\n{}", text(&o));
            }
        }
    }
}

/// The job outputs (`*.out`) of `dir`, for failure messages.
fn job_logs(dir: &Path) -> String {
    let mut s = String::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "out") {
            s += &format!(
                "--- {}\n{}",
                p.display(),
                std::fs::read_to_string(&p).unwrap_or_default()
            );
        }
    }
    s
}

const SETS: &str = "--set compare.n=[8,16,32] --set compare.seeds=7 \
    --set compare.times=[0.0,0.1,0.2] --set grid.cells=[80] --set particles.eta=0.02";

#[test]
fn job_arrays_on_a_real_slurm_shard_and_merge_into_the_unsharded_bits() {
    let started = std::time::Instant::now();
    let dir = scratch("slurm");
    let work = dir.join("work");
    std::fs::create_dir_all(&work).unwrap();
    let slurm = LocalSlurm::start(&dir.join("cluster"));
    let mfl = env!("CARGO_BIN_EXE_mfl");
    let slurm_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/slurm");
    let sbatch = |script: &str, args: &[&str], env: &[(&str, String)]| -> String {
        let mut c = slurm.cmd("sbatch");
        c.arg("--parsable").arg("--chdir").arg(&work).args(args);
        c.env("MFL", mfl);
        for (k, v) in env {
            c.env(k, v);
        }
        let o = c.arg(slurm_dir.join(script)).output().expect("sbatch runs");
        assert!(
            o.status.success(),
            "sbatch {script} {args:?} failed:\n{}\n{}",
            text(&o),
            job_logs(&work)
        );
        let id = String::from_utf8_lossy(&o.stdout).trim().to_string();
        id.split(';').next().unwrap().to_string()
    };
    let gap = work.join("gap");
    let compare_env = [
        ("CONFIG", example("gap_1d.toml").display().to_string()),
        ("OUT", gap.display().to_string()),
        ("MFL_ARGS", SETS.to_string()),
    ];
    // 1 CPU per task: two shards at a time on a 2-core node
    let array = sbatch(
        "compare.sbatch",
        &["--array=0-2", "--cpus-per-task=1", "--mem=500M"],
        &compare_env,
    );
    let sweep = sbatch(
        "sweep.sbatch",
        &["--array=0-1", "--cpus-per-task=1", "--mem=500M"],
        &[
            (
                "CONFIG",
                example("temperature_sweep.toml").display().to_string(),
            ),
            ("OUT", work.join("temp").display().to_string()),
            (
                "MFL_ARGS",
                "--set solver.t_end=0.2 --set grid.cells=[40]".to_string(),
            ),
        ],
    );
    // the merge waits for both arrays (afterok: every task succeeded); --wait returns when it
    // has run, with its exit status
    let dep = format!("--dependency=afterok:{array}:{sweep}");
    let merge = sbatch(
        "merge.sbatch",
        &[&dep, "--wait", "--cpus-per-task=1", "--mem=500M"],
        &compare_env,
    );
    let logs = job_logs(&work);
    for i in 0..3 {
        let s = work.join(format!("gap.shard{i}.h5"));
        assert_eq!(
            read_attr(&s, "/", "shard").unwrap_or_else(|e| panic!("{e}\n{logs}")),
            format!("{i}/3")
        );
    }
    for j in 0..3 {
        let p = work.join(format!("temp.p{j}.h5"));
        assert_eq!(
            read_attr(&p, "/", "status").unwrap_or_else(|e| panic!("{e}\n{logs}")),
            "complete"
        );
    }
    let merged = work.join("gap.h5");
    assert_eq!(read_attr(&merged, "/", "status").unwrap(), "complete");

    // the unsharded run, here
    let full = dir.join("full.h5");
    let mut c = Command::new(mfl);
    c.args(["compare", "--quiet"]).arg(example("gap_1d.toml"));
    c.args(SETS.split_whitespace());
    let o = c.arg("-o").arg(&full).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let table = String::from_utf8_lossy(&o.stdout).into_owned();
    let printed = std::fs::read_to_string(work.join(format!("mfl-merge_{merge}.out"))).unwrap();
    assert_eq!(printed, table, "the merge job prints the unsharded table");
    let names: Vec<String> = list_datasets(&full)
        .unwrap()
        .into_iter()
        .map(|(n, _)| n)
        .filter(|n| n.starts_with("/compare") || n.starts_with("/density"))
        .collect();
    assert!(names.len() > 30, "{names:?}");
    for name in &names {
        let (a, b) = (
            read_array(&full, name).unwrap(),
            read_array(&merged, name).unwrap(),
        );
        assert_eq!(a.shape(), b.shape(), "{name}");
        assert!(
            a.iter()
                .zip(b.iter())
                .all(|(x, y)| x.to_bits() == y.to_bits()),
            "{name} differs between the Slurm-merged and the unsharded run"
        );
    }
    // the jobs are gone from the queue
    let o = slurm
        .cmd("squeue")
        .args(["-h", "-o", "%i %T"])
        .output()
        .unwrap();
    assert!(o.status.success() && o.stdout.is_empty(), "{}", text(&o));
    eprintln!("slurm test: {:.1} s", started.elapsed().as_secs_f64());
}
