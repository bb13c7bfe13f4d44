//! Time limits for tests, so that a hang fails fast and names itself instead of eating CI.
//!
//! Two layers, because a hang comes in two kinds:
//! - an async hang (a future that never wakes) is caught by [`within`], a tokio timeout
//!   that panics with the test's name: the test fails and the others go on;
//! - a synchronous hang (a `Drop` that blocks on async work, a spin inside a poll) never
//!   yields to tokio's timer, so only another thread can see it: [`Watchdog`] waits on a
//!   plain thread and, past its limit, prints the test's name and aborts the process.

use std::future::Future;
use std::sync::mpsc;
use std::time::Duration;

/// How long one scenario may run before [`within`] fails it.
pub const SCENARIO_LIMIT: Duration = Duration::from_secs(60);

/// How long a whole test may run, drop included, before [`Watchdog`] aborts the process.
pub const TEST_LIMIT: Duration = Duration::from_secs(120);

/// Runs `future` under [`SCENARIO_LIMIT`], panicking with `name` if it does not finish.
pub async fn within<F: Future>(name: &str, future: F) -> F::Output {
    match tokio::time::timeout(SCENARIO_LIMIT, future).await {
        Ok(output) => output,
        Err(_) => panic!("{name} did not finish within {SCENARIO_LIMIT:?}: it hangs"),
    }
}

/// Aborts the process, naming the test, if it is still alive after [`TEST_LIMIT`].
///
/// Make it the first binding of a test (`let _watchdog = Watchdog::start(..)`) so it is
/// dropped last, after everything the test owns.
#[must_use = "the watchdog stops watching when dropped"]
pub struct Watchdog {
    _done: mpsc::Sender<()>,
}

impl Watchdog {
    /// Starts watching the test `name`.
    pub fn start(name: &'static str) -> Self {
        let (done, finished) = mpsc::channel::<()>();
        std::thread::spawn(move || {
            // Disconnected (the guard dropped, also when the test panics) ends the watch.
            if let Err(mpsc::RecvTimeoutError::Timeout) = finished.recv_timeout(TEST_LIMIT) {
                eprintln!(
                    "\nHUNG: test {name} is still running after {TEST_LIMIT:?}; aborting the test binary"
                );
                std::process::abort();
            }
        });
        Self { _done: done }
    }
}
