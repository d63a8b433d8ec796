//! `density.png`: ρ at selected times — lines in 1D, one heatmap per time in 2D.

use super::run::{num, Run};
use super::style::{colour_bar, font, heat, heatmap, range, sequence};
use super::{select_times, PlotError, PlotOptions};
use ndarray::{Axis, Ix2};
use plotters::prelude::*;
use std::path::Path;

/// Figure size of a 1D density plot.
pub const SIZE_1D: (u32, u32) = (1000, 650);
/// Figure size of a 2D density plot (up to four heatmaps and a colour bar).
pub const SIZE_2D: (u32, u32) = (1300, 1000);

/// The grid's cell centres, one vector per axis, checked against the density's shape.
pub fn grid_axes(run: &Run, shape: &[usize]) -> Result<Vec<Vec<f64>>, PlotError> {
    (0..shape.len())
        .map(|a| run.vec_len(&format!("/grid/theta_{a}"), shape[a]))
        .collect()
}

pub fn draw(run: &Run, out: &Path, opts: &PlotOptions) -> Result<(), PlotError> {
    let shape = run.shape("/density").unwrap_or_default().to_vec();
    if !(shape.len() == 2 || shape.len() == 3) {
        return Err(PlotError::new(format!(
            "{}: /density has shape {shape:?}; expected [snapshot, n0] or [snapshot, n0, n1]",
            run.path.display()
        )));
    }
    let rho = run.get("/density", shape.len())?;
    let times = run.vec_len("/time", shape[0])?;
    if shape[0] == 0 {
        return Err(PlotError::new(format!(
            "{}: /density has no snapshots",
            run.path.display()
        )));
    }
    let axes = grid_axes(run, &shape[1..])?;
    let names = run.axis_names(axes.len());
    let title = format!("ρ_t — {}", run.title());
    let label = run.pde_label();
    if axes.len() == 1 {
        let sel = select_times(&times, opts.times.as_deref(), 6);
        let root = BitMapBackend::new(out, SIZE_1D).into_drawing_area();
        root.fill(&WHITE)?;
        let x = &axes[0];
        let (x0, x1) = (x[0].min(x[x.len() - 1]), x[0].max(x[x.len() - 1]));
        let ymax = sel
            .iter()
            .flat_map(|&s| {
                rho.index_axis(Axis(0), s)
                    .iter()
                    .copied()
                    .collect::<Vec<_>>()
            })
            .filter(|v| v.is_finite())
            .fold(0.0f64, f64::max);
        let body = root.titled(&title, font(22))?;
        let body = body.titled(&format!("{label}; dashed: teacher neurons"), font(15))?;
        let mut c = ChartBuilder::on(&body)
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d(x0..x1, 0.0..(1.08 * ymax).max(1e-300))?;
        c.configure_mesh()
            .x_desc(names[0].as_str())
            .y_desc("ρ")
            .label_style(font(15))
            .axis_desc_style(font(18))
            .draw()?;
        for (k, &s) in sel.iter().enumerate() {
            let col = sequence(k, sel.len());
            let r = rho.index_axis(Axis(0), s);
            c.draw_series(LineSeries::new(
                x.iter().copied().zip(r.iter().copied()),
                col.stroke_width(2),
            ))?
            .label(format!("t = {}", num(times[s])))
            .legend(move |(a, b)| PathElement::new(vec![(a, b), (a + 20, b)], col.stroke_width(2)));
        }
        for p in run.teacher_points(1) {
            c.draw_series(DashedLineSeries::new(
                [(p[0], 0.0), (p[0], 1.08 * ymax)],
                6,
                4,
                BLACK.mix(0.5).stroke_width(1),
            ))?;
        }
        c.configure_series_labels()
            .label_font(font(15))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperRight)
            .draw()?;
        root.present()?;
        return Ok(());
    }
    let sel = select_times(&times, opts.times.as_deref(), 4);
    let root = BitMapBackend::new(out, SIZE_2D).into_drawing_area();
    root.fill(&WHITE)?;
    let body = root.titled(&title, font(24))?;
    let (body, foot) = body.split_vertically(SIZE_2D.1 - 70);
    foot.draw_text(&label, &font(16), (20, 10))?;
    let (panels, bar) = body.split_horizontally(SIZE_2D.0 - 150);
    let (rows, cols) = match sel.len() {
        1 => (1, 1),
        2 => (1, 2),
        _ => (2, 2),
    };
    let vmax = sel
        .iter()
        .flat_map(|&s| {
            rho.index_axis(Axis(0), s)
                .iter()
                .copied()
                .collect::<Vec<_>>()
        })
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    let (xr, yr) = (
        range(axes[0].iter().copied()),
        range(axes[1].iter().copied()),
    );
    let teacher = run.teacher_points(2);
    for (area, &s) in panels.split_evenly((rows, cols)).iter().zip(&sel) {
        let r = rho
            .index_axis(Axis(0), s)
            .into_dimensionality::<Ix2>()
            .map_err(|e| PlotError::new(e.to_string()))?;
        let mut c = ChartBuilder::on(area)
            .caption(format!("t = {}", num(times[s])), font(18))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(xr.0..xr.1, yr.0..yr.1)?;
        c.configure_mesh()
            .disable_mesh()
            .x_desc(names[0].as_str())
            .y_desc(names[1].as_str())
            .label_style(font(14))
            .axis_desc_style(font(16))
            .draw()?;
        heatmap(&mut c, &axes[0], &axes[1], &r, |v| heat(v, vmax))?;
        c.draw_series(
            teacher
                .iter()
                .map(|p| Cross::new((p[0], p[1]), 7, WHITE.stroke_width(2))),
        )?;
    }
    colour_bar(&bar, vmax, "ρ")?;
    root.present()?;
    Ok(())
}
