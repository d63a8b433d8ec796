//! The one SIMD math module and the one run-time instruction-set dispatch of mfl.
//!
//! * [`Isa`]: the instruction set a kernel runs with, detected once per process
//!   ([`Isa::detect`], overridable with `MFL_ISA=generic|avx2|avx512` for tests and
//!   benchmarks), and [`crate::isa_dispatch!`], which compiles one kernel body for each of
//!   them (`#[target_feature]` copies) and calls the copy for a given [`Isa`].
//! * The Cody–Waite exponential shared by every vectorised transcendental of the crate family
//!   (the tanh/sech² of [`crate::activation`] and the Scharfetter–Gummel coefficient of
//!   `mfl_pde::flux`): x = k ln2 + r with |r| ≤ ln2/2 ([`reduce`]), expm1(r) = r + r²P(r) by
//!   the Taylor polynomial to r¹³ ([`expm1_taylor`]), 2^k from the exponent bits
//!   ([`pow2_of_shifted`]), and the two compositions e^x, e^x − 1 ([`exp_expm1_neg`]).
//!
//! Everything is straight-line arithmetic (no table, no division, no branch), so loops over it
//! vectorise at whatever width the dispatched copy allows (2 lanes SSE2, 4 AVX2, 8 AVX-512).
//! `f64::mul_add` is exactly rounded, so a body that uses it returns the same bits on every
//! [`Isa`]; [`madd`] with `FMA = false` rounds twice (what the SG kernel's generic copy does).

use std::sync::OnceLock;

/// An instruction set a kernel can be compiled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Isa {
    /// The target's baseline (SSE2 on x86-64); `mul_add` may be a software call.
    Generic,
    /// AVX2 + FMA: 4 f64 lanes.
    Avx2,
    /// AVX-512F and AVX-512VL (+ AVX2, FMA): 8 f64 lanes, 32 vector registers at every width.
    Avx512,
}

impl Isa {
    /// Every instruction set, narrowest first.
    pub const ALL: [Isa; 3] = [Isa::Generic, Isa::Avx2, Isa::Avx512];

    /// Whether this CPU can run code compiled for `self`.
    pub fn available(self) -> bool {
        match self {
            Isa::Generic => true,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => {
                Isa::Avx2.available()
                    && std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512vl")
            }
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// The widest available instruction set, or the one named by the environment variable
    /// `MFL_ISA` (`generic`, `avx2`, `avx512`) when that one is available — determined once
    /// per process, so every kernel call of a run uses the same copy (results then do not
    /// depend on the thread count or on the call).
    pub fn detect() -> Isa {
        static CHOSEN: OnceLock<Isa> = OnceLock::new();
        *CHOSEN.get_or_init(|| {
            let best = Isa::ALL
                .into_iter()
                .rev()
                .find(|i| i.available())
                .unwrap_or(Isa::Generic);
            match std::env::var("MFL_ISA")
                .ok()
                .as_deref()
                .and_then(Isa::parse)
            {
                Some(i) if i.available() => i,
                _ => best,
            }
        })
    }

    /// `generic`, `avx2` or `avx512`.
    pub fn parse(name: &str) -> Option<Isa> {
        match name.trim().to_ascii_lowercase().as_str() {
            "generic" | "sse2" => Some(Isa::Generic),
            "avx2" => Some(Isa::Avx2),
            "avx512" | "avx512f" => Some(Isa::Avx512),
            _ => None,
        }
    }

    /// The name [`Isa::parse`] accepts.
    pub fn name(self) -> &'static str {
        match self {
            Isa::Generic => "generic",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
        }
    }

    /// The available instruction sets (for tests that compare every copy of a kernel).
    pub fn all_available() -> Vec<Isa> {
        Isa::ALL.into_iter().filter(|i| i.available()).collect()
    }
}

/// Compiles a kernel body once per [`Isa`] and calls the copy for `isa`.
///
/// ```ignore
/// isa_dispatch!(isa, [fma] fn kern<const D: usize>(x: &[f64], out: &mut [f64]) -> () {
///     body::<D, fma>(x, out)
/// })
/// ```
///
/// declares `generic`, `avx2` (`#[target_feature(enable = "avx2,fma")]`) and `avx512`
/// (`"avx512f,avx512vl,avx2,fma"`) functions with that signature whose body is the block, with the
/// `const` named in brackets (`fma` above) set to whether the copy has hardware FMA; the copies
/// only differ in the instructions the compiler may use. The caller's `isa` must be
/// [`Isa::available`]: [`Isa::detect`] or one checked by the caller (an unavailable one falls
/// back to the generic copy, never to an illegal instruction).
#[macro_export]
macro_rules! isa_dispatch {
    ($isa:expr, [$fma:ident] fn $name:ident $(<$(const $g:ident: $gt:ty),*>)?
        ($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty $body:block) => {{
        #[inline(always)]
        #[allow(clippy::too_many_arguments, non_upper_case_globals)]
        fn generic $(<$(const $g: $gt),*>)? ($($arg: $ty),*) -> $ret {
            const $fma: bool = false;
            $body
        }
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2,fma")]
        #[allow(clippy::too_many_arguments, non_upper_case_globals)]
        unsafe fn avx2 $(<$(const $g: $gt),*>)? ($($arg: $ty),*) -> $ret {
            const $fma: bool = true;
            $body
        }
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
        #[allow(clippy::too_many_arguments, non_upper_case_globals)]
        unsafe fn avx512 $(<$(const $g: $gt),*>)? ($($arg: $ty),*) -> $ret {
            const $fma: bool = true;
            $body
        }
        let isa: $crate::simd::Isa = $isa;
        match isa {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: the CPU has AVX-512F/VL, AVX2 and FMA (checked just before the call).
            $crate::simd::Isa::Avx512 if isa.available() => unsafe {
                avx512 $(::<$($g),*>)? ($($arg),*)
            },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: the CPU has AVX2 and FMA (checked just before the call).
            $crate::simd::Isa::Avx2 if isa.available() => unsafe {
                avx2 $(::<$($g),*>)? ($($arg),*)
            },
            _ => generic $(::<$($g),*>)? ($($arg),*),
        }
    }};
}

/// a·b + c: fused (one rounding) when `FMA`, else rounded twice.
#[inline(always)]
pub fn madd<const FMA: bool>(a: f64, b: f64, c: f64) -> f64 {
    if FMA {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// 1/(j+2)!, j = 0..11: expm1(r) = r + r² Σ_j r^j/(j+2)! (Taylor to r¹³; the truncation is
/// below 1.3·10⁻¹⁷ relative for |r| ≤ ln2/2).
pub const EXPM1_TAYLOR: [f64; 12] = [
    1.0 / 2.0,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5_040.0,
    1.0 / 40_320.0,
    1.0 / 362_880.0,
    1.0 / 3_628_800.0,
    1.0 / 39_916_800.0,
    1.0 / 479_001_600.0,
    1.0 / 6_227_020_800.0,
];
/// ln 2 split Cody–Waite style (fdlibm): LN2_HI has 32 trailing zero bits, so k·LN2_HI is exact
/// for |k| < 2²⁰.
pub const LN2_HI: f64 = 6.931_471_803_691_238e-1;
/// ln 2 − [`LN2_HI`].
pub const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
/// 1.5·2⁵²: adding it rounds to an integer and leaves that integer in the low mantissa bits.
pub const ROUND_SHIFT: f64 = 6_755_399_441_055_744.0;

/// Cody–Waite reduction x = k ln2 + r, |r| ≤ ln2/2 (+ rounding), for |x| ≤ 708: returns
/// (k + [`ROUND_SHIFT`], k, r) with k = round(x/ln2) (round-to-nearest by the shift trick).
///
/// `FUSED`: kd = fma(x, log₂e, shift), r = fma(−k, ln2_lo, fma(−k, ln2_hi, x)) (one rounding
/// per step); otherwise each product is rounded first (k·ln2_hi is exact either way, so the two
/// differ only in the last term and in rare ties of k).
#[inline(always)]
pub fn reduce<const FUSED: bool>(x: f64) -> (f64, f64, f64) {
    const L2E: f64 = std::f64::consts::LOG2_E;
    if FUSED {
        let kd = x.mul_add(L2E, ROUND_SHIFT);
        let k = kd - ROUND_SHIFT;
        let r = k.mul_add(-LN2_HI, x);
        (kd, k, k.mul_add(-LN2_LO, r))
    } else {
        let kd = x * L2E + ROUND_SHIFT;
        let k = kd - ROUND_SHIFT;
        (kd, k, (x - k * LN2_HI) - k * LN2_LO)
    }
}

/// expm1(r) = r + r²·P(r), P(r) = Σ_{j<12} r^j/(j+2)! by Horner's rule ([`EXPM1_TAYLOR`]),
/// with [`madd`]`::<FMA>` at every step; accurate to ~1 ulp for |r| ≤ ln2/2.
#[inline(always)]
pub fn expm1_taylor<const FMA: bool>(r: f64) -> f64 {
    let c = &EXPM1_TAYLOR;
    let mut p = c[11];
    for &cj in c[..11].iter().rev() {
        p = madd::<FMA>(p, r, cj);
    }
    madd::<FMA>(r * r, p, r)
}

/// 2^k for k ∈ [−1022, 1023] from kd = k + [`ROUND_SHIFT`] (k sits in kd's low mantissa
/// bits, so (bits(kd) + 1023) << 52 is the biased exponent of 2^k).
#[inline(always)]
pub fn pow2_of_shifted(kd: f64) -> f64 {
    f64::from_bits(kd.to_bits().wrapping_add(1023) << 52)
}

/// (e^x, e^x − 1) for x ∈ [−708, 0]: with x = k ln2 + r ([`reduce`] unfused) and
/// u = expm1(r) ([`expm1_taylor`]), e^x = 2^k u + 2^k and e^x − 1 = 2^k u + (2^k − 1), each by
/// one [`madd`]; both to a few ulp (relative), also for tiny |x| where k = 0 and
/// e^x − 1 = expm1(r) exactly. The form of the Scharfetter–Gummel coefficient
/// (`mfl_pde::flux::sg_pair`).
#[inline(always)]
pub fn exp_expm1_neg<const FMA: bool>(x: f64) -> (f64, f64) {
    let (kd, _, r) = reduce::<false>(x);
    let p = expm1_taylor::<FMA>(r);
    let scale = pow2_of_shifted(kd);
    (
        madd::<FMA>(scale, p, scale),
        madd::<FMA>(scale, p, scale - 1.0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taylor_coefficients_are_the_reciprocal_factorials() {
        let mut f = 2.0f64;
        for (j, c) in EXPM1_TAYLOR.iter().enumerate() {
            assert_eq!(*c, 1.0 / f, "j = {j}");
            f *= (j + 3) as f64;
        }
        // the literal table this module replaces
        assert_eq!(EXPM1_TAYLOR[1], 0.16666666666666666);
        assert_eq!(EXPM1_TAYLOR[7], 2.7557319223985893e-06);
        assert_eq!(EXPM1_TAYLOR[11], 1.6059043836821613e-10);
    }

    #[test]
    fn exp_expm1_is_accurate() {
        for fma in [false, true] {
            let mut x = -708.0;
            while x <= 0.0 {
                let (e, em) = if fma {
                    exp_expm1_neg::<true>(x)
                } else {
                    exp_expm1_neg::<false>(x)
                };
                assert!((e - x.exp()).abs() <= 4e-16 * x.exp(), "{x}");
                assert!((em - x.exp_m1()).abs() <= 4e-16 * x.exp_m1().abs(), "{x}");
                x += 0.0173;
            }
            for x in [-1e-300, -1e-12, -1e-6, -0.3] {
                let (_, em) = exp_expm1_neg::<true>(x);
                assert!((em - x.exp_m1()).abs() <= 4e-16 * x.exp_m1().abs(), "{x}");
            }
        }
    }

    #[test]
    fn dispatch_runs_every_available_copy() {
        fn sum(isa: Isa, x: &[f64]) -> f64 {
            crate::isa_dispatch!(isa, [FMA] fn s(x: &[f64]) -> f64 {
                x.iter().fold(0.0, |a, &v| madd::<FMA>(v, v, a))
            })
        }
        let x: Vec<f64> = (0..100).map(|i| i as f64 * 0.37).collect();
        let want = sum(Isa::Generic, &x);
        assert!(Isa::all_available().contains(&Isa::detect()));
        for isa in Isa::all_available() {
            assert!((sum(isa, &x) - want).abs() <= 1e-12 * want);
        }
        assert_eq!(Isa::parse("AVX2"), Some(Isa::Avx2));
        assert_eq!(Isa::parse(Isa::Avx512.name()), Some(Isa::Avx512));
    }
}
