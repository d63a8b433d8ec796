//! `mfl inspect OUT.h5 [--config]`: what a file holds, in a few lines.

use super::CmdResult;
use mfl_io::h5::{read_array, read_attr};
use mfl_io::plot::{num, Run};
use std::path::Path;

fn last(path: &Path, name: &str) -> Option<f64> {
    read_array(path, name)
        .ok()
        .and_then(|a| a.iter().last().copied())
}

fn span(run: &Run, name: &str) -> Option<String> {
    let t = run.vec(name).ok()?;
    let (a, b) = (t.first()?, t.last()?);
    Some(format!("{} at t ∈ [{}, {}]", t.len(), num(*a), num(*b)))
}

/// `mfl inspect FILE`: what an output holds.
pub fn run(path: &Path, show_config: bool) -> CmdResult {
    let run = Run::open(path)?;
    let version = read_attr(path, "/", "mfl_version").unwrap_or_default();
    println!("file        {}", path.display());
    println!(
        "command     mfl {} (mfl {version}), status: {}",
        run.command, run.status
    );
    if !run.config.is_empty() {
        let unit = format!(
            "{} {} {}",
            run.text("unit.kind").unwrap_or_default(),
            run.text("unit.activation")
                .filter(|_| run.text("unit.kind").as_deref() == Some("ridge"))
                .unwrap_or_default(),
            run.text("unit.param").unwrap_or_default()
        );
        println!(
            "setup       unit {}, data {}",
            unit.split_whitespace().collect::<Vec<_>>().join(" "),
            run.text("data.kind").unwrap_or_default()
        );
        if run.config.contains_key("solver") {
            println!("pde         {}", run.pde_label());
        }
        if run.config.contains_key("particles") {
            println!("particles   {}", run.particles_label());
        }
    }
    if let Ok(s) = read_attr(path, "/", "solver") {
        println!("solver      {s}");
    }
    if let Ok(s) = read_attr(path, "/", "shard") {
        println!("shard       {s} (a part of the run: join the shards with `mfl merge`)");
    }
    if let Ok(s) = read_attr(path, "/", "merged_from") {
        println!("merged from {}", s.lines().collect::<Vec<_>>().join(", "));
    }
    if let Ok(s) = read_attr(path, "/", "sweep_point") {
        let j = read_attr(path, "/", "sweep").unwrap_or_default();
        println!("sweep point {j}: {s}");
    }
    println!("datasets");
    for (name, shape) in mfl_io::h5::list_datasets(path)? {
        println!("  {name:<32} {shape:?}");
    }
    if let Some(s) = span(&run, "/time") {
        println!("snapshots   {s}");
    }
    if let Some(s) = span(&run, "/diagnostics/time") {
        println!("diagnostics {s}");
    }
    if let Some(t) = last(path, "/diagnostics/time") {
        println!(
            "final       t = {}, R = {}, F = {}, mass = {}, Gibbs residual = {}",
            num(t),
            fmt(last(path, "/diagnostics/risk")),
            fmt(last(path, "/diagnostics/free_energy")),
            fmt(last(path, "/diagnostics/mass")),
            fmt(last(path, "/diagnostics/gibbs_residual"))
        );
    }
    if let Ok(fs) = mfl_io::h5::read_attr_f64(path, "/", "f_star") {
        let a = |n: &str| mfl_io::h5::read_attr_f64(path, "/diagnostics", n).ok();
        match (a("decay_rate"), a("decay_rate_lo"), a("decay_rate_hi")) {
            (Some(k), Some(lo), Some(hi)) => println!(
                "decay       F* = {fs:.12e}; F − F* ∝ e^(−κt), κ = {k:.6e} [{lo:.6e}, {hi:.6e}] \
                 over t ∈ [{}, {}]",
                fmt(a("decay_window_start")),
                fmt(a("decay_window_end"))
            ),
            _ => println!("f_star      {fs:.12e}"),
        }
    }
    if let Some(t) = last(path, "/stationary/temperature") {
        println!(
            "stationary  last T = {}: F* = {}, R* = {}, Gibbs residual = {}, predicted rate 2κ = {}",
            num(t),
            fmt(last(path, "/stationary/free_energy")),
            fmt(last(path, "/stationary/risk")),
            fmt(last(path, "/stationary/residual")),
            fmt(last(path, "/stationary/rate"))
        );
    }
    if let Some(s) = span(&run, "/particles/time") {
        println!(
            "particles   records {s}; final mean R_N over seeds = {} ± {}",
            fmt(last(path, "/particles/risk_mean")),
            fmt(last(path, "/particles/risk_se"))
        );
    }
    if let Some(s) = span(&run, "/compare/time") {
        println!(
            "compare     {s}, N ∈ {:?}",
            run.vec("/compare/n").unwrap_or_default()
        );
    }
    match read_attr(path, "/", "config") {
        Ok(cfg) if show_config => {
            println!("config");
            for l in cfg.lines() {
                println!("  {l}");
            }
        }
        Ok(cfg) => println!(
            "config      {} lines (mfl inspect --config; h5py: f.attrs['config'])",
            cfg.lines().count()
        ),
        Err(_) => {}
    }
    Ok(())
}

fn fmt(v: Option<f64>) -> String {
    v.map_or("-".into(), |x| format!("{x:.10e}"))
}
