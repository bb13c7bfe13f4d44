//! # thoughtspot-session-reqwest
//!
//! The ThoughtSpot Session API client over [reqwest]: an
//! [`HttpTransport`] that only moves bytes, and a
//! one-line way to a ready client. Every behaviour a caller sees (headers, auth, cookies,
//! retries, timeouts, errors) comes from `thoughtspot-session-core`, re-exported here so
//! that one dependency line suffices.
//!
//! ```
//! use thoughtspot_session_reqwest::{GetTokenRequest, LoginRequest, SessionApi};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # // A fake cluster on 127.0.0.1 stands in for a real one, so that this example runs.
//! # let fake = thoughtspot_session_mock::FakeThoughtSpot::builder()
//! #     .user(thoughtspot_session_mock::FakeUser::new("analyst@example.com", "pw"))
//! #     .secret_key("trusted-auth-key")
//! #     .build();
//! # let server = thoughtspot_session_mock::FakeServer::start(fake).await?;
//! # let base_url = server.base_url();
//! // base_url: "https://my-company.thoughtspot.cloud"
//! let client = thoughtspot_session_reqwest::client(base_url)?
//!     .timeout(std::time::Duration::from_secs(30))
//!     .build()?;
//!
//! let issued = client
//!     .get_token(&GetTokenRequest::with_secret_key("analyst@example.com", "trusted-auth-key"))
//!     .await?;
//! client.use_token(&issued)?;
//! client.login(&LoginRequest::bearer()).await?;
//! let info = client.get_session_info().await?;
//! assert_eq!(info.user_name(), Some("analyst@example.com"));
//! client.logout().await?;
//! # Ok(()) }
//! ```
//!
//! ## What the transport it builds does
//!
//! - TLS through rustls by default (feature `rustls`), or the platform's library (feature
//!   `native-tls`); extra root CAs with
//!   [`add_root_certificate_pem`](ReqwestTransportBuilder::add_root_certificate_pem); an
//!   explicit [`danger_accept_invalid_certs`](ReqwestTransportBuilder::danger_accept_invalid_certs)
//!   for test clusters, off by default.
//! - Never follows a redirect: a 3xx reaches the client, which returns an error naming the
//!   `Location`.
//! - A connect timeout (default 10 s); the whole-call timeout is the client's.
//! - The proxy environment honoured, as reqwest does: `HTTPS_PROXY` / `HTTP_PROXY` /
//!   `ALL_PROXY` and `NO_PROXY` (upper or lower case); turn it off with
//!   [`no_proxy`](ReqwestTransportBuilder::no_proxy). A proxy given there with a user and
//!   password gets them as `Proxy-Authorization`; it sees plain-http calls in full (use
//!   https).
//! - Pooled connections closed after 90 s idle
//!   ([`pool_idle_timeout`](ReqwestTransportBuilder::pool_idle_timeout)); a request whose
//!   pooled connection closed before any byte of it was written is sent again on a new
//!   one (hyper-util's behaviour under reqwest; safe for POST too).
//! - A cap on the response body (default 4 MiB) enforced while reading: past it the call
//!   fails with `TransportError` body-too-large and no more than the cap is buffered.
//!
//! [`ReqwestTransport::from_client`] takes a `reqwest::Client` the application already
//! owns (its connection pool is shared, not copied). That client's own settings then apply:
//! its redirect policy (reqwest's default follows up to 10 redirects, dropping
//! `Authorization` and `Cookie` when the host changes), TLS and timeouts; the body cap
//! still applies.
//!
//! ## Features
//!
//! - `rustls` (default): TLS through rustls, with the platform's root certificates.
//! - `native-tls`: TLS through the platform's library (OpenSSL on Linux). With both on,
//!   rustls is used.
//! - `middleware`: `ReqwestTransport::from_middleware` takes a
//!   `reqwest_middleware::ClientWithMiddleware`, so a team's middleware chain applies.

// Library code does not panic: no unwrap or expect outside tests.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

use bytes::{Bytes, BytesMut};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use thoughtspot_session_core::*;

/// The default cap on a response body: 4 MiB.
pub const DEFAULT_MAX_RESPONSE_BODY: usize = 4 * 1024 * 1024;
/// The default connect timeout: 10 s.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A session client builder for the cluster at `base_url`, with a [`ReqwestTransport`] of
/// default settings and the tokio sleep already set: add options, then `build()`.
pub fn client(base_url: impl Into<String>) -> Result<SessionClientBuilder<ReqwestTransport>, ConfigError> {
    Ok(SessionClient::builder(base_url)
        .sleep(TokioSleep::new())
        .transport(ReqwestTransport::new()?))
}

/// [`HttpTransport`] over a `reqwest::Client`.
#[derive(Clone, Debug)]
pub struct ReqwestTransport {
    client: Client,
    max_body: usize,
    urls: UrlCache,
}

/// The client a transport sends through.
#[derive(Clone, Debug)]
enum Client {
    Plain(reqwest::Client),
    #[cfg(feature = "middleware")]
    Middleware(reqwest_middleware::ClientWithMiddleware),
}

/// The parsed form of the few URIs session clients send to (16 routes a client), so that
/// each is parsed once rather than on every call. Measured (one thread, release build, a
/// route's URI): parsing it again costs 0.9 to 1.6 µs, a hit under the mutex at the 16th
/// place 65 to 120 ns, and a `RwLock` over a `HashMap` 136 to 245 ns (SipHash of the URI):
/// the scan stays. 64 places hold four clients' routes (or one client's and stray URIs);
/// past that a URI is parsed each time.
#[derive(Clone, Debug, Default)]
struct UrlCache(Arc<Mutex<Vec<(http::Uri, reqwest::Url)>>>);

impl UrlCache {
    const MAX: usize = 64;

    fn get(&self, uri: &http::Uri) -> Result<reqwest::Url, TransportError> {
        let mut cache = self.0.lock().unwrap_or_else(|p| p.into_inner());
        // Paths differ between endpoints while scheme and host do not: compare them first.
        if let Some((_, url)) = cache
            .iter()
            .find(|(u, _)| u.path_and_query() == uri.path_and_query() && u == uri)
        {
            return Ok(url.clone());
        }
        let url = reqwest::Url::parse(&uri.to_string()).map_err(TransportError::other)?;
        if cache.len() < Self::MAX {
            cache.push((uri.clone(), url.clone()));
        }
        Ok(url)
    }
}

impl ReqwestTransport {
    /// A transport with the default settings (see the crate docs).
    pub fn new() -> Result<Self, ConfigError> {
        Self::builder().build()
    }

    /// Options for the transport.
    pub fn builder() -> ReqwestTransportBuilder {
        ReqwestTransportBuilder::default()
    }

    /// A transport over a client the application owns; the client's settings apply (see
    /// the crate docs), with the default body cap.
    pub fn from_client(client: reqwest::Client) -> Self {
        Self {
            client: Client::Plain(client),
            max_body: DEFAULT_MAX_RESPONSE_BODY,
            urls: UrlCache::default(),
        }
    }

    /// Sets the cap on a response body.
    #[must_use]
    pub fn with_max_response_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// A transport over a reqwest-middleware chain the application owns (feature
    /// `middleware`), so that its middleware (tracing, metrics, auth, caching) applies to
    /// every call; the chain's client settings apply as with
    /// [`from_client`](Self::from_client), with the default body cap.
    ///
    /// **Retries.** The session client retries by its [`RetryPolicy`]: GETs on 429, 502,
    /// 503, 504 and transport failures, a POST only when it never left. A retry middleware
    /// in the chain (e.g. `reqwest-retry`) retries again underneath, so one call can make
    /// attempts × attempts requests, and it may resend a POST the cluster already
    /// processed (a second token, a repeated login). Keep one: build the session client
    /// with `.retry(RetryPolicy::disabled())` to leave retrying to the middleware, or leave
    /// the retry middleware out of the chain given here.
    #[cfg(feature = "middleware")]
    pub fn from_middleware(client: reqwest_middleware::ClientWithMiddleware) -> Self {
        Self {
            client: Client::Middleware(client),
            max_body: DEFAULT_MAX_RESPONSE_BODY,
            urls: UrlCache::default(),
        }
    }

    /// The underlying client; `None` for a transport over a middleware chain.
    pub fn reqwest_client(&self) -> Option<&reqwest::Client> {
        match &self.client {
            Client::Plain(client) => Some(client),
            #[cfg(feature = "middleware")]
            Client::Middleware(_) => None,
        }
    }
}

/// Options for a [`ReqwestTransport`].
#[derive(Debug)]
pub struct ReqwestTransportBuilder {
    connect_timeout: Duration,
    max_body: usize,
    root_certificates: Vec<Vec<u8>>,
    accept_invalid_certs: bool,
    pool_max_idle_per_host: Option<usize>,
    pool_idle_timeout: Option<Duration>,
    proxy_from_environment: bool,
}

/// The default idle timeout of a pooled connection: 90 s, reqwest's own.
pub const DEFAULT_POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

impl Default for ReqwestTransportBuilder {
    fn default() -> Self {
        Self {
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            max_body: DEFAULT_MAX_RESPONSE_BODY,
            root_certificates: Vec::new(),
            accept_invalid_certs: false,
            pool_max_idle_per_host: None,
            pool_idle_timeout: Some(DEFAULT_POOL_IDLE_TIMEOUT),
            proxy_from_environment: true,
        }
    }
}

impl ReqwestTransportBuilder {
    /// How long to wait for a connection (default 10 s).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The cap on a response body (default 4 MiB).
    #[must_use]
    pub fn max_response_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// Trusts the root CAs in a PEM document, besides the platform's roots (for a cluster
    /// whose certificate a private CA signed). Checked by [`build`](Self::build): a document
    /// with no certificate is refused.
    #[must_use]
    pub fn add_root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificates.push(pem.into());
        self
    }

    /// Accepts any server certificate, valid or not: the original SDKs' "skip SSL
    /// verification". Anyone on the network path can then read passwords and tokens: for
    /// test clusters only. Off by default.
    #[must_use]
    pub fn danger_accept_invalid_certs(mut self, accept: bool) -> Self {
        self.accept_invalid_certs = accept;
        self
    }

    /// The most idle connections kept per host (reqwest's default: no limit).
    #[must_use]
    pub fn pool_max_idle_per_host(mut self, max: usize) -> Self {
        self.pool_max_idle_per_host = Some(max);
        self
    }

    /// How long a pooled connection may stay idle before it is closed (default 90 s;
    /// `None` keeps idle connections until the server closes them). Set it below the idle
    /// timeout of any load balancer in front of the cluster.
    #[must_use]
    pub fn pool_idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.pool_idle_timeout = timeout;
        self
    }

    /// Ignores the proxy environment (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`
    /// and their lower-case forms), which is honoured by default: every call then connects
    /// directly.
    #[must_use]
    pub fn no_proxy(mut self) -> Self {
        self.proxy_from_environment = false;
        self
    }

    /// Builds the transport; fails on a certificate that does not parse or a TLS library
    /// that cannot start.
    pub fn build(self) -> Result<ReqwestTransport, ConfigError> {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(self.connect_timeout)
            .pool_idle_timeout(self.pool_idle_timeout);
        if !self.proxy_from_environment || !proxy_in_environment() {
            builder = builder.no_proxy();
        }
        #[cfg(feature = "rustls")]
        {
            builder = builder.tls_backend_rustls();
        }
        #[cfg(all(feature = "native-tls", not(feature = "rustls")))]
        {
            builder = builder.tls_backend_native();
        }
        if let Some(max) = self.pool_max_idle_per_host {
            builder = builder.pool_max_idle_per_host(max);
        }
        #[cfg(any(feature = "rustls", feature = "native-tls"))]
        {
            let mut certificates = Vec::new();
            for pem in &self.root_certificates {
                let bundle = reqwest::Certificate::from_pem_bundle(pem)
                    .map_err(|e| ConfigError::with_source("a root certificate is not valid PEM", e))?;
                if bundle.is_empty() {
                    return Err(ConfigError::new("a root certificate PEM holds no certificate"));
                }
                certificates.extend(bundle);
            }
            builder = builder
                .tls_certs_merge(certificates)
                .tls_danger_accept_invalid_certs(self.accept_invalid_certs);
        }
        #[cfg(not(any(feature = "rustls", feature = "native-tls")))]
        if !self.root_certificates.is_empty() || self.accept_invalid_certs {
            return Err(ConfigError::new(
                "TLS options need the rustls or native-tls feature",
            ));
        }
        let client = builder
            .build()
            .map_err(|e| ConfigError::with_source("the HTTP client could not be built", e))?;
        Ok(ReqwestTransport {
            client: Client::Plain(client),
            max_body: self.max_body,
            urls: UrlCache::default(),
        })
    }
}

/// Whether reqwest could find a proxy to use in the environment as the client is built.
///
/// reqwest reads the proxy variables once, when a client is built; with none of them set,
/// its proxy matcher never sends a request through a proxy, yet it would still check each
/// request's host against `NO_PROXY`. Turning it off then changes nothing but the cost.
/// On macOS and Windows reqwest may also read the system's proxy settings (its
/// `system-proxy` feature, which an application can turn on), so there the matcher stays.
fn proxy_in_environment() -> bool {
    if cfg!(any(target_os = "macos", windows)) {
        return true;
    }
    [
        "ALL_PROXY",
        "all_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
    ]
    .iter()
    .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()))
}

fn transport_error(e: reqwest::Error) -> TransportError {
    if e.is_connect() {
        TransportError::connect(e)
    } else if e.is_timeout() {
        TransportError::timeout(e)
    } else if e.is_body() || e.is_decode() || e.is_request() {
        TransportError::io(e)
    } else {
        TransportError::other(e)
    }
}

impl ReqwestTransport {
    /// The reqwest request for `request`: its URL from the cache, its parts moved over.
    fn to_reqwest(&self, request: http::Request<Bytes>) -> Result<reqwest::Request, TransportError> {
        let (parts, body) = request.into_parts();
        let mut out = reqwest::Request::new(parts.method, self.urls.get(&parts.uri)?);
        *out.headers_mut() = parts.headers;
        *out.version_mut() = parts.version;
        *out.body_mut() = Some(body.into());
        Ok(out)
    }
}

// Written without `#[async_trait]`: the request is converted and handed to reqwest before
// the future is boxed, so the box holds reqwest's response future, not the request too.
impl HttpTransport for ReqwestTransport {
    fn send<'life0, 'async_trait>(&'life0 self, request: http::Request<Bytes>) -> SendFuture<'async_trait>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        let request = self.to_reqwest(request);
        Box::pin(async move {
            let mut response = match &self.client {
                Client::Plain(client) => client.execute(request?).await.map_err(transport_error)?,
                #[cfg(feature = "middleware")]
                Client::Middleware(client) => client.execute(request?).await.map_err(|e| match e {
                    reqwest_middleware::Error::Reqwest(e) => transport_error(e),
                    reqwest_middleware::Error::Middleware(e) => TransportError::other(e),
                })?,
            };
            if response
                .content_length()
                .is_some_and(|len| len > self.max_body as u64)
            {
                return Err(TransportError::body_too_large(self.max_body));
            }
            let status = response.status();
            let version = response.version();
            let headers = std::mem::take(response.headers_mut());
            let body = read_capped(&mut response, self.max_body).await?;
            let mut out = http::Response::new(body);
            *out.status_mut() = status;
            *out.version_mut() = version;
            *out.headers_mut() = headers;
            Ok(out)
        })
    }
}

/// Reads the body chunk by chunk, failing as soon as it passes `max` bytes. A body that
/// comes in one chunk is returned without a copy.
async fn read_capped(response: &mut reqwest::Response, max: usize) -> Result<Bytes, TransportError> {
    let Some(first) = response.chunk().await.map_err(transport_error)? else {
        return Ok(Bytes::new());
    };
    if first.len() > max {
        return Err(TransportError::body_too_large(max));
    }
    let Some(second) = response.chunk().await.map_err(transport_error)? else {
        return Ok(first);
    };
    let hint = response
        .content_length()
        .map_or(0, |l| usize::try_from(l).unwrap_or(max).min(max));
    let mut body = BytesMut::with_capacity(hint.max(first.len() + second.len()));
    let mut next = Some(second);
    body.extend_from_slice(&first);
    while let Some(chunk) = next {
        if body.len() + chunk.len() > max {
            return Err(TransportError::body_too_large(max));
        }
        body.extend_from_slice(&chunk);
        next = response.chunk().await.map_err(transport_error)?;
    }
    Ok(body.freeze())
}
