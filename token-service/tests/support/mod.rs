//! What the end-to-end tests run: a JWT issuer on loopback (keys generated per run, JWKS
//! served over HTTP, counted), the fake cluster on loopback, and the service itself.

#![allow(dead_code)] // each test binary uses part of it

use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use thoughtspot_session_mock::{FakeServer, FakeThoughtSpot, FakeUser};
use thoughtspot_token_service::config::Config;
use thoughtspot_token_service::test_idp::TestIdp;
use thoughtspot_token_service::{Service, http::AppState};

pub const AUDIENCE: &str = "embed-app";
pub const ORIGIN: &str = "https://app.example.com";
pub const SECRET_KEY: &str = "cluster-secret-key";

/// The issuer the tests run: its own loopback port, its JWKS fetches counted.
pub struct Issuer {
    pub idp: TestIdp,
    pub jwks_url: String,
    pub fetches: Arc<AtomicUsize>,
    /// How long each key-set answer is held back, in milliseconds.
    pub jwks_delay_ms: Arc<std::sync::atomic::AtomicU64>,
    /// A `Cache-Control` to answer the key set with instead of the test IdP's.
    pub cache_control: Arc<std::sync::Mutex<Option<String>>>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Issuer {
    pub async fn start() -> Self {
        Self::start_for(AUDIENCE).await
    }

    /// An issuer whose tokens carry `audience`.
    pub async fn start_for(audience: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let idp = TestIdp::new(base.clone(), audience);
        let fetches = Arc::new(AtomicUsize::new(0));
        let counter = fetches.clone();
        let jwks_delay_ms = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let cache_control = Arc::new(std::sync::Mutex::new(None::<String>));
        let (delay, control) = (jwks_delay_ms.clone(), cache_control.clone());
        let app = idp.router().layer(axum::middleware::from_fn(
            move |r: axum::extract::Request, next: axum::middleware::Next| {
                let (counter, delay, control) = (counter.clone(), delay.clone(), control.clone());
                async move {
                    if !r.uri().path().ends_with("jwks.json") {
                        return next.run(r).await;
                    }
                    counter.fetch_add(1, Ordering::SeqCst);
                    let ms = delay.load(Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    let mut response = next.run(r).await;
                    if let Some(value) = control.lock().unwrap().clone() {
                        response
                            .headers_mut()
                            .insert("cache-control", value.parse().unwrap());
                    }
                    response
                }
            },
        ));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        Issuer {
            idp,
            jwks_url: format!("{base}/jwks.json"),
            fetches,
            jwks_delay_ms,
            cache_control,
            _stop: stop,
        }
    }

    /// An ID token for `claims` (a JSON object), valid for an hour.
    pub fn token(&self, claims: Value) -> String {
        self.idp.sign(claims.as_object().unwrap())
    }

    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

pub fn fake() -> FakeThoughtSpot {
    FakeThoughtSpot::builder()
        .user(FakeUser::new("alice@example.com", "pw"))
        .user(FakeUser::new("bob@example.com", "pw").orgs([0, 7]))
        .user(FakeUser::new("carol@example.com", "pw"))
        .secret_key(SECRET_KEY)
        .token_lifetime(Duration::from_secs(3600))
        .build()
}

/// The configuration the tests use, with `extra` TOML appended (later tables win). Its
/// region rule lets callers without the claim through to a full token (`when_missing =
/// "skip"`), so that alice stands for a user no rule bounds; [`strict_config`] keeps the
/// default (refuse).
pub fn config(cluster: &str, issuer: &Issuer, extra: &str) -> Config {
    config_with(cluster, issuer, extra, "skip")
}

/// As [`config`], with the region rule at its default: no claim, no token.
pub fn strict_config(cluster: &str, issuer: &Issuer, extra: &str) -> Config {
    config_with(cluster, issuer, extra, "refuse")
}

fn config_with(cluster: &str, issuer: &Issuer, extra: &str, when_missing: &str) -> Config {
    let text = format!(
        r#"
listen = "127.0.0.1:0"
allowed_origins = ["{ORIGIN}"]
log = "off"
[cluster]
url = "{cluster}"
api = "v2"
[identity]
issuer = "{issuer}"
audiences = ["{AUDIENCE}"]
jwks_url = "{jwks}"
jwks_min_refresh_secs = 1
[mapping]
user_claim = "email"
org_claim = "ts_org"
groups_claim = "groups"
groups_allowed = ["sales", "emea-*"]
[abac]
persist_option = "NONE"
[[abac.rules]]
claim = "region"
column = "Region"
when_missing = "{when_missing}"
{extra}
"#,
        issuer = issuer.idp.issuer(),
        jwks = issuer.jwks_url,
    );
    Config::from_toml(&text).unwrap()
}

/// A running service.
pub struct Running {
    pub base: String,
    pub state: Arc<AppState>,
    pub http: reqwest::Client,
    pub stop: Option<tokio::sync::oneshot::Sender<()>>,
    pub done: Option<tokio::task::JoinHandle<bool>>,
}

pub async fn start(config: &Config, env: &impl thoughtspot_token_service::config::Env) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let local = listener.local_addr().unwrap();
    let service = Service::build(config, env, local).await.unwrap();
    let state = service.state.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let done = tokio::spawn(service.run(listener, async move {
        let _ = stopped.await;
    }));
    Running {
        base: format!("http://{local}"),
        state,
        http: reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap(),
        stop: Some(stop),
        done: Some(done),
    }
}

impl Running {
    pub async fn get(&self, path: &str, bearer: Option<&str>) -> reqwest::Response {
        let mut r = self
            .http
            .get(format!("{}{path}", self.base))
            .header("origin", ORIGIN);
        if let Some(b) = bearer {
            r = r.header("authorization", format!("Bearer {b}"));
        }
        r.send().await.unwrap()
    }

    /// The ThoughtSpot token the bearer gets (asserting a 200).
    pub async fn token(&self, bearer: &str) -> String {
        let response = self.get("/token", Some(bearer)).await;
        let status = response.status();
        let body = response.text().await.unwrap();
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Reports `rejected` (empty: a sign-out) for the bearer's user; answers the status.
    pub async fn invalidate(&self, bearer: &str, rejected: &str) -> u16 {
        self.http
            .post(format!("{}/token/invalidate", self.base))
            .header("authorization", format!("Bearer {bearer}"))
            .body(rejected.to_owned())
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    /// Stops the service and answers whether it drained in time.
    pub async fn shutdown(&mut self) -> bool {
        let _ = self.stop.take().unwrap().send(());
        self.done.take().unwrap().await.unwrap()
    }
}

/// Status and JSON body, checking the body is JSON.
pub async fn json_error(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    assert_eq!(
        response.headers()["content-type"],
        "application/json",
        "status {status}"
    );
    (
        status,
        serde_json::from_slice(&response.bytes().await.unwrap()).unwrap(),
    )
}

pub fn claims(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

pub fn alice() -> Value {
    json!({"email": "alice@example.com"})
}

pub async fn cluster(fake: &FakeThoughtSpot) -> FakeServer {
    FakeServer::start(fake.clone()).await.unwrap()
}
