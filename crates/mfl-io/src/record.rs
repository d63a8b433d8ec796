//! Observers that write runs into an [`OutputFile`](crate::h5::OutputFile).

use crate::h5::{H5Error, OutputFile};
use mfl_core::Grid;
use mfl_pde::{Diagnostics, Observer};
use ndarray::{ArrayView1, IxDyn};

/// Write a grid's cell centres as `/grid/theta_a` and its boxes as attributes.
pub fn write_grid(out: &OutputFile, grid: &Grid) -> Result<(), H5Error> {
    for (a, ax) in grid.axes.iter().enumerate() {
        let name = format!("/grid/theta_{a}");
        out.write_array(&name, ArrayView1::from(&ax.centres()).into_dyn())?;
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
        o.append_scalar("/diagnostics/step", d.step as f64)?;
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
