//! The measured exponential rate of F(ρ_t) − F* along a time run.
//!
//! With g_i = F(t_i) − F* > 0, the rate κ is the least-squares slope of ln g = a − κt over a
//! window of the *asymptotic* regime: the points after the transient (g ≤ `TRANSIENT`·max g)
//! and above the round-off floor of F (g ≥ `FLOOR_FACTOR`·ε·max(1, |F*|), below which
//! F − F* is noise). The interval is the range of the slopes fitted separately on the first
//! and the second half of the window (together with κ): for a single exponential it collapses
//! to κ, and its width measures how far the decay is from one — a slower mode not yet dominant,
//! or the floor reached. Serial sums in index order.

/// g ≤ TRANSIENT·max g: past the transient.
pub const TRANSIENT: f64 = 1e-2;
/// g ≥ FLOOR_FACTOR·ε·max(1, |F*|): above the round-off of F.
pub const FLOOR_FACTOR: f64 = 1e3;

/// An exponential fit g ≈ e^{a − κt} of F(ρ_t) − F*.
#[derive(Debug, Clone, PartialEq)]
pub struct DecayFit {
    /// κ (the rate of F − F*, not of ρ − ρ*).
    pub rate: f64,
    /// Intercept a.
    pub intercept: f64,
    /// [κ_lo, κ_hi]: min and max of κ and the slopes of the two half-windows.
    pub interval: (f64, f64),
    /// The window [t_first, t_last].
    pub window: (f64, f64),
    /// Points in the window.
    pub points: usize,
}

/// Least-squares (a, κ) of ln g = a − κ t.
fn line(p: &[(f64, f64)]) -> Option<(f64, f64)> {
    if p.len() < 2 {
        return None;
    }
    let n = p.len() as f64;
    let mt = p.iter().map(|q| q.0).sum::<f64>() / n;
    let ml = p.iter().map(|q| q.1.ln()).sum::<f64>() / n;
    let sxx: f64 = p.iter().map(|q| (q.0 - mt).powi(2)).sum();
    let sxy: f64 = p.iter().map(|q| (q.0 - mt) * (q.1.ln() - ml)).sum();
    if sxx.is_nan() || sxx <= 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    Some((ml - slope * mt, -slope))
}

/// The fit of F(t_i) − F* (see the module doc); None with fewer than 6 points in the window
/// or a non-positive rate.
pub fn fit_decay(times: &[f64], free_energy: &[f64], f_star: f64) -> Option<DecayFit> {
    let floor = FLOOR_FACTOR * f64::EPSILON * f_star.abs().max(1.0);
    let g: Vec<(f64, f64)> = times
        .iter()
        .zip(free_energy)
        .map(|(&t, &f)| (t, f - f_star))
        .filter(|p| p.0.is_finite() && p.1.is_finite())
        .collect();
    let gmax = g.iter().map(|p| p.1).fold(0.0f64, f64::max);
    // the window: from the first point past the transient to the last one above the floor,
    // contiguous (a point at the floor ends it)
    let start = g
        .iter()
        .position(|p| p.1 <= TRANSIENT * gmax && p.1 > floor)?;
    let w: Vec<(f64, f64)> = g[start..]
        .iter()
        .copied()
        .take_while(|p| p.1 > floor)
        .collect();
    if w.len() < 6 {
        return None;
    }
    let (a, k) = line(&w)?;
    let h = w.len() / 2;
    let (_, k1) = line(&w[..h])?;
    let (_, k2) = line(&w[h..])?;
    if !(k > 0.0 && k.is_finite()) {
        return None;
    }
    Some(DecayFit {
        rate: k,
        intercept: a,
        interval: (k.min(k1).min(k2), k.max(k1).max(k2)),
        window: (w[0].0, w[w.len() - 1].0),
        points: w.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_the_slower_rate_of_two_exponentials() {
        let t: Vec<f64> = (0..400).map(|i| 0.1 * i as f64).collect();
        let f: Vec<f64> = t
            .iter()
            .map(|t| -1.0 + 3.0 * (-2.0 * t).exp() + 0.5 * (-0.7 * t).exp())
            .collect();
        let fit = fit_decay(&t, &f, -1.0).unwrap();
        assert!((fit.rate - 0.7).abs() < 1e-3, "{fit:?}");
        assert!(fit.interval.0 <= fit.rate && fit.rate <= fit.interval.1);
        assert!(fit.interval.1 - fit.interval.0 < 1e-2);
        assert!(fit_decay(&t[..3], &f[..3], -1.0).is_none());
    }
}
