//! `extrapolation.png` (runs with `solver.extrapolate`): for R and F, the error band of the
//! extrapolated value — `/error_estimate/<q>` over t on a log axis — next to the finest grid's
//! distance from it, |Q_finest − Q_extrapolated| (≈ the finest grid's own error), at the times
//! of `/extrapolated/time`.

use super::run::Run;
use super::style::{font, log_range, log_tick, range, Area};
use super::PlotError;
use plotters::prelude::*;
use std::path::Path;

/// Figure size.
pub const SIZE: (u32, u32) = (1500, 620);

/// (t, error estimate, |finest − extrapolated|) at the extrapolation times t > 0.
fn series(r: &Run, q: &str) -> Result<Vec<(f64, f64, f64)>, PlotError> {
    let t = r.vec("/extrapolated/time")?;
    let x = r.vec_len(&format!("/extrapolated/{q}"), t.len())?;
    let e = r.vec_len(&format!("/error_estimate/{q}"), t.len())?;
    let dt = r.vec("/diagnostics/time")?;
    let dq = r.vec_len(&format!("/diagnostics/{q}"), dt.len())?;
    Ok(t.iter()
        .zip(x.iter().zip(&e))
        .filter(|(t, _)| **t > 0.0)
        .filter_map(|(&t, (&x, &e))| {
            let i = dt.iter().rposition(|&s| s == t)?;
            Some((t, e, (dq[i] - x).abs()))
        })
        .collect())
}

fn panel(area: &Area, title: &str, s: &[(f64, f64, f64)]) -> Result<(), PlotError> {
    let (t0, t1) = range(s.iter().map(|p| p.0));
    let Some((lo, hi)) = log_range(s.iter().flat_map(|p| [p.1, p.2])) else {
        return Ok(());
    };
    let mut c = ChartBuilder::on(area)
        .caption(title, font(20))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(75)
        .build_cartesian_2d(t0.max(0.0)..t1, (lo..hi).log_scale())?;
    c.configure_mesh()
        .x_desc("t")
        .y_desc("absolute error (log)")
        .y_label_formatter(&log_tick)
        .label_style(font(14))
        .axis_desc_style(font(16))
        .draw()?;
    let blue = RGBColor(31, 119, 180);
    let red = RGBColor(214, 39, 40);
    let pos = |v: f64| v.is_finite() && v > 0.0;
    let est: Vec<(f64, f64)> = s.iter().filter(|p| pos(p.1)).map(|p| (p.0, p.1)).collect();
    let fine: Vec<(f64, f64)> = s.iter().filter(|p| pos(p.2)).map(|p| (p.0, p.2)).collect();
    // the band: from the bottom of the axis to the error estimate
    if let (Some(a), Some(b)) = (est.first(), est.last()) {
        let mut band = est.clone();
        band.push((b.0, lo));
        band.push((a.0, lo));
        c.draw_series(std::iter::once(Polygon::new(band, blue.mix(0.2).filled())))?;
    }
    c.draw_series(LineSeries::new(est.iter().copied(), blue.stroke_width(2)))?
        .label("error estimate of the extrapolated value (band)")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 30, y)], blue.stroke_width(3)));
    c.draw_series(LineSeries::new(fine.iter().copied(), red.stroke_width(2)))?
        .label("|finest grid − extrapolated|")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 30, y)], red.stroke_width(3)));
    c.draw_series(fine.iter().map(|&p| Circle::new(p, 3, red.filled())))?;
    c.configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font(font(14))
        .draw()?;
    Ok(())
}

/// Draw the figure of the first run with `/extrapolated` into `out`.
pub fn draw(r: &Run, out: &Path) -> Result<(), PlotError> {
    let root = BitMapBackend::new(out, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let levels = crate::h5::read_attr_f64(&r.path, "/extrapolated", "levels").unwrap_or(f64::NAN);
    let body = root.titled(
        &format!("grid extrapolation ({} levels) — {}", levels, r.title()),
        font(24),
    )?;
    let panels = body.split_evenly((1, 2));
    for (area, (q, title)) in panels.iter().zip([
        ("risk", "R(ρ_t): error band"),
        ("free_energy", "F(ρ_t): error band"),
    ]) {
        if r.has(&format!("/extrapolated/{q}")) {
            panel(area, title, &series(r, q)?)?;
        }
    }
    root.present()?;
    Ok(())
}
