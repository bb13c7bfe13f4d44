//! The one thing a backend implements: send a request, return the answer.

use crate::error::TransportError;
use async_trait::async_trait;
use bytes::Bytes;
use std::fmt::Debug;
use std::sync::Arc;

/// Moves one HTTP exchange over the wire.
///
/// A backend turns an [`http::Request<Bytes>`] into bytes on the wire and the answer back
/// into an [`http::Response<Bytes>`]; nothing else. Headers, auth, cookies, retries,
/// timeouts and errors are the [`SessionClient`](crate::SessionClient)'s job, so every
/// backend behaves the same. Non-2xx answers are answers, not errors: return them.
///
/// A backend should not follow redirects, and should cap how much of a body it reads
/// ([`TransportError::body_too_large`]).
///
/// ```
/// use async_trait::async_trait;
/// use bytes::Bytes;
/// use thoughtspot_session_core::{HttpTransport, TransportError};
///
/// /// Answers every request with `true`.
/// #[derive(Debug)]
/// struct AlwaysTrue;
///
/// #[async_trait]
/// impl HttpTransport for AlwaysTrue {
///     async fn send(&self, _request: http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError> {
///         Ok(http::Response::new(Bytes::from_static(b"true")))
///     }
/// }
/// ```
///
/// # Middleware by hand
///
/// A transport that wraps another is the hook for what an application adds to every
/// request: a header its gateway wants, a metric, a log line. It sees each attempt (a
/// retried call passes through it again) with the client's headers already set. Log the
/// method, path and status, never the headers or the body: they carry the credentials.
///
/// ```
/// use async_trait::async_trait;
/// use bytes::Bytes;
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use thoughtspot_session_core::{HttpTransport, SessionApi, SessionClient, TransportError};
/// use thoughtspot_session_mock::{FnTransport, InstantSleep, Reply};
///
/// /// Adds the gateway's tenant header, counts attempts and logs each exchange.
/// #[derive(Debug)]
/// struct Instrumented<T> {
///     inner: T,
///     tenant: http::HeaderValue,
///     attempts: AtomicUsize,
/// }
///
/// #[async_trait]
/// impl<T: HttpTransport> HttpTransport for Instrumented<T> {
///     async fn send(&self, mut request: http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError> {
///         request.headers_mut().insert("x-tenant", self.tenant.clone());
///         self.attempts.fetch_add(1, Ordering::Relaxed);
///         let (method, path) = (request.method().clone(), request.uri().path().to_owned());
///         let answer = self.inner.send(request).await;
///         match &answer {
///             Ok(response) => println!("{method} {path} -> {}", response.status()),
///             Err(e) => println!("{method} {path} -> {e}"),
///         }
///         answer
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let cluster = FnTransport::new(|_, _| Reply::json(&serde_json::json!({"userName": "analyst"})));
/// let transport = Instrumented {
///     inner: cluster.clone(),
///     tenant: http::HeaderValue::from_static("acme"),
///     attempts: AtomicUsize::new(0),
/// };
/// let client = SessionClient::builder("https://ts.example.com")
///     .sleep(InstantSleep::new())
///     .build(transport)
///     .unwrap();
/// client.get_session_info().await.unwrap();
/// assert_eq!(client.transport().attempts.load(Ordering::Relaxed), 1);
/// assert_eq!(cluster.last().unwrap().headers()["x-tenant"], "acme");
/// # }
/// ```
#[async_trait]
pub trait HttpTransport: Send + Sync + Debug {
    /// Sends `request` (absolute URI, all headers set, body complete) and returns the
    /// response with its whole body.
    async fn send(&self, request: http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError>;
}

#[async_trait]
impl<T: HttpTransport + ?Sized> HttpTransport for Arc<T> {
    async fn send(&self, request: http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError> {
        (**self).send(request).await
    }
}

#[async_trait]
impl<T: HttpTransport + ?Sized> HttpTransport for Box<T> {
    async fn send(&self, request: http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError> {
        (**self).send(request).await
    }
}
