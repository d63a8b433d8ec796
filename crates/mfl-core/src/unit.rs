//! Neurons σ(x; θ), x ∈ R^d, θ ∈ R^D, with value and θ-gradient.
//!
//! * Ridge units: `w` → act(w·x) (D = d); `a_w` → a·act(w·x) (θ = (a, w), D = 1 + d);
//!   `w_b` → act(w·x + b) (θ = (w, b), D = d + 1).
//! * Periodic units on the torus [0, 2π)^d: φ(x − θ) (D = d), or a·φ(x − θ) (θ = (a, position),
//!   D = 1 + d), with φ(u) = Π_j φ₁(u_j) a wrapped Gaussian or a Dirichlet kernel.

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

/// The one-dimensional profile φ₁ of a periodic unit.
#[derive(Debug, Clone, PartialEq)]
pub enum PeriodicKernel {
    /// φ₁(u) = Σ_n exp(−(u − 2πn)²/(2 s²)) (peak value ≈ 1)
    WrappedGaussian { width: f64 },
    /// φ₁(u) = c₀ + 2 Σ_{l=1}^{L} c_l cos(l u); the Dirichlet kernel of L frequencies has c_l = 1.
    Fourier { coeffs: Vec<f64> },
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
        act: Activation,
        param: Param,
        input_dim: usize,
    },
    /// Periodic unit φ(x − θ) or a·φ(x − θ) on the torus [0, 2π)^d.
    Periodic {
        kernel: PeriodicKernel,
        weighted: bool,
        input_dim: usize,
    },
}

impl Unit {
    /// Input dimension d.
    pub fn input_dim(&self) -> usize {
        match self {
            Unit::Ridge { input_dim, .. } | Unit::Periodic { input_dim, .. } => *input_dim,
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
        }
    }

    /// Whether θ-axis `axis` is a position on the torus (so a grid or particles must wrap it).
    pub fn axis_is_periodic(&self, axis: usize) -> bool {
        match self {
            Unit::Ridge { .. } => false,
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
        }
    }

    /// Check that the unit accepts inputs of dimension `d` (periodic units: d ≤ 8).
    pub fn validate(&self) -> Result<(), CoreError> {
        let d = self.input_dim();
        if d == 0 {
            return Err(CoreError::invalid("input_dim", "must be at least 1"));
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
    fn wrapped_gaussian_is_periodic() {
        let k = PeriodicKernel::WrappedGaussian { width: 1.3 };
        for &u in &[0.1, 2.0, 3.1] {
            let (a, da) = k.value_deriv(u);
            let (b, db) = k.value_deriv(u + TORUS_PERIOD);
            assert!((a - b).abs() < 1e-13 && (da - db).abs() < 1e-13);
        }
    }
}
