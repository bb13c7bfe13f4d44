//! `MockTransport`: a scripted transport with expectations, a recorder and faults.

mod expectation;
mod response;

pub use expectation::Expectation;
pub use response::MockResponse;

use crate::clock::NoWait;
use async_trait::async_trait;
use bytes::Bytes;
use expectation::{Mismatch, Spec, default_spec, redacted_json, transport_error};
use http::Method;
use response::Reply;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use thoughtspot_session_core::{
    HttpTransport, SessionClient, SessionClientBuilder, TransportError, TransportErrorKind,
};

/// The base URL the mock's ready-made clients use.
pub const MOCK_BASE_URL: &str = "https://mock.thoughtspot.test";

/// A scripted [`HttpTransport`]: expectations (method and path, optionally body and
/// headers) with canned answers, closures or faults; every request recorded; a check of
/// unmet and unexpected calls.
///
/// Expectations match by route by default (the first one whose matchers all match and that
/// still expects calls); [`in_order`](Self::in_order) makes them match in the order they
/// were added. A path matches when the request's path ends with it, so clients with a base
/// path prefix match too. A request no expectation matches fails with a transport error
/// and is reported.
///
/// [`verify`](Self::verify) reports unmet expectations and unexpected calls. When the last
/// clone of the mock is dropped without a passing `verify`, it panics with that report
/// (unless [`verify_on_drop(false)`](Self::verify_on_drop), or the thread is already
/// panicking): that is how it fails the test that owns it. Reports redact credentials.
///
/// ```
/// use serde_json::json;
/// use thoughtspot_session_core::{GetTokenRequest, SessionApi};
/// use thoughtspot_session_mock::{MockResponse, MockTransport};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let mock = MockTransport::new();
/// mock.expect_token_full()
///     .json_body(json!({"username": "analyst", "secret_key": "k"}))
///     .no_header("authorization")
///     .respond(MockResponse::json(200, json!({
///         "token": "t-1", "creation_time_in_millis": 1, "expiration_time_in_millis": 2,
///         "scope": {"access_type": "FULL"}, "valid_for_user_id": "g", "valid_for_username": "analyst",
///     })));
/// mock.expect_session_user().statuses([503, 503, 200]);
///
/// // REST API v2.0, as production clients; `.api_version(ApiVersion::V2Beta)` on
/// // `client_builder()` for the beta's routes (`expect_get_token` and the like).
/// let client = mock.client();
/// let issued = client.get_token(&GetTokenRequest::with_secret_key("analyst", "k")).await.unwrap();
/// assert_eq!(issued.token().unwrap().secret(), "t-1");
/// assert!(client.get_session_info().await.is_err()); // an empty 200 body is not a user object
///
/// mock.verify().unwrap();
/// assert_eq!(mock.requests().len(), 4);
/// # }
/// ```
#[derive(Clone)]
pub struct MockTransport {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    in_order: AtomicBool,
    verify_on_drop: AtomicBool,
}

#[derive(Default)]
struct State {
    specs: Vec<Spec>,
    requests: Vec<http::Request<Bytes>>,
    unexpected: Vec<String>,
    verified: bool,
}

impl Default for MockTransport {
    fn default() -> Self {
        Self::new()
    }
}

impl MockTransport {
    /// A mock with no expectations.
    pub fn new() -> Self {
        Self {
            inner: Arc::new(Inner {
                state: Mutex::new(State::default()),
                in_order: AtomicBool::new(false),
                verify_on_drop: AtomicBool::new(true),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner.state()
    }

    /// Expectations must be met in the order they were added.
    pub fn in_order(&self, in_order: bool) -> &Self {
        self.inner.in_order.store(in_order, Ordering::Relaxed);
        self
    }

    /// Whether dropping the last clone checks the expectations (default `true`).
    pub fn verify_on_drop(&self, verify: bool) -> &Self {
        self.inner.verify_on_drop.store(verify, Ordering::Relaxed);
        self
    }

    /// Expects a request with `method` whose path ends with `path`.
    pub fn expect(&self, method: Method, path: &str) -> Expectation<'_> {
        Expectation {
            mock: self,
            spec: default_spec(method, path),
        }
    }

    /// Expects the v2 beta's get session info (`GET …/tspublic/rest/v2/session`).
    pub fn expect_session_info(&self) -> Expectation<'_> {
        self.expect(Method::GET, "/tspublic/rest/v2/session")
    }

    /// Expects the v2 beta's login (`POST …/tspublic/rest/v2/session/login`).
    pub fn expect_login(&self) -> Expectation<'_> {
        self.expect(Method::POST, "/tspublic/rest/v2/session/login")
    }

    /// Expects the v2 beta's logout (`POST …/tspublic/rest/v2/session/logout`).
    pub fn expect_logout(&self) -> Expectation<'_> {
        self.expect(Method::POST, "/tspublic/rest/v2/session/logout")
    }

    /// Expects the v2 beta's get token (`POST …/tspublic/rest/v2/session/gettoken`).
    pub fn expect_get_token(&self) -> Expectation<'_> {
        self.expect(Method::POST, "/tspublic/rest/v2/session/gettoken")
    }

    /// Expects the v2 beta's revoke token (`POST …/tspublic/rest/v2/session/revoketoken`).
    pub fn expect_revoke_token(&self) -> Expectation<'_> {
        self.expect(Method::POST, "/tspublic/rest/v2/session/revoketoken")
    }

    /// Expects REST API v2.0 `GET session/user`.
    pub fn expect_session_user(&self) -> Expectation<'_> {
        self.expect(Method::GET, "/api/rest/2.0/auth/session/user")
    }

    /// Expects REST API v2.0 `GET session/token`.
    pub fn expect_session_token(&self) -> Expectation<'_> {
        self.expect(Method::GET, "/api/rest/2.0/auth/session/token")
    }

    /// Expects REST API v2.0 v2.0 login (`POST session/login`, answered 204).
    pub fn expect_session_login(&self) -> Expectation<'_> {
        self.expect(Method::POST, "/api/rest/2.0/auth/session/login")
    }

    /// Expects REST API v2.0 v2.0 logout (`POST session/logout`, answered 204).
    pub fn expect_session_logout(&self) -> Expectation<'_> {
        self.expect(Method::POST, "/api/rest/2.0/auth/session/logout")
    }

    /// Expects REST API v2.0 `POST token/full`.
    pub fn expect_token_full(&self) -> Expectation<'_> {
        self.expect(Method::POST, "/api/rest/2.0/auth/token/full")
    }

    /// Expects REST API v2.0 `POST token/object`.
    pub fn expect_token_object(&self) -> Expectation<'_> {
        self.expect(Method::POST, "/api/rest/2.0/auth/token/object")
    }

    /// Expects REST API v2.0 `POST token/custom`.
    pub fn expect_token_custom(&self) -> Expectation<'_> {
        self.expect(Method::POST, "/api/rest/2.0/auth/token/custom")
    }

    /// Expects REST API v2.0 `POST token/revoke` (answered 204).
    pub fn expect_token_revoke(&self) -> Expectation<'_> {
        self.expect(Method::POST, "/api/rest/2.0/auth/token/revoke")
    }

    /// Expects REST API v2.0 `POST token/validate`.
    pub fn expect_token_validate(&self) -> Expectation<'_> {
        self.expect(Method::POST, "/api/rest/2.0/auth/token/validate")
    }

    /// Expects REST API v2.0 `POST configure` (answered 204).
    pub fn expect_configure_auth_settings(&self) -> Expectation<'_> {
        self.expect(Method::POST, "/api/rest/2.0/auth/configure")
    }

    /// Expects REST API v2.0 `POST search`.
    pub fn expect_search_auth_settings(&self) -> Expectation<'_> {
        self.expect(Method::POST, "/api/rest/2.0/auth/search")
    }

    pub(crate) fn push(&self, spec: Spec) {
        let mut state = self.state();
        state.specs.push(spec);
        state.verified = false;
    }

    /// Every request received, in order.
    pub fn requests(&self) -> Vec<http::Request<Bytes>> {
        self.state().requests.clone()
    }

    /// A client builder for this mock: base URL [`MOCK_BASE_URL`] and an instant sleep, so
    /// retries do not wait and a [`hang`](Expectation::hang) ends in a timeout at once. It
    /// speaks what production clients speak by default, REST API v2.0 (expect its paths:
    /// [`expect_token_full`](Self::expect_token_full) and the like); the beta is one setter
    /// away, as in production: `.api_version(ApiVersion::V2Beta)`.
    pub fn client_builder(&self) -> SessionClientBuilder {
        SessionClient::builder(MOCK_BASE_URL).sleep(NoWait)
    }

    /// A client of this mock, with [`client_builder`](Self::client_builder)'s settings.
    pub fn client(&self) -> SessionClient<MockTransport> {
        match self.client_builder().build(self.clone()) {
            Ok(client) => client,
            // The builder above is fixed: an https base URL, a sleep, default policies.
            Err(e) => unreachable!("the mock's own client configuration is valid: {e}"),
        }
    }

    /// Checks that every expectation got its calls and no call was unexpected.
    pub fn verify(&self) -> Result<(), MockError> {
        let mut state = self.state();
        let report = state.report();
        state.verified = report.is_none();
        report.map_or(Ok(()), |report| Err(MockError { report }))
    }

    /// Forgets every expectation, request and report.
    pub fn reset(&self) {
        *self.state() = State::default();
    }

    fn answer(&self, request: &http::Request<Bytes>) -> Result<Reply, TransportError> {
        let in_order = self.inner.in_order.load(Ordering::Relaxed);
        let mut state = self.state();
        state.requests.push(request.clone());
        state.verified = false;
        let chosen = if in_order {
            state.next_in_order(request)
        } else {
            state.by_route(request)
        };
        match chosen {
            Ok(index) => {
                let spec = &mut state.specs[index];
                let reply = spec.reply.pick(spec.calls).clone();
                spec.calls += 1;
                Ok(reply)
            }
            Err(why) => {
                let line = format!("unexpected {} {}{}", request.method(), request.uri().path(), why);
                state.unexpected.push(line);
                Err(TransportError::msg(
                    TransportErrorKind::Other,
                    format!(
                        "mock transport: no expectation matched {} {} (MockTransport::verify reports why)",
                        request.method(),
                        request.uri().path()
                    ),
                ))
            }
        }
    }
}

impl Inner {
    fn state(&self) -> MutexGuard<'_, State> {
        // Every update is a single push or assignment: a poisoned lock holds a whole state.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl State {
    fn by_route(&self, request: &http::Request<Bytes>) -> Result<usize, String> {
        let mut closest = None;
        for (i, spec) in self.specs.iter().enumerate() {
            match spec.check(request) {
                Ok(()) if !spec.times.full(spec.calls) => return Ok(i),
                Ok(()) => {
                    closest = closest.or(Some(format!(
                        ": {} already had its {} call(s)",
                        spec.describe(),
                        spec.calls
                    )))
                }
                Err(Mismatch::Route) => {}
                Err(m) => closest = closest.or(Some(mismatch_text(spec, m))),
            }
        }
        Err(closest.unwrap_or_else(|| format!("{}: no expectation for this route", body_note(request))))
    }

    fn next_in_order(&self, request: &http::Request<Bytes>) -> Result<usize, String> {
        for (i, spec) in self.specs.iter().enumerate() {
            if spec.times.full(spec.calls) {
                continue;
            }
            match spec.check(request) {
                Ok(()) => return Ok(i),
                Err(_) if spec.times.satisfied(spec.calls) => continue,
                Err(Mismatch::Route) => {
                    return Err(format!(": the next expected call is {}", spec.describe()));
                }
                Err(m) => return Err(mismatch_text(spec, m)),
            }
        }
        Err(format!(
            "{}: every expectation was already met",
            body_note(request)
        ))
    }

    fn report(&self) -> Option<String> {
        let mut lines = Vec::new();
        for spec in &self.specs {
            if !spec.times.satisfied(spec.calls) {
                lines.push(format!(
                    "- expected {} {}, got {} call(s)",
                    spec.describe(),
                    spec.times,
                    spec.calls
                ));
            }
        }
        lines.extend(self.unexpected.iter().map(|u| format!("- {u}")));
        (!lines.is_empty()).then(|| lines.join("\n"))
    }
}

fn mismatch_text(spec: &Spec, mismatch: Mismatch) -> String {
    match mismatch {
        Mismatch::Route => String::new(),
        Mismatch::Header(what) => format!(": closest expectation {}: {what}", spec.describe()),
        Mismatch::Body { expected, got } => {
            format!(
                ": closest expectation {}: body differs\n    expected {expected}\n    got      {got}",
                spec.describe()
            )
        }
    }
}

fn body_note(request: &http::Request<Bytes>) -> String {
    match serde_json::from_slice::<serde_json::Value>(request.body()) {
        Ok(v) => format!(" with body {}", redacted_json(&v)),
        Err(_) if request.body().is_empty() => String::new(),
        Err(_) => format!(" with a {}-byte body", request.body().len()),
    }
}

#[async_trait]
impl HttpTransport for MockTransport {
    async fn send(&self, request: http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError> {
        match self.answer(&request)? {
            Reply::Respond(r) => Ok(r.to_response()),
            Reply::With(f) => f(&request),
            Reply::Fail(kind) => Err(transport_error(kind)),
            Reply::Hang => std::future::pending().await,
            // `pick` never returns a sequence.
            Reply::Sequence(_) => Err(TransportError::msg(
                TransportErrorKind::Other,
                "mock transport: empty sequence",
            )),
        }
    }
}

impl fmt::Debug for MockTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state();
        f.debug_struct("MockTransport")
            .field(
                "expectations",
                &state.specs.iter().map(Spec::describe).collect::<Vec<_>>(),
            )
            .field("requests", &state.requests.len())
            .field("unexpected", &state.unexpected.len())
            .finish()
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if !self.verify_on_drop.load(Ordering::Relaxed) || std::thread::panicking() {
            return;
        }
        let state = self.state();
        if state.verified {
            return;
        }
        if let Some(report) = state.report() {
            drop(state);
            // Failing the test that owns the mock is this check's purpose.
            panic!("MockTransport expectations not met:\n{report}");
        }
    }
}

/// What [`MockTransport::verify`] found wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MockError {
    report: String,
}

impl MockError {
    /// One line per unmet expectation or unexpected call.
    pub fn report(&self) -> &str {
        &self.report
    }
}

impl fmt::Display for MockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MockTransport expectations not met:\n{}", self.report)
    }
}

impl std::error::Error for MockError {}
