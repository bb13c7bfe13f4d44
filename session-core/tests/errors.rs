//! Every kind of answer maps to the right Error, with the details a caller needs.

mod support;

use support::*;
use thoughtspot_session_core::{Error, GetTokenRequest, LoginRequest, SessionApi, TransportError};

const ENVELOPE_401: &str = r#"{"error":{"errors":{"message":"Request failed with status code 500",
  "extension":{"service":"CALLOSUM","code":"UPSTREAM_FAILURE","exception":{"upstreamResponse":{
  "status":401,"data":{"code":10000,"incident_id_guid":"inc-401","trace_id_guid":"trace-401",
  "debug":"Bad credentials"}}}}}}}"#;
const ENVELOPE_400: &str = r#"{"error":{"errors":[{"message":"Request failed with status code 500",
  "extensions":{"code":"UPSTREAM_FAILURE","exception":{"upstreamResponse":{"status":400,"data":{
  "code":10002,"incident_id_guid":"inc-400","trace_id_guid":"trace-400",
  "debug":"Invalid parameter values userName"}}}}}]}}"#;

async fn login_error(status: u16, headers: &[(&'static str, &'static str)], body: &'static str) -> Error {
    let headers = headers.to_vec();
    let t = FnTransport::new(move |_, _| Reply::Answer(answer_with(status, &headers, body)));
    client(&t)
        .login(&LoginRequest::with_password("u", "p"))
        .await
        .unwrap_err()
}

#[tokio::test]
async fn the_error_envelope_is_parsed() {
    let e = login_error(500, &[("content-type", "application/json")], ENVELOPE_401).await;
    let Error::Api(api) = &e else { panic!("{e:?}") };
    assert_eq!(api.envelope().upstream_status(), Some(401));
    assert_eq!(api.envelope().debug_message(), Some("Bad credentials"));
    assert_eq!(api.body().as_ref(), ENVELOPE_401.as_bytes());
    assert_eq!(api.headers()["content-type"], "application/json");
    assert!(e.is_unauthorized());
    assert!(!e.is_retryable());
    assert_eq!(e.status().map(|s| s.as_u16()), Some(500));
    assert_eq!(
        (e.incident_id(), e.trace_id()),
        (Some("inc-401"), Some("trace-401"))
    );
    assert_eq!(
        e.to_string(),
        "login failed: the cluster answered HTTP 500 (upstream 401, code 10000): Bad credentials [incident inc-401]"
    );

    let e = login_error(500, &[], ENVELOPE_400).await;
    let Error::Api(api) = &e else { panic!("{e:?}") };
    assert_eq!(api.envelope().upstream_status(), Some(400));
    assert_eq!(api.envelope().upstream_code(), Some(10002));
    assert!(!e.is_unauthorized());
    assert_eq!(e.incident_id(), Some("inc-400"));
}

#[tokio::test]
async fn other_statuses_keep_status_headers_and_body_and_recognise_html() {
    for status in [401u16, 403, 404] {
        let e = login_error(
            status,
            &[("content-type", "text/html")],
            "<html><body>Denied</body></html>",
        )
        .await;
        let Error::Status(s) = &e else { panic!("{e:?}") };
        assert_eq!(s.status().as_u16(), status);
        assert!(s.is_html());
        assert_eq!(s.body().as_ref(), b"<html><body>Denied</body></html>");
        assert!(e.to_string().contains("HTML page"), "{e}");
        assert_eq!(e.is_unauthorized(), status == 401);

        let e = login_error(status, &[], "").await;
        let Error::Status(s) = &e else { panic!("{e:?}") };
        assert!(!s.is_html());
        assert!(e.to_string().ends_with("with an empty body"), "{e}");
    }
    // HTML without a content type is still recognised; a 500 without an envelope is a
    // status error.
    let e = login_error(500, &[], "\n<!DOCTYPE html><title>Maintenance</title>").await;
    let Error::Status(s) = &e else { panic!("{e:?}") };
    assert!(s.is_html());
    let e = login_error(503, &[], "busy").await;
    assert!(e.is_retryable());
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let e = login_error(
        302,
        &[("location", "https://sso.example.org/login?ticket=abc")],
        "",
    )
    .await;
    let Error::Status(s) = &e else { panic!("{e:?}") };
    assert_eq!(s.location(), Some("https://sso.example.org/login?ticket=abc"));
    assert_eq!(
        e.to_string(),
        "login failed: HTTP 302 Found, redirect to https://sso.example.org/[path redacted] not followed"
    );
}

#[tokio::test]
async fn a_redirect_prints_no_secret_of_its_location() {
    for (location, shown) in [
        (
            "/callosum/login;jsessionid=JS-SECRET-1",
            "a location on the same server [path redacted]",
        ),
        (
            "https://admin:PW-SECRET-2@sso.example.org:8443/x",
            "https://sso.example.org:8443/[path redacted]",
        ),
        (
            "https://sso.example.org/TOK-SECRET-3/login",
            "https://sso.example.org/[path redacted]",
        ),
        (
            "https://sso.example.org/#TOK-SECRET-4",
            "https://sso.example.org/[path redacted]",
        ),
        ("https://sso.example.org/", "https://sso.example.org/"),
        (
            "not a url SECRET-5",
            "a location on the same server [path redacted]",
        ),
    ] {
        let e = login_error(302, &[("location", location)], "").await;
        let text = e.to_string();
        assert!(
            text.contains(&format!("redirect to {shown} not followed")),
            "{text}"
        );
        assert!(
            !text.contains("SECRET") && !format!("{e:?}").contains("SECRET"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn undecodable_2xx_bodies_are_decode_errors_that_quote_no_value() {
    let t = FnTransport::always(200, r#"{"userName":"u","token":"tok-SECRET-9","#);
    let e = client(&t)
        .get_token(&GetTokenRequest::with_secret_key("u", "k"))
        .await
        .unwrap_err();
    let Error::Decode(d) = &e else { panic!("{e:?}") };
    assert_eq!(d.snippet(), "<39 bytes of malformed JSON object>");
    assert!(e.to_string().contains("the JSON ends early"), "{e}");
    assert!(!e.to_string().contains("tok-SECRET-9") && !format!("{e:?}").contains("tok-SECRET-9"));

    let t = FnTransport::always(200, r#"["not","an","object"]"#);
    let e = client(&t).get_session_info().await.unwrap_err();
    assert!(
        matches!(e, Error::Decode(_)) && e.to_string().contains("got a JSON array"),
        "{e}"
    );
    // An array is no answer to login or get token either, whatever it holds.
    let t = FnTransport::always(200, r#"["analyst","TOK-SECRET-7"]"#);
    let e = client(&t)
        .get_token(&GetTokenRequest::with_secret_key("u", "k"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Decode(_)), "{e:?}");
    assert!(
        !e.to_string().contains("TOK-SECRET-7") && !e.to_string().contains("analyst"),
        "{e}"
    );

    let t = FnTransport::always(200, r#"{"userName": "u", "token": TOK-SECRET-8}"#);
    let e = client(&t)
        .get_token(&GetTokenRequest::with_secret_key("u", "k"))
        .await
        .unwrap_err();
    assert!(!e.to_string().contains("TOK-SECRET-8"), "{e}");
    for body in ["TOK-SECRET-9 plain text", "token=TOK-SECRET-9&expires=300"] {
        let t = FnTransport::new(move |_, _| Reply::Answer(answer(200, body)));
        let e = client(&t).get_session_info().await.unwrap_err();
        assert!(
            !e.to_string().contains("TOK-SECRET-9") && !format!("{e:?}").contains("TOK-SECRET-9"),
            "{e}"
        );
    }

    for body in ["", "1", "null", r#""yes""#, "{}", "<html></html>"] {
        let t = FnTransport::new(move |_, _| Reply::Answer(answer(200, body)));
        let e = client(&t).logout().await.unwrap_err();
        let Error::Decode(d) = &e else {
            panic!("{body:?}: {e:?}")
        };
        assert_eq!(d.expected(), "a JSON boolean");
    }
    let t = FnTransport::always(200, r#""false""#);
    assert!(!client(&t).revoke_token().await.unwrap());
}

#[tokio::test]
async fn a_204_answer_to_logout_or_revoke_is_success() {
    let t = FnTransport::always(204, "");
    assert!(client(&t).logout().await.unwrap());
    assert!(client(&t).revoke_token().await.unwrap());
}

#[tokio::test]
async fn transport_errors_keep_their_kind_and_source() {
    let t = FnTransport::new(|_, _| {
        Reply::Fail(TransportError::io(std::io::Error::new(
            std::io::ErrorKind::BrokenPipe,
            "pipe",
        )))
    });
    let e = client(&t)
        .get_token(&GetTokenRequest::with_secret_key("u", "k"))
        .await
        .unwrap_err();
    let Error::Transport(te) = &e else { panic!("{e:?}") };
    assert!(te.is_io());
    assert_eq!(t.count(), 1, "an io error on a POST is not retried");
    assert_eq!(te.operation(), Some("get token"));
    let source = std::error::Error::source(&e).unwrap();
    assert_eq!(source.to_string(), "pipe");
}

#[tokio::test]
async fn invalid_requests_are_refused_before_sending() {
    let t = FnTransport::always(200, TOKEN_BODY);
    let c = client(&t);
    let cases = [
        (
            GetTokenRequest::with_secret_key("u", "k")
                .with_access_level(thoughtspot_session_core::AccessLevel::ReportBookView),
            "tsObjectId",
        ),
        (GetTokenRequest::with_secret_key("u", ""), "password or secretKey"),
        (GetTokenRequest::with_password(" ", "p"), "userName"),
        (
            GetTokenRequest::with_password("u", "p").with_token_expiry(std::time::Duration::ZERO),
            "at least one second",
        ),
    ];
    for (request, words) in cases {
        let e = c.get_token(&request).await.unwrap_err();
        assert!(
            matches!(e, Error::InvalidRequest(_)) && e.to_string().contains(words),
            "{e}"
        );
    }
    let e = c.login(&LoginRequest::with_password("u", "")).await.unwrap_err();
    assert!(matches!(e, Error::InvalidRequest(_)), "{e}");
    let decoded: GetTokenRequest = serde_json::from_str(r#"{"userName":"u"}"#).unwrap();
    assert!(matches!(
        c.get_token(&decoded).await,
        Err(Error::InvalidRequest(_))
    ));
    assert_eq!(t.count(), 0);
}

/// The texts a reporter prints walking `source()` from `e`.
fn chain(e: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut texts = vec![e.to_string()];
    let mut next = e.source();
    while let Some(cause) = next {
        texts.push(cause.to_string());
        next = cause.source();
    }
    texts
}

#[tokio::test(start_paused = true)]
async fn every_kind_of_error_says_each_thing_once_along_its_chain() {
    use thoughtspot_session_core::{ConfigError, SessionClient, TokioSleep};
    let refused = FnTransport::new(|_, _| {
        Reply::Fail(TransportError::connect(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "Connection refused (os error 111)",
        )))
    });
    let by_key = GetTokenRequest::with_secret_key("u", "k");
    let envelope = r#"{"error":{"message":"boom","code":"E1"}}"#;
    let errors: Vec<(Error, Vec<&str>)> = vec![
        (
            client(&FnTransport::always(500, envelope))
                .get_token(&by_key)
                .await
                .unwrap_err(),
            vec!["get token failed: the cluster answered HTTP 500 (E1): boom"],
        ),
        (
            client(&FnTransport::always(404, ""))
                .get_token(&by_key)
                .await
                .unwrap_err(),
            vec!["get token failed: HTTP 404 Not Found with an empty body"],
        ),
        (
            client(&FnTransport::always(200, "x"))
                .get_token(&by_key)
                .await
                .unwrap_err(),
            vec![
                "get token answered HTTP 200 but the body is not a JSON object: malformed JSON \
                 (the body is <1 bytes of text, not JSON>)",
            ],
        ),
        (
            client(&refused).get_token(&by_key).await.unwrap_err(),
            vec![
                "get token failed: could not connect to the cluster",
                "Connection refused (os error 111)",
            ],
        ),
        (
            SessionClient::builder(BASE)
                .api_version(thoughtspot_session_core::ApiVersion::V2Beta)
                .sleep(TokioSleep::new())
                .timeout(std::time::Duration::from_secs(5))
                .build(FnTransport::new(|_, _| Reply::Hang))
                .unwrap()
                .get_token(&by_key)
                .await
                .unwrap_err(),
            vec!["get token did not finish within 5s (1 attempt)"],
        ),
        (
            client(&refused)
                .get_token(&GetTokenRequest::with_secret_key("u", ""))
                .await
                .unwrap_err(),
            vec!["invalid request, not sent: get token: needs a non-empty password or secretKey"],
        ),
        (
            Error::from(ConfigError::with_source(
                "TLS could not be set up",
                std::io::Error::other("no usable certificate"),
            )),
            vec![
                "invalid client configuration: TLS could not be set up",
                "no usable certificate",
            ],
        ),
    ];
    let kinds: std::collections::HashSet<_> = errors.iter().map(|(e, _)| std::mem::discriminant(e)).collect();
    assert_eq!(kinds.len(), 7, "every variant");
    for (e, expected) in &errors {
        let texts = chain(e);
        assert_eq!(texts, *expected, "{e:?}");
        for pair in texts.windows(2) {
            assert!(
                !pair[0].contains(&pair[1]) && !pair[1].contains(&pair[0]),
                "{texts:?}"
            );
        }
    }
}
