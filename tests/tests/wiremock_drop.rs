//! The contract suite's wiremock servers are dropped safely: a regression test for a hang.
//!
//! wiremock verifies a `MockServer` in its `Drop` with `futures::executor::block_on`,
//! awaiting a tokio lock that takes part in tokio's cooperative budget. Dropped in a task
//! whose budget is spent, that lock never answers and the drop spins forever (seen in
//! `concurrent_calls_get_their_own_answers`, after awaiting 200 join handles).
//! `SafeDropServer` verifies on a plain thread instead.

use std::panic::AssertUnwindSafe;
use thoughtspot_session_tests::Watchdog;
use thoughtspot_session_tests::harness::SafeDropServer;
use tokio::task::coop::has_budget_remaining;
use wiremock::matchers::any;
use wiremock::{Mock, ResponseTemplate};

/// Leaves the current task with no cooperative budget, without yielding.
async fn spend_the_budget() {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    for _ in 0..10_000 {
        tx.send(()).expect("the receiver is alive");
    }
    tokio::task::yield_now().await;
    while has_budget_remaining() {
        rx.recv().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_dropped_with_no_budget_left_does_not_hang() {
    let _watchdog = Watchdog::start("wiremock_drop::a_server_dropped_with_no_budget_left_does_not_hang");
    let server = SafeDropServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    spend_the_budget().await;
    assert!(!has_budget_remaining(), "the task's budget is spent");
    // A bare MockServer spins here forever (the watchdog would abort the binary).
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_expectation_still_fails_the_drop() {
    let _watchdog = Watchdog::start("wiremock_drop::a_failed_expectation_still_fails_the_drop");
    let server = SafeDropServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .named("called once")
        .mount(&server)
        .await;
    spend_the_budget().await;
    let dropped = std::panic::catch_unwind(AssertUnwindSafe(|| drop(server)));
    assert!(dropped.is_err(), "an unmet expectation panics on drop");
}
