//! The potential Ψ(θ; ρ) on the cells of a grid, and the energy E(ρ) it derives from.
//!
//! Ψ = δE/δρ, with E the free energy without entropy: E(ρ) = ∫Vρ for a fixed potential V, or
//! E(ρ) = ½R(ρ) + (λ/2)∫|θ|²dρ for a mean-field problem (DESIGN.md §1). A grid density ρ is the
//! measure μ_ρ = Σ_m ρ_m|cell| δ_{θ_m} on the cell centres θ_m.

use crate::error::PdeError;
use mfl_core::unit::Unit;
use mfl_core::{Boundary, Grid, MeanField, Measure, Param, TORUS_PERIOD};
use ndarray::{Array1, Array2};
use std::sync::{Arc, Mutex};

/// E(ρ) and, for learning problems, the risk R(ρ).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Energy {
    /// R(ρ) (None for a fixed potential).
    pub risk: Option<f64>,
    /// E(ρ): the free energy F without its entropy term T∫ρ log ρ.
    pub energy: f64,
}

/// A linear map v ↦ DΨ\[v\] on the cells (v, out of length M), for potentials whose
/// ρ-dependence is known in closed form; the linearisation of the stationary rates uses it
/// instead of the data ([`crate::stationary::Linearisation::with_response`]).
pub trait LinearResponse: Send + Sync + std::fmt::Debug {
    /// DΨ\[v\] into `out`.
    fn apply(&self, v: &[f64], out: &mut [f64]);
}

/// A potential field Ψ(·; ρ) evaluated at the cell centres of a grid.
pub trait PotentialField: Send + Sync {
    /// Dimension D of θ-space (must equal the grid's).
    fn dim(&self) -> usize;
    /// Ψ(θ_m; ρ) for every cell m into `out` (length M).
    fn potential(&self, rho: &[f64], out: &mut [f64]);
    /// E(ρ) (and R(ρ) when defined).
    fn energy(&self, rho: &[f64]) -> Energy;
    /// Ψ(·; ρ) into `out` and E(ρ) together — the same numbers as [`PotentialField::potential`]
    /// and [`PotentialField::energy`]; fields that evaluate the network f_ρ for both override it
    /// to evaluate it once.
    fn potential_energy(&self, rho: &[f64], out: &mut [f64]) -> Energy {
        self.potential(rho, out);
        self.energy(rho)
    }
    /// The network outputs f_k = Σ_m ρ_m|cell| σ(x_k; θ_m) on the problem's data, for
    /// learning problems (None for a fixed potential).
    fn network(&self, _rho: &[f64]) -> Option<Vec<f64>> {
        None
    }
    /// A bound S on how fast Ψ reacts to ρ, for step-size control: for Ψ = V + ∫U(·, θ')ρ(dθ')
    /// with U a convolution, S = sup_k |k|²|Û(k)| (so |Δ δΨ| ≤ S·‖δρ‖); 0 for a fixed potential
    /// and when unknown.
    fn stiffness(&self) -> f64 {
        0.0
    }
    /// DΨ[·] in closed form when the field has one (None, the default: the linearisation goes
    /// through the data of the [`MeanField`] problem).
    fn linear_response(&self) -> Option<std::sync::Arc<dyn LinearResponse>> {
        None
    }
    /// The mean-field problem (unit, data, loss, λ) whose Ψ this is, shared with the particles
    /// and the evaluation of R_N (None for a fixed potential).
    fn problem(&self) -> Option<&Arc<MeanField>> {
        None
    }
}

/// A fixed potential V given on the cells: Ψ = V, E(ρ) = Σ_m V_m ρ_m |cell|.
#[derive(Debug, Clone, PartialEq)]
pub struct FixedPotential {
    v: Vec<f64>,
    dim: usize,
    cell_volume: f64,
}

impl FixedPotential {
    /// V given by its cell values (length M, finite).
    pub fn new(grid: &Grid, v: Vec<f64>) -> Result<Self, PdeError> {
        if v.len() != grid.len() {
            return Err(PdeError::invalid(
                "potential",
                format!("{} values for {} cells", v.len(), grid.len()),
            ));
        }
        if v.iter().any(|x| !x.is_finite()) {
            return Err(PdeError::invalid("potential", "non-finite value"));
        }
        Ok(FixedPotential {
            v,
            dim: grid.dim(),
            cell_volume: grid.cell_volume(),
        })
    }

    /// V_m = v(θ_m) at the cell centres.
    pub fn from_fn(grid: &Grid, v: impl Fn(&[f64]) -> f64) -> Result<Self, PdeError> {
        let c = grid.centres();
        let vals = c
            .rows()
            .into_iter()
            .map(|r| v(r.as_slice().expect("contiguous")))
            .collect();
        FixedPotential::new(grid, vals)
    }

    /// The cell values V_m.
    pub fn values(&self) -> &[f64] {
        &self.v
    }
}

impl PotentialField for FixedPotential {
    fn dim(&self) -> usize {
        self.dim
    }
    fn potential(&self, _rho: &[f64], out: &mut [f64]) {
        out.copy_from_slice(&self.v);
    }
    fn energy(&self, rho: &[f64]) -> Energy {
        Energy {
            risk: None,
            energy: self.v.iter().zip(rho).map(|(v, r)| v * r).sum::<f64>() * self.cell_volume,
        }
    }
}

/// Work buffers reused across calls.
#[derive(Debug)]
struct Buffers {
    weights: Array1<f64>,
    f: Vec<f64>,
    r: Vec<f64>,
    s: Vec<f64>,
    g: Vec<f64>,
}

/// The factorised form of a unit a·act(w x) (x ∈ R) on a grid with axes (a, w).
#[derive(Debug, Clone)]
struct Factorised {
    /// a_i, i < n_a.
    a: Vec<f64>,
    /// w_j, j < n_w.
    w: Vec<f64>,
    /// act(w_j x_k), row-major n_w × K.
    table: Vec<f64>,
}

/// The mean-field potential of a [`MeanField`] problem on the cell centres of a grid:
///
/// f_k = Σ_m α_m σ(x_k; θ_m) with α_m = ρ_m|cell|, r_k = ½ w_k ∂ℓ(y_k, f_k),
/// Ψ(θ_m) = Σ_k r_k σ(x_k; θ_m) + (λ/2)|θ_m|²,  E = ½R + (λ/2) Σ_m α_m |θ_m|²,
///
/// in O(M·K). For σ = a·act(w x) (`Unit::Ridge{param: AW, input_dim: 1}`) on a 2D grid with
/// axes (a, w) a factorised path costs O(M + n_w·K): with the table act(w_j x_k) built once,
/// s_j = Σ_i a_i ρ_ij|cell|, f_k = Σ_j act(w_j x_k) s_j, g_j = Σ_k r_k act(w_j x_k) and
/// Ψ(a_i, w_j) = a_i g_j + (λ/2)(a_i² + w_j²).
#[derive(Debug)]
pub struct MeanFieldPotential {
    mf: Arc<MeanField>,
    centres: Array2<f64>,
    cell_volume: f64,
    fact: Option<Factorised>,
    buf: Mutex<Buffers>,
}

impl MeanFieldPotential {
    /// The potential of `mf` on `grid`, using the factorised path when it applies.
    ///
    /// Checks that the unit's θ-dimension equals the grid's, and that exactly the unit's torus
    /// axes are periodic grid axes of length 2π.
    pub fn new(mf: impl Into<Arc<MeanField>>, grid: &Grid) -> Result<Self, PdeError> {
        let mut p = MeanFieldPotential::general(mf, grid)?;
        if let Unit::Ridge {
            act,
            param: Param::AW,
            input_dim: 1,
        } = p.mf.unit
        {
            let a = grid.axes[0].centres();
            let w = grid.axes[1].centres();
            let x = &p.mf.data.x;
            let k = x.nrows();
            let mut table = vec![0.0; w.len() * k];
            for (j, wj) in w.iter().enumerate() {
                for kk in 0..k {
                    table[j * k + kk] = act.value(wj * x[[kk, 0]]);
                }
            }
            p.buf.get_mut().expect("fresh mutex").s = vec![0.0; w.len()];
            p.buf.get_mut().expect("fresh mutex").g = vec![0.0; w.len()];
            p.fact = Some(Factorised { a, w, table });
        }
        Ok(p)
    }

    /// The potential of `mf` on `grid` by the general O(M·K) path only.
    pub fn general(mf: impl Into<Arc<MeanField>>, grid: &Grid) -> Result<Self, PdeError> {
        let mf: Arc<MeanField> = mf.into();
        Self::check_grid(&mf, grid)?;
        let m = grid.len();
        let k = mf.data.len();
        Ok(MeanFieldPotential {
            centres: grid.centres(),
            cell_volume: grid.cell_volume(),
            fact: None,
            buf: Mutex::new(Buffers {
                weights: Array1::zeros(m),
                f: vec![0.0; k],
                r: vec![0.0; k],
                s: Vec::new(),
                g: Vec::new(),
            }),
            mf,
        })
    }

    /// That the unit's θ-dimension equals the grid's, and that exactly the unit's torus axes
    /// are periodic grid axes of length 2π.
    pub fn check_grid(mf: &MeanField, grid: &Grid) -> Result<(), PdeError> {
        if mf.theta_dim() != grid.dim() {
            return Err(PdeError::invalid(
                "grid",
                format!(
                    "the unit has {} parameters, the grid has {} axes",
                    mf.theta_dim(),
                    grid.dim()
                ),
            ));
        }
        for (a, ax) in grid.axes.iter().enumerate() {
            let torus = mf.unit.axis_is_periodic(a);
            let periodic = ax.boundary == Boundary::Periodic;
            if torus != periodic {
                return Err(PdeError::invalid(
                    "boundary",
                    format!(
                        "θ-axis {a} {} a torus coordinate, so the grid axis must {}be periodic",
                        if torus { "is" } else { "is not" },
                        if torus { "" } else { "not " }
                    ),
                ));
            }
            if periodic && ((ax.hi - ax.lo) - TORUS_PERIOD).abs() > 1e-12 {
                return Err(PdeError::invalid(
                    "box",
                    format!("periodic axis {a} must have length 2π"),
                ));
            }
        }
        Ok(())
    }

    /// Whether the factorised (a, w) path is used.
    pub fn is_factorised(&self) -> bool {
        self.fact.is_some()
    }

    /// The wrapped problem.
    pub fn mean_field(&self) -> &MeanField {
        &self.mf
    }

    /// f_k into `b.f` by the factorised path: s_j = Σ_i a_i ρ_ij|cell|, f_k = Σ_j T_jk s_j.
    fn network_factorised(&self, fa: &Factorised, rho: &[f64], b: &mut Buffers) {
        let nw = fa.w.len();
        let k = b.f.len();
        b.s.iter_mut().for_each(|v| *v = 0.0);
        for (i, ai) in fa.a.iter().enumerate() {
            for (sj, rj) in b.s.iter_mut().zip(&rho[i * nw..(i + 1) * nw]) {
                *sj += ai * rj;
            }
        }
        b.s.iter_mut().for_each(|v| *v *= self.cell_volume);
        b.f.iter_mut().for_each(|v| *v = 0.0);
        for (j, sj) in b.s.iter().enumerate() {
            for (fk, t) in b.f.iter_mut().zip(&fa.table[j * k..(j + 1) * k]) {
                *fk += t * sj;
            }
        }
    }

    fn network_general(&self, rho: &[f64], b: &mut Buffers) {
        for (w, r) in b.weights.iter_mut().zip(rho) {
            *w = r * self.cell_volume;
        }
        let mu = Measure::new(self.centres.view(), b.weights.view());
        self.mf.network_into(mu, &mut b.f);
    }
}

impl PotentialField for MeanFieldPotential {
    fn problem(&self) -> Option<&Arc<MeanField>> {
        Some(&self.mf)
    }
    fn dim(&self) -> usize {
        self.centres.ncols()
    }

    fn potential(&self, rho: &[f64], out: &mut [f64]) {
        let mut guard = self.buf.lock().unwrap_or_else(|e| e.into_inner());
        let b = &mut *guard;
        self.network_into_buffers(rho, b);
        self.potential_of_network(b, out);
    }

    fn potential_energy(&self, rho: &[f64], out: &mut [f64]) -> Energy {
        let mut guard = self.buf.lock().unwrap_or_else(|e| e.into_inner());
        let b = &mut *guard;
        self.network_into_buffers(rho, b);
        self.potential_of_network(b, out);
        self.energy_of_network(b, rho)
    }

    fn network(&self, rho: &[f64]) -> Option<Vec<f64>> {
        let mut guard = self.buf.lock().unwrap_or_else(|e| e.into_inner());
        let b = &mut *guard;
        self.network_into_buffers(rho, b);
        Some(b.f.clone())
    }

    fn energy(&self, rho: &[f64]) -> Energy {
        let mut guard = self.buf.lock().unwrap_or_else(|e| e.into_inner());
        let b = &mut *guard;
        self.network_into_buffers(rho, b);
        self.energy_of_network(b, rho)
    }
}

impl MeanFieldPotential {
    /// f_k of ρ into `b.f` (factorised or general path).
    fn network_into_buffers(&self, rho: &[f64], b: &mut Buffers) {
        match &self.fact {
            Some(fa) => self.network_factorised(fa, rho, b),
            None => self.network_general(rho, b),
        }
    }

    /// Ψ(θ_m) = Σ_k r_k σ(x_k; θ_m) + (λ/2)|θ_m|² from the network in `b.f`.
    fn potential_of_network(&self, b: &mut Buffers, out: &mut [f64]) {
        let lambda = self.mf.lambda;
        match &self.fact {
            Some(fa) => {
                self.mf.residual_into(&b.f, &mut b.r);
                let k = b.r.len();
                for (j, gj) in b.g.iter_mut().enumerate() {
                    *gj = fa.table[j * k..(j + 1) * k]
                        .iter()
                        .zip(&b.r)
                        .map(|(t, r)| t * r)
                        .sum();
                }
                let nw = fa.w.len();
                for (i, ai) in fa.a.iter().enumerate() {
                    for (j, o) in out[i * nw..(i + 1) * nw].iter_mut().enumerate() {
                        let wj = fa.w[j];
                        *o = ai * b.g[j] + 0.5 * lambda * (ai * ai + wj * wj);
                    }
                }
            }
            None => {
                self.mf.residual_into(&b.f, &mut b.r);
                self.mf
                    .potential_of_residual_into(&b.r, self.centres.view(), out);
            }
        }
    }

    /// E(ρ) = ½R(ρ) + (λ/2)∫|θ|²dρ from the network in `b.f`.
    fn energy_of_network(&self, b: &Buffers, rho: &[f64]) -> Energy {
        let risk = self.mf.risk_of_network(&b.f);
        let second: f64 = self
            .centres
            .rows()
            .into_iter()
            .zip(rho)
            .map(|(t, r)| r * t.dot(&t))
            .sum::<f64>()
            * self.cell_volume;
        Energy {
            risk: Some(risk),
            energy: 0.5 * risk + 0.5 * self.mf.lambda * second,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mfl_core::data::{Inputs, Teacher};
    use mfl_core::{Activation, Axis, Law, Loss};
    use ndarray::array;

    fn problem() -> (MeanField, Grid) {
        let unit = Unit::Ridge {
            act: Activation::Tanh,
            param: Param::AW,
            input_dim: 1,
        };
        let teacher = Teacher::new(
            unit.clone(),
            array![[1.0, 2.0], [-0.5, 0.7]],
            vec![1.0, 1.0],
        )
        .unwrap();
        let data = Inputs::gauss_hermite(1, 40).label(&teacher, 0.0).unwrap();
        let mf = MeanField::new(unit, Loss::Squared, data, 0.03).unwrap();
        let grid = Grid::new(vec![
            Axis::new(-2.0, 2.5, 17, Boundary::NoFlux).unwrap(),
            Axis::new(-3.0, 3.0, 23, Boundary::NoFlux).unwrap(),
        ])
        .unwrap();
        (mf, grid)
    }

    #[test]
    fn factorised_path_equals_general_path() {
        let (mf, grid) = problem();
        let fast = MeanFieldPotential::new(mf.clone(), &grid).unwrap();
        let slow = MeanFieldPotential::general(mf.clone(), &grid).unwrap();
        assert!(fast.is_factorised() && !slow.is_factorised());
        let law = Law::Gaussian(
            mfl_core::Gaussian::new(vec![0.3, 0.5], vec![0.5, 0.2, 0.2, 1.0]).unwrap(),
        );
        let rho = law.on_grid(&grid).unwrap();
        let mut p1 = vec![0.0; grid.len()];
        let mut p2 = vec![0.0; grid.len()];
        fast.potential(&rho, &mut p1);
        slow.potential(&rho, &mut p2);
        let scale = p2.iter().fold(0.0f64, |a, b| a.max(b.abs()));
        for (a, b) in p1.iter().zip(&p2) {
            assert!((a - b).abs() <= 1e-13 * scale, "{a} vs {b}");
        }
        let (e1, e2) = (fast.energy(&rho), slow.energy(&rho));
        assert!((e1.energy - e2.energy).abs() <= 1e-13 * e2.energy.abs());
        // and against the core's own energy
        let w: Array1<f64> = rho.iter().map(|r| r * grid.cell_volume()).collect();
        let c = grid.centres();
        let e3 = mf.energy(Measure::new(c.view(), w.view()));
        assert!((e1.energy - e3).abs() <= 1e-13 * e3.abs());
    }

    #[test]
    fn potential_is_the_variational_derivative_of_the_energy() {
        // ∂E/∂ρ_m = Ψ_m |cell| (E is quadratic in ρ: central differences are exact to round-off)
        let (mf, grid) = problem();
        let p = MeanFieldPotential::new(mf, &grid).unwrap();
        let mut rho = vec![1.0 / (4.5 * 6.0); grid.len()];
        let mut psi = vec![0.0; grid.len()];
        p.potential(&rho, &mut psi);
        let e = 1e-3;
        for m in [0, 57, 200, grid.len() - 1] {
            let r0 = rho[m];
            rho[m] = r0 + e;
            let ep = p.energy(&rho).energy;
            rho[m] = r0 - e;
            let em = p.energy(&rho).energy;
            rho[m] = r0;
            let fd = (ep - em) / (2.0 * e);
            let exact = psi[m] * grid.cell_volume();
            assert!((fd - exact).abs() < 1e-10, "cell {m}: {fd} vs {exact}");
        }
    }
}
