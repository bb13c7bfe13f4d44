//! An example trusted-authentication token service on `thoughtspot-session`.
//!
//! The embedding front end asks this service for a ThoughtSpot token for the signed-in
//! user; the service checks who is asking, maps the caller to a cluster user and org, gets
//! a token through a [`TokenManager`] (cached, single-flight, with the secret key), and
//! answers it as `text/plain`, the form the embedding SDK's `getAuthToken` reads.
//!
//! **The caller check is a stand-in.** Here the caller proves itself with a shared secret
//! in the `x-service-key` header and names its user in `x-app-user`. A real service uses
//! its own session instead (its sign-in cookie or its identity provider's token) and
//! derives the user from that, never from a header the browser can set.
//!
//! - `GET /token` or `POST /token`: `200 text/plain` with the token.
//! - `POST /token/invalidate`: with the token the front end rejected as a `text/plain`
//!   body, forgets (and revokes) it if it is still the one cached, so the next `/token`
//!   mints a new one; with an empty body, forgets (and revokes) whatever is cached, for a
//!   sign-out. Always `204`: revocation is best-effort.
//! - Errors are JSON with a proper status, never 200: 401 (caller not authenticated), 403
//!   (caller not mapped to a cluster user), 404, 405, 502 (the cluster refused), 503 (the
//!   cluster is unreachable or overloaded).
//! - CORS for one configured origin, with credentials (never `*`); preflight answered.
//! - Logs one line per request with method, path, status and app user; never the secret
//!   key or a token.

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use std::collections::HashMap;
use std::sync::Arc;
use subtle::ConstantTimeEq;
use thoughtspot_session_core::{AccessToken, Error, SessionApi, TokenKey, TokenManager};

/// Who may call the service, who they are on the cluster, and which origin may read the
/// answers.
#[derive(Clone)]
pub struct ServiceConfig {
    caller_key: String,
    allowed_origin: String,
    users: HashMap<String, TokenKey>,
}

impl ServiceConfig {
    /// Callers must send `caller_key` in `x-service-key`; browsers at `allowed_origin` may
    /// read the answers.
    pub fn new(caller_key: impl Into<String>, allowed_origin: impl Into<String>) -> Self {
        Self {
            caller_key: caller_key.into(),
            allowed_origin: allowed_origin.into(),
            users: HashMap::new(),
        }
    }

    /// Maps the application's user `app_user` to a cluster token key (user, org, access).
    #[must_use]
    pub fn user(mut self, app_user: impl Into<String>, key: TokenKey) -> Self {
        self.users.insert(app_user.into(), key);
        self
    }
}

impl std::fmt::Debug for ServiceConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceConfig")
            .field("caller_key", &"[redacted]")
            .field("allowed_origin", &self.allowed_origin)
            .field("users", &self.users.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// The service: a request handler over a [`TokenManager`].
pub struct TokenService<S> {
    manager: TokenManager<S>,
    config: Arc<ServiceConfig>,
}

impl<S> Clone for TokenService<S> {
    fn clone(&self) -> Self {
        Self {
            manager: self.manager.clone(),
            config: self.config.clone(),
        }
    }
}

fn json_error(status: StatusCode, code: &str, message: &str) -> Response<Bytes> {
    let body = serde_json::json!({ "error": code, "message": message });
    let mut response = Response::new(Bytes::from(body.to_string()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

impl<S: SessionApi> TokenService<S> {
    /// A service over `manager` with `config`.
    pub fn new(manager: TokenManager<S>, config: ServiceConfig) -> Self {
        Self {
            manager,
            config: Arc::new(config),
        }
    }

    /// The token manager (for its counters).
    pub fn manager(&self) -> &TokenManager<S> {
        &self.manager
    }

    /// Answers one request.
    pub async fn handle(&self, request: Request<Bytes>) -> Response<Bytes> {
        let app_user = request
            .headers()
            .get("x-app-user")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut response = self.route(&request, app_user.as_deref()).await;
        self.cors(&request, &mut response);
        tracing::info!(
            method = %request.method(),
            path = request.uri().path(),
            status = response.status().as_u16(),
            app_user = app_user.as_deref().unwrap_or("-"),
            "answered"
        );
        response
    }

    async fn route(&self, request: &Request<Bytes>, app_user: Option<&str>) -> Response<Bytes> {
        let path = request.uri().path();
        let invalidate = match path {
            "/token" => false,
            "/token/invalidate" => true,
            _ => return json_error(StatusCode::NOT_FOUND, "not_found", "no such endpoint"),
        };
        let method = request.method();
        if method == Method::OPTIONS {
            let mut response = Response::new(Bytes::new());
            *response.status_mut() = StatusCode::NO_CONTENT;
            return response;
        }
        let allowed = if invalidate {
            method == Method::POST
        } else {
            method == Method::GET || method == Method::POST
        };
        if !allowed {
            let mut response = json_error(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "use GET or POST",
            );
            let allow = if invalidate {
                "POST, OPTIONS"
            } else {
                "GET, POST, OPTIONS"
            };
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static(allow));
            return response;
        }
        let presented = request
            .headers()
            .get("x-service-key")
            .map(|v| v.as_bytes())
            .unwrap_or_default();
        if !bool::from(presented.ct_eq(self.config.caller_key.as_bytes())) {
            return json_error(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "the caller is not authenticated",
            );
        }
        let Some(key) = app_user.and_then(|u| self.config.users.get(u)) else {
            return json_error(
                StatusCode::FORBIDDEN,
                "unknown_user",
                "the caller has no ThoughtSpot user",
            );
        };
        if invalidate {
            // With the rejected token as the body, only that token is forgotten (a second
            // report of it, from another tab, keeps the replacement); with an empty body,
            // whatever is cached is (a sign-out). Revocation is best-effort either way.
            let rejected = std::str::from_utf8(request.body())
                .map(str::trim)
                .unwrap_or_default();
            if rejected.is_empty() {
                self.manager.evict(key).await.removed();
            } else {
                self.manager
                    .invalidate(key, &AccessToken::from(rejected))
                    .await
                    .removed();
            }
            let mut response = Response::new(Bytes::new());
            *response.status_mut() = StatusCode::NO_CONTENT;
            return response;
        }
        match self.manager.token(key).await {
            Ok(token) => {
                let mut response = Response::new(Bytes::from(token.token().secret().to_owned()));
                let headers = response.headers_mut();
                headers.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; charset=utf-8"),
                );
                headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                response
            }
            Err(e) => cluster_error(&e),
        }
    }

    fn cors(&self, request: &Request<Bytes>, response: &mut Response<Bytes>) {
        let headers = response.headers_mut();
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
        let origin = request
            .headers()
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok());
        if origin != Some(self.config.allowed_origin.as_str()) {
            return;
        }
        if let Ok(origin) = HeaderValue::try_from(self.config.allowed_origin.as_str()) {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST, OPTIONS"),
            );
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("x-service-key, x-app-user, content-type"),
            );
            headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
        }
    }
}

/// A cluster failure as the service's answer: the incident id is passed on, the cluster's
/// texts are not (they are for the operator's logs).
fn cluster_error(e: &Error) -> Response<Bytes> {
    tracing::warn!(error = %e, "cluster call failed");
    let (status, code) = if e.is_retryable() {
        (StatusCode::SERVICE_UNAVAILABLE, "cluster_unavailable")
    } else {
        (StatusCode::BAD_GATEWAY, "cluster_refused")
    };
    let mut response = json_error(status, code, "ThoughtSpot did not issue a token");
    if let Some(incident) = e.incident_id() {
        let body = serde_json::json!({ "error": code, "message": "ThoughtSpot did not issue a token", "incident": incident });
        *response.body_mut() = Bytes::from(body.to_string());
    }
    response
}

/// Serves `service` on `listener` until `shutdown` completes.
pub async fn serve<S: SessionApi + 'static>(
    service: TokenService<S>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()>,
) {
    use http_body_util::{BodyExt, Full, Limited};
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let service = service.clone();
                tokio::spawn(async move {
                    let handler = hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                        let service = service.clone();
                        async move {
                            let (parts, body) = request.into_parts();
                            let response = match Limited::new(body, 64 * 1024).collect().await {
                                Ok(body) => service.handle(Request::from_parts(parts, body.to_bytes())).await,
                                Err(_) => json_error(StatusCode::PAYLOAD_TOO_LARGE, "too_large", "the request body is too large"),
                            };
                            Ok::<_, std::convert::Infallible>(response.map(Full::new))
                        }
                    });
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, handler).await;
                });
            }
        }
    }
}
