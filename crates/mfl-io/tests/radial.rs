//! The config route of the radially reduced isotropic problem (`[data] quadrature = "radial"`)
//! and of the piecewise-linear activation: what it builds, and that every invalid combination is
//! rejected naming its key.

use mfl_io::scenario::{Job, Scenario};
use mfl_pde::{IsotropicField, IsotropicKernel, PotentialField, RadialRule};
use std::path::Path;

const BASE: &str = r#"
[problem]
temperature = 0.01
lambda = 0.1

[unit]
kind = "ridge"
activation = "piecewise_linear"
breaks = [0.5, 1.5]
levels = [-2.5, 7.5]
param = "w"
input_dim = 5

[data]
kind = "two_class"
quadrature = "radial"
delta = 0.8
n = 500

[grid]
lo = [0.0]
hi = [3.0]
cells = [24]

[init]
kind = "gaussian"
std = 0.3

[solver]
t_end = 0.1

[particles]
n = 8
eta = 0.01
t_end = 0.05
"#;

fn build(sets: &[&str], job: Job) -> Result<Scenario, String> {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let cfg = mfl_io::build::parse(BASE, "radial.toml", &sets).map_err(|e| e.to_string())?;
    Scenario::for_job(cfg, Path::new("."), job).map_err(|e| e.to_string())
}

#[test]
fn the_radial_route_builds_the_radial_field_and_d_dimensional_particles() {
    let sc = build(&[], Job::Check).unwrap();
    let pde = sc.pde.as_ref().unwrap();
    assert_eq!(pde.problem.grid.dim(), 1);
    // ρ₀ is the χ₅ law of |w| for w ~ N(0, 0.3² I₅)
    let want = IsotropicField::gaussian_radius(&pde.problem.grid, 5, 0.3).unwrap();
    assert_eq!(pde.rho0, want);
    // the field is the radial one: same Ψ as an IsotropicField built by hand
    let act = mfl_core::Activation::piecewise_linear(0.5, 1.5, -2.5, 7.5).unwrap();
    let k = IsotropicKernel::new(act, 5, 0.8, RadialRule::default()).unwrap();
    let field = IsotropicField::new(k, &pde.problem.grid, 0.1, 0.01).unwrap();
    let (mut a, mut b) = (vec![0.0; 24], vec![0.0; 24]);
    pde.problem.field.potential(&pde.rho0, &mut a);
    field.potential(&pde.rho0, &mut b);
    assert_eq!(a, b);
    // the particles live in R⁵ and are not confined to the radial grid
    let p = sc.particles.as_ref().unwrap();
    assert_eq!(p.dynamics.problem.theta_dim(), 5);
    assert_eq!(sc.mean_field.data.len(), 500);
}

#[test]
fn invalid_combinations_name_their_key() {
    for (sets, key) in [
        (vec!["data.kind=\"gaussian\""], "data.quadrature"),
        (vec!["data.kind=\"samples\""], "data.quadrature"),
        (vec!["unit.param=\"a_w\""], "data.quadrature"),
        (vec!["unit.input_dim=1"], "data.quadrature"),
        (vec!["problem.loss=\"logistic\""], "data.quadrature"),
        (vec!["teacher.theta=[[1.0, 0.0, 0.0, 0.0, 0.0]]"], "teacher"),
        (vec!["grid.lo=[0.1]"], "grid.lo"),
        (vec!["grid.boundary=[\"periodic\"]"], "grid.boundary"),
        (vec!["init.kind=\"uniform\""], "init.kind"),
        (vec!["init.mean=[0.5]"], "init.mean"),
        (vec!["data.nodes=0"], "data.nodes"),
        (vec!["data.delta=1.0"], "data.delta"),
        (vec!["unit.activation=\"tanh\""], "unit.breaks"),
        (vec!["unit.levels=[1.0]"], "unit.levels"),
        (vec!["unit.breaks=[1.5, 0.5]"], "unit.breaks"),
        (vec!["solver.interaction=\"fft\""], "solver.interaction"),
    ] {
        let e = build(&sets, Job::Check)
            .err()
            .unwrap_or_else(|| panic!("{sets:?} accepted"));
        assert!(e.contains(&format!("`{key}`")), "{sets:?}: {e}");
    }
    // `mfl compare` is refused on this problem type, naming the key
    let e = build(&["compare.n=[4, 8, 16]", "compare.seeds=3"], Job::Compare)
        .err()
        .unwrap();
    assert!(e.contains("`data.quadrature`"), "{e}");
    // piecewise_linear without its parameters names them
    let e = build(
        &[
            "unit.input_dim=1",
            "data.quadrature=\"hermite\"",
            "unit.levels=[0.0]",
        ],
        Job::Check,
    )
    .err()
    .unwrap();
    assert!(e.contains("`unit.levels`"), "{e}");
}
