//! Command-line arguments.

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Mean-field limit of two-layer neural networks: solve the Fokker–Planck PDE for the neuron
/// density, simulate the N-neuron network, and measure the O(1/N) gap between them.
///
/// Every command reads a TOML config (see docs/config.md and examples/); `--set key=value`
/// overrides any key, e.g. `--set solver.t_end=0.5 --set grid.cells=[64]`.
#[derive(Debug, Parser)]
#[command(name = "mfl", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Worker threads (default: all cores). Results are bit-identical for any value.
    #[arg(long, global = true)]
    pub threads: Option<usize>,
    /// Override a config key: `--set section.key=value` (a TOML value; repeatable).
    #[arg(long = "set", global = true, value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// No progress bar.
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse and validate a config, then print the resolved problem (dimensions, grid, data,
    /// quadrature error estimate, T, λ and the explicit scheme's stable time step).
    Check {
        /// The TOML config.
        config: PathBuf,
    },
    /// Solve the mean-field Fokker–Planck PDE on the config's grid (finite volume,
    /// Scharfetter–Gummel fluxes) and stream snapshots and diagnostics into HDF5.
    Solve {
        /// The TOML config.
        config: PathBuf,
        /// Output file (default: the config's name with .h5, in the current directory).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Simulate the N-neuron network under noisy SGD (mean-field Langevin particles) for
    /// several seeds, recording R_N at the output times, and write /particles into HDF5.
    Particles {
        /// The TOML config.
        config: PathBuf,
        /// Output file (default: the config's name with .h5, in the current directory).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Number of neurons N (overrides particles.n).
        #[arg(long)]
        n: Option<usize>,
        /// Number of seeds (overrides particles.seeds).
        #[arg(long)]
        seeds: Option<usize>,
    },
    /// Measure the gap R_N − R(ρ_t) between the N-neuron network and its mean-field limit.
    ///
    /// Solves the PDE once, runs the particles for every N of `[compare]` with the same seeds
    /// (common random numbers), and prints per record time the gap, its standard error, the
    /// across-seed spread, the variance reduction of the control variates and the distance
    /// between particles and ρ_t; then the slope of log|gap| on log N with a 95% confidence
    /// interval and the prefactor C in gap ≈ C/N. The error budget (PDE on a grid refined ×2,
    /// largest N at η/2) warns when either error is not ≥ 10× below the gap. Writes the PDE run
    /// and /compare/* into HDF5.
    Compare {
        /// The TOML config (needs [solver], [particles] and [compare]).
        config: PathBuf,
        /// Output file (default: the config's name with .h5, in the current directory).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Summarise an output file: command, status, datasets and shapes, time range, final R and F.
    Inspect {
        /// An HDF5 file written by mfl.
        file: PathBuf,
    },
}
