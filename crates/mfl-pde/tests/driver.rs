//! The driver: output times, observer errors, blow-up detection.

mod common;
use common::*;
use mfl_core::{Boundary, Grid, Law};
use mfl_pde::{
    solve, Energy, FixedPotential, FvProblem, Observer, PdeError, PotentialField, Recorder,
    RunOptions, StepperChoice,
};

fn ou(grid: &Grid) -> FvProblem {
    let field = FixedPotential::from_fn(grid, |x| 0.5 * x[0] * x[0]).unwrap();
    FvProblem::new(grid.clone(), 0.5, Box::new(field)).unwrap()
}

fn rho0(grid: &Grid) -> Vec<f64> {
    Law::uniform(vec![-1.0], vec![1.5])
        .unwrap()
        .on_grid(grid)
        .unwrap()
}

#[test]
fn snapshots_at_exact_times_and_diagnostics_on_schedule() {
    let grid = square(1, -5.0, 5.0, 50, Boundary::NoFlux);
    for stepper in [
        StepperChoice::Explicit { cfl: 0.9 },
        StepperChoice::Implicit { dt: 0.03 },
    ] {
        let opts = RunOptions {
            t_end: 1.0,
            stepper,
            snapshot_times: vec![0.37, 0.0, 1.0, 0.1],
            diagnostics_every: 0.25,
            dt_min: 1e-9,
        };
        let mut rec = Recorder::default();
        solve(&ou(&grid), rho0(&grid), &opts, &mut rec).unwrap();
        let times: Vec<f64> = rec.snapshots.iter().map(|s| s.0).collect();
        assert_eq!(times, vec![0.0, 0.1, 0.37, 1.0]);
        assert_eq!(rec.snapshots[0].1, rho0(&grid));
        let d = &rec.diagnostics;
        assert_eq!(d[0].t, 0.0);
        assert_eq!(d.last().unwrap().t, 1.0);
        // t = 0, one per quarter (the first step reaching it; 1.0 coincides with t_end), and
        // one at each snapshot time (0.1 and 0.37 are off the quarters)
        let dt: Vec<f64> = d.iter().map(|x| x.t).collect();
        assert_eq!(d.len(), 7, "{dt:?}");
        for s in [0.0, 0.1, 0.37, 1.0] {
            assert!(
                dt.contains(&s),
                "no diagnostics at the snapshot time {s}: {dt:?}"
            );
        }
        let quarters: Vec<f64> = dt
            .iter()
            .copied()
            .filter(|t| ![0.0, 0.1, 0.37].contains(t))
            .collect();
        assert_eq!(quarters.len(), 4, "{dt:?}");
        for (k, t) in quarters.iter().enumerate() {
            let q = 0.25 * (k + 1) as f64;
            assert!(*t >= q - 1e-12 && *t < q + 0.031, "{dt:?}");
        }
        assert!(rec.finished);
    }
}

struct FailAt(usize, usize);
impl Observer for FailAt {
    fn diagnostics(&mut self, _d: &mfl_pde::Diagnostics) -> Result<(), String> {
        self.1 += 1;
        if self.1 > self.0 {
            Err("disk full".into())
        } else {
            Ok(())
        }
    }
}

#[test]
fn observer_error_aborts() {
    let grid = square(1, -5.0, 5.0, 50, Boundary::NoFlux);
    let opts = RunOptions {
        t_end: 1.0,
        stepper: StepperChoice::Implicit { dt: 0.1 },
        snapshot_times: vec![],
        diagnostics_every: 0.0,
        dt_min: 0.0,
    };
    let mut obs = FailAt(3, 0);
    let e = solve(&ou(&grid), rho0(&grid), &opts, &mut obs).unwrap_err();
    assert_eq!(e, PdeError::Observer("disk full".into()));
    assert_eq!(obs.1, 4);
}

/// A potential that turns NaN after a few evaluations.
struct Poison(std::sync::atomic::AtomicUsize);
impl PotentialField for Poison {
    fn dim(&self) -> usize {
        1
    }
    fn potential(&self, _rho: &[f64], out: &mut [f64]) {
        let k = self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let v = if k >= 9 { f64::NAN } else { 0.0 };
        out.iter_mut().for_each(|o| *o = v);
    }
    fn energy(&self, _rho: &[f64]) -> Energy {
        Energy {
            risk: None,
            energy: 0.0,
        }
    }
}

#[test]
fn blow_up_names_step_and_time() {
    let grid = square(1, -5.0, 5.0, 50, Boundary::NoFlux);
    let p = FvProblem::new(grid.clone(), 0.5, Box::new(Poison(0.into()))).unwrap();
    let opts = RunOptions {
        t_end: 1.0,
        stepper: StepperChoice::Implicit { dt: 0.1 },
        snapshot_times: vec![],
        diagnostics_every: 10.0,
        dt_min: 0.0,
    };
    let e = solve(&p, rho0(&grid), &opts, &mut Recorder::default()).unwrap_err();
    // evaluations: diagnostics at t = 0 (the first step reuses its Ψ), then one per implicit
    // step from the second on: evaluation 9 (0-based) is the 10th step's, and it is bad
    match &e {
        PdeError::BlowUp { step, t, .. } => {
            assert_eq!(*step, 10);
            assert!((t - 1.0).abs() < 1e-12);
        }
        other => panic!("{other:?}"),
    }
    let msg = e.to_string();
    assert!(
        msg.contains("step 10") && msg.contains("t = 1") && msg.contains("NaN"),
        "{msg}"
    );

    // a time step floor above the explicit CFL step is a blow-up too
    let opts = RunOptions {
        t_end: 1.0,
        stepper: StepperChoice::Explicit { cfl: 0.5 },
        snapshot_times: vec![],
        diagnostics_every: 1.0,
        dt_min: 0.1,
    };
    let e = solve(&ou(&grid), rho0(&grid), &opts, &mut Recorder::default()).unwrap_err();
    assert!(matches!(e, PdeError::BlowUp { step: 1, .. }), "{e}");
    assert!(e.to_string().contains("dt_min"));
}

#[test]
fn bad_options_are_rejected() {
    let grid = square(1, -5.0, 5.0, 50, Boundary::NoFlux);
    let mut opts = RunOptions {
        t_end: 1.0,
        stepper: StepperChoice::Explicit { cfl: 1.5 },
        snapshot_times: vec![],
        diagnostics_every: 1.0,
        dt_min: 0.0,
    };
    assert!(solve(&ou(&grid), rho0(&grid), &opts, &mut Recorder::default()).is_err());
    opts.stepper = StepperChoice::Implicit { dt: 0.1 };
    opts.snapshot_times = vec![2.0];
    let e = solve(&ou(&grid), rho0(&grid), &opts, &mut Recorder::default()).unwrap_err();
    assert!(e.to_string().contains("snapshot_times"));
    assert!(solve(&ou(&grid), vec![1.0; 3], &opts, &mut Recorder::default()).is_err());
}
