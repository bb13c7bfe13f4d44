//! No password, secret key, token or cookie value reaches Debug, Display or a trace.

mod support;

use support::*;
use thoughtspot_session_core::{
    Error, GetTokenRequest, LoginRequest, SessionApi, SessionClient, SessionLoginResponse, TransportError,
};

const SECRETS: [&str; 6] = [
    "PW-hunter2",
    "KEY-s3cr3t",
    "TOK-issued",
    "TOK-configured",
    "JS-cookie",
    "CID-cookie",
];

/// A cluster that sets cookies, issues tokens, and fails in every way, echoing secrets in
/// its bodies and headers where a careless client might print them.
fn hostile_cluster() -> FnTransport {
    FnTransport::new(|r, i| {
        let path = r.uri().path().to_owned();
        Reply::Answer(match (path.rsplit('/').next().unwrap_or(""), i % 7) {
            ("login", _) => answer_with(
                200,
                &[
                    ("set-cookie", "JSESSIONID=JS-cookie; Path=/"),
                    ("set-cookie", "clientId=CID-cookie; Path=/"),
                ],
                r#"{"userName":"u","token":"TOK-issued","tokenType":"Bearer"}"#,
            ),
            ("gettoken", 0..=2) => answer(
                200,
                r#"{"userName":"u","token":"TOK-issued","tokenType":"Bearer"}"#,
            ),
            ("gettoken", _) => answer(200, r#"{"token":"TOK-issued","#),
            ("session", _) => answer_with(
                500,
                &[("set-cookie", "JSESSIONID=JS-cookie; Path=/")],
                r#"{"error":{"message":"no session for TOK-issued"}}"#,
            ),
            ("logout", _) => answer_with(302, &[("location", "https://sso.example.org/?t=TOK-issued")], ""),
            _ => answer(200, r#""TOK-issued""#),
        })
    })
}

#[tokio::test]
async fn no_secret_reaches_debug_display_or_traces() {
    let captured = Captured::default();
    let subscriber = captured.subscriber();
    let _guard = tracing::subscriber::set_default(subscriber);

    let mut printed = String::new();
    let mut show = |label: &str, debug: String, display: Option<String>| {
        printed.push_str(&format!("{label}: {debug}\n{label}: {display:?}\n"));
    };

    let login = LoginRequest::with_password("u", "PW-hunter2");
    let by_key = GetTokenRequest::with_secret_key("u", "KEY-s3cr3t");
    let by_password = GetTokenRequest::with_password("u", "PW-hunter2");
    show("login request", format!("{login:?}"), None);
    show("token requests", format!("{by_key:?} {by_password:#?}"), None);

    let builder = builder(&InstantSleep::default())
        .access_token("TOK-configured")
        .default_header("X-Api-Key", "KEY-s3cr3t");
    show("builder", format!("{builder:?}"), None);
    let t = hostile_cluster();
    let c = builder.build(t.clone()).unwrap();
    show("client", format!("{c:?}"), None);

    let issued = c.get_token(&by_key).await.unwrap();
    show("response", format!("{issued:?} {:?}", issued.token()), None);
    c.get_token(&by_password).await.unwrap();
    c.login(&login).await.unwrap();
    show("client with cookies", format!("{c:#?}"), None);
    c.use_token(&issued).unwrap();

    let mut errors: Vec<Error> = Vec::new();
    errors.push(c.get_session_info().await.unwrap_err()); // envelope, Set-Cookie
    for _ in 0..4 {
        if let Err(e) = c.get_token(&by_key).await {
            errors.push(e); // a decode error with a token in the body
        }
    }
    errors.push(c.logout().await.unwrap_err()); // a redirect with a token in its query
    errors.push(c.revoke_token().await.unwrap_err()); // a string other than true/false
    errors.push(
        c.get_token(&GetTokenRequest::with_secret_key("", "KEY-s3cr3t"))
            .await
            .unwrap_err(),
    );
    errors.push(c.login(&LoginRequest::with_password("u", "")).await.unwrap_err());
    errors.push(c.set_access_token("TOK-configured\n").unwrap_err());
    errors.push(
        SessionClient::builder("https://u:PW-hunter2@h")
            .api_version(thoughtspot_session_core::ApiVersion::V2Beta)
            .build(t.clone())
            .unwrap_err()
            .into(),
    );
    errors.push(TransportError::connect(std::io::Error::other("refused")).into());
    let kinds: std::collections::BTreeSet<_> = errors
        .iter()
        .map(|e| match e {
            Error::Api(_) => "api",
            Error::Status(_) => "status",
            Error::Decode(_) => "decode",
            Error::Transport(_) => "transport",
            Error::InvalidRequest(_) => "invalid",
            Error::Config(_) => "config",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds.len(), 6, "every kind of error is printed: {kinds:?}");
    for e in &errors {
        show("error", format!("{e:?} {e:#?}"), Some(e.to_string()));
        if let Some(headers) = e.headers() {
            show("error headers", format!("{headers:?}"), None);
        }
    }
    let timeout = SessionClient::builder(BASE)
        .api_version(thoughtspot_session_core::ApiVersion::V2Beta)
        .sleep(thoughtspot_session_core::TokioSleep::new())
        .timeout(std::time::Duration::from_millis(1))
        .build(FnTransport::new(|_, _| Reply::Hang))
        .unwrap()
        .get_session_info()
        .await
        .unwrap_err();
    show("timeout", format!("{timeout:?}"), Some(timeout.to_string()));

    // The checks would be empty if nothing had been printed or traced.
    let traces = captured.text();
    assert!(
        traces.contains("thoughtspot_session") && traces.contains("operation=\"get token\""),
        "{traces}"
    );
    assert!(printed.contains("[redacted]") && printed.contains("JSESSIONID"));
    // ...and the secrets really went over the wire.
    let wire: String = t
        .requests()
        .iter()
        .flat_map(|r| {
            let values = r
                .headers()
                .values()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
            values
                .chain([String::from_utf8_lossy(r.body()).into_owned()])
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(wire.contains("PW-hunter2") && wire.contains("KEY-s3cr3t") && wire.contains("JS-cookie"));

    for secret in SECRETS {
        assert!(!printed.contains(secret), "{secret} printed:\n{printed}");
        assert!(!traces.contains(secret), "{secret} traced:\n{traces}");
    }
}

#[test]
fn response_and_request_debug_show_redacted_markers() {
    let r: SessionLoginResponse = serde_json::from_str(r#"{"token":"TOK-issued"}"#).unwrap();
    assert_eq!(format!("{:?}", r.token()), "Some(AccessToken([redacted]))");
    assert!(
        format!("{:?}", GetTokenRequest::with_secret_key("u", "KEY-s3cr3t"))
            .contains("SecretKey([redacted])")
    );
}
