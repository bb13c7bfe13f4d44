//! The one thing a backend implements: send a request, return the answer.

use crate::error::TransportError;
use async_trait::async_trait;
use bytes::Bytes;
use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
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

/// The boxed future [`HttpTransport::send`] returns, as `#[async_trait]` writes it.
///
/// An implementation may write `send` without the macro, with this return type, to do its
/// synchronous work (converting the request, starting the send) before the future is
/// boxed, so that the box holds only what lives across an `.await`:
///
/// ```
/// use bytes::Bytes;
/// use thoughtspot_session_core::{HttpTransport, SendFuture, TransportError};
///
/// #[derive(Debug)]
/// struct Echo;
///
/// impl HttpTransport for Echo {
///     fn send<'life0, 'async_trait>(&'life0 self, request: http::Request<Bytes>) -> SendFuture<'async_trait>
///     where
///         'life0: 'async_trait,
///         Self: 'async_trait,
///     {
///         let body = request.into_body(); // before the box: the request is not kept in it
///         Box::pin(async move { Ok(http::Response::new(body)) })
///     }
/// }
/// # let answer = futures_executor_block_on(Echo.send(http::Request::new(Bytes::from_static(b"hi"))));
/// # assert_eq!(answer.unwrap().body().as_ref(), b"hi");
/// # fn futures_executor_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
/// # }
/// ```
pub type SendFuture<'a> =
    Pin<Box<dyn Future<Output = Result<http::Response<Bytes>, TransportError>> + Send + 'a>>;

// Forwarded without a box of their own: the inner transport's future is the answer.
impl<T: HttpTransport + ?Sized> HttpTransport for Arc<T> {
    fn send<'life0, 'async_trait>(&'life0 self, request: http::Request<Bytes>) -> SendFuture<'async_trait>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        (**self).send(request)
    }
}

impl<T: HttpTransport + ?Sized> HttpTransport for Box<T> {
    fn send<'life0, 'async_trait>(&'life0 self, request: http::Request<Bytes>) -> SendFuture<'async_trait>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        (**self).send(request)
    }
}
