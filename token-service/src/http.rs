//! The HTTP face: axum routes and tower-http layers (CORS, whole-request timeout, body
//! limit, trace), JSON errors, per-user rate limits.
//!
//! - `GET` or `POST /token`: `200 text/plain` with the caller's ThoughtSpot token, the form
//!   the Visual Embed SDK's `getAuthToken` reads. A `POST` whose body is the token the page
//!   got last (the SDK asks again only when that one failed) gets a new one in its place.
//!   A cached token older than `token_recheck_secs` is checked at the cluster before it is
//!   served again (once per that time) and replaced if the cluster refuses it, so that the
//!   SDK never gets back a token it saw fail (its "duplicate token").
//! - `POST /token/invalidate`: with the token the front end saw rejected as the body,
//!   forgets (and revokes) it if it is still the cached one; with an empty body, forgets
//!   (and revokes) the caller's token (sign-out). `204`.
//! - `GET /healthz` (the process is up), `GET /readyz` (ready when the cluster answers and
//!   the identity provider's keys are held; Redis, when configured, is reported, and a
//!   Redis that is down shows as `degraded`, not unready), `GET /metrics`. With
//!   `admin_listen` set, these three are served there instead.
//! - Errors: `{"error": code, "message": text}` with 400, 401 (and `WWW-Authenticate`),
//!   403, 404, 405, 408, 413, 429 (and `Retry-After`), 502, 503 or 504.

use crate::identity::Rejection;
use crate::metrics::{ErrorKind, Metrics, Outcome, Route};
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use governor::clock::{Clock, DefaultClock};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use thoughtspot_session_core::{AccessToken, Error, HttpTransport, SessionClient, TokenKey, TokenManager};

/// The manager the service runs: over any transport.
pub type Manager = TokenManager<SessionClient<crate::telemetry::TracedTransport<Arc<dyn HttpTransport>>>>;

/// A JSON error answer.
pub fn json_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({ "error": code, "message": message }).to_string();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Who answers whether the service is ready, besides the cluster and the identity
/// providers of the policy in force.
#[derive(Clone)]
pub struct Readiness {
    /// The shared store, probed with a `PING`.
    pub store: Option<thoughtspot_session_redis::RedisTokenStore>,
}

/// The origins whose pages may read the answers, replaced on reload.
#[derive(Clone, Default)]
pub struct Origins(Arc<arc_swap::ArcSwap<Vec<HeaderValue>>>);

impl std::fmt::Debug for Origins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Origins").field(&*self.0.load()).finish()
    }
}

impl Origins {
    /// Exactly `origins` (each `scheme://host[:port]`; one that is not a header value is
    /// left out).
    pub fn new(origins: &[String]) -> Self {
        Self(Arc::new(arc_swap::ArcSwap::from_pointee(origins_list(origins))))
    }

    /// Replaces the origins.
    pub fn set(&self, origins: &[String]) {
        self.0.store(Arc::new(origins_list(origins)));
    }

    /// Whether `origin` is one of them.
    pub fn contains(&self, origin: &HeaderValue) -> bool {
        self.0.load().contains(origin)
    }
}

fn origins_list(origins: &[String]) -> Vec<HeaderValue> {
    origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect()
}

/// What every request shares.
pub struct AppState {
    pub(crate) manager: Manager,
    /// The tenants, rate limiter and recheck rule in force (swapped whole on reload).
    pub(crate) policy: Arc<arc_swap::ArcSwap<crate::policy::Policy>>,
    /// The origins in force.
    pub(crate) origins: Origins,
    /// The body limit in force, in bytes.
    pub(crate) body_limit: Arc<std::sync::atomic::AtomicUsize>,
    pub(crate) metrics: Metrics,
    pub(crate) readiness: Readiness,
    pub(crate) ready_cache: std::sync::Mutex<Option<(Instant, bool, serde_json::Value)>>,
    /// Held while a readiness probe runs: concurrent probes wait for its verdict.
    ready_flight: tokio::sync::Mutex<()>,
    /// The hot path's own handles (no label lookup per request).
    served: prometheus_client::metrics::counter::Counter,
    token_latency: prometheus_client::metrics::histogram::Histogram,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

impl AppState {
    /// The state of a service over `manager`, deciding with `policy`.
    pub fn new(
        manager: Manager,
        policy: crate::policy::Policy,
        origins: &[String],
        limits: &crate::config::LimitsConfig,
        readiness: Readiness,
    ) -> Arc<Self> {
        let stats_manager = manager.clone();
        let policy = Arc::new(arc_swap::ArcSwap::from_pointee(policy));
        let metrics = Metrics::new(
            move || stats_manager.stats(),
            policy.clone(),
            readiness.store.clone(),
        );
        let served = metrics
            .requests
            .get_or_create(&Outcome {
                route: "token",
                outcome: "served",
            })
            .clone();
        let token_latency = metrics.latency.get_or_create(&Route { route: "token" }).clone();
        Arc::new(Self {
            served,
            token_latency,
            manager,
            policy,
            origins: Origins::new(origins),
            body_limit: Arc::new(std::sync::atomic::AtomicUsize::new(limits.body_limit_bytes)),
            metrics,
            readiness,
            ready_cache: std::sync::Mutex::new(None),
            ready_flight: tokio::sync::Mutex::new(()),
        })
    }

    /// The token manager (for its counters).
    pub fn manager(&self) -> &Manager {
        &self.manager
    }

    /// The policy in force.
    pub fn policy(&self) -> Arc<crate::policy::Policy> {
        self.policy.load_full()
    }

    /// The metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Forgets rate-limit state of users idle long enough to be back at full burst: run
    /// now and then so that the limiter's memory follows the active users, not all users.
    pub fn prune(&self) {
        self.policy.load().prune();
    }
}

/// The routes a span may be named for.
const ROUTES: &[&str] = &["/token", "/token/invalidate", "/healthz", "/readyz", "/metrics"];

/// Counts `outcome` and, but for a recheck's, puts it on the request's span.
fn outcome(state: &AppState, route: &'static str, outcome: &'static str) {
    if !outcome.starts_with("recheck_") {
        tracing::Span::current().record("outcome", outcome);
    }
    state
        .metrics
        .requests
        .get_or_create(&Outcome { route, outcome })
        .inc();
}

fn rejected(state: &AppState, route: &'static str, why: &Rejection) -> Response {
    outcome(state, route, why.code());
    tracing::info!(route, reason = why.code(), "caller refused");
    if *why == Rejection::KeysUnavailable {
        return json_error(StatusCode::SERVICE_UNAVAILABLE, why.code(), &why.to_string());
    }
    let mut response = json_error(StatusCode::UNAUTHORIZED, why.code(), &why.to_string());
    let challenge = if *why == Rejection::Missing {
        HeaderValue::from_static("Bearer")
    } else {
        // The reason's text is ours (no token, no claim value): safe in a header.
        HeaderValue::from_str(&format!(
            "Bearer error=\"invalid_token\", error_description=\"{why}\""
        ))
        .unwrap_or_else(|_| HeaderValue::from_static("Bearer error=\"invalid_token\""))
    };
    response.headers_mut().insert(header::WWW_AUTHENTICATE, challenge);
    response
}

/// The `Authorization` header alone (the whole header map is not copied per request).
pub struct Authorization(Option<HeaderValue>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Authorization {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(parts.headers.get(header::AUTHORIZATION).cloned()))
    }
}

/// A verified, mapped caller within its rate.
struct Caller(Arc<crate::mapping::Mapped>);

impl Caller {
    fn key(&self) -> &TokenKey {
        &self.0.key
    }
}

/// Verifies the caller, maps it and applies its rate limit.
async fn caller(
    state: &AppState,
    policy: &crate::policy::Policy,
    authorization: &Authorization,
    route: &'static str,
) -> Result<Caller, Response> {
    let bearer = authorization
        .0
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim);
    let Some(bearer) = bearer else {
        return Err(rejected(state, route, &Rejection::Missing));
    };
    let verified = policy
        .verify(bearer)
        .await
        .map_err(|why| rejected(state, route, &why))?;
    let mapped = match &verified.mapped {
        Ok(mapped) => mapped,
        Err(why) => {
            outcome(state, route, why.code);
            tracing::info!(route, reason = why.code, detail = %why, "caller gets no token");
            return Err(json_error(StatusCode::FORBIDDEN, why.code, &why.message));
        }
    };
    if let Err(not_until) = policy.limiter().check_key(&mapped.limit_key) {
        outcome(state, route, "rate_limited");
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let mut response = json_error(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many token requests for this user: retry after the time Retry-After says",
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        return Err(response);
    }
    Ok(Caller(mapped.clone()))
}

fn cluster_error(state: &AppState, route: &'static str, e: &Error) -> Response {
    let (status, code, kind) = match e {
        Error::Timeout(_) => (StatusCode::GATEWAY_TIMEOUT, "cluster_timeout", "timeout"),
        Error::Store(_) => (StatusCode::SERVICE_UNAVAILABLE, "store_unavailable", "store"),
        Error::InvalidRequest(_) | Error::Config(_) => {
            (StatusCode::BAD_GATEWAY, "cluster_refused", "invalid")
        }
        e if e.is_retryable() => (
            StatusCode::SERVICE_UNAVAILABLE,
            "cluster_unavailable",
            "unavailable",
        ),
        _ => (StatusCode::BAD_GATEWAY, "cluster_refused", "refused"),
    };
    state
        .metrics
        .cluster_errors
        .get_or_create(&ErrorKind { kind })
        .inc();
    outcome(state, route, code);
    // The error's text is scrubbed of secrets by the library; it is for the operator.
    tracing::warn!(route, kind, error = %e, "cluster call failed");
    let mut body = json!({ "error": code, "message": "ThoughtSpot did not issue a token" });
    if let Some(incident) = e.incident_id() {
        body["incident"] = incident.into();
    }
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn token(
    State(state): State<Arc<AppState>>,
    authorization: Authorization,
    body: axum::body::Bytes,
) -> Response {
    let started = Instant::now();
    // Loaded once: the request keeps this policy to its end, whatever a reload does.
    let policy = state.policy.load_full();
    let response = match caller(&state, &policy, &authorization, "token").await {
        Err(response) => response,
        Ok(caller) => match token_for(&state, &policy, caller.key(), &body).await {
            Ok(token) => {
                state.served.inc();
                tracing::Span::current().record("outcome", "served");
                tracing::debug!(
                    route = "token",
                    custom = caller.key().rules().is_some(),
                    "token served"
                );
                const TEXT: HeaderValue = HeaderValue::from_static("text/plain; charset=utf-8");
                const NO_STORE: HeaderValue = HeaderValue::from_static("no-store");
                let mut response = Response::new(Body::from(token.token().secret().to_owned()));
                let headers = response.headers_mut();
                headers.insert(header::CONTENT_TYPE, TEXT);
                headers.insert(header::CACHE_CONTROL, NO_STORE);
                response
            }
            Err(e) => cluster_error(&state, "token", &e),
        },
    };
    observe(&state, "token", started);
    response
}

/// The token to serve `key`: a `POST` whose body is the token the page last got (the one
/// the SDK now asks to replace) replaces it if it is still the cached one; a cached token
/// due for a check ([`Recheck`](crate::recheck::Recheck)) that the cluster no longer
/// accepts is replaced too. A check the cluster cannot answer serves the token as it is
/// (it grants nothing the caller does not hold already).
async fn token_for(
    state: &AppState,
    policy: &crate::policy::Policy,
    key: &TokenKey,
    body: &[u8],
) -> Result<thoughtspot_session_core::ManagedToken, Error> {
    let began = std::time::SystemTime::now();
    let rejected = std::str::from_utf8(body).map(str::trim).unwrap_or_default();
    let token = if rejected.is_empty() {
        state.manager.token(key).await?
    } else {
        state.manager.refresh(key, &AccessToken::from(rejected)).await?
    };
    let span = tracing::Span::current();
    span.record(
        "cache",
        if token.issued_at() >= began {
            "fetched"
        } else {
            "cached"
        },
    );
    if !policy.recheck().due(&token, began) {
        return Ok(token);
    }
    span.record("cache", "rechecked");
    match state.manager.api().is_token_accepted(token.token()).await {
        Ok(true) => {
            outcome(state, "token", "recheck_accepted");
            Ok(token)
        }
        Ok(false) => {
            outcome(state, "token", "recheck_replaced");
            tracing::info!(
                route = "token",
                "the cluster no longer accepts a cached token; it is replaced"
            );
            state.manager.refresh(key, token.token()).await
        }
        Err(e) => {
            outcome(state, "token", "recheck_failed");
            // The error's text holds no token (the client scrubs it).
            tracing::warn!(route = "token", error = %e, "checking a cached token failed; it is served as it is");
            Ok(token)
        }
    }
}

async fn invalidate(
    State(state): State<Arc<AppState>>,
    authorization: Authorization,
    body: axum::body::Bytes,
) -> Response {
    let started = Instant::now();
    let policy = state.policy.load_full();
    let response = match caller(&state, &policy, &authorization, "invalidate").await {
        Err(response) => response,
        Ok(caller) => {
            let key = caller.key();
            // With the rejected token as the body, only that token is forgotten (a second
            // report of it, from another tab, keeps the replacement); with an empty body,
            // whatever is cached (a sign-out). Revocation is best-effort either way.
            let rejected = std::str::from_utf8(&body).map(str::trim).unwrap_or_default();
            if rejected.is_empty() {
                state.manager.evict(key).await;
            } else {
                state.manager.invalidate(key, &AccessToken::from(rejected)).await;
            }
            outcome(&state, "invalidate", "invalidated");
            StatusCode::NO_CONTENT.into_response()
        }
    };
    observe(&state, "invalidate", started);
    response
}

fn observe(state: &AppState, route: &'static str, started: Instant) {
    let elapsed = started.elapsed().as_secs_f64();
    if route == "token" {
        state.token_latency.observe(elapsed);
    } else {
        state
            .metrics
            .latency
            .get_or_create(&Route { route })
            .observe(elapsed);
    }
}

async fn healthz() -> Response {
    axum::Json(json!({ "status": "ok" })).into_response()
}

/// How long a readiness verdict is reused: probes do not follow the scrape rate.
const READY_CACHE: Duration = Duration::from_secs(1);
/// The bound on each readiness probe.
const READY_PROBE: Duration = Duration::from_secs(2);

/// The verdict of the last probe, while it is younger than [`READY_CACHE`].
fn cached_verdict(state: &AppState) -> Option<(bool, serde_json::Value)> {
    state
        .ready_cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .filter(|(at, _, _)| at.elapsed() < READY_CACHE)
        .map(|(_, ready, checks)| (ready, checks))
}

/// Readiness means "can serve a token now": the cluster answers and the identity
/// provider's keys are held. A shared store that is down is reported (`redis: false`,
/// `degraded: true`) but does not make the service unready, since tokens are then served
/// from each replica's memory; otherwise one Redis outage would take every replica out of
/// rotation at once. One probe runs at a time, and its verdict serves every probe for
/// [`READY_CACHE`]: however many probes arrive, the cluster and the provider see at most
/// one call a second from them.
async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    let (ready, checks) = match cached_verdict(&state) {
        Some(verdict) => verdict,
        None => {
            let _flight = state.ready_flight.lock().await;
            match cached_verdict(&state) {
                Some(verdict) => verdict,
                None => {
                    let (ready, checks) = probe(&state).await;
                    *state.ready_cache.lock().unwrap_or_else(|e| e.into_inner()) =
                        Some((Instant::now(), ready, checks.clone()));
                    (ready, checks)
                }
            }
        }
    };
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(json!({ "ready": ready, "checks": checks }))).into_response()
}

async fn probe(state: &AppState) -> (bool, serde_json::Value) {
    use thoughtspot_session_core::SessionApi;
    let mut checks = serde_json::Map::new();
    // An answer from the cluster below 500 (a 401 for this call with no session, say) is
    // ready; no answer, or a 5xx (a load balancer's 503 during an outage), is not.
    let cluster = match tokio::time::timeout(READY_PROBE, state.manager.api().get_session_info()).await {
        Err(_) => false,
        Ok(Ok(_)) => true,
        Ok(Err(e)) => {
            !matches!(e, Error::Transport(_) | Error::Timeout(_))
                && e.status().is_none_or(|s| !s.is_server_error())
        }
    };
    checks.insert("cluster".into(), cluster.into());
    let mut ready = cluster;
    // Ready when at least one provider's keys are held: one provider that is down fails
    // its own callers (503) but takes no replica out of rotation for the others. Each is
    // reported, and a provider without keys marks the service degraded.
    let policy = state.policy.load_full();
    let mut keys = serde_json::Map::new();
    let mut any = false;
    let mut all = true;
    for tenant in policy.tenants() {
        let verifier = tenant.verifier();
        if !verifier.has_keys() {
            // Within the provider's refresh limit, as any caller's fetch.
            let _ = tokio::time::timeout(READY_PROBE, verifier.warm()).await;
        }
        let held = verifier.has_keys();
        any |= held;
        all &= held;
        keys.insert(tenant.name().into(), held.into());
    }
    if let [_] = policy.tenants() {
        checks.insert("identity_keys".into(), any.into());
    } else {
        checks.insert("identity_keys".into(), keys.into());
    }
    ready &= any;
    let mut degraded = !all;
    if let Some(store) = &state.readiness.store {
        let redis = matches!(tokio::time::timeout(READY_PROBE, store.ping()).await, Ok(Ok(())));
        checks.insert("redis".into(), redis.into());
        checks.insert("redis_topology".into(), store.topology().as_str().into());
        // Degraded, not unready: tokens are served from memory meanwhile.
        degraded |= !redis;
    }
    if state.readiness.store.is_some() || policy.tenants().len() > 1 {
        checks.insert("degraded".into(), degraded.into());
    }
    (ready, serde_json::Value::Object(checks))
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

async fn not_found() -> Response {
    json_error(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
}

/// Gives the empty or plain error answers of the layers and extractors (408, 413, 405,
/// 504) a JSON body.
fn json_bodies(response: Response) -> Response {
    let status = response.status();
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || json {
        return response;
    }
    let (code, message) = match status {
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "this endpoint does not take that method"),
        StatusCode::PAYLOAD_TOO_LARGE => ("too_large", "the request body is too large"),
        StatusCode::REQUEST_TIMEOUT | StatusCode::GATEWAY_TIMEOUT => ("timeout", "the request took too long"),
        _ => ("error", "the request failed"),
    };
    let (mut parts, _) = response.into_parts();
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(
        parts,
        Body::from(json!({ "error": code, "message": message }).to_string()),
    )
}

/// The operator's routes: `/healthz`, `/readyz`, `/metrics`.
fn ops_routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

/// The operator's routes alone, for the `admin_listen` listener.
pub fn admin_routes(state: Arc<AppState>) -> Router {
    ops_routes().with_state(state).fallback(not_found)
}

/// The routes of the service's own listener, without the operator's (served on
/// `admin_listen` instead).
pub fn routes_without_ops(state: Arc<AppState>, test_idp: Option<&crate::test_idp::TestIdp>) -> Router {
    let limit = axum::middleware::from_fn_with_state(
        crate::body::BodyLimit(state.body_limit.clone()),
        crate::body::bounded,
    );
    // `/token` reads no body, but one sent to it is answered 413 past the limit, after a
    // bounded drain so the caller reads the answer rather than a reset connection.
    let mut app = Router::new()
        .route("/token", get(token).post(token).layer(limit.clone()))
        .route("/token/invalidate", post(invalidate).layer(limit.clone()))
        .with_state(state)
        .fallback(not_found);
    if let Some(idp) = test_idp {
        app = app.nest("/test-idp", idp.router().layer(limit));
    }
    app
}

/// The routes: the service's, the operator's, and the test identity provider's when given.
/// The body limit guards every route that takes a body.
pub fn routes(state: Arc<AppState>, test_idp: Option<&crate::test_idp::TestIdp>) -> Router {
    routes_without_ops(state.clone(), test_idp).merge(ops_routes().with_state(state))
}

/// The application as served: `routes` under the layers (trace, CORS, JSON error bodies,
/// the whole-request timeout). The layers wrap the router once, outside
/// it: `Router::layer` would box every route again, and each box costs each request a
/// clone and an allocation.
pub fn app(
    routes: Router,
    origins: Origins,
    limits: &crate::config::LimitsConfig,
) -> impl tower::Service<
    axum::http::Request<hyper::body::Incoming>,
    Response = axum::http::Response<
        impl axum::body::HttpBody<Data = bytes::Bytes, Error = axum::Error> + Send + use<>,
    >,
    Error = std::convert::Infallible,
    Future = impl Send + use<>,
>
+ Clone
+ Send
+ 'static
+ use<> {
    use tower_http::cors::{AllowOrigin, CorsLayer};
    // Exact origins, matched by a shared predicate reading the ones in force: the layer is
    // cloned with each request, and a list would be copied each time.
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin, _| origins.contains(origin)))
        .allow_credentials(true)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .max_age(Duration::from_secs(600))
        // The answers depend on the origin alone (fixed methods and headers are allowed).
        .vary([header::ORIGIN]);
    tower::ServiceBuilder::new()
        .layer(
            tower_http::trace::TraceLayer::new_for_http()
                // One line a request, when it is answered; nothing per body chunk.
                .on_request(())
                .on_body_chunk(())
                .on_eos(())
                // Method and path only: never a header (Authorization) or the query.
                .make_span_with(|request: &axum::http::Request<hyper::body::Incoming>| {
                    let path = request.uri().path();
                    // A route's name, or none: the span's name never takes a path a caller made up.
                    let route = ROUTES.iter().find(|r| **r == path).copied();
                    let span = tracing::info_span!(
                        "request",
                        method = %request.method(),
                        path,
                        otel.name = %format_args!("{} {}", request.method(), route.unwrap_or("")),
                        otel.kind = "server",
                        http.request.method = %request.method(),
                        http.route = route,
                        http.response.status_code = tracing::field::Empty,
                        outcome = tracing::field::Empty,
                        tenant = tracing::field::Empty,
                        cache = tracing::field::Empty,
                    );
                    crate::telemetry::continue_trace(&span, request.headers());
                    span
                })
                .on_response(|response: &Response, latency: Duration, span: &tracing::Span| {
                    span.record("http.response.status_code", response.status().as_u16());
                    tracing::info!(
                        status = response.status().as_u16(),
                        latency_ms = latency.as_secs_f64() * 1e3,
                        "answered"
                    );
                }),
        )
        .layer(cors)
        .layer(tower::util::MapResponseLayer::new(json_bodies))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::GATEWAY_TIMEOUT,
            limits.request_timeout(),
        ))
        .service(routes)
}
