//! The fused SgKernel against the two-pass kernel of main 522f864 (kept verbatim in
//! benches/old_flux.rs): the same bits for 1, 2 and 3 threads, walls and periodic axes,
//! T > 0 and T = 0, 1D and 2D grids large enough for many bands.

#[allow(dead_code)]
#[path = "../benches/old_flux.rs"]
mod old_flux;
use mfl_core::{Axis, Boundary, Grid};
use mfl_pde::flux::{Layout, SgKernel};

#[test]
fn new_kernel_equals_main_kernel_bit_for_bit() {
    for (n0, n1, per, t) in [
        (512, 512, false, 0.05),
        (300, 256, true, 0.2),
        (256, 333, false, 0.0),
        (1, 5000, true, 0.1),
    ] {
        let b = if per {
            Boundary::Periodic
        } else {
            Boundary::NoFlux
        };
        let axes = if n0 == 1 {
            vec![Axis::new(-2.0, 2.0, n1, b).unwrap()]
        } else {
            vec![
                Axis::new(-3.0, 3.0, n0, b).unwrap(),
                Axis::new(-4.0, 4.0, n1, b).unwrap(),
            ]
        };
        let grid = Grid::new(axes).unwrap();
        let m = grid.len();
        let psi: Vec<f64> = (0..m)
            .map(|i| (0.0137 * i as f64).sin() * 1.3 + (i % 7) as f64 * 0.01)
            .collect();
        let rho: Vec<f64> = (0..m).map(|i| 1.05 + (0.031 * i as f64).cos()).collect();
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let (mut a, mut b2) = (vec![0.0; m], vec![0.0; m]);
            let ra =
                pool.install(|| SgKernel::new(&Layout::new(&grid), t).rhs_rate(&psi, &rho, &mut a));
            let rb = pool.install(|| {
                old_flux::SgKernel::new(&old_flux::Layout::new(&grid), t)
                    .rhs_rate(&psi, &rho, &mut b2)
            });
            assert_eq!(ra.to_bits(), rb.to_bits(), "{n0}x{n1} {threads}");
            assert!(
                a.iter().zip(&b2).all(|(x, y)| x.to_bits() == y.to_bits()),
                "{n0}x{n1} {threads}"
            );
        }
    }
}
