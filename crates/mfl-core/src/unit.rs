//! Neurons σ(x; θ), x ∈ R^d, θ ∈ R^D, with value and θ-gradient.
//!
//! * Ridge units: `w` → act(w·x) (D = d); `a_w` → a·act(w·x) (θ = (a, w), D = 1 + d);
//!   `w_b` → act(w·x + b) (θ = (w, b), D = d + 1).
//! * Periodic units on the torus [0, 2π)^d: φ(x − θ) (D = d), or a·φ(x − θ) (θ = (a, position),
//!   D = 1 + d), with φ(u) = Π_j φ₁(u_j) a wrapped Gaussian or a Dirichlet kernel.
//! * Radial basis units (Rotskoff–Vanden-Eijnden): with N(x; y, s) = e^{−|x−y|²/2s²}/(2πs²)^{d/2}
//!   the Gaussian density, `y` → N(x; y, s) (D = d); `y_c` → c·N(x; y, s) (θ = (y, c),
//!   D = d + 1); `y_s` → N(x; y, s) with the width a parameter (θ = (y, s), D = d + 1; s > 0).

use crate::activation::Activation;
use crate::error::CoreError;
use crate::TORUS_PERIOD;

/// How a ridge unit's θ is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    /// θ = w: σ = act(w·x)
    W,
    /// θ = (a, w): σ = a·act(w·x)
    AW,
    /// θ = (w, b): σ = act(w·x + b)
    WB,
}

impl Param {
    /// Parse `w`, `a_w` or `w_b`.
    pub fn parse(name: &str) -> Result<Self, CoreError> {
        match name {
            "w" => Ok(Param::W),
            "a_w" => Ok(Param::AW),
            "w_b" => Ok(Param::WB),
            other => Err(CoreError::invalid(
                "param",
                format!("unknown parameterisation '{other}'; valid: w, a_w, w_b"),
            )),
        }
    }
}

/// How a radial basis unit's θ is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RbfParam {
    /// θ = y: σ = N(x; y, s), s fixed
    Y,
    /// θ = (y, c): σ = c·N(x; y, s), s fixed
    YC,
    /// θ = (y, s): σ = N(x; y, s)
    YS,
}

impl RbfParam {
    /// Parse `y`, `y_c` or `y_s`.
    pub fn parse(name: &str) -> Result<Self, CoreError> {
        match name {
            "y" => Ok(RbfParam::Y),
            "y_c" => Ok(RbfParam::YC),
            "y_s" => Ok(RbfParam::YS),
            other => Err(CoreError::invalid(
                "param",
                format!("unknown rbf parameterisation '{other}'; valid: y, y_c, y_s"),
            )),
        }
    }
}

/// The one-dimensional profile φ₁ of a periodic unit.
#[derive(Debug, Clone, PartialEq)]
pub enum PeriodicKernel {
    /// φ₁(u) = Σ_n exp(−(u − 2πn)²/(2 s²)) (peak value ≈ 1)
    WrappedGaussian {
        /// Width s > 0.
        width: f64,
    },
    /// φ₁(u) = c₀ + 2 Σ_{l=1}^{L} c_l cos(l u); the Dirichlet kernel of L frequencies has c_l = 1.
    Fourier {
        /// c_0..c_L.
        coeffs: Vec<f64>,
    },
}

impl PeriodicKernel {
    /// The Dirichlet kernel D_L(u) = 1 + 2 Σ_{l=1}^{L} cos(l u).
    pub fn dirichlet(frequencies: usize) -> Self {
        PeriodicKernel::Fourier {
            coeffs: vec![1.0; frequencies + 1],
        }
    }

    /// (φ₁(u), φ₁'(u)).
    #[inline]
    pub fn value_deriv(&self, u: f64) -> (f64, f64) {
        match self {
            PeriodicKernel::WrappedGaussian { width } => {
                let s2 = width * width;
                let u0 = u - TORUS_PERIOD * (u / TORUS_PERIOD).round();
                let images = (4.0 * width / TORUS_PERIOD).ceil() as i64 + 1;
                let (mut v, mut d) = (0.0, 0.0);
                for n in -images..=images {
                    let z = u0 - TORUS_PERIOD * n as f64;
                    let e = (-z * z / (2.0 * s2)).exp();
                    v += e;
                    d -= z / s2 * e;
                }
                (v, d)
            }
            PeriodicKernel::Fourier { coeffs } => {
                let mut v = coeffs[0];
                let mut d = 0.0;
                for (l, c) in coeffs.iter().enumerate().skip(1) {
                    let (s, co) = (l as f64 * u).sin_cos();
                    v += 2.0 * c * co;
                    d -= 2.0 * c * l as f64 * s;
                }
                (v, d)
            }
        }
    }
}

/// A neuron σ(x; θ).
#[derive(Debug, Clone, PartialEq)]
pub enum Unit {
    /// Ridge unit act(w·x) in one of the [`Param`] layouts.
    Ridge {
        /// The activation act.
        act: Activation,
        /// How θ splits into (a, w, b).
        param: Param,
        /// Input dimension d.
        input_dim: usize,
    },
    /// Periodic unit φ(x − θ) or a·φ(x − θ) on the torus [0, 2π)^d.
    Periodic {
        /// The profile φ₁ of φ(u) = Π_a φ₁(u_a).
        kernel: PeriodicKernel,
        /// θ = (a, position) with σ = a·φ(x − position).
        weighted: bool,
        /// Input dimension d (the torus [0, 2π)^d).
        input_dim: usize,
    },
    /// Radial basis unit N(x; y, s), c·N(x; y, s) or N(x; y, s) with s in θ.
    Rbf {
        /// How θ splits into (y, c, s).
        param: RbfParam,
        /// s for `y` and `y_c` (ignored by `y_s`)
        width: f64,
        /// Input dimension d.
        input_dim: usize,
    },
}

impl Unit {
    /// Input dimension d.
    pub fn input_dim(&self) -> usize {
        match self {
            Unit::Ridge { input_dim, .. }
            | Unit::Periodic { input_dim, .. }
            | Unit::Rbf { input_dim, .. } => *input_dim,
        }
    }

    /// Parameter dimension D.
    pub fn theta_dim(&self) -> usize {
        match self {
            Unit::Ridge {
                param: Param::W,
                input_dim,
                ..
            } => *input_dim,
            Unit::Ridge { input_dim, .. } => input_dim + 1,
            Unit::Periodic {
                weighted,
                input_dim,
                ..
            } => input_dim + usize::from(*weighted),
            Unit::Rbf {
                param, input_dim, ..
            } => input_dim + usize::from(*param != RbfParam::Y),
        }
    }

    /// Whether θ-axis `axis` is a position on the torus (so a grid or particles must wrap it).
    pub fn axis_is_periodic(&self, axis: usize) -> bool {
        match self {
            Unit::Ridge { .. } | Unit::Rbf { .. } => false,
            Unit::Periodic { weighted, .. } => !(*weighted && axis == 0),
        }
    }

    /// σ(x; θ).
    #[inline]
    pub fn value(&self, x: &[f64], theta: &[f64]) -> f64 {
        match self {
            Unit::Ridge { act, param, .. } => match param {
                Param::W => act.value(dot(theta, x)),
                Param::AW => theta[0] * act.value(dot(&theta[1..], x)),
                Param::WB => {
                    let d = x.len();
                    act.value(dot(&theta[..d], x) + theta[d])
                }
            },
            Unit::Periodic {
                kernel, weighted, ..
            } => {
                let (a, pos) = split_weight(theta, *weighted);
                a * x
                    .iter()
                    .zip(pos)
                    .map(|(xi, p)| kernel.value_deriv(xi - p).0)
                    .product::<f64>()
            }
            Unit::Rbf { param, width, .. } => {
                let (c, s) = rbf_weight_width(theta, x.len(), *param, *width);
                c * gaussian_density(x, &theta[..x.len()], s).0
            }
        }
    }

    /// σ(x; θ), writing ∇_θσ(x; θ) into `grad` (length D).
    #[inline]
    pub fn value_grad(&self, x: &[f64], theta: &[f64], grad: &mut [f64]) -> f64 {
        match self {
            Unit::Ridge { act, param, .. } => match param {
                Param::W => {
                    let (v, dv) = act.value_deriv(dot(theta, x));
                    for (g, xi) in grad.iter_mut().zip(x) {
                        *g = dv * xi;
                    }
                    v
                }
                Param::AW => {
                    let a = theta[0];
                    let (v, dv) = act.value_deriv(dot(&theta[1..], x));
                    grad[0] = v;
                    for (g, xi) in grad[1..].iter_mut().zip(x) {
                        *g = a * dv * xi;
                    }
                    a * v
                }
                Param::WB => {
                    let d = x.len();
                    let (v, dv) = act.value_deriv(dot(&theta[..d], x) + theta[d]);
                    for (g, xi) in grad[..d].iter_mut().zip(x) {
                        *g = dv * xi;
                    }
                    grad[d] = dv;
                    v
                }
            },
            Unit::Periodic {
                kernel, weighted, ..
            } => {
                let (a, pos) = split_weight(theta, *weighted);
                let off = usize::from(*weighted);
                let d = x.len();
                let mut vals = [0.0f64; 8];
                let mut ders = [0.0f64; 8];
                for j in 0..d {
                    let (v, dv) = kernel.value_deriv(x[j] - pos[j]);
                    vals[j] = v;
                    ders[j] = dv;
                }
                let phi: f64 = vals[..d].iter().product();
                if *weighted {
                    grad[0] = phi;
                }
                for j in 0..d {
                    // ∂/∂θ_j φ(x − θ) = −φ₁'(x_j − θ_j) Π_{i≠j} φ₁(x_i − θ_i)
                    let others: f64 = (0..d).filter(|&i| i != j).map(|i| vals[i]).product();
                    grad[off + j] = -a * ders[j] * others;
                }
                a * phi
            }
            Unit::Rbf { param, width, .. } => {
                let d = x.len();
                let (c, s) = rbf_weight_width(theta, d, *param, *width);
                let (g, r2) = gaussian_density(x, &theta[..d], s);
                let s2 = s * s;
                for j in 0..d {
                    grad[j] = c * g * (x[j] - theta[j]) / s2;
                }
                match param {
                    RbfParam::Y => {}
                    RbfParam::YC => grad[d] = g,
                    // ∂/∂s of e^{−r²/2s²} s^{−d}: g (r²/s³ − d/s)
                    RbfParam::YS => grad[d] = g * (r2 / (s2 * s) - d as f64 / s),
                }
                c * g
            }
        }
    }

    /// Check that the unit accepts inputs of dimension `d` (periodic units: d ≤ 8).
    pub fn validate(&self) -> Result<(), CoreError> {
        let d = self.input_dim();
        if d == 0 {
            return Err(CoreError::invalid("input_dim", "must be at least 1"));
        }
        if let Unit::Rbf { param, width, .. } = self {
            if *param != RbfParam::YS && !(*width > 0.0 && width.is_finite()) {
                return Err(CoreError::invalid(
                    "width",
                    "an rbf unit needs a width s > 0",
                ));
            }
        }
        if let Unit::Periodic { kernel, .. } = self {
            if d > 8 {
                return Err(CoreError::invalid("input_dim", "periodic units take d ≤ 8"));
            }
            match kernel {
                PeriodicKernel::WrappedGaussian { width } if !(*width > 0.0) => {
                    return Err(CoreError::invalid("width", "must be positive"))
                }
                PeriodicKernel::Fourier { coeffs } if coeffs.is_empty() => {
                    return Err(CoreError::invalid(
                        "frequencies",
                        "need at least one coefficient",
                    ))
                }
                _ => {}
            }
        }
        Ok(())
    }
}

#[inline]
fn split_weight(theta: &[f64], weighted: bool) -> (f64, &[f64]) {
    if weighted {
        (theta[0], &theta[1..])
    } else {
        (1.0, theta)
    }
}

/// (c, s) of a radial basis unit: the weight (1 unless θ = (y, c)) and the width.
#[inline]
fn rbf_weight_width(theta: &[f64], d: usize, param: RbfParam, width: f64) -> (f64, f64) {
    match param {
        RbfParam::Y => (1.0, width),
        RbfParam::YC => (theta[d], width),
        RbfParam::YS => (1.0, theta[d]),
    }
}

/// (N(x; y, s), |x − y|²) for the isotropic Gaussian density of standard deviation s.
#[inline]
fn gaussian_density(x: &[f64], y: &[f64], s: f64) -> (f64, f64) {
    let r2: f64 = x.iter().zip(y).map(|(a, b)| (a - b) * (a - b)).sum();
    let norm = (2.0 * std::f64::consts::PI * s * s).powf(-0.5 * x.len() as f64);
    (norm * (-r2 / (2.0 * s * s)).exp(), r2)
}

/// w·x.
#[inline]
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(p, q)| p * q).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units() -> Vec<Unit> {
        let mut v = Vec::new();
        for d in 1..=2 {
            for p in [Param::W, Param::AW, Param::WB] {
                for act in [Activation::Tanh, Activation::Erf, Activation::Softplus] {
                    v.push(Unit::Ridge {
                        act,
                        param: p,
                        input_dim: d,
                    });
                }
            }
            for param in [RbfParam::Y, RbfParam::YC, RbfParam::YS] {
                v.push(Unit::Rbf {
                    param,
                    width: 0.5,
                    input_dim: d,
                });
            }
            for weighted in [false, true] {
                v.push(Unit::Periodic {
                    kernel: PeriodicKernel::WrappedGaussian { width: 0.7 },
                    weighted,
                    input_dim: d,
                });
                v.push(Unit::Periodic {
                    kernel: PeriodicKernel::dirichlet(4),
                    weighted,
                    input_dim: d,
                });
            }
        }
        v
    }

    #[test]
    fn gradients_match_central_differences() {
        let e = 1e-6;
        for u in units() {
            let d = u.input_dim();
            let dd = u.theta_dim();
            let x: Vec<f64> = (0..d).map(|i| 0.3 + 0.9 * i as f64).collect();
            let th: Vec<f64> = (0..dd).map(|i| -0.45 + 0.55 * i as f64).collect();
            let mut g = vec![0.0; dd];
            let v = u.value_grad(&x, &th, &mut g);
            assert!((v - u.value(&x, &th)).abs() < 1e-14);
            for j in 0..dd {
                let mut p = th.clone();
                let mut m = th.clone();
                p[j] += e;
                m[j] -= e;
                let fd = (u.value(&x, &p) - u.value(&x, &m)) / (2.0 * e);
                assert!((fd - g[j]).abs() < 1e-7, "{u:?} dθ{j}: fd {fd} vs {}", g[j]);
            }
        }
    }

    #[test]
    fn rbf_units_are_gaussian_densities_with_matching_gradients() {
        let n01 = 1.0 / (2.0 * std::f64::consts::PI).sqrt();
        let y = Unit::Rbf {
            param: RbfParam::Y,
            width: 1.0,
            input_dim: 1,
        };
        assert!((y.value(&[0.0], &[0.0]) - n01).abs() < 1e-15);
        let yc = Unit::Rbf {
            param: RbfParam::YC,
            width: 0.5,
            input_dim: 1,
        };
        // c·N(x; y, 0.5) at x = y is 2c/√(2π)
        assert!((yc.value(&[1.0], &[1.0, 3.0]) - 6.0 * n01).abs() < 1e-14);
        let e = 1e-6;
        for d in 1..=2 {
            for param in [RbfParam::Y, RbfParam::YC, RbfParam::YS] {
                let u = Unit::Rbf {
                    param,
                    width: 0.5,
                    input_dim: d,
                };
                let x: Vec<f64> = (0..d).map(|i| 0.3 - 0.2 * i as f64).collect();
                let mut th: Vec<f64> = (0..d).map(|i| 0.1 + 0.15 * i as f64).collect();
                if param != RbfParam::Y {
                    th.push(0.7);
                }
                let mut g = vec![0.0; th.len()];
                let v = u.value_grad(&x, &th, &mut g);
                assert!(v.abs() > 0.1, "{u:?}: test point too far out ({v})");
                for j in 0..th.len() {
                    let mut p = th.clone();
                    let mut m = th.clone();
                    p[j] += e;
                    m[j] -= e;
                    let fd = (u.value(&x, &p) - u.value(&x, &m)) / (2.0 * e);
                    assert!((fd - g[j]).abs() < 1e-7, "{u:?} dθ{j}: fd {fd} vs {}", g[j]);
                }
            }
        }
    }

    #[test]
    fn wrapped_gaussian_is_periodic() {
        let k = PeriodicKernel::WrappedGaussian { width: 1.3 };
        for &u in &[0.1, 2.0, 3.1] {
            let (a, da) = k.value_deriv(u);
            let (b, db) = k.value_deriv(u + TORUS_PERIOD);
            assert!((a - b).abs() < 1e-13 && (da - db).abs() < 1e-13);
        }
    }
}
