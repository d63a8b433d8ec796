//! One time loop for every run: a [`TimeStepper`] (a grid density under an FV or spectral
//! scheme, a particle system, an ensemble of seeds), a [`Schedule`] (record times landed on
//! exactly, and a diagnostics interval), and [`Observer`]s that see the run on that schedule
//! (file writers, progress bars, in-memory recorders — DESIGN.md §7).
//!
//! The landing rule, written once: the step before a record time τ is asked for at most
//! τ − t; a step that ends within 10⁻⁹·dt of τ sets the clock to τ exactly.

/// Something that advances in time by steps of its own choosing.
pub trait TimeStepper {
    /// Why a step failed (a blow-up, an invalid value).
    type Error;
    /// The current time t.
    fn time(&self) -> f64;
    /// Advance by one step of length dt ≤ `until` − t (the stepper's own choice: its
    /// stability limit, its step size η, or all of `until` − t) and return dt; the clock
    /// advances by dt (the driver then lands it on `until` when dt ends within round-off of it).
    fn step(&mut self, until: f64) -> Result<f64, Self::Error>;
    /// Set the clock to `t` exactly (the driver lands on record times with it).
    fn land(&mut self, t: f64);
}

/// Sees a run of `S`; every method defaults to doing nothing. An `Err` stops the run.
pub trait Observer<S: ?Sized> {
    /// Once, before the first step.
    fn start(&mut self, _s: &S) -> Result<(), String> {
        Ok(())
    }
    /// At each record time (t = τ exactly), in order.
    fn record(&mut self, _s: &S) -> Result<(), String> {
        Ok(())
    }
    /// At t = 0, at every record time, after the first step reaching each multiple of the
    /// diagnostics interval, and at t_end ([`Schedule::diagnostics_every`]) — when the schedule
    /// has diagnostics at all.
    fn diagnostics(&mut self, _s: &S) -> Result<(), String> {
        Ok(())
    }
    /// After every step, once its records and diagnostics have been seen (e.g. to stop a run
    /// on request: [`StopFlag`]).
    fn after_step(&mut self, _s: &S) -> Result<(), String> {
        Ok(())
    }
    /// Once, after the last step.
    fn finish(&mut self, _s: &S) -> Result<(), String> {
        Ok(())
    }
}

/// Stops a run at the end of the step during which `flag` was raised (by another thread, a
/// signal handler, a GUI), with the message `interrupted at t = …` naming the time reached;
/// everything the other observers saw up to that time is theirs to keep.
#[derive(Debug, Clone, Copy)]
pub struct StopFlag<'a> {
    flag: &'a std::sync::atomic::AtomicBool,
}

impl<'a> StopFlag<'a> {
    /// Watch `flag`.
    pub fn new(flag: &'a std::sync::atomic::AtomicBool) -> Self {
        StopFlag { flag }
    }

    /// `Err("interrupted at t = …")` when the flag is raised.
    pub fn check(&self, t: f64) -> Result<(), String> {
        if self.flag.load(std::sync::atomic::Ordering::SeqCst) {
            Err(format!("interrupted at t = {t}"))
        } else {
            Ok(())
        }
    }
}

impl<S: TimeStepper> Observer<S> for StopFlag<'_> {
    fn after_step(&mut self, s: &S) -> Result<(), String> {
        self.check(s.time())
    }
}

/// When a run records and ends.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    record: Vec<f64>,
    t_end: f64,
    diagnostics_every: Option<f64>,
}

impl Schedule {
    /// Record at `times` (any order, duplicates merged; each in [0, t_end]) and stop at
    /// `t_end`; diagnostics every `diagnostics_every` time units (0: every step; None: none).
    pub fn new(times: &[f64], t_end: f64, diagnostics_every: Option<f64>) -> Result<Self, String> {
        if !(t_end >= 0.0 && t_end.is_finite()) {
            return Err(format!("t_end must be finite and ≥ 0, got {t_end}"));
        }
        if let Some(bad) = times.iter().find(|&&s| !(s >= 0.0 && s <= t_end)) {
            return Err(format!("record time {bad} is outside [0, t_end = {t_end}]"));
        }
        if let Some(e) = diagnostics_every {
            if !(e >= 0.0) {
                return Err(format!("the diagnostics interval must be ≥ 0, got {e}"));
            }
        }
        let mut record = times.to_vec();
        record.sort_by(f64::total_cmp);
        record.dedup();
        Ok(Schedule {
            record,
            t_end,
            diagnostics_every,
        })
    }

    /// The record times, increasing.
    pub fn record_times(&self) -> &[f64] {
        &self.record
    }

    /// The final time.
    pub fn t_end(&self) -> f64 {
        self.t_end
    }

    /// The diagnostics interval (0: every step; None: no diagnostics).
    pub fn diagnostics_every(&self) -> Option<f64> {
        self.diagnostics_every
    }
}

/// Why [`drive`] stopped early.
#[derive(Debug, Clone, PartialEq)]
pub enum DriveError<E> {
    /// The stepper failed.
    Step(E),
    /// An observer returned this message.
    Observer(String),
}

/// One observer method applied to the state.
type Call<S> = dyn Fn(&mut dyn Observer<S>, &S) -> Result<(), String>;

/// Run `s` from its current time (0) to `schedule.t_end()`, landing exactly on every record
/// time, calling the observers in order: `start`, `record` at each record time ≤ t (t = 0
/// included), `diagnostics` on the diagnostics schedule and at every record time (so each
/// output time has a diagnostics row), `finish` at the end. Returns the
/// number of steps taken.
pub fn drive<S: TimeStepper>(
    s: &mut S,
    schedule: &Schedule,
    observers: &mut [&mut dyn Observer<S>],
) -> Result<u64, DriveError<S::Error>> {
    let each = |obs: &mut [&mut dyn Observer<S>],
                s: &S,
                f: &Call<S>|
     -> Result<(), DriveError<S::Error>> {
        for o in obs.iter_mut() {
            f(&mut **o, s).map_err(DriveError::Observer)?;
        }
        Ok(())
    };
    let times = schedule.record_times();
    let t_end = schedule.t_end();
    each(observers, s, &|o, s| o.start(s))?;
    let mut next = 0;
    while next < times.len() && times[next] <= s.time() {
        each(observers, s, &|o, s| o.record(s))?;
        next += 1;
    }
    let every = schedule.diagnostics_every();
    if every.is_some() {
        each(observers, s, &|o, s| o.diagnostics(s))?;
    }
    let mut next_diag = every.unwrap_or(f64::INFINITY);
    let mut steps = 0u64;
    while s.time() < t_end {
        let target = if next < times.len() {
            times[next].min(t_end)
        } else {
            t_end
        };
        step_towards(s, target).map_err(DriveError::Step)?;
        steps += 1;
        let t = s.time();
        let mut recorded = false;
        while next < times.len() && times[next] <= t {
            each(observers, s, &|o, s| o.record(s))?;
            next += 1;
            recorded = true;
        }
        if let Some(e) = every {
            if t >= next_diag || t >= t_end || recorded {
                each(observers, s, &|o, s| o.diagnostics(s))?;
                if e > 0.0 {
                    while next_diag <= t {
                        next_diag += e;
                    }
                }
            }
        }
        each(observers, s, &|o, s| o.after_step(s))?;
    }
    each(observers, s, &|o, s| o.finish(s))?;
    Ok(steps)
}

/// One step of `s` towards `target` with the landing rule: a step ending within 10⁻⁹·dt of
/// `target` sets the clock to `target` exactly. Returns the step's length.
pub fn step_towards<S: TimeStepper>(s: &mut S, target: f64) -> Result<f64, S::Error> {
    let dt_max = target - s.time();
    let dt = s.step(target)?;
    if dt >= dt_max - 1e-9 * dt {
        s.land(target);
    }
    Ok(dt)
}

/// Step `s` until it reaches `until` exactly (no observers); returns the steps taken.
pub fn advance<S: TimeStepper>(s: &mut S, until: f64) -> Result<u64, S::Error> {
    let mut steps = 0;
    while s.time() < until {
        step_towards(s, until)?;
        steps += 1;
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// dx/dt = −x by forward Euler with a fixed step h.
    struct Decay {
        t: f64,
        x: f64,
        h: f64,
    }

    impl TimeStepper for Decay {
        type Error = String;
        fn time(&self) -> f64 {
            self.t
        }
        fn step(&mut self, until: f64) -> Result<f64, String> {
            let dt = self.h.min(until - self.t);
            self.x -= dt * self.x;
            self.t += dt;
            Ok(dt)
        }
        fn land(&mut self, t: f64) {
            self.t = t;
        }
    }

    #[derive(Default)]
    struct Log {
        records: Vec<(f64, f64)>,
        diagnostics: Vec<f64>,
        started: bool,
        finished: bool,
    }

    impl Observer<Decay> for Log {
        fn start(&mut self, _s: &Decay) -> Result<(), String> {
            self.started = true;
            Ok(())
        }
        fn record(&mut self, s: &Decay) -> Result<(), String> {
            self.records.push((s.t, s.x));
            Ok(())
        }
        fn diagnostics(&mut self, s: &Decay) -> Result<(), String> {
            self.diagnostics.push(s.t);
            Ok(())
        }
        fn finish(&mut self, _s: &Decay) -> Result<(), String> {
            self.finished = true;
            Ok(())
        }
    }

    #[test]
    fn lands_exactly_on_record_times_and_matches_the_euler_product() {
        // h = 0.3 does not divide the record times: the steps before them are shortened
        let mut s = Decay {
            t: 0.0,
            x: 1.0,
            h: 0.3,
        };
        let sched = Schedule::new(&[1.0, 0.0, 0.5, 1.0], 1.0, None).unwrap();
        let mut log = Log::default();
        let steps = drive(&mut s, &sched, &mut [&mut log]).unwrap();
        assert!(log.started && log.finished);
        let t: Vec<f64> = log.records.iter().map(|r| r.0).collect();
        assert_eq!(t, vec![0.0, 0.5, 1.0]);
        // steps 0.3, 0.2 | 0.3, 0.2: x(1) = (0.7·0.8)²
        assert_eq!(steps, 4);
        assert!((log.records[2].1 - (0.7f64 * 0.8).powi(2)).abs() < 1e-15);
        assert!(log.diagnostics.is_empty());
    }

    #[test]
    fn diagnostics_follow_their_interval_without_shortening_steps() {
        let mut s = Decay {
            t: 0.0,
            x: 1.0,
            h: 0.25,
        };
        let sched = Schedule::new(&[], 1.0, Some(0.4)).unwrap();
        let mut log = Log::default();
        drive(&mut s, &sched, &mut [&mut log]).unwrap();
        // t = 0, the first steps reaching 0.4 (t = 0.5) and 0.8 (t = 1.0 = t_end)
        assert_eq!(log.diagnostics, vec![0.0, 0.5, 1.0]);
    }

    #[test]
    fn every_record_time_gets_diagnostics_too() {
        // the interval 0.4 alone would give t = 0, 0.5, 1.0 (steps of 0.25); the record times
        // 0.25 and 0.3 (a shortened step) add theirs, and the interval's schedule is kept
        let mut s = Decay {
            t: 0.0,
            x: 1.0,
            h: 0.25,
        };
        let sched = Schedule::new(&[0.25, 0.3], 1.0, Some(0.4)).unwrap();
        let mut log = Log::default();
        drive(&mut s, &sched, &mut [&mut log]).unwrap();
        assert_eq!(log.diagnostics, vec![0.0, 0.25, 0.3, 0.55, 0.8, 1.0]);
        for (t, _) in &log.records {
            assert!(
                log.diagnostics.contains(t),
                "no diagnostics at record time {t}"
            );
        }
    }

    #[test]
    fn a_step_within_round_off_of_the_target_lands_on_it() {
        // ten steps of 0.1 accumulate to 0.9999999999999999: the last one lands on 1
        let mut s = Decay {
            t: 0.0,
            x: 1.0,
            h: 0.1,
        };
        let sched = Schedule::new(&[1.0], 1.0, None).unwrap();
        let mut log = Log::default();
        let steps = drive(&mut s, &sched, &mut [&mut log]).unwrap();
        assert_eq!(steps, 10);
        assert_eq!(log.records[0].0, 1.0);
    }

    #[test]
    fn a_raised_stop_flag_ends_the_run_after_the_current_step() {
        use std::sync::atomic::{AtomicBool, Ordering};
        /// Raises the flag at the first record after t = 0.
        struct Raise<'a>(&'a AtomicBool);
        impl Observer<Decay> for Raise<'_> {
            fn record(&mut self, s: &Decay) -> Result<(), String> {
                if s.t > 0.0 {
                    self.0.store(true, Ordering::SeqCst);
                }
                Ok(())
            }
        }
        let flag = AtomicBool::new(false);
        let mut s = Decay {
            t: 0.0,
            x: 1.0,
            h: 0.25,
        };
        let sched = Schedule::new(&[0.0, 0.5, 1.0], 2.0, None).unwrap();
        let mut log = Log::default();
        let e = drive(
            &mut s,
            &sched,
            &mut [&mut Raise(&flag), &mut log, &mut StopFlag::new(&flag)],
        )
        .unwrap_err();
        assert_eq!(e, DriveError::Observer("interrupted at t = 0.5".into()));
        // the record at t = 0.5 was seen by every observer; nothing after it, no finish
        assert_eq!(log.records.len(), 2);
        assert!(!log.finished);
    }

    #[test]
    fn observer_errors_stop_the_run_and_bad_schedules_are_refused() {
        struct Fail;
        impl Observer<Decay> for Fail {
            fn record(&mut self, s: &Decay) -> Result<(), String> {
                if s.t > 0.0 {
                    Err("disk full".into())
                } else {
                    Ok(())
                }
            }
        }
        let mut s = Decay {
            t: 0.0,
            x: 1.0,
            h: 0.1,
        };
        let sched = Schedule::new(&[0.0, 0.5], 1.0, None).unwrap();
        let e = drive(&mut s, &sched, &mut [&mut Fail]).unwrap_err();
        assert_eq!(e, DriveError::Observer("disk full".into()));
        assert!((s.t - 0.5).abs() < 1e-15);
        assert!(Schedule::new(&[2.0], 1.0, None).is_err());
        assert!(Schedule::new(&[], f64::INFINITY, None).is_err());
        assert!(Schedule::new(&[], 1.0, Some(-1.0)).is_err());
    }
}
