//! `gap.png`: |E R_N − R(ρ_t)| ± se against N on log–log axes for selected times, each with its
//! fitted power law (slope and 95% interval from `/compare/slope*`, drawn only where the fit
//! succeeded) and the slope −1 guide C/N from the fixed-slope fit
//! (`/compare/inverse_n_prefactor`; older files: `/compare/prefactor`). Negative gaps are drawn
//! as hollow markers at |gap|.

use super::run::{num, Run};
use super::style::{font, log_range, log_tick, sequence};
use super::{select_times, PlotError, PlotOptions};
use ndarray::Ix2;
use plotters::prelude::*;
use std::path::Path;

/// Figure size.
pub const SIZE: (u32, u32) = (1100, 800);

pub fn draw(run: &Run, out: &Path, opts: &PlotOptions) -> Result<(), PlotError> {
    let ns = run.vec("/compare/n")?;
    let times = run.vec("/compare/time")?;
    let mat = |name: &str| -> Result<ndarray::Array2<f64>, PlotError> {
        let a = run
            .get(name, 2)?
            .into_dimensionality::<Ix2>()
            .map_err(|e| PlotError::new(e.to_string()))?;
        if a.dim() != (ns.len(), times.len()) {
            return Err(PlotError::new(format!(
                "{}: {name} has shape {:?}, expected [{}, {}] (/compare/n × /compare/time)",
                run.path.display(),
                a.dim(),
                ns.len(),
                times.len()
            )));
        }
        Ok(a)
    };
    let gap = mat("/compare/gap_risk")?;
    let se = if run.has("/compare/gap_risk_se") {
        mat("/compare/gap_risk_se")?
    } else {
        ndarray::Array2::zeros(gap.dim())
    };
    let opt_vec = |name: &str| -> Result<Option<Vec<f64>>, PlotError> {
        if run.has(name) {
            Ok(Some(run.vec_len(name, times.len())?))
        } else {
            Ok(None)
        }
    };
    let slope = opt_vec("/compare/slope")?;
    let slope_lo = opt_vec("/compare/slope_lo")?;
    let slope_hi = opt_vec("/compare/slope_hi")?;
    let pref = opt_vec("/compare/prefactor")?;
    let inv = opt_vec("/compare/inverse_n_prefactor")?;
    let guide_c = inv.or(pref.clone());
    let sel = select_times(&times, opts.times.as_deref(), 6);
    // (N, |gap|, se, gap < 0)
    let pts = |k: usize| -> Vec<(f64, f64, f64, bool)> {
        (0..ns.len())
            .map(|i| {
                (
                    ns[i],
                    gap[[i, k]].abs(),
                    se[[i, k]].abs(),
                    gap[[i, k]] < 0.0,
                )
            })
            .filter(|p| p.0 > 0.0 && p.1 > 0.0 && p.1.is_finite())
            .collect()
    };
    let all: Vec<(f64, f64, f64, bool)> = sel.iter().flat_map(|&k| pts(k)).collect();
    if all.is_empty() {
        return Err(PlotError::new(format!(
            "{}: /compare/gap_risk has no positive finite entries to draw on log axes",
            run.path.display()
        )));
    }
    let (n0, n1) = log_range(all.iter().map(|p| p.0)).expect("positive N");
    let (g0, g1) = log_range(all.iter().flat_map(|p| [p.1, p.1 + p.2])).expect("positive gaps");
    let any_negative = all.iter().any(|p| p.3);
    let root = BitMapBackend::new(out, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let body = root.titled(
        &format!("gap |E R_N − R(ρ_t)| against N — {}", run.title()),
        font(22),
    )?;
    let (body, foot) = body.split_vertically(SIZE.1 - 70);
    let mut c = ChartBuilder::on(&body)
        .margin(15)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d((n0..n1).log_scale(), (g0..g1).log_scale())?;
    c.configure_mesh()
        .x_desc("N (log)")
        .y_desc("|gap| (log)")
        .x_labels(8)
        .y_labels(8)
        .x_label_formatter(&log_tick)
        .y_label_formatter(&log_tick)
        .label_style(font(15))
        .axis_desc_style(font(18))
        .draw()?;
    for (j, &k) in sel.iter().enumerate() {
        let col = sequence(j, sel.len());
        let p = pts(k);
        c.draw_series(p.iter().map(|&(n, g, e, _)| {
            PathElement::new(vec![(n, (g - e).max(g0)), (n, g + e)], col.stroke_width(2))
        }))?;
        let mut label = format!("t = {}", num(times[k]));
        let fitted = slope.as_ref().map(|s| s[k]).filter(|s| s.is_finite());
        match fitted {
            Some(s) => {
                label.push_str(&format!(", slope {s:.2}"));
                if let (Some(a), Some(b)) = (&slope_lo, &slope_hi) {
                    if a[k].is_finite() && b[k].is_finite() {
                        label.push_str(&format!(" [{:.2}, {:.2}]", a[k], b[k]));
                    }
                }
            }
            None if slope.is_some() => label.push_str(", no power-law fit"),
            None => {}
        }
        if let Some(cp) = guide_c.as_ref().map(|v| v[k]).filter(|v| v.is_finite()) {
            label.push_str(&format!(", C/N with C = {}", num(cp)));
        }
        c.draw_series(p.iter().map(|&(n, g, _, neg)| {
            if neg {
                Circle::new((n, g), 5, col.stroke_width(2))
            } else {
                Circle::new((n, g), 5, col.filled())
            }
        }))?
        .label(label)
        .legend(move |(a, b)| Circle::new((a + 10, b), 5, col.filled()));
        // the fitted line: slope from the file, intercept by weighted least squares in log–log
        if let Some(s) = fitted {
            let (mut num_, mut den) = (0.0, 0.0);
            for &(n, g, e, _) in &p {
                let w = if e > 0.0 { (g / e).powi(2) } else { 1.0 };
                num_ += w * (g.ln() - s * n.ln());
                den += w;
            }
            if den > 0.0 {
                let b = num_ / den;
                let line = [n0, n1].map(|n| (n, (b + s * n.ln()).exp()));
                c.draw_series(LineSeries::new(line, col.stroke_width(2)))?;
            }
        }
        if let Some(cp) = guide_c
            .as_ref()
            .map(|v| v[k])
            .filter(|v| v.is_finite() && *v != 0.0)
        {
            let guide = [n0, n1].map(|n| (n, cp.abs() / n));
            c.draw_series(DashedLineSeries::new(
                guide,
                8,
                6,
                col.mix(0.7).stroke_width(1),
            ))?;
        }
    }
    c.configure_series_labels()
        .label_font(font(15))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()?;
    foot.draw_text(
        if any_negative {
            "dots: |gap| ± se over seeds (hollow: gap < 0); solid: fitted power law (slope, 95% interval); dashed: fixed-slope fit C/N"
        } else {
            "dots: |gap| ± se over seeds; solid: fitted power law (slope, 95% interval); dashed: fixed-slope fit C/N"
        },
        &font(15),
        (20, 5),
    )?;
    foot.draw_text(
        &format!("{}; {}", run.pde_label(), run.particles_label()),
        &font(15),
        (20, 30),
    )?;
    root.present()?;
    Ok(())
}
