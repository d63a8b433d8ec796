//! A short noisy run through the whole pipeline: sweep at t > 0 and the error budget.

mod common;
use common::*;
use mfl_compare::{error_budget, gap_sweep, pde_richardson, time_step_bias};
use mfl_pde::Recorder;

#[test]
fn sweep_and_budget_run_end_to_end() {
    let mf = tanh_problem(0.01);
    let temp = 0.05;
    let grid = grid_1d(180);
    let fine = grid_1d(360);
    let rho0 = gaussian_rho0(&grid);
    let rho0_fine = gaussian_rho0(&fine);
    let pde = fv(&mf, &grid, temp);
    let times = [0.0, 0.5];
    let mut o = opts(0.5, 0.005);
    o.snapshot_times = vec![0.25];
    let mut rec = Recorder::default();
    let ns = [32usize, 128];
    let seeds: Vec<u64> = (0..24).collect();
    let table = gap_sweep(
        &pde,
        rho0.clone(),
        &o,
        &mf,
        |n| dynamics(&mf, &grid, &rho0, n, 0.01, temp),
        &ns,
        &seeds,
        &times,
        &mut rec,
    )
    .unwrap();
    // the caller's observer sees only its own snapshots
    assert_eq!(rec.snapshots.len(), 1);
    assert!((rec.snapshots[0].0 - 0.25).abs() < 1e-12);
    assert_eq!(table.rows.len(), 4);
    assert!(table.row(0, 0).control.is_some() && table.row(0, 1).control.is_none());
    assert!(
        table.pde_risk[1] < table.pde_risk[0],
        "training lowers the risk"
    );
    for r in &table.rows {
        eprintln!(
            "N {:4} t {:.2}: R_N {:.5} ± {:.1e} (std {:.1e}), gap {:+.2e}, energy gap {:+.2e}",
            r.n, r.time, r.risk.mean, r.risk.se, r.risk.std, r.gap_risk, r.gap_energy
        );
        assert!(r.risk.mean.is_finite() && r.risk.se > 0.0);
    }
    let pe = pde_richardson(
        &table,
        &fv(&mf, &fine, temp),
        rho0_fine,
        &opts(0.5, 0.005 / 4.0),
    )
    .unwrap();
    assert!(pe.iter().all(
        |e| e.risk_coarse == table.pde_risk[pe.iter().position(|x| x.time == e.time).unwrap()]
    ));
    let half = dynamics(&mf, &grid, &rho0, 128, 0.005, temp);
    let sb = time_step_bias(&table, &half, &mf).unwrap();
    // at t = 0 nothing has moved: the two step sizes agree exactly
    assert_eq!(sb[0].difference, 0.0);
    let budget = error_budget(&table, &pe, &sb).unwrap();
    for b in &budget {
        eprintln!("{b:?}");
        assert_eq!(b.trustworthy, b.warning.is_none());
        assert!(b.pde_error.is_finite() && b.step_bias.is_finite());
    }
    assert!(error_budget(&table, &pe[..1], &sb).is_err());
}
