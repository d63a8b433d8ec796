//! Probe: raw vs coupled control variate on a 1D tanh problem.
use mfl_compare::{gap_sweep_with, SweepOptions};
use mfl_core::data::{Inputs, Teacher};
use mfl_core::{Activation, Boundary, Gaussian, Grid, Law, Loss, MeanField, Param, Unit};
use mfl_particles::{AxisBoundary, Dynamics, Init, Temperature};
use mfl_pde::{FvProblem, MeanFieldPotential, NoObserver, RunOptions, StepperChoice};
use ndarray::array;

fn main() {
    let args: Vec<f64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().unwrap())
        .collect();
    let (temp, eta, seeds, lambda) = (args[0], args[1], args[2] as u64, args[3]);
    let unit = Unit::Ridge {
        act: Activation::Tanh,
        param: Param::W,
        input_dim: 1,
    };
    let teacher = Teacher::new(unit.clone(), array![[2.0], [-1.0]], vec![0.5, 0.5]).unwrap();
    let data = Inputs::gauss_hermite(1, 40).label(&teacher, 0.0).unwrap();
    let mf = MeanField::new(unit, Loss::Squared, data, lambda).unwrap();
    let grid = Grid::line(-4.0, 4.0, 400, Boundary::NoFlux).unwrap();
    let rho0 = Law::Gaussian(Gaussian::isotropic(vec![0.0], 0.5).unwrap())
        .on_grid(&grid)
        .unwrap();
    let pde = FvProblem::new(
        grid.clone(),
        temp,
        Box::new(MeanFieldPotential::new(mf.clone(), &grid).unwrap()),
    )
    .unwrap();
    let opts = RunOptions {
        t_end: 2.0,
        stepper: StepperChoice::Explicit { cfl: 0.5 },
        snapshot_times: vec![],
        diagnostics_every: 0.0,
        dt_min: 0.0,
    };
    let dyn_n = |n: usize| {
        Dynamics::new(
            mf.clone(),
            n,
            eta,
            Init::GridDensity {
                grid: grid.clone(),
                density: rho0.clone(),
            },
        )
        .unwrap()
        .with_boundaries(AxisBoundary::from_grid(&grid))
        .unwrap()
        .with_temperature(Temperature::Constant(temp))
        .unwrap()
    };
    let ns = [16usize, 32, 64, 128, 256, 512];
    let seeds: Vec<u64> = (0..seeds).collect();
    let times = [0.0, 0.5, 1.0, 2.0];
    let t0 = std::time::Instant::now();
    let table = gap_sweep_with(
        &pde,
        rho0.clone(),
        &opts,
        &mf,
        dyn_n,
        &ns,
        &seeds,
        &times,
        &mut NoObserver,
        &SweepOptions {
            coupled: true,
            distances: false,
            progress: None,
        },
    )
    .unwrap();
    eprintln!("took {:?}", t0.elapsed());
    for (j, t) in times.iter().enumerate() {
        println!(
            "t={t} R={:.6} V={:.4e}",
            table.pde_risk[j],
            table.pde_fluctuation.get(j).copied().unwrap_or(f64::NAN)
        );
        for i in 0..ns.len() {
            let r = table.row(i, j);
            let c = r.coupled.as_ref();
            println!("  N={:4} raw {:+.3e} ± {:.1e} | cv {:+.3e} ± {:.1e}  beta {:.3} vr {:.1} | N*gap {:.4}",
                r.n, r.gap_risk, r.risk.se,
                c.map_or(f64::NAN, |c| c.gap_risk), c.map_or(f64::NAN, |c| c.risk.se),
                c.map_or(f64::NAN, |c| c.beta), c.map_or(f64::NAN, |c| c.variance_reduction),
                r.best_gap_risk().0 * r.n as f64);
        }
        if let Ok(f) = table.slope_fit(j) {
            println!(
                "  slope {:.3} [{:.3}, {:.3}]",
                f.slope, f.slope_ci95.0, f.slope_ci95.1
            );
        }
    }
}
