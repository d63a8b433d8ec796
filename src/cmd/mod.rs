//! One module per subcommand.

pub mod check;
pub mod compare;
pub mod inspect;
pub mod merge;
pub mod particles;
pub mod plot;
pub mod solve;
pub mod stationary;
pub mod sweep;

use crate::cli::{Cli, Command};
use mfl_compare::sweep::shard::Shard;
use mfl_io::h5::{Existing, OutputFile};
use std::path::{Path, PathBuf};

/// The error every command returns: one line, printed as `error: …`, exit status 1.
pub type CmdResult = Result<(), Box<dyn std::error::Error>>;

/// Dispatch a parsed command line.
pub fn run(args: &Cli) -> CmdResult {
    match &args.command {
        Command::Check { config } => check::run(config, &args.sets),
        Command::Compare {
            config,
            output,
            shard,
        } => compare::run(
            config,
            &args.sets,
            output.as_deref(),
            args.force,
            args.quiet,
            parse_shard(shard.as_deref())?,
        ),
        Command::Merge { shards, output } => merge::run(shards, output, args.force, args.quiet),
        Command::Inspect { file, config } => inspect::run(file, *config),
        Command::Plot {
            files,
            output,
            times,
        } => plot::run(files, output.as_deref(), times.clone(), args.quiet),
        Command::Particles {
            config,
            output,
            n,
            seeds,
            shard,
        } => particles::run(
            config,
            &args.sets,
            output.as_deref(),
            args.force,
            *n,
            *seeds,
            args.quiet,
            parse_shard(shard.as_deref())?,
        ),
        Command::Solve {
            config,
            output,
            sweeps,
            shard,
        } => sweep::run(
            ("solve", solve::run as sweep::PointRun),
            config,
            &args.sets,
            output.as_deref(),
            args.force,
            args.quiet,
            sweeps,
            parse_shard(shard.as_deref())?,
        ),
        Command::Stationary {
            config,
            output,
            sweeps,
            shard,
        } => sweep::run(
            ("stationary", stationary::run as sweep::PointRun),
            config,
            &args.sets,
            output.as_deref(),
            args.force,
            args.quiet,
            sweeps,
            parse_shard(shard.as_deref())?,
        ),
    }
}

/// `--shard i/k` parsed (0-based i in 0..k); the error names the option.
fn parse_shard(text: Option<&str>) -> Result<Option<Shard>, Box<dyn std::error::Error>> {
    match text {
        None => Ok(None),
        Some(t) => Ok(Some(Shard::parse(t).map_err(|e| format!("--shard {e}"))?)),
    }
}

/// `-o OUT` or, by default, the config's file stem with `.h5` in the current directory.
pub fn output_path(config: &Path, out: Option<&Path>) -> PathBuf {
    match out {
        Some(p) => p.to_path_buf(),
        None => PathBuf::from(format!(
            "{}.h5",
            config
                .file_stem()
                .map_or("mfl".into(), |s| s.to_string_lossy())
        )),
    }
}

/// Create the output of a run: refused when it is the config file or a data file the config
/// reads (`data.path`, `init.file`), and when it exists without `--force`; the exclusive lock is
/// taken before anything is truncated ([`OutputFile::create_with`]).
pub fn create_output(
    sc: &mfl_io::Scenario,
    config: &Path,
    out: &Path,
    command: &str,
    force: bool,
) -> Result<OutputFile, Box<dyn std::error::Error>> {
    let mut inputs: Vec<(String, PathBuf)> = vec![("the config file".into(), config.into())];
    for (key, p) in sc.input_files() {
        inputs.push((format!("the file of {key}"), p));
    }
    create_output_over(sc, &inputs, out, command, force)
}

/// [`create_output`] with the files the output must not be (`(what, path)`, e.g. the shards
/// a merge reads); also stores `config_base` (the absolute directory the config's relative
/// paths are resolved against), which `mfl merge` needs to rebuild the run.
pub fn create_output_over(
    sc: &mfl_io::Scenario,
    inputs: &[(String, PathBuf)],
    out: &Path,
    command: &str,
    force: bool,
) -> Result<OutputFile, Box<dyn std::error::Error>> {
    for (what, p) in inputs {
        if same_file(out, p) {
            return Err(format!(
                "refusing to write the output {} over {what}; choose another -o",
                out.display()
            )
            .into());
        }
    }
    let existing = if force {
        Existing::Replace
    } else {
        Existing::Refuse
    };
    let hash = sc.config_hash()?;
    let file = OutputFile::create_with(out, command, &sc.resolved_toml(), existing)?;
    file.set_attr("/", "config_hash", &hash)?;
    let base = std::path::absolute(&sc.base).unwrap_or_else(|_| sc.base.clone());
    file.set_attr("/", "config_base", &base.to_string_lossy())?;
    file.flush()?;
    Ok(file)
}

/// Print the data quadrature's warning when its K-vs-2K estimate is above
/// [`mfl_io::scenario::QuadratureError::WARN_FRACTION`] of the value (also under `--quiet`).
/// Advisory: a failure to build the refined rule is not reported here (`mfl check` does).
pub fn warn_quadrature(sc: &mfl_io::Scenario) {
    if let Some(w) = sc
        .quadrature_error()
        .ok()
        .flatten()
        .and_then(|q| q.warning())
    {
        eprintln!("{w}");
    }
}

/// Mark a failed run's output `status = failed: msg`, close it, and check that it reads back
/// so; returns the one-line message to report, which says what the file holds only when that
/// was verified.
pub fn fail_output(file: OutputFile, msg: &str) -> String {
    let path = file.path().to_path_buf();
    let status = format!("failed: {msg}");
    let marked = file.finish(&status);
    drop(file);
    let back = mfl_io::h5::read_attr(&path, "/", "status");
    match (marked, back) {
        (Ok(()), Ok(s)) if s == status => format!(
            "{msg} ({} keeps what was written before, with status = failed)",
            path.display()
        ),
        (Err(e), _) => format!(
            "{msg}; {} could not be marked failed ({e}): do not trust it",
            path.display()
        ),
        (_, Err(e)) => format!(
            "{msg}; {} does not read back ({e}): do not trust it",
            path.display()
        ),
        (_, Ok(s)) => format!(
            "{msg}; {} reads back with status = {s}: do not trust it",
            path.display()
        ),
    }
}

/// Whether `a` and `b` name the same existing file (same device and inode on Unix).
fn same_file(a: &Path, b: &Path) -> bool {
    let (Ok(ma), Ok(mb)) = (std::fs::metadata(a), std::fs::metadata(b)) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        ma.dev() == mb.dev() && ma.ino() == mb.ino()
    }
    #[cfg(not(unix))]
    {
        let _ = (ma, mb);
        matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
    }
}
