//! Sleep and clock, injected so that core needs no async runtime.

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

/// The future a [`Sleep`] returns.
pub type SleepFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Waits for a duration. Timeouts and retry backoff use it.
///
/// Enable the `rt-tokio` feature for `TokioSleep`; tests inject a sleep that returns at
/// once, or one driven by a virtual clock.
///
/// ```
/// use std::time::Duration;
/// use thoughtspot_session_core::{Sleep, SleepFuture};
///
/// /// Never waits: for tests.
/// #[derive(Debug)]
/// struct Instant;
///
/// impl Sleep for Instant {
///     fn sleep(&self, _: Duration) -> SleepFuture {
///         Box::pin(std::future::ready(()))
///     }
/// }
/// ```
pub trait Sleep: Send + Sync + Debug {
    /// A future that completes after `duration`.
    fn sleep(&self, duration: Duration) -> SleepFuture;
}

/// Tells the wall-clock time. `Retry-After` dates and token expiry read it.
pub trait Clock: Send + Sync + Debug {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The operating system's clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// [`Sleep`] over tokio's timer. It must be used inside a tokio runtime with the time
/// driver enabled (`#[tokio::main]` and `#[tokio::test]` enable it).
#[cfg(feature = "rt-tokio")]
#[derive(Clone, Copy, Debug, Default)]
pub struct TokioSleep;

#[cfg(feature = "rt-tokio")]
impl TokioSleep {
    /// A tokio sleep.
    pub fn new() -> Self {
        TokioSleep
    }
}

#[cfg(feature = "rt-tokio")]
impl Sleep for TokioSleep {
    fn sleep(&self, duration: Duration) -> SleepFuture {
        Box::pin(tokio::time::sleep(duration))
    }
}

impl<T: Sleep + ?Sized> Sleep for std::sync::Arc<T> {
    fn sleep(&self, duration: Duration) -> SleepFuture {
        (**self).sleep(duration)
    }
}

impl<T: Clock + ?Sized> Clock for std::sync::Arc<T> {
    fn now(&self) -> SystemTime {
        (**self).now()
    }
}

pin_project_lite::pin_project! {
    /// Runs `work` until it finishes or its time limit (if any) passes first; `Err(())` on
    /// the limit. `work` is polled first, so an answer that is ready wins a tie.
    ///
    /// The timer starts the first time `work` has to wait: a call that is answered in its
    /// first poll (an in-memory transport) never makes one, and the limit counts from the
    /// first wait, not from the synchronous work before it (request building, which takes
    /// microseconds). A struct, not an `async fn`, so that the future holds `work` once.
    pub(crate) struct Deadline<'a, F> {
        #[pin]
        work: F,
        limit: Option<(Duration, &'a dyn Sleep)>,
        timer: Option<SleepFuture>,
        // Entered around each poll of `work`, as `Instrument` would, without a wrapper
        // future of its own (one layer, and one move of `work`, fewer).
        span: Option<&'a tracing::Span>,
    }
}

impl<'a, F> Deadline<'a, F> {
    /// Polls the work inside `span` (when a subscriber records it).
    pub(crate) fn in_span(mut self, span: &'a tracing::Span) -> Self {
        self.span = (!span.is_disabled()).then_some(span);
        self
    }
}

/// `work` within `limit` (a duration and the sleep that measures it), or unbounded.
pub(crate) fn deadline<'a, F: Future>(work: F, limit: Option<(Duration, &'a dyn Sleep)>) -> Deadline<'a, F> {
    Deadline {
        work,
        limit,
        timer: None,
        span: None,
    }
}

impl<F: Future> Future for Deadline<'_, F> {
    type Output = Result<F::Output, ()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let entered = this.span.map(tracing::Span::enter);
        if let Poll::Ready(out) = this.work.poll(cx) {
            return Poll::Ready(Ok(out));
        }
        drop(entered);
        let timer = match this.timer {
            Some(timer) => timer,
            None => match this.limit.take() {
                Some((duration, sleep)) => this.timer.insert(sleep.sleep(duration)),
                None => return Poll::Pending,
            },
        };
        timer.as_mut().poll(cx).map(|()| Err(()))
    }
}
