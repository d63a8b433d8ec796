//! Scalar activations act(z) and their derivatives act'(z).

use crate::error::CoreError;

/// An activation function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// tanh z
    Tanh,
    /// max(z, 0); its derivative at 0 is taken as 0
    Relu,
    /// 1/(1 + e^{−z})
    Sigmoid,
    /// erf z = (2/√π) ∫₀^z e^{−s²} ds
    Erf,
    /// log(1 + e^z)
    Softplus,
    /// z (a linear unit: makes Ψ quadratic, used for exact solutions)
    Linear,
}

/// Names accepted by [`Activation::parse`], in the order they are listed to users.
pub const ACTIVATION_NAMES: [&str; 6] = ["tanh", "relu", "sigmoid", "erf", "softplus", "linear"];

impl Activation {
    /// Parse a name from [`ACTIVATION_NAMES`].
    pub fn parse(name: &str) -> Result<Self, CoreError> {
        Ok(match name {
            "tanh" => Activation::Tanh,
            "relu" => Activation::Relu,
            "sigmoid" => Activation::Sigmoid,
            "erf" => Activation::Erf,
            "softplus" => Activation::Softplus,
            "linear" => Activation::Linear,
            other => {
                return Err(CoreError::invalid(
                    "activation",
                    format!(
                        "unknown activation '{other}'; valid: {}",
                        ACTIVATION_NAMES.join(", ")
                    ),
                ))
            }
        })
    }

    /// The name as written in configs.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Tanh => "tanh",
            Activation::Relu => "relu",
            Activation::Sigmoid => "sigmoid",
            Activation::Erf => "erf",
            Activation::Softplus => "softplus",
            Activation::Linear => "linear",
        }
    }

    /// act(z).
    #[inline]
    pub fn value(self, z: f64) -> f64 {
        match self {
            Activation::Tanh => z.tanh(),
            Activation::Relu => z.max(0.0),
            Activation::Sigmoid => sigmoid(z),
            Activation::Erf => libm::erf(z),
            Activation::Softplus => softplus(z),
            Activation::Linear => z,
        }
    }

    /// (act(z), act'(z)).
    #[inline]
    pub fn value_deriv(self, z: f64) -> (f64, f64) {
        match self {
            Activation::Tanh => {
                let t = z.tanh();
                (t, 1.0 - t * t)
            }
            Activation::Relu => {
                if z > 0.0 {
                    (z, 1.0)
                } else {
                    (0.0, 0.0)
                }
            }
            Activation::Sigmoid => {
                let s = sigmoid(z);
                (s, s * (1.0 - s))
            }
            Activation::Erf => (
                libm::erf(z),
                std::f64::consts::FRAC_2_SQRT_PI * (-z * z).exp(),
            ),
            Activation::Softplus => (softplus(z), sigmoid(z)),
            Activation::Linear => (z, 1.0),
        }
    }
}

/// 1/(1 + e^{−z}), evaluated without overflow.
#[inline]
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// log(1 + e^z), evaluated without overflow or cancellation.
#[inline]
pub fn softplus(z: f64) -> f64 {
    if z > 0.0 {
        z + (-z).exp().ln_1p()
    } else {
        z.exp().ln_1p()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivatives_match_finite_differences() {
        let e = 1e-6;
        for a in ACTIVATION_NAMES
            .iter()
            .map(|n| Activation::parse(n).unwrap())
        {
            for &z in &[-2.3, -0.4, 0.7, 3.1] {
                let fd = (a.value(z + e) - a.value(z - e)) / (2.0 * e);
                let (v, d) = a.value_deriv(z);
                assert_eq!(v, a.value(z));
                assert!((fd - d).abs() < 1e-8, "{a:?} at {z}: {fd} vs {d}");
            }
        }
    }

    #[test]
    fn unknown_name_lists_valid_ones() {
        let e = Activation::parse("gelu").unwrap_err().to_string();
        assert!(e.contains("gelu") && e.contains("tanh, relu, sigmoid, erf, softplus, linear"));
    }
}
