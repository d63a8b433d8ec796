//! `particles.png`: the particles at the final time over the density ρ (a histogram in 1D, a
//! scatter in 2D), and particle paths when `/particles/positions` was recorded.

use super::density::grid_axes;
use super::run::{num, Run};
use super::style::{font, heatmap, pale, palette, range, sequence, Area};
use super::PlotError;
use ndarray::{Axis, Ix2, Ix3, Ix4};
use plotters::prelude::*;
use std::path::Path;

/// Size of a 1D particle plot (twice as wide with paths).
pub const SIZE_1D: (u32, u32) = (1000, 650);
/// Size of a 2D particle plot.
pub const SIZE_2D: (u32, u32) = (1000, 950);
/// Particles drawn in a scatter (evenly thinned beyond this).
const MAX_POINTS: usize = 6000;
/// Paths drawn (of the first seed).
const MAX_PATHS: usize = 60;

/// The density of `run` at the snapshot nearest `t`: (axes, values [n0(, n1)], its time).
type Snapshot = (Vec<Vec<f64>>, ndarray::ArrayD<f64>, f64);

fn snapshot_near(run: &Run, t: f64) -> Result<Snapshot, PlotError> {
    let shape = run.shape("/density").unwrap_or_default().to_vec();
    if shape.len() < 2 || shape[0] == 0 {
        return Err(PlotError::new(format!(
            "{}: /density has shape {shape:?}",
            run.path.display()
        )));
    }
    let rho = run.get("/density", shape.len())?;
    let times = run.vec_len("/time", shape[0])?;
    let i = (0..times.len())
        .min_by(|&a, &b| (times[a] - t).abs().total_cmp(&(times[b] - t).abs()))
        .expect("≥ 1 snapshot");
    let axes = grid_axes(run, &shape[1..])?;
    Ok((axes, rho.index_axis(Axis(0), i).to_owned(), times[i]))
}

pub fn draw(run: &Run, rho_run: Option<&Run>, out: &Path) -> Result<(), PlotError> {
    let fin = run
        .get("/particles/final_theta", 3)?
        .into_dimensionality::<Ix3>()
        .map_err(|e| PlotError::new(e.to_string()))?;
    let (s, n, d) = fin.dim();
    if s == 0 || n == 0 || d == 0 {
        return Err(PlotError::new(format!(
            "{}: /particles/final_theta is empty ({s}×{n}×{d})",
            run.path.display()
        )));
    }
    let ptimes = run.vec("/particles/time")?;
    let t_end = ptimes.last().copied().unwrap_or(0.0);
    let snap = match rho_run {
        Some(r) => Some((snapshot_near(r, t_end)?, r)),
        None => None,
    };
    let snap = snap.filter(|((axes, _, _), _)| axes.len() == d.min(2));
    let positions = if run.has("/particles/positions") {
        let p = run
            .get("/particles/positions", 4)?
            .into_dimensionality::<Ix4>()
            .map_err(|e| PlotError::new(e.to_string()))?;
        if p.dim().1 != ptimes.len() {
            return Err(PlotError::new(format!(
                "{}: /particles/positions has {} records, /particles/time {}",
                run.path.display(),
                p.dim().1,
                ptimes.len()
            )));
        }
        Some(p)
    } else {
        None
    };
    let names = run.axis_names(d);
    let plabel = format!("{}, t = {}", run.particles_label(), num(t_end));
    let title = format!("particles over ρ — {}", run.title());
    if d == 1 {
        let size = if positions.is_some() {
            (2 * SIZE_1D.0, SIZE_1D.1)
        } else {
            SIZE_1D
        };
        let root = BitMapBackend::new(out, size).into_drawing_area();
        root.fill(&WHITE)?;
        let body = root.titled(&title, font(22))?;
        let (left, right) = if positions.is_some() {
            let (a, b) = body.split_horizontally(SIZE_1D.0);
            (a, Some(b))
        } else {
            (body, None)
        };
        let vals: Vec<f64> = fin.iter().copied().filter(|v| v.is_finite()).collect();
        let (lo, hi) = match &snap {
            Some(((axes, _, _), _)) => {
                let e = super::style::edges(&axes[0]);
                (e[0], e[e.len() - 1])
            }
            None => range(vals.iter().copied()),
        };
        let bins = 50usize;
        let w = (hi - lo) / bins as f64;
        let mut counts = vec![0.0; bins];
        for v in &vals {
            let b = ((v - lo) / w).floor();
            if b >= 0.0 && (b as usize) < bins {
                counts[b as usize] += 1.0;
            }
        }
        let tot = vals.len().max(1) as f64;
        for c in &mut counts {
            *c /= tot * w;
        }
        let rmax = snap.as_ref().map_or(0.0, |((_, r, _), _)| {
            r.iter()
                .copied()
                .filter(|v| v.is_finite())
                .fold(0.0, f64::max)
        });
        let ymax = counts.iter().copied().fold(rmax, f64::max) * 1.1;
        let mut c = ChartBuilder::on(&left)
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d(lo..hi, 0.0..ymax.max(1e-300))?;
        c.configure_mesh()
            .x_desc(names[0].as_str())
            .y_desc("density")
            .label_style(font(15))
            .axis_desc_style(font(18))
            .draw()?;
        let hc = palette(0);
        c.draw_series(counts.iter().enumerate().map(|(b, &h)| {
            let x0 = lo + b as f64 * w;
            Rectangle::new([(x0, 0.0), (x0 + w, h)], hc.mix(0.45).filled())
        }))?
        .label(format!("histogram of {} × {s} seeds: {plabel}", n))
        .legend(move |(a, b)| Rectangle::new([(a, b - 6), (a + 20, b + 6)], hc.mix(0.45).filled()));
        if let Some(((axes, r, tr), rr)) = &snap {
            let col = palette(1);
            c.draw_series(LineSeries::new(
                axes[0].iter().copied().zip(r.iter().copied()),
                col.stroke_width(2),
            ))?
            .label(format!("ρ(t = {}): {}", num(*tr), rr.pde_label()))
            .legend(move |(a, b)| PathElement::new(vec![(a, b), (a + 20, b)], col.stroke_width(2)));
        }
        c.configure_series_labels()
            .label_font(font(14))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()?;
        if let (Some(area), Some(p)) = (right, &positions) {
            paths_1d(&area, p, &ptimes, &names[0])?;
        }
        root.present()?;
        return Ok(());
    }
    let root = BitMapBackend::new(out, SIZE_2D).into_drawing_area();
    root.fill(&WHITE)?;
    let body = root.titled(&title, font(22))?;
    let (body, foot) = body.split_vertically(SIZE_2D.1 - 125);
    let (xr, yr) = match &snap {
        Some(((axes, _, _), _)) => {
            let (ex, ey) = (super::style::edges(&axes[0]), super::style::edges(&axes[1]));
            ((ex[0], ex[ex.len() - 1]), (ey[0], ey[ey.len() - 1]))
        }
        None => (
            range(fin.index_axis(Axis(2), 0).iter().copied()),
            range(fin.index_axis(Axis(2), 1).iter().copied()),
        ),
    };
    let mut c = ChartBuilder::on(&body)
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(xr.0..xr.1, yr.0..yr.1)?;
    c.configure_mesh()
        .disable_mesh()
        .x_desc(names[0].as_str())
        .y_desc(names[1].as_str())
        .label_style(font(15))
        .axis_desc_style(font(18))
        .draw()?;
    let mut notes = vec![format!(
        "dots: θ of {n} neurons × {s} seeds{} — {plabel}",
        if d > 2 {
            " (first two coordinates)"
        } else {
            ""
        }
    )];
    if let Some(((axes, r, tr), rr)) = &snap {
        let r2 = r
            .view()
            .into_dimensionality::<Ix2>()
            .map_err(|e| PlotError::new(e.to_string()))?;
        let vmax = r2
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .fold(0.0, f64::max);
        heatmap(&mut c, &axes[0], &axes[1], &r2, |v| pale(v, vmax))?;
        notes.push(format!(
            "background: ρ(t = {}) (darker = denser), {}",
            num(*tr),
            rr.pde_label()
        ));
    }
    if let Some(p) = &positions {
        let k = p.dim().2.min(MAX_PATHS);
        for i in 0..k {
            let col = sequence(i, k);
            let path: Vec<(f64, f64)> = (0..p.dim().1)
                .map(|r| (p[[0, r, i, 0]], p[[0, r, i, 1]]))
                .collect();
            c.draw_series(LineSeries::new(
                path.iter().copied(),
                col.mix(0.8).stroke_width(1),
            ))?;
            c.draw_series(std::iter::once(Circle::new(
                path[0],
                2,
                BLACK.mix(0.6).filled(),
            )))?;
        }
        notes.push(format!(
            "lines: paths of {k} particles of seed {} from t = 0 (small black dots) to t = {}",
            run.vec("/particles/seeds")
                .ok()
                .and_then(|v| v.first().copied())
                .map_or("0".into(), num),
            num(t_end)
        ));
    }
    let total = s * n;
    let stride = total.div_ceil(MAX_POINTS).max(1);
    let dot = palette(1);
    c.draw_series(
        (0..total)
            .step_by(stride)
            .map(|k| (fin[[k / n, k % n, 0]], fin[[k / n, k % n, 1]]))
            .filter(|q| q.0.is_finite() && q.1.is_finite())
            .map(|q| Circle::new(q, 2, dot.filled())),
    )?;
    c.draw_series(
        run.teacher_points(d)
            .into_iter()
            .map(|p| Cross::new((p[0], p[1]), 9, BLACK.stroke_width(3))),
    )?;
    notes.push("crosses: teacher neurons".into());
    for (i, t) in notes.iter().enumerate() {
        foot.draw_text(t, &font(15), (20, 5 + 22 * i as i32))?;
    }
    root.present()?;
    Ok(())
}

/// θ_i(t) of the first seed's particles against t.
fn paths_1d(area: &Area, p: &ndarray::Array4<f64>, t: &[f64], name: &str) -> Result<(), PlotError> {
    let k = p.dim().2.min(MAX_PATHS);
    let (t0, t1) = range(t.iter().copied());
    let (lo, hi) = range((0..k).flat_map(|i| (0..t.len()).map(move |r| p[[0, r, i, 0]])));
    let mut c = ChartBuilder::on(area)
        .caption(
            format!("paths θ_i(t) of {k} particles (first seed)"),
            font(18),
        )
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(t0.max(0.0)..t1, lo..hi)?;
    c.configure_mesh()
        .x_desc("t")
        .y_desc(name)
        .label_style(font(15))
        .axis_desc_style(font(18))
        .draw()?;
    for i in 0..k {
        c.draw_series(LineSeries::new(
            (0..t.len()).map(|r| (t[r], p[[0, r, i, 0]])),
            sequence(i, k).stroke_width(1),
        ))?;
    }
    Ok(())
}
