//! Time for tests: a virtual clock that only moves when told, and a sleep that never waits.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use thoughtspot_session_core::{Clock, Sleep, SleepFuture};

/// A clock and sleep on virtual time: `now()` moves only by [`advance`](Self::advance), and
/// a sleep completes when the clock has been advanced past its end. Clones share the time.
///
/// Give the same `ManualClock` to a [`FakeThoughtSpot`](crate::FakeThoughtSpot) and to a
/// client, and token expiry, latency and timeouts all follow it, so no test waits.
///
/// ```
/// use std::time::Duration;
/// use thoughtspot_session_core::Clock;
/// use thoughtspot_session_mock::ManualClock;
///
/// let clock = ManualClock::new();
/// let start = clock.now();
/// clock.advance(Duration::from_secs(90));
/// assert_eq!(clock.now().duration_since(start).unwrap(), Duration::from_secs(90));
/// ```
#[derive(Clone, Debug)]
pub struct ManualClock {
    inner: Arc<Mutex<ClockState>>,
}

#[derive(Debug)]
struct ClockState {
    now: SystemTime,
    next_id: u64,
    /// Waiting sleeps: (id, end, waker); one entry per sleep, removed when it ends or drops.
    sleepers: Vec<(u64, SystemTime, Waker)>,
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl ManualClock {
    /// A clock at 2024-01-01T00:00:00Z.
    pub fn new() -> Self {
        Self::starting_at(UNIX_EPOCH + Duration::from_secs(1_704_067_200))
    }

    /// A clock at `now`.
    pub fn starting_at(now: SystemTime) -> Self {
        Self {
            inner: Arc::new(Mutex::new(ClockState {
                now,
                next_id: 0,
                sleepers: Vec::new(),
            })),
        }
    }

    fn state(&self) -> MutexGuard<'_, ClockState> {
        // Every update is a single assignment or push: a poisoned lock holds a whole state.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Moves time forward by `by` and wakes every sleep that has ended.
    pub fn advance(&self, by: Duration) {
        let woken: Vec<Waker> = {
            let mut state = self.state();
            state.now += by;
            let now = state.now;
            let (done, waiting): (Vec<_>, Vec<_>) =
                state.sleepers.drain(..).partition(|(_, end, _)| *end <= now);
            state.sleepers = waiting;
            done.into_iter().map(|(_, _, w)| w).collect()
        };
        woken.into_iter().for_each(Waker::wake);
    }

    /// How many sleeps are waiting on this clock.
    pub fn pending_sleeps(&self) -> usize {
        self.state().sleepers.len()
    }

    /// A sleep that moves this clock instead of waiting: see [`AdvancingSleep`].
    pub fn advancing_sleep(&self) -> AdvancingSleep {
        AdvancingSleep { clock: self.clone() }
    }
}

/// A sleep that never waits but moves a [`ManualClock`] to its end: a retry's backoff or a
/// `Retry-After` of two minutes takes no time, yet the clock (and so token expiry, session
/// expiry and `Retry-After` dates read on it) moves by exactly what was skipped.
///
/// The clock moves when the sleep is first polled, to the instant it was due to end (never
/// back). A timeout is polled only while the call it guards is pending: over a transport
/// that answers at once it never fires and never moves the clock; over one that does not
/// answer it fires at once, with the clock at the timeout's end.
///
/// ```
/// use std::time::Duration;
/// use thoughtspot_session_core::{Clock, RetryPolicy, SessionApi, SessionClient};
/// use thoughtspot_session_mock::{FnTransport, ManualClock, Reply, response};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let clock = ManualClock::new();
/// let start = clock.now();
/// // Busy for two minutes, then an answer.
/// let cluster = FnTransport::new(|_, index| match index {
///     0 => Reply::Answer(response(503, &[("retry-after", "120")], "")),
///     _ => Reply::json(&serde_json::json!({"userName": "analyst"})),
/// });
/// let client = SessionClient::builder("https://ts.example.com")
///     .sleep(clock.advancing_sleep())
///     .clock(clock.clone())
///     .retry(RetryPolicy::default().max_backoff(Duration::from_secs(300)))
///     .build(cluster)
///     .unwrap();
/// client.get_session_info().await.unwrap(); // at once
/// assert_eq!(clock.now().duration_since(start).unwrap(), Duration::from_secs(120));
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct AdvancingSleep {
    clock: ManualClock,
}

impl AdvancingSleep {
    /// A sleep that moves `clock`.
    pub fn new(clock: ManualClock) -> Self {
        Self { clock }
    }
}

impl Sleep for AdvancingSleep {
    fn sleep(&self, duration: Duration) -> SleepFuture {
        let clock = self.clock.clone();
        let end = clock.now() + duration;
        Box::pin(std::future::poll_fn(move |_| {
            if let Ok(left) = end.duration_since(clock.now())
                && !left.is_zero()
            {
                clock.advance(left);
            }
            Poll::Ready(())
        }))
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        self.state().now
    }
}

impl Sleep for ManualClock {
    fn sleep(&self, duration: Duration) -> SleepFuture {
        let mut state = self.state();
        let end = state.now + duration;
        let id = state.next_id;
        state.next_id += 1;
        drop(state);
        Box::pin(VirtualSleep {
            clock: self.clone(),
            id,
            end,
        })
    }
}

struct VirtualSleep {
    clock: ManualClock,
    id: u64,
    end: SystemTime,
}

impl Drop for VirtualSleep {
    fn drop(&mut self) {
        let id = self.id;
        self.clock.state().sleepers.retain(|(i, _, _)| *i != id);
    }
}

impl Future for VirtualSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.clock.state();
        if state.now >= self.end {
            return Poll::Ready(());
        }
        let (id, end) = (self.id, self.end);
        match state.sleepers.iter_mut().find(|(i, _, _)| *i == id) {
            Some(entry) => entry.2 = cx.waker().clone(),
            None => state.sleepers.push((id, end, cx.waker().clone())),
        }
        Poll::Pending
    }
}

/// A sleep that completes at once and records each duration asked for: retries run
/// without waiting, and a timeout fires as soon as the call it guards is pending.
///
/// ```
/// use std::time::Duration;
/// use thoughtspot_session_core::Sleep;
/// use thoughtspot_session_mock::InstantSleep;
///
/// let sleep = InstantSleep::new();
/// let _ = sleep.sleep(Duration::from_millis(200));
/// assert_eq!(sleep.requested(), [Duration::from_millis(200)]);
/// ```
#[derive(Clone, Debug, Default)]
pub struct InstantSleep {
    requested: Arc<Mutex<Vec<Duration>>>,
}

impl InstantSleep {
    /// A new instant sleep.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every duration asked for, in order.
    pub fn requested(&self) -> Vec<Duration> {
        self.requested.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl Sleep for InstantSleep {
    fn sleep(&self, duration: Duration) -> SleepFuture {
        self.requested
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(duration);
        Box::pin(std::future::ready(()))
    }
}

/// A sleep that completes at once and records nothing: the ready-made clients of the fake
/// and the mock use it, so that long test runs do not accumulate records.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct NoWait;

impl Sleep for NoWait {
    fn sleep(&self, _: Duration) -> SleepFuture {
        Box::pin(std::future::ready(()))
    }
}
