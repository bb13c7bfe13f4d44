//! A connector that bounds the whole connection set-up: TCP, and the TLS handshake too.
//!
//! hyper-util's `HttpConnector` times the TCP connect alone; a server that accepts and then
//! never finishes the handshake would hold a call until the client's whole-call timeout.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Wraps a connector so that making a connection, handshake included, fails after
/// `timeout` with an [`std::io::ErrorKind::TimedOut`] error (a connect error to the
/// client).
#[derive(Clone, Debug)]
pub struct ConnectTimeout<C> {
    inner: C,
    timeout: Duration,
}

impl<C> ConnectTimeout<C> {
    /// `inner`, bounded by `timeout`.
    pub fn new(inner: C, timeout: Duration) -> Self {
        Self { inner, timeout }
    }

    /// The wrapped connector.
    pub fn inner(&self) -> &C {
        &self.inner
    }
}

impl<C> tower_service::Service<http::Uri> for ConnectTimeout<C>
where
    C: tower_service::Service<http::Uri>,
    C::Future: Send + 'static,
    C::Error: Into<BoxError>,
{
    type Response = C::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<C::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        let connecting = self.inner.call(uri);
        let timeout = self.timeout;
        Box::pin(async move {
            match tokio::time::timeout(timeout, connecting).await {
                Ok(connected) => connected.map_err(Into::into),
                Err(_) => Err(Box::new(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the connection (TCP and TLS) was not set up within the connect timeout",
                )) as BoxError),
            }
        })
    }
}
