//! Retries follow the policy; timeouts fire on the injected sleep.

mod support;

use std::time::Duration;
use support::*;
use thoughtspot_session_core::{
    Error, GetTokenRequest, LoginRequest, RetryPolicy, SessionApi, SessionClient, TokioSleep, TransportError,
};

fn statuses(sequence: &'static [u16]) -> FnTransport {
    FnTransport::new(move |_, i| {
        let status = sequence[i.min(sequence.len() - 1)];
        Reply::Answer(answer(
            status,
            if status == 200 { r#"{"userName":"u"}"# } else { "" },
        ))
    })
}

#[tokio::test]
async fn get_is_retried_on_503_until_it_succeeds() {
    let t = statuses(&[503, 503, 200]);
    let sleep = InstantSleep::default();
    let info = builder(&sleep)
        .build(t.clone())
        .unwrap()
        .get_session_info()
        .await
        .unwrap();
    assert_eq!(info.user_name(), Some("u"));
    assert_eq!(t.count(), 3);
    // Two exponential waits. The whole-call timer is made only when the call first waits,
    // and with answers and sleeps that are all ready at once, it never does.
    assert_eq!(
        sleep.requested(),
        [Duration::from_millis(200), Duration::from_millis(400)]
    );
}

#[tokio::test]
async fn retries_stop_at_the_attempt_limit_and_return_the_last_error() {
    let t = statuses(&[503]);
    let e = client(&t).get_session_info().await.unwrap_err();
    assert_eq!(e.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(t.count(), 3);
}

#[tokio::test]
async fn a_post_answered_500_or_503_is_sent_once() {
    for status in [500, 503] {
        let t = FnTransport::new(move |_, _| Reply::Answer(answer(status, "")));
        client(&t)
            .login(&LoginRequest::with_password("u", "p"))
            .await
            .unwrap_err();
        assert_eq!(t.count(), 1);
    }
}

#[tokio::test]
async fn a_post_is_retried_only_when_the_request_never_left() {
    let t = FnTransport::new(|_, i| match i {
        0 => Reply::Fail(TransportError::connect(std::io::Error::other("refused"))),
        _ => Reply::Answer(answer(200, TOKEN_BODY)),
    });
    client(&t)
        .get_token(&GetTokenRequest::with_secret_key("u", "k"))
        .await
        .unwrap();
    assert_eq!(t.count(), 2);

    let t = FnTransport::new(|_, _| Reply::Fail(TransportError::timeout(std::io::Error::other("slow"))));
    let e = client(&t)
        .get_token(&GetTokenRequest::with_secret_key("u", "k"))
        .await
        .unwrap_err();
    assert!(e.is_timeout());
    assert_eq!(t.count(), 1);
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let t = FnTransport::new(|_, i| match i {
        0 => Reply::Answer(answer_with(429, &[("retry-after", "3")], "")),
        _ => Reply::Answer(answer(200, "{}")),
    });
    let sleep = InstantSleep::default();
    builder(&sleep)
        .no_timeout()
        .build(t.clone())
        .unwrap()
        .get_session_info()
        .await
        .unwrap();
    assert_eq!(sleep.requested(), [Duration::from_secs(3)]);
}

#[tokio::test(start_paused = true)]
async fn retry_after_waits_in_real_time_on_tokio() {
    let t = FnTransport::new(|_, i| match i {
        0 => Reply::Answer(answer_with(503, &[("retry-after", "2")], "")),
        _ => Reply::Answer(answer(200, "{}")),
    });
    let c = SessionClient::builder(BASE)
        .api_version(thoughtspot_session_core::ApiVersion::V2Beta)
        .sleep(TokioSleep::new())
        .build(t.clone())
        .unwrap();
    let started = tokio::time::Instant::now();
    c.get_session_info().await.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(2));
    assert_eq!(t.count(), 2);
}

#[tokio::test(start_paused = true)]
async fn the_whole_call_timeout_fires_on_a_response_that_never_comes() {
    let t = FnTransport::new(|_, _| Reply::Hang);
    let c = SessionClient::builder(BASE)
        .api_version(thoughtspot_session_core::ApiVersion::V2Beta)
        .sleep(TokioSleep::new())
        .timeout(Duration::from_secs(5))
        .build(t.clone())
        .unwrap();
    let started = tokio::time::Instant::now();
    let e = c.get_session_info().await.unwrap_err();
    let Error::Timeout(timeout) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(timeout.timeout(), Duration::from_secs(5));
    assert_eq!(timeout.attempts(), 1);
    assert_eq!(started.elapsed(), Duration::from_secs(5));
    assert!(e.is_timeout() && e.is_retryable());
    assert_eq!(
        e.to_string(),
        "get session info did not finish within 5s (1 attempt)"
    );
}

#[tokio::test(start_paused = true)]
async fn an_attempt_timeout_is_retried_for_get_within_the_whole_call_timeout() {
    let t = FnTransport::new(|_, i| {
        if i < 2 {
            Reply::Hang
        } else {
            Reply::Answer(answer(200, "{}"))
        }
    });
    let c = SessionClient::builder(BASE)
        .api_version(thoughtspot_session_core::ApiVersion::V2Beta)
        .sleep(TokioSleep::new())
        .attempt_timeout(Duration::from_secs(1))
        .retry(RetryPolicy::default().jitter(false))
        .build(t.clone())
        .unwrap();
    c.get_session_info().await.unwrap();
    assert_eq!(t.count(), 3);

    // A POST whose attempt timed out may have reached the server: not retried.
    let t = FnTransport::new(|_, _| Reply::Hang);
    let c = SessionClient::builder(BASE)
        .api_version(thoughtspot_session_core::ApiVersion::V2Beta)
        .sleep(TokioSleep::new())
        .attempt_timeout(Duration::from_secs(1))
        .build(t.clone())
        .unwrap();
    let e = c.logout().await.unwrap_err();
    assert!(matches!(&e, Error::Transport(te) if te.is_timeout()), "{e:?}");
    assert_eq!(t.count(), 1);
}

#[tokio::test]
async fn retries_can_be_turned_off() {
    let t = statuses(&[503, 200]);
    let c = builder(&InstantSleep::default())
        .retry(RetryPolicy::disabled())
        .build(t.clone())
        .unwrap();
    c.get_session_info().await.unwrap_err();
    assert_eq!(t.count(), 1);
}

#[tokio::test(start_paused = true)]
async fn waiting_for_a_max_in_flight_slot_does_not_count_against_the_attempt_timeout() {
    // The cluster answers each call in 3 s; one call at a time; 5 s per attempt.
    let t = FnTransport::new(|_, _| {
        Reply::Later(Box::pin(async {
            tokio::time::sleep(Duration::from_secs(3)).await;
            answer(200, TOKEN_BODY)
        }))
    });
    let c = SessionClient::builder(BASE)
        .api_version(thoughtspot_session_core::ApiVersion::V2Beta)
        .sleep(TokioSleep::new())
        .max_in_flight(1)
        .attempt_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(20))
        .build(t.clone())
        .unwrap();
    let started = tokio::time::Instant::now();
    let calls = (0..3).map(|_| {
        let c = c.clone();
        async move { c.get_token(&GetTokenRequest::with_secret_key("u", "k")).await }
    });
    for result in futures_join_all(calls).await {
        result.expect("each call gets its slot, then 3 s of its 5 s attempt");
    }
    assert_eq!(t.count(), 3, "each POST was sent once");
    assert_eq!(started.elapsed(), Duration::from_secs(9));

    // The wait still counts against the whole-call timeout.
    let c = SessionClient::builder(BASE)
        .api_version(thoughtspot_session_core::ApiVersion::V2Beta)
        .sleep(TokioSleep::new())
        .max_in_flight(1)
        .timeout(Duration::from_secs(4))
        .build(t.clone())
        .unwrap();
    let first = tokio::spawn({
        let c = c.clone();
        async move { c.get_session_info().await }
    });
    tokio::task::yield_now().await;
    let e = c.get_session_info().await.unwrap_err();
    assert!(matches!(e, Error::Timeout(_)), "{e:?}");
    first.await.unwrap().unwrap();
}

/// Runs futures concurrently on the current task, in order of their results.
async fn futures_join_all<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let handles: Vec<_> = futures.map(|f| Box::pin(f)).collect();
    let mut outputs = Vec::new();
    let mut pending: Vec<_> = handles.into_iter().map(Some).collect();
    std::future::poll_fn(|cx| {
        let mut all = true;
        for slot in pending.iter_mut() {
            if let Some(f) = slot {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(out) => {
                        outputs.push(out);
                        *slot = None;
                    }
                    std::task::Poll::Pending => all = false,
                }
            }
        }
        if all {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    outputs
}
