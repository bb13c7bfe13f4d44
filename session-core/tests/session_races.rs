//! Concurrent calls cannot undo each other's session: logout and revoke token clear only
//! what they owned, late cookies cannot revive an ended session, and revoking a token
//! handed out never touches the client's own session.

mod support;

use bytes::Bytes;
use http::Response;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use support::*;
use thoughtspot_session_core::{AccessToken, LoginRequest, SessionApi, SessionClient};
use tokio::sync::oneshot;

/// Holds the answers of chosen operations until the test releases them.
#[derive(Clone, Default)]
struct Gates(Arc<Mutex<HeldByOperation>>);

type HeldByOperation = HashMap<&'static str, Vec<oneshot::Receiver<()>>>;

impl Gates {
    /// The next call of `operation` (last path segment) waits for the returned sender.
    fn hold(&self, operation: &'static str) -> oneshot::Sender<()> {
        let (release, held) = oneshot::channel();
        self.0.lock().unwrap().entry(operation).or_default().push(held);
        release
    }

    fn reply(&self, operation: &str, answer: Response<Bytes>) -> Reply {
        let held = self
            .0
            .lock()
            .unwrap()
            .get_mut(operation)
            .and_then(|q| (!q.is_empty()).then(|| q.remove(0)));
        match held {
            Some(gate) => Reply::Later(Box::pin(async move {
                let _ = gate.await;
                answer
            })),
            None => Reply::Answer(answer),
        }
    }
}

/// A cluster whose n-th login sets `JSESSIONID=js-n`, whose session info sets the current
/// cookie again, and whose revoke token sets another user's cookie.
fn cluster(gates: &Gates) -> FnTransport {
    let gates = gates.clone();
    let logins = Arc::new(Mutex::new(0u32));
    FnTransport::new(move |r, _| {
        let operation = r.uri().path().rsplit('/').next().unwrap_or("").to_owned();
        let answer = match operation.as_str() {
            "login" => {
                let mut n = logins.lock().unwrap();
                *n += 1;
                let cookie: &'static str = Box::leak(format!("JSESSIONID=js-{n}; Path=/").into_boxed_str());
                answer_with(
                    200,
                    &[("set-cookie", cookie)],
                    r#"{"userName":"u","tokenType":"Cookie"}"#,
                )
            }
            "session" => {
                let echo: &'static str = match header(r, "cookie") {
                    Some(c) => Box::leak(format!("{c}; Path=/").into_boxed_str()),
                    None => "none=1; Path=/",
                };
                answer_with(200, &[("set-cookie", echo)], r#"{"userName":"u"}"#)
            }
            "revoketoken" => answer_with(200, &[("set-cookie", "JSESSIONID=other-user; Path=/")], "true"),
            _ => answer(200, "true"),
        };
        gates.reply(&operation, answer)
    })
}

async fn settle() {
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn a_token_set_on_a_clone_during_logout_survives_it() {
    let gates = Gates::default();
    let t = cluster(&gates);
    let c = builder(&InstantSleep::default())
        .no_timeout()
        .access_token("tok-old")
        .build(t.clone())
        .unwrap();
    let release = gates.hold("logout");
    let logout = tokio::spawn({
        let c = c.clone();
        async move { c.logout().await }
    });
    settle().await;
    c.clone().set_access_token("tok-new").unwrap();
    release.send(()).unwrap();
    assert!(logout.await.unwrap().unwrap());
    assert_eq!(
        c.access_token().map(|t| t.secret().to_owned()).as_deref(),
        Some("tok-new")
    );

    // Left alone, the token logout started with is cleared.
    c.logout().await.unwrap();
    assert!(!c.has_access_token());
}

#[tokio::test]
async fn a_cookie_answering_a_call_sent_before_logout_ended_does_not_revive_the_session() {
    let gates = Gates::default();
    let t = cluster(&gates);
    let c = builder(&InstantSleep::default())
        .no_timeout()
        .build(t.clone())
        .unwrap();
    c.login(&LoginRequest::with_password("u", "p")).await.unwrap();
    let release = gates.hold("session");
    let info = tokio::spawn({
        let c = c.clone();
        async move { c.get_session_info().await }
    });
    settle().await;
    assert_eq!(
        header(&t.last().unwrap(), "cookie"),
        Some("JSESSIONID=js-1"),
        "sent in the session"
    );
    c.logout().await.unwrap();
    release.send(()).unwrap();
    info.await.unwrap().unwrap();
    assert!(c.cookie_names().is_empty(), "{:?}", c.cookie_names());
    c.get_session_info().await.unwrap();
    assert_eq!(header(&t.last().unwrap(), "cookie"), None);
}

#[tokio::test]
async fn a_login_during_logout_keeps_its_new_session() {
    let gates = Gates::default();
    let t = cluster(&gates);
    let c = builder(&InstantSleep::default())
        .no_timeout()
        .build(t.clone())
        .unwrap();
    c.login(&LoginRequest::with_password("u", "p")).await.unwrap();

    // A login answered while logout is in flight.
    let release_logout = gates.hold("logout");
    let logout = tokio::spawn({
        let c = c.clone();
        async move { c.logout().await }
    });
    settle().await;
    c.login(&LoginRequest::with_password("u", "p")).await.unwrap();
    release_logout.send(()).unwrap();
    logout.await.unwrap().unwrap();
    c.get_session_info().await.unwrap();
    assert_eq!(header(&t.last().unwrap(), "cookie"), Some("JSESSIONID=js-2"));

    // A login sent before a logout ended and answered after it.
    let release_login = gates.hold("login");
    let login = tokio::spawn({
        let c = c.clone();
        async move { c.login(&LoginRequest::with_password("u", "p")).await }
    });
    settle().await;
    c.logout().await.unwrap();
    release_login.send(()).unwrap();
    login.await.unwrap().unwrap();
    c.get_session_info().await.unwrap();
    assert_eq!(header(&t.last().unwrap(), "cookie"), Some("JSESSIONID=js-3"));
}

#[tokio::test]
async fn revoking_a_handed_out_token_neither_sends_nor_keeps_cookies() {
    let gates = Gates::default();
    let t = cluster(&gates);
    let c = builder(&InstantSleep::default())
        .no_timeout()
        .access_token("tok-service")
        .build(t.clone())
        .unwrap();
    c.login(&LoginRequest::with_password("u", "p")).await.unwrap();
    assert!(
        c.revoke_access_token(&AccessToken::from("tok-user"))
            .await
            .unwrap()
    );
    let revoke = t.last().unwrap();
    assert_eq!(header(&revoke, "authorization"), Some("Bearer tok-user"));
    assert_eq!(
        header(&revoke, "cookie"),
        None,
        "the client's session cookie is not sent"
    );
    c.get_session_info().await.unwrap();
    let after = t.last().unwrap();
    assert_eq!(
        header(&after, "cookie"),
        Some("JSESSIONID=js-1"),
        "the answer's cookie is not kept"
    );
    assert_eq!(header(&after, "authorization"), Some("Bearer tok-service"));
}

#[tokio::test]
async fn a_secure_cookie_from_a_loopback_name_goes_back() {
    for base in [
        "http://app.localhost:8080",
        "http://localhost.:8080",
        "http://127.0.0.1:8080",
    ] {
        let t = FnTransport::new(|r, _| {
            Reply::Answer(if r.uri().path().ends_with("/login") {
                answer_with(
                    200,
                    &[("set-cookie", "JSESSIONID=js-s; Path=/; Secure; HttpOnly")],
                    "{}",
                )
            } else {
                answer(200, "{}")
            })
        });
        let c = SessionClient::builder(base)
            .api_version(thoughtspot_session_core::ApiVersion::V2Beta)
            .sleep(InstantSleep::default())
            .build(t.clone())
            .unwrap();
        c.login(&LoginRequest::with_password("u", "p")).await.unwrap();
        c.get_session_info().await.unwrap();
        assert_eq!(
            header(&t.last().unwrap(), "cookie"),
            Some("JSESSIONID=js-s"),
            "{base}"
        );
    }
}
