//! Failures on the way: `TransportError` (reported by a backend) and `TimeoutError` (the
//! whole call's deadline).

use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

/// What kind of transport failure happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// No connection could be made: the request never reached the server.
    Connect,
    /// The transport's own timeout fired.
    Timeout,
    /// Reading or writing failed after the connection was made.
    Io,
    /// The response body was larger than the transport's cap.
    BodyTooLarge,
    /// Anything else.
    Other,
}

/// A failure reported by an [`HttpTransport`](crate::HttpTransport).
///
/// Backends build one from their own error, keeping it as the [`source`](StdError::source);
/// no backend's error type appears in core's API.
///
/// ```
/// use thoughtspot_session_core::TransportError;
///
/// let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
/// let e = TransportError::connect(refused);
/// assert!(e.is_connect());
/// assert_eq!(e.to_string(), "could not connect to the cluster");
/// assert!(std::error::Error::source(&e).is_some());
/// ```
#[derive(Clone, Debug)]
pub struct TransportError {
    kind: TransportErrorKind,
    message: Option<Cow<'static, str>>,
    source: Option<std::sync::Arc<dyn StdError + Send + Sync>>,
    /// The operation that failed, set by the client.
    operation: Option<&'static str>,
}

impl TransportError {
    /// A transport error of `kind` caused by `source`.
    pub fn new(kind: TransportErrorKind, source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self {
            kind,
            message: None,
            source: Some(std::sync::Arc::from(source.into())),
            operation: None,
        }
    }

    /// A transport error of `kind` described by `message` alone (which must hold no
    /// secret).
    pub fn msg(kind: TransportErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            kind,
            message: Some(message.into()),
            source: None,
            operation: None,
        }
    }

    /// No connection could be made.
    pub fn connect(source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self::new(TransportErrorKind::Connect, source)
    }

    /// The transport's timeout fired.
    pub fn timeout(source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self::new(TransportErrorKind::Timeout, source)
    }

    /// Reading or writing failed.
    pub fn io(source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self::new(TransportErrorKind::Io, source)
    }

    /// The body went over `limit` bytes; reading stopped there.
    pub fn body_too_large(limit: usize) -> Self {
        Self::msg(
            TransportErrorKind::BodyTooLarge,
            format!("the response body is larger than the {limit}-byte limit"),
        )
    }

    /// Any other failure.
    pub fn other(source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self::new(TransportErrorKind::Other, source)
    }

    /// Adds a message shown by `Display` (it must hold no secret).
    #[must_use]
    pub fn with_message(mut self, message: impl Into<Cow<'static, str>>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// Names the operation that failed (the client does this).
    pub(crate) fn for_operation(mut self, operation: &'static str) -> Self {
        self.operation = Some(operation);
        self
    }

    /// The operation that failed, e.g. `get token`, once the client has returned the error.
    pub fn operation(&self) -> Option<&'static str> {
        self.operation
    }

    /// The kind of failure.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// `true` when no connection could be made.
    pub fn is_connect(&self) -> bool {
        self.kind == TransportErrorKind::Connect
    }

    /// `true` when the transport's timeout fired.
    pub fn is_timeout(&self) -> bool {
        self.kind == TransportErrorKind::Timeout
    }

    /// `true` for a read or write failure.
    pub fn is_io(&self) -> bool {
        self.kind == TransportErrorKind::Io
    }

    /// `true` when the body went over the cap.
    pub fn is_body_too_large(&self) -> bool {
        self.kind == TransportErrorKind::BodyTooLarge
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(operation) = self.operation {
            write!(f, "{operation} failed: ")?;
        }
        if let Some(m) = &self.message {
            return f.write_str(m);
        }
        f.write_str(match self.kind {
            TransportErrorKind::Connect => "could not connect to the cluster",
            TransportErrorKind::Timeout => "the transport timed out",
            TransportErrorKind::Io => "the connection failed while sending or receiving",
            TransportErrorKind::BodyTooLarge => "the response body is too large",
            TransportErrorKind::Other => "the transport failed",
        })
    }
}

impl StdError for TransportError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn StdError + 'static))
    }
}

/// The whole call ran past its deadline.
#[derive(Clone, Debug)]
pub struct TimeoutError {
    operation: &'static str,
    timeout: Duration,
    attempts: u32,
}

impl TimeoutError {
    pub(crate) fn new(operation: &'static str, timeout: Duration, attempts: u32) -> Self {
        Self {
            operation,
            timeout,
            attempts,
        }
    }

    /// The deadline that passed.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// How many attempts had started.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
}

impl StdError for TimeoutError {}

impl fmt::Display for TimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} did not finish within {:?} ({} attempt",
            self.operation, self.timeout, self.attempts
        )?;
        f.write_str(if self.attempts == 1 { ")" } else { "s)" })
    }
}
