//! MockTransport: matching, ordering, faults, recording and its report. Most tests script
//! the v2 beta's routes (`expect_get_token` and the like) on a beta client, one setter from
//! the mock's default; the last runs every REST API v2.0 route on the default client.

use serde_json::json;
use std::time::Duration;
use thoughtspot_session_core::{
    ApiVersion, Error, GetTokenRequest, LoginRequest, SessionApi, SessionClient, TransportErrorKind,
};
use thoughtspot_session_mock::{MockResponse, MockTransport};

/// A client of `mock` on the v2 beta.
fn beta(mock: &MockTransport) -> SessionClient<MockTransport> {
    mock.client_builder()
        .api_version(ApiVersion::V2Beta)
        .build(mock.clone())
        .expect("valid")
}

#[tokio::test]
async fn matches_by_route_body_and_headers() {
    let mock = MockTransport::new();
    mock.expect_login()
        .json_body(json!({"userName": "u", "password": "p"}))
        .no_header("authorization")
        .respond(
            MockResponse::json(200, json!({"userName": "u", "tokenType": "Cookie"}))
                .header("set-cookie", "JSESSIONID=s1; Path=/"),
        );
    mock.expect_session_info()
        .header("cookie", "JSESSIONID=s1")
        .respond(MockResponse::json(200, json!({"userName": "u"})));

    let client = beta(&mock);
    client
        .login(&LoginRequest::with_password("u", "p"))
        .await
        .unwrap();
    assert_eq!(client.get_session_info().await.unwrap().user_name(), Some("u"));
    mock.verify().unwrap();
    let recorded = mock.requests();
    assert_eq!(recorded.len(), 2);
    assert_eq!(recorded[1].headers()["cookie"], "JSESSIONID=s1");
}

#[tokio::test]
async fn an_unmatched_request_fails_and_the_report_shows_the_difference_without_secrets() {
    let mock = MockTransport::new();
    mock.expect_get_token()
        .json_body(json!({"userName": "analyst", "secretKey": "right-key"}))
        .respond(MockResponse::json(200, json!({"token": "t"})));
    let client = beta(&mock);
    let e = client
        .get_token(&GetTokenRequest::with_secret_key("someone", "wrong-key"))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Transport(t) if t.kind() == TransportErrorKind::Other),
        "{e:?}"
    );

    let report = mock.verify().unwrap_err().to_string();
    assert!(
        report.contains("expected POST /tspublic/rest/v2/session/gettoken"),
        "{report}"
    );
    assert!(report.contains("once, got 0 call(s)"), "{report}");
    assert!(report.contains("body differs"), "{report}");
    assert!(report.contains(r#""userName":"someone""#), "{report}");
    assert!(
        !report.contains("right-key") && !report.contains("wrong-key"),
        "{report}"
    );
    mock.reset();
}

#[tokio::test]
async fn call_counts_are_checked() {
    let mock = MockTransport::new();
    mock.expect_logout()
        .times(2)
        .respond(MockResponse::json(200, json!(true)));
    let client = beta(&mock);
    client.logout().await.unwrap();
    let report = mock.verify().unwrap_err();
    assert!(report.report().contains("2 times, got 1 call(s)"), "{report}");
    client.logout().await.unwrap();
    mock.verify().unwrap();
    // A third call is more than expected.
    client.logout().await.unwrap_err();
    assert!(
        mock.verify()
            .unwrap_err()
            .report()
            .contains("already had its 2 call(s)")
    );
    mock.reset();
}

#[tokio::test]
async fn in_order_expectations() {
    let mock = MockTransport::new();
    mock.in_order(true);
    mock.expect_get_token()
        .respond(MockResponse::json(200, json!({"token": "t"})));
    mock.expect_login().respond(MockResponse::json(200, json!({})));
    let client = beta(&mock);
    let e = client
        .login(&LoginRequest::with_password("u", "p"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Transport(_)));
    let report = mock.verify().unwrap_err().to_string();
    assert!(
        report.contains("the next expected call is POST /tspublic/rest/v2/session/gettoken"),
        "{report}"
    );
    mock.reset();
}

#[tokio::test]
async fn status_sequences_and_retries() {
    let mock = MockTransport::new();
    mock.expect_session_info().sequence([
        MockResponse::status(503),
        MockResponse::status(503).header("retry-after", "1"),
        MockResponse::json(200, json!({"userName": "u"})),
    ]);
    let client = beta(&mock);
    assert_eq!(client.get_session_info().await.unwrap().user_name(), Some("u"));
    mock.verify().unwrap();
}

#[tokio::test]
async fn transport_faults_of_each_kind() {
    for kind in [
        TransportErrorKind::Connect,
        TransportErrorKind::Timeout,
        TransportErrorKind::Io,
        TransportErrorKind::BodyTooLarge,
        TransportErrorKind::Other,
    ] {
        let mock = MockTransport::new();
        mock.expect_revoke_token().at_least(1).fail(kind);
        let e = beta(&mock).revoke_token().await.unwrap_err();
        let Error::Transport(t) = &e else { panic!("{e:?}") };
        assert_eq!(t.kind(), kind);
        // A POST after a connect error never reached the server, so it is retried (3
        // attempts by default); after any other failure it may have: sent once.
        let expected = if kind == TransportErrorKind::Connect { 3 } else { 1 };
        assert_eq!(mock.requests().len(), expected, "{kind:?}");
        mock.verify().unwrap();
    }
}

#[tokio::test]
async fn a_response_that_never_comes_ends_in_the_client_timeout() {
    let mock = MockTransport::new();
    mock.expect_get_token().hang();
    let client = mock
        .client_builder()
        .api_version(ApiVersion::V2Beta)
        .timeout(Duration::from_secs(3))
        .build(mock.clone())
        .unwrap();
    let e = client
        .get_token(&GetTokenRequest::with_secret_key("u", "k"))
        .await
        .unwrap_err();
    let Error::Timeout(t) = &e else { panic!("{e:?}") };
    assert_eq!(t.timeout(), Duration::from_secs(3));
    mock.verify().unwrap();
}

#[tokio::test]
async fn closures_answer_from_the_request() {
    let mock = MockTransport::new();
    mock.expect_get_token().at_least(1).respond_with(|request| {
        let body: serde_json::Value = serde_json::from_slice(request.body()).unwrap();
        let user = body["userName"].as_str().unwrap_or_default();
        Ok(http::Response::new(bytes::Bytes::from(
            json!({"userName": user, "token": format!("tok-{user}")}).to_string(),
        )))
    });
    let client = beta(&mock);
    for user in ["a", "b"] {
        let r = client
            .get_token(&GetTokenRequest::with_secret_key(user, "k"))
            .await
            .unwrap();
        assert_eq!(r.token().unwrap().secret(), format!("tok-{user}"));
    }
    mock.verify().unwrap();
}

#[test]
fn dropping_an_unverified_mock_with_unmet_expectations_panics_with_the_report() {
    let outcome = std::panic::catch_unwind(|| {
        let mock = MockTransport::new();
        mock.expect_login().respond(MockResponse::status(200));
    });
    let panic = outcome.unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(
        message.contains("expected POST /tspublic/rest/v2/session/login once, got 0 call(s)"),
        "{message}"
    );

    // Opted out: no panic.
    let mock = MockTransport::new();
    mock.verify_on_drop(false);
    mock.expect_login().respond(MockResponse::status(200));
}

#[tokio::test]
async fn every_v2_operation_has_an_expectation() {
    use thoughtspot_session_core::v2::{
        AuthApi, ConfigureAuthSettingsRequest, GetCustomAccessTokenRequest, GetFullAccessTokenRequest,
        GetObjectAccessTokenRequest, PersistOption, RevokeTokenRequest, SearchAuthSettingsRequest,
        SessionLoginRequest as V2Login, ValidateTokenRequest,
    };
    let token = json!({"token": "t", "creation_time_in_millis": 1, "expiration_time_in_millis": 2,
        "scope": {"access_type": "FULL"}, "valid_for_user_id": "g", "valid_for_username": "u"});
    let mock = MockTransport::new();
    mock.in_order(true);
    mock.expect_token_full()
        .json_body(json!({"username": "u", "secret_key": "k"}))
        .no_header("authorization")
        .respond(MockResponse::json(200, token.clone()));
    mock.expect_token_object()
        .respond(MockResponse::json(200, token.clone()));
    mock.expect_token_custom().respond(MockResponse::json(
        200,
        json!({"token": "c", "org": {"id": 0}, "user": {"id": "g"}, "creation_time_in_millis": 1,
            "expiration_time_in_millis": 2}),
    ));
    mock.expect_session_login()
        .json_body(json!({}))
        .respond(MockResponse::status(204));
    mock.expect_session_user().respond(MockResponse::json(
        200,
        json!({"id": "g", "name": "u", "display_name": "U", "visibility": "SHARABLE"}),
    ));
    mock.expect_session_token().respond(MockResponse::json(
        200,
        json!({"token": "s", "creation_time_in_millis": 1, "expiration_time_in_millis": 2,
            "valid_for_user_id": "g", "valid_for_username": "u"}),
    ));
    mock.expect_token_validate()
        .json_body(json!({"token": "t"}))
        .respond(MockResponse::json(
            200,
            json!({"creation_time_in_millis": 1, "expiration_time_in_millis": 2,
            "scope": {"access_type": "FULL"}, "valid_for_user_id": "g", "token_type": "BEARER"}),
        ));
    mock.expect_configure_auth_settings()
        .respond(MockResponse::status(204));
    mock.expect_search_auth_settings()
        .respond(MockResponse::json(200, json!({})));
    mock.expect_token_revoke()
        .json_body(json!({"token": "t"}))
        .respond(MockResponse::status(204));
    mock.expect_session_logout().respond(MockResponse::status(204));

    let c = mock.client();
    let t = c
        .token_full(&GetFullAccessTokenRequest::with_secret_key("u", "k"))
        .await
        .unwrap();
    c.token_object(&GetObjectAccessTokenRequest::with_secret_key("u", "o", "k"))
        .await
        .unwrap();
    c.token_custom(&GetCustomAccessTokenRequest::with_secret_key(
        "u",
        "k",
        PersistOption::None,
    ))
    .await
    .unwrap();
    c.set_access_token(t.token.clone()).unwrap();
    c.session_login(&V2Login::bearer()).await.unwrap();
    c.session_user().await.unwrap();
    c.session_token().await.unwrap();
    c.token_validate(&ValidateTokenRequest::new(t.token.clone()))
        .await
        .unwrap();
    c.configure_auth_settings(&ConfigureAuthSettingsRequest::trusted_auth())
        .await
        .unwrap();
    c.search_auth_settings(&SearchAuthSettingsRequest::trusted_auth())
        .await
        .unwrap();
    c.token_revoke(&RevokeTokenRequest::token(t.token)).await.unwrap();
    c.session_logout().await.unwrap();
    mock.verify().unwrap();
}

#[tokio::test]
async fn the_mocks_own_client_speaks_rest_api_v2_as_production_clients_do() {
    let mock = MockTransport::new();
    mock.expect_token_full()
        .json_body(json!({"username": "analyst", "secret_key": "k"}))
        .respond(MockResponse::json(
            200,
            json!({"token": "t-1", "creation_time_in_millis": 1, "expiration_time_in_millis": 2,
                "scope": {"access_type": "FULL"}, "valid_for_user_id": "g",
                "valid_for_username": "analyst"}),
        ));
    let issued = mock
        .client()
        .get_token(&GetTokenRequest::with_secret_key("analyst", "k"))
        .await
        .unwrap();
    assert_eq!(issued.token().unwrap().secret(), "t-1");
    mock.verify().unwrap();
    assert_eq!(mock.requests()[0].uri().path(), "/api/rest/2.0/auth/token/full");
}
