//! One expected call of a `MockTransport`: what it matches, how it answers, how often.

use super::response::{MockResponse, Reply};
use bytes::Bytes;
use http::Method;
use std::fmt;
use std::sync::Arc;
use thoughtspot_session_core::{TransportError, TransportErrorKind};

/// How many calls an expectation expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Times {
    Exactly(usize),
    AtLeast(usize),
}

impl Times {
    pub(crate) fn satisfied(self, calls: usize) -> bool {
        match self {
            Times::Exactly(n) => calls == n,
            Times::AtLeast(n) => calls >= n,
        }
    }

    pub(crate) fn full(self, calls: usize) -> bool {
        matches!(self, Times::Exactly(n) if calls >= n)
    }
}

impl fmt::Display for Times {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Times::Exactly(1) => f.write_str("once"),
            Times::Exactly(n) => write!(f, "{n} times"),
            Times::AtLeast(n) => write!(f, "at least {n} times"),
        }
    }
}

pub(crate) struct Spec {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) body: Option<serde_json::Value>,
    pub(crate) headers: Vec<(String, Option<String>)>,
    pub(crate) reply: Reply,
    pub(crate) times: Times,
    pub(crate) calls: usize,
}

/// Why a request did not match an expectation, for the report.
pub(crate) enum Mismatch {
    Route,
    Body { expected: String, got: String },
    Header(String),
}

impl Spec {
    pub(crate) fn route_matches(&self, request: &http::Request<Bytes>) -> bool {
        request.method() == self.method
            && request
                .uri()
                .path()
                .trim_end_matches('/')
                .ends_with(self.path.trim_end_matches('/'))
    }

    pub(crate) fn check(&self, request: &http::Request<Bytes>) -> Result<(), Mismatch> {
        if !self.route_matches(request) {
            return Err(Mismatch::Route);
        }
        for (name, value) in &self.headers {
            let got = request.headers().get(name.as_str()).and_then(|v| v.to_str().ok());
            let ok = match (value, got) {
                (None, None) => true,
                (None, Some(_)) | (Some(_), None) => false,
                (Some(want), Some(got)) => want == got,
            };
            if !ok {
                let what = match value {
                    None => format!("header {name} should be absent"),
                    Some(_) if got.is_none() => format!("header {name} is missing"),
                    Some(want) => format!(
                        "header {name}: expected {:?}, got {:?}",
                        redact_header(name, want),
                        redact_header(name, got.unwrap_or(""))
                    ),
                };
                return Err(Mismatch::Header(what));
            }
        }
        if let Some(want) = &self.body {
            let got: Option<serde_json::Value> = serde_json::from_slice(request.body()).ok();
            if got.as_ref() != Some(want) {
                return Err(Mismatch::Body {
                    expected: redacted_json(want),
                    got: got.map_or_else(
                        || format!("<{} bytes, not JSON>", request.body().len()),
                        |g| redacted_json(&g),
                    ),
                });
            }
        }
        Ok(())
    }

    pub(crate) fn describe(&self) -> String {
        let mut s = format!("{} {}", self.method, self.path);
        if let Some(body) = &self.body {
            s.push_str(&format!(" with body {}", redacted_json(body)));
        }
        for (name, value) in &self.headers {
            match value {
                Some(v) => s.push_str(&format!(" with {name}: {}", redact_header(name, v))),
                None => s.push_str(&format!(" without {name}")),
            }
        }
        s
    }
}

fn redact_header<'a>(name: &str, value: &'a str) -> &'a str {
    let sensitive = ["authorization", "cookie", "set-cookie"];
    if sensitive.iter().any(|s| name.eq_ignore_ascii_case(s)) {
        "[redacted]"
    } else {
        value
    }
}

/// JSON with credential fields (`password`, `secretKey`, `token`) shown as `[redacted]`.
pub(crate) fn redacted_json(value: &serde_json::Value) -> String {
    fn walk(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    if ["password", "secretKey", "token"].contains(&k.as_str()) && v.is_string() {
                        *v = serde_json::Value::String("[redacted]".into());
                    } else {
                        walk(v);
                    }
                }
            }
            serde_json::Value::Array(list) => list.iter_mut().for_each(walk),
            _ => {}
        }
    }
    let mut copy = value.clone();
    walk(&mut copy);
    copy.to_string()
}

/// Builds one expectation; it is registered when [`respond`](Self::respond) or another
/// answering method is called.
#[must_use = "an expectation is registered only by one of its answering methods"]
pub struct Expectation<'a> {
    pub(crate) mock: &'a super::MockTransport,
    pub(crate) spec: Spec,
}

impl Expectation<'_> {
    /// Matches only a request whose body is this JSON (compared after parsing).
    pub fn json_body(mut self, body: serde_json::Value) -> Self {
        self.spec.body = Some(body);
        self
    }

    /// Matches only a request with this header value (name case-insensitive).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.spec
            .headers
            .push((name.to_ascii_lowercase(), Some(value.to_owned())));
        self
    }

    /// Matches only a request without this header.
    pub fn no_header(mut self, name: &str) -> Self {
        self.spec.headers.push((name.to_ascii_lowercase(), None));
        self
    }

    /// Expects exactly `n` calls (default 1).
    pub fn times(mut self, n: usize) -> Self {
        self.spec.times = Times::Exactly(n);
        self
    }

    /// Expects at least `n` calls, and answers any number.
    pub fn at_least(mut self, n: usize) -> Self {
        self.spec.times = Times::AtLeast(n);
        self
    }

    fn register(mut self, reply: Reply) {
        self.spec.reply = reply;
        self.mock.push(self.spec);
    }

    /// Answers with `response`.
    pub fn respond(self, response: MockResponse) {
        self.register(Reply::Respond(response));
    }

    /// Answers with a closure of the request.
    pub fn respond_with(
        self,
        f: impl Fn(&http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError> + Send + Sync + 'static,
    ) {
        self.register(Reply::With(Arc::new(f)));
    }

    /// Answers the successive calls with these statuses (empty bodies), the last one
    /// repeating; expects as many calls as statuses unless `times` says otherwise.
    pub fn statuses(mut self, statuses: impl IntoIterator<Item = u16>) {
        let list: Vec<Reply> = statuses
            .into_iter()
            .map(|s| Reply::Respond(MockResponse::status(s)))
            .collect();
        if self.spec.times == Times::Exactly(1) {
            self.spec.times = Times::Exactly(list.len());
        }
        self.register(Reply::Sequence(list));
    }

    /// Answers the successive calls with these responses, the last one repeating; expects
    /// as many calls as responses unless `times` says otherwise.
    pub fn sequence(mut self, responses: impl IntoIterator<Item = MockResponse>) {
        let list: Vec<Reply> = responses.into_iter().map(Reply::Respond).collect();
        if self.spec.times == Times::Exactly(1) {
            self.spec.times = Times::Exactly(list.len());
        }
        self.register(Reply::Sequence(list));
    }

    /// Fails with a transport error of `kind`.
    pub fn fail(self, kind: TransportErrorKind) {
        self.register(Reply::Fail(kind));
    }

    /// Never answers: the client's timeout must end the call.
    pub fn hang(self) {
        self.register(Reply::Hang);
    }
}

impl fmt::Debug for Expectation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Expectation({})", self.spec.describe())
    }
}

pub(crate) fn transport_error(kind: TransportErrorKind) -> TransportError {
    TransportError::msg(kind, format!("mock transport: injected {kind:?} failure"))
}

pub(crate) fn default_spec(method: Method, path: &str) -> Spec {
    Spec {
        method,
        path: path.to_owned(),
        body: None,
        headers: Vec::new(),
        reply: Reply::Respond(MockResponse::status(200)),
        times: Times::Exactly(1),
        calls: 0,
    }
}
