//! Single flight: one get token call that any number of concurrent requests for a key wait
//! for, ended by its leader when it finishes or is dropped.

use super::Inner;
use super::cache::Slot;
use super::key::{ManagedToken, TokenKey};
use super::stats::bump;
use crate::error::Error;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

/// One get token call that several requests wait for.
#[derive(Default)]
pub(super) struct Flight {
    state: Mutex<FlightState>,
}

#[derive(Default)]
pub(super) enum FlightState {
    #[default]
    Running,
    Waiting(Vec<Waker>),
    Done(Result<ManagedToken, Error>),
    /// The request that ran the fetch was dropped before it finished.
    Abandoned,
}

impl Flight {
    fn lock(&self) -> MutexGuard<'_, FlightState> {
        // Updated by single assignments: a poisoned lock holds a whole state.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn finish(&self, end: FlightState) {
        let previous = std::mem::replace(&mut *self.lock(), end);
        if let FlightState::Waiting(wakers) = previous {
            wakers.into_iter().for_each(Waker::wake);
        }
    }
}

/// Ready on its second poll: lets the executor run other tasks once, on any runtime.
pub(super) struct YieldNow(pub(super) bool);

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Waits for a flight; `None` when it was abandoned.
pub(super) struct Join(pub(super) Arc<Flight>);

impl Future for Join {
    type Output = Option<Result<ManagedToken, Error>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.0.lock();
        match &mut *state {
            FlightState::Done(result) => Poll::Ready(Some(result.clone())),
            FlightState::Abandoned => Poll::Ready(None),
            FlightState::Running => {
                *state = FlightState::Waiting(vec![cx.waker().clone()]);
                Poll::Pending
            }
            FlightState::Waiting(wakers) => {
                if !wakers.iter().any(|w| w.will_wake(cx.waker())) {
                    wakers.push(cx.waker().clone());
                }
                Poll::Pending
            }
        }
    }
}

/// Ends a flight when the request running it finishes or is dropped.
pub(super) struct Leader<'a, S> {
    pub(super) inner: &'a Inner<S>,
    pub(super) key: &'a TokenKey,
    pub(super) flight: Arc<Flight>,
    pub(super) finished: bool,
    /// Whether the result is cached in this process's memory (no store, or the store is
    /// taken as down).
    pub(super) cache: bool,
}

impl<S> Leader<'_, S> {
    pub(super) fn finish(mut self, result: Result<ManagedToken, Error>) {
        self.finished = true;
        let mut state = self.inner.lock();
        let ours =
            matches!(state.entries.get(self.key), Some(Slot::Pending(f)) if Arc::ptr_eq(f, &self.flight));
        if ours {
            state.entries.remove(self.key);
            if let Ok(token) = &result
                && self.cache
            {
                if self.inner.cacheable(token) {
                    self.inner.cache(&mut state, self.key.clone(), token.clone());
                } else {
                    bump(&self.inner.counters.uncached);
                }
            }
        }
        drop(state);
        self.flight.finish(FlightState::Done(result));
    }
}

impl<S> Drop for Leader<'_, S> {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let mut state = self.inner.lock();
        if matches!(state.entries.get(self.key), Some(Slot::Pending(f)) if Arc::ptr_eq(f, &self.flight)) {
            state.entries.remove(self.key);
        }
        drop(state);
        self.flight.finish(FlightState::Abandoned);
    }
}
