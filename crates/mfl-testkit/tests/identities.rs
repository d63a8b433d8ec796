//! The testkit's exact answers against identities they must satisfy, computed another way:
//! the t = 0 gap identity by enumerating every N-tuple of a small measure, closed forms of V
//! for linear units, the OU law against its moment ODEs and its stationary limit, and the
//! Gibbs state's ratios and mass.

use mfl_core::{Axis, Boundary, Grid, Measure};
use mfl_testkit::{
    gap_prefactor, gap_prefactor_cells, gap_prefactor_centres, gap_prefactor_gaussian_1d,
    gibbs_on_grid, tanh_w, teacher_problem, LinearUnits, Ou1, Ou2,
};
use ndarray::{array, Array1, Array2};

/// E R(μ_N) − R(μ) = V(μ)/N exactly, for θ_i i.i.d. from a 4-atom μ: every N-tuple enumerated
/// (4^N terms, each a sum over 40 data points), N = 2 and 3.
#[test]
fn t0_identity_holds_exactly_for_every_tuple() {
    let mf = teacher_problem(tanh_w(1), array![[2.0], [-1.0]], vec![0.5, 0.5], 40, 0.0);
    let atoms = [-1.3, 0.2, 0.9, 2.5];
    let p = [0.1, 0.4, 0.3, 0.2];
    let theta = Array2::from_shape_vec((4, 1), atoms.to_vec()).unwrap();
    let v = gap_prefactor(&mf, theta.view(), &p);
    assert!(v > 0.05, "V = {v}: the check must be far from 0");
    let pw = Array1::from(p.to_vec());
    let r = mf.risk(Measure::new(theta.view(), pw.view()));
    for n in [2usize, 3] {
        let mut mean = 0.0;
        for code in 0..4usize.pow(n as u32) {
            let idx: Vec<usize> = (0..n).map(|i| (code / 4usize.pow(i as u32)) % 4).collect();
            let prob: f64 = idx.iter().map(|&i| p[i]).product();
            let th = Array2::from_shape_fn((n, 1), |(i, _)| atoms[idx[i]]);
            let w = Array1::from_elem(n, 1.0 / n as f64);
            mean += prob * mf.risk(Measure::new(th.view(), w.view()));
        }
        // ≤ 64 terms of size ≤ 1 summed: round-off ≲ 1e-14
        let err = mean - r - v / n as f64;
        assert!(err.abs() < 1e-14, "N = {n}: {err:e}");
    }
}

/// Linear units σ = w x, x ~ N(0, 1): U(θ, θ′) = θθ′, so V(μ) = Var_μ(θ) in closed form.
#[test]
fn linear_units_have_the_variance_as_prefactor() {
    let mf = LinearUnits::standard_1d(1.0, 0.1).mean_field(8);
    // a Gaussian law: V = s²
    let (m, s) = (0.7, 0.45);
    let v = gap_prefactor_gaussian_1d(&mf, m, s, 10);
    assert!((v - s * s).abs() < 1e-14, "{v} vs {}", s * s);
    // a piecewise-constant density: V = Σ ρ_m h (c_m² + h²/12) − (Σ ρ_m h c_m)² (the cell's
    // uniform law adds h²/12; 3-point Gauss–Legendre is exact for it), and the centres
    // version misses exactly the h²/12
    let grid = Grid::line(-1.0, 2.0, 12, Boundary::NoFlux).unwrap();
    let h = grid.axes[0].h();
    let c = grid.axes[0].centres();
    let raw: Vec<f64> = c.iter().map(|x| 1.0 + x - 0.2 * x * x).collect();
    let mass: f64 = raw.iter().sum::<f64>() * h;
    let rho: Vec<f64> = raw.iter().map(|r| r / mass).collect();
    let mean: f64 = rho.iter().zip(&c).map(|(r, x)| r * h * x).sum();
    let m2: f64 = rho.iter().zip(&c).map(|(r, x)| r * h * x * x).sum();
    let cells = gap_prefactor_cells(&mf, &grid, &rho);
    let centres = gap_prefactor_centres(&mf, &grid, &rho);
    assert!(
        (cells - (m2 + h * h / 12.0 - mean * mean)).abs() < 1e-14,
        "{cells}"
    );
    assert!((centres - (m2 - mean * mean)).abs() < 1e-14, "{centres}");
}

/// 2D cells: for linear units θ·x with x ~ N(0, C) in d = 2, U(θ, θ′) = θᵀCθ′ and
/// V = tr(C Cov_μ(θ)); on a 2D grid the uniform cell law adds diag(h₀², h₁²)/12.
#[test]
fn linear_units_2d_cells_add_the_cell_variance() {
    let lin = LinearUnits::new(array![[1.0, 0.0], [0.5, 0.8]], &[1.0, -0.5], 0.1);
    let mf = lin.mean_field(4);
    let c = lin.c();
    let grid = Grid::new(vec![
        Axis::new(-1.0, 1.0, 5, Boundary::NoFlux).unwrap(),
        Axis::new(-0.5, 1.5, 4, Boundary::NoFlux).unwrap(),
    ])
    .unwrap();
    let centres = grid.centres();
    let raw: Vec<f64> = centres
        .rows()
        .into_iter()
        .map(|x| 1.0 + 0.3 * x[0] - 0.2 * x[1] + 0.1 * x[0] * x[1])
        .collect();
    let mass: f64 = raw.iter().sum::<f64>() * grid.cell_volume();
    let rho: Vec<f64> = raw.iter().map(|r| r / mass).collect();
    let w: Vec<f64> = rho.iter().map(|r| r * grid.cell_volume()).collect();
    let mut mean = [0.0; 2];
    let mut second = [0.0; 4];
    for (x, wi) in centres.rows().into_iter().zip(&w) {
        for i in 0..2 {
            mean[i] += wi * x[i];
            for j in 0..2 {
                second[2 * i + j] += wi * x[i] * x[j];
            }
        }
    }
    let cov: Vec<f64> = (0..4)
        .map(|k| second[k] - mean[k / 2] * mean[k % 2])
        .collect();
    let tr = |s: &[f64]| c[0] * s[0] + c[1] * s[2] + c[2] * s[1] + c[3] * s[3];
    let (h0, h1) = (grid.axes[0].h(), grid.axes[1].h());
    let with_cells = [
        cov[0] + h0 * h0 / 12.0,
        cov[1],
        cov[2],
        cov[3] + h1 * h1 / 12.0,
    ];
    let v_centres = gap_prefactor_centres(&mf, &grid, &rho);
    let v_cells = gap_prefactor_cells(&mf, &grid, &rho);
    assert!(
        (v_centres - tr(&cov)).abs() < 1e-14,
        "{v_centres} vs {}",
        tr(&cov)
    );
    assert!((v_cells - tr(&with_cells)).abs() < 1e-14, "{v_cells}");
}

/// OU: the closed forms solve dm/dt = −Am, dΣ/dt = −AΣ − ΣA + 2TI (central differences,
/// O(δ²) ≈ 1e-8 truncation), start at (m₀, Σ₀) and tend to (0, T A⁻¹).
#[test]
fn ou_laws_solve_their_moment_odes() {
    let ou = Ou2 {
        a: [1.0, 0.6, 0.6, 0.8],
        temperature: 0.5,
    };
    let (m0, s0) = ([1.0, -0.5], [0.3, 0.1, 0.1, 0.2]);
    let (m, s) = ou.law_at(m0, s0, 0.0);
    for i in 0..4 {
        assert!((s[i] - s0[i]).abs() < 1e-15);
    }
    assert!((m[0] - m0[0]).abs() < 1e-15 && (m[1] - m0[1]).abs() < 1e-15);
    let (t, d) = (0.37, 1e-4);
    let (m, s) = ou.law_at(m0, s0, t);
    let (mp, sp) = ou.law_at(m0, s0, t + d);
    let (mm, sm) = ou.law_at(m0, s0, t - d);
    let a = ou.a;
    for i in 0..2 {
        let dm = (mp[i] - mm[i]) / (2.0 * d);
        let rhs = -(a[2 * i] * m[0] + a[2 * i + 1] * m[1]);
        assert!((dm - rhs).abs() < 1e-7, "dm[{i}]");
        for j in 0..2 {
            let k = 2 * i + j;
            let ds = (sp[k] - sm[k]) / (2.0 * d);
            let as_ = a[2 * i] * s[j] + a[2 * i + 1] * s[2 + j];
            let sa = s[2 * i] * a[j] + s[2 * i + 1] * a[2 + j];
            let rhs = -as_ - sa + if i == j { 2.0 * ou.temperature } else { 0.0 };
            assert!((ds - rhs).abs() < 1e-7, "dΣ[{k}]: {ds} vs {rhs}");
        }
    }
    let (_, sinf) = ou.law_at(m0, s0, 200.0);
    let det = a[0] * a[3] - a[1] * a[2];
    let want = [a[3] / det, -a[1] / det, -a[2] / det, a[0] / det].map(|x| 0.5 * x);
    for k in 0..4 {
        assert!((sinf[k] - want[k]).abs() < 1e-14);
    }
    // 1D: the same formulas with A = a
    let o1 = Ou1 {
        a: 0.8,
        temperature: 0.5,
    };
    let (m1, s1) = o1.law_at(1.0, 0.3, 0.37);
    let (m2, s2) = Ou2 {
        a: [0.8, 0.0, 0.0, 2.0],
        temperature: 0.5,
    }
    .law_at([1.0, 0.0], [0.3, 0.0, 0.0, 0.1], 0.37);
    assert!((m1 - m2[0]).abs() < 1e-15 && (s1 - s2[0]).abs() < 1e-15);
    assert!((o1.stationary_variance() - 0.625).abs() < 1e-15);
}

/// The Gibbs state: discrete mass 1 and ρ_i/ρ_j = e^{−(V_i − V_j)/T}.
#[test]
fn gibbs_state_has_unit_mass_and_boltzmann_ratios() {
    let grid = Grid::line(-3.0, 3.0, 40, Boundary::NoFlux).unwrap();
    let v = |x: &[f64]| (2.0 * x[0]).cos() + 0.3 * x[0] * x[0];
    let t = 0.2;
    let rho = gibbs_on_grid(&grid, v, t);
    let mass: f64 = rho.iter().sum::<f64>() * grid.cell_volume();
    assert!((mass - 1.0).abs() < 1e-14);
    let c = grid.axes[0].centres();
    for i in [0usize, 7, 20, 39] {
        let want = (-(v(&[c[i]]) - v(&[c[13]])) / t).exp();
        assert!((rho[i] / rho[13] - want).abs() < 1e-12 * want);
    }
}
