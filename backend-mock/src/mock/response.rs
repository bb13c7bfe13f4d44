//! Canned answers of a `MockTransport`.

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Response, StatusCode};
use std::fmt;
use std::sync::Arc;
use thoughtspot_session_core::{ErrorEnvelope, TransportError, TransportErrorKind};

/// A canned HTTP answer.
///
/// ```
/// use thoughtspot_session_mock::MockResponse;
///
/// let ok = MockResponse::json(200, serde_json::json!({"userName": "analyst"}));
/// let denied = MockResponse::unauthorized("Bad credentials");
/// let busy = MockResponse::status(503).header("retry-after", "1");
/// # let _ = (ok, denied, busy);
/// ```
#[derive(Clone, Debug)]
pub struct MockResponse {
    status: StatusCode,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
}

impl MockResponse {
    /// An empty answer with `status` (an invalid code becomes 500).
    pub fn status(status: u16) -> Self {
        Self {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    /// A JSON answer.
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Self::status(status)
            .header("content-type", "application/json")
            .body(body.to_string())
    }

    /// HTTP 500 with the cluster's error envelope, upstream status 401.
    pub fn unauthorized(debug: &str) -> Self {
        Self::envelope(ErrorEnvelope::upstream(401, 10000, debug).with_ids("mock-incident", "mock-trace"))
    }

    /// HTTP 500 with the cluster's error envelope, upstream status 400.
    pub fn bad_request(debug: &str) -> Self {
        Self::envelope(ErrorEnvelope::upstream(400, 10002, debug).with_ids("mock-incident", "mock-trace"))
    }

    /// HTTP 500 with an error envelope.
    pub fn envelope(envelope: ErrorEnvelope) -> Self {
        Self::json(500, envelope.to_json())
    }

    /// Adds a header; an invalid name or value is skipped.
    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Self {
        if let (Ok(n), Ok(v)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            self.headers.push((n, v));
        }
        self
    }

    /// Sets the body.
    #[must_use]
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    pub(crate) fn to_response(&self) -> Response<Bytes> {
        let mut response = Response::new(self.body.clone());
        *response.status_mut() = self.status;
        for (n, v) in &self.headers {
            response.headers_mut().append(n.clone(), v.clone());
        }
        response
    }
}

type Responder = dyn Fn(&http::Request<Bytes>) -> Result<Response<Bytes>, TransportError> + Send + Sync;

/// What an expectation does when it matches.
#[derive(Clone)]
pub(crate) enum Reply {
    Respond(MockResponse),
    With(Arc<Responder>),
    Fail(TransportErrorKind),
    Hang,
    Sequence(Vec<Reply>),
}

impl Reply {
    /// The reply for the `call`-th match (from 0); a sequence repeats its last entry.
    pub(crate) fn pick(&self, call: usize) -> &Reply {
        match self {
            Reply::Sequence(list) if !list.is_empty() => list[call.min(list.len() - 1)].pick(0),
            other => other,
        }
    }
}

impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reply::Respond(r) => write!(f, "respond {}", r.status.as_u16()),
            Reply::With(_) => f.write_str("respond with a closure"),
            Reply::Fail(kind) => write!(f, "fail with {kind:?}"),
            Reply::Hang => f.write_str("never answer"),
            Reply::Sequence(list) => f.debug_list().entries(list).finish(),
        }
    }
}
