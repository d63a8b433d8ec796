//! Figures of output files (PNG, plotters with a bundled font: no system fonts needed).
//!
//! What is drawn depends on what the files hold:
//!
//! | file holds | figure | contents |
//! |---|---|---|
//! | `/density` | `density.png` | 1D: ρ at selected times as lines; 2D: a heatmap per selected time, one colour bar |
//! | `/diagnostics` | `energy.png` | R(t) and F(t) per run, R_N(t) ± se of particle runs; F − F* on a log axis when F* is known ([`Run::f_star`]) with the fitted exponential rate (the fit `mfl solve` stored, else one made here) and, in the legend, the predicted 2κ of an `mfl stationary` file at the same T given with it |
//! | `/particles` | `particles.png` | 1D: histogram of the final θ over ρ at the final time (and θ_i(t) paths with `/particles/positions`); 2D: scatter of the final θ over ρ, paths when recorded |
//! | `/stationary` | `stationary.png` | R(ρ*_T), F(ρ*_T) and the predicted rate 2κ against T (`mfl stationary`); in 1D the densities ρ*_T |
//! | `/extrapolated` | `extrapolation.png` | runs with `solver.extrapolate`: the error estimate of R and F over t (log axis, as a band) and the finest grid's distance from the extrapolated value |
//! | `/compare` | `gap.png` | \|gap\| ± se against N on log–log axes per time, the fitted line and a slope −1 guide C/N |
//!
//! Several files can be given: energy curves of all of them share one figure (a temperature
//! sweep, or a PDE run and a particle run); the other figures use the first file that has the
//! data (a particles file without `/density` is drawn over the density of a solve file given with it).

mod density;
mod energy;
mod extrapolation;
mod gap;
mod particles;
mod run;
mod stationary;
mod style;

pub use run::{num, Run, GIBBS_CONVERGED};

use std::path::{Path, PathBuf};
use std::sync::Once;
use thiserror::Error;

/// A figure could not be made; the message names the file and the dataset.
#[derive(Debug, Error)]
#[error("{0}")]
pub struct PlotError(pub String);

impl PlotError {
    /// An error with this message.
    pub fn new(msg: impl Into<String>) -> Self {
        PlotError(msg.into())
    }
}

impl<E: std::error::Error + Send + Sync> From<plotters::drawing::DrawingAreaErrorKind<E>>
    for PlotError
{
    fn from(e: plotters::drawing::DrawingAreaErrorKind<E>) -> Self {
        PlotError(format!("drawing failed: {e}"))
    }
}

/// Choices for `mfl plot`.
#[derive(Debug, Clone, Default)]
pub struct PlotOptions {
    /// Snapshot (and /compare) times to draw: the nearest recorded ones. Default: a few evenly
    /// spaced ones (6 lines in 1D, 4 heatmaps in 2D, up to 6 gap curves).
    pub times: Option<Vec<f64>>,
}

/// The figure kinds, with their file names in the output directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Figure {
    /// `density.png`: ρ at the snapshot times.
    Density,
    /// `energy.png`: F, R and the entropy over time (and the decay fit).
    Energy,
    /// `particles.png`: R_N(t) per seed and its mean, against R(ρ_t).
    Particles,
    /// `gap.png`: |gap| against N with the fitted slope.
    Gap,
    /// `stationary.png`: the stationary states of each temperature.
    Stationary,
    /// `extrapolation.png`: the error band of `solver.extrapolate` runs.
    Extrapolation,
}

impl Figure {
    /// The PNG's file name.
    pub fn file_name(self) -> &'static str {
        match self {
            Figure::Density => "density.png",
            Figure::Energy => "energy.png",
            Figure::Particles => "particles.png",
            Figure::Gap => "gap.png",
            Figure::Stationary => "stationary.png",
            Figure::Extrapolation => "extrapolation.png",
        }
    }
}

static FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

/// Register the bundled DejaVu Sans as plotters' "sans-serif" (once per process).
pub fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for style in [
            plotters::style::FontStyle::Normal,
            plotters::style::FontStyle::Bold,
        ] {
            // The font is compiled in and known to parse.
            let _ = plotters::style::register_font("sans-serif", style, FONT);
        }
    });
}

/// Open the files and list the figures they allow, in drawing order.
pub fn plan(files: &[PathBuf]) -> Result<(Vec<Run>, Vec<Figure>), PlotError> {
    if files.is_empty() {
        return Err(PlotError::new("no file to plot"));
    }
    let runs = files
        .iter()
        .map(|f| Run::open(f))
        .collect::<Result<Vec<_>, _>>()?;
    let any = |name: &str| runs.iter().any(|r| r.has(name));
    let mut figs = Vec::new();
    if any("/density") {
        figs.push(Figure::Density);
    }
    if any("/diagnostics") || any("/particles/risk_mean") {
        figs.push(Figure::Energy);
    }
    if any("/particles/final_theta") {
        figs.push(Figure::Particles);
    }
    if any("/compare") {
        figs.push(Figure::Gap);
    }
    if any("/stationary/temperature") {
        figs.push(Figure::Stationary);
    }
    if any("/extrapolated/time") {
        figs.push(Figure::Extrapolation);
    }
    if figs.is_empty() {
        return Err(PlotError::new(format!(
            "{}: nothing to plot (no /density, /diagnostics, /particles, /compare or /stationary)",
            files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok((runs, figs))
}

/// Draw one figure into `dir`, returning the PNG's path.
pub fn draw(
    fig: Figure,
    runs: &[Run],
    dir: &Path,
    opts: &PlotOptions,
) -> Result<PathBuf, PlotError> {
    register_font();
    std::fs::create_dir_all(dir)
        .map_err(|e| PlotError::new(format!("cannot create {}: {e}", dir.display())))?;
    let out = dir.join(fig.file_name());
    let first = |name: &str| runs.iter().find(|r| r.has(name));
    match fig {
        Figure::Density => density::draw(first("/density").expect("planned"), &out, opts)?,
        Figure::Energy => energy::draw(runs, &out)?,
        Figure::Particles => {
            let p = first("/particles/final_theta").expect("planned");
            let rho = if p.has("/density") {
                Some(p)
            } else {
                first("/density")
            };
            particles::draw(p, rho, &out)?
        }
        Figure::Gap => gap::draw(first("/compare").expect("planned"), &out, opts)?,
        Figure::Stationary => {
            stationary::draw(first("/stationary/temperature").expect("planned"), &out)?
        }
        Figure::Extrapolation => {
            extrapolation::draw(first("/extrapolated/time").expect("planned"), &out)?
        }
    }
    Ok(out)
}

/// Every figure the files allow, into `dir`; the written paths.
pub fn plot_files(
    files: &[PathBuf],
    dir: &Path,
    opts: &PlotOptions,
) -> Result<Vec<PathBuf>, PlotError> {
    let (runs, figs) = plan(files)?;
    figs.into_iter()
        .map(|f| draw(f, &runs, dir, opts))
        .collect()
}

/// Indices of the recorded `times` nearest to `wanted`, or `default` evenly spaced ones.
pub fn select_times(times: &[f64], wanted: Option<&[f64]>, default: usize) -> Vec<usize> {
    let n = times.len();
    if n == 0 {
        return vec![];
    }
    let mut idx: Vec<usize> = match wanted {
        Some(w) if !w.is_empty() => w
            .iter()
            .map(|&t| {
                (0..n)
                    .min_by(|&a, &b| (times[a] - t).abs().total_cmp(&(times[b] - t).abs()))
                    .expect("n > 0")
            })
            .collect(),
        _ => {
            let k = default.min(n).max(1);
            if k == 1 {
                vec![n - 1]
            } else {
                (0..k).map(|i| i * (n - 1) / (k - 1)).collect()
            }
        }
    };
    idx.sort_unstable();
    idx.dedup();
    idx
}
