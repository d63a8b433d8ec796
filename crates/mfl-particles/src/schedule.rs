//! Step-size and temperature schedules, both functions of the time t_k = Σ_{j<k} η_j.

use crate::error::ParticleError;

/// Step-size schedule: η_k = η · ξ(t_k).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum StepSchedule {
    /// ξ(t) = 1.
    #[default]
    Constant,
    /// ξ(t) = 1/(1 + t/t0) (Robbins–Monro: Σ η_k = ∞, Σ η_k² < ∞ in steps).
    InverseTime {
        /// Time scale t0 > 0.
        t0: f64,
    },
    /// ξ(t) = 1/√(1 + t/t0).
    InverseSqrtTime {
        /// Time scale t0 > 0.
        t0: f64,
    },
}

impl StepSchedule {
    /// ξ(t).
    pub fn factor(&self, t: f64) -> f64 {
        match *self {
            StepSchedule::Constant => 1.0,
            StepSchedule::InverseTime { t0 } => 1.0 / (1.0 + t / t0),
            StepSchedule::InverseSqrtTime { t0 } => 1.0 / (1.0 + t / t0).sqrt(),
        }
    }

    /// Check t0 > 0 finite.
    pub fn validate(&self) -> Result<(), ParticleError> {
        match *self {
            StepSchedule::Constant => Ok(()),
            StepSchedule::InverseTime { t0 } | StepSchedule::InverseSqrtTime { t0 } => {
                positive("step_schedule.t0", t0)
            }
        }
    }
}

/// Temperature schedule T_k = T(t_k) ≥ 0 (T = 0: plain gradient descent, no noise).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Temperature {
    /// T(t) = T.
    Constant(f64),
    /// T(t) = T0/(1 + t/t0).
    InverseTime {
        /// T0 = T(0) ≥ 0.
        initial: f64,
        /// Time scale t0 > 0.
        t0: f64,
    },
    /// T(t) = T0 e^{−t/τ}: geometric cooling T_{k+1} = q T_k with q = e^{−η/τ} at constant η.
    Exponential {
        /// T0 = T(0) ≥ 0.
        initial: f64,
        /// Decay time τ > 0.
        tau: f64,
    },
    /// T(t) = c / ln(e + t/t0): the classical logarithmic annealing schedule.
    Logarithmic {
        /// c = T(0) ≥ 0.
        c: f64,
        /// Time scale t0 > 0.
        t0: f64,
    },
}

impl Default for Temperature {
    fn default() -> Self {
        Temperature::Constant(0.0)
    }
}

impl Temperature {
    /// T(t).
    pub fn at(&self, t: f64) -> f64 {
        match *self {
            Temperature::Constant(v) => v,
            Temperature::InverseTime { initial, t0 } => initial / (1.0 + t / t0),
            Temperature::Exponential { initial, tau } => initial * (-t / tau).exp(),
            Temperature::Logarithmic { c, t0 } => c / (std::f64::consts::E + t / t0).ln(),
        }
    }

    /// Check T ≥ 0 and time scales > 0, all finite.
    pub fn validate(&self) -> Result<(), ParticleError> {
        match *self {
            Temperature::Constant(v) => non_negative("temperature", v),
            Temperature::InverseTime { initial, t0 } => {
                non_negative("temperature.initial", initial)?;
                positive("temperature.t0", t0)
            }
            Temperature::Exponential { initial, tau } => {
                non_negative("temperature.initial", initial)?;
                positive("temperature.tau", tau)
            }
            Temperature::Logarithmic { c, t0 } => {
                non_negative("temperature.c", c)?;
                positive("temperature.t0", t0)
            }
        }
    }
}

fn positive(what: &str, v: f64) -> Result<(), ParticleError> {
    if v > 0.0 && v.is_finite() {
        Ok(())
    } else {
        Err(ParticleError::invalid(
            what,
            format!("must be finite and > 0, got {v}"),
        ))
    }
}

fn non_negative(what: &str, v: f64) -> Result<(), ParticleError> {
    if v >= 0.0 && v.is_finite() {
        Ok(())
    } else {
        Err(ParticleError::invalid(
            what,
            format!("must be finite and ≥ 0, got {v}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_have_their_formulas() {
        assert_eq!(StepSchedule::Constant.factor(7.0), 1.0);
        assert!((StepSchedule::InverseTime { t0: 2.0 }.factor(6.0) - 0.25).abs() < 1e-15);
        assert!((StepSchedule::InverseSqrtTime { t0: 1.0 }.factor(3.0) - 0.5).abs() < 1e-15);
        let t = Temperature::InverseTime {
            initial: 0.4,
            t0: 1.0,
        };
        assert!((t.at(3.0) - 0.1).abs() < 1e-15);
        let e = Temperature::Exponential {
            initial: 2.0,
            tau: 0.5,
        };
        assert!((e.at(1.0) - 2.0 * (-2.0f64).exp()).abs() < 1e-15);
        let l = Temperature::Logarithmic { c: 1.0, t0: 1.0 };
        assert!((l.at(0.0) - 1.0).abs() < 1e-15);
        assert!(StepSchedule::InverseTime { t0: 0.0 }.validate().is_err());
        assert!(Temperature::Constant(f64::NAN).validate().is_err());
    }
}
