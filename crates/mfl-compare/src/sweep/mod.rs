//! The N-sweep: gap(N, t) = E_seeds[R_N(θ(t))] − R(ρ_t), and the same for the energy
//! E = ½R + (λ/2)∫|θ|² (the free energy without entropy).
//!
//! The PDE is solved once; R(ρ_t) and E(ρ_t) are taken from the problem's
//! [`mfl_pde::PotentialField::energy`] at the requested times (added to the snapshot times).
//! For every N the particle runs use the *same* seeds (common random numbers), and R_N is
//! evaluated on the population problem `eval` — the same [`MeanField`] as the PDE's, so both
//! sides go through one kernel.
//!
//! **Control variate at t = 0.** For θ_i i.i.d. from ρ₀ the linear part of the fluctuation,
//!
//! L_R = (2/N) Σ_i [Ψ(θ_i; ρ₀) − (λ/2)|θ_i|²] − 2 Σ_k r_k f_k   (f, r of ρ₀),
//! L_E = (1/N) Σ_i Ψ(θ_i; ρ₀) − ∫Ψ(·; ρ₀) dρ₀,
//!
//! has mean exactly 0 (Ψ = δE/δρ; r_k = ½ w_k ∂ℓ(y_k, f_k)), so R_N − L_R has the mean of R_N
//! with the O(N^{-1/2}) fluctuation removed (for the squared loss R_N − L_R − R(ρ₀) is exactly
//! the quadratic term Σ_k w_k (f_N,k − f_k)²). ρ₀ is the grid measure (cell centres, weights
//! ρ_m|cell|); when particles are drawn uniformly inside cells ([`mfl_particles::Init::GridDensity`])
//! the mean of L is O(h²) instead of 0, the same order as the grid's own error in R(ρ₀).
//! For t > 0 (and at t = 0 too, with an exactly zero mean under the particles' initial law)
//! the adjoint control variate of [`crate::adjoint`] is the default ([`Control::Adjoint`]);
//! the coupled one of [`crate::coupled`] remains available ([`Control::Coupled`]).

mod control;
mod record;
pub mod shard;
mod table;
mod trace;

pub use control::*;
pub use record::*;
pub use table::*;
pub use trace::*;

use crate::adjoint::{Adjoint, DensityPath, Functional};
use crate::coupled::grid_fluctuation;
use crate::error::CompareError;
use mfl_core::{Loss, MeanField};
use mfl_particles::{Dynamics, Gradient, Init, Recording};
use mfl_pde::{FvProblem, Observer, RunOptions};
use std::sync::Arc;

/// An N-sweep, set up by name instead of by position:
///
/// ```ignore
/// Sweep::new(&pde, rho0, &opts, &eval, |n| dynamics(n))
///     .ns(&[16, 32, 64]).seeds(&seeds).times(&[0.0, 1.0])
///     .options(SweepOptions { control: Control::Adjoint, ..Default::default() })
///     .run(&mut observer)
/// ```
///
/// runs [`gap_sweep_with`]: the PDE once (seen by `observer`), then every N on the same seeds.
pub struct Sweep<'a, F> {
    pde: &'a FvProblem,
    rho0: Vec<f64>,
    pde_opts: &'a RunOptions,
    eval: &'a MeanField,
    dynamics_for_n: F,
    ns: &'a [usize],
    seeds: &'a [u64],
    times: &'a [f64],
    options: SweepOptions<'a>,
}

impl<'a, F: Fn(usize) -> Dynamics> Sweep<'a, F> {
    /// The PDE problem, its ρ₀ and run options, the evaluation problem of R_N and the
    /// particle dynamics for each N (no N, seeds or times yet: set them before [`Sweep::run`]).
    pub fn new(
        pde: &'a FvProblem,
        rho0: Vec<f64>,
        pde_opts: &'a RunOptions,
        eval: &'a MeanField,
        dynamics_for_n: F,
    ) -> Self {
        Sweep {
            pde,
            rho0,
            pde_opts,
            eval,
            dynamics_for_n,
            ns: &[],
            seeds: &[],
            times: &[],
            options: SweepOptions::default(),
        }
    }

    /// The particle numbers N.
    pub fn ns(mut self, ns: &'a [usize]) -> Self {
        self.ns = ns;
        self
    }

    /// The seeds, the same for every N.
    pub fn seeds(mut self, seeds: &'a [u64]) -> Self {
        self.seeds = seeds;
        self
    }

    /// The record times, strictly increasing.
    pub fn times(mut self, times: &'a [f64]) -> Self {
        self.times = times;
        self
    }

    /// Control variate, distances, progress.
    pub fn options(mut self, options: SweepOptions<'a>) -> Self {
        self.options = options;
        self
    }

    /// Run it (the PDE run is seen by `observer`).
    pub fn run(self, observer: &mut dyn Observer) -> Result<GapTable, CompareError> {
        gap_sweep_with(
            self.pde,
            self.rho0,
            self.pde_opts,
            self.eval,
            self.dynamics_for_n,
            self.ns,
            self.seeds,
            self.times,
            observer,
            &self.options,
        )
    }
}

/// What [`gap_sweep_with`] does beyond the plain sweep.
#[derive(Clone, Copy, Default)]
pub struct SweepOptions<'a> {
    /// The control variate: adjoint (the default), coupled, or none.
    pub control: Control,
    /// Measure the distance between particles and ρ_t at every record (W1 in 1D, sliced W1
    /// with 16 directions in 2D).
    pub distances: bool,
    /// Called as `progress(N, seed_index)` when a seed's run for N is done (any order).
    pub progress: Option<&'a (dyn Fn(usize, usize) + Sync)>,
}

/// The plain N-sweep (see the module docs): [`gap_sweep_with`] without control variates at
/// t > 0 and without distances.
#[allow(clippy::too_many_arguments)]
pub fn gap_sweep(
    pde: &FvProblem,
    rho0: Vec<f64>,
    pde_opts: &RunOptions,
    eval: &MeanField,
    dynamics_for_n: impl Fn(usize) -> Dynamics,
    ns: &[usize],
    seeds: &[u64],
    times: &[f64],
    observer: &mut dyn Observer,
) -> Result<GapTable, CompareError> {
    gap_sweep_with(
        pde,
        rho0,
        pde_opts,
        eval,
        dynamics_for_n,
        ns,
        seeds,
        times,
        observer,
        &SweepOptions {
            control: Control::None,
            ..SweepOptions::default()
        },
    )
}

/// The N-sweep (see the module docs).
///
/// * `pde`, `rho0`, `pde_opts`: the PDE run (the `times` are added to its snapshot times;
///   `observer` sees the run as usual);
/// * `eval`: the population problem R_N is evaluated on — the same [`MeanField`] as the PDE's
///   potential;
/// * `dynamics_for_n(N)`: the particle dynamics with N particles, θ_i(0) i.i.d. from the law
///   of `rho0`, on the PDE's domain;
/// * `ns`, `seeds`: particle numbers and the seeds used for every N;
/// * `times`: strictly increasing record times (a t = 0 first gets the control variate);
/// * `options`: the control variate, distances, progress.
#[allow(clippy::too_many_arguments)]
pub fn gap_sweep_with(
    pde: &FvProblem,
    rho0: Vec<f64>,
    pde_opts: &RunOptions,
    eval: &MeanField,
    dynamics_for_n: impl Fn(usize) -> Dynamics,
    ns: &[usize],
    seeds: &[u64],
    times: &[f64],
    observer: &mut dyn Observer,
    options: &SweepOptions,
) -> Result<GapTable, CompareError> {
    let sweep = Sweep {
        pde,
        rho0,
        pde_opts,
        eval,
        dynamics_for_n,
        ns,
        seeds,
        times,
        options: *options,
    };
    let prepared = sweep.prepare(observer)?;
    let mut records = Vec::with_capacity(ns.len() * seeds.len());
    for &n in ns {
        records.extend(prepared.run_n(n, seeds)?);
    }
    prepared.into_table(records)
}

impl<'a, F: Fn(usize) -> Dynamics> Sweep<'a, F> {
    /// The part of the sweep that does not depend on the particles: the checks, the PDE run
    /// (seen by `observer`), the control variates' references (the adjoint solve). Then
    /// [`PreparedSweep::run_n`] runs any (N, seeds) block and [`PreparedSweep::into_table`]
    /// reduces the per-seed records, in a fixed (N, seed) order, into the [`GapTable`] — the
    /// same bits whichever process ran which block.
    pub fn prepare(
        self,
        observer: &mut dyn Observer,
    ) -> Result<PreparedSweep<'a, F>, CompareError> {
        let Sweep {
            pde,
            rho0,
            pde_opts,
            eval,
            dynamics_for_n,
            ns,
            seeds,
            times,
            options,
        } = self;
        let options = &options;
        check_times(times)?;
        if ns.is_empty() || ns.contains(&0) {
            return Err(CompareError::invalid("ns", "needs at least one N, all ≥ 1"));
        }
        let coupled = options.control == Control::Coupled;
        let adjoint = options.control == Control::Adjoint;
        let min_seeds = if options.control == Control::None {
            2
        } else {
            3
        };
        if seeds.len() < min_seeds {
            return Err(CompareError::invalid(
                "seeds",
                format!("needs at least {min_seeds} seeds for a standard error"),
            ));
        }
        let probe = dynamics_for_n(ns[0]);
        if adjoint {
            match &probe.init {
            Init::GridDensity { grid, .. } if grid.dim() == pde.grid.dim() => {}
            _ => {
                return Err(CompareError::invalid(
                    "adjoint",
                    "the adjoint control variate needs the particles drawn from a grid density                      (its initial term uses the exact mean under that law)",
                ))
            }
        }
        }
        if coupled {
            if eval.loss != Loss::Squared {
                return Err(CompareError::invalid(
                    "coupled",
                    "the coupled control variate's known mean holds for the squared loss only",
                ));
            }
            if eval.data != probe.problem.data {
                return Err(CompareError::invalid(
                "coupled",
                "the coupled control variate needs the particles to train on the evaluation data",
            ));
            }
            if !matches!(probe.gradient, Gradient::Exact) {
                return Err(CompareError::invalid(
                    "coupled",
                    "the coupled control variate needs exact (population) gradients",
                ));
            }
        }
        let cv_ref =
            (times[0] == 0.0 && !adjoint).then(|| CvReference::new(eval, &pde.grid, &rho0));
        let path = coupled.then_some((0.5 * probe.eta, eval));
        let nodes = if adjoint {
            adjoint_nodes(times, probe.eta, &pde.grid, eval.data.len())
        } else {
            Vec::new()
        };
        let trace = pde_trace(pde, rho0, pde_opts, times, path, &nodes, observer)?;
        let adjoint_part = if adjoint {
            let dpath =
                DensityPath::new(eval, &pde.grid, nodes.clone(), trace.node_density.clone())?;
            let targets: Vec<(f64, Functional)> = times
                .iter()
                .flat_map(|&t| [(t, Functional::Risk), (t, Functional::Energy)])
                .collect();
            let adj = Adjoint::solve(eval, &pde.grid, pde.temperature, &dpath, &targets)?;
            let initial_mean = match &probe.init {
                Init::GridDensity { grid, density } => adj.initial_mean(grid, density)?,
                _ => unreachable!("checked above"),
            };
            Some(AdjointPart {
                adjoint: Arc::new(adj),
                initial_mean,
                path_bytes: dpath.bytes(),
                node_times: nodes.clone(),
            })
        } else {
            None
        };
        let pde_fluctuation: Vec<f64> = trace
            .density
            .iter()
            .map(|rho| grid_fluctuation(eval, &pde.grid, rho))
            .collect();
        let mut recording = Recording::at(times.to_vec());
        if options.distances {
            recording = recording.with_positions();
        }
        Ok(PreparedSweep {
            grid: &pde.grid,
            eval,
            dynamics_for_n,
            ns: ns.to_vec(),
            seeds: seeds.to_vec(),
            times: times.to_vec(),
            options: *options,
            trace,
            cv_ref,
            adjoint_part,
            pde_fluctuation,
            recording,
        })
    }
}
