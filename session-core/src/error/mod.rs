//! Errors: what went wrong, in a form a caller can act on and safely print.
//!
//! No variant's `Debug` or `Display` holds a secret: response bodies are kept but shown
//! only by length, header values are not shown, decode errors describe the shape of the
//! body (types and lengths) without quoting a byte of it, and a redirect's target shows only
//! its scheme and host.
//!
//! The error types live here and in the files beside this one (the answer a cluster gave,
//! decoding, transport); how a body is described without quoting it lives in `shape`.

mod answer;
mod decode;
mod envelope;
mod shape;
mod store;
mod transport;

pub use answer::{ApiError, StatusError};
pub use decode::DecodeError;
pub use envelope::ErrorEnvelope;
#[cfg(any(test, fuzzing))]
pub(crate) use shape::shape_snippet;
pub use store::{StoreError, StoreErrorKind};
pub use transport::{TimeoutError, TransportError, TransportErrorKind};

use http::{HeaderMap, StatusCode};
use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;

/// Everything a session call can fail with.
///
/// ```
/// use thoughtspot_session_core::Error;
///
/// fn explain(e: &Error) -> String {
///     if e.is_unauthorized() {
///         format!("sign in again ({e})")
///     } else if let Some(incident) = e.incident_id() {
///         format!("cluster failure, incident {incident}")
///     } else {
///         e.to_string()
///     }
/// }
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Error {
    /// The cluster answered with its error envelope (the documented HTTP 500).
    Api(Box<ApiError>),
    /// Any other non-2xx answer: a proxy page, a 401, a 404, an unfollowed redirect.
    Status(Box<StatusError>),
    /// A 2xx answer whose body did not decode into the operation's result.
    Decode(Box<DecodeError>),
    /// The transport failed to carry the request or the response.
    Transport(TransportError),
    /// The whole call did not finish within the configured timeout.
    Timeout(TimeoutError),
    /// The request was refused before sending: it could not succeed.
    InvalidRequest(InvalidRequest),
    /// The client's configuration is invalid.
    Config(ConfigError),
    /// A [`TokenManager`](crate::TokenManager)'s shared token store failed, and the manager
    /// is set to fail with it ([`StoreFailure::Fail`](crate::StoreFailure::Fail)).
    Store(StoreError),
}

impl Error {
    /// The HTTP status of the answer, when there was one.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api(e) => Some(e.status()),
            Error::Status(e) => Some(e.status()),
            Error::Decode(e) => Some(e.status()),
            _ => None,
        }
    }

    /// `true` for a 401, and for an error envelope whose upstream status is 401 (bad
    /// credentials, an expired or revoked token, no session).
    pub fn is_unauthorized(&self) -> bool {
        match self {
            Error::Api(e) => {
                e.status() == StatusCode::UNAUTHORIZED || e.envelope().upstream_status() == Some(401)
            }
            Error::Status(e) => e.status() == StatusCode::UNAUTHORIZED,
            _ => false,
        }
    }

    /// `true` for a 403: the caller is known but may not do this (REST API v2.0 answers it,
    /// e.g. for configure without the `ADMINISTRATION` privilege).
    pub fn is_forbidden(&self) -> bool {
        self.status() == Some(StatusCode::FORBIDDEN)
    }

    /// `true` when trying again later may succeed: connect errors, timeouts, and the
    /// statuses 408, 429, 502, 503 and 504. Whether the client retries by itself is set by
    /// its [`RetryPolicy`](crate::RetryPolicy).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Transport(e) => e.is_connect() || e.is_timeout(),
            Error::Timeout(_) => true,
            Error::Status(e) => matches!(e.status().as_u16(), 408 | 429 | 502 | 503 | 504),
            Error::Api(e) => matches!(e.status().as_u16(), 429 | 502 | 503 | 504),
            _ => false,
        }
    }

    /// `true` for a transport timeout or the whole-call timeout.
    pub fn is_timeout(&self) -> bool {
        match self {
            Error::Transport(e) => e.is_timeout(),
            Error::Timeout(_) => true,
            _ => false,
        }
    }

    /// The incident id of an error envelope, to quote to ThoughtSpot support.
    pub fn incident_id(&self) -> Option<&str> {
        match self {
            Error::Api(e) => e.envelope().incident_id(),
            _ => None,
        }
    }

    /// The trace id of an error envelope.
    pub fn trace_id(&self) -> Option<&str> {
        match self {
            Error::Api(e) => e.envelope().trace_id(),
            _ => None,
        }
    }

    /// The response headers, when there was an answer.
    pub fn headers(&self) -> Option<&HeaderMap> {
        match self {
            Error::Api(e) => Some(e.headers()),
            Error::Status(e) => Some(e.headers()),
            Error::Decode(e) => Some(e.headers()),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Api(e) => e.fmt(f),
            Error::Status(e) => e.fmt(f),
            Error::Decode(e) => e.fmt(f),
            Error::Transport(e) => e.fmt(f),
            Error::Timeout(e) => e.fmt(f),
            Error::InvalidRequest(e) => e.fmt(f),
            Error::Config(e) => e.fmt(f),
            Error::Store(e) => e.fmt(f),
        }
    }
}

/// `Error` is transparent: its `Display` is the inner error's, and `source()` is the inner
/// error's source, so that a reporter walking the chain (anyhow, eyre, tracing) prints each
/// text once: `get token failed: could not connect to the cluster`, then the cause.
impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Error::Api(e) => e.source(),
            Error::Status(e) => e.source(),
            Error::Decode(e) => e.source(),
            Error::Transport(e) => e.source(),
            Error::Timeout(e) => e.source(),
            Error::InvalidRequest(e) => e.source(),
            Error::Config(e) => e.source(),
            Error::Store(e) => e.source(),
        }
    }
}

impl From<TransportError> for Error {
    fn from(e: TransportError) -> Self {
        Error::Transport(e)
    }
}

impl From<InvalidRequest> for Error {
    fn from(e: InvalidRequest) -> Self {
        Error::InvalidRequest(e)
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        Error::Store(e)
    }
}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Error::Config(e)
    }
}

/// A request that could not succeed, refused before it was sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidRequest {
    message: Cow<'static, str>,
}

impl InvalidRequest {
    /// A refusal with a message (which must hold no secret).
    pub fn new(message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            message: message.into(),
        }
    }

    /// What is wrong.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for InvalidRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid request, not sent: {}", self.message)
    }
}

impl StdError for InvalidRequest {}

/// An invalid client configuration, reported by a builder (the client's or a backend's).
#[derive(Clone, Debug)]
pub struct ConfigError {
    message: Cow<'static, str>,
    source: Option<std::sync::Arc<dyn StdError + Send + Sync>>,
}

impl ConfigError {
    /// A configuration error described by `message` (which must hold no secret).
    pub fn new(message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            message: message.into(),
            source: None,
        }
    }

    /// A configuration error caused by `source`, e.g. a TLS library's.
    pub fn with_source(
        message: impl Into<Cow<'static, str>>,
        source: impl Into<Box<dyn StdError + Send + Sync>>,
    ) -> Self {
        Self {
            message: message.into(),
            source: Some(std::sync::Arc::from(source.into())),
        }
    }

    /// What is wrong.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid client configuration: {}", self.message)
    }
}

impl StdError for ConfigError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn StdError + 'static))
    }
}
