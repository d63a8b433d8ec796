//! Command-line arguments.
//!
//! The doc comments below are clap's `--help` text, where `[grid]` names a TOML table, not an
//! item to link.
#![allow(rustdoc::broken_intra_doc_links)]

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
    /// The subcommand.
    pub command: Command,
    /// Worker threads (default: all cores). Results are bit-identical for any value.
    #[arg(long, global = true)]
    pub threads: Option<usize>,
    /// Override a config key: `--set section.key=value` (a TOML value; repeatable).
    #[arg(long = "set", global = true, value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Replace an existing output file (refused otherwise; never one another run is writing).
    #[arg(long, global = true)]
    pub force: bool,
    /// No progress bar.
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
/// The subcommands.
pub enum Command {
    /// Parse and validate a config, then print the resolved problem (dimensions, grid, data,
    /// quadrature error estimate, T, λ and the explicit scheme's stable time step).
    Check {
        /// The TOML config.
        config: PathBuf,
    },
    /// Solve the mean-field Fokker–Planck PDE on the config's grid (finite volume,
    /// Scharfetter–Gummel fluxes) and stream snapshots and diagnostics into HDF5.
    ///
    /// With `--sweep key=v1,v2,...` one solve per value (each a `--set key=value` on the base
    /// config; several `--sweep` form the product, the last key varying fastest), point j
    /// written to `OUT.p{j}.h5` with attributes `sweep_point` (its `key=value` list) and
    /// `sweep = "j/J"`; `--shard i/k` runs only the points j with j mod k = i (0-based). `mfl
    /// plot OUT.p*.h5` overlays the points.
    Solve {
        /// The TOML config.
        config: PathBuf,
        /// Output file (default: the config's name with .h5, in the current directory); with
        /// `--sweep`, the points go to `<stem>.p{j}.h5` beside it.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Sweep a config key over values: `--sweep problem.temperature=0.05,0.1,0.2` (TOML
        /// values, comma-separated; repeatable: the product of the keys' values).
        #[arg(long = "sweep", value_name = "KEY=V1,V2,...")]
        sweeps: Vec<String>,
        /// Run only the sweep points j with j mod k = i (0-based i in 0..k; needs `--sweep`).
        #[arg(long, value_name = "i/k")]
        shard: Option<String>,
    },
    /// Solve for the stationary state ρ* = e^{−Ψ(θ; ρ*)/T}/Z on the config's grid directly
    /// (Anderson-accelerated fixed point on Ψ; the discrete Gibbs state of the FV scheme),
    /// for `problem.temperature` or each of `stationary.temperatures` in turn (warm-started).
    ///
    /// Prints per T the iterations, the Gibbs residual, F(ρ*), R(ρ*), the entropy and the
    /// predicted asymptotic rate 2κ of F(ρ_t) − F(ρ*) (κ the slowest eigenvalue of the
    /// linearised scheme, by Lanczos); writes /stationary/* into HDF5. Exits non-zero when a
    /// temperature does not converge, with the best iterate written and status = failed.
    ///
    /// `--sweep KEY=V1,V2,...` and `--shard i/k` as for `mfl solve`: one run per point, point j
    /// written to `OUT.p{j}.h5`.
    Stationary {
        /// The TOML config (needs [grid]; [stationary] and [init] optional).
        config: PathBuf,
        /// Output file (default: the config's name with .h5, in the current directory); with
        /// `--sweep`, the points go to `<stem>.p{j}.h5` beside it.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Sweep a config key over values (as for `mfl solve`; repeatable: the product).
        #[arg(long = "sweep", value_name = "KEY=V1,V2,...")]
        sweeps: Vec<String>,
        /// Run only the sweep points j with j mod k = i (0-based i in 0..k; needs `--sweep`).
        #[arg(long, value_name = "i/k")]
        shard: Option<String>,
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
        /// Run only shard i/k of the seeds (0-based i in 0..k, e.g. `--shard
        /// ${SLURM_ARRAY_TASK_ID}/${SLURM_ARRAY_TASK_COUNT}` in a job array submitted with
        /// `--array=0-(k-1)`): the seeds are split into k disjoint parts; the output holds
        /// /particles for this part's seeds and the attribute `shard = "i/k"`. Join the k
        /// outputs with `mfl merge`.
        #[arg(long, value_name = "i/k")]
        shard: Option<String>,
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
    ///
    /// With `--shard i/k` the run does only its part of the (N, seed) runs and writes their
    /// per-seed values (/shard/*) next to the PDE run; `mfl merge` joins the k shard files into
    /// the output the unsharded run writes, bit for bit.
    Compare {
        /// The TOML config (needs [solver], [particles] and [compare]).
        config: PathBuf,
        /// Output file (default: the config's name with .h5, in the current directory).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Run only shard i/k of the sweep (0-based i in 0..k, e.g. `--shard
        /// ${SLURM_ARRAY_TASK_ID}/${SLURM_ARRAY_TASK_COUNT}` in a job array submitted with
        /// `--array=0-(k-1)`): a deterministic share of the (N, seed) runs, balanced by cost ∝
        /// N (the error budget's η/2 reruns of the largest N, when it has them, are shared out
        /// too). Each shard recomputes the (cheap, deterministic) PDE run and its control
        /// variates itself, so shards need nothing from each other; `mfl merge` computes the
        /// budget's grid error and reduces everything.
        #[arg(long, value_name = "i/k")]
        shard: Option<String>,
    },
    /// Join the shard files of one `mfl compare --shard` or `mfl particles --shard` run into
    /// the output the unsharded run writes.
    ///
    /// Checks that every file is a complete shard (status = complete) of the same config
    /// (config_hash) written by this mfl version, and that the shards cover the run exactly
    /// once; refuses mixtures, gaps and duplicates with a message naming the files. For
    /// compare, recomputes the PDE run and the error budget (no particle runs) and reduces the
    /// per-seed values in the fixed (N, seed) order: /compare is bit-identical to the unsharded
    /// run's, and the same table is printed. For particles, joins /particles in seed order.
    Merge {
        /// The shard files (any order).
        #[arg(required = true, num_args = 1..)]
        shards: Vec<PathBuf>,
        /// The merged output file.
        #[arg(short, long, required = true)]
        output: PathBuf,
    },
    /// Summarise an output file: command, status, the run's setup (from the stored config),
    /// datasets and shapes, time ranges, final R and F (and R_N of particle runs).
    Inspect {
        /// An HDF5 file written by mfl.
        file: PathBuf,
        /// Also print the whole resolved config stored in the file.
        #[arg(long)]
        config: bool,
    },
    /// Draw PNG figures of output files into a directory (default: FILE's stem + `_plots`).
    ///
    /// What is drawn depends on what the files hold: `density.png` from /density (ρ at a few
    /// times: lines in 1D, heatmaps with a colour bar in 2D); `energy.png` from /diagnostics
    /// (R(t) and F(t), plus F − F* on a log axis with the fitted exponential rate when F* is
    /// known: the file's `f_star` attribute — `mfl solve` at T > 0 stores the F of the discrete
    /// Gibbs state — or the final F when the final Gibbs residual is below 1e-5) and from
    /// /particles (R_N ± se); `particles.png` from /particles (final θ over
    /// ρ at the final time: histogram in 1D, scatter in 2D, paths when positions were recorded);
    /// `stationary.png` from /stationary (`mfl stationary`: R, F and the predicted rate 2κ against
    /// T, and in 1D the densities ρ*_T); `gap.png` from /compare (|gap| ± se against N,
    /// log–log, fitted line and slope −1 guide).
    /// With several files, energy curves of all share one figure (an `mfl stationary` file adds
    /// its predicted rate 2κ at the run's T to the legend), and a particles file is drawn over
    /// the density of a solve file given with it. Prints the written paths.
    Plot {
        /// HDF5 files written by mfl (the first one names the default directory).
        #[arg(required = true, num_args = 1..)]
        files: Vec<PathBuf>,
        /// Output directory (created if missing).
        #[arg(short, long, value_name = "DIR")]
        output: Option<PathBuf>,
        /// Times to draw (comma-separated; the nearest recorded snapshot or /compare time is
        /// used). Default: 6 evenly spaced lines in 1D, 4 heatmaps in 2D, up to 6 gap curves.
        #[arg(long, value_delimiter = ',', value_name = "T1,T2,...")]
        times: Option<Vec<f64>>,
    },
}
