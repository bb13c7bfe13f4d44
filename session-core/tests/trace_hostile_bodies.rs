//! The library's own events (`call failed error=…`, `retrying error=…`) hold no secret a
//! hostile server put where a careless client would quote it.
//!
//! The only test in its binary, with a global TRACE subscriber installed before any
//! event: tracing's callsite cache cannot hide an event from it.

mod support;

use support::*;
use thoughtspot_session_core::{GetTokenRequest, SessionApi};

/// Where a broken or hostile server puts a secret: (status, Location, body).
const HOSTILE: &[(u16, &str, &str)] = &[
    (200, "", "SECRET-plain-text-token"),
    (200, "", "token=SECRET-form&expires=300"),
    (200, "", r#"{"token": SECRET-unquoted}"#),
    (200, "", r#"{"SECRET-as-key": 1}"#),
    (200, "", r#"["user", "SECRET-in-array"]"#),
    (200, "", r#"{"token": "SECRET-cut"#),
    (302, "/callosum/login;jsessionid=SECRET-jsession", ""),
    (302, "https://admin:SECRET-userinfo@sso.example.org/x", ""),
    (
        302,
        "https://sso.example.org/SECRET-path/login?t=SECRET-query",
        "",
    ),
    (503, "", "SECRET-503-body"),
    (400, "", "SECRET-400-body"),
];

#[tokio::test]
async fn events_quote_nothing_a_hostile_server_sent() {
    let captured = Captured::default();
    let subscriber = captured.subscriber();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    for &(status, location, body) in HOSTILE {
        let t = FnTransport::new(move |_, _| {
            Reply::Answer(if location.is_empty() {
                answer(status, body)
            } else {
                answer_with(status, &[("location", location)], body)
            })
        });
        let c = client(&t);
        let info = c.get_session_info().await;
        let token = c.get_token(&GetTokenRequest::with_secret_key("u", "k")).await;
        let shown = format!("{info:?} {token:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        for e in [info.err(), token.err()].into_iter().flatten() {
            assert!(!e.to_string().contains("SECRET"), "{e}");
        }
    }
    let traces = captured.text();
    assert!(
        traces.contains("call failed") && traces.contains("retrying"),
        "{traces}"
    );
    assert!(
        traces.contains("not followed") && traces.contains("not JSON"),
        "{traces}"
    );
    assert!(!traces.contains("SECRET"), "{traces}");
}
