//! Splitting a sweep's (N, seed) runs into k disjoint shards balanced by cost ∝ N.
//!
//! A shard is written `i/k` with a **0-based** index i in 0..k — what Slurm's
//! `${SLURM_ARRAY_TASK_ID}/${SLURM_ARRAY_TASK_COUNT}` gives for `sbatch --array=0-(k-1)`.
//! The assignment is deterministic (it depends on the N's, the seeds and k only): the runs,
//! largest N first (then in the sweep's order), each go to the shard with the least cost so far
//! (the lowest index on ties) — the longest-processing-time rule, so no shard's cost exceeds the
//! mean by more than one run of the largest N.

use std::fmt;

/// One part `index` of `count` (0-based index).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which part, in 0..count.
    pub index: usize,
    /// How many parts.
    pub count: usize,
}

impl Shard {
    /// Parse `i/k` (0-based i in 0..k, k ≥ 1); the error says what is wrong with the text.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let bad = || {
            format!(
                "`{text}` is not i/k (two integers, a 0-based shard index i in 0..k and the \
                 number of shards k, e.g. 0/3 or ${{SLURM_ARRAY_TASK_ID}}/${{SLURM_ARRAY_TASK_COUNT}} \
                 with sbatch --array=0-(k-1))"
            )
        };
        let (i, k) = text.split_once('/').ok_or_else(bad)?;
        let (i, k): (usize, usize) = (
            i.trim().parse().map_err(|_| bad())?,
            k.trim().parse().map_err(|_| bad())?,
        );
        if k == 0 {
            return Err(format!("`{text}`: the number of shards must be at least 1"));
        }
        if i >= k {
            return Err(format!(
                "`{text}`: the shard index is 0-based and must be in 0..{k} (0 to {}); with Slurm \
                 submit the array as --array=0-{}",
                k - 1,
                k - 1
            ));
        }
        Ok(Shard { index: i, count: k })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The (N, seed) runs of every shard: `assign(ns, seeds, k)[i]` are those of shard i/k, in
/// the sweep's order (N as in `ns`, then seeds as in `seeds`). Every run of the sweep is in
/// exactly one shard. Refused when k exceeds the number of runs (a shard would be empty).
pub fn assign(ns: &[usize], seeds: &[u64], count: usize) -> Result<Vec<Vec<(usize, u64)>>, String> {
    let costs: Vec<usize> = ns
        .iter()
        .flat_map(|&n| seeds.iter().map(move |_| n))
        .collect();
    let parts = assign_by_cost(&costs, count).map_err(|_| {
        format!(
            "{count} shards for {} runs ({} N × {} seeds): every shard needs at least one run",
            costs.len(),
            ns.len(),
            seeds.len()
        )
    })?;
    Ok(parts
        .into_iter()
        .map(|p| {
            p.into_iter()
                .map(|u| (ns[u / seeds.len()], seeds[u % seeds.len()]))
                .collect()
        })
        .collect())
}

/// Units of work with the given costs split into `count` shards: `assign_by_cost(c, k)[i]` are
/// the indices of shard i's units, increasing. The units, costliest first (then by index), each
/// go to the shard with the least cost so far (the lowest index on ties). Refused when `count`
/// is 0 or exceeds the number of units.
pub fn assign_by_cost(costs: &[usize], count: usize) -> Result<Vec<Vec<usize>>, String> {
    if count == 0 || count > costs.len() {
        return Err(format!(
            "{count} shards for {} units: every shard needs at least one",
            costs.len()
        ));
    }
    // (index, cost), the costliest first; the sort is stable
    let mut order: Vec<(usize, usize)> = costs.iter().copied().enumerate().collect();
    order.sort_by_key(|b| std::cmp::Reverse(b.1));
    let mut load = vec![0u128; count];
    let mut out = vec![Vec::new(); count];
    for (u, cost) in order {
        let i = (0..count).min_by_key(|&i| (load[i], i)).expect("count ≥ 1");
        load[i] += cost as u128;
        out[i].push(u);
    }
    for p in &mut out {
        p.sort_unstable();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_zero_based_and_rejects_out_of_range() {
        assert_eq!(Shard::parse("0/3"), Ok(Shard { index: 0, count: 3 }));
        assert_eq!(Shard::parse("2/3").unwrap().to_string(), "2/3");
        assert!(Shard::parse("3/3").unwrap_err().contains("0-based"));
        assert!(Shard::parse("1/0").is_err());
        assert!(Shard::parse("1").is_err());
        assert!(Shard::parse("a/3").is_err());
        assert!(Shard::parse("-1/3").is_err());
    }

    #[test]
    fn shards_cover_every_run_once_and_balance_cost() {
        let ns = [16, 32, 64, 128];
        let seeds: Vec<u64> = (0..10).collect();
        for k in [1, 2, 3, 7, 40] {
            let parts = assign(&ns, &seeds, k).unwrap();
            let mut all: Vec<(usize, u64)> = parts.concat();
            all.sort();
            let mut want: Vec<(usize, u64)> = ns
                .iter()
                .flat_map(|&n| seeds.iter().map(move |&s| (n, s)))
                .collect();
            want.sort();
            assert_eq!(all, want, "k = {k}");
            let cost: Vec<usize> = parts
                .iter()
                .map(|p| p.iter().map(|&(n, _)| n).sum())
                .collect();
            let (lo, hi) = (cost.iter().min().unwrap(), cost.iter().max().unwrap());
            assert!(hi - lo <= 128, "k = {k}: costs {cost:?}");
            assert!(parts.iter().all(|p| !p.is_empty()));
        }
        assert_eq!(assign(&ns, &seeds, 3), assign(&ns, &seeds, 3));
        assert!(assign(&ns, &seeds, 41).is_err());
    }
}
