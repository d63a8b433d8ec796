//! `mfl inspect OUT.h5`: what a file holds, in a few lines.

use super::CmdResult;
use mfl_io::h5::{list_datasets, read_array, read_attr};
use std::path::Path;

fn last(path: &Path, name: &str) -> Option<f64> {
    read_array(path, name)
        .ok()
        .and_then(|a| a.iter().last().copied())
}

pub fn run(path: &Path) -> CmdResult {
    let command = read_attr(path, "/", "command")?;
    let status = read_attr(path, "/", "status").unwrap_or_else(|_| "unknown".into());
    let version = read_attr(path, "/", "mfl_version").unwrap_or_default();
    println!("file        {}", path.display());
    println!("command     mfl {command} (mfl {version}), status: {status}");
    if let Ok(s) = read_attr(path, "/", "solver") {
        println!("solver      {s}");
    }
    let sets = list_datasets(path)?;
    println!("datasets");
    for (name, shape) in &sets {
        println!("  {name:<32} {shape:?}");
    }
    if let Ok(t) = read_array(path, "/time") {
        if let (Some(a), Some(b)) = (t.iter().next(), t.iter().last()) {
            println!("snapshots   {} at t ∈ [{a}, {b}]", t.len());
        }
    }
    if let Some(t) = last(path, "/diagnostics/time") {
        println!(
            "final       t = {t}, R = {}, F = {}, mass = {}",
            fmt(last(path, "/diagnostics/risk")),
            fmt(last(path, "/diagnostics/free_energy")),
            fmt(last(path, "/diagnostics/mass"))
        );
    }
    if let Some(t) = last(path, "/particles/time") {
        println!(
            "particles   t = {t}, mean R_N over seeds = {}",
            fmt(last(path, "/particles/risk_mean"))
        );
    }
    if let Ok(cfg) = read_attr(path, "/", "config") {
        println!(
            "config      {} lines (h5py: f.attrs['config'])",
            cfg.lines().count()
        );
    }
    Ok(())
}

fn fmt(v: Option<f64>) -> String {
    v.map_or("-".into(), |x| format!("{x:.10e}"))
}
