//! REST API v2.0 on the wire: every operation's method, path, exact body and bearer rule
//! (as the official TypeScript SDK 2.24 sends them), 204 answers, the v2.0 error body, and
//! the five SessionApi operations on a V2 and an Auto client.

mod support;

use http::Method;
use std::time::Duration;
use support::*;
use thoughtspot_session_core::v2::{
    AuthApi, AuthStatus, ConfigureAuthSettingsRequest, FilterOperator, FilterRule,
    GetCustomAccessTokenRequest, GetFullAccessTokenRequest, GetObjectAccessTokenRequest, GroupRef,
    NamedValues, PersistOption, RevokeTokenRequest, RuleValue, SearchAuthSettingsRequest,
    SessionLoginRequest as V2Login, SettingsScope, ValidateTokenRequest,
};
use thoughtspot_session_core::{
    AccessToken, ApiVersion, Error, GetTokenRequest, LoginRequest, SessionApi, SessionClient, TokenType,
};

const TOKEN: &str = r#"{"token":"T-NEW","creation_time_in_millis":1724277430000,"expiration_time_in_millis":1724277730000,
    "scope":{"access_type":"FULL","org_id":0,"metadata_id":null},"valid_for_user_id":"g-1","valid_for_username":"alice"}"#;
const CUSTOM: &str = r#"{"id":"c-1","token":"T-CUSTOM","org":{"id":0,"name":"Primary"},"user":{"id":"g-1","name":"alice"},
    "creation_time_in_millis":1724277430000,"expiration_time_in_millis":1724277730000}"#;
const USER: &str = r#"{"id":"g-1","name":"alice","display_name":"Alice","visibility":"SHARABLE","email":"a@example.com",
    "current_org":{"id":7,"name":"Sales"},"privileges":["ADMINISTRATION"]}"#;
const VALIDATION: &str = r#"{"creation_time_in_millis":1724277430000,"expiration_time_in_millis":1724277730000,
    "scope":{"access_type":"FULL","org_id":0},"valid_for_user_id":"g-1","token_type":"BEARER"}"#;
const SESSION_TOKEN: &str = r#"{"token":"T-SESSION","creation_time_in_millis":1724277430000.0,
    "expiration_time_in_millis":1724363830000.0,"valid_for_user_id":"g-1","valid_for_username":"alice"}"#;

/// A v2.0 cluster: the success answer of each operation.
fn cluster() -> FnTransport {
    FnTransport::new(|r, _| {
        let path = r
            .uri()
            .path()
            .trim_start_matches("/api/rest/2.0/auth/")
            .to_owned();
        Reply::Answer(match path.as_str() {
            "token/full" | "token/object" => answer(200, TOKEN),
            "token/custom" => answer(200, CUSTOM),
            "session/user" => answer(200, USER),
            "session/token" => answer(200, SESSION_TOKEN),
            "token/validate" => answer(200, VALIDATION),
            "search" => answer(
                200,
                r#"{"auth_type":"TRUSTED_AUTH","cluster_preferences":{"auth_status":"ENABLED","access_tokens":[{"key":"SK"}]}}"#,
            ),
            _ => answer(204, ""),
        })
    })
}

fn v2_client(t: &FnTransport, base: &str) -> SessionClient<FnTransport> {
    SessionClient::builder(base)
        .sleep(InstantSleep::default())
        .access_token("TOKEN123")
        .api_version(ApiVersion::V2)
        .build(t.clone())
        .unwrap()
}

#[tokio::test]
async fn every_operation_sends_what_the_official_sdk_sends() {
    let t = cluster();
    // A trailing slash must not make `//api` (the official SDK's bug).
    let c = v2_client(&t, "https://ts.example.com/");
    c.token_full(&GetFullAccessTokenRequest::with_secret_key("alice", "SK"))
        .await
        .unwrap();
    c.token_full(
        &GetFullAccessTokenRequest::with_password("alice", "pw")
            .with_validity(Duration::from_secs(600))
            .with_org_id(3)
            .with_auto_create(false)
            .with_group_identifiers(["g1"]),
    )
    .await
    .unwrap();
    c.token_object(&GetObjectAccessTokenRequest::with_secret_key(
        "alice", "obj-guid", "SK",
    ))
    .await
    .unwrap();
    let values: [RuleValue; 3] = ["a".into(), 1.into(), true.into()];
    c.token_custom(
        &GetCustomAccessTokenRequest::with_secret_key("alice", "SK", PersistOption::Append)
            .with_variable_values([NamedValues::new("v", values)])
            .with_groups([GroupRef::new("g")]),
    )
    .await
    .unwrap();
    c.session_login(&V2Login::with_password("alice", "pw").with_remember_me(true))
        .await
        .unwrap();
    c.session_logout().await.unwrap();
    c.set_access_token("TOKEN123").unwrap();
    c.token_revoke(&RevokeTokenRequest::token("T2").with_user_identifier("alice"))
        .await
        .unwrap();
    c.token_validate(&ValidateTokenRequest::new("T2")).await.unwrap();
    c.session_user().await.unwrap();
    c.session_token().await.unwrap();
    c.configure_auth_settings(
        &ConfigureAuthSettingsRequest::trusted_auth().with_cluster_status(AuthStatus::Enabled),
    )
    .await
    .unwrap();
    c.search_auth_settings(&SearchAuthSettingsRequest::trusted_auth().with_scope(SettingsScope::Cluster))
        .await
        .unwrap();

    let bearer = Some("Bearer TOKEN123");
    // Bodies as the official SDK writes them: compact, keys in schema order.
    let expected: Vec<(Method, &str, Option<&str>, Option<&str>)> = vec![
        (
            Method::POST,
            "token/full",
            None,
            Some(r#"{"username":"alice","secret_key":"SK"}"#),
        ),
        (
            Method::POST,
            "token/full",
            None,
            Some(
                r#"{"username":"alice","password":"pw","validity_time_in_sec":600,"org_id":3,"auto_create":false,"group_identifiers":["g1"]}"#,
            ),
        ),
        (
            Method::POST,
            "token/object",
            None,
            Some(r#"{"username":"alice","object_id":"obj-guid","secret_key":"SK"}"#),
        ),
        (
            Method::POST,
            "token/custom",
            None,
            Some(
                r#"{"username":"alice","secret_key":"SK","persist_option":"APPEND","variable_values":[{"name":"v","values":["a",1,true]}],"groups":[{"identifier":"g"}]}"#,
            ),
        ),
        (
            Method::POST,
            "session/login",
            bearer,
            Some(r#"{"username":"alice","password":"pw","remember_me":true}"#),
        ),
        (Method::POST, "session/logout", bearer, None),
        (
            Method::POST,
            "token/revoke",
            bearer,
            Some(r#"{"user_identifier":"alice","token":"T2"}"#),
        ),
        (Method::POST, "token/validate", bearer, Some(r#"{"token":"T2"}"#)),
        (Method::GET, "session/user", bearer, None),
        (Method::GET, "session/token", bearer, None),
        (
            Method::POST,
            "configure",
            bearer,
            Some(r#"{"auth_type":"TRUSTED_AUTH","cluster_preferences":{"auth_status":"ENABLED"}}"#),
        ),
        (
            Method::POST,
            "search",
            bearer,
            Some(r#"{"auth_type":"TRUSTED_AUTH","scope":"CLUSTER"}"#),
        ),
    ];
    let sent = t.requests();
    assert_eq!(sent.len(), expected.len());
    for (r, (method, path, auth, body)) in sent.iter().zip(expected) {
        assert_eq!(
            r.uri().to_string(),
            format!("https://ts.example.com/api/rest/2.0/auth/{path}")
        );
        assert_eq!(r.method(), method, "{path}");
        assert_eq!(header(r, "authorization"), auth, "{path}");
        assert_eq!(header(r, "accept"), Some("application/json"), "{path}");
        assert_eq!(header(r, "x-requested-by"), Some("ThoughtSpot"), "{path}");
        assert_eq!(header(r, "x-thoughtspot-client"), None, "{path}");
        match body {
            Some(body) => {
                assert_eq!(header(r, "content-type"), Some("application/json"), "{path}");
                // Keys in schema order, compact: the exact bytes.
                assert_eq!(std::str::from_utf8(r.body()).unwrap(), body, "{path}");
            }
            None => {
                assert!(r.body().is_empty(), "{path}");
                assert_eq!(header(r, "content-type"), None, "{path}");
            }
        }
    }
}

#[tokio::test]
async fn answers_decode_into_typed_results() {
    let t = cluster();
    let c = v2_client(&t, "https://ts.example.com");
    let token = c
        .token_full(&GetFullAccessTokenRequest::with_secret_key("alice", "SK"))
        .await
        .unwrap();
    assert_eq!(
        (token.token.secret(), token.lifetime()),
        ("T-NEW", Some(Duration::from_secs(300)))
    );
    let custom = c
        .token_custom(
            &GetCustomAccessTokenRequest::with_secret_key("alice", "SK", PersistOption::None)
                .with_filter_rules([FilterRule::new("region", FilterOperator::Eq, ["west"])]),
        )
        .await
        .unwrap();
    assert_eq!(
        (custom.token.secret(), custom.user.name.as_deref()),
        ("T-CUSTOM", Some("alice"))
    );
    let user = c.session_user().await.unwrap();
    assert_eq!(
        (user.name(), user.current_org().map(|o| o.id)),
        ("alice", Some(7))
    );
    let session_token = c.session_token().await.unwrap();
    assert_eq!(session_token.token.secret(), "T-SESSION");
    assert_eq!(
        c.token_validate(&ValidateTokenRequest::new("T"))
            .await
            .unwrap()
            .token_type,
        "BEARER"
    );
    let settings = c
        .search_auth_settings(&SearchAuthSettingsRequest::trusted_auth())
        .await
        .unwrap();
    assert!(settings.cluster_preferences.is_some());
    assert!(!format!("{token:?} {custom:?} {session_token:?} {settings:?}").contains("T-"));
    assert!(!format!("{settings:?}").contains("\"SK\""));
}

#[tokio::test]
async fn v2_errors_are_parsed_and_not_retried() {
    let body = r#"{"error":{"message":{"code":10097,"incident_id_guid":"inc-9","trace_id_guid":"tr-9","debug":"Invalid credentials."}}}"#;
    for (status, unauthorized, forbidden) in [
        (400, false, false),
        (401, true, false),
        (403, false, true),
        (500, false, false),
    ] {
        let t = FnTransport::new(move |_, _| {
            Reply::Answer(answer_with(status, &[("content-type", "application/json")], body))
        });
        let c = v2_client(&t, "https://ts.example.com");
        let e = c.session_user().await.unwrap_err();
        let Error::Api(api) = &e else { panic!("{e:?}") };
        assert_eq!(
            (
                api.envelope().upstream_code(),
                e.incident_id(),
                e.trace_id(),
                api.envelope().debug_message()
            ),
            (
                Some(10097),
                Some("inc-9"),
                Some("tr-9"),
                Some("Invalid credentials.")
            )
        );
        assert_eq!(
            (e.is_unauthorized(), e.is_forbidden()),
            (unauthorized, forbidden),
            "{status}"
        );
        assert_eq!(t.count(), 1, "a GET answered {status} is sent once");
        assert!(
            e.to_string().starts_with(&format!(
                "session/user failed: the cluster answered HTTP {status} (10097)"
            )),
            "{e}"
        );
    }
    // The message as a plain string.
    let t = FnTransport::always(400, r#"{"error":{"message":"persist_option is required"}}"#);
    let e = v2_client(&t, "https://ts.example.com")
        .token_custom(&GetCustomAccessTokenRequest::with_secret_key(
            "a",
            "SK",
            PersistOption::Append,
        ))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("persist_option is required"), "{e}");
}

#[tokio::test]
async fn session_api_on_a_v2_client_uses_the_successors() {
    let t = cluster();
    let c = SessionClient::builder("https://ts.example.com")
        .sleep(InstantSleep::default())
        .api_version(ApiVersion::V2)
        .build(t.clone())
        .unwrap();
    let issued = c
        .get_token(
            &GetTokenRequest::with_secret_key("alice", "SK")
                .with_token_expiry(Duration::from_secs(600))
                .with_org_id("3"),
        )
        .await
        .unwrap();
    assert_eq!(issued.user_name(), Some("alice"));
    assert_eq!(
        issued.token().map(|t| t.secret().to_owned()).as_deref(),
        Some("T-NEW")
    );
    assert_eq!(issued.lifetime(), Some(Duration::from_secs(300)));
    assert!(issued.created_at().is_some() && issued.expires_at().is_some());
    c.get_token(&GetTokenRequest::with_secret_key("alice", "SK").with_report_book_view("obj-1"))
        .await
        .unwrap();
    c.use_token(&issued).unwrap();
    let login = c.login(&LoginRequest::bearer()).await.unwrap();
    assert_eq!(login.token_type(), Some(&TokenType::Cookie));
    let info = c.get_session_info().await.unwrap();
    assert_eq!(
        (
            info.user_name(),
            info.user_guid(),
            info.current_org_id().as_deref()
        ),
        (Some("alice"), Some("g-1"), Some("7"))
    );
    c.set_access_token("T-NEW").unwrap();
    assert!(c.revoke_token().await.unwrap());
    assert!(!c.has_access_token());
    assert!(
        c.revoke_access_token(&AccessToken::from("T-OTHER"))
            .await
            .unwrap()
    );
    assert!(c.logout().await.unwrap());

    let sent: Vec<(String, Option<String>, String)> = t
        .requests()
        .iter()
        .map(|r| {
            (
                r.uri().path().to_owned(),
                header(r, "authorization").map(str::to_owned),
                String::from_utf8_lossy(r.body()).into_owned(),
            )
        })
        .collect();
    let p = |s: &str| format!("/api/rest/2.0/auth/{s}");
    let b = |s: &str| Some(format!("Bearer {s}"));
    assert_eq!(
        sent,
        [
            (
                p("token/full"),
                None,
                r#"{"username":"alice","secret_key":"SK","validity_time_in_sec":600,"org_id":3}"#.to_owned()
            ),
            (
                p("token/object"),
                None,
                r#"{"username":"alice","object_id":"obj-1","secret_key":"SK"}"#.to_owned()
            ),
            (p("session/login"), b("T-NEW"), "{}".to_owned()),
            (p("session/user"), b("T-NEW"), String::new()),
            (p("token/revoke"), b("T-NEW"), r#"{"token":"T-NEW"}"#.to_owned()),
            (
                p("token/revoke"),
                b("T-OTHER"),
                r#"{"token":"T-OTHER"}"#.to_owned()
            ),
            (p("session/logout"), None, String::new()),
        ]
    );
    // An org that is not an integer is refused, never guessed.
    let e = c
        .get_token(&GetTokenRequest::with_secret_key("alice", "SK").with_org_id("Sales"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidRequest(_)), "{e:?}");
}

#[tokio::test]
async fn auto_settles_on_the_first_generation_that_answers() {
    // An old cluster: the v2.0 paths are 404.
    let old = FnTransport::new(|r, _| {
        Reply::Answer(if r.uri().path().starts_with("/api/") {
            answer(404, "<html>Not Found</html>")
        } else {
            answer(200, r#"{"userName":"alice"}"#)
        })
    });
    let c = SessionClient::builder("https://old.example.com")
        .sleep(InstantSleep::default())
        .api_version(ApiVersion::Auto)
        .build(old.clone())
        .unwrap();
    assert_eq!(c.api_version(), ApiVersion::Auto);
    assert_eq!(c.get_session_info().await.unwrap().user_name(), Some("alice"));
    assert_eq!(c.api_version(), ApiVersion::V2Beta);
    c.clone().get_session_info().await.unwrap();
    let paths: Vec<String> = old.requests().iter().map(|r| r.uri().path().to_owned()).collect();
    assert_eq!(
        paths,
        [
            "/api/rest/2.0/auth/session/user",
            "/tspublic/rest/v2/session",
            "/tspublic/rest/v2/session"
        ]
    );

    // A new cluster: any answer but 404 settles v2.0, an error included.
    let new = FnTransport::always(
        401,
        r#"{"error":{"message":{"code":10097,"debug":"no session"}}}"#,
    );
    let c = SessionClient::builder("https://new.example.com")
        .sleep(InstantSleep::default())
        .api_version(ApiVersion::Auto)
        .build(new.clone())
        .unwrap();
    assert!(c.get_session_info().await.unwrap_err().is_unauthorized());
    assert_eq!((c.api_version(), new.count()), (ApiVersion::V2, 1));

    // Neither: both 404.
    let neither = FnTransport::always(404, "");
    let c = SessionClient::builder("https://wrong.example.com/prefix")
        .sleep(InstantSleep::default())
        .api_version(ApiVersion::Auto)
        .build(neither.clone())
        .unwrap();
    let e = c.get_session_info().await.unwrap_err();
    assert!(e.to_string().contains("neither REST API v2.0"), "{e}");
    assert_eq!((c.api_version(), neither.count()), (ApiVersion::Auto, 2));
}

#[tokio::test]
async fn credentials_a_v2_cluster_echoes_are_scrubbed() {
    let t = FnTransport::new(|r, _| {
        // A careless cluster that quotes the request body in its error.
        let echoed = String::from_utf8_lossy(r.body()).replace('"', "'");
        let body = format!(
            r#"{{"error":{{"message":{{"code":10097,"debug":"bad request: {echoed} with Bearer TOKEN-SECRET-0"}}}}}}"#
        );
        Reply::Answer(thoughtspot_mock_response(401, body))
    });
    let c = SessionClient::builder("https://ts.example.com")
        .sleep(InstantSleep::default())
        .access_token("TOKEN-SECRET-0")
        .api_version(ApiVersion::V2)
        .build(t.clone())
        .unwrap();
    let errors = [
        c.token_full(&GetFullAccessTokenRequest::with_secret_key(
            "alice",
            "KEY-SECRET-1",
        ))
        .await
        .unwrap_err(),
        c.session_login(&V2Login::with_password("alice", "PW-SECRET-2"))
            .await
            .unwrap_err(),
        c.token_validate(&ValidateTokenRequest::new("TOK-SECRET-3"))
            .await
            .unwrap_err(),
        c.token_revoke(&RevokeTokenRequest::token("TOK-SECRET-4"))
            .await
            .unwrap_err(),
    ];
    for e in &errors {
        let Error::Api(api) = e else { panic!("{e:?}") };
        let shown = format!("{e} {e:?} {:?}", api.envelope());
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(shown.contains("[redacted]"), "{shown}");
    }
}

fn thoughtspot_mock_response(status: u16, body: String) -> http::Response<bytes::Bytes> {
    thoughtspot_session_mock::response(status, &[("content-type", "application/json")], body)
}

/// An `Auto` client over `t`, with retries off so that each answer is seen once.
fn auto(t: &FnTransport) -> thoughtspot_session_core::SessionClient<FnTransport> {
    SessionClient::builder("https://cluster.example.com")
        .sleep(InstantSleep::default())
        .retry(thoughtspot_session_core::RetryPolicy::disabled())
        .api_version(ApiVersion::Auto)
        .build(t.clone())
        .unwrap()
}

#[tokio::test]
async fn auto_settles_only_on_an_answer_that_proves_a_generation() {
    // A beta-only cluster behind a load balancer whose first answer is a 503 page.
    let busy_then_beta = FnTransport::new(|r, i| {
        Reply::Answer(match (i, r.uri().path().starts_with("/api/")) {
            (0, _) => answer(503, "<html>Service Unavailable</html>"),
            (_, true) => answer(404, "<html>Not Found</html>"),
            (_, false) => answer(200, r#"{"userName":"alice"}"#),
        })
    });
    let c = auto(&busy_then_beta);
    assert_eq!(
        c.get_session_info()
            .await
            .unwrap_err()
            .status()
            .map(|s| s.as_u16()),
        Some(503)
    );
    assert_eq!(c.api_version(), ApiVersion::Auto, "a 503 page proves nothing");
    assert_eq!(c.get_session_info().await.unwrap().user_name(), Some("alice"));
    assert_eq!(c.api_version(), ApiVersion::V2Beta);
    assert_eq!(c.get_session_info().await.unwrap().user_name(), Some("alice"));

    // Answers that prove nothing leave it unsettled, on the client and its clones.
    for (status, body) in [
        (429, ""),
        (302, ""),
        (200, "<!DOCTYPE html><html>Sign in</html>"),
        (502, "Bad gateway"),
    ] {
        let t = FnTransport::new(move |_, _| Reply::Answer(answer(status, body)));
        let c = auto(&t);
        let _ = c.get_session_info().await;
        assert_eq!(c.clone().api_version(), ApiVersion::Auto, "{status} {body:?}");
    }

    // A v2.0 404 in v2.0's error shape proves v2.0: no fall-back to the beta.
    let v2_404 = FnTransport::always(
        404,
        r#"{"error":{"message":{"code":10004,"debug":"no such user"}}}"#,
    );
    let c = auto(&v2_404);
    assert_eq!(
        c.get_session_info()
            .await
            .unwrap_err()
            .status()
            .map(|s| s.as_u16()),
        Some(404)
    );
    assert_eq!((c.api_version(), v2_404.count()), (ApiVersion::V2, 1));

    // 400, 401, 403 and 405 prove the generation asked.
    for status in [400, 401, 403, 405] {
        let t = FnTransport::new(move |_, _| Reply::Answer(answer(status, "")));
        let c = auto(&t);
        let _ = c.get_session_info().await;
        assert_eq!(c.api_version(), ApiVersion::V2, "{status}");
    }
}

#[tokio::test]
async fn auto_tries_the_beta_for_an_org_id_v2_cannot_take_and_settles_nothing() {
    let t = FnTransport::new(|r, _| {
        Reply::Answer(if r.uri().path().ends_with("/gettoken") {
            answer(200, r#"{"userName":"u","token":"tok-1","tokenType":"Bearer"}"#)
        } else {
            answer(500, "unexpected")
        })
    });
    let c = auto(&t);
    let request = GetTokenRequest::with_secret_key("u", "key").with_org_id("sales-org");
    let issued = c.get_token(&request).await.expect("the beta took it");
    assert_eq!(issued.token().map(|t| t.secret()), Some("tok-1"));
    assert_eq!(t.count(), 1, "nothing was sent to v2.0");
    assert_eq!(c.api_version(), ApiVersion::Auto);
}

#[tokio::test]
async fn session_token_mints_so_it_is_never_sent_twice_unless_it_never_left() {
    use thoughtspot_session_core::RetryPolicy;
    // GET session/token mints a token per call (spec 26.8): a 503 or a timeout after it left
    // may have minted one, so it is not sent again, though GETs are retried by default.
    let busy = FnTransport::always(503, "");
    let c = SessionClient::builder("https://cluster.example.com")
        .sleep(InstantSleep::default())
        .retry(RetryPolicy::default().max_attempts(3))
        .build(busy.clone())
        .unwrap();
    assert!(c.session_token().await.is_err());
    assert_eq!(busy.count(), 1, "session/token is not retried");
    // session/user is an ordinary GET: retried.
    assert!(c.session_user().await.is_err());
    assert_eq!(busy.count(), 4);
    // A connect error means it never left: that one is sent again.
    let refused = FnTransport::new(|_, i| {
        if i == 0 {
            Reply::Fail(thoughtspot_session_core::TransportError::connect(
                std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused"),
            ))
        } else {
            Reply::json(&serde_json::json!({"token": "t", "creation_time_in_millis": 0,
                "expiration_time_in_millis": 60000, "valid_for_user_id": "u", "valid_for_username": "u"}))
        }
    });
    let c = SessionClient::builder("https://cluster.example.com")
        .sleep(InstantSleep::default())
        .build(refused.clone())
        .unwrap();
    c.session_token().await.expect("sent again after a connect error");
    assert_eq!(refused.count(), 2);
}

#[tokio::test]
async fn auth_api_refuses_what_cannot_succeed_before_sending_as_session_api_does() {
    use std::time::Duration;
    use thoughtspot_session_core::v2::{
        FilterOperator, FilterRule, GetCustomAccessTokenRequest, GetFullAccessTokenRequest, PersistOption,
        RevokeTokenRequest, RuleValue, SessionLoginRequest,
    };
    let t = FnTransport::always(204, "");
    let c = SessionClient::builder("https://cluster.example.com")
        .sleep(InstantSleep::default())
        .build(t.clone())
        .unwrap();
    let refused =
        |e: thoughtspot_session_core::Error| matches!(e, thoughtspot_session_core::Error::InvalidRequest(_));
    // A bearer login with no token to send.
    assert!(refused(
        c.session_login(&SessionLoginRequest::bearer()).await.unwrap_err()
    ));
    // A revoke that names nothing: `{}` is a 400 by the spec.
    assert!(refused(
        c.token_revoke(&RevokeTokenRequest::default()).await.unwrap_err()
    ));
    // A lifetime of zero.
    let zero = GetFullAccessTokenRequest::with_secret_key("u", "k").with_validity(Duration::ZERO);
    assert!(refused(c.token_full(&zero).await.unwrap_err()));
    let zero = GetCustomAccessTokenRequest::with_secret_key("u", "k", PersistOption::None)
        .with_validity(Duration::ZERO);
    assert!(refused(c.token_custom(&zero).await.unwrap_err()));
    // A rule value with no JSON form.
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let r = GetCustomAccessTokenRequest::with_secret_key("u", "k", PersistOption::None)
            .with_filter_rules([FilterRule::new("x", FilterOperator::Eq, [RuleValue::Float(bad)])]);
        assert!(refused(c.token_custom(&r).await.unwrap_err()), "{bad}");
    }
    assert_eq!(t.count(), 0, "none of them was sent");

    // Revoking the client's own token ends its session, as revoke token does.
    c.set_access_token("own-token").unwrap();
    c.token_revoke(&RevokeTokenRequest::token("someone-else"))
        .await
        .unwrap();
    assert!(
        c.has_access_token(),
        "another token's revocation leaves the client's"
    );
    c.token_revoke(&RevokeTokenRequest::token("own-token"))
        .await
        .unwrap();
    assert!(
        !c.has_access_token(),
        "the client no longer uses a token it revoked"
    );
    assert_eq!(t.count(), 2);
}

#[tokio::test]
async fn a_token_request_with_every_optional_field_set_is_written_as_the_spec_schema_says() {
    use std::time::Duration;
    use thoughtspot_session_core::v2::{
        FilterOperator, GetFullAccessTokenRequest, ObjectRef, RuntimeFilter, RuntimeParameter, RuntimeSort,
        SortOrder, UserParameterOptions,
    };
    let t = FnTransport::always(500, "");
    let c = SessionClient::builder("https://cluster.example.com")
        .sleep(InstantSleep::default())
        .build(t.clone())
        .unwrap();
    let ws = || [ObjectRef::logical_table("ws-1")];
    let request = GetFullAccessTokenRequest::with_secret_key("alice", "SK")
        .with_validity(Duration::from_secs(600))
        .with_org_id(7)
        .with_email("alice@example.com")
        .with_display_name("Alice")
        .with_auto_create(true)
        .with_group_identifiers(["sales"])
        .with_user_parameters(
            UserParameterOptions::new()
                .with_objects(ws())
                .with_runtime_filters([RuntimeFilter::new("region", FilterOperator::In, ["EU", "US"])
                    .with_persist(true)
                    .with_objects(ws())])
                .with_runtime_sorts([RuntimeSort::new("revenue", SortOrder::Desc)
                    .with_persist(false)
                    .with_objects(ws())])
                .with_parameters([RuntimeParameter::new("currency", ["EUR"])
                    .with_persist(true)
                    .with_objects(ws())]),
        );
    let _ = c.token_full(&request).await;
    let sent = t.last().expect("sent");
    let body: serde_json::Value = serde_json::from_slice(sent.body()).unwrap();
    let object = serde_json::json!([{"type": "LOGICAL_TABLE", "identifier": "ws-1"}]);
    assert_eq!(
        body,
        serde_json::json!({
            "username": "alice", "secret_key": "SK", "validity_time_in_sec": 600, "org_id": 7,
            "email": "alice@example.com", "display_name": "Alice", "auto_create": true,
            "group_identifiers": ["sales"],
            "user_parameters": {
                "objects": object,
                "runtime_filters": [{"column_name": "region", "values": ["EU", "US"], "operator": "IN",
                    "persist": true, "objects": object}],
                "runtime_sorts": [{"column_name": "revenue", "order": "DESC", "persist": false, "objects": object}],
                "parameters": [{"name": "currency", "values": ["EUR"], "persist": true, "objects": object}]
            }
        })
    );
    // Keys in the schema's order, as the official SDK writes them.
    let text = std::str::from_utf8(sent.body()).unwrap();
    let order = [
        "\"username\"",
        "\"secret_key\"",
        "\"validity_time_in_sec\"",
        "\"org_id\"",
        "\"email\"",
        "\"display_name\"",
        "\"auto_create\"",
        "\"group_identifiers\"",
        "\"user_parameters\"",
    ];
    let at: Vec<usize> = order.iter().map(|k| text.find(k).expect(k)).collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{text}");
}

#[tokio::test]
async fn settings_with_values_a_newer_cluster_adds_are_read_not_refused() {
    use thoughtspot_session_core::v2::{AuthStatus, AuthType, SearchAuthSettingsRequest};
    let t = FnTransport::always(
        200,
        r#"{"auth_type":"SAML_TRUSTED","cluster_preferences":{"auth_status":"ENABLED_FOR_ADMINS"},
            "org_preferences":[{"org":{"id":1,"name":"o"},"auth_status":"DISABLED"}]}"#,
    );
    let c = SessionClient::builder("https://cluster.example.com")
        .sleep(InstantSleep::default())
        .build(t)
        .unwrap();
    let settings = c
        .search_auth_settings(&SearchAuthSettingsRequest::trusted_auth())
        .await
        .expect("unknown values are kept");
    assert_eq!(settings.auth_type, Some(AuthType::Other("SAML_TRUSTED".into())));
    assert_eq!(
        settings.cluster_preferences.and_then(|p| p.auth_status),
        Some(AuthStatus::Other("ENABLED_FOR_ADMINS".into()))
    );
    assert_eq!(
        settings.org_preferences.unwrap_or_default()[0].auth_status,
        Some(AuthStatus::Disabled)
    );
    assert_eq!(AuthStatus::Other("X".into()).as_str(), "X");
    assert_eq!(
        serde_json::to_string(&AuthType::TrustedAuth).unwrap(),
        r#""TRUSTED_AUTH""#
    );
}
