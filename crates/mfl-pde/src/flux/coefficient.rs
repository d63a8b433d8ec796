//! The Scharfetter–Gummel face coefficient A(a) = T·B(a/T) = a/expm1(a/T) (B the Bernoulli
//! function), its derivative, and the branch-free pair (A(a), A(−a)) the hot loops use.

use mfl_core::simd::exp_expm1_neg;

/// A(a) = a/expm1(a/T) (A(0) = T) for T > 0; max(−a, 0) for T = 0.
///
/// Evaluated without 0/0 (series 1 − z/2 + z²/12 for |z| < 1e-5, z = a/T) and without
/// overflow: A(a) = −a for z < −37 (where e^z < 1e-16) and A(a) = a·e^{−z} for z > 700.
#[inline]
pub fn sg_coefficient(a: f64, temperature: f64) -> f64 {
    if temperature == 0.0 {
        return (-a).max(0.0);
    }
    let z = a / temperature;
    if z.abs() < 1e-5 {
        temperature * (1.0 - 0.5 * z + z * z / 12.0)
    } else if z < -37.0 {
        -a
    } else if z > 700.0 {
        a * (-z).exp()
    } else {
        a / z.exp_m1()
    }
}

/// A'(a) = d/da [a/expm1(a/T)] = B'(a/T), B(z) = z/(e^z − 1): the sensitivity of a face
/// flux to the potential difference, J = (1/h)[A(ΔΨ)ρ_L − A(−ΔΨ)ρ_R] ⇒
/// ∂J/∂ΔΨ = (1/h)[A'(ΔΨ)ρ_L + A'(−ΔΨ)ρ_R] (the linearised scheme and its adjoint use it).
///
/// B'(z) = (u − z(u + 1))/u² with u = expm1(z); the series −½ + z/6 − z³/180 for |z| < 10⁻³;
/// e^{−z}(1 − z) for z > 37 and −1 for z < −37 (to round-off). At T = 0, the derivative of
/// max(−a, 0): −1 for a < 0, 0 for a > 0, −½ at a = 0.
#[inline]
pub fn sg_coefficient_derivative(a: f64, temperature: f64) -> f64 {
    if temperature == 0.0 {
        return if a < 0.0 {
            -1.0
        } else if a > 0.0 {
            0.0
        } else {
            -0.5
        };
    }
    let z = a / temperature;
    if z.abs() < 1e-3 {
        -0.5 + z / 6.0 - z * z * z / 180.0
    } else if z < -37.0 {
        -1.0
    } else if z > 37.0 {
        (-z).exp() * (1.0 - z)
    } else {
        let u = z.exp_m1();
        (u - z * (u + 1.0)) / (u * u)
    }
}

/// (A(a), A(−a)) for T > 0 (`inv_t` = 1/T) from a single exponential, branch-free:
/// with z = |a|/T, B(−z) = z/(1 − e^{−z}) and B(z) = B(−z)·e^{−z} (so A(−a) = A(a) + a and
/// A(−a)e^{−a/T} = A(a) hold to round-off, and neither coefficient loses relative accuracy),
/// the series 1 ∓ z/2 + z²/12 for z < 1e-5, and B(z) = 0 beyond z = 708 (true value < 1e-304).
/// Agrees with [`sg_coefficient`] to a few ulp; this is the form the hot loops use.
#[inline(always)]
pub fn sg_pair(a: f64, temperature: f64, inv_t: f64) -> (f64, f64) {
    sg_pair_impl::<false>(a, temperature, inv_t)
}

/// [`sg_pair`] with [`mfl_core::simd::madd`]`::<FMA>` in the exponential (`FMA = true` on the AVX copies of
/// the kernel, where each multiply–add of the polynomial rounds once).
#[inline(always)]
pub(crate) fn sg_pair_impl<const FMA: bool>(a: f64, temperature: f64, inv_t: f64) -> (f64, f64) {
    let z = a * inv_t;
    let az = z.abs();
    let (e, em1) = exp_expm1_neg::<FMA>(-az.min(708.0));
    let series = az < 1e-5;
    let s2 = az * az * (1.0 / 12.0);
    let big = if series {
        1.0 + 0.5 * az + s2
    } else {
        az / -em1
    };
    let small = if series {
        1.0 - 0.5 * az + s2
    } else if az > 708.0 {
        0.0
    } else {
        big * e
    };
    let (big, small) = (temperature * big, temperature * small);
    if z >= 0.0 {
        (small, big)
    } else {
        (big, small)
    }
}
