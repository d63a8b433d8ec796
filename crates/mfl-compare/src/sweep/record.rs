//! The per-seed side of a sweep: a [`PreparedSweep`] (the PDE and the control variates'
//! references, done once) runs any block of seeds for one N into [`SeedRecord`]s — everything
//! of one (N, seed) run the gap table reduces — and reduces a complete set of records into the
//! [`GapTable`] in the fixed (N, seed) order of the sweep. Which process ran which block does
//! not change a bit of the table: each record depends on (N, seed) alone, and the reductions
//! (means, standard errors, control variates, fits) only ever see the records in that order.

use crate::coupled::{CoupledCv, ResidualPath};
use crate::distance::{sliced_w1_2d, w1_1d};
use crate::error::CompareError;
use crate::stats::Summary;
use mfl_core::{Grid, MeanField};
use mfl_particles::{Dynamics, Recording, Trajectory};
use rayon::prelude::*;
use std::collections::BTreeMap;

use super::control::*;
use super::table::*;
use super::trace::{same_time, PdeTrace};
use super::SweepOptions;

/// What the gap table needs of one particle run (N, seed): the values at every record time
/// `j` of the sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct SeedRecord {
    /// Number of particles.
    pub n: usize,
    /// The seed.
    pub seed: u64,
    /// R_N(θ(t_j)).
    pub risk: Vec<f64>,
    /// E_N(θ(t_j)).
    pub energy: Vec<f64>,
    /// The adjoint control variate Z_R(t_j) (adjoint sweeps).
    pub z_risk: Option<Vec<f64>>,
    /// Z_E(t_j) (adjoint sweeps).
    pub z_energy: Option<Vec<f64>>,
    /// R_N of the independent McKean–Vlasov copy (coupled sweeps).
    pub bar_risk: Option<Vec<f64>>,
    /// E_N of the independent copy (coupled sweeps).
    pub bar_energy: Option<Vec<f64>>,
    /// The t = 0 linear control variate (L_R, L_E) (sweeps starting at t = 0 without the
    /// adjoint one).
    pub linear: Option<(f64, f64)>,
    /// Distance between the particles and ρ_t (when asked for).
    pub distance: Option<Vec<f64>>,
}

/// A sweep whose PDE part is done ([`super::Sweep::prepare`]): run blocks of seeds with
/// [`PreparedSweep::run_n`], reduce them with [`PreparedSweep::into_table`].
pub struct PreparedSweep<'a, F> {
    pub(super) grid: &'a Grid,
    pub(super) eval: &'a MeanField,
    pub(super) dynamics_for_n: F,
    pub(super) ns: Vec<usize>,
    pub(super) seeds: Vec<u64>,
    pub(super) times: Vec<f64>,
    pub(super) options: SweepOptions<'a>,
    pub(super) trace: PdeTrace,
    pub(super) cv_ref: Option<CvReference>,
    pub(super) adjoint_part: Option<AdjointPart>,
    pub(super) pde_fluctuation: Vec<f64>,
    pub(super) recording: Recording,
}

impl<F: Fn(usize) -> Dynamics> PreparedSweep<'_, F> {
    /// The sweep's particle numbers.
    pub fn ns(&self) -> &[usize] {
        &self.ns
    }

    /// The sweep's seeds.
    pub fn seeds(&self) -> &[u64] {
        &self.seeds
    }

    /// The sweep's record times.
    pub fn times(&self) -> &[f64] {
        &self.times
    }

    /// The adjoint control variate's fields (adjoint sweeps).
    pub fn adjoint_part(&self) -> Option<&AdjointPart> {
        self.adjoint_part.as_ref()
    }

    /// The PDE's residual path (coupled sweeps).
    pub fn residual_path(&self) -> Option<&ResidualPath> {
        self.trace.path.as_ref()
    }

    /// The evaluation problem of R_N.
    pub fn eval(&self) -> &MeanField {
        self.eval
    }

    /// Run N particles on `seeds` (any subset of the sweep's seeds, in any order) and return
    /// one record per seed, in the order of `seeds`. `options.progress` is called per seed.
    pub fn run_n(&self, n: usize, seeds: &[u64]) -> Result<Vec<SeedRecord>, CompareError> {
        if !self.ns.contains(&n) {
            return Err(CompareError::invalid(
                "n",
                format!("N = {n} is not one of the sweep's {:?}", self.ns),
            ));
        }
        if let Some(s) = seeds.iter().find(|s| !self.seeds.contains(s)) {
            return Err(CompareError::invalid(
                "seeds",
                format!("seed {s} is not one of the sweep's"),
            ));
        }
        let dynamics = (self.dynamics_for_n)(n);
        if dynamics.n != n {
            return Err(CompareError::invalid(
                "dynamics_for_n",
                format!("asked for N = {n}, got dynamics with N = {}", dynamics.n),
            ));
        }
        let (eval, times) = (self.eval, &self.times);
        let progress = self.options.progress;
        let tick = |i: usize| {
            if let Some(p) = progress {
                p(n, i)
            }
        };
        let last = times.len() - 1;
        let mut zs: Option<Vec<Vec<Vec<f64>>>> = None;
        let (trajs, independent): (Vec<Trajectory>, Option<Vec<Trajectory>>) =
            match (&self.adjoint_part, &self.trace.path) {
                (Some(part), _) => {
                    let runs = part.run(&dynamics, eval, seeds, &self.recording, tick)?;
                    let (a, z): (Vec<_>, Vec<_>) = runs.into_iter().unzip();
                    zs = Some(z);
                    (a, None)
                }
                (None, Some(path)) => {
                    let field = |t: f64, out: &mut [f64]| path.at(t, out);
                    let pairs =
                        dynamics.run_seeds_coupled(eval, seeds, &self.recording, &field, tick)?;
                    let (a, b) = pairs.into_iter().unzip();
                    (a, Some(b))
                }
                (None, None) => (
                    dynamics.run_seeds(eval, seeds, &self.recording, |i, rec| {
                        if same_time(rec.time, times[last]) {
                            tick(i)
                        }
                    })?,
                    None,
                ),
            };
        for tr in &trajs {
            for (j, &t) in times.iter().enumerate() {
                if !same_time(tr.time[j], t) {
                    return Err(CompareError::invalid(
                        "times",
                        format!("seed {} recorded at t = {}, not {t}", tr.seed, tr.time[j]),
                    ));
                }
            }
        }
        let lin: Option<Vec<(f64, f64)>> = match &self.cv_ref {
            Some(c) => Some(
                seeds
                    .par_iter()
                    .map(|&s| c.linear_terms(eval, &dynamics, s))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            None => None,
        };
        let (grid, density) = (self.grid, &self.trace.density);
        let dist: Option<Vec<Vec<f64>>> = if self.options.distances {
            Some(
                trajs
                    .par_iter()
                    .map(|tr| {
                        (0..times.len())
                            .map(|j| distance(tr, j, grid, &density[j]))
                            .collect::<Result<Vec<_>, _>>()
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            )
        } else {
            None
        };
        Ok(trajs
            .iter()
            .enumerate()
            .map(|(k, tr)| {
                let z = zs.as_ref().map(|z| &z[k]);
                SeedRecord {
                    n,
                    seed: tr.seed,
                    risk: tr.risk.clone(),
                    energy: tr.energy.clone(),
                    z_risk: z.map(|z| (0..times.len()).map(|j| z[j][2 * j]).collect()),
                    z_energy: z.map(|z| (0..times.len()).map(|j| z[j][2 * j + 1]).collect()),
                    bar_risk: independent.as_ref().map(|ind| ind[k].risk.clone()),
                    bar_energy: independent.as_ref().map(|ind| ind[k].energy.clone()),
                    linear: lin.as_ref().map(|l| l[k]),
                    distance: dist.as_ref().map(|d| d[k].clone()),
                }
            })
            .collect())
    }

    /// Reduce the records of every (N, seed) of the sweep — each exactly once, in any order —
    /// into the gap table, taking them in the sweep's (N, seed) order. A missing, repeated or
    /// foreign (N, seed), or a record without a field this sweep's control variate needs, is
    /// refused with a message naming it.
    pub fn into_table(self, records: Vec<SeedRecord>) -> Result<GapTable, CompareError> {
        let nt = self.times.len();
        let mut by_key: BTreeMap<(usize, u64), SeedRecord> = BTreeMap::new();
        for r in records {
            if !self.ns.contains(&r.n) || !self.seeds.contains(&r.seed) {
                return Err(CompareError::invalid(
                    "records",
                    format!("(N = {}, seed {}) is not part of the sweep", r.n, r.seed),
                ));
            }
            let lens_ok = r.risk.len() == nt
                && r.energy.len() == nt
                && [
                    &r.z_risk,
                    &r.z_energy,
                    &r.bar_risk,
                    &r.bar_energy,
                    &r.distance,
                ]
                .iter()
                .all(|v| v.as_ref().is_none_or(|v| v.len() == nt));
            let fields_ok = (r.z_risk.is_some() && r.z_energy.is_some())
                == self.adjoint_part.is_some()
                && (r.bar_risk.is_some() && r.bar_energy.is_some()) == self.trace.path.is_some()
                && r.linear.is_some() == self.cv_ref.is_some()
                && r.distance.is_some() == self.options.distances;
            if !lens_ok || !fields_ok {
                return Err(CompareError::invalid(
                    "records",
                    format!(
                        "(N = {}, seed {}) does not hold the values of this sweep \
                         ({nt} record times, its control variate and distances)",
                        r.n, r.seed
                    ),
                ));
            }
            let key = (r.n, r.seed);
            if by_key.insert(key, r).is_some() {
                return Err(CompareError::invalid(
                    "records",
                    format!("(N = {}, seed {}) is given twice", key.0, key.1),
                ));
            }
        }
        let mut rows = Vec::with_capacity(self.ns.len() * nt);
        for &n in &self.ns {
            let mut block = Vec::with_capacity(self.seeds.len());
            for &s in &self.seeds {
                block.push(by_key.remove(&(n, s)).ok_or_else(|| {
                    CompareError::invalid("records", format!("(N = {n}, seed {s}) is missing"))
                })?);
            }
            self.reduce_n(n, &block, &mut rows)?;
        }
        Ok(GapTable {
            times: self.times,
            ns: self.ns,
            seeds: self.seeds,
            pde_risk: self.trace.risk,
            pde_energy: self.trace.energy,
            pde_fluctuation: self.pde_fluctuation,
            pde_density: self.trace.density,
            path: self.trace.path,
            adjoint: self.adjoint_part,
            rows,
        })
    }

    /// The rows of one N from its records in seed order.
    fn reduce_n(
        &self,
        n: usize,
        recs: &[SeedRecord],
        rows: &mut Vec<GapRow>,
    ) -> Result<(), CompareError> {
        let trace = &self.trace;
        for (j, &t) in self.times.iter().enumerate() {
            let risk_samples: Vec<f64> = recs.iter().map(|r| r.risk[j]).collect();
            let energy_samples: Vec<f64> = recs.iter().map(|r| r.energy[j]).collect();
            let risk = Summary::of(&risk_samples);
            let energy = Summary::of(&energy_samples);
            let control = match (self.cv_ref.is_some(), j) {
                (true, 0) => {
                    let lin = |r: &SeedRecord| r.linear.expect("checked");
                    let rc: Vec<f64> = risk_samples
                        .iter()
                        .zip(recs)
                        .map(|(v, r)| v - lin(r).0)
                        .collect();
                    let ec: Vec<f64> = energy_samples
                        .iter()
                        .zip(recs)
                        .map(|(v, r)| v - lin(r).1)
                        .collect();
                    let (rs, es) = (Summary::of(&rc), Summary::of(&ec));
                    Some(ControlVariate {
                        gap_risk: rs.mean - trace.risk[0],
                        gap_energy: es.mean - trace.energy[0],
                        variance_reduction_risk: variance_ratio(&risk, &rs),
                        variance_reduction_energy: variance_ratio(&energy, &es),
                        risk: rs,
                        energy: es,
                        risk_samples: rc,
                    })
                }
                _ => None,
            };
            let (coupled, coupled_energy) = if trace.path.is_some() && t > 0.0 {
                let field = |f: fn(&SeedRecord) -> &Option<Vec<f64>>| -> Vec<f64> {
                    recs.iter()
                        .map(|r| f(r).as_ref().expect("checked")[j])
                        .collect()
                };
                let bar = field(|r| &r.bar_risk);
                let bar_e = field(|r| &r.bar_energy);
                let v = self.pde_fluctuation[j];
                (
                    Some(CoupledCv::new(&risk_samples, &bar, trace.risk[j], v, n)?),
                    Some(CoupledCv::new(
                        &energy_samples,
                        &bar_e,
                        trace.energy[j],
                        0.5 * v,
                        n,
                    )?),
                )
            } else {
                (None, None)
            };
            let adjoint = self.adjoint_part.as_ref().map(|_| {
                let z = |f: fn(&SeedRecord) -> &Option<Vec<f64>>| -> Vec<f64> {
                    recs.iter()
                        .map(|r| f(r).as_ref().expect("checked")[j])
                        .collect()
                };
                AdjointCv::new(
                    &risk_samples,
                    &energy_samples,
                    z(|r| &r.z_risk),
                    z(|r| &r.z_energy),
                    trace.risk[j],
                    trace.energy[j],
                )
            });
            let distance = if self.options.distances {
                let d: Vec<f64> = recs
                    .iter()
                    .map(|r| r.distance.as_ref().expect("checked")[j])
                    .collect();
                Some(Summary::of(&d))
            } else {
                None
            };
            rows.push(GapRow {
                n,
                time: t,
                gap_risk: risk.mean - trace.risk[j],
                gap_energy: energy.mean - trace.energy[j],
                risk,
                energy,
                risk_samples,
                energy_samples,
                control,
                coupled,
                coupled_energy,
                adjoint,
                distance,
            });
        }
        Ok(())
    }
}

/// Distance between the particles of `tr` at record `j` and the density `rho` (W1 in 1D,
/// sliced W1 with 16 directions in 2D).
fn distance(tr: &Trajectory, j: usize, grid: &Grid, rho: &[f64]) -> Result<f64, CompareError> {
    let pos = tr
        .positions
        .as_ref()
        .expect("positions are recorded when distances are asked for");
    let p = pos.index_axis(ndarray::Axis(0), j);
    Ok(match grid.dim() {
        1 => w1_1d(&p.column(0).to_vec(), grid, rho)?,
        _ => sliced_w1_2d(p, grid, rho, 16, 2)?,
    })
}
