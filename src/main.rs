//! `mfl`: the command-line front end. See `mfl --help`.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // `mfl inspect out.h5 | head`: a closed pipe ends the process quietly, as for any Unix
    // filter, instead of a panic in println!
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let args = mfl::cli::Cli::parse();
    if let Some(mut n) = args.threads {
        if n == 0 {
            eprintln!("error: --threads must be at least 1");
            return ExitCode::from(2);
        }
        let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
        if n > cores {
            // more threads than cores only adds overhead (results are the same bits for any N)
            eprintln!("warning: --threads {n} is more than the {cores} cores; using {cores}");
            n = cores;
        }
        if let Err(e) = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
        {
            eprintln!("error: cannot set up {n} threads: {e}");
            return ExitCode::from(2);
        }
    }
    match mfl::cmd::run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            match mfl::signals::received() {
                // 130 after SIGINT, 143 after SIGTERM, as a shell reports a signalled process
                Some(sig) => ExitCode::from((128 + sig).clamp(0, 255) as u8),
                None => ExitCode::FAILURE,
            }
        }
    }
}
