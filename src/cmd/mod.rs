//! One module per subcommand.

mod check;

use crate::cli::{Cli, Command};

/// The error every command returns: one line, printed as `error: …`, exit status 1.
pub type CmdResult = Result<(), Box<dyn std::error::Error>>;

/// Dispatch a parsed command line.
pub fn run(args: &Cli) -> CmdResult {
    match &args.command {
        Command::Check { config } => check::run(config, &args.sets),
    }
}
