//! W1 between samples and grid densities.

mod common;
use common::*;
use mfl_compare::{sliced_w1_2d, slope_fit, w1_1d, w1_discrete, Summary};
use mfl_core::{Axis, Boundary, Grid};
use ndarray::Array2;

#[test]
fn w1_of_gaussian_samples_decays_like_inverse_sqrt_n() {
    let grid = grid_1d(900);
    let rho = gaussian_rho0(&grid);
    let cdf = cumsum(&rho);
    let mut rng = Rng(11);
    let ns = [100.0, 400.0, 1600.0, 6400.0];
    let (mut m, mut s) = (Vec::new(), Vec::new());
    for &n in &ns {
        let w: Vec<f64> = (0..40)
            .map(|_| {
                let x: Vec<f64> = (0..n as usize)
                    .map(|_| rng.sample_grid(&grid, &cdf))
                    .collect();
                w1_1d(&x, &grid, &rho).unwrap()
            })
            .collect();
        let sm = Summary::of(&w);
        m.push(sm.mean);
        s.push(sm.se);
    }
    let f = slope_fit(&ns, &m, &s).unwrap();
    eprintln!("mean W1 {m:?}; slope {} CI {:?}", f.slope, f.slope_ci95);
    assert!(f.slope_ci95.0 <= -0.5 && -0.5 <= f.slope_ci95.1);
    assert!((f.slope + 0.5).abs() < 0.1);
}

#[test]
fn identical_point_masses_are_at_distance_zero() {
    assert_eq!(w1_discrete(&[(0.3, 1.0)], &[(0.3, 1.0)]).unwrap(), 0.0);
    let a = [(0.1, 0.5), (-2.0, 0.25), (4.0, 0.25)];
    assert!(w1_discrete(&a, &a).unwrap().abs() < 1e-15);
    // a particle at the centre of a uniform density on [0, 0.5]: E|U − 0.25| = 1/8
    let g = Grid::line(0.0, 0.5, 2, Boundary::NoFlux).unwrap();
    let w = w1_1d(&[0.25], &g, &[2.0, 2.0]).unwrap();
    assert!((w - 0.125).abs() < 1e-15, "{w}");
}

#[test]
fn sliced_w1_2d_small_for_samples_of_the_density() {
    let g = Grid::new(vec![
        Axis::new(0.0, 1.0, 20, Boundary::NoFlux).unwrap(),
        Axis::new(0.0, 2.0, 20, Boundary::NoFlux).unwrap(),
    ])
    .unwrap();
    let rho = vec![0.5; 400];
    let mut rng = Rng(3);
    let mut w = Vec::new();
    for n in [200usize, 3200] {
        let p = Array2::from_shape_fn((n, 2), |(_, j)| {
            rng.uniform() * if j == 0 { 1.0 } else { 2.0 }
        });
        w.push(sliced_w1_2d(p.view(), &g, &rho, 16, 4).unwrap());
    }
    eprintln!("sliced W1 {w:?}");
    assert!(w[1] < w[0] / 2.0 && w[1] < 0.03);
    // all particles at one point vs the uniform square: far
    let p = Array2::from_elem((10, 2), 0.0);
    assert!(sliced_w1_2d(p.view(), &g, &rho, 16, 4).unwrap() > 0.4);
}
