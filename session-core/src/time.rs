//! Sleep and clock, injected so that core needs no async runtime.

use std::fmt::Debug;
use std::future::Future;
use std::pin::{Pin, pin};
use std::task::Poll;
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

/// Runs `work` until it finishes or `deadline` (if any) fires first; `Err(())` on the
/// deadline. `work` is polled first, so an answer that is ready wins a tie.
pub(crate) async fn deadline<F: Future>(work: F, deadline: Option<SleepFuture>) -> Result<F::Output, ()> {
    let Some(mut deadline) = deadline else {
        return Ok(work.await);
    };
    let mut work = pin!(work);
    std::future::poll_fn(move |cx| {
        if let Poll::Ready(out) = work.as_mut().poll(cx) {
            return Poll::Ready(Ok(out));
        }
        deadline.as_mut().poll(cx).map(|()| Err(()))
    })
    .await
}
