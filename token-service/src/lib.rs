//! `thoughtspot-token-service`: the trusted-authentication token service of a ThoughtSpot
//! embedding, ready to deploy.
//!
//! The page that embeds ThoughtSpot signs its user in at the application's own identity
//! provider; the Visual Embed SDK's `getAuthToken` then calls this service with that ID
//! token. The service verifies it (signature against the provider's JWKS, `iss`, `aud`,
//! `exp`, `nbf`), maps its claims to the ThoughtSpot user, org, groups and row-level (ABAC)
//! rules the configuration names, and answers a ThoughtSpot token: a `token/full` token, or
//! a `token/custom` token carrying the rules, cached per shape by the library's
//! [`TokenManager`] and shared by replicas through
//! Redis.
//!
//! ```text
//! browser ── ID token ──▶ token service ── secret key ──▶ ThoughtSpot (token/full, token/custom)
//!    ▲                        │  cache (memory or Redis, sealed), per-user rate limit
//!    └──── ThoughtSpot token ─┘
//! ```
//!
//! Run it with no configuration to try it: it asks an embedded fake cluster and runs a
//! test identity provider, and prints a ready `curl` line. Against a real cluster it
//! refuses to start without an identity provider. The configuration is a TOML file
//! ([`SAMPLE_CONFIG`], `--print-sample-config`) with these environment overrides:
//!
//! | variable | sets |
//! |---|---|
//! | `TOKEN_SERVICE_CONFIG` | the configuration file (as `--config`) |
//! | `TOKEN_SERVICE_ADDR` | `listen` |
//! | `TOKEN_SERVICE_ADMIN_ADDR` | `admin_listen` (`/healthz`, `/readyz`, `/metrics` there) |
//! | `TOKEN_SERVICE_ORIGINS` | `allowed_origins`, comma-separated |
//! | `TOKEN_SERVICE_LOG` | `log`: `json`, `text`, `off` |
//! | `TS_BASE_URL`, `TS_API` | `cluster.url`, `cluster.api` |
//! | `TS_SECRET_KEY` or `TS_SECRET_KEY_FILE` | the cluster's trusted-authentication secret key (secret) |
//! | `OIDC_ISSUER`, `OIDC_AUDIENCE`, `OIDC_JWKS_URL` | `identity` |
//! | `TOKEN_SERVICE_REDIS` | `redis.url` (may hold a password) |
//! | `TS_TOKEN_KEYS` or `TS_TOKEN_KEYS_FILE` | the keys sealing tokens in Redis, `id:base64,…` (secret) |
//!
//! The HTTP face is in [`http`]; the modules beside it hold one concept each.

pub mod body;
pub mod config;
pub mod http;
pub mod identity;
pub mod keys;
pub mod mapping;
pub mod metrics;
pub mod policy;
pub mod recheck;
pub mod reload;
pub mod serve;
pub mod telemetry;
pub mod test_idp;

use crate::config::{Api, Config, ConfigError, Env};
use crate::http::{AppState, Manager, Readiness};
use crate::test_idp::TestIdp;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use thoughtspot_session_core::{
    ApiVersion, HttpTransport, SecretKey, SessionClient, TokenManager, TokioSleep, TokioSpawn,
};
use thoughtspot_session_mock::{FakeThoughtSpot, FakeUser};
use thoughtspot_session_redis::{EncryptionKey, RedisTokenStore};

/// The sample configuration (`token-service.sample.toml`): every setting, commented. With
/// no cluster URL it runs on the embedded fake.
pub const SAMPLE_CONFIG: &str = include_str!("../token-service.sample.toml");

/// The audience of the built-in test identity provider's tokens.
pub const TEST_IDP_AUDIENCE: &str = "thoughtspot-token-service";

/// The embedded fake's secret key (the fake is in process: nothing else knows it). A fake
/// given to [`Service::build_on`] must take it.
pub const FAKE_SECRET_KEY: &str = "embedded-fake-secret-key";

/// Any error of building the service.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A service built from a configuration, ready to serve.
pub struct Service {
    /// The routes, served under [`http::app`]'s layers by [`run`](Self::run).
    pub routes: axum::Router,
    /// The shared state (manager, metrics).
    pub state: Arc<AppState>,
    /// The built-in test identity provider, when it runs.
    pub test_idp: Option<TestIdp>,
    /// The embedded fake cluster, when it is the cluster.
    pub fake: Option<FakeThoughtSpot>,
    /// Serving limits.
    pub limits: serve::ServeLimits,
    reloader: reload::Reloader,
    http_limits: config::LimitsConfig,
    /// Lines for the operator, printed at start (what the service asks, where).
    pub notes: Vec<String>,
    /// The `admin_listen` listener, bound at build, and its routes.
    admin: Option<(tokio::net::TcpListener, axum::Router)>,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("notes", &self.notes)
            .finish_non_exhaustive()
    }
}

fn redis_keys(env: &impl Env) -> Result<Vec<EncryptionKey>, BoxError> {
    let keys = config::secret_from_env(env, "TS_TOKEN_KEYS")?.ok_or_else(|| {
        ConfigError(
            "Redis needs TS_TOKEN_KEYS (or TS_TOKEN_KEYS_FILE): the keys that seal tokens at rest, as id:base64 (try: 1:$(openssl rand -base64 32))"
                .into(),
        )
    })?;
    Ok(EncryptionKey::parse_list(&keys)?)
}

impl Service {
    /// Builds the service `config` describes, reading secrets from `env`; `local` is the
    /// address the service listens on (the test identity provider's issuer names it).
    pub async fn build(config: &Config, env: &impl Env, local: SocketAddr) -> Result<Service, BoxError> {
        Self::build_on(config, env, local, None).await
    }

    /// As [`build`](Self::build), with `fake` as the embedded cluster (when the
    /// configuration names no cluster) instead of the default one with two users: for
    /// benchmarks and tests with users of their own.
    pub async fn build_on(
        config: &Config,
        env: &impl Env,
        local: SocketAddr,
        fake: Option<FakeThoughtSpot>,
    ) -> Result<Service, BoxError> {
        config.validate()?;
        let given = fake;
        let mut notes = Vec::new();
        let version = match config.cluster.api {
            Api::V2 => ApiVersion::V2,
            Api::V2Beta => ApiVersion::V2Beta,
        };
        let (transport, base_url, secret, fake): (Arc<dyn HttpTransport>, String, SecretKey, _) =
            match &config.cluster.url {
                Some(url) => {
                    let secret = config::secret_key(env)?.ok_or_else(|| {
                        ConfigError("a cluster needs its trusted-authentication secret key: set TS_SECRET_KEY or TS_SECRET_KEY_FILE".into())
                    })?;
                    notes.push(format!("asking the cluster at {url}"));
                    let transport = thoughtspot_session_reqwest::ReqwestTransport::new()?;
                    (Arc::new(transport), url.clone(), secret, None)
                }
                None => {
                    let fake = given.unwrap_or_else(|| {
                        FakeThoughtSpot::builder()
                            .user(FakeUser::new("alice@example.com", "unused"))
                            .user(FakeUser::new("bob@example.com", "unused").orgs([0, 7]))
                            .secret_key(FAKE_SECRET_KEY)
                            .build()
                    });
                    notes.push(
                        "asking the embedded fake cluster (users alice@example.com, bob@example.com in orgs 0 and 7); set TS_BASE_URL and TS_SECRET_KEY for a real one"
                            .into(),
                    );
                    let base = thoughtspot_session_mock::FAKE_BASE_URL.to_owned();
                    (
                        Arc::new(fake.clone()),
                        base,
                        SecretKey::new(FAKE_SECRET_KEY),
                        Some(fake),
                    )
                }
            };
        // Each call a client span of the request's trace, when traces are on.
        let transport = telemetry::TracedTransport::new(transport, "cluster");
        let client = SessionClient::builder(base_url.as_str())
            .api_version(version)
            .timeout(Duration::from_millis(config.cluster.timeout_ms))
            .sleep(TokioSleep::new())
            .build(transport)?;
        let mut manager = TokenManager::builder(client, secret)
            .token_lifetime(Duration::from_secs(config.cluster.token_lifetime_secs))
            .revoke_on_invalidate(true)
            .sleep(TokioSleep::new());
        let mut store_probe: Option<RedisTokenStore> = None;
        if let Some(redis) = &config.redis {
            // The keys are read twice rather than copied: they are not `Clone`, so that no
            // stray copy outlives its zeroing.
            let topology = redis.topology()?;
            let builder = || -> Result<_, BoxError> {
                let store = match topology {
                    config::RedisTopology::OneNode(url) => RedisTokenStore::builder(url),
                    config::RedisTopology::Cluster(nodes) => {
                        RedisTokenStore::cluster_builder(nodes.iter().cloned())
                    }
                    config::RedisTopology::Sentinel(sentinels, service) => {
                        let store = RedisTokenStore::sentinel_builder(sentinels.iter().cloned(), service);
                        match env.var("TOKEN_SERVICE_REDIS_PRIMARY_PASSWORD") {
                            Some(password) => store.primary_auth(redis.primary_user.as_deref(), password),
                            None => store,
                        }
                    }
                };
                Ok(store
                    // Shared per cluster: the namespace is the base URL the client asks.
                    .namespace(base_url.as_str(), "thoughtspot-token-service")
                    .keys(redis_keys(env)?)
                    .timeout(Duration::from_millis(redis.timeout_ms)))
            };
            // A Redis that is down at start does not stop the service: it serves alone until
            // Redis answers. A wrong URL or key still does.
            let store = match builder()?.connect().await {
                Ok(store) => store,
                Err(thoughtspot_session_core::Error::Store(e)) => {
                    notes.push(format!(
                        "Redis is not reachable yet ({e}); serving alone until it is"
                    ));
                    builder()?.build()?
                }
                Err(e) => return Err(e.into()),
            };
            notes.push(format!(
                "sharing tokens through Redis ({})",
                store.topology().as_str()
            ));
            store_probe = Some(store.clone());
            // Fits inside the request timeout (validate checks): a planted or orphaned
            // lease costs a request this, then the cluster is asked directly.
            manager = manager
                .store(store)
                .spawn(telemetry::InSpan(TokioSpawn::new()))
                .store_wait(Duration::from_millis(redis.store_wait_ms));
        }
        let manager: Manager = manager.build()?;
        let test_idp = config.test_idp_enabled().then(|| {
            let idp = TestIdp::new(format!("http://{local}/test-idp"), TEST_IDP_AUDIENCE);
            notes.push(format!(
                "test identity provider at http://{local}/test-idp (key generated at start; anyone may sign in as anyone: never for production)"
            ));
            idp
        });
        // Key sets are read under their own cap, while they arrive (not after the
        // transport's default 4 MiB buffer).
        let sources = policy::KeySources {
            http: Arc::new(telemetry::TracedTransport::new(
                thoughtspot_session_reqwest::ReqwestTransport::builder()
                    .max_response_body(identity::MAX_JWKS_LEN)
                    .build()?,
                "identity provider",
            )),
            test_idp: test_idp.clone(),
        };
        let policy = policy::Policy::build(config, &sources, None)?;
        for tenant in policy.tenants() {
            notes.push(match config.tenants.len() {
                0 => format!("verifying callers' tokens from {}", tenant.verifier().issuer()),
                _ => format!(
                    "tenant {}: verifying callers' tokens from {}",
                    tenant.name(),
                    tenant.verifier().issuer()
                ),
            });
        }
        // Fetch the keys now, so the first caller does not wait; a provider that is down
        // at start is tried again on demand (and readiness says so meanwhile).
        policy.warm().await;
        let readiness = Readiness { store: store_probe };
        let state = AppState::new(
            manager,
            policy,
            &config.allowed_origins,
            &config.limits,
            readiness,
        );
        let reloader = reload::Reloader::new(state.clone(), sources, config.clone());
        let (routes, admin) = match &config.admin_listen {
            Some(addr) => {
                let listener = tokio::net::TcpListener::bind(addr.as_str())
                    .await
                    .map_err(|e| ConfigError(format!("cannot listen on admin_listen {addr}: {e}")))?;
                notes.push(format!(
                    "health, readiness and metrics on http://{} only",
                    listener.local_addr()?
                ));
                (
                    http::routes_without_ops(state.clone(), test_idp.as_ref()),
                    Some((listener, http::admin_routes(state.clone()))),
                )
            }
            None => (http::routes(state.clone(), test_idp.as_ref()), None),
        };
        Ok(Service {
            admin,
            routes,
            reloader,
            http_limits: config.limits.clone(),
            state,
            test_idp,
            fake,
            limits: serve::ServeLimits {
                header_read_timeout: Duration::from_millis(config.limits.header_read_timeout_ms),
                shutdown_grace: Duration::from_millis(config.limits.shutdown_grace_ms),
            },
            notes,
        })
    }

    /// What replaces the configuration in force while the service runs (SIGHUP).
    pub fn reloader(&self) -> reload::Reloader {
        self.reloader.clone()
    }

    /// The address of the `admin_listen` listener, when configured.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin.as_ref().and_then(|(l, _)| l.local_addr().ok())
    }

    /// Serves on `listener` until `shutdown` completes, then drains (see [`serve::serve`]).
    /// Prunes the rate limiter's idle users every minute meanwhile.
    pub async fn run(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> bool {
        let state = self.state.clone();
        let pruner = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                state.prune();
            }
        });
        // The admin listener is served as the main one (header-read timeout, whole-request
        // timeout, JSON errors; no browser origin), and stops when it stops.
        let (stop_admin, admin_stopped) = tokio::sync::oneshot::channel::<()>();
        let admin = self.admin.map(|(admin, routes)| {
            let app = http::app(routes, http::Origins::default(), &self.http_limits);
            tokio::spawn(serve::serve(app, admin, self.limits, async move {
                let _ = admin_stopped.await;
            }))
        });
        let app = http::app(self.routes, self.state.origins.clone(), &self.http_limits);
        let drained = serve::serve(app, listener, self.limits, shutdown).await;
        pruner.abort();
        let _ = stop_admin.send(());
        let admin_drained = match admin {
            Some(admin) => admin.await.unwrap_or(false),
            None => true,
        };
        drained && admin_drained
    }
}
