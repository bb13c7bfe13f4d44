//! The breaker that skips a failing shared store for a back-off window, then lets one
//! request at a time try it again.

use super::stats::{Counters, bump};
use crate::error::StoreError;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

/// What a request does with the store now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Admit {
    /// The store works: use it.
    Store,
    /// The store failed and its back-off window has passed: this request tries it, alone.
    Probe,
    /// The store failed recently: skip it (cache in memory meanwhile).
    Skip,
}

/// Skips a failing store for a back-off window (doubling from `first` up to `max`), then
/// lets one request at a time try it.
pub(super) struct Breaker {
    state: Mutex<BreakerState>,
    first: Duration,
    max: Duration,
    /// The manager's counters, for the failures counted.
    counters: Arc<Counters>,
}

#[derive(Default)]
struct BreakerState {
    /// Set while the store is taken as down: until when to skip it.
    open_until: Option<SystemTime>,
    backoff: Duration,
    probing: bool,
}

impl Breaker {
    pub(super) fn new(first: Duration, max: Duration, counters: Arc<Counters>) -> Self {
        Self {
            state: Mutex::new(BreakerState::default()),
            first,
            max,
            counters,
        }
    }

    /// The store failed with `e`: counted, logged, and the store skipped for a window.
    pub(super) fn store_failed(&self, e: &StoreError, now: SystemTime) {
        self.failed(now);
        bump(&self.counters.store_errors);
        // A store error's text names what failed, never a token or a key.
        tracing::warn!(error = %e, "the shared token store failed");
    }

    fn lock(&self) -> MutexGuard<'_, BreakerState> {
        // Single assignments under the guard.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn admit(&self, now: SystemTime) -> Admit {
        let mut state = self.lock();
        match state.open_until {
            None => Admit::Store,
            Some(until) if now >= until && !state.probing => {
                state.probing = true;
                Admit::Probe
            }
            Some(_) => Admit::Skip,
        }
    }

    /// Whether the store is taken as down now (for sign-outs: no call is made then).
    pub(super) fn is_open(&self) -> bool {
        self.lock().open_until.is_some()
    }

    /// The store failed: skip it for the next window. A failed probe doubles the window;
    /// failures of calls begun before the breaker opened leave it as it is.
    pub(super) fn failed(&self, now: SystemTime) {
        let mut state = self.lock();
        if state.open_until.is_some() && !state.probing {
            return;
        }
        state.backoff = if state.probing {
            (state.backoff * 2).min(self.max)
        } else {
            self.first
        };
        state.open_until = Some(now.checked_add(state.backoff).unwrap_or(now));
        state.probing = false;
    }

    /// The store answered: `true` when that ends an outage.
    pub(super) fn succeeded(&self) -> bool {
        let mut state = self.lock();
        state.probing = false;
        state.open_until.take().is_some()
    }
}

/// Ends a probe however its request ends: answered (the breaker already knows), failed, or
/// dropped midway (then the next request may probe).
pub(super) struct ProbeGuard<'a>(pub(super) &'a Breaker);

impl Drop for ProbeGuard<'_> {
    fn drop(&mut self) {
        self.0.lock().probing = false;
    }
}
