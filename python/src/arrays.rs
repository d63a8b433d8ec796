//! NumPy arrays into the files a config reads: the config layer takes files (`init.kind =
//! "snapshot"` reads `/density`, `"particles"` reads `/particles/final_theta`, `data.kind =
//! "csv"` reads rows `x_1, …, x_d, y`), so an array goes into one such file, read from NumPy's
//! memory without a copy (a non-contiguous array is copied once into standard layout), and is
//! read back bit for bit (CSV numbers in the shortest form that round-trips).

use crate::errors::MflError;
use mfl::io::h5::OutputFile;
use ndarray::Axis;
use numpy::PyReadonlyArrayDyn;
use pyo3::prelude::*;
use std::fmt::Write;
use std::path::PathBuf;

fn h5(e: mfl::io::h5::H5Error) -> PyErr {
    MflError::new_err(e.to_string())
}

/// Write `rho` [n0(, n1)] as the one snapshot `/density` [1, n0(, n1)] of a new file `path`.
#[pyfunction]
pub fn write_density(path: PathBuf, rho: PyReadonlyArrayDyn<'_, f64>) -> PyResult<()> {
    let a = rho.as_array();
    if !(1..=2).contains(&a.ndim()) {
        return Err(MflError::new_err(format!(
            "an initial density has 1 or 2 axes (the grid's), not {}",
            a.ndim()
        )));
    }
    let f = OutputFile::create(&path, "python", "").map_err(h5)?;
    f.write_array("/density", a.insert_axis(Axis(0)))
        .map_err(h5)?;
    f.finish("complete").map_err(h5)
}

/// Write particles `theta` [S, N, D] (or [N, D]: one seed) as `/particles/final_theta`.
#[pyfunction]
pub fn write_particles(path: PathBuf, theta: PyReadonlyArrayDyn<'_, f64>) -> PyResult<()> {
    let a = theta.as_array();
    let a = match a.ndim() {
        2 => a.insert_axis(Axis(0)),
        3 => a,
        k => {
            return Err(MflError::new_err(format!(
                "particles are [S, N, D] or [N, D], not {k}-dimensional"
            )))
        }
    };
    let f = OutputFile::create(&path, "python", "").map_err(h5)?;
    f.write_array("/particles/final_theta", a).map_err(h5)?;
    f.finish("complete").map_err(h5)
}

/// Write data points `x` [n, d] (or [n]) and labels `y` [n] as the CSV file `path`.
#[pyfunction]
pub fn write_data(
    path: PathBuf,
    x: PyReadonlyArrayDyn<'_, f64>,
    y: PyReadonlyArrayDyn<'_, f64>,
) -> PyResult<()> {
    let (x, y) = (x.as_array(), y.as_array());
    let x = match x.ndim() {
        1 => x.insert_axis(Axis(1)),
        2 => x,
        k => return Err(MflError::new_err(format!("x is [n, d] or [n], not {k}-d"))),
    };
    if y.ndim() != 1 || y.len() != x.shape()[0] {
        return Err(MflError::new_err(format!(
            "y must be [n] with n = {} rows of x, got shape {:?}",
            x.shape()[0],
            y.shape()
        )));
    }
    if x.iter().chain(y.iter()).any(|v| !v.is_finite()) {
        return Err(MflError::new_err("data points must be finite"));
    }
    let d = x.shape()[1];
    let mut s = String::new();
    let names: Vec<String> = (1..=d).map(|i| format!("x_{i}")).collect();
    let _ = writeln!(s, "{},y", names.join(","));
    for (row, yv) in x.outer_iter().zip(y.iter()) {
        for v in row.iter() {
            let _ = write!(s, "{v:?},");
        }
        let _ = writeln!(s, "{yv:?}");
    }
    std::fs::write(&path, s)
        .map_err(|e| MflError::new_err(format!("cannot write {}: {e}", path.display())))
}
