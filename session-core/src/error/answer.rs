//! The answer a cluster gave, kept for an error without showing a header value or a body
//! byte: `ApiError` (the cluster's error envelope) and `StatusError` (any other non-2xx).

use super::envelope::ErrorEnvelope;
use super::shape::looks_like_html;
use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use std::error::Error as StdError;
use std::fmt;

/// Status, headers and body of an answer, printed without header values or body bytes.
#[derive(Clone)]
pub(super) struct Answer {
    pub(super) operation: &'static str,
    pub(super) status: StatusCode,
    pub(super) headers: HeaderMap,
    pub(super) body: Bytes,
}

impl Answer {
    pub(super) fn new(
        operation: &'static str,
        status: StatusCode,
        mut headers: HeaderMap,
        body: Bytes,
    ) -> Self {
        for (name, value) in headers.iter_mut() {
            // A redirect's Location may carry a token in its query string.
            if crate::headers::is_sensitive_header(name) || name == http::header::LOCATION {
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
