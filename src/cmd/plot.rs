//! `mfl plot FILE.h5... [-o DIR] [--times T1,T2,...]`: PNG figures of output files.

use super::CmdResult;
use crate::progress::Progress;
use mfl_io::plot::{draw, plan, PlotOptions};
use std::path::{Path, PathBuf};

/// The default directory: the first file's stem + `_plots`, in the current directory.
pub fn default_dir(file: &Path) -> PathBuf {
    PathBuf::from(format!(
        "{}_plots",
        file.file_stem()
            .map_or("mfl".into(), |s| s.to_string_lossy())
    ))
}

/// `mfl plot FILES`: the figures of what the files hold.
pub fn run(
    files: &[PathBuf],
    dir: Option<&Path>,
    times: Option<Vec<f64>>,
    quiet: bool,
) -> CmdResult {
    if let Some(bad) = times.iter().flatten().find(|t| !t.is_finite()) {
        return Err(format!("--times: {bad} is not a finite time").into());
    }
    let dir = dir.map_or_else(|| default_dir(&files[0]), Path::to_path_buf);
    let (runs, figs) = plan(files)?;
    let opts = PlotOptions { times };
    let existed = dir.exists();
    let mut bar = Progress::new(figs.len() as f64, quiet, "plot");
    for (i, fig) in figs.iter().enumerate() {
        bar.set(i as f64, fig.file_name());
        let path = match draw(*fig, &runs, &dir, &opts) {
            Ok(p) => p,
            Err(e) => {
                if !existed {
                    // a directory this run created and left empty goes again (remove_dir
                    // refuses a non-empty one)
                    let _ = std::fs::remove_dir(&dir);
                }
                return Err(e.into());
            }
        };
        println!("{}", path.display());
    }
    bar.set(figs.len() as f64, "done");
    bar.finish();
    Ok(())
}
