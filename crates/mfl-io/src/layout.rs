//! The file layout as xarray sees it: the named dimensions of every dataset and its CF-style
//! attributes (`long_name`, `units`, `description`).
//!
//! A dimension is the path of its HDF5 dimension scale ([`Var::dims`]). A dataset whose first
//! dimension is its own path is a *coordinate variable* (`/diagnostics/time`, `/compare/n`,
//! `/grid/theta_0`); a dimension path with no entry here is a *pure dimension*, a scale without
//! values in the netCDF-4 convention ([`PURE_DIMENSIONS`]). Dimension names are unique along
//! every path from the root to a group, so `xarray.open_datatree` aligns the groups: the root's
//! snapshot axis is the pure dimension `snapshot` with `/time` as a non-index coordinate
//! (`coordinates = "time"`), and each group has its own `time` index. The root holds copies of
//! `/grid/theta_a` as `/theta_a`, because h5netcdf looks dimensions up in a variable's own group
//! and its parents only.

/// One dataset's dimensions and attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Var {
    /// The dimension scale of each axis (full paths). Lists for grids name both θ axes: a 1D
    /// grid's datasets use the leading ones only (as many as the dataset has axes).
    pub dims: &'static [&'static str],
    /// CF `long_name`.
    pub long_name: &'static str,
    /// CF `units` (`"1"`: dimensionless; model time is dimensionless too).
    pub units: &'static str,
    /// What the values are.
    pub description: &'static str,
    /// Non-index coordinates of this variable (CF `coordinates`), `""` for none.
    pub coordinates: &'static str,
}

/// Dimensions that are scales without values (netCDF-4's "not a netCDF variable").
pub const PURE_DIMENSIONS: &[&str] = &[
    "/snapshot",
    "/diagnostics/axis",
    "/diagnostics/axis_b",
    "/particles/axis",
    "/particles/axis_b",
    "/particles/particle",
    "/stationary/history/iteration",
    "/compare/equilibrium/value",
    "/shard/run",
    "/shard/time",
    "/shard/pair",
    "/shard/half_run",
];

const GRID: [&str; 2] = ["/theta_0", "/theta_1"];
const SNAP: [&str; 3] = ["/snapshot", GRID[0], GRID[1]];
const DIAG: [&str; 1] = ["/diagnostics/time"];
const P_TIME: [&str; 1] = ["/particles/time"];
const P_SR: [&str; 2] = ["/particles/seeds", "/particles/time"];
const C_NT: [&str; 2] = ["/compare/n", "/compare/time"];
const C_T: [&str; 1] = ["/compare/time"];
const C_NTS: [&str; 3] = ["/compare/n", "/compare/time", "/compare/seeds"];
const S_T: [&str; 1] = ["/stationary/temperature"];
const S_GRID: [&str; 3] = ["/stationary/temperature", GRID[0], GRID[1]];
const HIST: [&str; 1] = ["/stationary/history/iteration"];
const EQ_N: [&str; 1] = ["/compare/n"];
const EQ_V: [&str; 1] = ["/compare/equilibrium/value"];
const SH_RUN: [&str; 2] = ["/shard/run", "/shard/time"];
const SH_LIN: [&str; 2] = ["/shard/run", "/shard/pair"];
const SH_HALF: [&str; 2] = ["/shard/half_run", "/shard/time"];
const EX_T: [&str; 1] = ["/extrapolated/time"];
const ER_T: [&str; 1] = ["/error_estimate/time"];

const fn v(
    dims: &'static [&'static str],
    long_name: &'static str,
    units: &'static str,
    description: &'static str,
) -> Var {
    Var {
        dims,
        long_name,
        units,
        description,
        coordinates: "",
    }
}

/// The layout entry of the dataset at `path`, or `None` for a path mfl does not write (or a
/// pure dimension).
pub fn var(path: &str) -> Option<Var> {
    let snap = |long_name, units, description| Var {
        coordinates: "time",
        ..v(&SNAP, long_name, units, description)
    };
    let r = match path {
        "/grid/theta_0" => v(
            &["/grid/theta_0"],
            "theta_0",
            "1",
            "cell centres of theta-axis 0 (attributes lo, hi, boundary)",
        ),
        "/grid/theta_1" => v(
            &["/grid/theta_1"],
            "theta_1",
            "1",
            "cell centres of theta-axis 1 (attributes lo, hi, boundary)",
        ),
        "/theta_0" => v(
            &GRID[..1],
            "theta_0",
            "1",
            "cell centres of theta-axis 0 (a copy of /grid/theta_0)",
        ),
        "/theta_1" => v(
            &GRID[1..],
            "theta_1",
            "1",
            "cell centres of theta-axis 1 (a copy of /grid/theta_1)",
        ),
        "/time" => v(&SNAP[..1], "time", "1", "model time of each snapshot"),
        "/density" => snap(
            "density rho",
            "1",
            "cell values of the density at the snapshot times (mass sum rho |cell| = 1)",
        ),
        "/proximal_gap" => Var {
            dims: &SNAP[..1],
            ..snap(
                "proximal Poincare gap",
                "1",
                "kappa of the Scharfetter-Gummel generator of Psi(.; rho_t) at each snapshot",
            )
        },
        "/diagnostics/time" => v(&DIAG, "time", "1", "model time of each diagnostic record"),
        "/diagnostics/dt" => v(&DIAG, "time step", "1", "the step that led to this record"),
        "/diagnostics/step" => v(&DIAG, "step", "1", "steps taken so far"),
        "/diagnostics/mass" => v(&DIAG, "mass", "1", "sum rho |cell|"),
        "/diagnostics/min_density" => v(&DIAG, "min rho", "1", "smallest cell value of rho"),
        "/diagnostics/risk" => v(&DIAG, "risk R(rho)", "1", "E[(y - f_rho(x))^2]"),
        "/diagnostics/energy" => v(&DIAG, "energy", "1", "R/2 + (lambda/2) int |theta|^2 rho"),
        "/diagnostics/free_energy" => v(&DIAG, "free energy F(rho)", "1", "energy - T entropy"),
        "/diagnostics/entropy" => v(&DIAG, "entropy", "1", "-int rho log rho"),
        "/diagnostics/dissipation" => v(&DIAG, "dissipation", "1", "-dF/dt of the discrete scheme"),
        "/diagnostics/gibbs_residual" => v(
            &DIAG,
            "Gibbs residual",
            "1",
            "|| rho - exp(-Psi(.; rho)/T)/Z ||_1 (NaN at T = 0)",
        ),
        "/diagnostics/mean" => v(
            &["/diagnostics/time", "/diagnostics/axis"],
            "mean of theta",
            "1",
            "first moment of rho",
        ),
        "/diagnostics/cov" => v(
            &[
                "/diagnostics/time",
                "/diagnostics/axis",
                "/diagnostics/axis_b",
            ],
            "covariance of theta",
            "1",
            "second central moment of rho",
        ),
        "/particles/time" => v(&P_TIME, "time", "1", "record times (t = k eta)"),
        "/particles/seeds" => v(
            &["/particles/seeds"],
            "seed",
            "1",
            "the random seed of each run",
        ),
        "/particles/risk" => v(&P_SR, "risk R_N", "1", "R of the N-particle network"),
        "/particles/energy" => v(
            &P_SR,
            "energy E_N",
            "1",
            "R_N/2 + (lambda/2) int |theta|^2 d rho_N",
        ),
        "/particles/risk_mean" => v(&P_TIME, "mean R_N", "1", "mean of R_N over the seeds"),
        "/particles/risk_se" => v(
            &P_TIME,
            "standard error of mean R_N",
            "1",
            "std of R_N over the seeds / sqrt(seeds)",
        ),
        "/particles/mean" => v(
            &["/particles/seeds", "/particles/time", "/particles/axis"],
            "mean of theta_i",
            "1",
            "first moment of the particles",
        ),
        "/particles/cov" => v(
            &[
                "/particles/seeds",
                "/particles/time",
                "/particles/axis",
                "/particles/axis_b",
            ],
            "covariance of theta_i",
            "1",
            "second central moment of the particles",
        ),
        "/particles/final_theta" => v(
            &["/particles/seeds", "/particles/particle", "/particles/axis"],
            "final theta_i",
            "1",
            "the particles at the end of the run",
        ),
        "/particles/positions" => v(
            &[
                "/particles/seeds",
                "/particles/time",
                "/particles/particle",
                "/particles/axis",
            ],
            "theta_i",
            "1",
            "the particles at every record time",
        ),
        "/compare/n" => v(&["/compare/n"], "N", "1", "number of neurons"),
        "/compare/time" => v(&C_T, "time", "1", "record times"),
        "/compare/seeds" => v(
            &["/compare/seeds"],
            "seed",
            "1",
            "the seeds (the same for every N)",
        ),
        "/compare/gap_risk" => v(
            &C_NT,
            "gap of R",
            "1",
            "E R_N - R(rho_t), the best estimator (control-variate corrected)",
        ),
        "/compare/gap_risk_se" => v(&C_NT, "standard error of gap_risk", "1", ""),
        "/compare/gap_risk_raw" => v(
            &C_NT,
            "plain gap of R",
            "1",
            "mean over seeds of R_N - R(rho_t)",
        ),
        "/compare/gap_risk_raw_se" => v(&C_NT, "standard error of gap_risk_raw", "1", ""),
        "/compare/spread_risk" => v(&C_NT, "spread of R_N", "1", "std of R_N over seeds"),
        "/compare/gap_energy" => v(&C_NT, "gap of E", "1", "E E_N - E(rho_t)"),
        "/compare/gap_energy_se" => v(&C_NT, "standard error of gap_energy", "1", ""),
        "/compare/variance_reduction" => v(
            &C_NT,
            "variance reduction (R)",
            "1",
            "var R_N / var of the estimator",
        ),
        "/compare/variance_reduction_energy" => v(
            &C_NT,
            "variance reduction (E)",
            "1",
            "var E_N / var of the estimator",
        ),
        "/compare/control_coefficient" => v(
            &C_NT,
            "control coefficient",
            "1",
            "the coefficient the estimate used",
        ),
        "/compare/control_coefficient_optimal" => v(
            &C_NT,
            "optimal control coefficient",
            "1",
            "Cov(R_N, Z)/Var Z over the seeds",
        ),
        "/compare/distance" => v(
            &C_NT,
            "distance of the particles to rho_t",
            "1",
            "W1 (1D) or sliced W1 (2D)",
        ),
        "/compare/distance_se" => v(&C_NT, "standard error of distance", "1", ""),
        "/compare/samples/risk" => v(&C_NTS, "R_N per seed", "1", ""),
        "/compare/samples/energy" => v(&C_NTS, "E_N per seed", "1", ""),
        "/compare/samples/z_risk" => v(&C_NTS, "control variate Z of R", "1", "mean zero"),
        "/compare/samples/z_energy" => v(&C_NTS, "control variate Z of E", "1", "mean zero"),
        "/compare/slope" => v(&C_T, "slope", "1", "of log|gap| on log N"),
        "/compare/slope_lo" => v(&C_T, "slope, 95% low", "1", ""),
        "/compare/slope_hi" => v(&C_T, "slope, 95% high", "1", ""),
        "/compare/prefactor" => v(&C_T, "prefactor C", "1", "gap = C N^slope"),
        "/compare/prefactor_lo" => v(&C_T, "prefactor, 95% low", "1", ""),
        "/compare/prefactor_hi" => v(&C_T, "prefactor, 95% high", "1", ""),
        "/compare/inverse_n_prefactor" => v(&C_T, "C of gap = C/N", "1", "fixed-slope fit"),
        "/compare/inverse_n_prefactor_se" => v(&C_T, "standard error of C of C/N", "1", ""),
        "/compare/distance_slope" => v(&C_T, "slope of the distance", "1", "on log N"),
        "/compare/pde_risk" => v(&C_T, "R(rho_t)", "1", "the PDE's risk"),
        "/compare/pde_energy" => v(&C_T, "E(rho_t)", "1", "the PDE's energy"),
        "/compare/pde_fluctuation" => v(
            &C_T,
            "V(rho_t)",
            "1",
            "int U(theta,theta) d rho_t - int int U d rho_t d rho_t",
        ),
        "/compare/gibbs_residual" => v(&C_T, "Gibbs residual of rho_t", "1", ""),
        "/compare/pde_error" => v(&C_T, "PDE error", "1", "Richardson, grid refined x2"),
        "/compare/step_bias" => v(&C_T, "time-step bias", "1", "signed, O(eta)"),
        "/compare/step_bias_se" => v(&C_T, "standard error of step_bias", "1", ""),
        "/compare/trustworthy" => v(
            &C_T,
            "trustworthy",
            "1",
            "1 when both errors are <= |gap(N_max)|/10, |gap| >= 2 se, one sign, the fit succeeded",
        ),
        "/compare/equilibrium/times" => v(
            &["/compare/equilibrium/times"],
            "time",
            "1",
            "the times averaged over",
        ),
        "/compare/equilibrium/gap_risk" => v(&EQ_N, "equilibrium gap of R", "1", ""),
        "/compare/equilibrium/gap_risk_se" => v(&EQ_N, "standard error", "1", ""),
        "/compare/equilibrium/gap_energy" => v(&EQ_N, "equilibrium gap of E", "1", ""),
        "/compare/equilibrium/gap_energy_se" => v(&EQ_N, "standard error", "1", ""),
        "/compare/equilibrium/slope" => v(&EQ_V, "slope", "1", "of log|gap| on log N"),
        "/compare/equilibrium/slope_lo" => v(&EQ_V, "slope, 95% low", "1", ""),
        "/compare/equilibrium/slope_hi" => v(&EQ_V, "slope, 95% high", "1", ""),
        "/compare/equilibrium/pde_risk" => v(&EQ_V, "R(rho*)", "1", ""),
        "/compare/equilibrium/pde_energy" => v(&EQ_V, "E(rho*)", "1", ""),
        "/stationary/temperature" => v(&S_T, "temperature T", "1", ""),
        "/stationary/density" => v(&S_GRID, "stationary density rho*", "1", ""),
        "/stationary/free_energy" => v(&S_T, "F(rho*)", "1", ""),
        "/stationary/risk" => v(&S_T, "R(rho*)", "1", ""),
        "/stationary/energy" => v(&S_T, "E(rho*)", "1", ""),
        "/stationary/entropy" => v(&S_T, "entropy of rho*", "1", ""),
        "/stationary/mass" => v(&S_T, "mass of rho*", "1", ""),
        "/stationary/residual" => v(&S_T, "Gibbs residual", "1", "best iterate"),
        "/stationary/iterations" => v(&S_T, "iterations", "1", "fixed-point updates"),
        "/stationary/converged" => v(&S_T, "converged", "1", "1 or 0"),
        "/stationary/kappa" => v(&S_T, "kappa", "1", "slowest eigenvalue (Lanczos)"),
        "/stationary/rate" => v(&S_T, "rate 2 kappa", "1", "of F - F*"),
        "/stationary/rate_bound" => v(&S_T, "bound on |kappa error|", "1", "a posteriori"),
        "/stationary/rate_error" => v(&S_T, "estimated kappa error", "1", "gap based"),
        "/stationary/slow_mode" => v(&S_GRID, "slowest mode", "1", "NaN where not computed"),
        "/stationary/history/residual" => v(&HIST, "residual", "1", "per fixed-point update"),
        "/stationary/history/temperature" => v(&HIST, "temperature of the update", "1", ""),
        "/shard/n" => v(
            &SH_RUN,
            "N",
            "1",
            "particles of each (N, seed) run of the shard",
        ),
        "/shard/seed" => v(&SH_RUN, "seed", "1", "of each (N, seed) run of the shard"),
        "/shard/linear" => v(&SH_LIN, "t = 0 linear control variate", "1", "per run"),
        "/shard/half_seed" => v(&SH_HALF, "seed", "1", "of each eta/2 rerun of the shard"),
        p if p.starts_with("/shard/half_") => v(
            &SH_HALF,
            "per-seed record of an eta/2 rerun",
            "1",
            "at the compare record times",
        ),
        p if p.starts_with("/shard/") => v(
            &SH_RUN,
            "per-seed record",
            "1",
            "of each (N, seed) run at the compare record times",
        ),
        "/extrapolated/time" => v(
            &EX_T,
            "time",
            "1",
            "the times every grid level has a diagnostics row at",
        ),
        "/error_estimate/time" => v(&ER_T, "time", "1", "as /extrapolated/time"),
        p if p.starts_with("/extrapolated/observed_order_") => v(
            &EX_T,
            "observed grid order",
            "1",
            "log2 of the ratio of successive differences between grid levels",
        ),
        p if p.starts_with("/extrapolated/") => v(
            &EX_T,
            "Richardson/Romberg extrapolated value",
            "1",
            "from the grids h, h/2 (, h/4)",
        ),
        p if p.starts_with("/error_estimate/") => v(
            &ER_T,
            "grid error estimate",
            "1",
            "of the value one elimination short of the extrapolated one",
        ),
        _ => return None,
    };
    Some(r)
}

/// The dimension's name: the last component of its scale's path.
pub fn dim_name(scale: &str) -> &str {
    scale.rsplit('/').next().unwrap_or(scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dimension_is_a_coordinate_or_pure() {
        let paths: Vec<&str> = [
            "/density",
            "/diagnostics/cov",
            "/particles/positions",
            "/particles/cov",
            "/particles/final_theta",
            "/compare/samples/risk",
            "/compare/equilibrium/slope",
            "/compare/equilibrium/times",
            "/stationary/density",
            "/stationary/history/residual",
            "/shard/risk",
            "/shard/linear",
            "/shard/half_risk",
            "/extrapolated/risk",
            "/error_estimate/risk",
        ]
        .into();
        for p in paths {
            for d in var(p).unwrap().dims {
                let coord = var(d).is_some_and(|c| c.dims[0] == *d);
                assert!(coord || PURE_DIMENSIONS.contains(d), "{p}: {d}");
            }
        }
        assert_eq!(dim_name("/grid/theta_0"), "theta_0");
    }
}
