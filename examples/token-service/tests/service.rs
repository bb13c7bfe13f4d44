//! The token service driven over loopback with a real HTTP client, on the fake cluster.

use std::sync::Arc;
use std::time::Duration;
use thoughtspot_session_core::{Clock, HttpTransport, TokenKey, TokenManager};
use thoughtspot_session_mock::{FakeThoughtSpot, FakeUser};
use thoughtspot_token_service::{ServiceConfig, TokenService, serve};

const ORIGIN: &str = "https://app.example.com";
const CALLER_KEY: &str = "caller-key-123";

struct Running {
    base: String,
    fake: FakeThoughtSpot,
    http: reqwest::Client,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn start() -> Running {
    let fake = FakeThoughtSpot::builder()
        .user(FakeUser::new("alice@example.com", "pw"))
        .user(FakeUser::new("bob@example.com", "pw").orgs([0, 7]))
        .secret_key("cluster-secret-key")
        .build();
    let transport: Arc<dyn HttpTransport> = Arc::new(fake.clone());
    let client = fake.client_builder().transport(transport).build().unwrap();
    let clock: Arc<dyn Clock> = Arc::new(fake.clock().clone());
    let manager = TokenManager::builder(client, "cluster-secret-key")
        .clock(clock)
        .revoke_on_invalidate(true)
        .build()
        .unwrap();
    let config = ServiceConfig::new(CALLER_KEY, ORIGIN)
        .user("alice", TokenKey::new("alice@example.com"))
        .user("bob", TokenKey::new("bob@example.com").with_org_id("7"))
        .user("mallory", TokenKey::new("not-on-the-cluster"));
    assert!(!format!("{config:?}").contains(CALLER_KEY));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(TokenService::new(manager, config), listener, async move {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    Running {
        base,
        fake,
        http,
        _stop: stop,
    }
}

impl Running {
    /// The token `user` gets with the right caller key.
    async fn token(&self, user: &str) -> String {
        let response = self
            .get("/token", Some(user), Some(CALLER_KEY))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.text().await.unwrap()
    }

    fn get(&self, path: &str, user: Option<&str>, key: Option<&str>) -> reqwest::RequestBuilder {
        let mut r = self
            .http
            .get(format!("{}{path}", self.base))
            .header("origin", ORIGIN);
        if let Some(user) = user {
            r = r.header("x-app-user", user);
        }
        if let Some(key) = key {
            r = r.header("x-service-key", key);
        }
        r
    }
}

async fn json_error(response: reqwest::Response, status: u16, code: &str) -> serde_json::Value {
    assert_eq!(response.status().as_u16(), status);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: serde_json::Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(body["error"], code, "{body}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mapped_caller_gets_a_cached_token_as_text_with_cors() {
    let s = start().await;
    let response = s
        .get("/token", Some("alice"), Some(CALLER_KEY))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let h = response.headers().clone();
    assert_eq!(h["content-type"], "text/plain; charset=utf-8");
    assert_eq!(h["cache-control"], "no-store");
    assert_eq!(h["access-control-allow-origin"], ORIGIN);
    assert_eq!(h["access-control-allow-credentials"], "true");
    let token = response.text().await.unwrap();
    let issued = s.fake.live_tokens();
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0].token.secret(), token);
    assert_eq!(issued[0].user, "alice@example.com");

    let again = s.token("alice").await;
    assert_eq!(again, token);
    assert_eq!(s.fake.count("get token"), 1);

    let bob = s
        .http
        .post(format!("{}/token", s.base))
        .header("x-app-user", "bob")
        .header("x-service-key", CALLER_KEY);
    assert_eq!(bob.send().await.unwrap().status(), 200);
    let bobs = s
        .fake
        .live_tokens()
        .into_iter()
        .find(|t| t.user == "bob@example.com")
        .unwrap();
    assert_eq!(bobs.org_id, 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_are_checked_and_errors_are_json_never_200() {
    let s = start().await;
    let refusals = [
        ("/token", Some("alice"), None, 401, "unauthenticated"),
        (
            "/token",
            Some("alice"),
            Some("caller-key-12"),
            401,
            "unauthenticated",
        ),
        ("/token", Some("eve"), Some(CALLER_KEY), 403, "unknown_user"),
        ("/token", None, Some(CALLER_KEY), 403, "unknown_user"),
        ("/nope", Some("alice"), Some(CALLER_KEY), 404, "not_found"),
    ];
    for (path, user, key, status, code) in refusals {
        json_error(s.get(path, user, key).send().await.unwrap(), status, code).await;
    }
    let put = s.http.put(format!("{}/token", s.base)).send().await.unwrap();
    assert_eq!(put.headers()["allow"], "GET, POST, OPTIONS");
    json_error(put, 405, "method_not_allowed").await;
    // A user the cluster does not know: the cluster refuses, the service says so.
    let body = json_error(
        s.get("/token", Some("mallory"), Some(CALLER_KEY))
            .send()
            .await
            .unwrap(),
        502,
        "cluster_refused",
    )
    .await;
    assert!(
        body["incident"].as_str().is_some_and(|id| id.len() == 36),
        "{body}"
    );
    assert!(!body.to_string().contains("cluster-secret-key"));
    // An outage is a 503.
    s.fake.set_outage(true);
    json_error(
        s.get("/token", Some("alice"), Some(CALLER_KEY))
            .send()
            .await
            .unwrap(),
        503,
        "cluster_unavailable",
    )
    .await;
    assert_eq!(
        s.fake.count("get token"),
        2,
        "get token is a POST: not retried on 503"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_is_for_the_configured_origin_only() {
    let s = start().await;
    let preflight = s
        .http
        .request(reqwest::Method::OPTIONS, format!("{}/token", s.base))
        .header("origin", ORIGIN)
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    assert_eq!(preflight.headers()["access-control-allow-origin"], ORIGIN);
    assert!(
        preflight.headers()["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("x-service-key")
    );

    let other = s
        .http
        .get(format!("{}/token", s.base))
        .header("origin", "https://evil.example.org")
        .header("x-app-user", "alice")
        .header("x-service-key", CALLER_KEY)
        .send()
        .await
        .unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    assert_eq!(other.headers()["vary"], "Origin");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalidate_revokes_and_the_next_request_gets_a_new_token() {
    let s = start().await;
    let first = s.token("alice").await;
    let invalidate = s
        .http
        .post(format!("{}/token/invalidate", s.base))
        .header("x-app-user", "alice")
        .header("x-service-key", CALLER_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(invalidate.status(), 204);
    assert!(
        s.fake
            .tokens()
            .iter()
            .any(|t| t.token.secret() == first && t.revoked)
    );
    let second = s.token("alice").await;
    assert_ne!(first, second);
    assert_eq!(s.fake.live_tokens().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_token_reported_twice_is_replaced_once() {
    let s = start().await;
    let rejected = s.token("alice").await;
    let report = || {
        s.http
            .post(format!("{}/token/invalidate", s.base))
            .header("x-app-user", "alice")
            .header("x-service-key", CALLER_KEY)
            .body(rejected.clone())
            .send()
    };
    assert_eq!(report().await.unwrap().status(), 204);
    let replacement = s.token("alice").await;
    assert_ne!(replacement, rejected);
    // The second tab reports the same token: the replacement stays.
    assert_eq!(report().await.unwrap().status(), 204);
    assert_eq!(s.token("alice").await, replacement);
    assert_eq!(s.fake.count("get token"), 2);
    assert_eq!(s.fake.live_tokens().len(), 1);
}
