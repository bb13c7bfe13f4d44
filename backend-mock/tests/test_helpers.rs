//! The helpers shipped for users' tests: FnTransport and AdvancingSleep.

use std::time::Duration;
use thoughtspot_session_core::{Clock, Error, RetryPolicy, SessionApi, SessionClient, TransportError};
use thoughtspot_session_mock::{FnTransport, ManualClock, Reply};

#[tokio::test]
async fn an_advancing_sleep_times_out_a_hung_call_at_once_on_virtual_time() {
    let clock = ManualClock::new();
    let start = clock.now();
    let hung = FnTransport::new(|_, _| Reply::Hang);
    let client = SessionClient::builder("https://ts.example.com")
        .api_version(thoughtspot_session_core::ApiVersion::V2Beta)
        .sleep(clock.advancing_sleep())
        .timeout(Duration::from_secs(45))
        .build(hung.clone())
        .unwrap();
    let e = client.get_session_info().await.unwrap_err();
    assert!(matches!(e, Error::Timeout(_)), "{e:?}");
    assert_eq!(
        clock.now().duration_since(start).unwrap(),
        Duration::from_secs(45)
    );
    assert_eq!(hung.count(), 1);
}

#[tokio::test]
async fn an_advancing_sleep_moves_the_clock_by_each_backoff_and_never_back() {
    let clock = ManualClock::new();
    let start = clock.now();
    let refused =
        FnTransport::new(|_, _| Reply::Fail(TransportError::connect(std::io::Error::other("refused"))));
    let client = SessionClient::builder("https://ts.example.com")
        .api_version(thoughtspot_session_core::ApiVersion::V2Beta)
        .sleep(clock.advancing_sleep())
        .timeout(Duration::from_secs(60))
        .retry(
            RetryPolicy::default()
                .jitter(false)
                .max_attempts(4)
                .initial_backoff(Duration::from_secs(1)),
        )
        .build(refused.clone())
        .unwrap();
    client.get_session_info().await.unwrap_err();
    assert_eq!(refused.count(), 4);
    // Backoffs of 1, 2 and 4 s; the whole-call timeout was never polled.
    assert_eq!(clock.now().duration_since(start).unwrap(), Duration::from_secs(7));
}
