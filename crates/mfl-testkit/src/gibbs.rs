//! Gibbs states of a fixed potential V on a grid, with the *discrete* normalisation the finite
//! volume scheme conserves: ρ*_m = e^{−V_m/T} / Z, Z = Σ_m e^{−V_m/T}|cell|, so Σ_m ρ*_m|cell| = 1
//! exactly (V_m = V at the cell centre). The Scharfetter–Gummel fluxes vanish on it, so it is the
//! exact stationary state of the FV scheme for a fixed V.

use mfl_core::Grid;

/// ρ*_m = e^{−(V_m − min V)/T} / Σ_j e^{−(V_j − min V)/T}|cell| for cell values `v` (the shift by
/// min V only avoids overflow; it cancels in the ratio).
pub fn gibbs_state(v: &[f64], temperature: f64, cell_volume: f64) -> Vec<f64> {
    let vmin = v.iter().fold(f64::INFINITY, |a, &b| a.min(b));
    let g: Vec<f64> = v
        .iter()
        .map(|x| (-(x - vmin) / temperature).exp())
        .collect();
    let z: f64 = g.iter().sum::<f64>() * cell_volume;
    g.iter().map(|x| x / z).collect()
}

/// [`gibbs_state`] of V evaluated at the cell centres of `grid`.
pub fn gibbs_on_grid(grid: &Grid, v: impl Fn(&[f64]) -> f64, temperature: f64) -> Vec<f64> {
    let vals: Vec<f64> = grid
        .centres()
        .rows()
        .into_iter()
        .map(|c| v(c.as_slice().expect("contiguous")))
        .collect();
    gibbs_state(&vals, temperature, grid.cell_volume())
}

/// Z = Σ_m e^{−V(θ_m)/T}|cell| over the cell centres θ_m (no shift). On a periodic grid and a
/// smooth periodic V this midpoint rule converges exponentially to the continuous
/// Z = ∫e^{−V/T}dθ, so on a fine grid it gives the continuous Gibbs density e^{−V/T}/Z.
pub fn gibbs_partition(grid: &Grid, v: impl Fn(&[f64]) -> f64, temperature: f64) -> f64 {
    grid.centres()
        .rows()
        .into_iter()
        .map(|c| (-v(c.as_slice().expect("contiguous")) / temperature).exp())
        .sum::<f64>()
        * grid.cell_volume()
}
