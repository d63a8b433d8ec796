//! The TOML configuration: one struct per table, unknown keys rejected, defaults stated.
//!
//! Every key is documented in `docs/config.md`; the defaults below are the ones listed there.

use serde::{Deserialize, Serialize};

/// Declares a config choice: a unit-variant enum read from and written as its snake_case
/// name (`"explicit"`), so a misspelled value is rejected when the config is read, naming
/// the key and the valid values; `Display` prints the same name.
macro_rules! choice {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $s:literal),+ $(,)? } default $d:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vm])* #[doc = concat!("`\"", $s, "\"`")] $v,)+
        }
        impl $name {
            /// The name as written in the config.
            pub fn name(self) -> &'static str {
                match self { $($name::$v => $s,)+ }
            }
        }
        impl Default for $name {
            fn default() -> Self {
                $name::$d
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

choice!(
    /// `problem.loss`.
    LossKind { Squared = "squared", Logistic = "logistic" } default Squared
);
choice!(
    /// `solver.scheme`: finite volumes or Fourier pseudo-spectral (fully periodic grids).
    Scheme { Fv = "fv", Spectral = "spectral" } default Fv
);
choice!(
    /// `solver.stepper` of the FV scheme.
    StepperKind { Explicit = "explicit", Implicit = "implicit", Mprk22 = "mprk22" } default Explicit
);
choice!(
    /// `solver.positivity` of the spectral scheme.
    Positivity { None = "none", Clip = "clip" } default None
);
choice!(
    /// `solver.interaction`: how Ψ is computed.
    InteractionKind { Auto = "auto", Fft = "fft", Direct = "direct" } default Auto
);
choice!(
    /// `particles.gradient`.
    GradientKind { Exact = "exact", Minibatch = "minibatch" } default Exact
);
choice!(
    /// `particles.schedule`: η_k = η ξ(t_k).
    ScheduleKind { Constant = "constant", InverseTime = "inverse_time" } default Constant
);
choice!(
    /// `compare.control`: the variance reduction of the gap.
    ControlKind { Adjoint = "adjoint", Coupled = "coupled", None = "none" } default Adjoint
);

/// A whole configuration file.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    /// `[problem]`.
    pub problem: ProblemCfg,
    /// `[unit]`.
    pub unit: UnitCfg,
    /// `[data]`.
    pub data: DataCfg,
    #[serde(default)]
    /// `[teacher]`.
    pub teacher: Option<TeacherCfg>,
    #[serde(default)]
    /// `[grid]`.
    pub grid: Option<GridCfg>,
    #[serde(default)]
    /// `[init]`.
    pub init: Option<InitCfg>,
    #[serde(default)]
    /// `[solver]`.
    pub solver: Option<SolverCfg>,
    #[serde(default)]
    /// `[particles]`.
    pub particles: Option<ParticlesCfg>,
    #[serde(default)]
    /// `[compare]`.
    pub compare: Option<CompareCfg>,
    #[serde(default)]
    /// `[stationary]`.
    pub stationary: Option<StationaryCfg>,
    #[serde(default)]
    /// `[output]`.
    pub output: OutputCfg,
}

/// `[problem]`: temperature, weight decay and loss.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ProblemCfg {
    /// T ≥ 0 (default 0).
    pub temperature: f64,
    /// λ ≥ 0 (default 0).
    pub lambda: f64,
    /// "squared" (default) or "logistic".
    pub loss: LossKind,
}

impl Default for ProblemCfg {
    fn default() -> Self {
        ProblemCfg {
            temperature: 0.0,
            lambda: 0.0,
            loss: LossKind::Squared,
        }
    }
}

/// `[unit]` (and `[teacher.unit]`): the neuron σ(x; θ).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct UnitCfg {
    /// "ridge" (default) or "periodic".
    #[serde(default = "ridge")]
    pub kind: String,
    /// Ridge: tanh, relu, sigmoid, erf, softplus, linear (default tanh).
    #[serde(default = "tanh")]
    pub activation: String,
    /// Ridge: "w", "a_w" or "w_b" (default "w"); rbf: "y", "y_c" (the default) or "y_s".
    #[serde(default = "w")]
    pub param: String,
    /// Input dimension d (default 1).
    #[serde(default = "one")]
    pub input_dim: usize,
    /// Periodic: "gaussian" (wrapped Gaussian) or "dirichlet" (default "dirichlet").
    #[serde(default)]
    pub kernel: Option<String>,
    /// Periodic gaussian and rbf: width s > 0.
    #[serde(default)]
    pub width: Option<f64>,
    /// Periodic dirichlet: number of frequencies L ≥ 0 (φ = 1 + 2Σ_{l≤L} cos(l u)).
    #[serde(default)]
    pub frequencies: Option<usize>,
    /// Periodic: Fourier coefficients c_0..c_L instead of `frequencies` (φ = c_0 + 2Σ c_l cos(l u)).
    #[serde(default)]
    pub coeffs: Option<Vec<f64>>,
    /// Periodic: θ = (a, position) with σ = a·φ(x − position) (default false).
    #[serde(default)]
    pub weighted: bool,
    /// Ridge, `activation = "piecewise_linear"`: the kinks [t₁, t₂], t₁ < t₂.
    #[serde(default)]
    pub breaks: Option<Vec<f64>>,
    /// Ridge, `activation = "piecewise_linear"`: the levels [s₁, s₂] (σ = s₁ for z ≤ t₁, s₂ for
    /// z ≥ t₂, linear in between).
    #[serde(default)]
    pub levels: Option<Vec<f64>>,
}

fn ridge() -> String {
    "ridge".into()
}
fn tanh() -> String {
    "tanh".into()
}
fn w() -> String {
    "w".into()
}
fn one() -> usize {
    1
}

/// `[data]`: the weighted (x, y) point set.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DataCfg {
    /// gaussian | two_class | torus | interval | csv | samples
    pub kind: String,
    /// gaussian/two_class: "hermite" (default) or "legendre" (composite, on [−truncate, truncate]);
    /// gaussian: "closed_form" — erf ridge units on x ~ N(0, 1) (d = 1, θ = w or (a, w)): grid
    /// runs use Ψ and R in closed form (no quadrature error, O(n_w²) per call, n_w ≤ 20 000
    /// w cells, rates included); particles use `nodes` Gauss–Hermite nodes.
    #[serde(default)]
    pub quadrature: Option<String>,
    /// Quadrature nodes per axis (hermite, torus, interval; default 40), or per panel (legendre; default 8).
    #[serde(default)]
    pub nodes: Option<usize>,
    /// legendre: number of panels (default 32).
    #[serde(default)]
    pub panels: Option<usize>,
    /// legendre: truncation L of the line (default 8).
    #[serde(default)]
    pub truncate: Option<f64>,
    /// gaussian: input covariance C (d × d, default I).
    #[serde(default)]
    pub cov: Option<Vec<Vec<f64>>>,
    /// two_class: Δ, x | y ~ N(0, (1 + yΔ)² I).
    #[serde(default)]
    pub delta: Option<f64>,
    /// interval: bounds (default [-1, 1]).
    #[serde(default)]
    pub lo: Option<f64>,
    #[serde(default)]
    /// interval: upper bound (default 1).
    pub hi: Option<f64>,
    /// interval: weights sum to (hi − lo)^d (Lebesgue measure) instead of 1 (default false).
    #[serde(default)]
    pub lebesgue: bool,
    /// csv: path (relative to the config file).
    #[serde(default)]
    pub path: Option<String>,
    /// samples: number of points n.
    #[serde(default)]
    pub n: Option<usize>,
    /// samples: seed (default 0).
    #[serde(default)]
    pub seed: Option<u64>,
    /// samples: "gaussian" (default) or "two_class".
    #[serde(default)]
    pub law: Option<String>,
    /// Standard deviation of Gaussian label noise (default 0): adds its square to R.
    #[serde(default)]
    pub noise: f64,
}

/// `[teacher]`: y(x) = Σ_j c_j σ_t(x; θ_j).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TeacherCfg {
    /// Teacher neurons θ_j, one row each (length D_t).
    pub theta: Vec<Vec<f64>>,
    /// Output weights c_j (default: all 1/J).
    #[serde(default)]
    pub coeffs: Option<Vec<f64>>,
    /// The teacher's unit (default: the student's).
    #[serde(default)]
    pub unit: Option<UnitCfg>,
}

/// `[grid]`: the θ box for the PDE solvers.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GridCfg {
    /// Lower corner, one value per θ axis.
    pub lo: Vec<f64>,
    /// Upper corner.
    pub hi: Vec<f64>,
    /// Cells per axis.
    pub cells: Vec<usize>,
    /// "noflux" (default) or "periodic", per axis.
    #[serde(default)]
    pub boundary: Option<Vec<String>>,
}

/// `[init]`: the initial law ρ₀.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct InitCfg {
    /// gaussian | uniform | mixture | snapshot | particles
    pub kind: String,
    /// gaussian: mean (length D).
    #[serde(default)]
    pub mean: Option<Vec<f64>>,
    /// gaussian: covariance (D × D) — or `std` for an isotropic one.
    #[serde(default)]
    pub cov: Option<Vec<Vec<f64>>>,
    #[serde(default)]
    /// gaussian, mixture: isotropic standard deviation instead of `cov`/`covs`.
    pub std: Option<f64>,
    /// uniform: box (default: the grid's).
    #[serde(default)]
    pub lo: Option<Vec<f64>>,
    #[serde(default)]
    /// uniform: upper corner (default: the grid's).
    pub hi: Option<Vec<f64>>,
    /// mixture: weights, means and covariances (or `std`) of the components.
    #[serde(default)]
    pub weights: Option<Vec<f64>>,
    #[serde(default)]
    /// mixture: component means (one row each).
    pub means: Option<Vec<Vec<f64>>>,
    #[serde(default)]
    /// mixture: component covariances (or `std`).
    pub covs: Option<Vec<Vec<Vec<f64>>>>,
    /// snapshot: an earlier mfl output file and the snapshot index (default: the last).
    /// particles: an earlier `mfl particles` output; `index` = a `/particles/positions` record
    /// (default: `/particles/final_theta`).
    #[serde(default)]
    pub file: Option<String>,
    #[serde(default)]
    /// snapshot / particles: which record of the file (default: the last).
    pub index: Option<usize>,
}

/// `[solver]`: the PDE time stepping.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SolverCfg {
    /// "fv" (default) or "spectral" (Fourier pseudo-spectral ETDRK4, fully periodic grids).
    #[serde(default)]
    pub scheme: Scheme,
    /// "explicit" (SSP-RK3, adaptive dt; default), "implicit" (linearly implicit Euler, first
    /// order) or "mprk22" (modified Patankar–Runge–Kutta: second order, positive and
    /// conservative for every dt; error-controlled steps by default).
    #[serde(default)]
    pub stepper: StepperKind,
    /// explicit: fraction of the positivity limit (default 0.5, in (0, 1]).
    #[serde(default = "half")]
    pub cfl: f64,
    /// implicit, spectral: the time step; mprk22: fixed steps without `rtol`, else the first
    /// step the error control tries.
    #[serde(default)]
    pub dt: Option<f64>,
    /// Richardson/Romberg in the grid: 1 (default, off), 2 (grids h, h/2) or 3 (h, h/2, h/4);
    /// the output holds the finest run and `/extrapolated/*`, `/error_estimate/*`.
    #[serde(default)]
    pub extrapolate: Option<usize>,
    /// mprk22: relative tolerance of the error-controlled steps (default 1e-6 unless only `dt`
    /// is given).
    #[serde(default)]
    pub rtol: Option<f64>,
    /// mprk22: absolute tolerance, in density units (default rtol·max ρ₀: errors are measured
    /// against the density's peak, so the far tails do not dictate the steps).
    #[serde(default)]
    pub atol: Option<f64>,
    /// Final time.
    pub t_end: f64,
    /// Abort when dt falls below this (default 1e-12).
    #[serde(default = "dt_min")]
    pub dt_min: f64,
    /// spectral: "none" (default) or "clip" (mass-conserving clipping of negative values).
    #[serde(default)]
    pub positivity: Positivity,
    /// How Ψ is computed: "auto" (default: FFT for convolution-type problems), "fft", "direct".
    #[serde(default)]
    pub interaction: InteractionKind,
}

fn half() -> f64 {
    0.5
}
fn dt_min() -> f64 {
    1e-12
}

/// `[particles]`: the N-neuron noisy SGD.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ParticlesCfg {
    /// Number of neurons N.
    pub n: usize,
    /// Number of independent seeds (default 1).
    #[serde(default = "one")]
    pub seeds: usize,
    /// First seed (default 0); seed s runs with seed + s.
    #[serde(default)]
    pub seed: u64,
    /// Step size η > 0.
    pub eta: f64,
    /// Final time t_end (steps = t_end/η).
    pub t_end: f64,
    /// "exact" (population/full-batch gradient; default) or "minibatch".
    #[serde(default)]
    pub gradient: GradientKind,
    /// minibatch: B fresh samples per step.
    #[serde(default)]
    pub batch: Option<usize>,
    /// η schedule: "constant" (default) or "inverse_time" (ξ(t) = 1/(1 + t/t0)).
    #[serde(default)]
    pub schedule: Option<ScheduleKind>,
    #[serde(default)]
    /// inverse_time: t0 > 0 of ξ(t) = 1/(1 + t/t0).
    pub t0: Option<f64>,
    /// Keep particles in the grid's box (reflect at no-flux walls, wrap periodic axes).
    /// Default: true when a `[grid]` is given and D ≤ 2.
    #[serde(default)]
    pub confine: Option<bool>,
    /// Record particle positions at the output times (default false).
    #[serde(default)]
    pub positions: bool,
}

/// `[compare]`: the N sweep of `mfl compare`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CompareCfg {
    /// The values of N (or give `n_min`, `n_max`, `n_factor`).
    #[serde(default)]
    pub n: Option<Vec<usize>>,
    /// Geometric range: N = n_min, n_min·n_factor, … ≤ n_max.
    #[serde(default)]
    pub n_min: Option<usize>,
    #[serde(default)]
    /// Geometric range: the largest N.
    pub n_max: Option<usize>,
    /// Ratio of the geometric range (default 2).
    #[serde(default)]
    pub n_factor: Option<usize>,
    /// Seeds per N (the same seeds for every N: common random numbers).
    pub seeds: usize,
    /// First seed (default 0).
    #[serde(default)]
    pub seed: u64,
    /// Record times (default: the `[output]` snapshot times up to `particles.t_end`).
    #[serde(default)]
    pub times: Option<Vec<f64>>,
    /// Variance reduction: "adjoint" (default; the exactly zero-mean linear-response control
    /// variate at every record time — any loss, exact or minibatch gradients), "coupled"
    /// (t > 0; squared loss, exact gradients) or "none".
    #[serde(default)]
    pub control: ControlKind,
    /// Compute the error budget: PDE on a grid refined ×2 (Richardson) and the largest N at
    /// η/2 (default true).
    #[serde(default = "yes")]
    pub budget: bool,
    /// Distances between particles and ρ_t (W1 in 1D, sliced W1 in 2D; default true).
    #[serde(default = "yes")]
    pub distances: bool,
    /// T > 0: the record times ≥ this count as equilibrium; the gaps of R and E are then also
    /// averaged over them per seed and compared with the PDE's stationary state (default: off).
    #[serde(default)]
    pub equilibrium_from: Option<f64>,
}

fn yes() -> bool {
    true
}

/// `[stationary]`: the fixed-point solver of `mfl stationary` (all keys optional).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StationaryCfg {
    /// Stop when Σ|ρ − e^{−Ψ(ρ)/T}/Z||cell| ≤ tol (default 1e-12).
    #[serde(default = "stat_tol")]
    pub tol: f64,
    /// Most Ψ updates per temperature (default 1000).
    #[serde(default = "stat_max_iter")]
    pub max_iter: usize,
    /// Damping β ∈ (0, 1] of Ψ ← Ψ + β(G(Ψ) − Ψ) (default 0.5).
    #[serde(default = "half")]
    pub damping: f64,
    /// Anderson depth: differences kept (default 10; 0 = damped Picard).
    #[serde(default = "stat_anderson")]
    pub anderson: usize,
    /// Temperatures T₁ > T₂ > … > 0, each warm-started from the previous
    /// (default: [problem.temperature]).
    #[serde(default)]
    pub temperatures: Option<Vec<f64>>,
    /// Predicted rate: the slowest mode of the linearised scheme at each ρ* (default true).
    #[serde(default = "yes")]
    pub rates: bool,
    /// Lanczos vectors kept before a restart (default 300).
    #[serde(default = "stat_krylov")]
    pub krylov_dim: usize,
    /// Relative a-posteriori bound on the slowest eigenvalue (default 1e-8).
    #[serde(default = "stat_rate_tol")]
    pub rate_tol: f64,
}

fn stat_tol() -> f64 {
    1e-12
}
fn stat_max_iter() -> usize {
    1000
}
fn stat_anderson() -> usize {
    10
}
fn stat_krylov() -> usize {
    300
}
fn stat_rate_tol() -> f64 {
    1e-8
}

impl Default for StationaryCfg {
    fn default() -> Self {
        StationaryCfg {
            tol: stat_tol(),
            max_iter: stat_max_iter(),
            damping: half(),
            anderson: stat_anderson(),
            temperatures: None,
            rates: true,
            krylov_dim: stat_krylov(),
            rate_tol: stat_rate_tol(),
        }
    }
}

/// `[output]`: when to record.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct OutputCfg {
    /// Number of equispaced snapshot times in [0, t_end], both ends included (default 11).
    pub snapshots: usize,
    /// Explicit snapshot times (overrides `snapshots`).
    pub times: Option<Vec<f64>>,
    /// Diagnostics interval in time units (default t_end/200).
    pub diagnostics_every: Option<f64>,
    /// `mfl solve`, T > 0: at each snapshot the Poincaré constant's inverse (spectral gap of
    /// the SG generator) of the proximal Gibbs measure e^{−Ψ(·; ρ_t)/T}/Z (default false).
    pub proximal_gap: bool,
}

impl Default for OutputCfg {
    fn default() -> Self {
        OutputCfg {
            snapshots: 11,
            times: None,
            diagnostics_every: None,
            proximal_gap: false,
        }
    }
}

impl Default for UnitCfg {
    fn default() -> Self {
        UnitCfg {
            kind: ridge(),
            activation: tanh(),
            param: w(),
            input_dim: 1,
            kernel: None,
            width: None,
            frequencies: None,
            coeffs: None,
            weighted: false,
            breaks: None,
            levels: None,
        }
    }
}

impl Default for DataCfg {
    fn default() -> Self {
        DataCfg {
            kind: "gaussian".into(),
            quadrature: None,
            nodes: None,
            panels: None,
            truncate: None,
            cov: None,
            delta: None,
            lo: None,
            hi: None,
            lebesgue: false,
            path: None,
            n: None,
            seed: None,
            law: None,
            noise: 0.0,
        }
    }
}
