//! Single flight: one get token call that any number of concurrent requests for a key wait
//! for, ended by its leader when it finishes or is dropped.

use super::key::ManagedToken;
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

    pub(super) fn finish(&self, end: FlightState) {
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
