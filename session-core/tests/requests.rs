//! Each operation sends exactly the request the specification describes.

mod support;

use serde_json::json;
use std::time::Duration;
use support::*;
use thoughtspot_session_core::{GetTokenRequest, LoginRequest, SessionApi, SessionClient, TokenType};

fn respond_by_path() -> FnTransport {
    FnTransport::new(|r, _| {
        Reply::Answer(match r.uri().path() {
            p if p.ends_with("/gettoken") || p.ends_with("/login") => answer(200, TOKEN_BODY),
            p if p.ends_with("/session") => answer(200, r#"{"userName":"analyst"}"#),
            _ => answer(200, "true"),
        })
    })
}

const UA: &str = concat!("thoughtspot-session-core/", env!("CARGO_PKG_VERSION"));

fn assert_common_headers(r: &http::Request<bytes::Bytes>) {
    assert_eq!(header(r, "accept"), Some("application/json"));
    assert_eq!(header(r, "user-agent"), Some(UA));
    assert_eq!(header(r, "x-requested-by"), Some("ThoughtSpot"));
    assert_eq!(header(r, "accept-language"), None);
}

#[tokio::test]
async fn get_session_info_is_a_bodiless_get() {
    let t = respond_by_path();
    let info = client(&t).get_session_info().await.unwrap();
    assert_eq!(info.user_name(), Some("analyst"));
    let r = t.last().unwrap();
    assert_eq!(r.method(), http::Method::GET);
    assert_eq!(
        r.uri().to_string(),
        "https://ts.example.com/tspublic/rest/v2/session"
    );
    assert_common_headers(&r);
    assert_eq!(header(&r, "content-type"), None);
    assert!(r.body().is_empty());
}

#[tokio::test]
async fn login_posts_camel_case_json() {
    let t = respond_by_path();
    let out = client(&t)
        .login(&LoginRequest::with_password("tsadmin", "pw-1").with_remember_me(true))
        .await
        .unwrap();
    assert_eq!(out.token_type(), Some(&TokenType::Bearer));
    let r = t.last().unwrap();
    assert_eq!(r.method(), http::Method::POST);
    assert_eq!(r.uri().path(), "/tspublic/rest/v2/session/login");
    assert_common_headers(&r);
    assert_eq!(header(&r, "content-type"), Some("application/json"));
    assert_eq!(
        json_body(&r),
        json!({"userName": "tsadmin", "password": "pw-1", "rememberMe": true})
    );
}

#[tokio::test]
async fn get_token_sends_only_the_fields_set() {
    let t = respond_by_path();
    let c = client(&t);
    let out = c
        .get_token(&GetTokenRequest::with_secret_key("analyst", "key-1"))
        .await
        .unwrap();
    assert_eq!(
        json_body(&t.last().unwrap()),
        json!({"userName": "analyst", "secretKey": "key-1"})
    );
    assert_eq!(out.token().unwrap().secret(), "tok-SECRET-1");
    assert_eq!(out.lifetime(), Some(Duration::from_secs(900)));

    let full = GetTokenRequest::with_password("analyst", "pw")
        .with_report_book_view("obj-1")
        .with_token_expiry(Duration::from_millis(1500))
        .with_org_id("7");
    c.get_token(&full).await.unwrap();
    let r = t.last().unwrap();
    assert_eq!(r.uri().path(), "/tspublic/rest/v2/session/gettoken");
    assert_eq!(header(&r, "content-type"), Some("application/json"));
    assert_eq!(
        json_body(&r),
        json!({"userName": "analyst", "password": "pw", "accessLevel": "REPORT_BOOK_VIEW",
               "tsObjectId": "obj-1", "tokenExpiryDuration": "2", "orgId": "7"})
    );
}

#[tokio::test]
async fn logout_and_revoke_are_bodiless_posts() {
    let t = respond_by_path();
    let c = client(&t);
    assert!(c.logout().await.unwrap());
    let r = t.last().unwrap();
    assert_eq!(
        (r.method().as_str(), r.uri().path()),
        ("POST", "/tspublic/rest/v2/session/logout")
    );
    assert_eq!(header(&r, "content-type"), None);
    assert!(r.body().is_empty());
    assert_common_headers(&r);

    assert!(c.revoke_token().await.unwrap());
    let r = t.last().unwrap();
    assert_eq!(
        (r.method().as_str(), r.uri().path()),
        ("POST", "/tspublic/rest/v2/session/revoketoken")
    );
    assert!(r.body().is_empty());
}

#[tokio::test]
async fn a_path_prefix_and_configured_headers_are_kept() {
    let t = respond_by_path();
    let c = SessionClient::builder("https://ts.example.com/thoughtspot")
        .api_version(thoughtspot_session_core::ApiVersion::V2Beta)
        .sleep(InstantSleep::default())
        .accept_language("de-DE")
        .default_header("X-Tenant", "acme")
        .build(t.clone())
        .unwrap();
    c.get_session_info().await.unwrap();
    let r = t.last().unwrap();
    assert_eq!(
        r.uri().to_string(),
        "https://ts.example.com/thoughtspot/tspublic/rest/v2/session"
    );
    assert_eq!(header(&r, "accept-language"), Some("de-DE"));
    assert_eq!(header(&r, "x-tenant"), Some("acme"));
}

#[tokio::test]
async fn a_user_agent_given_as_a_default_header_replaces_the_clients() {
    let t = respond_by_path();
    let c = SessionClient::builder("https://ts.example.com")
        .api_version(thoughtspot_session_core::ApiVersion::V2Beta)
        .sleep(InstantSleep::default())
        .default_header("User-Agent", "my-app/2.1")
        .build(t.clone())
        .unwrap();
    c.get_session_info().await.unwrap();
    let r = t.last().unwrap();
    assert_eq!(header(&r, "user-agent"), Some("my-app/2.1"));
    assert_eq!(r.headers().get_all("user-agent").iter().count(), 1);
    assert_eq!(header(&r, "accept"), Some("application/json"));
    assert_eq!(header(&r, "x-requested-by"), Some("ThoughtSpot"));
}

#[test]
fn the_builder_refuses_what_cannot_work() {
    let t = respond_by_path();
    let s = InstantSleep::default();
    let err = |b: thoughtspot_session_core::SessionClientBuilder| b.build(t.clone()).unwrap_err().to_string();
    assert!(err(builder(&s).default_header("Authorization", "Basic x")).contains("authorization"));
    assert!(err(builder(&s).default_header("Cookie", "a=b")).contains("cookie"));
    assert!(err(builder(&s).default_header("bad name", "x")).contains("not a valid header name"));
    assert!(err(builder(&s).default_header("Accept", "text/html")).contains("accept"));
    assert!(err(builder(&s).default_header("X-Requested-By", "me")).contains("x-requested-by"));
    assert!(err(builder(&s).accept_language("a\nb")).contains("Accept-Language"));
    assert!(err(builder(&s).access_token("")).contains("empty"));
    assert!(err(builder(&s).access_token("a\r\nb")).contains("characters"));
    assert!(err(builder(&s).timeout(Duration::ZERO)).contains("longer than zero"));
    assert!(
        err(builder(&s).retry(thoughtspot_session_core::RetryPolicy::default().max_attempts(0)))
            .contains("1 attempt")
    );
    assert!(err(SessionClient::builder("https://h").no_timeout()).contains("retries are configured"));
    assert!(
        err(SessionClient::builder("https://h")
            .api_version(thoughtspot_session_core::ApiVersion::V2Beta)
            .no_timeout()
            .attempt_timeout(Duration::from_secs(1)))
        .contains("attempt timeout")
    );
    // Without timeout and retries, no sleep is needed.
    SessionClient::builder("https://h")
        .api_version(thoughtspot_session_core::ApiVersion::V2Beta)
        .no_timeout()
        .retry(thoughtspot_session_core::RetryPolicy::disabled())
        .build(t.clone())
        .unwrap();
}
