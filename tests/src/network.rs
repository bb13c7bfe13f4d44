//! Scenarios only a real socket has: refused connections, body caps, and redirects that
//! point at another server.

use crate::harness::{Factory, Harness, SafeDropServer, Stub, TransportOptions, Wiremock};
use crate::scenarios::{GET_TOKEN, SESSION, builder};
use serde_json::json;
use std::time::Duration;
use thoughtspot_session_core::{Error, GetTokenRequest, LoginRequest, SessionApi, SessionClient, TokioSleep};

pub async fn refused_connection_is_a_connect_error(factory: Factory) {
    // Port 1 on loopback: nothing listens there and no test can take it (a port freed a
    // moment ago may be bound again by a test running beside this one).
    let c = SessionClient::builder("http://127.0.0.1:1")
        .api_version(thoughtspot_session_core::ApiVersion::V2Beta)
        .sleep(TokioSleep::new())
        .build(factory(TransportOptions::default()))
        .expect("valid");
    let e = c
        .get_token(&GetTokenRequest::with_password("u", "p"))
        .await
        .expect_err("refused");
    assert!(matches!(&e, Error::Transport(t) if t.is_connect()), "{e:?}");
    assert!(e.is_retryable());
}

pub async fn a_body_over_the_cap_fails_cleanly_and_the_client_goes_on(factory: Factory) {
    let h = Wiremock::start(factory, TransportOptions { max_body: 64 * 1024 }).await;
    h.stub(Stub::new("GET", SESSION, 200).body(vec![b' '; 1024 * 1024]))
        .await;
    h.stub(Stub::new("POST", GET_TOKEN, 200).json(json!({"token": "t"})))
        .await;
    let c = builder(&h).build().expect("valid");
    let e = c.get_session_info().await.expect_err("too large");
    assert!(
        matches!(&e, Error::Transport(t) if t.is_body_too_large()),
        "{e:?}"
    );
    assert!(
        c.get_token(&GetTokenRequest::with_password("u", "p"))
            .await
            .is_ok()
    );
}

pub async fn a_redirect_to_another_server_carries_no_credential(factory: Factory) {
    let h = Wiremock::start(factory, TransportOptions::default()).await;
    let elsewhere = SafeDropServer::start().await;
    h.stub(
        Stub::new("POST", crate::scenarios::LOGIN, 200)
            .json(json!({"userName": "u", "tokenType": "Cookie"}))
            .header("set-cookie", "JSESSIONID=js-1; Path=/"),
    )
    .await;
    h.stub(Stub::new("GET", SESSION, 302).header("location", format!("{}/steal", elsewhere.uri())))
        .await;
    let c = builder(&h).access_token("tok-1").build().expect("valid");
    c.login(&LoginRequest::with_password("u", "p"))
        .await
        .expect("login");
    let e = c.get_session_info().await.expect_err("redirect");
    assert_eq!(e.status().map(|s| s.as_u16()), Some(302));
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(elsewhere.received_requests().await.unwrap_or_default().is_empty());
    let last = h.requests().await.pop().expect("requests");
    assert_eq!(last.header("authorization"), Some("Bearer tok-1"));
    assert!(
        last.header("cookie")
            .is_some_and(|c| c.contains("JSESSIONID=js-1"))
    );
}

/// Runs the network scenarios against one transport factory.
#[macro_export]
macro_rules! network_suite {
    ($backend:ident, $factory:expr) => {
        mod $backend {
            $crate::bounded_tests!($factory;
                refused_connection_is_a_connect_error,
                a_body_over_the_cap_fails_cleanly_and_the_client_goes_on,
                a_redirect_to_another_server_carries_no_credential,
            );
        }
    };
}

/// Runs each `$crate::network` scenario named with `$arg`, as a `#[tokio::test]` under the
/// watchdog and the scenario time limit.
#[macro_export]
macro_rules! bounded_tests {
    ($arg:expr; $($scenario:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $scenario() {
            let name = concat!(module_path!(), "::", stringify!($scenario));
            let _watchdog = $crate::Watchdog::start(name);
            $crate::within(name, $crate::network::$scenario($arg)).await;
        }
    )*};
}
