//! `FakeThoughtSpot`: an in-process simulation of a cluster's Session API.

mod handlers;
mod state;
mod users;

pub use state::{ENDED_RETENTION, FakeRequest, FakeSession, FakeToken, REQUEST_LOG};
pub use users::FakeUser;

use crate::clock::{ManualClock, NoWait};
use async_trait::async_trait;
use bytes::Bytes;
use state::State;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use thoughtspot_session_core::{
    Clock, HttpTransport, SecretKey, SessionClient, SessionClientBuilder, Sleep, TransportError,
};

/// The base URL under which an in-process fake answers.
pub const FAKE_BASE_URL: &str = "https://fake.thoughtspot.test";

/// How the fake writes `tokenExpiryDuration`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExpiryFormat {
    /// A lifetime in seconds, as the specification says.
    #[default]
    Seconds,
    /// An absolute instant in epoch milliseconds, as some clusters do.
    AbsoluteMillis,
}

/// An in-process fake of a ThoughtSpot cluster's session and token endpoints, of both API
/// generations on one state, faithful to what real clusters do: cookie sessions from login,
/// bearer tokens (full, scoped to one object, or custom with row-level rules), expiry on a
/// virtual clock, revoke and logout.
///
/// - **REST API v2 beta** (`/tspublic/rest/v2/session/...`): every failure is HTTP 500 with
///   the cluster's error envelope (upstream 401 for bad credentials, expired or revoked
///   tokens and missing sessions; 400 for bad parameters).
/// - **REST API v2.0** (`/api/rest/2.0/auth/...`, every operation): 204 with no body for
///   login, logout, revoke and configure; errors as JSON with `Content-Type:
///   application/json` and the v2.0 body `{"error":{"message":{"code", "incident_id_guid",
///   "trace_id_guid", "debug"}}}`: 400 (code 10002) for a missing or malformed body, an
///   unknown object or org, or a token to validate that is invalid, expired or revoked; 401
///   (10097) for wrong credentials or no session and no valid bearer token; 403 (10023) for
///   configure or search without `ADMINISTRATION` or `CONTROL_TRUSTED_AUTH`, or an object
///   token used for a session; 500 (10038) for an injected failure. The secret key wins
///   over a password (spec 26.8); `GET session/token` mints a new 24-hour token of the
///   session (spec 26.8); custom tokens keep their rules ([`FakeToken::rules`]);
///   configure and search keep the trusted-auth setting per cluster and org.
/// - **What the Visual Embed SDK asks of a cluster**, on the same users, sessions and
///   tokens: `GET /callosum/v1/session/isactive` (bearer or session cookie: 200 `{}`, else
///   401), `GET /callosum/v1/session/info` and `GET /prism/preauth/info` (`{"info": …}`) with
///   the fields the SDK reads (`userGUID`, `userName`, `releaseVersion`, `currentOrgId`,
///   `privileges`, `configInfo.{isPublicUser, selfClusterId, selfClusterName,
///   mixpanelConfig}`), `POST` and `GET /callosum/v1/session/login/token` (form or query
///   `username`, `auth_token`: 204 and a `JSESSIONID` cookie with `SameSite=None; Secure`),
///   `POST /callosum/v1/session/logout` (204), and a page at `/` (and `/v2/`) titled "fake
///   ThoughtSpot" for the SDK's iframe. A revoked or expired token is refused as on every
///   path. Wire differences from a cluster: refusals are 401 with a small JSON body (a
///   cluster's vary), the session info holds only the fields above, login by token never
///   redirects, and the page is a placeholder that runs no app (so the SDK's
///   `AuthStatus.SUCCESS`, which comes from the app's handshake, never fires; `SDK_SUCCESS`
///   does).
/// - **`GET /_fake/token`** (the fake's own, no cluster has it): with a bearer token, what
///   the fake recorded of it (`user`, `org_id`, `access_level`, `object_id`, `groups`,
///   `rules`), so that a test outside the process sees what [`FakeToken`] shows in it.
/// - **CORS**, as a cluster's allow-list ([`FakeThoughtSpotBuilder::cors_origin`], the
///   binary's `--cors-origin`): an allowed origin is echoed exactly, with credentials, and
///   its preflights get the methods and the headers the SDK sends; any other origin gets no
///   CORS header (its preflight a 403). With no list, no CORS header at all.
/// - A token minted on one generation works on the other, and a v2.0 login makes a cookie
///   session that beta calls see. [`ApiGenerations`] makes the fake an old cluster (beta
///   only) or a new one (v2.0 only).
///
/// It implements [`HttpTransport`], so a `SessionClient` runs on it with no network; with
/// the `server` feature it is also served over HTTP on 127.0.0.1. Clones share one cluster.
///
/// A test of your own code against it:
///
/// ```
/// use std::time::Duration;
/// use thoughtspot_session_core::{Error, GetTokenRequest, LoginRequest, SessionApi};
/// use thoughtspot_session_mock::{FakeThoughtSpot, FakeUser};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let fake = FakeThoughtSpot::builder()
///     .user(FakeUser::new("analyst", "pw"))
///     .secret_key("trusted-key")
///     .build();
/// let client = fake.client();
///
/// let issued = client.get_token(&GetTokenRequest::with_secret_key("analyst", "trusted-key")).await.unwrap();
/// client.use_token(&issued).unwrap();
/// client.login(&LoginRequest::bearer()).await.unwrap();
/// assert_eq!(client.get_session_info().await.unwrap().user_name(), Some("analyst"));
///
/// fake.clock().advance(Duration::from_secs(301)); // the default lifetime is 300 s
/// client.set_access_token(issued.token().unwrap().clone()).unwrap();
/// let expired = client.login(&LoginRequest::bearer()).await.unwrap_err();
/// assert!(expired.is_unauthorized());
/// # }
/// ```
#[derive(Clone)]
pub struct FakeThoughtSpot {
    shared: Arc<Shared>,
}

pub(crate) struct Config {
    pub(crate) users: HashMap<String, FakeUser>,
    pub(crate) secret_key: Option<SecretKey>,
    pub(crate) objects: HashSet<String>,
    pub(crate) release_version: String,
    pub(crate) token_lifetime: Duration,
    pub(crate) max_token_lifetime: Duration,
    pub(crate) session_lifetime: Duration,
    pub(crate) expiry_format: ExpiryFormat,
    pub(crate) generations: ApiGenerations,
    /// Origins allowed by CORS (exact), as a cluster's allow-list; none: no CORS headers.
    pub(crate) cors_origins: Vec<String>,
}

/// Which API generations a fake serves: a current cluster serves both, an old one (before
/// 9.0.0.cl) only the beta, and a cluster that dropped the deprecated beta only v2.0. The
/// paths of a generation not served answer 404, as such clusters do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ApiGenerations {
    /// REST API v2 beta and v2.0.
    #[default]
    Both,
    /// Only v2 beta (`/tspublic/rest/v2/session/...`).
    BetaOnly,
    /// Only v2.0 (`/api/rest/2.0/auth/...`).
    V2Only,
}

struct Shared {
    config: Config,
    clock: ManualClock,
    state: Mutex<State>,
}

impl FakeThoughtSpot {
    /// Starts describing a fake cluster.
    pub fn builder() -> FakeThoughtSpotBuilder {
        FakeThoughtSpotBuilder::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Handlers update the state in single steps: a poisoned lock still holds a whole
        // state.
        self.shared.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The fake's virtual clock: advance it to expire tokens and sessions.
    pub fn clock(&self) -> &ManualClock {
        &self.shared.clock
    }

    /// A client builder for this fake: base URL [`FAKE_BASE_URL`], the fake's clock, and an
    /// instant sleep so that retries do not wait. It speaks what production clients speak by
    /// default, REST API v2.0; the beta is one setter away, as in production:
    /// `.api_version(ApiVersion::V2Beta)`. For latency and timeout tests, give the builder
    /// `.sleep(fake.clock().clone())` and advance the clock.
    pub fn client_builder(&self) -> SessionClientBuilder {
        SessionClient::builder(FAKE_BASE_URL)
            .clock(self.shared.clock.clone())
            .sleep(NoWait)
    }

    /// A client of this fake, with [`client_builder`](Self::client_builder)'s settings.
    pub fn client(&self) -> SessionClient<FakeThoughtSpot> {
        match self.client_builder().build(self.clone()) {
            Ok(client) => client,
            // The builder above is fixed: an https base URL, a sleep, default policies.
            Err(e) => unreachable!("the fake's own client configuration is valid: {e}"),
        }
    }

    /// The requests answered, oldest first: the last [`REQUEST_LOG`] of them.
    pub fn requests(&self) -> Vec<FakeRequest> {
        self.state().log.iter().cloned().collect()
    }

    /// How many requests named `operation` (e.g. `"get token"`) were answered, over the
    /// fake's whole life.
    pub fn count(&self, operation: &str) -> usize {
        self.state().counts.get(operation).copied().unwrap_or(0)
    }

    /// The sessions alive now (not logged out, revoked or expired).
    pub fn live_sessions(&self) -> Vec<FakeSession> {
        let now = self.shared.clock.now();
        self.state()
            .sessions
            .values()
            .filter(|s| now < s.expires_at)
            .cloned()
            .collect()
    }

    /// Every token issued, valid or not.
    pub fn tokens(&self) -> Vec<FakeToken> {
        self.state().tokens.values().cloned().collect()
    }

    /// The tokens valid now.
    pub fn live_tokens(&self) -> Vec<FakeToken> {
        let now = self.shared.clock.now();
        self.state()
            .tokens
            .values()
            .filter(|t| t.is_valid_at(now))
            .cloned()
            .collect()
    }

    /// Starts or ends an outage: while it lasts, every call gets a 503 HTML page, as from
    /// a load balancer.
    pub fn set_outage(&self, outage: bool) {
        self.state().outage = outage;
    }

    /// Delays every answer by `latency` on the virtual clock (zero by default); a
    /// `FakeServer` (feature `server`) started with real-time latency waits it on tokio's
    /// clock instead.
    pub fn set_latency(&self, latency: Duration) {
        self.state().latency = latency;
    }

    /// The latency set with [`set_latency`](Self::set_latency).
    pub fn latency(&self) -> Duration {
        self.state().latency
    }

    /// Answers the next `calls` calls with `status` (an empty body; for 500, an error
    /// envelope with upstream status 500).
    pub fn fail_next(&self, calls: u32, status: u16) {
        let status = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
        self.state().fail_next = (calls > 0).then_some((calls, status));
    }

    /// Answers one request, without latency: the whole fake as a function.
    pub fn handle(&self, request: &http::Request<Bytes>) -> http::Response<Bytes> {
        let now = self.shared.clock.now();
        let mut state = self.state();
        let response = handlers::handle(&self.shared.config, &mut state, now, request);
        let operation = handlers::operation(request.uri().path());
        state.record(FakeRequest {
            method: request.method().clone(),
            path: request.uri().path().to_owned(),
            operation,
            status: response.status().as_u16(),
        });
        state.prune(now);
        response
    }
}

#[async_trait]
impl HttpTransport for FakeThoughtSpot {
    async fn send(&self, request: http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError> {
        let response = self.handle(&request);
        let latency = self.state().latency;
        if !latency.is_zero() {
            self.shared.clock.sleep(latency).await;
        }
        Ok(response)
    }
}

impl fmt::Debug for FakeThoughtSpot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state();
        f.debug_struct("FakeThoughtSpot")
            .field("users", &self.shared.config.users.keys().collect::<Vec<_>>())
            .field("trusted_auth", &self.shared.config.secret_key.is_some())
            .field("sessions", &state.sessions.len())
            .field("tokens", &state.tokens.len())
            .field("requests", &state.log.len())
            .finish_non_exhaustive()
    }
}

/// Describes a [`FakeThoughtSpot`].
#[derive(Debug)]
pub struct FakeThoughtSpotBuilder {
    users: Vec<FakeUser>,
    secret_key: Option<SecretKey>,
    objects: Vec<String>,
    release_version: String,
    token_lifetime: Duration,
    max_token_lifetime: Duration,
    session_lifetime: Duration,
    expiry_format: ExpiryFormat,
    generations: ApiGenerations,
    cors_origins: Vec<String>,
    clock: Option<ManualClock>,
}

impl Default for FakeThoughtSpotBuilder {
    fn default() -> Self {
        Self {
            users: Vec::new(),
            secret_key: None,
            objects: Vec::new(),
            release_version: "9.12.0.cl".to_owned(),
            token_lifetime: Duration::from_secs(300),
            max_token_lifetime: Duration::from_secs(30 * 24 * 3600),
            session_lifetime: Duration::from_secs(1800),
            expiry_format: ExpiryFormat::Seconds,
            generations: ApiGenerations::Both,
            cors_origins: Vec::new(),
            clock: None,
        }
    }
}

impl FakeThoughtSpotBuilder {
    /// Adds a user (a later user of the same name replaces an earlier one).
    #[must_use]
    pub fn user(mut self, user: FakeUser) -> Self {
        self.users.push(user);
        self
    }

    /// Turns on trusted authentication with this secret key.
    #[must_use]
    pub fn secret_key(mut self, key: impl Into<SecretKey>) -> Self {
        self.secret_key = Some(key.into());
        self
    }

    /// A Liveboard or visualization GUID that `REPORT_BOOK_VIEW` tokens may open.
    #[must_use]
    pub fn object(mut self, guid: impl Into<String>) -> Self {
        self.objects.push(guid.into());
        self
    }

    /// `releaseVersion` in the session info.
    #[must_use]
    pub fn release_version(mut self, version: impl Into<String>) -> Self {
        self.release_version = version.into();
        self
    }

    /// The lifetime of a token issued without `tokenExpiryDuration` (default 300 s).
    #[must_use]
    pub fn token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = lifetime;
        self
    }

    /// The lifetime of a cookie session (default 30 minutes).
    #[must_use]
    pub fn session_lifetime(mut self, lifetime: Duration) -> Self {
        self.session_lifetime = lifetime;
        self
    }

    /// How `tokenExpiryDuration` is written (default seconds, as the specification says).
    #[must_use]
    pub fn expiry_format(mut self, format: ExpiryFormat) -> Self {
        self.expiry_format = format;
        self
    }

    /// Which API generations the fake serves (default both).
    #[must_use]
    pub fn generations(mut self, generations: ApiGenerations) -> Self {
        self.generations = generations;
        self
    }

    /// Allows `origin` (exactly, e.g. `http://localhost:3000`) by CORS, as a cluster's
    /// allow-list does: its requests get their origin echoed with credentials, and its
    /// preflights the methods and headers the Visual Embed SDK sends. Repeatable. With none,
    /// no CORS header is sent.
    #[must_use]
    pub fn cors_origin(mut self, origin: impl Into<String>) -> Self {
        self.cors_origins.push(origin.into());
        self
    }

    /// The virtual clock to run on (default a new [`ManualClock`]); share one with the
    /// code under test.
    #[must_use]
    pub fn clock(mut self, clock: ManualClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// The fake cluster.
    pub fn build(self) -> FakeThoughtSpot {
        FakeThoughtSpot {
            shared: Arc::new(Shared {
                config: Config {
                    users: self.users.into_iter().map(|u| (u.name.clone(), u)).collect(),
                    secret_key: self.secret_key,
                    objects: self.objects.into_iter().collect(),
                    release_version: self.release_version,
                    token_lifetime: self.token_lifetime,
                    max_token_lifetime: self.max_token_lifetime,
                    session_lifetime: self.session_lifetime,
                    expiry_format: self.expiry_format,
                    generations: self.generations,
                    cors_origins: self.cors_origins,
                },
                clock: self.clock.unwrap_or_default(),
                state: Mutex::new(State::default()),
            }),
        }
    }
}
