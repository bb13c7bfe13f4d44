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
