//! Running a command driver from Python: on a worker thread with the GIL released, while the
//! calling thread polls for Ctrl-C (`PyErr_CheckSignals`) and forwards progress to a Python
//! callback. Ctrl-C raises the drivers' stop flag ([`mfl::signals::STOP`]): `solve` and
//! `particles` stop at the end of the current step and mark the file `failed: interrupted at
//! t = …`, exactly as after SIGINT in the CLI, and then `KeyboardInterrupt` is raised.

use crate::errors::{Failure, MflError};
use pyo3::prelude::*;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One run at a time per process: the stop flag and the progress sink are process-wide.
static RUNNING: Mutex<()> = Mutex::new(());

/// The latest progress update, handed from the worker to the polling thread.
type Latest = Arc<Mutex<Option<(String, f64, String)>>>;

/// Run `command` (`solve`, `particles`, `compare`, `stationary`) on `config` with the
/// overrides `sets` (`key=value`, as `--set`), writing `out` (replaced when `force`);
/// `n`, `seeds` as `mfl particles --n --seeds`. `progress(what, fraction, message)` is called
/// from this thread with each update. Raises `KeyboardInterrupt` after Ctrl-C (the file is
/// then marked as the CLI marks it), `mfl.ConfigError` or `mfl.MflError` when the run fails.
#[pyfunction]
#[pyo3(signature = (command, config, sets, out, force=false, n=None, seeds=None, progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn run(
    py: Python<'_>,
    command: String,
    config: PathBuf,
    sets: Vec<String>,
    out: PathBuf,
    force: bool,
    n: Option<usize>,
    seeds: Option<usize>,
    progress: Option<Py<PyAny>>,
) -> PyResult<()> {
    if !matches!(
        command.as_str(),
        "solve" | "particles" | "compare" | "stationary"
    ) {
        return Err(MflError::new_err(format!("unknown command {command}")));
    }
    let _one = RUNNING
        .try_lock()
        .map_err(|_| MflError::new_err("another mfl run is in progress in this process"))?;
    mfl::signals::embed();
    mfl::signals::reset();
    let latest: Latest = Arc::new(Mutex::new(None));
    let sink = latest.clone();
    mfl::progress::set_sink(Some(Arc::new(move |what: &str, frac: f64, msg: &str| {
        *sink.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((what.to_string(), frac, msg.to_string()));
    })));
    let worker = std::thread::spawn(move || -> Result<(), Failure> {
        let (c, o) = (config.as_path(), Some(out.as_path()));
        let r = match command.as_str() {
            "solve" => mfl::cmd::solve::run(c, &sets, o, force, true, &[]),
            "particles" => mfl::cmd::particles::run(c, &sets, o, force, n, seeds, true, None),
            "compare" => mfl::cmd::compare::run(c, &sets, o, force, true, None),
            _ => mfl::cmd::stationary::run(c, &sets, o, force, true, &[]),
        };
        r.map_err(|e| Failure::of(e.as_ref()))
    });
    let mut stopped: Option<PyErr> = None;
    let forward = |py: Python<'_>| -> PyResult<()> {
        let update = latest.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let (Some(cb), Some((what, frac, msg))) = (&progress, update) {
            cb.call1(py, (what, frac, msg))?;
        }
        Ok(())
    };
    while !worker.is_finished() {
        py.detach(|| std::thread::sleep(Duration::from_millis(40)));
        let polled = py.check_signals().and_then(|()| forward(py));
        if let Err(e) = polled {
            // Ctrl-C (or a failing callback): stop the run at the end of its step
            mfl::signals::STOP.store(true, Ordering::SeqCst);
            stopped.get_or_insert(e);
        }
    }
    let result = worker.join();
    if stopped.is_none() {
        let _ = forward(py);
    }
    mfl::progress::set_sink(None);
    mfl::signals::reset();
    if let Some(e) = stopped {
        return Err(e);
    }
    match result {
        Ok(r) => r.map_err(Failure::into_py),
        Err(_) => Err(MflError::new_err("the run panicked")),
    }
}

/// What `mfl check CONFIG --set …` prints (the Scenario built exactly as the runs build it).
#[pyfunction]
pub fn check(py: Python<'_>, config: PathBuf, sets: Vec<String>) -> PyResult<String> {
    py.detach(|| mfl::cmd::check::report(&config, &sets).map_err(|e| Failure::of(e.as_ref())))
        .map_err(Failure::into_py)
}
