//! One module per subcommand.

pub mod check;
pub mod compare;
pub mod inspect;
pub mod particles;
pub mod plot;
pub mod solve;
pub mod stationary;

use crate::cli::{Cli, Command};
use std::path::{Path, PathBuf};

/// The error every command returns: one line, printed as `error: …`, exit status 1.
pub type CmdResult = Result<(), Box<dyn std::error::Error>>;

/// Dispatch a parsed command line.
pub fn run(args: &Cli) -> CmdResult {
    match &args.command {
        Command::Check { config } => check::run(config, &args.sets),
        Command::Compare { config, output } => {
            compare::run(config, &args.sets, output.as_deref(), args.quiet)
        }
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
        } => particles::run(
            config,
            &args.sets,
            output.as_deref(),
            *n,
            *seeds,
            args.quiet,
        ),
        Command::Solve { config, output } => {
            solve::run(config, &args.sets, output.as_deref(), args.quiet)
        }
        Command::Stationary { config, output } => {
            stationary::run(config, &args.sets, output.as_deref(), args.quiet)
        }
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

/// The resolved config (after `--set`), as TOML text for the output's `config` attribute.
pub fn resolved_config(cfg: &mfl_io::Config) -> String {
    toml::to_string(cfg).unwrap_or_else(|e| format!("# config could not be serialised: {e}"))
}
