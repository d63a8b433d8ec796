//! `mfl merge SHARDS... -o OUT.h5`: join the shard files of one `mfl compare --shard` or
//! `mfl particles --shard` run into the output the unsharded run writes.
//!
//! The shards are checked before anything is written: each is a complete mfl shard, all of
//! one command, one config (`config_hash`, which covers the input files too) and this mfl
//! version, with one `shard = "i/k"` for each i in 0..k exactly once, each holding exactly the
//! runs `i/k` stands for. The run is rebuilt from the stored config (relative paths against the
//! stored `config_base`); its config hash must still be the shards' (the input files did not
//! change). Compare: the PDE run, its control-variate references and the error budget are
//! recomputed (deterministic, no particle runs), the per-seed records reduced in the sweep's
//! fixed (N, seed) order — /compare is bit-identical to the unsharded run's. Particles: the
//! per-seed datasets are joined in seed order and the seed means recomputed as the unsharded
//! writer computes them.

use super::{create_output_over, fail_output, CmdResult};
use crate::compare_plan::{Plan, Unit};
use crate::shard_file::read_records;
use mfl_compare::sweep::shard::{assign, Shard};
use mfl_io::h5::{list_datasets, read_array, read_attr, OutputFile};
use mfl_io::record::{write_grid, SolveWriter};
use mfl_io::scenario::Job;
use mfl_io::Scenario;
use ndarray::{Array1, Array2, ArrayD, Axis};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

type Error = Box<dyn std::error::Error>;

/// What a shard file says about itself.
struct ShardInfo {
    path: PathBuf,
    command: String,
    config: String,
    hash: String,
    version: String,
    base: PathBuf,
    shard: Shard,
}

impl ShardInfo {
    /// Read the root attributes of `path`; refused (naming the file) when it is no complete
    /// mfl shard.
    fn read(path: &Path) -> Result<ShardInfo, Error> {
        let name = path.display();
        let attr = |a: &str| read_attr(path, "/", a);
        let status = attr("status").map_err(|e| format!("{name} is not an mfl output: {e}"))?;
        let shard = attr("shard").map_err(|_| {
            format!("{name} is not a shard (no `shard` attribute: it was written without --shard)")
        })?;
        if status != "complete" {
            return Err(
                format!("{name} is not complete (status = {status}): rerun that shard").into(),
            );
        }
        let need = |a: &str| attr(a).map_err(|e| format!("{name}: {e}"));
        Ok(ShardInfo {
            path: path.to_path_buf(),
            command: need("command")?,
            config: need("config")?,
            hash: need("config_hash")?,
            version: need("mfl_version")?,
            base: PathBuf::from(need("config_base")?),
            shard: Shard::parse(&shard).map_err(|e| format!("{name}: shard attribute {e}"))?,
        })
    }
}

/// The files of `infos` grouped by `key`, as `a.h5, b.h5: value; c.h5: other`.
fn groups(infos: &[ShardInfo], key: impl Fn(&ShardInfo) -> String) -> String {
    let mut by: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for i in infos {
        by.entry(key(i))
            .or_default()
            .push(i.path.display().to_string());
    }
    by.iter()
        .map(|(k, files)| format!("{}: {k}", files.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// `mfl merge SHARDS... -o OUT`.
pub fn run(paths: &[PathBuf], out: &Path, force: bool, quiet: bool) -> CmdResult {
    let mut infos = paths
        .iter()
        .map(|p| ShardInfo::read(p))
        .collect::<Result<Vec<_>, _>>()?;
    infos.sort_by_key(|i| i.shard.index);
    let first = &infos[0];
    if infos.iter().any(|i| i.command != first.command) {
        return Err(format!(
            "the files are shards of different commands: {}",
            groups(&infos, |i| i.command.clone())
        )
        .into());
    }
    if infos.iter().any(|i| i.hash != first.hash) {
        return Err(format!(
            "the files are shards of different configs (config_hash): {}",
            groups(&infos, |i| i.hash.chars().take(16).collect())
        )
        .into());
    }
    let version = env!("CARGO_PKG_VERSION");
    if infos.iter().any(|i| i.version != version) {
        return Err(format!(
            "shards must be written by this mfl version ({version}) to merge into its bits: {}",
            groups(&infos, |i| format!("mfl {}", i.version))
        )
        .into());
    }
    let k = first.shard.count;
    if infos.iter().any(|i| i.shard.count != k) {
        return Err(format!(
            "the files split the run into different numbers of shards: {}",
            groups(&infos, |i| i.shard.to_string())
        )
        .into());
    }
    for w in infos.windows(2) {
        if w[0].shard.index == w[1].shard.index {
            return Err(format!(
                "shard {} is given twice: {} and {}",
                w[0].shard,
                w[0].path.display(),
                w[1].path.display()
            )
            .into());
        }
    }
    if infos.len() != k {
        let have: Vec<usize> = infos.iter().map(|i| i.shard.index).collect();
        let missing: Vec<String> = (0..k)
            .filter(|i| !have.contains(i))
            .map(|i| format!("{i}/{k}"))
            .collect();
        return Err(format!(
            "{} of the {k} shards missing: {} (given: {})",
            missing.len(),
            missing.join(", "),
            groups(&infos, |i| i.shard.to_string())
        )
        .into());
    }
    for i in &infos {
        if super::same_file(out, &i.path) {
            return Err(format!(
                "refusing to write the output {} over the shard {}; choose another -o",
                out.display(),
                i.path.display()
            )
            .into());
        }
    }
    let job = match first.command.as_str() {
        "compare" => Job::Compare,
        "particles" => Job::Particles,
        other => {
            return Err(format!(
                "{}: `mfl {other}` outputs are not merged (shards come from compare or particles)",
                first.path.display()
            )
            .into())
        }
    };
    let name = format!("the config stored in {}", first.path.display());
    let cfg = mfl_io::build::parse(&first.config, &name, &[])?;
    let sc = Scenario::for_job(cfg, &first.base, job)?;
    if sc.config_hash()? != first.hash {
        return Err(format!(
            "{name} no longer gives the shards' config_hash: an input file it reads (data.path, \
             init.file, relative to {}) changed since the shards were written",
            first.base.display()
        )
        .into());
    }
    let inputs: Vec<(String, PathBuf)> = infos
        .iter()
        .map(|i| (format!("the shard {}", i.path.display()), i.path.clone()))
        .chain(
            sc.input_files()
                .into_iter()
                .map(|(key, p)| (format!("the file of {key}"), p)),
        )
        .collect();
    match job {
        Job::Compare => merge_compare(sc, &infos, &inputs, out, force, quiet),
        _ => merge_particles(sc, &infos, &inputs, out, force, quiet),
    }
}

/// Refuse a shard that does not hold exactly the runs its `i/k` stands for.
fn check_runs<T: Ord + Clone>(info: &ShardInfo, got: &[T], want: &[T]) -> Result<(), Error> {
    let (mut g, mut w) = (got.to_vec(), want.to_vec());
    g.sort_unstable();
    w.sort_unstable();
    if g != w {
        return Err(format!(
            "{} holds {} runs that are not those of shard {} of this run ({} runs): it was not \
             written by `--shard {}` of this config",
            info.path.display(),
            got.len(),
            info.shard,
            want.len(),
            info.shard
        )
        .into());
    }
    Ok(())
}

fn merge_compare(
    sc: Scenario,
    infos: &[ShardInfo],
    inputs: &[(String, PathBuf)],
    out: &Path,
    force: bool,
    quiet: bool,
) -> CmdResult {
    let plan = Plan::new(sc)?;
    let cs = &plan.cs;
    let mut records = Vec::with_capacity(cs.ns.len() * cs.seeds.len());
    let mut halves = Vec::new();
    for info in infos {
        let (r, h) = read_records(&info.path)?;
        let got: Vec<Unit> = r
            .iter()
            .map(|r| Unit::Run(r.n, r.seed))
            .chain(h.iter().map(|h| Unit::Half(h.seed)))
            .collect();
        check_runs(info, &got, &plan.shard_units(info.shard)?)?;
        records.extend(r);
        halves.extend(h);
    }
    let pde = plan.sc.require_pde()?;
    let mut file = create_output_over(&plan.sc, inputs, out, "compare", force)?;
    mark_merged(&file, infos)?;
    write_grid(&file, &pde.problem.grid)?;
    let result = (|| -> Result<_, Error> {
        let mut writer = SolveWriter::new(&mut file, &pde.problem.grid);
        let table = plan.prepare(&mut writer, None)?.into_table(records)?;
        let half = plan.reruns().then_some(halves.as_slice());
        let budget = plan.budget(&table, half, &|_, _| {})?;
        Ok((table, budget))
    })();
    match result {
        Ok((table, budget)) => {
            plan.report(&file, &table, budget.as_deref())?;
            if !quiet {
                eprintln!("merged {} shards into {}", infos.len(), out.display());
            }
            Ok(())
        }
        Err(e) => Err(fail_output(file, &e.to_string()).into()),
    }
}

/// The attribute `merged_from`: the shard files, in shard order.
fn mark_merged(file: &OutputFile, infos: &[ShardInfo]) -> Result<(), Error> {
    let names: Vec<String> = infos.iter().map(|i| i.path.display().to_string()).collect();
    file.set_attr("/", "merged_from", &names.join("\n"))?;
    Ok(())
}

/// The per-seed datasets of /particles (seed axis first), and whether they must be present.
const PER_SEED: [(&str, bool); 6] = [
    ("risk", true),
    ("energy", true),
    ("mean", true),
    ("cov", true),
    ("positions", false),
    ("final_theta", true),
];

fn merge_particles(
    sc: Scenario,
    infos: &[ShardInfo],
    inputs: &[(String, PathBuf)],
    out: &Path,
    force: bool,
    quiet: bool,
) -> CmdResult {
    let setup = sc.require_particles()?;
    let n = setup.dynamics.n;
    let parts = assign(&[n], &setup.seeds, infos.len())?;
    // seed → (shard, row)
    let mut at: BTreeMap<u64, (usize, usize)> = BTreeMap::new();
    let mut time: Option<ArrayD<f64>> = None;
    for (s, info) in infos.iter().enumerate() {
        let seeds = read_array(&info.path, "/particles/seeds")?;
        let got: Vec<(usize, u64)> = seeds.iter().map(|&v| (n, v as u64)).collect();
        check_runs(info, &got, &parts[info.shard.index])?;
        for (row, &(_, seed)) in got.iter().enumerate() {
            at.insert(seed, (s, row));
        }
        let t = read_array(&info.path, "/particles/time")?;
        match &time {
            Some(t0)
                if t0
                    .iter()
                    .map(|v| v.to_bits())
                    .ne(t.iter().map(|v| v.to_bits())) =>
            {
                return Err(format!(
                    "{} and {} record different times",
                    infos[0].path.display(),
                    info.path.display()
                )
                .into())
            }
            _ => time = Some(t),
        }
    }
    let time = time.expect("≥ 1 shard");
    let names: Vec<Vec<String>> = infos
        .iter()
        .map(|i| {
            Ok(list_datasets(&i.path)?
                .into_iter()
                .map(|(n, _)| n)
                .collect())
        })
        .collect::<Result<_, Error>>()?;
    let mut joined: Vec<(&str, ArrayD<f64>)> = Vec::new();
    for (name, required) in PER_SEED {
        let full = format!("/particles/{name}");
        let present = names.iter().filter(|n| n.contains(&full)).count();
        if present == 0 && !required {
            continue;
        }
        if present != infos.len() {
            return Err(format!("{full} is missing from some of the shards").into());
        }
        let arrays: Vec<ArrayD<f64>> = infos
            .iter()
            .map(|i| read_array(&i.path, &full))
            .collect::<Result<_, _>>()?;
        let views: Vec<_> = setup
            .seeds
            .iter()
            .map(|seed| {
                let (s, row) = at[seed];
                arrays[s].index_axis(Axis(0), row).insert_axis(Axis(0))
            })
            .collect();
        let all = ndarray::concatenate(Axis(0), &views)
            .map_err(|e| format!("{full}: the shards' shapes differ ({e})"))?;
        joined.push((name, all));
    }
    let file = create_output_over(&sc, inputs, out, "particles", force)?;
    let result = (|| -> Result<(), Error> {
        mark_merged(&file, infos)?;
        if let Some(g) = &sc.grid {
            write_grid(&file, g)?;
        }
        // seeds are integers, as the unsharded writer stores them
        let seeds: Array1<u64> = Array1::from(setup.seeds.clone());
        file.write_array("/particles/seeds", seeds.view().into_dyn())?;
        file.write_array("/particles/time", time.view())?;
        let risk = joined[0]
            .1
            .view()
            .into_dimensionality::<ndarray::Ix2>()
            .map_err(|e| format!("/particles/risk: {e}"))?;
        let s = risk.nrows();
        // per record time, exactly as the writer of an unsharded run computes them
        let (mut mean, mut se) = (Vec::new(), Vec::new());
        for r in 0..risk.ncols() {
            let col = Array2::from_shape_fn((s, 1), |(i, _)| risk[[i, r]]);
            mean.push(col.mean_axis(Axis(0)).expect("≥ 1 seed")[0]);
            se.push((col.std_axis(Axis(0), 1.0) / (s as f64).sqrt())[0]);
        }
        // in the unsharded writer's order (risk, energy, the seed statistics, the rest), so
        // that the dimension scales' reference lists come out the same too
        let write =
            |name: &str, a: &ArrayD<f64>| file.write_array(&format!("/particles/{name}"), a.view());
        for (name, a) in joined
            .iter()
            .filter(|(n, _)| matches!(*n, "risk" | "energy"))
        {
            write(name, a)?;
        }
        file.write_array("/particles/risk_mean", Array1::from(mean).view().into_dyn())?;
        if s > 1 {
            file.write_array("/particles/risk_se", Array1::from(se).view().into_dyn())?;
        }
        for (name, a) in joined
            .iter()
            .filter(|(n, _)| !matches!(*n, "risk" | "energy"))
        {
            write(name, a)?;
        }
        Ok(())
    })();
    match result {
        Ok(()) => {
            file.finish("complete")?;
            if !quiet {
                eprintln!("merged {} shards into {}", infos.len(), out.display());
            }
            Ok(())
        }
        Err(e) => Err(fail_output(file, &e.to_string()).into()),
    }
}
