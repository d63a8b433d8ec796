//! `stationary.png` of an `mfl stationary` file: R(ρ*_T), F(ρ*_T) and the predicted rate 2κ
//! of F − F* against the temperature, and in 1D the stationary densities ρ*_T.

use super::density::grid_axes;
use super::run::{num, Run};
use super::style::{font, log_range, log_tick, range, sequence, Area};
use super::PlotError;
use ndarray::Axis;
use plotters::prelude::*;
use std::path::Path;

/// Figure height (one row of panels and a caption line).
pub const HEIGHT: u32 = 600;
/// Width per panel.
pub const PANEL: u32 = 500;

/// One panel of y against T (points joined by a line; log y when `log`).
fn versus_t(
    area: &Area,
    caption: &str,
    t: &[f64],
    y: &[f64],
    ydesc: &str,
    log: bool,
) -> Result<(), PlotError> {
    let pts: Vec<(f64, f64)> = t
        .iter()
        .copied()
        .zip(y.iter().copied())
        .filter(|p| p.1.is_finite() && (!log || p.1 > 0.0))
        .collect();
    if pts.is_empty() {
        area.draw_text(&format!("{caption}: not computed"), &font(16), (20, 40))?;
        return Ok(());
    }
    let (t0, t1) = range(pts.iter().map(|p| p.0));
    let col = RGBColor(31, 119, 180);
    macro_rules! body {
        ($c:expr) => {{
            $c.draw_series(LineSeries::new(pts.iter().copied(), col.stroke_width(2)))?;
            $c.draw_series(pts.iter().map(|&p| Circle::new(p, 5, col.filled())))?;
        }};
    }
    let mut b = ChartBuilder::on(area);
    b.caption(caption, font(20))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(85);
    // a log axis only over more than a decade and a half (else it has no labelled ticks)
    match log_range(pts.iter().map(|p| p.1)).filter(|(lo, hi)| log && hi / lo > 30.0) {
        Some((lo, hi)) => {
            let mut c = b.build_cartesian_2d(t0..t1, (lo..hi).log_scale())?;
            c.configure_mesh()
                .x_desc("T")
                .y_desc(ydesc)
                .y_label_formatter(&log_tick)
                .label_style(font(14))
                .axis_desc_style(font(16))
                .draw()?;
            body!(c);
        }
        None => {
            let (lo, hi) = range(pts.iter().map(|p| p.1));
            let mut c = b.build_cartesian_2d(t0..t1, lo..hi)?;
            c.configure_mesh()
                .x_desc("T")
                .y_desc(ydesc)
                .y_label_formatter(&|v| {
                    if v.abs() < 1e-2 && *v != 0.0 {
                        format!("{v:.3e}")
                    } else {
                        format!("{v:.4}")
                    }
                })
                .label_style(font(14))
                .axis_desc_style(font(16))
                .draw()?;
            body!(c);
        }
    }
    Ok(())
}

/// ρ*_T of a 1D grid, one line per temperature.
fn densities(area: &Area, run: &Run, t: &[f64]) -> Result<(), PlotError> {
    let shape = run
        .shape("/stationary/density")
        .unwrap_or_default()
        .to_vec();
    let rho = run.get("/stationary/density", 2)?;
    let x = &grid_axes(run, &shape[1..])?[0];
    let ymax = rho
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    let (x0, x1) = range(x.iter().copied());
    let mut c = ChartBuilder::on(area)
        .caption("stationary densities ρ*_T", font(20))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, 0.0..(1.08 * ymax).max(1e-300))?;
    let names = run.axis_names(1);
    c.configure_mesh()
        .x_desc(names[0].as_str())
        .y_desc("ρ*")
        .label_style(font(14))
        .axis_desc_style(font(16))
        .draw()?;
    for (k, tk) in t.iter().enumerate() {
        let col = sequence(k, t.len());
        let r = rho.index_axis(Axis(0), k);
        c.draw_series(LineSeries::new(
            x.iter().copied().zip(r.iter().copied()),
            col.stroke_width(2),
        ))?
        .label(format!("T = {}", num(*tk)))
        .legend(move |(a, b)| PathElement::new(vec![(a, b), (a + 20, b)], col.stroke_width(2)));
    }
    c.configure_series_labels()
        .label_font(font(14))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()?;
    Ok(())
}

pub fn draw(run: &Run, out: &Path) -> Result<(), PlotError> {
    let t = run.vec("/stationary/temperature")?;
    if t.is_empty() {
        return Err(PlotError::new(format!(
            "{}: /stationary/temperature is empty",
            run.path.display()
        )));
    }
    let n = t.len();
    let risk = run.vec_len("/stationary/risk", n)?;
    let f = run.vec_len("/stationary/free_energy", n)?;
    let rate = if run.has("/stationary/rate") {
        run.vec_len("/stationary/rate", n)?
    } else {
        vec![f64::NAN; n]
    };
    let one_d = run
        .shape("/stationary/density")
        .is_some_and(|s| s.len() == 2);
    let panels = 3 + usize::from(one_d);
    let root = BitMapBackend::new(out, (PANEL * panels as u32, HEIGHT)).into_drawing_area();
    root.fill(&WHITE)?;
    let body = root.titled(&format!("stationary states — {}", run.title()), font(24))?;
    let (charts, foot) = body.split_vertically(HEIGHT - 80);
    let p = charts.split_evenly((1, panels));
    versus_t(&p[0], "risk R(ρ*_T)", &t, &risk, "R", true)?;
    versus_t(&p[1], "free energy F(ρ*_T)", &t, &f, "F", false)?;
    versus_t(&p[2], "predicted rate 2κ of F − F*", &t, &rate, "2κ", true)?;
    if one_d {
        densities(&p[3], run, &t)?;
    }
    let last = n - 1;
    foot.draw_text(
        &format!(
            "T = {}: F* = {}, R* = {}, 2κ = {} (κ: slowest eigenvalue of the linearised FV scheme)",
            num(t[last]),
            num(f[last]),
            num(risk[last]),
            num(rate[last])
        ),
        &font(16),
        (20, 10),
    )?;
    root.present()?;
    Ok(())
}
