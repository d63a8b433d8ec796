//! `energy.png`: R(t) and F(t) of every run (R_N ± se of particle runs on the R panel), and
//! F − F* on a log axis with the fitted exponential rate when F* is known.

use super::run::{num, Run};
use super::style::{font, log_range, log_tick, palette, range, Area};
use super::PlotError;
use plotters::prelude::*;
use std::path::Path;

/// Figure width; the height is 560 + 28 per legend line (at least two).
pub const WIDTH: u32 = 1500;

/// The figure's height for `entries` legend lines.
pub fn height(entries: usize) -> u32 {
    560 + 28 * entries.max(2) as u32
}

/// F − F* points, the fitted (a, κ) of ln(F − F*) = a − κt, and where F* and the fit come
/// from (with the predicted rate 2κ of an `mfl stationary` file at the same T, when given).
type Gap = (Vec<(f64, f64)>, Option<(f64, f64)>, String);

/// The fit `mfl solve` stored with the run ([`mfl_pde::fit_decay`]): (a, κ, κ_lo, κ_hi).
fn stored_fit(r: &Run) -> Option<(f64, f64, f64, f64)> {
    let a = |n: &str| crate::h5::read_attr_f64(&r.path, "/diagnostics", n).ok();
    Some((
        a("decay_intercept")?,
        a("decay_rate")?,
        a("decay_rate_lo")?,
        a("decay_rate_hi")?,
    ))
}

/// The predicted rate 2κ at temperature T from any `mfl stationary` file among the runs.
fn predicted_rate(runs: &[Run], t: f64) -> Option<f64> {
    runs.iter().find_map(|r| {
        let ts = r.vec("/stationary/temperature").ok()?;
        let rates = r.vec_len("/stationary/rate", ts.len()).ok()?;
        ts.iter()
            .zip(&rates)
            .find(|(tk, k)| ((*tk - t).abs() <= 1e-12 * t) && k.is_finite())
            .map(|(_, k)| *k)
    })
}

struct Series {
    colour: RGBColor,
    label: String,
    t: Vec<f64>,
    risk: Vec<f64>,
    f: Vec<f64>,
    gap: Option<Gap>,
    /// particle runs: R_N ± se at the record times
    particles: Option<Vec<(f64, f64, f64)>>,
}

/// Least-squares fit ln g = a − κ t over the points (t, g).
fn fit(p: &[(f64, f64)]) -> Option<(f64, f64)> {
    let n = p.len() as f64;
    if p.len() < 4 {
        return None;
    }
    let (mt, ml) = (
        p.iter().map(|q| q.0).sum::<f64>() / n,
        p.iter().map(|q| q.1.ln()).sum::<f64>() / n,
    );
    let sxx: f64 = p.iter().map(|q| (q.0 - mt).powi(2)).sum();
    let sxy: f64 = p.iter().map(|q| (q.0 - mt) * (q.1.ln() - ml)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    Some((ml - slope * mt, -slope))
}

/// The exponential rate of F(ρ_t) − F*: fit over the points below a tenth of the largest gap,
/// then drop those within a factor 50 of the fit's value at t_end (there F* = F(t_end) biases
/// the gap) and fit again.
pub fn decay_rate(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    let gmax = points.iter().map(|p| p.1).fold(0.0f64, f64::max);
    let t_end = points.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
    let mut w: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|p| p.1 <= 0.1 * gmax)
        .collect();
    let (a, k) = fit(&w)?;
    let floor = 50.0 * (a - k * t_end).exp();
    w.retain(|p| p.1 >= floor);
    let (a, k) = fit(&w).unwrap_or((a, k));
    (k.is_finite() && k > 0.0).then_some((a, k))
}

fn collect(runs: &[Run]) -> Result<Vec<Series>, PlotError> {
    let mut out = Vec::new();
    for r in runs {
        if r.has("/diagnostics/time") {
            let t = r.vec("/diagnostics/time")?;
            let risk = r.vec_len("/diagnostics/risk", t.len())?;
            let f = r.vec_len("/diagnostics/free_energy", t.len())?;
            let gap = r.f_star().map(|(fs, why)| {
                let floor = 1e-13 * fs.abs().max(1.0);
                let pts: Vec<(f64, f64)> = t
                    .iter()
                    .zip(&f)
                    .map(|(&t, &f)| (t, f - fs))
                    .filter(|p| p.1.is_finite() && p.1 > floor)
                    .collect();
                let (rate, why) = match stored_fit(r) {
                    Some((a, k, lo, hi)) => (
                        Some((a, k)),
                        format!(
                            "{why}; fit stored by mfl solve, κ ∈ [{}, {}]",
                            num(lo),
                            num(hi)
                        ),
                    ),
                    None => (decay_rate(&pts), why),
                };
                let why = match r
                    .num("problem.temperature")
                    .and_then(|t| predicted_rate(runs, t))
                {
                    Some(k) => format!("{why}; predicted 2κ = {}", num(k)),
                    None => why,
                };
                (pts, rate, why)
            });
            out.push(Series {
                colour: palette(out.len()),
                label: if runs.len() > 1 {
                    format!("{}: {}", r.name(), r.pde_label())
                } else {
                    r.pde_label()
                },
                t,
                risk,
                f,
                gap,
                particles: None,
            });
        }
        if r.has("/particles/risk_mean") {
            let t = r.vec("/particles/time")?;
            let m = r.vec_len("/particles/risk_mean", t.len())?;
            let se = if r.has("/particles/risk_se") {
                r.vec_len("/particles/risk_se", t.len())?
            } else {
                vec![0.0; t.len()]
            };
            let pts = (0..t.len()).map(|k| (t[k], m[k], se[k])).collect();
            out.push(Series {
                colour: palette(out.len()),
                label: if runs.len() > 1 {
                    format!("{}: {} (R_N, mean ± se)", r.name(), r.particles_label())
                } else {
                    format!("{} (R_N, mean ± se)", r.particles_label())
                },
                t: vec![],
                risk: vec![],
                f: vec![],
                gap: None,
                particles: Some(pts),
            });
        }
    }
    Ok(out)
}

fn builder<'a, 'b>(a: &'a Area<'b>) -> ChartBuilder<'a, 'b, BitMapBackend<'b>> {
    let mut b = ChartBuilder::on(a);
    b.caption("risk R(t)", font(20))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(75);
    b
}

fn risk_panel(area: &Area, s: &[Series]) -> Result<(), PlotError> {
    let all_r = s.iter().flat_map(|x| {
        x.risk.iter().copied().chain(
            x.particles
                .iter()
                .flatten()
                .flat_map(|p| [p.1 - p.2, p.1 + p.2]),
        )
    });
    let rs: Vec<f64> = all_r.collect();
    let ts = s.iter().flat_map(|x| {
        x.t.iter()
            .copied()
            .chain(x.particles.iter().flatten().map(|p| p.0))
    });
    let (t0, t1) = range(ts);
    let t0 = t0.max(0.0);
    let positive = rs.iter().filter(|v| v.is_finite()).all(|v| *v > 0.0);
    macro_rules! body {
        ($c:expr) => {{
            let c = &mut $c;
            for x in s {
                let col = x.colour;
                c.draw_series(LineSeries::new(
                    x.t.iter()
                        .copied()
                        .zip(x.risk.iter().copied())
                        .filter(|p| p.1.is_finite()),
                    col.stroke_width(2),
                ))?;
                if let Some(p) = &x.particles {
                    c.draw_series(p.iter().map(|&(t, m, e)| {
                        PathElement::new(
                            vec![(t, (m - e).max(m * 0.5)), (t, m + e)],
                            col.stroke_width(2),
                        )
                    }))?;
                    c.draw_series(
                        p.iter()
                            .map(|&(t, m, _)| Circle::new((t, m), 4, col.filled())),
                    )?;
                }
            }
        }};
    }
    let lr = log_range(rs.iter().copied()).filter(|(lo, hi)| positive && hi / lo > 30.0);
    if let Some((lo, hi)) = lr {
        let mut c = builder(area).build_cartesian_2d(t0..t1, (lo..hi).log_scale())?;
        c.configure_mesh()
            .x_desc("t")
            .y_desc("R (log)")
            .y_label_formatter(&log_tick)
            .label_style(font(14))
            .axis_desc_style(font(16))
            .draw()?;
        body!(c);
    } else {
        let (lo, hi) = range(rs.iter().copied());
        let mut c = builder(area).build_cartesian_2d(t0..t1, lo..hi)?;
        c.configure_mesh()
            .x_desc("t")
            .y_desc("R")
            .label_style(font(14))
            .axis_desc_style(font(16))
            .draw()?;
        body!(c);
    }
    Ok(())
}

fn free_energy_panel(area: &Area, s: &[Series]) -> Result<(), PlotError> {
    let (t0, t1) = range(s.iter().flat_map(|x| x.t.iter().copied()));
    let (lo, hi) = range(s.iter().flat_map(|x| x.f.iter().copied()));
    let mut c = ChartBuilder::on(area)
        .caption("free energy F(ρ_t)", font(20))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(85)
        .build_cartesian_2d(t0.max(0.0)..t1, lo..hi)?;
    c.configure_mesh()
        .x_desc("t")
        .y_desc("F")
        .y_label_formatter(&|v| format!("{v:.4}"))
        .label_style(font(14))
        .axis_desc_style(font(16))
        .draw()?;
    for x in s {
        c.draw_series(LineSeries::new(
            x.t.iter()
                .copied()
                .zip(x.f.iter().copied())
                .filter(|p| p.1.is_finite()),
            x.colour.stroke_width(2),
        ))?;
    }
    Ok(())
}

fn gap_panel(area: &Area, s: &[Series]) -> Result<(), PlotError> {
    let pts = s.iter().filter_map(|x| x.gap.as_ref().map(|g| &g.0));
    let all: Vec<(f64, f64)> = pts.flatten().copied().collect();
    let (t0, t1) = range(all.iter().map(|p| p.0));
    let Some((lo, hi)) = log_range(all.iter().map(|p| p.1)) else {
        return Ok(());
    };
    let mut c = ChartBuilder::on(area)
        .caption("F(ρ_t) − F*  (dashed: fitted e^(−κt))", font(20))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(75)
        .build_cartesian_2d(t0.max(0.0)..t1, (lo..hi).log_scale())?;
    c.configure_mesh()
        .x_desc("t")
        .y_desc("F − F* (log)")
        .y_label_formatter(&log_tick)
        .label_style(font(14))
        .axis_desc_style(font(16))
        .draw()?;
    for x in s {
        let Some((p, rate, _)) = &x.gap else { continue };
        c.draw_series(LineSeries::new(p.iter().copied(), x.colour.stroke_width(2)))?;
        if let Some((a, k)) = rate {
            let (ta, tb) = (p[0].0, p[p.len() - 1].0);
            let line = (0..=40).map(|i| {
                let t = ta + (tb - ta) * i as f64 / 40.0;
                (t, (a - k * t).exp())
            });
            let line: Vec<(f64, f64)> = line.filter(|q| q.1 >= lo && q.1 <= hi).collect();
            c.draw_series(DashedLineSeries::new(
                line,
                8,
                6,
                BLACK.mix(0.6).stroke_width(1),
            ))?;
        }
    }
    Ok(())
}

pub fn draw(runs: &[Run], out: &Path) -> Result<(), PlotError> {
    let s = collect(runs)?;
    if s.is_empty() {
        return Err(PlotError::new(
            "no /diagnostics or /particles/risk_mean to plot",
        ));
    }
    let size = (WIDTH, height(s.len()));
    let root = BitMapBackend::new(out, size).into_drawing_area();
    root.fill(&WHITE)?;
    // the runs drawn here (an `mfl stationary` file only lends its predicted rate)
    let shown: Vec<&Run> = runs
        .iter()
        .filter(|r| r.has("/diagnostics/time") || r.has("/particles/risk_mean"))
        .collect();
    let title = if shown.len() == 1 {
        shown[0].title()
    } else {
        format!("{} runs", shown.len())
    };
    let body = root.titled(&format!("risk and free energy — {title}"), font(24))?;
    let (charts, legend) = body.split_vertically(500);
    let with_gap = s
        .iter()
        .any(|x| x.gap.as_ref().is_some_and(|g| !g.0.is_empty()));
    let with_f = s.iter().any(|x| !x.f.is_empty());
    let n = 1 + usize::from(with_f) + usize::from(with_gap);
    let panels = charts.split_evenly((1, n));
    risk_panel(&panels[0], &s)?;
    if with_f {
        free_energy_panel(&panels[1], &s)?;
    }
    if with_gap {
        gap_panel(&panels[n - 1], &s)?;
    }
    for (k, x) in s.iter().enumerate() {
        let y = 12 + 28 * k as i32;
        let col = x.colour;
        legend.draw(&PathElement::new(
            vec![(30, y + 9), (70, y + 9)],
            col.stroke_width(3),
        ))?;
        let mut text = x.label.clone();
        if let Some((_, rate, why)) = &x.gap {
            match rate {
                Some((_, k)) => {
                    text.push_str(&format!(";  F − F* ∝ e^(−κt), κ = {} ({why})", num(*k)))
                }
                None => text.push_str(&format!(";  ({why})")),
            }
        }
        legend.draw_text(&text, &font(16), (80, y))?;
    }
    root.present()?;
    Ok(())
}
