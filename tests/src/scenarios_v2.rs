//! REST API v2.0 scenarios that hold on every backend: the wire of each operation, 204
//! answers, the v2.0 error body per status, SessionApi's successors, and Auto against an
//! old and a new server.

use crate::harness::{Harness, Stub};
use crate::scenarios::builder;
use serde_json::json;
use std::time::Duration;
use thoughtspot_session_core::v2::{
    AuthApi, GetCustomAccessTokenRequest, GetFullAccessTokenRequest, GetObjectAccessTokenRequest,
    PersistOption, RevokeTokenRequest, SessionLoginRequest as V2Login, ValidateTokenRequest,
};
use thoughtspot_session_core::{ApiVersion, Error, GetTokenRequest, SessionApi};

fn v2(path: &str) -> &'static str {
    Box::leak(format!("/api/rest/2.0/auth/{path}").into_boxed_str())
}

fn token_json() -> serde_json::Value {
    json!({"token": "T-1", "creation_time_in_millis": 1724277430000u64, "expiration_time_in_millis": 1724277730000.0,
           "scope": {"access_type": "FULL", "org_id": 0}, "valid_for_user_id": "g-1", "valid_for_username": "alice"})
}

pub async fn v2_operations_are_exact(h: &dyn Harness) {
    h.stub(Stub::new("POST", v2("token/full"), 200).json(token_json()))
        .await;
    h.stub(Stub::new("POST", v2("token/object"), 200).json(token_json()))
        .await;
    h.stub(
        Stub::new("POST", v2("token/custom"), 200).json(json!({"token": "T-C", "org": {"id": 0},
        "user": {"id": "g-1"}, "creation_time_in_millis": 1, "expiration_time_in_millis": 2})),
    )
    .await;
    for path in ["session/login", "session/logout", "token/revoke"] {
        h.stub(Stub::new("POST", v2(path), 204)).await;
    }
    h.stub(
        Stub::new("POST", v2("token/validate"), 200).json(json!({"creation_time_in_millis": 1,
        "expiration_time_in_millis": 2, "scope": {"access_type": "FULL"}, "valid_for_user_id": "g-1",
        "token_type": "BEARER"})),
    )
    .await;
    h.stub(
        Stub::new("GET", v2("session/user"), 200).json(json!({"id": "g-1", "name": "alice",
        "display_name": "Alice", "visibility": "SHARABLE"})),
    )
    .await;
    let c = builder(h)
        .api_version(ApiVersion::V2)
        .access_token("TOKEN123")
        .build()
        .expect("valid");
    c.token_full(
        &GetFullAccessTokenRequest::with_secret_key("alice", "SK").with_validity(Duration::from_secs(600)),
    )
    .await
    .expect("full");
    c.token_object(&GetObjectAccessTokenRequest::with_secret_key(
        "alice", "obj-guid", "SK",
    ))
    .await
    .expect("object");
    c.token_custom(
        &GetCustomAccessTokenRequest::with_secret_key("alice", "SK", PersistOption::Append)
            .with_org_identifier("7"),
    )
    .await
    .expect("custom");
    c.session_login(&V2Login::with_password("alice", "pw").with_remember_me(true))
        .await
        .expect("login");
    c.set_access_token("TOKEN123").expect("valid");
    c.token_validate(&ValidateTokenRequest::new("T2"))
        .await
        .expect("validate");
    c.token_revoke(&RevokeTokenRequest::token("T2"))
        .await
        .expect("revoke");
    assert_eq!(c.session_user().await.expect("user").name(), "alice");
    c.session_logout().await.expect("logout");

    let bearer = Some("Bearer TOKEN123");
    let expected: [(&str, &str, Option<&str>, &str); 8] = [
        (
            "POST",
            "token/full",
            None,
            r#"{"username":"alice","secret_key":"SK","validity_time_in_sec":600}"#,
        ),
        (
            "POST",
            "token/object",
            None,
            r#"{"username":"alice","object_id":"obj-guid","secret_key":"SK"}"#,
        ),
        (
            "POST",
            "token/custom",
            None,
            r#"{"username":"alice","secret_key":"SK","org_identifier":"7","persist_option":"APPEND"}"#,
        ),
        (
            "POST",
            "session/login",
            bearer,
            r#"{"username":"alice","password":"pw","remember_me":true}"#,
        ),
        ("POST", "token/validate", bearer, r#"{"token":"T2"}"#),
        ("POST", "token/revoke", bearer, r#"{"token":"T2"}"#),
        ("GET", "session/user", bearer, ""),
        ("POST", "session/logout", bearer, ""),
    ];
    let requests = h.requests().await;
    assert_eq!(requests.len(), expected.len());
    for (r, (method, path, auth, body)) in requests.iter().zip(expected) {
        assert_eq!((r.method.as_str(), r.path.as_str()), (method, v2(path)));
        assert_eq!(r.header("authorization"), auth, "{path}");
        assert_eq!(String::from_utf8_lossy(&r.body), body, "{path}");
        assert_eq!(
            r.header("content-type"),
            (!body.is_empty()).then_some("application/json"),
            "{path}"
        );
        assert_eq!(r.header("x-requested-by"), Some("ThoughtSpot"));
    }
}

pub async fn v2_error_statuses_and_bodies(h: &dyn Harness) {
    for (status, path) in [
        (400, "token/full"),
        (401, "token/object"),
        (403, "token/custom"),
        (500, "session/user"),
    ] {
        let method = if path == "session/user" { "GET" } else { "POST" };
        h.stub(
            Stub::new(method, v2(path), status).json(json!({"error": {"message": {"code": 10000 + status,
            "incident_id_guid": "inc-1", "trace_id_guid": "tr-1", "debug": "refused"}}})),
        )
        .await;
    }
    let c = builder(h).api_version(ApiVersion::V2).build().expect("valid");
    let errors = [
        c.token_full(&GetFullAccessTokenRequest::with_secret_key("a", "SK"))
            .await
            .map(|_| ()),
        c.token_object(&GetObjectAccessTokenRequest::with_secret_key("a", "o", "SK"))
            .await
            .map(|_| ()),
        c.token_custom(&GetCustomAccessTokenRequest::with_secret_key(
            "a",
            "SK",
            PersistOption::None,
        ))
        .await
        .map(|_| ()),
        c.session_user().await.map(|_| ()),
    ];
    for (result, status) in errors.into_iter().zip([400u16, 401, 403, 500]) {
        let e = result.expect_err("an error status");
        let Error::Api(api) = &e else { panic!("{e:?}") };
        assert_eq!(api.status().as_u16(), status);
        assert_eq!(api.envelope().upstream_code(), Some(10000 + i64::from(status)));
        assert_eq!((e.incident_id(), e.trace_id()), (Some("inc-1"), Some("tr-1")));
        assert_eq!(
            (e.is_unauthorized(), e.is_forbidden()),
            (status == 401, status == 403)
        );
    }
    assert_eq!(h.requests().await.len(), 4, "none is retried");
}

pub async fn v2_session_api_goes_to_the_successors(h: &dyn Harness) {
    h.stub(Stub::new("POST", v2("token/full"), 200).json(token_json()))
        .await;
    h.stub(Stub::new("POST", v2("token/revoke"), 204)).await;
    let c = builder(h).api_version(ApiVersion::V2).build().expect("valid");
    let issued = c
        .get_token(&GetTokenRequest::with_secret_key("alice", "SK").with_org_id("3"))
        .await
        .expect("token");
    assert_eq!(
        issued.token().map(|t| t.secret().to_owned()).as_deref(),
        Some("T-1")
    );
    assert_eq!(issued.lifetime(), Some(Duration::from_secs(300)));
    c.use_token(&issued).expect("usable");
    assert!(c.revoke_token().await.expect("revoked"));
    let requests = h.requests().await;
    assert_eq!(
        String::from_utf8_lossy(&requests[0].body),
        r#"{"username":"alice","secret_key":"SK","org_id":3}"#
    );
    assert_eq!(requests[1].header("authorization"), Some("Bearer T-1"));
    assert_eq!(String::from_utf8_lossy(&requests[1].body), r#"{"token":"T-1"}"#);
}

pub async fn auto_on_an_old_server_falls_back_to_the_beta(h: &dyn Harness) {
    h.stub(Stub::new("GET", v2("session/user"), 404).body("<html>Not Found</html>"))
        .await;
    h.stub(Stub::new("GET", crate::scenarios::SESSION, 200).json(json!({"userName": "alice"})))
        .await;
    let c = builder(h).api_version(ApiVersion::Auto).build().expect("valid");
    assert_eq!(
        c.get_session_info().await.expect("info").user_name(),
        Some("alice")
    );
    assert_eq!(c.api_version(), ApiVersion::V2Beta);
    c.get_session_info().await.expect("info");
    let paths: Vec<String> = h.requests().await.into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        [
            v2("session/user"),
            crate::scenarios::SESSION,
            crate::scenarios::SESSION
        ]
    );
}

pub async fn auto_on_a_new_server_stays_on_v2(h: &dyn Harness) {
    h.stub(
        Stub::new("GET", v2("session/user"), 200).json(json!({"id": "g-1", "name": "alice",
        "display_name": "Alice", "visibility": "SHARABLE"})),
    )
    .await;
    let c = builder(h).api_version(ApiVersion::Auto).build().expect("valid");
    assert_eq!(
        c.get_session_info().await.expect("info").user_name(),
        Some("alice")
    );
    assert_eq!(c.clone().api_version(), ApiVersion::V2);
    assert_eq!(h.requests().await.len(), 1);
}
