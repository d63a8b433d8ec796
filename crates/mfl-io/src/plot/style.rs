//! Shared pieces: fonts, colours, axis ranges, heatmaps and colour bars.

use super::PlotError;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

/// The bitmap drawing area every figure draws on.
pub type Area<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;
/// A chart with linear axes.
pub type LinChart<'a, 'b> =
    ChartContext<'a, BitMapBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// The bundled sans-serif font at `size` px.
pub fn font(size: u32) -> TextStyle<'static> {
    ("sans-serif", size).into_font().into()
}

/// Qualitative colours for curves of different runs.
pub fn palette(i: usize) -> RGBColor {
    const C: [RGBColor; 8] = [
        RGBColor(31, 119, 180),
        RGBColor(214, 39, 40),
        RGBColor(44, 160, 44),
        RGBColor(148, 103, 189),
        RGBColor(255, 127, 14),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(23, 190, 207),
    ];
    C[i % C.len()]
}

/// Colours along a sequence (early → late): viridis without its palest end.
pub fn sequence(i: usize, n: usize) -> RGBColor {
    let h = if n <= 1 {
        0.0
    } else {
        0.85 * i as f64 / (n - 1) as f64
    };
    ViridisRGB::get_color(h)
}

/// Finite min and max of `v`, padded by 5% (a unit box when empty or flat).
pub fn range(v: impl IntoIterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for x in v.into_iter().filter(|x| x.is_finite()) {
        lo = lo.min(x);
        hi = hi.max(x);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = if hi > lo {
        0.05 * (hi - lo)
    } else {
        0.5 * lo.abs().max(1.0)
    };
    (lo - pad, hi + pad)
}

/// A log-axis range covering the positive finite values of `v`, or None if there are none.
pub fn log_range(v: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    let (mut lo, mut hi) = (f64::INFINITY, 0.0f64);
    for x in v.into_iter().filter(|x| x.is_finite() && *x > 0.0) {
        lo = lo.min(x);
        hi = hi.max(x);
    }
    if !lo.is_finite() {
        return None;
    }
    Some((lo / 1.6, hi * 1.6))
}

/// Tick labels for log axes: 1e-3, 0.01, 0.1, 1, 10.
pub fn log_tick(v: &f64) -> String {
    if *v >= 0.01 && *v < 1e4 {
        super::num(*v)
    } else {
        format!("{v:.0e}")
    }
}

/// Cell edges from cell centres (midpoints, the ends extrapolated).
pub fn edges(c: &[f64]) -> Vec<f64> {
    let n = c.len();
    if n == 1 {
        return vec![c[0] - 0.5, c[0] + 0.5];
    }
    let mut e = Vec::with_capacity(n + 1);
    e.push(c[0] - 0.5 * (c[1] - c[0]));
    for i in 0..n - 1 {
        e.push(0.5 * (c[i] + c[i + 1]));
    }
    e.push(c[n - 1] + 0.5 * (c[n - 1] - c[n - 2]));
    e
}

/// Colour of a density value on [0, vmax].
pub fn heat(v: f64, vmax: f64) -> RGBColor {
    let h = if vmax > 0.0 && v.is_finite() {
        (v / vmax).clamp(0.0, 1.0)
    } else {
        0.0
    };
    ViridisRGB::get_color(h)
}

/// A pale colour of a density value, for a background under particles.
pub fn pale(v: f64, vmax: f64) -> RGBColor {
    let h = if vmax > 0.0 && v.is_finite() {
        (v / vmax).clamp(0.0, 1.0)
    } else {
        0.0
    };
    // white → grey-blue
    let f = |k: f64| (255.0 - k * h) as u8;
    RGBColor(f(150.0), f(120.0), f(70.0))
}

/// Draw ρ[i, j] (i along x, j along y) as filled cells.
pub fn heatmap(
    chart: &mut LinChart,
    x: &[f64],
    y: &[f64],
    rho: &ndarray::ArrayView2<f64>,
    colour: impl Fn(f64) -> RGBColor,
) -> Result<(), PlotError> {
    let (ex, ey) = (edges(x), edges(y));
    chart.draw_series((0..x.len()).flat_map(|i| {
        let (ex, ey) = (&ex, &ey);
        let c = &colour;
        (0..y.len()).map(move |j| {
            Rectangle::new(
                [(ex[i], ey[j]), (ex[i + 1], ey[j + 1])],
                c(rho[[i, j]]).filled(),
            )
        })
    }))?;
    Ok(())
}

/// A vertical colour bar for values in [0, vmax] labelled `what`.
pub fn colour_bar(area: &Area, vmax: f64, what: &str) -> Result<(), PlotError> {
    let vmax = if vmax > 0.0 && vmax.is_finite() {
        vmax
    } else {
        1.0
    };
    let mut c = ChartBuilder::on(area)
        .margin_top(40)
        .margin_bottom(50)
        .margin_right(10)
        .y_label_area_size(80)
        .caption(what, font(18))
        .build_cartesian_2d(0.0..1.0, 0.0..vmax)?;
    c.configure_mesh()
        .disable_x_mesh()
        .disable_y_mesh()
        .disable_x_axis()
        .y_labels(8)
        .y_label_formatter(&|v| super::num(*v))
        .label_style(font(14))
        .draw()?;
    let k = 200;
    c.draw_series((0..k).map(|i| {
        let (a, b) = (vmax * i as f64 / k as f64, vmax * (i + 1) as f64 / k as f64);
        Rectangle::new([(0.0, a), (1.0, b)], heat(0.5 * (a + b), vmax).filled())
    }))?;
    Ok(())
}
