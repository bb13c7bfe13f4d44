//! Behavioural scenarios against FakeThoughtSpot, run three ways — in-process, and over
//! loopback through each production backend — with identical transcripts.

use crate::harness::{Factory, TransportOptions};
use std::sync::Arc;
use std::time::Duration;
use thoughtspot_session_core::{
    ApiVersion, Error, GetTokenRequest, HttpTransport, LoginRequest, SessionApi, SessionClient, TokioSleep,
};
use thoughtspot_session_mock::{FakeServer, FakeThoughtSpot, FakeUser};

pub const OBJECT: &str = "0f6b4c33-58a9-4b3c-9d6b-ef2f7c1b2a10";

/// A cluster with two users, trusted authentication and one Liveboard.
pub fn cluster() -> FakeThoughtSpot {
    FakeThoughtSpot::builder()
        .user(
            FakeUser::new("analyst", "analyst-pw")
                .display_name("An Analyst")
                .orgs([0, 7]),
        )
        .user(FakeUser::new("viewer", "viewer-pw"))
        .secret_key("trusted-key")
        .object(OBJECT)
        .build()
}

/// A client of a fake, and what keeps its way of reaching the fake alive.
pub struct Connected {
    pub fake: FakeThoughtSpot,
    pub client: SessionClient<Arc<dyn HttpTransport>>,
    _server: Option<FakeServer>,
    _wiremock: Option<crate::harness::SafeDropServer>,
}

/// The client reaches the fake in-process, as its transport, speaking `version`.
pub async fn in_process(fake: FakeThoughtSpot, version: ApiVersion) -> Connected {
    let transport: Arc<dyn HttpTransport> = Arc::new(fake.clone());
    let client = fake
        .client_builder()
        .api_version(version)
        .transport(transport)
        .build()
        .expect("valid");
    Connected {
        fake,
        client,
        _server: None,
        _wiremock: None,
    }
}

/// The client reaches the fake over HTTP on loopback, through the transport `factory`
/// makes, speaking `version`.
pub async fn over_loopback(fake: FakeThoughtSpot, factory: Factory, version: ApiVersion) -> Connected {
    let server = FakeServer::start(fake.clone())
        .await
        .expect("the fake serves on loopback");
    let client = SessionClient::builder(server.base_url())
        .api_version(thoughtspot_session_core::ApiVersion::V2Beta)
        .sleep(TokioSleep::new())
        .api_version(version)
        .build(factory(TransportOptions::default()))
        .expect("valid");
    Connected {
        fake,
        client,
        _server: Some(server),
        _wiremock: None,
    }
}

/// The client reaches the fake mounted on a wiremock server (`FakeThoughtSpot::mount`),
/// through the reqwest transport, speaking `version`.
pub async fn on_wiremock(fake: FakeThoughtSpot, version: ApiVersion) -> Connected {
    let server = crate::harness::SafeDropServer::start().await;
    fake.mount(&server).await;
    let client = SessionClient::builder(server.uri())
        .api_version(thoughtspot_session_core::ApiVersion::V2Beta)
        .sleep(TokioSleep::new())
        .api_version(version)
        .build(crate::reqwest(TransportOptions::default()))
        .expect("valid");
    Connected {
        fake,
        client,
        _server: None,
        _wiremock: Some(server),
    }
}

/// A line of transcript for an error: what a caller can see of it.
fn outcome<T: std::fmt::Debug>(result: &Result<T, Error>) -> String {
    match result {
        Ok(v) => format!("ok {v:?}"),
        Err(Error::Api(api)) => format!(
            "api {} upstream {:?}: {:?}",
            api.status().as_u16(),
            api.envelope().upstream_status(),
            api.envelope().debug_message()
        ),
        Err(e) => format!("{:?} {e}", e.status()),
    }
}

pub async fn password_login_cookie_session(c: &Connected) -> Vec<String> {
    let mut t = Vec::new();
    let login = c
        .client
        .login(&LoginRequest::with_password("analyst", "analyst-pw"))
        .await
        .expect("login");
    t.push(format!(
        "login {:?} {:?} token {}",
        login.user_name(),
        login.token_type(),
        login.token().is_some()
    ));
    let mut cookies = c.client.cookie_names();
    cookies.sort();
    t.push(format!("cookies {cookies:?}"));
    let info = c.client.get_session_info().await.expect("info");
    t.push(format!(
        "info {:?} {:?} {:?}",
        info.user_name(),
        info.user_display_name(),
        info.current_org_id()
    ));
    t.push(format!("sessions {}", c.fake.live_sessions().len()));
    t.push(outcome(&c.client.logout().await));
    t.push(format!("sessions {}", c.fake.live_sessions().len()));
    t.push(outcome(&c.client.get_session_info().await));
    t.push(outcome(
        &c.client
            .login(&LoginRequest::with_password("analyst", "wrong"))
            .await
            .map(|_| ()),
    ));
    t
}

pub async fn token_lifecycle(c: &Connected) -> Vec<String> {
    let mut t = Vec::new();
    let issued = c
        .client
        .get_token(&GetTokenRequest::with_secret_key("viewer", "trusted-key"))
        .await
        .expect("token");
    t.push(format!(
        "token {:?} {:?} lifetime {:?}",
        issued.user_name(),
        issued.token_type(),
        issued.lifetime()
    ));
    c.client.use_token(&issued).expect("a token");
    let login = c
        .client
        .login(&LoginRequest::bearer())
        .await
        .expect("login with token");
    t.push(format!("login {:?} {:?}", login.user_name(), login.token_type()));
    t.push(outcome(
        &c.client
            .get_session_info()
            .await
            .map(|i| i.user_name().map(str::to_owned)),
    ));
    t.push(outcome(&c.client.revoke_token().await));
    t.push(format!(
        "tokens live {} sessions live {}",
        c.fake.live_tokens().len(),
        c.fake.live_sessions().len()
    ));
    c.client.use_token(&issued).expect("a token");
    t.push(outcome(
        &c.client.login(&LoginRequest::bearer()).await.map(|_| ()),
    ));
    t.push(outcome(
        &c.client
            .get_token(&GetTokenRequest::with_secret_key("viewer", "wrong"))
            .await
            .map(|_| ()),
    ));
    t
}

pub async fn expiry_on_the_virtual_clock(c: &Connected) -> Vec<String> {
    let mut t = Vec::new();
    let issued = c
        .client
        .get_token(
            &GetTokenRequest::with_password("analyst", "analyst-pw")
                .with_token_expiry(Duration::from_secs(60))
                .with_org_id("7"),
        )
        .await
        .expect("token");
    c.client.use_token(&issued).expect("a token");
    t.push(outcome(
        &c.client.get_session_info().await.map(|i| i.current_org_id()),
    ));
    c.fake.clock().advance(Duration::from_secs(61));
    t.push(outcome(&c.client.get_session_info().await.map(|_| ())));
    t.push(format!("tokens live {}", c.fake.live_tokens().len()));
    t
}

pub async fn bad_parameters_and_view_tokens(c: &Connected) -> Vec<String> {
    let mut t = Vec::new();
    let view = GetTokenRequest::with_secret_key("analyst", "trusted-key").with_report_book_view(OBJECT);
    let issued = c.client.get_token(&view).await.expect("view token");
    t.push(format!("view token {:?}", issued.token_type()));
    c.client.use_token(&issued).expect("a token");
    t.push(outcome(
        &c.client.login(&LoginRequest::bearer()).await.map(|_| ()),
    ));
    let unknown =
        GetTokenRequest::with_secret_key("analyst", "trusted-key").with_report_book_view("no-such-object");
    t.push(outcome(&c.client.get_token(&unknown).await.map(|_| ())));
    let org = GetTokenRequest::with_secret_key("analyst", "trusted-key").with_org_id("99");
    t.push(outcome(&c.client.get_token(&org).await.map(|_| ())));
    t
}

/// REST API v2.0 operations (AuthApi) against the fake.
pub async fn v2_operations(c: &Connected) -> Vec<String> {
    use thoughtspot_session_core::v2::{
        AuthApi, GetCustomAccessTokenRequest, GetFullAccessTokenRequest, GetObjectAccessTokenRequest,
        PersistOption, RevokeTokenRequest, SessionLoginRequest as V2Login, ValidateTokenRequest,
    };
    let mut t = Vec::new();
    let full = c
        .client
        .token_full(&GetFullAccessTokenRequest::with_secret_key("analyst", "trusted-key").with_org_id(7))
        .await
        .expect("full");
    t.push(format!(
        "full {:?} {:?} {:?}",
        full.scope,
        full.lifetime(),
        full.valid_for_username
    ));
    let object = c
        .client
        .token_object(&GetObjectAccessTokenRequest::with_secret_key(
            "viewer",
            OBJECT,
            "trusted-key",
        ))
        .await
        .expect("object");
    t.push(format!("object {:?}", object.scope));
    t.push(outcome(
        &c.client
            .token_custom(&GetCustomAccessTokenRequest::with_secret_key(
                "analyst",
                "wrong",
                PersistOption::None,
            ))
            .await
            .map(|_| ()),
    ));
    c.client.set_access_token(full.token.clone()).expect("valid");
    let validation = c
        .client
        .token_validate(&ValidateTokenRequest::new(object.token.clone()))
        .await;
    t.push(outcome(&validation.map(|v| v.scope)));
    t.push(outcome(
        &c.client
            .session_user()
            .await
            .map(|u| (u.name().to_owned(), u.current_org().map(|o| o.id))),
    ));
    t.push(outcome(
        &c.client
            .token_revoke(&RevokeTokenRequest::token(object.token))
            .await,
    ));
    t.push(outcome(
        &c.client
            .session_login(&V2Login::with_password("analyst", "analyst-pw"))
            .await,
    ));
    t.push(format!("cookies {:?}", c.client.cookie_names()));
    t.push(outcome(&c.client.session_logout().await));
    t.push(outcome(&c.client.session_logout().await));
    t.push(format!(
        "tokens live {} sessions live {}",
        c.fake.live_tokens().len(),
        c.fake.live_sessions().len()
    ));
    t
}

/// Runs each fake scenario four ways (in-process, over loopback through reqwest and hyper,
/// and mounted on a wiremock server) on both API generations and checks the transcripts
/// of each generation are identical.
#[macro_export]
macro_rules! fake_suite {
    ($($scenario:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $scenario() {
            use $crate::fake::{cluster, in_process, on_wiremock, over_loopback};
            let name = concat!(module_path!(), "::", stringify!($scenario));
            let _watchdog = $crate::Watchdog::start(name);
            $crate::within(name, async {
                for version in [
                    thoughtspot_session_core::ApiVersion::V2Beta,
                    thoughtspot_session_core::ApiVersion::V2,
                ] {
                    let in_process = $crate::fake::$scenario(&in_process(cluster(), version).await).await;
                    let reqwest =
                        $crate::fake::$scenario(&over_loopback(cluster(), $crate::reqwest, version).await).await;
                    let hyper = $crate::fake::$scenario(&over_loopback(cluster(), $crate::hyper, version).await).await;
                    let wiremock = $crate::fake::$scenario(&on_wiremock(cluster(), version).await).await;
                    assert!(!in_process.is_empty());
                    assert_eq!(in_process, wiremock, "{version:?}: in-process and the fake on wiremock differ");
                    assert_eq!(in_process, reqwest, "{version:?}: in-process and reqwest over loopback differ");
                    assert_eq!(in_process, hyper, "{version:?}: in-process and hyper over loopback differ");
                }
            })
            .await;
        }
    )*};
}
