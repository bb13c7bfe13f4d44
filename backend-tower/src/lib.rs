//! # thoughtspot-session-tower
//!
//! Any [`tower::Service`](tower_service::Service) as the transport of a ThoughtSpot
//! [`SessionClient`]: an application that already runs a tower stack (hyper-util's client
//! under its own tracing, metrics, auth, rate-limit or proxy layers) puts the SDK on top of
//! it, and every request the SDK makes goes through those layers.
//!
//! ```
//! use http_body_util::Full;
//! use bytes::Bytes;
//! use std::time::Duration;
//! use thoughtspot_session_tower::{TowerTransport, GetTokenRequest, SessionApi, SessionClient, TokioSleep};
//! use tower::ServiceBuilder;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let fake = thoughtspot_session_mock::FakeThoughtSpot::builder()
//! #     .user(thoughtspot_session_mock::FakeUser::new("analyst", "pw")).secret_key("key").build();
//! # let server = thoughtspot_session_mock::FakeServer::start(fake).await?;
//! # let base_url = server.base_url();
//! // The application's own stack: hyper-util's pooled client under its layers.
//! let http = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
//!     .build_http::<Full<Bytes>>();
//! let stack = ServiceBuilder::new()
//!     .timeout(Duration::from_secs(10))
//!     .concurrency_limit(32)
//!     .service(http);
//!
//! let client = SessionClient::builder(base_url)
//!     .sleep(TokioSleep::new())
//!     .build(TowerTransport::new(stack))?;
//! let issued = client.get_token(&GetTokenRequest::with_secret_key("analyst", "key")).await?;
//! assert!(issued.token().is_some());
//! # Ok(()) }
//! ```
//!
//! ## What the transport does
//!
//! - Waits until the service is ready (`poll_ready`) before calling it, on a clone of the
//!   service, as tower requires; a service that is never ready holds the call until the
//!   client's timeout.
//! - Sends `http::Request<Full<Bytes>>`, the body type hyper-util's client and tower-http's
//!   layers accept, and reads the answer's body under a cap (default 4 MiB, as the other
//!   backends).
//! - Maps errors to [`TransportError`] kinds: a connect error of hyper-util's client (its
//!   connect timeout included) is `Connect`; tower's `timeout` layer's `Elapsed`,
//!   tower-http 0.6's `TimeoutError` (its `ResponseBodyTimeoutLayer`, for a body that stops
//!   arriving) and an I/O `TimedOut` are `Timeout`, on the head and on the body alike, so
//!   the client's retry rules for timeouts apply; everything else is `Other` (`Io` for a
//!   body), with the source kept.
//! - Redirects, TLS and proxies are the stack's: hyper-util's client follows no redirect.

// Library code does not panic: no unwrap or expect outside tests.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]
#![cfg_attr(docsrs, feature(doc_cfg))]

use async_trait::async_trait;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use std::error::Error as StdError;
use std::fmt;
use std::sync::Mutex;

pub use thoughtspot_session_core::*;

/// The default cap on a response body: 4 MiB.
pub const DEFAULT_MAX_RESPONSE_BODY: usize = 4 * 1024 * 1024;

type BoxError = Box<dyn StdError + Send + Sync>;

/// [`HttpTransport`] over a tower service.
///
/// The service is cloned for each call (tower services are called through `&mut self`);
/// hyper-util's client and most layers clone cheaply, sharing their pool and limits.
pub struct TowerTransport<S> {
    service: Mutex<S>,
    max_body: usize,
}

impl<S> TowerTransport<S> {
    /// A transport over `service`, with the default body cap.
    pub fn new(service: S) -> Self {
        Self {
            service: Mutex::new(service),
            max_body: DEFAULT_MAX_RESPONSE_BODY,
        }
    }

    /// Sets the cap on a response body.
    #[must_use]
    pub fn with_max_response_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }
}

impl<S> fmt::Debug for TowerTransport<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TowerTransport")
            .field("service", &std::any::type_name::<S>())
            .field("max_body", &self.max_body)
            .finish()
    }
}

/// Whether `err` itself is a timeout layer's error: tower's `Elapsed` (its `timeout`
/// layer, on the head) or tower-http's `TimeoutError` (its `ResponseBodyTimeoutLayer` and
/// `TimeoutBody`, on the body).
fn is_layer_timeout(err: &(dyn StdError + 'static)) -> bool {
    err.is::<tower::timeout::error::Elapsed>() || err.is::<tower_http::timeout::TimeoutError>()
}

/// Whether `e`'s chain holds a timeout: a timeout layer's error or an I/O `TimedOut`.
fn timed_out(e: &(dyn StdError + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(err) = cause {
        if is_layer_timeout(err)
            || err
                .downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
        {
            return true;
        }
        // An io::Error's source() skips the error it wraps: look at that one too.
        cause = match err
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            Some(wrapped) => Some(wrapped as &(dyn StdError + 'static)),
            None => err.source(),
        };
    }
    false
}

/// The kind of an error reading the body: a timeout by its chain (so that the retry rule
/// for timeouts applies, as for the head), else I/O.
fn body_error(e: BoxError) -> TransportError {
    if timed_out(&*e) {
        TransportError::timeout(e)
    } else {
        TransportError::io(e)
    }
}

/// The kind of a service's error: connect, timeout or other, by what its chain holds.
fn transport_error(e: BoxError) -> TransportError {
    let mut connect = false;
    let mut timeout = false;
    let mut cause: Option<&(dyn StdError + 'static)> = Some(&*e);
    while let Some(err) = cause {
        if is_layer_timeout(err) {
            timeout = true;
        }
        if let Some(client) = err.downcast_ref::<hyper_util::client::legacy::Error>()
            && client.is_connect()
        {
            connect = true;
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::TimedOut => timeout = true,
                std::io::ErrorKind::ConnectionRefused => connect = true,
                _ => {}
            }
        }
        cause = err.source();
    }
    if connect {
        TransportError::connect(e)
    } else if timeout {
        TransportError::timeout(e)
    } else {
        TransportError::other(e)
    }
}

#[async_trait]
impl<S, B> HttpTransport for TowerTransport<S>
where
    S: tower_service::Service<http::Request<Full<Bytes>>, Response = http::Response<B>>
        + Clone
        + Send
        + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    async fn send(&self, request: http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError> {
        // A poisoned lock still holds the service: a panic cannot leave it half cloned.
        let mut service = self.service.lock().unwrap_or_else(|p| p.into_inner()).clone();
        std::future::poll_fn(|cx| service.poll_ready(cx))
            .await
            .map_err(|e| transport_error(e.into()))?;
        let response = service
            .call(request.map(Full::new))
            .await
            .map_err(|e| transport_error(e.into()))?;
        let (parts, body) = response.into_parts();
        let declared = parts
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|len| len > self.max_body as u64) {
            return Err(TransportError::body_too_large(self.max_body));
        }
        let body = match Limited::new(body, self.max_body).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
                return Err(TransportError::body_too_large(self.max_body));
            }
            Err(e) => return Err(body_error(e)),
        };
        Ok(http::Response::from_parts(parts, body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_that_times_out_is_a_timeout_not_an_io_error() {
        let elapsed: BoxError = Box::new(tower::timeout::error::Elapsed::new());
        assert!(body_error(elapsed).is_timeout());
        let io: BoxError = Box::new(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "read timed out",
        ));
        assert!(body_error(io).is_timeout());
        let wrapped: BoxError = Box::new(std::io::Error::other(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "inner",
        )));
        assert!(body_error(wrapped).is_timeout(), "found along the chain");
        let reset: BoxError = Box::new(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset"));
        let e = body_error(reset);
        assert!(!e.is_timeout());
        assert_eq!(e.kind(), thoughtspot_session_core::TransportErrorKind::Io);
    }
}
