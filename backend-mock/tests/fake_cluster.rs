//! FakeThoughtSpot behaves as a cluster does, on the v2 beta (`SessionController`); REST
//! API v2.0, the fake's default, is `fake_v2.rs`.

use std::time::Duration;
use thoughtspot_session_core::SessionClient;
use thoughtspot_session_core::{
    AccessLevel, ApiVersion, Error, GetTokenRequest, LoginRequest, SessionApi, TokenType,
};
use thoughtspot_session_mock::{ExpiryFormat, FakeThoughtSpot, FakeUser};

const OBJECT: &str = "e65d7d3e-f8d2-4e2b-a2b3-8f7ad5b4e5c1";

fn fake() -> FakeThoughtSpot {
    FakeThoughtSpot::builder()
        .user(
            FakeUser::new("analyst", "analyst-pw")
                .display_name("An Analyst")
                .guid("0f0e0d0c-0000-4000-8000-000000000001")
                .email("analyst@example.com")
                .orgs([0, 7])
                .privileges(["AUTHORING", "DATADOWNLOADING"]),
        )
        .user(FakeUser::new("viewer", "viewer-pw"))
        .secret_key("trusted-key")
        .object(OBJECT)
        .release_version("10.1.0.cl")
        .build()
}

/// A client of `fake` on the v2 beta: the fake's own client, one setter away.
fn beta(fake: &FakeThoughtSpot) -> SessionClient<FakeThoughtSpot> {
    fake.client_builder()
        .api_version(ApiVersion::V2Beta)
        .build(fake.clone())
        .expect("valid")
}

fn upstream(e: &Error) -> Option<u16> {
    match e {
        Error::Api(api) => api.envelope().upstream_status(),
        _ => None,
    }
}

#[tokio::test]
async fn password_login_starts_a_cookie_session_that_logout_ends() {
    let fake = fake();
    let client = beta(&fake);
    let session = client
        .login(&LoginRequest::with_password("analyst", "analyst-pw"))
        .await
        .unwrap();
    assert_eq!(session.token_type(), Some(&TokenType::Cookie));
    assert!(session.token().is_none());
    assert_eq!(session.user_name(), Some("analyst"));
    let mut cookies = client.cookie_names();
    cookies.sort();
    assert_eq!(cookies, ["JSESSIONID", "clientId"]);
    assert_eq!(fake.live_sessions().len(), 1);

    let info = client.get_session_info().await.unwrap();
    assert_eq!(info.user_name(), Some("analyst"));
    assert_eq!(info.user_guid(), Some("0f0e0d0c-0000-4000-8000-000000000001"));
    assert_eq!(info.user_display_name(), Some("An Analyst"));
    assert_eq!(info.user_email(), Some("analyst@example.com"));
    assert_eq!(
        info.privileges().collect::<Vec<_>>(),
        ["AUTHORING", "DATADOWNLOADING"]
    );
    assert_eq!(info.release_version(), Some("10.1.0.cl"));
    assert_eq!(info.current_org_id().as_deref(), Some("0"));
    assert_eq!(info.expiration_time(), Some(fake.live_sessions()[0].expires_at));

    assert!(client.logout().await.unwrap());
    assert!(fake.live_sessions().is_empty());
    let e = client.get_session_info().await.unwrap_err();
    assert_eq!(upstream(&e), Some(401));
    let e = client.logout().await.unwrap_err();
    assert!(e.is_unauthorized(), "no session to log out: {e}");
}

#[tokio::test]
async fn bad_credentials_are_500_with_upstream_401_and_ids() {
    let client = beta(&fake());
    let e = client
        .login(&LoginRequest::with_password("analyst", "wrong"))
        .await
        .unwrap_err();
    assert_eq!(e.status().map(|s| s.as_u16()), Some(500));
    assert!(e.is_unauthorized());
    assert!(e.incident_id().is_some_and(|id| id.len() == 36));
    assert!(e.trace_id().is_some());
    for request in [
        GetTokenRequest::with_secret_key("analyst", "wrong-key"),
        GetTokenRequest::with_password("analyst", "wrong"),
        GetTokenRequest::with_secret_key("nobody", "trusted-key"),
    ] {
        let e = client.get_token(&request).await.unwrap_err();
        assert_eq!(upstream(&e), Some(401), "{e}");
    }
}

#[tokio::test]
async fn bad_parameters_are_500_with_upstream_400() {
    let client = beta(&fake());
    let cases = [
        GetTokenRequest::with_secret_key("analyst", "trusted-key").with_report_book_view("no-such-object"),
        GetTokenRequest::with_secret_key("analyst", "trusted-key").with_org_id("99"),
        GetTokenRequest::with_secret_key("analyst", "trusted-key")
            .with_token_expiry(Duration::from_secs(90 * 24 * 3600)),
    ];
    for request in cases {
        let e = client.get_token(&request).await.unwrap_err();
        assert_eq!(upstream(&e), Some(400), "{e}");
        assert!(!e.is_unauthorized());
    }
}

#[tokio::test]
async fn the_password_wins_over_the_secret_key() {
    let client = beta(&fake());
    let both: GetTokenRequest =
        serde_json::from_str(r#"{"userName":"analyst","password":"wrong","secretKey":"trusted-key"}"#)
            .unwrap();
    assert_eq!(upstream(&client.get_token(&both).await.unwrap_err()), Some(401));
}

#[tokio::test]
async fn a_token_expires_on_the_virtual_clock() {
    let fake = fake();
    let client = beta(&fake);
    let issued = client
        .get_token(
            &GetTokenRequest::with_secret_key("analyst", "trusted-key")
                .with_token_expiry(Duration::from_secs(60)),
        )
        .await
        .unwrap();
    assert_eq!(issued.token_type(), Some(&TokenType::Bearer));
    assert_eq!(issued.lifetime(), Some(Duration::from_secs(60)));
    assert_eq!(issued.expires_at(), Some(fake.live_tokens()[0].expires_at));

    client.use_token(&issued).unwrap();
    fake.clock().advance(Duration::from_secs(59));
    assert_eq!(
        client.get_session_info().await.unwrap().user_name(),
        Some("analyst")
    );
    fake.clock().advance(Duration::from_secs(1));
    let e = client.get_session_info().await.unwrap_err();
    assert!(e.is_unauthorized());
    assert!(matches!(&e, Error::Api(api) if api.envelope().debug_message() == Some("Token has expired")));
    assert!(fake.live_tokens().is_empty());
}

#[tokio::test]
async fn login_with_a_token_then_revoke_ends_token_and_session() {
    let fake = fake();
    let client = beta(&fake);
    let issued = client
        .get_token(&GetTokenRequest::with_secret_key("viewer", "trusted-key"))
        .await
        .unwrap();
    client.use_token(&issued).unwrap();
    client.login(&LoginRequest::bearer()).await.unwrap();
    assert_eq!(fake.live_sessions().len(), 1);
    assert!(fake.live_sessions()[0].from_token);

    assert!(client.revoke_token().await.unwrap());
    assert!(fake.live_sessions().is_empty());
    assert!(fake.live_tokens().is_empty());
    assert!(fake.tokens()[0].revoked);

    // The revoked token is refused everywhere.
    client.use_token(&issued).unwrap();
    let e = client.login(&LoginRequest::bearer()).await.unwrap_err();
    assert!(
        matches!(&e, Error::Api(api) if api.envelope().debug_message() == Some("Token has been revoked"))
    );
    client.use_token(&issued).unwrap();
    assert!(client.revoke_token().await.unwrap_err().is_unauthorized());
}

#[tokio::test]
async fn a_report_book_view_token_may_not_open_a_full_session() {
    let fake = fake();
    let client = beta(&fake);
    let issued = client
        .get_token(&GetTokenRequest::with_secret_key("analyst", "trusted-key").with_report_book_view(OBJECT))
        .await
        .unwrap();
    let record = &fake.live_tokens()[0];
    assert_eq!(
        (record.access_level, record.object_id.as_deref()),
        (AccessLevel::ReportBookView, Some(OBJECT))
    );
    client.use_token(&issued).unwrap();
    assert!(
        client
            .login(&LoginRequest::bearer())
            .await
            .unwrap_err()
            .is_unauthorized()
    );
    client.use_token(&issued).unwrap();
    assert!(client.get_session_info().await.unwrap_err().is_unauthorized());
}

#[tokio::test]
async fn tokens_are_scoped_to_an_org() {
    let fake = fake();
    let client = beta(&fake);
    let issued = client
        .get_token(&GetTokenRequest::with_password("analyst", "analyst-pw").with_org_id("7"))
        .await
        .unwrap();
    client.use_token(&issued).unwrap();
    assert_eq!(
        client
            .get_session_info()
            .await
            .unwrap()
            .current_org_id()
            .as_deref(),
        Some("7")
    );
}

#[tokio::test]
async fn absolute_millisecond_expiry_reads_the_same() {
    let fake = FakeThoughtSpot::builder()
        .user(FakeUser::new("a", "p"))
        .expiry_format(ExpiryFormat::AbsoluteMillis)
        .token_lifetime(Duration::from_secs(900))
        .build();
    let issued = beta(&fake)
        .get_token(&GetTokenRequest::with_password("a", "p"))
        .await
        .unwrap();
    assert!(issued.raw_expiry_duration().unwrap() > 100_000_000_000);
    assert_eq!(issued.lifetime(), Some(Duration::from_secs(900)));
    assert_eq!(issued.expires_at(), Some(fake.tokens()[0].expires_at));
}

#[tokio::test]
async fn faults_outage_and_failing_calls() {
    let fake = fake();
    let client = beta(&fake);
    fake.set_outage(true);
    let e = client.get_session_info().await.unwrap_err();
    assert!(
        matches!(&e, Error::Status(s) if s.is_html() && s.status() == 503),
        "{e:?}"
    );
    assert_eq!(fake.count("get session info"), 3, "the client retried GET on 503");
    fake.set_outage(false);

    fake.fail_next(2, 503);
    client
        .login(&LoginRequest::with_password("analyst", "analyst-pw"))
        .await
        .unwrap_err();
    client.get_session_info().await.unwrap_err(); // answered 503, then retried: no session yet
    let statuses: Vec<u16> = fake.requests().iter().rev().take(3).map(|r| r.status).collect();
    assert_eq!(statuses, [500, 503, 503]);

    fake.fail_next(1, 500);
    let e = client
        .get_token(&GetTokenRequest::with_secret_key("analyst", "trusted-key"))
        .await
        .unwrap_err();
    assert_eq!(upstream(&e), Some(500));
}

#[tokio::test]
async fn latency_runs_on_the_virtual_clock_and_the_client_timeout_fires() {
    let fake = fake();
    fake.set_latency(Duration::from_secs(10));
    let client = fake
        .client_builder()
        .api_version(ApiVersion::V2Beta)
        .sleep(fake.clock().clone())
        .timeout(Duration::from_secs(5))
        .build(fake.clone())
        .unwrap();
    let call = tokio::spawn({
        let client = client.clone();
        async move { client.get_session_info().await }
    });
    while fake.clock().pending_sleeps() < 2 {
        tokio::task::yield_now().await;
    }
    fake.clock().advance(Duration::from_secs(5));
    let e = call.await.unwrap().unwrap_err();
    assert!(matches!(e, Error::Timeout(_)), "{e:?}");

    fake.set_latency(Duration::from_secs(1));
    let call = tokio::spawn(async move {
        client
            .get_token(&GetTokenRequest::with_secret_key("analyst", "trusted-key"))
            .await
    });
    while fake.clock().pending_sleeps() < 2 {
        tokio::task::yield_now().await;
    }
    fake.clock().advance(Duration::from_secs(1));
    assert!(call.await.unwrap().is_ok());
}

#[tokio::test]
async fn wrong_method_unknown_path_and_bad_bodies() {
    use bytes::Bytes;
    let fake = fake();
    let request = |method: &str, path: &str, body: &'static str| {
        http::Request::builder()
            .method(method)
            .uri(format!("https://fake.thoughtspot.test{path}"))
            .body(Bytes::from_static(body.as_bytes()))
            .unwrap()
    };
    assert_eq!(
        fake.handle(&request("GET", "/tspublic/rest/v2/session/login", ""))
            .status(),
        405
    );
    assert_eq!(fake.handle(&request("GET", "/nope", "")).status(), 404);
    for body in ["", "{", "[]", r#"{"userName": 5}"#] {
        let response = fake.handle(&request("POST", "/tspublic/rest/v2/session/gettoken", body));
        assert_eq!(response.status(), 500, "{body}");
        let envelope = thoughtspot_session_core::ErrorEnvelope::from_body(response.body()).unwrap();
        assert_eq!(envelope.upstream_status(), Some(400), "{body}");
    }
    assert_eq!(fake.requests().len(), 6);
    assert!(!format!("{fake:?}").contains("trusted-key"));
}

#[tokio::test]
async fn a_session_opened_with_a_token_prints_no_token() {
    let fake = fake();
    let c = beta(&fake);
    let issued = c
        .get_token(&GetTokenRequest::with_secret_key("analyst", "trusted-key"))
        .await
        .expect("token");
    c.use_token(&issued).expect("usable");
    c.login(&LoginRequest::bearer()).await.expect("bearer login");
    let sessions = fake.live_sessions();
    assert!(sessions.iter().any(|s| s.from_token));
    let debug = format!("{sessions:?}");
    let token = issued.token().expect("a token").secret().to_owned();
    assert!(!debug.contains(&token) && debug.contains("[redacted]"), "{debug}");
}

#[tokio::test]
async fn under_a_long_load_the_fake_stays_bounded_and_counts_every_request() {
    use std::time::Duration;
    use thoughtspot_session_mock::{ENDED_RETENTION, REQUEST_LOG};
    let fake = FakeThoughtSpot::builder()
        .user(FakeUser::new("u", "pw"))
        .secret_key("k")
        .token_lifetime(Duration::from_secs(60))
        .build();
    let client = beta(&fake);
    let request = GetTokenRequest::with_secret_key("u", "k");
    let total = 30_000;
    for n in 0..total {
        if n > 0 && n % 1000 == 0 {
            fake.clock().advance(Duration::from_secs(60)); // the thousand before expire
        }
        client.get_token(&request).await.expect("a token");
    }
    assert_eq!(fake.count("get token"), total, "counts cover every request");
    assert_eq!(fake.requests().len(), REQUEST_LOG, "the log is a ring");
    // Tokens that ended more than ENDED_RETENTION ago are gone; the live and the recent stay.
    let held = fake.tokens().len();
    let kept_per_minute = 1000;
    let bound = kept_per_minute * (1 + ENDED_RETENTION.as_secs() as usize / 60) * 2 + 4096;
    assert!(held <= bound, "{held} tokens held, bound {bound}");
    assert!(held < total / 2, "{held} of {total} tokens held");
    assert_eq!(fake.live_tokens().len(), 1000);
}
