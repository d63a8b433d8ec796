//! A progress bar over model time (indicatif), silent with `--quiet` or when stderr is not a
//! terminal — the one bar of every command, attached to runs as an observer. A host (the
//! Python package) can also receive every update through [`set_sink`] to draw its own bar.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::sync::{Arc, RwLock};

/// Receives `(what, fraction done in [0, 1], message)` at every update of any bar.
pub type Sink = Arc<dyn Fn(&str, f64, &str) + Send + Sync>;

static SINK: RwLock<Option<Sink>> = RwLock::new(None);

/// Install (or with `None` remove) the process-wide receiver of progress updates.
pub fn set_sink(sink: Option<Sink>) {
    *SINK.write().unwrap_or_else(|e| e.into_inner()) = sink;
}

/// Progress of a run from t = 0 to t_end.
pub struct Progress {
    bar: ProgressBar,
    t_end: f64,
    what: String,
}

const TICKS: u64 = 10_000;

impl Progress {
    /// A bar labelled `what`; hidden when `quiet`.
    pub fn new(t_end: f64, quiet: bool, what: &str) -> Self {
        let bar = if quiet {
            ProgressBar::hidden()
        } else {
            let b = ProgressBar::with_draw_target(Some(TICKS), ProgressDrawTarget::stderr());
            b.set_style(
                ProgressStyle::with_template(
                    "{prefix} [{elapsed_precise}] {bar:30} {percent:>3}% {msg} (eta {eta})",
                )
                .expect("valid template"),
            );
            b.set_prefix(what.to_string());
            b
        };
        Progress {
            bar,
            t_end,
            what: what.to_string(),
        }
    }

    /// Advance to model time t with a status message.
    pub fn set(&mut self, t: f64, msg: &str) {
        let frac = if self.t_end > 0.0 {
            (t / self.t_end).clamp(0.0, 1.0)
        } else {
            1.0
        };
        self.bar.set_position((frac * TICKS as f64) as u64);
        self.bar.set_message(msg.to_string());
        if let Some(sink) = SINK.read().unwrap_or_else(|e| e.into_inner()).as_ref() {
            sink(&self.what, frac, msg);
        }
    }

    /// Leave the final state on screen.
    pub fn finish(&self) {
        self.bar.finish();
    }
}

/// At each record time of a particle run: t and the seeds' mean R_N.
impl mfl_core::drive::Observer<mfl_particles::Ensemble<'_>> for Progress {
    fn record(&mut self, e: &mfl_particles::Ensemble<'_>) -> Result<(), String> {
        use mfl_core::drive::TimeStepper;
        let st = e.stats();
        let mean = st.iter().map(|s| s.risk).sum::<f64>() / st.len() as f64;
        self.set(e.time(), &format!("t={:.4} R_N={mean:.6e}", e.time()));
        Ok(())
    }
}
