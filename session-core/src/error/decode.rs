//! `DecodeError`: a 2xx answer whose body is not what the operation returns.

use super::answer::Answer;
use super::shape::shape_snippet;
use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;

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
