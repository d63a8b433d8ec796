//! Particles binned to a grid density.

use crate::error::PdeError;
use mfl_core::Grid;
use ndarray::ArrayView2;

/// ρ_m = #{i : θ_i ∈ cell m} / (N |cell|), so that Σ_m ρ_m |cell| = 1. Particles outside a
/// no-flux box are counted in the nearest boundary cell; periodic axes wrap.
pub fn histogram(grid: &Grid, particles: ArrayView2<f64>) -> Result<Vec<f64>, PdeError> {
    if particles.ncols() != grid.dim() {
        return Err(PdeError::invalid(
            "particles",
            format!(
                "particles have dimension {}, the grid {}",
                particles.ncols(),
                grid.dim()
            ),
        ));
    }
    let n = particles.nrows();
    if n == 0 {
        return Err(PdeError::invalid("particles", "no particles to bin"));
    }
    let mut rho = vec![0.0; grid.len()];
    let mut th = vec![0.0; grid.dim()];
    for row in particles.rows() {
        for (t, v) in th.iter_mut().zip(row.iter()) {
            *t = *v;
        }
        if th.iter().any(|v| !v.is_finite()) {
            return Err(PdeError::invalid("particles", "non-finite position"));
        }
        rho[grid.cell_of(&th)] += 1.0;
    }
    let scale = 1.0 / (n as f64 * grid.cell_volume());
    rho.iter_mut().for_each(|v| *v *= scale);
    Ok(rho)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mfl_core::{Axis, Boundary};
    use ndarray::array;

    #[test]
    fn bins_and_normalises() {
        let g = Grid::new(vec![
            Axis::new(0.0, 2.0, 2, Boundary::NoFlux).unwrap(),
            Axis::new(0.0, 3.0, 3, Boundary::NoFlux).unwrap(),
        ])
        .unwrap();
        let p = array![[0.5, 0.5], [1.5, 2.5], [1.5, 2.9], [9.0, 9.0]];
        let rho = histogram(&g, p.view()).unwrap();
        assert_eq!(rho, vec![0.25, 0.0, 0.0, 0.0, 0.0, 0.75]);
        assert!(histogram(&g, array![[0.0]].view()).is_err());
    }
}
