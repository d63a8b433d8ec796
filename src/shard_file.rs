//! The per-seed records of an `mfl compare --shard i/k` file, under /shard: `n`, `seed` \[P\]
//! (the (N, seed) runs the shard holds, in its order), `risk`, `energy` [P, Nt] and, as the
//! sweep has them, `z_risk`, `z_energy` (adjoint control variate), `bar_risk`, `bar_energy`
//! (coupled), `distance` [P, Nt] and `linear` [P, 2] (the t = 0 linear control variate);
//! the budget's η/2 reruns the shard holds: `half_seed` \[H\], `half_risk` and, as the sweep
//! has them, `half_z_risk` or `half_bar_risk` [H, Nt]. A shard without runs of one kind has no
//! datasets of that kind. Everything is f64, written and read back exactly.

use mfl_compare::{HalfStepRecord, SeedRecord};
use mfl_io::h5::{list_datasets, read_array, OutputFile};
use ndarray::{Array1, Array2, ArrayD, Axis};
use std::path::Path;

type Error = Box<dyn std::error::Error>;

/// An optional per-time field of a record.
type Field = fn(&SeedRecord) -> Option<&Vec<f64>>;

/// Write `records` and `half` (all with the same number of record times) under /shard.
pub fn write_records(
    file: &OutputFile,
    records: &[SeedRecord],
    half: &[HalfStepRecord],
) -> Result<(), Error> {
    write_half(file, half)?;
    if records.is_empty() {
        return Ok(file.flush()?);
    }
    let nt = records[0].risk.len();
    let col = |f: &dyn Fn(&SeedRecord) -> f64| -> Array1<f64> { records.iter().map(f).collect() };
    file.write_array("/shard/n", col(&|r| r.n as f64).view().into_dyn())?;
    file.write_array("/shard/seed", col(&|r| r.seed as f64).view().into_dyn())?;
    let table = |f: &dyn Fn(&SeedRecord) -> &[f64]| -> Array2<f64> {
        Array2::from_shape_fn((records.len(), nt), |(p, j)| f(&records[p])[j])
    };
    file.write_array("/shard/risk", table(&|r| &r.risk).view().into_dyn())?;
    file.write_array("/shard/energy", table(&|r| &r.energy).view().into_dyn())?;
    let optional: [(&str, Field); 5] = [
        ("z_risk", |r| r.z_risk.as_ref()),
        ("z_energy", |r| r.z_energy.as_ref()),
        ("bar_risk", |r| r.bar_risk.as_ref()),
        ("bar_energy", |r| r.bar_energy.as_ref()),
        ("distance", |r| r.distance.as_ref()),
    ];
    for (name, f) in optional {
        if records.iter().all(|r| f(r).is_some()) && !records.is_empty() {
            let t = table(&|r| f(r).expect("checked").as_slice());
            file.write_array(&format!("/shard/{name}"), t.view().into_dyn())?;
        }
    }
    if !records.is_empty() && records.iter().all(|r| r.linear.is_some()) {
        let l = Array2::from_shape_fn((records.len(), 2), |(p, q)| {
            let (a, b) = records[p].linear.expect("checked");
            [a, b][q]
        });
        file.write_array("/shard/linear", l.view().into_dyn())?;
    }
    file.flush()?;
    Ok(())
}

/// The η/2 reruns under /shard/half_*.
fn write_half(file: &OutputFile, half: &[HalfStepRecord]) -> Result<(), Error> {
    if half.is_empty() {
        return Ok(());
    }
    let nt = half[0].risk.len();
    let seeds: Array1<f64> = half.iter().map(|r| r.seed as f64).collect();
    file.write_array("/shard/half_seed", seeds.view().into_dyn())?;
    let table = |f: &dyn Fn(&HalfStepRecord) -> Option<&Vec<f64>>| -> Option<Array2<f64>> {
        half.iter().all(|r| f(r).is_some()).then(|| {
            Array2::from_shape_fn((half.len(), nt), |(p, j)| f(&half[p]).expect("checked")[j])
        })
    };
    for (name, t) in [
        ("half_risk", table(&|r| Some(&r.risk))),
        ("half_z_risk", table(&|r| r.z_risk.as_ref())),
        ("half_bar_risk", table(&|r| r.bar_risk.as_ref())),
    ] {
        if let Some(t) = t {
            file.write_array(&format!("/shard/{name}"), t.view().into_dyn())?;
        }
    }
    Ok(())
}

/// The records and η/2 reruns of the shard file `path` (refused, naming the file, when
/// /shard is malformed).
pub fn read_records(path: &Path) -> Result<(Vec<SeedRecord>, Vec<HalfStepRecord>), Error> {
    let names: Vec<String> = list_datasets(path)?.into_iter().map(|(n, _)| n).collect();
    let has = |name: &str| names.iter().any(|n| n == &format!("/shard/{name}"));
    let bad = |why: &str| -> Error { format!("{}: /shard {why}", path.display()).into() };
    let half = read_half(path, &has)?;
    if !has("n") && !has("seed") && !has("risk") && !has("energy") {
        return Ok((Vec::new(), half));
    }
    if !has("n") || !has("seed") || !has("risk") || !has("energy") {
        return Err(bad("is incomplete (not a compare shard file)"));
    }
    let n = read_array(path, "/shard/n")?;
    let seed = read_array(path, "/shard/seed")?;
    let p = n.len();
    let table = |name: &str| -> Result<Option<Array2<f64>>, Error> {
        if !has(name) {
            return Ok(None);
        }
        let a: ArrayD<f64> = read_array(path, &format!("/shard/{name}"))?;
        let a = a
            .into_dimensionality::<ndarray::Ix2>()
            .map_err(|_| bad(&format!("/{name} is not a table")))?;
        if a.nrows() != p {
            return Err(bad(&format!("/{name} has {} rows, not {p}", a.nrows())));
        }
        Ok(Some(a))
    };
    let risk = table("risk")?.expect("present");
    let energy = table("energy")?.expect("present");
    let opt: Vec<Option<Array2<f64>>> =
        ["z_risk", "z_energy", "bar_risk", "bar_energy", "distance"]
            .iter()
            .map(|name| table(name))
            .collect::<Result<_, _>>()?;
    let linear = table("linear")?;
    if seed.len() != p || linear.as_ref().is_some_and(|l| l.ncols() != 2) {
        return Err(bad("has inconsistent shapes"));
    }
    let row = |a: &Option<Array2<f64>>, k: usize| a.as_ref().map(|a| a.row(k).to_vec());
    let records = (0..p)
        .map(|k| {
            let (nv, sv) = (n[k], seed[k]);
            if !(nv >= 1.0 && nv.fract() == 0.0 && sv >= 0.0 && sv.fract() == 0.0) {
                return Err(bad(&format!(
                    "holds a run (N = {nv}, seed {sv}) that is not one"
                )));
            }
            Ok(SeedRecord {
                n: nv as usize,
                seed: sv as u64,
                risk: risk.index_axis(Axis(0), k).to_vec(),
                energy: energy.index_axis(Axis(0), k).to_vec(),
                z_risk: row(&opt[0], k),
                z_energy: row(&opt[1], k),
                bar_risk: row(&opt[2], k),
                bar_energy: row(&opt[3], k),
                distance: row(&opt[4], k),
                linear: linear.as_ref().map(|l| (l[[k, 0]], l[[k, 1]])),
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok((records, half))
}

/// The η/2 reruns of a shard file (none when it holds none).
fn read_half(path: &Path, has: &dyn Fn(&str) -> bool) -> Result<Vec<HalfStepRecord>, Error> {
    if !has("half_seed") {
        return Ok(Vec::new());
    }
    let bad = |why: &str| -> Error { format!("{}: /shard {why}", path.display()).into() };
    let seeds = read_array(path, "/shard/half_seed")?;
    let table = |name: &str| -> Result<Option<Array2<f64>>, Error> {
        if !has(name) {
            return Ok(None);
        }
        let a = read_array(path, &format!("/shard/{name}"))?
            .into_dimensionality::<ndarray::Ix2>()
            .map_err(|_| bad(&format!("/{name} is not a table")))?;
        if a.nrows() != seeds.len() {
            return Err(bad(&format!(
                "/{name} has {} rows, not {}",
                a.nrows(),
                seeds.len()
            )));
        }
        Ok(Some(a))
    };
    let risk = table("half_risk")?.ok_or_else(|| bad("has half_seed without half_risk"))?;
    let (z, bar) = (table("half_z_risk")?, table("half_bar_risk")?);
    seeds
        .iter()
        .enumerate()
        .map(|(k, &s)| {
            if !(s >= 0.0 && s.fract() == 0.0) {
                return Err(bad(&format!("holds a seed {s} that is not one")));
            }
            Ok(HalfStepRecord {
                seed: s as u64,
                risk: risk.row(k).to_vec(),
                z_risk: z.as_ref().map(|a| a.row(k).to_vec()),
                bar_risk: bar.as_ref().map(|a| a.row(k).to_vec()),
            })
        })
        .collect()
}
