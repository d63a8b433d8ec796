//! `mfl solve | stationary CONFIG --sweep key=v1,v2,... [--sweep ...] [--shard i/k]`: one run
//! per point of a parameter sweep.
//!
//! Each `--sweep` names a config key and its values (TOML values separated by commas outside
//! brackets: `grid.cells=[64],[128]`); several form the product, the last key varying fastest.
//! Point j is the base config with `--set key=value` for each key, written to
//! `<stem>.p{j}.h5` (stem: `-o`'s or the config's, without `.h5`) with root attributes
//! `sweep_point` (`key=value; ...`) and `sweep` (`j/J`). `--shard i/k` runs the points with
//! j mod k = i (0-based; solves of one sweep cost about the same). Every point is an ordinary
//! output of its command, so `mfl plot OUT.p*.h5` overlays them and nothing needs merging.

use super::{output_path, CmdResult};
use mfl_compare::sweep::shard::Shard;
use std::path::{Path, PathBuf};

/// The values of one `--sweep key=v1,v2,...`: the key and the value texts.
fn parse_one(text: &str) -> Result<(String, Vec<String>), String> {
    let (key, values) = text
        .split_once('=')
        .ok_or_else(|| format!("--sweep {text}: expected KEY=V1,V2,..."))?;
    let (mut out, mut depth, mut cur) = (Vec::new(), 0i32, String::new());
    for c in values.chars() {
        match c {
            '[' | '{' => depth += 1,
            ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut cur).trim().to_string());
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur.trim().to_string());
    if key.trim().is_empty() || out.iter().any(|v| v.is_empty()) {
        return Err(format!(
            "--sweep {text}: expected KEY=V1,V2,... with no empty value"
        ));
    }
    Ok((key.trim().to_string(), out))
}

/// The points of the sweep: per point, the `key=value` overrides (product, last key fastest).
pub fn points(sweeps: &[String]) -> Result<Vec<Vec<String>>, String> {
    let mut points: Vec<Vec<String>> = vec![Vec::new()];
    for s in sweeps {
        let (key, values) = parse_one(s)?;
        points = points
            .into_iter()
            .flat_map(|p| {
                let key = &key;
                values.iter().map(move |v| {
                    let mut q = p.clone();
                    q.push(format!("{key}={v}"));
                    q
                })
            })
            .collect();
    }
    Ok(points)
}

/// The output of point `j`: `<stem>.p{j}.h5` next to `base`.
pub fn point_path(base: &Path, j: usize) -> PathBuf {
    let stem = base
        .file_stem()
        .map_or("mfl".into(), |s| s.to_string_lossy().into_owned());
    base.with_file_name(format!("{stem}.p{j}.h5"))
}

/// A command a sweep runs per point: (config, sets, output, force, quiet, root attributes).
pub type PointRun = fn(&Path, &[String], Option<&Path>, bool, bool, &[(&str, String)]) -> CmdResult;

/// `mfl <command>` with or without `--sweep` (`command`: its name and the run of one point).
#[allow(clippy::too_many_arguments)]
pub fn run(
    (command, run_point): (&str, PointRun),
    path: &Path,
    sets: &[String],
    out: Option<&Path>,
    force: bool,
    quiet: bool,
    sweeps: &[String],
    shard: Option<Shard>,
) -> CmdResult {
    if sweeps.is_empty() {
        if shard.is_some() {
            return Err(format!(
                "--shard for `mfl {command}` splits a --sweep; give --sweep KEY=V1,V2,..."
            )
            .into());
        }
        return run_point(path, sets, out, force, quiet, &[]);
    }
    let points = points(sweeps)?;
    let shard = shard.unwrap_or(Shard { index: 0, count: 1 });
    if shard.count > points.len() {
        return Err(format!(
            "--shard {shard}: {} shards for {} sweep points; every shard needs a point",
            shard.count,
            points.len()
        )
        .into());
    }
    let base = output_path(path, out);
    let total = points.len();
    for (j, point) in points.iter().enumerate() {
        if j % shard.count != shard.index {
            continue;
        }
        let mut all = sets.to_vec();
        all.extend(point.iter().cloned());
        let file = point_path(&base, j);
        if !quiet {
            eprintln!(
                "sweep point {j}/{total}: {} -> {}",
                point.join(" "),
                file.display()
            );
        }
        let attrs = [
            ("sweep_point", point.join("; ")),
            ("sweep", format!("{j}/{total}")),
        ];
        run_point(path, &all, Some(&file), force, quiet, &attrs)
            .map_err(|e| format!("sweep point {j} ({}): {e}", point.join(" ")))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_last_key_fastest_and_brackets_kept() {
        let p = points(&["a.b=1,2".into(), "grid.cells=[4],[8, 2]".into()]).unwrap();
        assert_eq!(
            p,
            vec![
                vec!["a.b=1", "grid.cells=[4]"],
                vec!["a.b=1", "grid.cells=[8, 2]"],
                vec!["a.b=2", "grid.cells=[4]"],
                vec!["a.b=2", "grid.cells=[8, 2]"],
            ]
        );
        assert!(points(&["nokey".into()]).is_err());
        assert!(points(&["a=1,,2".into()]).is_err());
        assert_eq!(
            point_path(Path::new("d/out.h5"), 3),
            Path::new("d/out.p3.h5")
        );
    }
}
