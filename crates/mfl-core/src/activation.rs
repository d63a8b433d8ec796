//! Scalar activations act(z) and their derivatives act'(z), and the branch-free tanh that the
//! batch kernel vectorises ([`tanh`], [`tanh_sech2`]; its exponential is the Cody–Waite one of
//! [`crate::simd`], and its entry points dispatch through [`crate::isa_dispatch!`]).

use crate::error::CoreError;
use crate::simd::{self, Isa};

/// An activation function.
#[derive(Debug, Clone, Copy, PartialEq)]
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
    /// Mei–Montanari–Nguyen's piecewise-linear σ: s₁ for z ≤ t₁, s₂ for z ≥ t₂ and
    /// s₁ + (s₂ − s₁)(z − t₁)/(t₂ − t₁) in between (t₁ < t₂); its derivative is
    /// (s₂ − s₁)/(t₂ − t₁) on (t₁, t₂) and 0 outside (0 at the kinks themselves).
    /// Equivalently σ(z) = s₁ + k[relu(z − t₁) − relu(z − t₂)], k = (s₂ − s₁)/(t₂ − t₁).
    PiecewiseLinear {
        /// t₁, the lower kink
        t1: f64,
        /// t₂ > t₁, the upper kink
        t2: f64,
        /// s₁ = σ(z) for z ≤ t₁
        s1: f64,
        /// s₂ = σ(z) for z ≥ t₂
        s2: f64,
    },
}

/// The config name of [`Activation::PiecewiseLinear`] (it takes parameters, so it is not in
/// [`ACTIVATION_NAMES`], which [`Activation::parse`] accepts alone).
pub const PIECEWISE_LINEAR_NAME: &str = "piecewise_linear";

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
            PIECEWISE_LINEAR_NAME => {
                return Err(CoreError::invalid(
                    "activation",
                    "piecewise_linear needs its kinks t₁ < t₂ and levels s₁, s₂ \
                     (config: unit.breaks = [t1, t2], unit.levels = [s1, s2]; \
                     code: Activation::piecewise_linear)",
                ))
            }
            other => {
                return Err(CoreError::invalid(
                    "activation",
                    format!(
                        "unknown activation '{other}'; valid: {}, {PIECEWISE_LINEAR_NAME}",
                        ACTIVATION_NAMES.join(", ")
                    ),
                ))
            }
        })
    }

    /// [`Activation::PiecewiseLinear`] with kinks t₁ < t₂ and levels s₁, s₂ (all finite).
    pub fn piecewise_linear(t1: f64, t2: f64, s1: f64, s2: f64) -> Result<Self, CoreError> {
        if ![t1, t2, s1, s2].iter().all(|v| v.is_finite()) {
            return Err(CoreError::invalid(
                "activation",
                format!("piecewise_linear needs finite t₁, t₂, s₁, s₂, got {t1}, {t2}, {s1}, {s2}"),
            ));
        }
        if t1 >= t2 {
            return Err(CoreError::invalid(
                "activation",
                format!("piecewise_linear needs t₁ < t₂, got t₁ = {t1}, t₂ = {t2}"),
            ));
        }
        Ok(Activation::PiecewiseLinear { t1, t2, s1, s2 })
    }

    /// The points where act is not differentiable (the kinks t₁, t₂ of the piecewise-linear
    /// activation, 0 for relu; none for the smooth ones): quadratures split their panels there.
    pub fn kinks(self) -> Vec<f64> {
        match self {
            Activation::Relu => vec![0.0],
            Activation::PiecewiseLinear { t1, t2, .. } => vec![t1, t2],
            _ => Vec::new(),
        }
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
            Activation::PiecewiseLinear { .. } => PIECEWISE_LINEAR_NAME,
        }
    }

    /// act(z).
    #[inline]
    pub fn value(self, z: f64) -> f64 {
        match self {
            Activation::Tanh => tanh(z),
            Activation::Relu => z.max(0.0),
            Activation::Sigmoid => sigmoid(z),
            Activation::Erf => libm::erf(z),
            Activation::Softplus => softplus(z),
            Activation::Linear => z,
            Activation::PiecewiseLinear { t1, t2, s1, s2 } => {
                if z <= t1 {
                    s1
                } else if z >= t2 {
                    s2
                } else {
                    s1 + (s2 - s1) * ((z - t1) / (t2 - t1))
                }
            }
        }
    }

    /// (act(z), act'(z)).
    #[inline]
    pub fn value_deriv(self, z: f64) -> (f64, f64) {
        match self {
            Activation::Tanh => tanh_sech2(z),
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
            Activation::PiecewiseLinear { t1, t2, s1, s2 } => {
                if z <= t1 {
                    (s1, 0.0)
                } else if z >= t2 {
                    (s2, 0.0)
                } else {
                    let k = (s2 - s1) / (t2 - t1);
                    (s1 + (s2 - s1) * ((z - t1) / (t2 - t1)), k)
                }
            }
        }
    }
}

/// 2|x| is clamped here: e^{−708} is still a normal number, and tanh(354) = 1 exactly.
const TWO_X_MAX: f64 = 708.0;

/// The shared core of [`tanh`] and [`tanh_sech2`] for s = |x| ≥ 0 (or NaN):
/// returns (em, e, q) with em = expm1(−z) = e^{−z} − 1, e = e^{−z}, q ≈ 1/(2 + em) = 1/(1 + e),
/// z = min(2s, 708).
///
/// expm1(−z): −z = k ln2 + r with k = round(−z/ln2), |r| ≤ ln2/2 (Cody–Waite, FMA),
/// expm1(r) = r + r²P(r) (Taylor; [`simd::reduce`], [`simd::expm1_taylor`]), then expm1(−z) = 2^k expm1(r) + (2^k − 1)
/// and e^{−z} = 2^k (1 + expm1(r)); 2^k is assembled from the exponent bits.
/// q: Newton's iteration y ← y + y(1 − d y) for 1/d, d = 2 + em ∈ (1, 2], from the linear
/// guess y₀ = 24/17 − (8/17) d (relative error ≤ 1/17, squared by each of the 4 steps, so the
/// last one starts below 1.5·10⁻¹⁰).
///
/// Everything is straight-line arithmetic (one select for the clamp, no table, no division), so
/// loops over it vectorise; `mul_add` is exactly rounded, so the bits are the same whether a
/// loop runs in AVX-512, AVX2 or scalar code.
#[inline(always)]
fn tanh_core(s: f64) -> (f64, f64, f64) {
    // the comparison is false for NaN, which therefore propagates
    let z = 2.0 * s;
    let z = if z > TWO_X_MAX { TWO_X_MAX } else { z };
    let (kd, _, r) = simd::reduce::<true>(-z);
    let em_r = simd::expm1_taylor::<true>(r);
    // 2^k: k ∈ [−1022, 0] sits in the low bits of kd's mantissa
    let scale = simd::pow2_of_shifted(kd);
    let em = scale.mul_add(em_r, scale - 1.0);
    let e = scale * (1.0 + em_r);
    // d = 2 + em = 1 + e, rounded once
    let d = scale.mul_add(em_r, scale + 1.0);
    let mut q = d.mul_add(-8.0 / 17.0, 24.0 / 17.0);
    for _ in 0..4 {
        let err = (-d).mul_add(q, 1.0);
        q = q.mul_add(err, q);
    }
    (em, e, q)
}

/// tanh x = −expm1(−2|x|)/(2 + expm1(−2|x|)) with the sign of x; branch-free and vectorisable.
///
/// Within 3 ulp of the system libm's tanh (itself within ~1 ulp of exact) for every argument
/// tested: all binades from 2⁻¹⁰⁷⁴ to 2⁹ and a dense grid on [0, 20], both signs
/// (`tests::tanh_ulp_bound`); tanh(±0) = ±0, exactly ±1 for
/// |x| ≥ 19.1, NaN for NaN. Exactly odd: tanh(−x) = −tanh(x) bit for bit.
#[inline(always)]
pub fn tanh_inline(x: f64) -> f64 {
    let (em, _, q) = tanh_core(x.abs());
    (-em * q).copysign(x)
}

/// (tanh x, 1 − tanh² x) with 1 − tanh² x = sech² x = 4e^{−2|x|}/(1 + e^{−2|x|})², computed
/// from e^{−2|x|} (so it keeps its relative accuracy where 1 − t² would cancel); branch-free.
///
/// tanh as [`tanh_inline`]; sech² within 8 ulp of 1/cosh²(x) from libm for |x| ≤ 354 (4e^{−708}q², i.e. ≈ 10⁻³⁰⁷,
/// beyond). sech² is exactly even, tanh exactly odd.
#[inline(always)]
pub fn tanh_sech2_inline(x: f64) -> (f64, f64) {
    let (em, e, q) = tanh_core(x.abs());
    ((-em * q).copysign(x), 4.0 * e * (q * q))
}

/// Whether the CPU does fused multiply–add in hardware (otherwise `mul_add` is a libm call:
/// the same bits, slower).
#[inline]
pub fn has_fma() -> bool {
    Isa::Avx2.available()
}

/// tanh x, the scalar entry point of [`tanh_inline`] (hardware FMA when [`Isa::detect`] has
/// it; the same bits on every copy).
#[inline]
pub fn tanh(x: f64) -> f64 {
    crate::isa_dispatch!(Isa::detect(), [_FMA] fn t(x: f64) -> f64 { tanh_inline(x) })
}

/// (tanh x, sech² x), the scalar entry point of [`tanh_sech2_inline`].
#[inline]
pub fn tanh_sech2(x: f64) -> (f64, f64) {
    crate::isa_dispatch!(Isa::detect(), [_FMA] fn t(x: f64) -> (f64, f64) {
        tanh_sech2_inline(x)
    })
}

/// out_i = tanh(x_i) for every i ([`tanh_inline`] vectorised with the [`Isa::detect`] copy:
/// AVX-512, AVX2+FMA or generic; the same bits as [`tanh`] on every copy).
pub fn tanh_slice(x: &[f64], out: &mut [f64]) {
    tanh_slice_isa(Isa::detect(), x, out)
}

/// [`tanh_slice`] with the copy for `isa` (for tests and benchmarks of each instruction set).
pub fn tanh_slice_isa(isa: Isa, x: &[f64], out: &mut [f64]) {
    crate::isa_dispatch!(isa, [_FMA] fn body(x: &[f64], out: &mut [f64]) -> () {
        for (o, v) in out.iter_mut().zip(x) {
            *o = tanh_inline(*v);
        }
    })
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

    /// Distance in units in the last place between two finite doubles.
    fn ulps(a: f64, b: f64) -> u64 {
        let key = |v: f64| {
            let i = v.to_bits() as i64;
            if i < 0 {
                i64::MIN - i
            } else {
                i
            }
        };
        key(a).abs_diff(key(b))
    }

    /// Arguments: every binade from 2⁻¹⁰⁷⁴ to 2⁹ densely, both signs, plus special points.
    fn arguments() -> Vec<f64> {
        let mut v = vec![
            0.0,
            f64::MIN_POSITIVE,
            5e-324,
            1e-300,
            1e-20,
            1e-8,
            0.1,
            0.5,
        ];
        let mut state = 0x1234_5678_9abc_def0u64;
        for e in -1074..9 {
            for _ in 0..2000 {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let m = 1.0 + (state >> 11) as f64 / (1u64 << 53) as f64;
                v.push(m * 2f64.powi(e));
            }
        }
        // dense where the reduction switches k (|x| near multiples of ln2/4) and near saturation
        for i in 0..200_000 {
            v.push(i as f64 * 1e-4);
        }
        let neg: Vec<f64> = v.iter().map(|x| -x).collect();
        v.extend(neg);
        v
    }

    #[test]
    fn tanh_ulp_bound() {
        let mut worst = (0u64, 0.0);
        for x in arguments() {
            let (a, b) = (tanh(x), x.tanh());
            let u = ulps(a, b);
            if u > worst.0 {
                worst = (u, x);
            }
            assert_eq!(tanh_inline(x).to_bits(), a.to_bits());
        }
        // the vectorised slice version gives the same bits
        let xs = arguments();
        let mut out = vec![0.0; xs.len()];
        for isa in Isa::all_available() {
            tanh_slice_isa(isa, &xs, &mut out);
            for (x, o) in xs.iter().zip(&out) {
                assert_eq!(o.to_bits(), tanh(*x).to_bits(), "{x} on {isa:?}");
            }
        }
        assert!(worst.0 <= 3, "max {} ulp at x = {:e}", worst.0, worst.1);
    }

    #[test]
    fn tanh_special_values() {
        assert_eq!(tanh(0.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(tanh(-0.0).to_bits(), (-0.0f64).to_bits());
        assert_eq!(tanh(5e-324), 5e-324);
        assert_eq!(tanh(-1e-300), -1e-300);
        for &x in &[
            19.1,
            20.0,
            25.0,
            100.0,
            354.0,
            1e5,
            1e300,
            f64::MAX,
            f64::INFINITY,
        ] {
            assert_eq!(tanh(x), 1.0, "{x}");
            assert_eq!(tanh(-x), -1.0, "{x}");
            let (_, s) = tanh_sech2(x);
            assert!((0.0..2e-16).contains(&s), "{x}: {s}");
        }
        assert!(tanh(f64::NAN).is_nan());
        assert!(tanh(-f64::NAN).is_nan());
        let (t, s) = tanh_sech2(f64::NAN);
        assert!(t.is_nan() && s.is_nan());
    }

    #[test]
    fn tanh_is_exactly_odd_and_sech2_even() {
        for x in arguments() {
            assert_eq!(tanh(-x).to_bits(), (-tanh(x)).to_bits());
            let (t, s) = tanh_sech2(x);
            let (tm, sm) = tanh_sech2(-x);
            assert_eq!(t.to_bits(), tanh(x).to_bits());
            assert_eq!(tm.to_bits(), (-t).to_bits());
            assert_eq!(sm.to_bits(), s.to_bits());
        }
    }

    #[test]
    fn sech2_ulp_bound() {
        // reference: 1/cosh² in libm, accurate to ~2 ulp where it does not underflow
        let mut worst = (0u64, 0.0);
        for x in arguments() {
            if x.abs() > 354.0 {
                continue;
            }
            let c = libm::cosh(x);
            let reference = 1.0 / (c * c);
            if reference < 1e-300 {
                continue;
            }
            let u = ulps(tanh_sech2(x).1, reference);
            if u > worst.0 {
                worst = (u, x);
            }
        }
        assert!(worst.0 <= 8, "max {} ulp at x = {:e}", worst.0, worst.1);
    }

    #[test]
    fn piecewise_linear_values_slopes_and_errors() {
        // MMN's σ: t₁ = 0.5, t₂ = 1.5, s₁ = −2.5, s₂ = 7.5 (slope 10 in between)
        let a = Activation::piecewise_linear(0.5, 1.5, -2.5, 7.5).unwrap();
        for (z, v, d) in [
            (-3.0, -2.5, 0.0),
            (0.5, -2.5, 0.0),
            (0.75, 0.0, 10.0),
            (1.0, 2.5, 10.0),
            (1.5, 7.5, 0.0),
            (9.0, 7.5, 0.0),
        ] {
            assert_eq!(a.value(z), v, "{z}");
            assert_eq!(a.value_deriv(z), (v, d), "{z}");
        }
        // the relu form s₁ + k[relu(z − t₁) − relu(z − t₂)] agrees to rounding
        for i in 0..400 {
            let z = -1.0 + i as f64 * 0.01;
            let relu = |u: f64| u.max(0.0);
            let r = -2.5 + 10.0 * (relu(z - 0.5) - relu(z - 1.5));
            assert!((a.value(z) - r).abs() < 1e-14, "{z}");
        }
        // finite differences away from the kinks
        for &z in &[-0.3, 0.7, 1.2, 2.0] {
            let e = 1e-6;
            let fd = (a.value(z + e) - a.value(z - e)) / (2.0 * e);
            assert!((fd - a.value_deriv(z).1).abs() < 1e-7, "{z}");
        }
        assert_eq!(a.name(), "piecewise_linear");
        assert_eq!(a.kinks(), vec![0.5, 1.5]);
        assert!(Activation::piecewise_linear(1.0, 1.0, 0.0, 1.0).is_err());
        assert!(Activation::piecewise_linear(0.0, f64::NAN, 0.0, 1.0).is_err());
        let e = Activation::parse("piecewise_linear")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unit.breaks") && e.contains("unit.levels"),
            "{e}"
        );
    }

    #[test]
    fn unknown_name_lists_valid_ones() {
        let e = Activation::parse("gelu").unwrap_err().to_string();
        assert!(e.contains("gelu") && e.contains("tanh, relu, sigmoid, erf, softplus, linear"));
    }
}
