//! Observers that write runs into an [`crate::h5::OutputFile`].

use crate::h5::{H5Error, OutputFile};
use mfl_core::drive::{self, TimeStepper};
use mfl_core::Grid;
use mfl_particles::Ensemble;
use mfl_pde::{Diagnostics, Observer};
use ndarray::{Array2, ArrayView1, Axis, IxDyn};

/// Write a grid's cell centres as `/grid/theta_a` (its boxes as attributes) and, as the
/// coordinates of the root's datasets, `/theta_a` (see [`crate::layout`]).
pub fn write_grid(out: &OutputFile, grid: &Grid) -> Result<(), H5Error> {
    for (a, ax) in grid.axes.iter().enumerate() {
        let name = format!("/grid/theta_{a}");
        let centres = ax.centres();
        out.write_array(
            &format!("/theta_{a}"),
            ArrayView1::from(&centres).into_dyn(),
        )?;
        out.write_array(&name, ArrayView1::from(&centres).into_dyn())?;
        out.set_attr(
            &name,
            "boundary",
            match ax.boundary {
                mfl_core::Boundary::NoFlux => "noflux",
                mfl_core::Boundary::Periodic => "periodic",
            },
        )?;
        out.set_attr_f64(&name, "lo", ax.lo)?;
        out.set_attr_f64(&name, "hi", ax.hi)?;
    }
    Ok(())
}

/// Streams a PDE run into the file: `/time` + `/density` at the snapshot times and
/// `/diagnostics/*` on the diagnostics schedule; each append is flushed.
pub struct SolveWriter<'a> {
    /// The file written to.
    pub out: &'a mut OutputFile,
    shape: Vec<usize>,
}

impl<'a> SolveWriter<'a> {
    /// A writer for densities of the given grid.
    pub fn new(out: &'a mut OutputFile, grid: &Grid) -> Self {
        SolveWriter {
            out,
            shape: grid.shape(),
        }
    }

    fn diag(&mut self, d: &Diagnostics) -> Result<(), H5Error> {
        let o = &mut *self.out;
        let dd = d.mean.len();
        o.append_scalar("/diagnostics/time", d.t)?;
        o.append_scalar("/diagnostics/dt", d.dt)?;
        o.append_scalar("/diagnostics/step", d.step)?;
        o.append_scalar("/diagnostics/mass", d.mass)?;
        o.append_scalar("/diagnostics/min_density", d.min_density)?;
        o.append_scalar("/diagnostics/risk", d.risk.unwrap_or(f64::NAN))?;
        o.append_scalar("/diagnostics/free_energy", d.free_energy)?;
        o.append_scalar("/diagnostics/energy", d.energy)?;
        o.append_scalar("/diagnostics/entropy", d.entropy)?;
        o.append_scalar("/diagnostics/dissipation", d.dissipation)?;
        o.append_scalar("/diagnostics/gibbs_residual", d.gibbs_residual)?;
        o.append("/diagnostics/mean", ArrayView1::from(&d.mean).into_dyn())?;
        o.append(
            "/diagnostics/cov",
            ArrayView1::from(&d.cov)
                .into_shape_with_order(IxDyn(&[dd, dd]))
                .expect("D×D")
                .view(),
        )?;
        o.flush()
    }
}

impl Observer for SolveWriter<'_> {
    fn diagnostics(&mut self, d: &Diagnostics) -> Result<(), String> {
        self.diag(d).map_err(|e| e.to_string())
    }

    fn snapshot(&mut self, t: f64, rho: &[f64]) -> Result<(), String> {
        let frame = ArrayView1::from(rho)
            .into_shape_with_order(IxDyn(&self.shape))
            .map_err(|e| e.to_string())?;
        self.out
            .append("/density", frame)
            .map_err(|e| e.to_string())?;
        self.out
            .append_scalar("/time", t)
            .map_err(|e| e.to_string())?;
        self.out.flush().map_err(|e| e.to_string())
    }
}

/// Writes the temperatures of `mfl stationary` into `/stationary/*`, one row per temperature
/// as soon as it is computed (flushed): `temperature`, `density` [T, n0(, n1)], `free_energy`,
/// `risk`, `energy`, `entropy`, `mass`, `residual`, `iterations`, `converged` (1/0), and when
/// rates were computed `kappa`, `rate` (= 2κ, of F − F*), `rate_bound` (the rigorous
/// a-posteriori bound on |κ − κ_exact|), `rate_error` (the gap-based estimate of it) and `slow_mode` [T, n0(, n1)] (NaN rows where not computed); the residual history of
/// all temperatures concatenated in `history/residual` with `history/temperature`.
pub struct StationaryWriter<'a> {
    /// The file written to.
    pub out: &'a mut OutputFile,
    shape: Vec<usize>,
}

impl<'a> StationaryWriter<'a> {
    /// A writer for densities of the given grid.
    pub fn new(out: &'a mut OutputFile, grid: &Grid) -> Self {
        StationaryWriter {
            out,
            shape: grid.shape(),
        }
    }

    /// Append one temperature and flush.
    pub fn point(&mut self, p: &mfl_pde::stationary::StationaryPoint) -> Result<(), H5Error> {
        let o = &mut *self.out;
        let s = &p.state;
        let d = &p.diagnostics;
        let frame = |v: &[f64]| {
            ArrayView1::from(v)
                .into_shape_with_order(IxDyn(&self.shape))
                .expect("grid shape")
                .to_owned()
        };
        o.append_scalar("/stationary/temperature", s.temperature)?;
        o.append("/stationary/density", frame(&s.rho).view())?;
        o.append_scalar("/stationary/free_energy", d.free_energy)?;
        o.append_scalar("/stationary/risk", d.risk.unwrap_or(f64::NAN))?;
        o.append_scalar("/stationary/energy", d.energy)?;
        o.append_scalar("/stationary/entropy", d.entropy)?;
        o.append_scalar("/stationary/mass", d.mass)?;
        o.append_scalar("/stationary/residual", s.residual)?;
        o.append_scalar("/stationary/iterations", (s.evaluations - 1) as u64)?;
        o.append_scalar("/stationary/converged", u8::from(s.converged))?;
        let (kappa, bound, error, mode) = match &p.mode {
            Some(m) => (m.kappa, m.bound, m.error, m.vector.clone()),
            None => (f64::NAN, f64::NAN, f64::NAN, vec![f64::NAN; s.rho.len()]),
        };
        o.append_scalar("/stationary/kappa", kappa)?;
        o.append_scalar("/stationary/rate", 2.0 * kappa)?;
        o.append_scalar("/stationary/rate_bound", bound)?;
        o.append_scalar("/stationary/rate_error", error)?;
        o.append("/stationary/slow_mode", frame(&mode).view())?;
        for r in &s.history {
            o.append_scalar("/stationary/history/residual", *r)?;
            o.append_scalar("/stationary/history/temperature", s.temperature)?;
        }
        o.flush()
    }
}

/// Streams an [`Ensemble`] run into `/particles/*`, appending and flushing at every record
/// time, so that a run killed half-way leaves a readable file with the records so far:
/// `/particles/seeds` \[S\] and at each record `/particles/time` \[R\], `risk`, `energy` [S, R],
/// `risk_mean` (and `risk_se` for S > 1) \[R\], `mean` [S, R, D], `cov` [S, R, D, D],
/// `positions` [S, R, N, D] when kept; `final_theta` [S, N, D] at the end.
pub struct ParticlesWriter<'a> {
    /// The file written to.
    pub out: &'a mut OutputFile,
    positions: bool,
}

impl<'a> ParticlesWriter<'a> {
    /// A writer of `/particles` (with positions when `positions`).
    pub fn new(out: &'a mut OutputFile, positions: bool) -> Self {
        ParticlesWriter { out, positions }
    }

    fn start(&mut self, e: &Ensemble<'_>) -> Result<(), H5Error> {
        let seeds: Vec<u64> = e.systems().iter().map(|s| s.seed()).collect();
        self.out
            .write_array("/particles/seeds", ArrayView1::from(&seeds).into_dyn())?;
        self.out.flush()
    }

    fn record(&mut self, e: &Ensemble<'_>) -> Result<(), H5Error> {
        let stats = e.stats();
        let s = stats.len();
        let d = stats[0].mean.len();
        let o = &mut *self.out;
        o.append_scalar("/particles/time", e.time())?;
        let risk = Array2::from_shape_fn((s, 1), |(i, _)| stats[i].risk);
        let energy: Vec<f64> = stats.iter().map(|st| st.energy).collect();
        o.append_at(
            "/particles/risk",
            1,
            risk.column(0).to_owned().view().into_dyn(),
        )?;
        o.append_at("/particles/energy", 1, ArrayView1::from(&energy).into_dyn())?;
        // the seed mean and standard error of R_N, as ndarray computes them column-wise
        let mean = risk.mean_axis(Axis(0)).expect("≥ 1 seed");
        o.append_scalar("/particles/risk_mean", mean[0])?;
        if s > 1 {
            let se = risk.std_axis(Axis(0), 1.0) / (s as f64).sqrt();
            o.append_scalar("/particles/risk_se", se[0])?;
        }
        let m = Array2::from_shape_fn((s, d), |(i, a)| stats[i].mean[a]);
        o.append_at("/particles/mean", 1, m.view().into_dyn())?;
        let c = ndarray::Array3::from_shape_fn((s, d, d), |(i, a, b)| stats[i].cov[a * d + b]);
        o.append_at("/particles/cov", 1, c.view().into_dyn())?;
        if self.positions {
            let n = e.dynamics().n;
            let mut p = ndarray::Array3::zeros((s, n, d));
            for (i, sys) in e.systems().iter().enumerate() {
                p.index_axis_mut(Axis(0), i).assign(&sys.theta());
            }
            o.append_at("/particles/positions", 1, p.view().into_dyn())?;
        }
        o.flush()
    }

    fn finish(&mut self, e: &Ensemble<'_>) -> Result<(), H5Error> {
        let (s, n, d) = (e.systems().len(), e.dynamics().n, e.dynamics().dim());
        let mut fin = ndarray::Array3::zeros((s, n, d));
        for (i, sys) in e.systems().iter().enumerate() {
            fin.index_axis_mut(Axis(0), i).assign(&sys.theta());
        }
        self.out
            .write_array("/particles/final_theta", fin.view().into_dyn())?;
        self.out.flush()
    }
}

impl drive::Observer<Ensemble<'_>> for ParticlesWriter<'_> {
    fn start(&mut self, e: &Ensemble<'_>) -> Result<(), String> {
        ParticlesWriter::start(self, e).map_err(|e| e.to_string())
    }
    fn record(&mut self, e: &Ensemble<'_>) -> Result<(), String> {
        ParticlesWriter::record(self, e).map_err(|e| e.to_string())
    }
    fn finish(&mut self, e: &Ensemble<'_>) -> Result<(), String> {
        ParticlesWriter::finish(self, e).map_err(|e| e.to_string())
    }
}
