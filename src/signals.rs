//! SIGINT and SIGTERM for the runs that stop cleanly (`mfl solve`, `mfl particles`; `mfl
//! compare` during its PDE run and between the runs of two N; `mfl stationary` between
//! temperatures).
//!
//! The first signal raises [`STOP`]; the run's [`mfl_core::drive::StopFlag`] (or the particle
//! ensemble's stop flag) ends it at the end of the current step, the file is flushed and marked
//! `status = failed: interrupted at t = …`, and `main` exits with 128 + the signal's number
//! (130 for SIGINT, 143 for SIGTERM). A second signal ends the process at once with the same
//! status: the file then holds everything up to its last flush, marked `running`.
//!
//! The numerics crates know nothing of this: they see a flag.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

/// Raised by the first SIGINT or SIGTERM.
pub static STOP: AtomicBool = AtomicBool::new(false);

/// The number of the first signal received (0: none).
static RECEIVED: AtomicI32 = AtomicI32::new(0);

/// Set by [`embed`]: the host process (Python) owns the signal handlers.
static EMBEDDED: AtomicBool = AtomicBool::new(false);

/// Run inside a host that handles signals itself (the Python package): [`install`] then leaves
/// the handlers alone, and the host raises [`STOP`] when it wants a run to stop (Ctrl-C).
pub fn embed() {
    EMBEDDED.store(true, Ordering::SeqCst);
}

/// Lower [`STOP`] before a new run in the same process (the CLI runs once; a host runs many).
pub fn reset() {
    STOP.store(false, Ordering::SeqCst);
}

#[cfg(unix)]
extern "C" fn on_signal(sig: libc::c_int) {
    // only async-signal-safe operations: atomics and _exit
    if RECEIVED
        .compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst)
        .is_err()
    {
        // SAFETY: _exit is async-signal-safe; nothing is unwound or flushed.
        unsafe { libc::_exit(128 + sig) };
    }
    STOP.store(true, Ordering::SeqCst);
}

/// Install the handlers (once, at the start of a run).
pub fn install() {
    if EMBEDDED.load(Ordering::SeqCst) {
        return;
    }
    #[cfg(unix)]
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: a zeroed sigaction with a plain handler and an empty mask is valid; the
        // handler only touches atomics and calls _exit.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_signal as *const () as libc::sighandler_t;
            libc::sigemptyset(&mut sa.sa_mask);
            sa.sa_flags = libc::SA_RESTART;
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
}

/// The signal that stopped the run, if one did.
pub fn received() -> Option<i32> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

/// The name of a signal number, for messages.
pub fn name(sig: i32) -> &'static str {
    #[cfg(unix)]
    {
        if sig == libc::SIGINT {
            return "SIGINT";
        }
        if sig == libc::SIGTERM {
            return "SIGTERM";
        }
    }
    "signal"
}
