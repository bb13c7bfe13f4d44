//! FakeThoughtSpot's REST API v2.0 face: one state for both generations, v2.0 statuses and
//! error bodies, custom token rules, trusted-auth settings, old and new clusters.

use std::time::Duration;
use thoughtspot_session_core::v2::{
    AuthApi, AuthStatus, ConfigureAuthSettingsRequest, FilterOperator, FilterRule,
    GetCustomAccessTokenRequest, GetFullAccessTokenRequest, GetObjectAccessTokenRequest, PersistOption,
    RevokeTokenRequest, SearchAuthSettingsRequest, SessionLoginRequest as V2Login, ValidateTokenRequest,
};
use thoughtspot_session_core::{
    ApiVersion, Error, GetTokenRequest, LoginRequest, SessionApi, SessionClient, TokenKey, TokenManager,
};
use thoughtspot_session_mock::{ApiGenerations, FakeThoughtSpot, FakeUser};

const OBJECT: &str = "e65d7d3e-f8d2-4e2b-a2b3-8f7ad5b4e5c1";

fn fake(generations: ApiGenerations) -> FakeThoughtSpot {
    FakeThoughtSpot::builder()
        .user(FakeUser::new("alice", "alice-pw").orgs([0, 7]))
        .user(FakeUser::new("admin", "admin-pw").privileges(["ADMINISTRATION"]))
        .secret_key("SK")
        .object(OBJECT)
        .generations(generations)
        .build()
}

fn client(fake: &FakeThoughtSpot, version: ApiVersion) -> SessionClient<FakeThoughtSpot> {
    fake.client_builder()
        .api_version(version)
        .build(fake.clone())
        .unwrap()
}

fn status(e: &Error) -> Option<u16> {
    e.status().map(|s| s.as_u16())
}

#[tokio::test]
async fn a_token_minted_on_one_generation_works_on_the_other() {
    let fake = fake(ApiGenerations::Both);
    let v2 = client(&fake, ApiVersion::V2);
    let beta = client(&fake, ApiVersion::V2Beta);
    let token = v2
        .token_full(&GetFullAccessTokenRequest::with_secret_key("alice", "SK"))
        .await
        .unwrap();
    assert_eq!(
        (token.scope.access_type.as_str(), token.scope.org_id),
        ("FULL", Some(0))
    );
    beta.set_access_token(token.token.clone()).unwrap();
    assert_eq!(beta.get_session_info().await.unwrap().user_name(), Some("alice"));

    let issued = beta
        .get_token(&GetTokenRequest::with_secret_key("alice", "SK"))
        .await
        .unwrap();
    v2.set_access_token(issued.token().unwrap().clone()).unwrap();
    assert_eq!(v2.session_user().await.unwrap().name(), "alice");

    // A v2.0 login makes a cookie session that beta calls see (they share one jar here).
    let shared = client(&fake, ApiVersion::V2);
    shared
        .session_login(&V2Login::with_password("alice", "alice-pw"))
        .await
        .unwrap();
    assert_eq!(fake.live_sessions().len(), 1);
    assert_eq!(shared.cookie_names(), ["JSESSIONID"]);
    let info = shared.get_session_info().await.unwrap();
    assert_eq!(info.user_name(), Some("alice"));
    shared.session_logout().await.unwrap();
    assert!(fake.live_sessions().is_empty());
}

#[tokio::test]
async fn failures_have_v2_statuses_and_bodies() {
    let fake = fake(ApiGenerations::Both);
    let c = client(&fake, ApiVersion::V2);
    let wrong = c
        .token_full(&GetFullAccessTokenRequest::with_secret_key("alice", "nope"))
        .await
        .unwrap_err();
    assert!(wrong.is_unauthorized(), "{wrong}");
    let Error::Api(api) = &wrong else {
        panic!("{wrong:?}")
    };
    assert_eq!(api.envelope().upstream_code(), Some(10097));
    assert!(wrong.incident_id().is_some());
    assert_eq!(api.headers()["content-type"], "application/json");

    let unknown = c
        .token_object(&GetObjectAccessTokenRequest::with_secret_key(
            "alice",
            "not-an-object",
            "SK",
        ))
        .await
        .unwrap_err();
    assert_eq!(status(&unknown), Some(400));
    let no_session = c.session_user().await.unwrap_err();
    assert_eq!(status(&no_session), Some(401));

    // configure and search need ADMINISTRATION.
    let token = c
        .token_full(&GetFullAccessTokenRequest::with_password("alice", "alice-pw"))
        .await
        .unwrap();
    c.set_access_token(token.token).unwrap();
    let forbidden = c
        .search_auth_settings(&SearchAuthSettingsRequest::trusted_auth())
        .await
        .unwrap_err();
    assert!(forbidden.is_forbidden(), "{forbidden}");

    fake.fail_next(1, 500);
    let failed = c.session_user().await.unwrap_err();
    assert_eq!(status(&failed), Some(500));
    let Error::Api(api) = &failed else {
        panic!("{failed:?}")
    };
    assert_eq!(api.envelope().upstream_code(), Some(10038));
}

#[tokio::test]
async fn revoke_validate_and_custom_rules() {
    let fake = fake(ApiGenerations::Both);
    let c = client(&fake, ApiVersion::V2);
    let object = c
        .token_object(
            &GetObjectAccessTokenRequest::with_secret_key("alice", OBJECT, "SK")
                .with_validity(Duration::from_secs(60)),
        )
        .await
        .unwrap();
    assert_eq!(object.scope.metadata_id.as_deref(), Some(OBJECT));
    assert_eq!(object.lifetime(), Some(Duration::from_secs(60)));
    let custom = c
        .token_custom(
            &GetCustomAccessTokenRequest::with_secret_key("alice", "SK", PersistOption::Replace)
                .with_org_identifier("7")
                .with_filter_rules([FilterRule::new("region", FilterOperator::In, ["west", "north"])]),
        )
        .await
        .unwrap();
    assert_eq!(custom.org.id, 7);
    let record = fake
        .tokens()
        .into_iter()
        .find(|t| t.token == custom.token)
        .unwrap();
    assert_eq!(
        record.rules,
        Some(serde_json::json!({"persist_option": "REPLACE",
            "filter_rules": [{"column_name": "region", "operator": "IN", "values": ["west", "north"]}]}))
    );

    c.set_access_token(custom.token.clone()).unwrap();
    let validation = c
        .token_validate(&ValidateTokenRequest::new(object.token.clone()))
        .await
        .unwrap();
    assert_eq!(
        (
            validation.scope.access_type.as_str(),
            validation.token_type.as_str()
        ),
        ("REPORT_BOOK_VIEW", "BEARER")
    );
    c.token_revoke(&RevokeTokenRequest::token(object.token.clone()))
        .await
        .unwrap();
    let revoked = c
        .token_validate(&ValidateTokenRequest::new(object.token.clone()))
        .await
        .unwrap_err();
    assert_eq!(status(&revoked), Some(400));
    assert!(
        fake.tokens()
            .iter()
            .find(|t| t.token == object.token)
            .unwrap()
            .revoked
    );
}

#[tokio::test]
async fn trusted_auth_settings_are_kept_per_cluster_and_org() {
    let fake = fake(ApiGenerations::Both);
    let c = client(&fake, ApiVersion::V2);
    c.session_login(&V2Login::with_password("admin", "admin-pw"))
        .await
        .unwrap();
    c.configure_auth_settings(
        &ConfigureAuthSettingsRequest::trusted_auth()
            .with_cluster_status(AuthStatus::Disabled)
            .with_org_status("7", AuthStatus::Enabled),
    )
    .await
    .unwrap();
    let settings = c
        .search_auth_settings(&SearchAuthSettingsRequest::trusted_auth())
        .await
        .unwrap();
    let cluster = settings.cluster_preferences.unwrap();
    assert_eq!(cluster.auth_status, Some(AuthStatus::Disabled));
    assert_eq!(cluster.access_tokens.unwrap()[0].key.secret(), "SK");
    let orgs = settings.org_preferences.unwrap();
    assert_eq!(
        (orgs[0].org.id, orgs[0].auth_status.clone()),
        (7, Some(AuthStatus::Enabled))
    );
}

#[tokio::test]
async fn auto_meets_old_and_new_clusters() {
    for (generations, settled) in [
        (ApiGenerations::BetaOnly, ApiVersion::V2Beta),
        (ApiGenerations::V2Only, ApiVersion::V2),
        (ApiGenerations::Both, ApiVersion::V2),
    ] {
        let fake = fake(generations);
        let c = client(&fake, ApiVersion::Auto);
        let issued = c
            .get_token(&GetTokenRequest::with_secret_key("alice", "SK"))
            .await
            .unwrap();
        assert_eq!(c.api_version(), settled, "{generations:?}");
        c.use_token(&issued).unwrap();
        c.login(&LoginRequest::bearer()).await.unwrap();
        assert_eq!(c.get_session_info().await.unwrap().user_name(), Some("alice"));
        assert!(c.logout().await.unwrap());
        assert!(fake.live_sessions().is_empty(), "{generations:?}");
        // A client fixed to the generation the cluster lacks gets 404s.
        let lacking = match generations {
            ApiGenerations::BetaOnly => Some(ApiVersion::V2),
            ApiGenerations::V2Only => Some(ApiVersion::V2Beta),
            _ => None,
        };
        if let Some(version) = lacking {
            let e = client(&fake, version).get_session_info().await.unwrap_err();
            assert_eq!(status(&e), Some(404));
        }
    }
}

#[tokio::test]
async fn token_manager_runs_on_either_generation() {
    for version in [ApiVersion::V2, ApiVersion::Auto, ApiVersion::V2Beta] {
        let fake = fake(ApiGenerations::Both);
        let m = TokenManager::builder(client(&fake, version), "SK")
            .clock(fake.clock().clone())
            .revoke_on_invalidate(true)
            .build()
            .unwrap();
        let key = TokenKey::new("alice").with_org_id("7");
        let first = m.token(&key).await.unwrap();
        assert_eq!(m.token(&key).await.unwrap(), first, "{version:?}: cached");
        assert_eq!(
            first.expires_at().duration_since(first.issued_at()).unwrap(),
            Duration::from_secs(300)
        );
        let view = m
            .token(&TokenKey::new("alice").with_report_book_view(OBJECT))
            .await
            .unwrap();
        assert_ne!(view.token(), first.token());
        let second = m.refresh(&key, first.token()).await.unwrap();
        assert_ne!(second.token(), first.token());
        let records = fake.tokens();
        let find =
            |t: &thoughtspot_session_core::AccessToken| records.iter().find(|r| &r.token == t).unwrap();
        assert!(find(first.token()).revoked, "{version:?}: revoked");
        assert_eq!(find(second.token()).org_id, 7);
        assert_eq!(m.stats().revoke_errors, 0);
    }
}

#[tokio::test]
async fn the_fakes_own_client_speaks_rest_api_v2_as_production_clients_do() {
    let fake = fake(ApiGenerations::Both);
    // What a team writes first: the fake's client, the trait's calls.
    let c = fake.client();
    let issued = c
        .get_token(&GetTokenRequest::with_secret_key("alice", "SK"))
        .await
        .unwrap();
    c.use_token(&issued).unwrap();
    assert_eq!(c.get_session_info().await.unwrap().user_name(), Some("alice"));
    assert_eq!(fake.count("token/full"), 1, "minted on REST API v2.0");
    assert_eq!(fake.count("get token"), 0, "not on the beta");
    let paths: Vec<String> = fake.requests().iter().map(|r| r.path.clone()).collect();
    assert!(
        paths.iter().all(|p| p.starts_with("/api/rest/2.0/auth/")),
        "every call went to REST API v2.0: {paths:?}"
    );
    // The beta is one setter away, as in production.
    let beta = fake
        .client_builder()
        .api_version(ApiVersion::V2Beta)
        .build(fake.clone())
        .unwrap();
    beta.get_token(&GetTokenRequest::with_secret_key("alice", "SK"))
        .await
        .unwrap();
    assert_eq!(fake.count("get token"), 1);
}
