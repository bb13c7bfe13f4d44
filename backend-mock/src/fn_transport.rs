//! A transport that answers with a closure: the smallest way to script a cluster in a test.

use async_trait::async_trait;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use thoughtspot_session_core::{HttpTransport, TransportError};

/// What an [`FnTransport`] answers to one request.
#[non_exhaustive]
pub enum Reply {
    /// This response.
    Answer(Response<Bytes>),
    /// This transport failure (a refused connection, a reset, a timeout).
    Fail(TransportError),
    /// Nothing, ever: the call's own timeout has to end it.
    Hang,
    /// The response when the future completes: a test holds it to order concurrent calls,
    /// or sleeps in it to play a slow cluster.
    Later(Pin<Box<dyn Future<Output = Response<Bytes>> + Send>>),
}

impl Reply {
    /// A response with `status` and `body`.
    pub fn status(status: u16, body: impl Into<Bytes>) -> Self {
        Reply::Answer(response(status, &[], body))
    }

    /// A `200` with a JSON body.
    pub fn json(value: &serde_json::Value) -> Self {
        Reply::Answer(response(
            200,
            &[("content-type", "application/json")],
            value.to_string(),
        ))
    }
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reply::Answer(r) => write!(f, "Answer({}, {} bytes)", r.status(), r.body().len()),
            Reply::Fail(e) => write!(f, "Fail({e})"),
            Reply::Hang => f.write_str("Hang"),
            Reply::Later(_) => f.write_str("Later(..)"),
        }
    }
}

/// A response with `status`, `headers` and `body`; an invalid status reads 500, and a
/// header that is not valid is left out.
pub fn response(status: u16, headers: &[(&str, &str)], body: impl Into<Bytes>) -> Response<Bytes> {
    let mut r = Response::new(body.into());
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (
            http::header::HeaderName::try_from(*name),
            http::header::HeaderValue::try_from(*value),
        ) {
            r.headers_mut().append(name, value);
        }
    }
    r
}

type Handler = dyn Fn(&Request<Bytes>, usize) -> Reply + Send + Sync;

/// An [`HttpTransport`] that answers each request with a closure of the request and its
/// index (0 for the first request), and records every request it saw. Clones share the
/// closure and the record.
///
/// Use it for a cluster that answers in one particular way (a 503 then a 200, a redirect,
/// a body no cluster sends); use [`MockTransport`](crate::MockTransport) for expectations
/// checked at the end, and [`FakeThoughtSpot`](crate::FakeThoughtSpot) for a whole cluster.
///
/// ```
/// use thoughtspot_session_core::{ApiVersion, RetryPolicy, SessionApi, SessionClient};
/// use thoughtspot_session_mock::{FnTransport, InstantSleep, Reply};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// // Busy twice, then an answer.
/// let cluster = FnTransport::new(|_request, index| match index {
///     0 | 1 => Reply::status(503, ""),
///     _ => Reply::json(&serde_json::json!({"userName": "analyst"})),
/// });
/// let client = SessionClient::builder("https://ts.example.com")
///     .api_version(ApiVersion::V2Beta)
///     .sleep(InstantSleep::new())
///     .no_timeout()
///     .retry(RetryPolicy::default().max_attempts(3))
///     .build(cluster.clone())
///     .unwrap();
/// let info = client.get_session_info().await.unwrap();
/// assert_eq!(info.user_name(), Some("analyst"));
/// assert_eq!(cluster.count(), 3);
/// assert_eq!(cluster.last().unwrap().uri().path(), "/tspublic/rest/v2/session");
/// # }
/// ```
#[derive(Clone)]
pub struct FnTransport {
    handler: Arc<Handler>,
    seen: Arc<Mutex<Vec<Request<Bytes>>>>,
}

impl std::fmt::Debug for FnTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FnTransport")
            .field("requests", &self.count())
            .finish()
    }
}

impl FnTransport {
    /// Answers with `handler(request, index)`.
    pub fn new(handler: impl Fn(&Request<Bytes>, usize) -> Reply + Send + Sync + 'static) -> Self {
        Self {
            handler: Arc::new(handler),
            seen: Arc::default(),
        }
    }

    /// Answers every request with `status` and `body`.
    pub fn always(status: u16, body: &'static str) -> Self {
        Self::new(move |_, _| Reply::status(status, body))
    }

    fn seen(&self) -> MutexGuard<'_, Vec<Request<Bytes>>> {
        // Pushes are single operations: a poisoned lock holds a whole record.
        self.seen.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every request seen, in order. They hold the credentials the client sent: assert on
    /// them, do not print them.
    pub fn requests(&self) -> Vec<Request<Bytes>> {
        self.seen().clone()
    }

    /// How many requests were seen.
    pub fn count(&self) -> usize {
        self.seen().len()
    }

    /// The last request seen.
    pub fn last(&self) -> Option<Request<Bytes>> {
        self.seen().last().cloned()
    }
}

#[async_trait]
impl HttpTransport for FnTransport {
    async fn send(&self, request: Request<Bytes>) -> Result<Response<Bytes>, TransportError> {
        let index = {
            let mut seen = self.seen();
            seen.push(request.clone());
            seen.len() - 1
        };
        match (self.handler)(&request, index) {
            Reply::Answer(r) => Ok(r),
            Reply::Fail(e) => Err(e),
            Reply::Hang => std::future::pending().await,
            Reply::Later(answer) => Ok(answer.await),
        }
    }
}
