//! A cluster that echoes the credential it was sent into every text of its error body
//! (message, code, service, debug, incident and trace ids), in the beta's shape and in
//! v2.0's: the error a user prints, debugs or reads field by field never shows it, on every
//! operation of both generations that takes a password or a secret key.

mod support;

use serde_json::{Value, json};
use support::*;
use thoughtspot_session_core::v2::{
    self, AuthApi, GetCustomAccessTokenRequest, GetFullAccessTokenRequest, GetObjectAccessTokenRequest,
    PersistOption,
};
use thoughtspot_session_core::{ApiVersion, Error, GetTokenRequest, LoginRequest, SessionApi};

const PASSWORD: &str = "PW-echoed-0xBAD";
const KEY: &str = "KEY-echoed-0xC0DE";

/// Every string value of the request's JSON body, joined: what an echoing server repeats.
fn echo(request: &http::Request<bytes::Bytes>) -> String {
    let body: Value = serde_json::from_slice(request.body()).unwrap_or(Value::Null);
    let mut found = Vec::new();
    if let Value::Object(fields) = body {
        for value in fields.values() {
            if let Value::String(s) = value {
                found.push(s.clone());
            }
        }
    }
    found.join(" ")
}

/// A 500 carrying the echo in every text field, in the generation's own error shape.
fn hostile(request: &http::Request<bytes::Bytes>) -> Value {
    let e = echo(request);
    if request.uri().path().contains("/api/rest/2.0/") {
        json!({"error": {"message": {"code": e, "incident_id_guid": e, "trace_id_guid": e, "debug": e}}})
    } else {
        json!({"error": {"errors": {"message": e, "extension": {"service": e, "code": e, "exception": {
            "service": e, "upstreamResponse": {"status": 401, "data": {"code": 10002, "debug": e,
            "incident_id_guid": e, "trace_id_guid": e}}}}}}})
    }
}

fn cluster() -> FnTransport {
    FnTransport::new(|r, _| {
        let body = hostile(r).to_string();
        Reply::Answer(
            http::Response::builder()
                .status(500)
                .header("content-type", "application/json")
                .body(bytes::Bytes::from(body))
                .expect("a response"),
        )
    })
}

/// Everything a user could print of `e`: Display, Debug, the chain, each envelope field.
fn shown(e: &Error) -> String {
    let mut out = format!("{e}\n{e:?}\n{e:#?}\n");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(&format!("{s}\n{s:?}\n"));
        source = s.source();
    }
    if let Error::Api(api) = e {
        let envelope = api.envelope();
        for field in [
            envelope.message(),
            envelope.code(),
            envelope.service(),
            envelope.debug_message(),
            envelope.incident_id(),
            envelope.trace_id(),
        ] {
            out.push_str(field.unwrap_or(""));
            out.push('\n');
        }
    }
    out
}

#[tokio::test]
async fn no_echoed_credential_shows_on_any_operation_of_either_generation() {
    let t = cluster();
    let sleep = InstantSleep::default();
    let beta = builder(&sleep)
        .api_version(ApiVersion::V2Beta)
        .build(t.clone())
        .unwrap();
    let v2c = builder(&sleep)
        .api_version(ApiVersion::V2)
        .build(t.clone())
        .unwrap();
    let mut errors: Vec<(&str, Error)> = Vec::new();
    for client in [&beta, &v2c] {
        errors.push((
            "login",
            client
                .login(&LoginRequest::with_password("u", PASSWORD))
                .await
                .unwrap_err(),
        ));
        errors.push((
            "get token, password",
            client
                .get_token(&GetTokenRequest::with_password("u", PASSWORD))
                .await
                .unwrap_err(),
        ));
        errors.push((
            "get token, key",
            client
                .get_token(&GetTokenRequest::with_secret_key("u", KEY))
                .await
                .unwrap_err(),
        ));
        errors.push((
            "get token, object",
            client
                .get_token(&GetTokenRequest::with_secret_key("u", KEY).with_report_book_view("obj-1"))
                .await
                .unwrap_err(),
        ));
    }
    errors.push((
        "session/login",
        v2c.session_login(&v2::SessionLoginRequest::with_password("u", PASSWORD))
            .await
            .unwrap_err(),
    ));
    errors.push((
        "token/full, password",
        v2c.token_full(&GetFullAccessTokenRequest::with_password("u", PASSWORD))
            .await
            .unwrap_err(),
    ));
    errors.push((
        "token/full, key",
        v2c.token_full(&GetFullAccessTokenRequest::with_secret_key("u", KEY))
            .await
            .unwrap_err(),
    ));
    errors.push((
        "token/object, password",
        v2c.token_object(&GetObjectAccessTokenRequest::with_password(
            "u", "obj-1", PASSWORD,
        ))
        .await
        .unwrap_err(),
    ));
    errors.push((
        "token/object, key",
        v2c.token_object(&GetObjectAccessTokenRequest::with_secret_key("u", "obj-1", KEY))
            .await
            .unwrap_err(),
    ));
    errors.push((
        "token/custom, password",
        v2c.token_custom(&GetCustomAccessTokenRequest::with_password(
            "u",
            PASSWORD,
            PersistOption::None,
        ))
        .await
        .unwrap_err(),
    ));
    errors.push((
        "token/custom, key",
        v2c.token_custom(&GetCustomAccessTokenRequest::with_secret_key(
            "u",
            KEY,
            PersistOption::None,
        ))
        .await
        .unwrap_err(),
    ));
    assert_eq!(errors.len(), 15);
    for (operation, e) in &errors {
        assert!(
            matches!(e, Error::Api(_)),
            "{operation}: the envelope was read: {e:?}"
        );
        let text = shown(e);
        assert!(
            text.contains("[redacted]"),
            "{operation}: the echo was there to redact:\n{text}"
        );
        for secret in [PASSWORD, KEY] {
            assert!(!text.contains(secret), "{operation} shows {secret}:\n{text}");
        }
        let incident = e.incident_id().unwrap_or("");
        assert!(
            !incident.contains(PASSWORD) && !incident.contains(KEY),
            "{operation}: {incident}"
        );
    }
}
