//! Errors: what went wrong, in a form a caller can act on and safely print.
//!
//! No variant's `Debug` or `Display` holds a secret: response bodies are kept but shown
//! only by length, header values are not shown, decode errors describe the shape of the
//! body (types and lengths) without quoting a byte of it, and a redirect's target shows only
//! its scheme and host.

use crate::model::ErrorEnvelope;
use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

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
    Store(crate::token_store::StoreError),
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

impl From<crate::token_store::StoreError> for Error {
    fn from(e: crate::token_store::StoreError) -> Self {
        Error::Store(e)
    }
}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Error::Config(e)
    }
}

/// Status, headers and body of an answer, printed without header values or body bytes.
#[derive(Clone)]
struct Answer {
    operation: &'static str,
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Answer {
    fn new(operation: &'static str, status: StatusCode, mut headers: HeaderMap, body: Bytes) -> Self {
        for (name, value) in headers.iter_mut() {
            // A redirect's Location may carry a token in its query string.
            if crate::auth::is_sensitive_header(name) || name == http::header::LOCATION {
                value.set_sensitive(true);
            }
        }
        Self {
            operation,
            status,
            headers,
            body,
        }
    }
}

impl fmt::Debug for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Answer")
            .field("operation", &self.operation)
            .field("status", &self.status)
            .field("header_names", &self.headers.keys().collect::<Vec<_>>())
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// The cluster's error envelope with the answer that carried it.
#[derive(Clone, Debug)]
pub struct ApiError {
    answer: Answer,
    envelope: ErrorEnvelope,
}

impl ApiError {
    pub(crate) fn new(
        operation: &'static str,
        status: StatusCode,
        headers: HeaderMap,
        body: Bytes,
        envelope: ErrorEnvelope,
    ) -> Self {
        Self {
            answer: Answer::new(operation, status, headers, body),
            envelope,
        }
    }

    /// The HTTP status (500 for the documented failures).
    pub fn status(&self) -> StatusCode {
        self.answer.status
    }

    /// The parsed envelope. Any credential of the call (password, secret key, token,
    /// cookie value) that the cluster echoed in its texts reads `[redacted]`.
    pub fn envelope(&self) -> &ErrorEnvelope {
        &self.envelope
    }

    pub(crate) fn envelope_mut(&mut self) -> &mut ErrorEnvelope {
        &mut self.envelope
    }

    /// The response headers (`Set-Cookie`, `Location` and similar values are marked
    /// sensitive, so that their `Debug` does not show them).
    pub fn headers(&self) -> &HeaderMap {
        &self.answer.headers
    }

    /// The raw body, as received: unlike [`envelope`](Self::envelope), it is not scrubbed
    /// of credentials the cluster may have echoed.
    pub fn body(&self) -> &Bytes {
        &self.answer.body
    }

    /// The operation that failed, e.g. `login`.
    pub fn operation(&self) -> &'static str {
        self.answer.operation
    }
}

impl StdError for ApiError {}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = &self.envelope;
        write!(
            f,
            "{} failed: the cluster answered HTTP {}",
            self.answer.operation,
            self.answer.status.as_u16()
        )?;
        if let Some(s) = e.upstream_status() {
            write!(f, " (upstream {s}")?;
            if let Some(c) = e.upstream_code() {
                write!(f, ", code {c}")?;
            }
            f.write_str(")")?;
        } else if let Some(c) = e.code() {
            write!(f, " ({c})")?;
        }
        match (e.debug_message(), e.message()) {
            (Some(d), _) | (None, Some(d)) => write!(f, ": {d}")?,
            (None, None) => {}
        }
        if let Some(i) = e.incident_id() {
            write!(f, " [incident {i}]")?;
        }
        Ok(())
    }
}

/// A non-2xx answer without the cluster's error envelope.
#[derive(Clone, Debug)]
pub struct StatusError {
    answer: Answer,
}

impl StatusError {
    pub(crate) fn new(operation: &'static str, status: StatusCode, headers: HeaderMap, body: Bytes) -> Self {
        Self {
            answer: Answer::new(operation, status, headers, body),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.answer.status
    }

    /// The response headers (`Set-Cookie`, `Location` and similar values are marked
    /// sensitive, so that their `Debug` does not show them).
    pub fn headers(&self) -> &HeaderMap {
        &self.answer.headers
    }

    /// The raw body.
    pub fn body(&self) -> &Bytes {
        &self.answer.body
    }

    /// The operation that failed.
    pub fn operation(&self) -> &'static str {
        self.answer.operation
    }

    /// `true` when the body is an HTML page (a proxy's error or maintenance page, a login
    /// form), by `Content-Type` or by the body's first bytes.
    pub fn is_html(&self) -> bool {
        let by_type = self
            .answer
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("text/html"));
        by_type || looks_like_html(&self.answer.body)
    }

    /// The `Location` of a redirect, which the client never follows, exactly as received.
    ///
    /// It may carry a secret (a session id as a `;jsessionid=` path parameter, a token in
    /// the query, a user and password): `Display` shows only its scheme and host.
    pub fn location(&self) -> Option<&str> {
        if !self.answer.status.is_redirection() {
            return None;
        }
        self.answer.headers.get(http::header::LOCATION)?.to_str().ok()
    }
}

impl StdError for StatusError {}

impl fmt::Display for StatusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = self.answer.status;
        write!(f, "{} failed: HTTP {}", self.answer.operation, status.as_u16())?;
        if let Some(reason) = status.canonical_reason() {
            write!(f, " {reason}")?;
        }
        if status.is_redirection() {
            match self.location() {
                Some(location) => write!(f, ", redirect to {} not followed", RedactedLocation(location))?,
                None => f.write_str(", redirect not followed")?,
            }
        } else if self.answer.body.is_empty() {
            f.write_str(" with an empty body")?;
        } else if self.is_html() {
            f.write_str(" with an HTML page (a proxy or load balancer may have answered)")?;
        } else {
            write!(f, " with a {}-byte body", self.answer.body.len())?;
        }
        Ok(())
    }
}

/// A redirect's target as it may be printed: scheme, host and port of an absolute URL, with
/// user, path, query and fragment left out.
struct RedactedLocation<'a>(&'a str);

impl fmt::Display for RedactedLocation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match url::Url::parse(self.0.trim()) {
            Ok(url) if url.has_host() => {
                write!(f, "{}://{}", url.scheme(), url.host_str().unwrap_or_default())?;
                if let Some(port) = url.port() {
                    write!(f, ":{port}")?;
                }
                let bare = url.path() == "/" && url.query().is_none() && url.fragment().is_none();
                f.write_str(if bare { "/" } else { "/[path redacted]" })
            }
            _ => f.write_str("a location on the same server [path redacted]"),
        }
    }
}

pub(crate) fn looks_like_html(body: &[u8]) -> bool {
    let start = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(body.len());
    let head = &body[start..body.len().min(start + 15)];
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    lower.starts_with(b"<!doctype html") || lower.starts_with(b"<html")
}

/// A 2xx answer whose body is not what the operation returns.
#[derive(Clone, Debug)]
pub struct DecodeError {
    answer: Answer,
    expected: &'static str,
    problem: Cow<'static, str>,
    snippet: String,
}

impl DecodeError {
    pub(crate) fn new(
        operation: &'static str,
        status: StatusCode,
        headers: HeaderMap,
        body: Bytes,
        expected: &'static str,
        problem: impl Into<Cow<'static, str>>,
    ) -> Self {
        let snippet = shape_snippet(&body);
        Self {
            answer: Answer::new(operation, status, headers, body),
            expected,
            problem: problem.into(),
            snippet,
        }
    }

    /// The HTTP status (a 2xx).
    pub fn status(&self) -> StatusCode {
        self.answer.status
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.answer.headers
    }

    /// The raw body. It may hold secrets (a token): print [`snippet`](Self::snippet)
    /// instead.
    pub fn body(&self) -> &Bytes {
        &self.answer.body
    }

    /// What the operation expected, e.g. `a JSON boolean`.
    pub fn expected(&self) -> &'static str {
        self.expected
    }

    /// The body's shape, which quotes no byte of it (no key, no value), so it can hold no
    /// secret: e.g. `<object of 2 fields (string of 12 chars, string of 6 chars)>` or
    /// `<41 bytes of text, not JSON>`.
    pub fn snippet(&self) -> &str {
        &self.snippet
    }
}

impl StdError for DecodeError {}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} answered HTTP {} but the body is not {}: {} (the body is {})",
            self.answer.operation,
            self.answer.status.as_u16(),
            self.expected,
            self.problem,
            self.snippet
        )
    }
}

/// Describes a body by its shape alone: JSON types, counts and lengths, never a byte of a
/// key or a value.
///
/// A hostile or broken server may put a secret anywhere: in a quoted value, in a key, as an
/// unquoted value of malformed JSON, in a plain-text or form body. So nothing of the body
/// is copied: a JSON object reads `an object of 2 fields (string of 12 chars, number)`, a
/// body that is not JSON `41 bytes of text, not JSON`.
pub(crate) fn shape_snippet(body: &[u8]) -> String {
    if body.iter().all(u8::is_ascii_whitespace) {
        return if body.is_empty() {
            "<empty>".to_owned()
        } else {
            format!("<{} bytes of white space>", body.len())
        };
    }
    if looks_like_html(body) {
        return format!("<HTML page, {} bytes>", body.len());
    }
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(value) => format!("<{}>", json_shape(&value, 0)),
        Err(_) => {
            let first = body.iter().find(|b| !b.is_ascii_whitespace()).copied();
            let looks = match first {
                Some(b'{') => "malformed JSON object",
                Some(b'[') => "malformed JSON array",
                Some(b'"') => "malformed JSON string",
                _ if std::str::from_utf8(body).is_ok() => "text, not JSON",
                _ => "binary data, not JSON",
            };
            format!("<{} bytes of {looks}>", body.len())
        }
    }
}

/// The type of a JSON value, its length, and one level of what it holds.
fn json_shape(value: &serde_json::Value, depth: usize) -> String {
    use serde_json::Value;
    let plural = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(_) => "boolean".to_owned(),
        Value::Number(_) => "number".to_owned(),
        Value::String(s) => format!("string of {}", plural(s.chars().count(), "char", "chars")),
        Value::Array(items) if depth > 0 || items.is_empty() => {
            format!("array of {}", plural(items.len(), "item", "items"))
        }
        Value::Object(fields) if depth > 0 || fields.is_empty() => {
            format!("object of {}", plural(fields.len(), "field", "fields"))
        }
        Value::Array(items) => {
            inner_shapes("array", plural(items.len(), "item", "items"), items.iter(), depth)
        }
        Value::Object(fields) => inner_shapes(
            "object",
            plural(fields.len(), "field", "fields"),
            fields.values(),
            depth,
        ),
    }
}

fn inner_shapes<'a>(
    kind: &str,
    count: String,
    values: impl Iterator<Item = &'a serde_json::Value>,
    depth: usize,
) -> String {
    const SHOWN: usize = 8;
    let mut shapes: Vec<String> = Vec::new();
    let mut more = 0usize;
    for value in values {
        if shapes.len() < SHOWN {
            shapes.push(json_shape(value, depth + 1));
        } else {
            more += 1;
        }
    }
    if more > 0 {
        shapes.push(format!("{more} more"));
    }
    format!("{kind} of {count} ({})", shapes.join(", "))
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippet_describes_shape_and_quotes_nothing() {
        assert_eq!(
            shape_snippet(br#"{"token": "eyJsecret", "tokenType": "Bearer", "n": 5, "ok": true}"#),
            "<object of 4 fields (number, boolean, string of 9 chars, string of 6 chars)>"
        );
        assert_eq!(shape_snippet(br#""hunter2""#), "<string of 7 chars>");
        assert_eq!(
            shape_snippet(br#"{"hunter2": ["a", {}]}"#),
            "<object of 1 field (array of 2 items)>"
        );
        assert_eq!(shape_snippet(b"[]"), "<array of 0 items>");
        assert_eq!(shape_snippet(b""), "<empty>");
        assert_eq!(shape_snippet(b" \n"), "<2 bytes of white space>");
        assert_eq!(
            shape_snippet(b"  <!DOCTYPE html><p>down</p>"),
            "<HTML page, 28 bytes>"
        );
        assert_eq!(shape_snippet(b"password=hunter2"), "<16 bytes of text, not JSON>");
        assert_eq!(
            shape_snippet(b"token=abc&expires=300"),
            "<21 bytes of text, not JSON>"
        );
        assert_eq!(
            shape_snippet(br#"{"token": abc123}"#),
            "<17 bytes of malformed JSON object>"
        );
        assert_eq!(shape_snippet(b"\xff\xfe"), "<2 bytes of binary data, not JSON>");
        let long = format!("[{}1]", "1,".repeat(100));
        assert_eq!(
            shape_snippet(long.as_bytes()),
            "<array of 101 items (number, number, number, number, number, number, number, number, 93 more)>"
        );
    }
}
