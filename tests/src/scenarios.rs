//! Scenarios that hold on every backend: each stubs what a cluster answers, drives the
//! client, and checks what went over the wire and what the caller got.

use crate::harness::{Harness, Stub};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use thoughtspot_session_core::{
    Error, GetTokenRequest, HttpTransport, LoginRequest, RetryPolicy, SessionApi, SessionClient,
    SessionClientBuilder, TokenType, TokioSleep,
};

pub use crate::scenarios_v2::*;

pub const SESSION: &str = "/tspublic/rest/v2/session";
pub const LOGIN: &str = "/tspublic/rest/v2/session/login";
pub const LOGOUT: &str = "/tspublic/rest/v2/session/logout";
pub const GET_TOKEN: &str = "/tspublic/rest/v2/session/gettoken";
pub const REVOKE_TOKEN: &str = "/tspublic/rest/v2/session/revoketoken";

const UA: &str = concat!("thoughtspot-session-core/", env!("CARGO_PKG_VERSION"));

fn token_body() -> serde_json::Value {
    json!({"userName": "analyst", "token": "tok-1", "tokenCreatedTime": "1648051501240",
           "tokenExpiryDuration": "300", "tokenType": "Bearer"})
}

fn envelope(upstream: u16, code: i64, debug: &str) -> serde_json::Value {
    json!({"error": {"errors": {"message": "Request failed with status code 500",
        "extension": {"service": "CALLOSUM", "code": "UPSTREAM_FAILURE", "exception": {
            "upstreamResponse": {"status": upstream, "data": {"code": code, "debug": debug,
                "incident_id_guid": "inc-42", "trace_id_guid": "trace-42"}}}}}}})
}

/// The client every scenario uses: real tokio time, short backoff without jitter.
pub fn builder(h: &dyn Harness) -> SessionClientBuilder<Arc<dyn HttpTransport>> {
    SessionClient::builder(h.base_url())
        .api_version(thoughtspot_session_core::ApiVersion::V2Beta)
        .sleep(TokioSleep::new())
        .timeout(Duration::from_secs(10))
        .retry(
            RetryPolicy::default()
                .jitter(false)
                .initial_backoff(Duration::from_millis(10)),
        )
        .transport(h.transport())
}

fn client(h: &dyn Harness) -> SessionClient<Arc<dyn HttpTransport>> {
    builder(h).build().expect("valid configuration")
}

fn assert_common_headers(r: &crate::Recorded, with_body: bool) {
    assert_eq!(r.header("accept"), Some("application/json"));
    assert_eq!(r.header("user-agent"), Some(UA));
    assert_eq!(r.header("x-requested-by"), Some("ThoughtSpot"));
    assert_eq!(r.header("content-type"), with_body.then_some("application/json"));
}

pub async fn get_session_info_is_exact(h: &dyn Harness) {
    h.stub(
        Stub::new("GET", SESSION, 200).json(json!({"userName": "analyst", "userGUID": "g-1",
        "privileges": ["AUTHORING"], "releaseVersion": "10.1.0.cl", "unknownField": {"x": 1}})),
    )
    .await;
    let info = client(h).get_session_info().await.expect("session info");
    assert_eq!(
        (info.user_name(), info.user_guid(), info.release_version()),
        (Some("analyst"), Some("g-1"), Some("10.1.0.cl"))
    );
    let requests = h.requests().await;
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("GET", SESSION));
    assert_common_headers(r, false);
    assert!(r.body.is_empty());
}

pub async fn login_is_exact(h: &dyn Harness) {
    h.stub(
        Stub::new("POST", LOGIN, 200)
            .json(json!({"userName": "tsadmin", "token": "", "tokenType": "Cookie"})),
    )
    .await;
    let out = client(h)
        .login(&LoginRequest::with_password("tsadmin", "pw").with_remember_me(true))
        .await
        .expect("login");
    assert_eq!(out.token_type(), Some(&TokenType::Cookie));
    assert!(out.token().is_none());
    let r = &h.requests().await[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", LOGIN));
    assert_common_headers(r, true);
    assert_eq!(
        r.json(),
        json!({"userName": "tsadmin", "password": "pw", "rememberMe": true})
    );
}

pub async fn get_token_is_exact(h: &dyn Harness) {
    h.stub(Stub::new("POST", GET_TOKEN, 200).json(token_body())).await;
    let request = GetTokenRequest::with_secret_key("analyst", "key-1")
        .with_report_book_view("obj-1")
        .with_token_expiry(Duration::from_secs(300))
        .with_org_id("7");
    let out = client(h).get_token(&request).await.expect("token");
    assert_eq!(
        out.token().map(|t| t.secret().to_owned()).as_deref(),
        Some("tok-1")
    );
    assert_eq!(out.lifetime(), Some(Duration::from_secs(300)));
    let r = &h.requests().await[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", GET_TOKEN));
    assert_common_headers(r, true);
    assert_eq!(
        r.json(),
        json!({"userName": "analyst", "secretKey": "key-1", "accessLevel": "REPORT_BOOK_VIEW",
               "tsObjectId": "obj-1", "tokenExpiryDuration": "300", "orgId": "7"})
    );
}

pub async fn logout_and_revoke_are_exact(h: &dyn Harness) {
    h.stub(Stub::new("POST", LOGOUT, 200).json(json!(true))).await;
    h.stub(Stub::new("POST", REVOKE_TOKEN, 200).body(r#""true""#))
        .await;
    let c = client(h);
    assert!(c.logout().await.expect("logout"));
    assert!(c.revoke_token().await.expect("revoke"));
    let requests = h.requests().await;
    for (r, p) in requests.iter().zip([LOGOUT, REVOKE_TOKEN]) {
        assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", p));
        assert_common_headers(r, false);
        assert!(r.body.is_empty());
    }
}

pub async fn auth_rule_per_operation(h: &dyn Harness) {
    h.stub(Stub::new("GET", SESSION, 200).json(json!({}))).await;
    h.stub(Stub::new("POST", LOGIN, 200).json(json!({}))).await;
    h.stub(Stub::new("POST", GET_TOKEN, 200).json(token_body())).await;
    h.stub(Stub::new("POST", LOGOUT, 200).json(json!(true))).await;
    h.stub(Stub::new("POST", REVOKE_TOKEN, 200).json(json!(true)))
        .await;
    for token in [Some("tok-9"), None] {
        let mut b = builder(h);
        if let Some(t) = token {
            b = b.access_token(t);
        }
        let c = b.build().expect("valid");
        c.get_session_info().await.expect("info");
        c.login(&LoginRequest::with_password("u", "p"))
            .await
            .expect("login");
        c.get_token(&GetTokenRequest::with_password("u", "p"))
            .await
            .expect("token");
        c.logout().await.expect("logout");
        if let Some(t) = token {
            c.set_access_token(t).expect("valid token");
        }
        c.revoke_token().await.expect("revoke");
    }
    let seen: Vec<(String, Option<String>)> = h
        .requests()
        .await
        .iter()
        .map(|r| (r.path.clone(), r.header("authorization").map(str::to_owned)))
        .collect();
    let bearer = Some("Bearer tok-9".to_owned());
    let expected: Vec<(String, Option<String>)> = [
        (SESSION, bearer.clone()),
        (LOGIN, bearer.clone()),
        (GET_TOKEN, None),
        (LOGOUT, None),
        (REVOKE_TOKEN, bearer),
        (SESSION, None),
        (LOGIN, None),
        (GET_TOKEN, None),
        (LOGOUT, None),
        (REVOKE_TOKEN, None),
    ]
    .into_iter()
    .map(|(p, a)| (p.to_owned(), a))
    .collect();
    assert_eq!(seen, expected);
}

pub async fn session_cookie_round_trip(h: &dyn Harness) {
    h.stub(
        Stub::new("POST", LOGIN, 200)
            .json(json!({"userName": "u", "token": "", "tokenType": "Cookie"}))
            .header("set-cookie", "JSESSIONID=js-1; Path=/; HttpOnly")
            .header("set-cookie", "clientId=cid-1; Path=/")
            .header("set-cookie", "other=x; Domain=other.example.org; Path=/"),
    )
    .await;
    h.stub(Stub::new("GET", SESSION, 200).json(json!({"userName": "u"})))
        .await;
    h.stub(Stub::new("POST", LOGOUT, 200).json(json!(true))).await;
    let c = client(h);
    c.login(&LoginRequest::with_password("u", "p"))
        .await
        .expect("login");
    c.get_session_info().await.expect("info");
    c.logout().await.expect("logout");
    c.get_session_info().await.expect("info after logout");
    let cookies: Vec<Option<Vec<String>>> = h
        .requests()
        .await
        .iter()
        .map(|r| {
            r.header("cookie").map(|c| {
                let mut pairs: Vec<String> = c.split("; ").map(str::to_owned).collect();
                pairs.sort();
                pairs
            })
        })
        .collect();
    let session = Some(vec!["JSESSIONID=js-1".to_owned(), "clientId=cid-1".to_owned()]);
    assert_eq!(cookies, [None, session.clone(), session, None]);
}

pub async fn error_envelope_is_parsed(h: &dyn Harness) {
    h.stub(Stub::new("POST", LOGIN, 500).json(envelope(401, 10000, "Bad credentials")))
        .await;
    h.stub(Stub::new("POST", GET_TOKEN, 500).json(envelope(400, 10002, "Invalid parameter values userName")))
        .await;
    let c = client(h);
    let e = c
        .login(&LoginRequest::with_password("u", "wrong"))
        .await
        .expect_err("refused");
    assert!(e.is_unauthorized(), "{e}");
    assert_eq!(
        (e.incident_id(), e.trace_id()),
        (Some("inc-42"), Some("trace-42"))
    );
    let e = c
        .get_token(&GetTokenRequest::with_secret_key("u", "k"))
        .await
        .expect_err("refused");
    let Error::Api(api) = &e else { panic!("{e:?}") };
    assert_eq!(
        (
            api.status().as_u16(),
            api.envelope().upstream_status(),
            api.envelope().upstream_code()
        ),
        (500, Some(400), Some(10002))
    );
    assert!(!e.is_unauthorized());
    assert_eq!(h.requests().await.len(), 2, "a POST answered 500 is sent once");
}

pub async fn other_statuses_with_html_and_empty_bodies(h: &dyn Harness) {
    let page = "<!DOCTYPE html><html><body>Access denied</body></html>";
    for (status, body) in [(401, page), (403, ""), (404, page)] {
        let path: &'static str = match status {
            401 => LOGIN,
            403 => GET_TOKEN,
            _ => LOGOUT,
        };
        let mut stub = Stub::new("POST", path, status).body(body);
        if !body.is_empty() {
            stub = stub.header("content-type", "text/html");
        }
        h.stub(stub).await;
    }
    let c = client(h);
    let results = [
        c.login(&LoginRequest::with_password("u", "p")).await.map(|_| ()),
        c.get_token(&GetTokenRequest::with_password("u", "p"))
            .await
            .map(|_| ()),
        c.logout().await.map(|_| ()),
    ];
    for (result, (status, html)) in results.into_iter().zip([(401, true), (403, false), (404, true)]) {
        let e = result.expect_err("an error status");
        let Error::Status(s) = &e else { panic!("{e:?}") };
        assert_eq!(s.status().as_u16(), status);
        assert_eq!(s.is_html(), html);
        assert_eq!(e.is_unauthorized(), status == 401);
    }
}

pub async fn malformed_json_and_empty_bodies_on_200(h: &dyn Harness) {
    h.stub(Stub::new("POST", GET_TOKEN, 200).body(r#"{"token": "tok-secret", "#))
        .await;
    h.stub(Stub::new("POST", LOGOUT, 200)).await;
    let c = client(h);
    let e = c
        .get_token(&GetTokenRequest::with_password("u", "p"))
        .await
        .expect_err("malformed");
    let Error::Decode(d) = &e else { panic!("{e:?}") };
    assert_eq!(d.status().as_u16(), 200);
    assert!(!e.to_string().contains("tok-secret"));
    let e = c.logout().await.expect_err("empty");
    assert!(
        matches!(&e, Error::Decode(d) if d.expected() == "a JSON boolean"),
        "{e:?}"
    );
}

pub async fn redirects_are_not_followed(h: &dyn Harness) {
    h.stub(Stub::new("GET", SESSION, 302).header("location", "http://127.0.0.2:9/elsewhere"))
        .await;
    let c = builder(h).access_token("tok-1").build().expect("valid");
    let e = c.get_session_info().await.expect_err("a redirect");
    let Error::Status(s) = &e else { panic!("{e:?}") };
    assert_eq!(s.location(), Some("http://127.0.0.2:9/elsewhere"));
    assert!(e.to_string().contains("not followed"), "{e}");
    assert_eq!(h.requests().await.len(), 1, "not retried");
}

pub async fn get_is_retried_on_503_until_200(h: &dyn Harness) {
    h.stub(Stub::new("GET", SESSION, 503).times(2)).await;
    h.stub(
        Stub::new("GET", SESSION, 200)
            .json(json!({"userName": "u"}))
            .times(1),
    )
    .await;
    let info = client(h).get_session_info().await.expect("third attempt");
    assert_eq!(info.user_name(), Some("u"));
    assert_eq!(h.requests().await.len(), 3);
}

pub async fn retry_after_is_honoured(h: &dyn Harness) {
    h.stub(Stub::new("GET", SESSION, 429).header("retry-after", "1").times(1))
        .await;
    h.stub(Stub::new("GET", SESSION, 200).json(json!({})).times(1))
        .await;
    let started = Instant::now();
    client(h).get_session_info().await.expect("second attempt");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(h.requests().await.len(), 2);
}

pub async fn whole_call_timeout_fires(h: &dyn Harness) {
    h.stub(
        Stub::new("POST", GET_TOKEN, 200)
            .json(token_body())
            .delay(Duration::from_secs(30)),
    )
    .await;
    let c = builder(h)
        .timeout(Duration::from_millis(300))
        .build()
        .expect("valid");
    let started = Instant::now();
    let e = c
        .get_token(&GetTokenRequest::with_password("u", "p"))
        .await
        .expect_err("timed out");
    assert!(matches!(e, Error::Timeout(_)), "{e:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
}

pub async fn concurrent_calls_get_their_own_answers(h: &dyn Harness) {
    h.stub(Stub::new("POST", GET_TOKEN, 200).echo_user()).await;
    let shared = client(h);
    let tasks: Vec<_> = (0..200)
        .map(|n| {
            let c = shared.clone();
            tokio::spawn(async move {
                let user = format!("user-{n}");
                let out = c
                    .get_token(&GetTokenRequest::with_secret_key(user.as_str(), "k"))
                    .await
                    .expect("answer");
                (
                    user,
                    out.user_name().map(str::to_owned),
                    out.token().map(|t| t.secret().to_owned()),
                )
            })
        })
        .collect();
    for task in tasks {
        let (user, answered, token) = task.await.expect("task");
        assert_eq!(answered.as_deref(), Some(user.as_str()));
        assert_eq!(token, Some(format!("tok-{user}")));
    }
    assert_eq!(h.requests().await.len(), 200);
}

/// Runs each scenario named, against the harness `$make` makes, as a `#[tokio::test]`.
#[macro_export]
macro_rules! scenario_tests {
    ($make:expr; $($scenario:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $scenario() {
            let name = concat!(module_path!(), "::", stringify!($scenario));
            let _watchdog = $crate::Watchdog::start(name);
            let harness = $make.await;
            $crate::within(name, async {
                $crate::scenarios::$scenario(&harness).await;
                $crate::Harness::verify(&harness).await;
            })
            .await;
        }
    )*};
}

/// The whole suite of harness scenarios against one harness maker: one line per backend.
#[macro_export]
macro_rules! contract_suite {
    ($backend:ident, $make:expr) => {
        mod $backend {
            #[allow(unused_imports)]
            use super::*;
            $crate::scenario_tests!($make;
                get_session_info_is_exact,
                login_is_exact,
                get_token_is_exact,
                logout_and_revoke_are_exact,
                auth_rule_per_operation,
                session_cookie_round_trip,
                error_envelope_is_parsed,
                other_statuses_with_html_and_empty_bodies,
                malformed_json_and_empty_bodies_on_200,
                redirects_are_not_followed,
                get_is_retried_on_503_until_200,
                retry_after_is_honoured,
                whole_call_timeout_fires,
                concurrent_calls_get_their_own_answers,
                v2_operations_are_exact,
                v2_error_statuses_and_bodies,
                v2_session_api_goes_to_the_successors,
                auto_on_an_old_server_falls_back_to_the_beta,
                auto_on_a_new_server_stays_on_v2,
            );
        }
    };
}
