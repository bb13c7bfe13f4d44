//! What a fake cluster remembers: sessions, tokens, faults and the request log.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};
use thoughtspot_session_core::{AccessLevel, AccessToken};

/// A token the fake issued.
#[derive(Clone, Debug)]
pub struct FakeToken {
    /// The token (its `Debug` is redacted).
    pub token: AccessToken,
    /// The user it was issued for.
    pub user: String,
    /// Its access level.
    pub access_level: AccessLevel,
    /// The object a `REPORT_BOOK_VIEW` token opens.
    pub object_id: Option<String>,
    /// The org it is scoped to.
    pub org_id: u64,
    /// When it was issued (virtual time).
    pub created_at: SystemTime,
    /// When it expires (virtual time).
    pub expires_at: SystemTime,
    /// Whether revoke token revoked it.
    pub revoked: bool,
    /// A custom token's rules as the request sent them (`persist_option`, `filter_rules`,
    /// `parameter_values`, `variable_values`, `objects`), for a test to assert.
    pub rules: Option<serde_json::Value>,
    /// The groups the token request put the user in (JIT provisioning): `group_identifiers`
    /// of `token/full` and `token/object`, the identifiers of `token/custom`'s `groups`.
    pub groups: Vec<String>,
}

impl FakeToken {
    /// Usable at `now`: not revoked and not expired.
    pub fn is_valid_at(&self, now: SystemTime) -> bool {
        !self.revoked && now < self.expires_at
    }
}

/// A cookie session the fake holds. Its `Debug` redacts the token it was opened with.
#[derive(Clone)]
pub struct FakeSession {
    /// The user signed in.
    pub user: String,
    /// The org of the session.
    pub org_id: u64,
    /// When it started (virtual time).
    pub created_at: SystemTime,
    /// When it ends unless logged out first (virtual time).
    pub expires_at: SystemTime,
    /// `true` when it was opened with a bearer token rather than a password.
    pub from_token: bool,
    pub(crate) token: Option<String>,
}

impl std::fmt::Debug for FakeSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeSession")
            .field("user", &self.user)
            .field("org_id", &self.org_id)
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .field("from_token", &self.from_token)
            .field("token", &self.token.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

/// One request the fake answered, without headers or body (they hold credentials).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeRequest {
    /// The HTTP method.
    pub method: http::Method,
    /// The path.
    pub path: String,
    /// The operation, when the path is one of the Session API's.
    pub operation: Option<&'static str>,
    /// The status the fake answered.
    pub status: u16,
}

/// How many requests the fake keeps for [`requests`](crate::FakeThoughtSpot::requests); the
/// counts ([`count`](crate::FakeThoughtSpot::count)) cover every request.
pub const REQUEST_LOG: usize = 10_000;

/// How long a token or session is kept after it ended (expired; a revoked token once its
/// expiry passed too), on the fake's clock: long enough for a test to look at it, short
/// enough that a load test does not grow the fake without bound.
pub const ENDED_RETENTION: std::time::Duration = std::time::Duration::from_secs(600);

/// Below this many tokens and sessions the fake never prunes.
const PRUNE_FLOOR: usize = 4096;

#[derive(Debug)]
pub(crate) struct State {
    pub(crate) sessions: HashMap<String, FakeSession>,
    pub(crate) tokens: HashMap<String, FakeToken>,
    /// The last [`REQUEST_LOG`] requests, oldest first.
    pub(crate) log: std::collections::VecDeque<FakeRequest>,
    /// Requests answered per operation, over the fake's whole life.
    pub(crate) counts: HashMap<&'static str, usize>,
    /// Tokens and sessions held when they were last pruned: the next prune comes when
    /// twice as many are held (amortised O(1) a request).
    pub(crate) prune_at: usize,
    pub(crate) outage: bool,
    pub(crate) latency: Duration,
    pub(crate) fail_next: Option<(u32, http::StatusCode)>,
    pub(crate) counter: u64,
    /// Trusted authentication on the cluster, as configure set it (on by default).
    pub(crate) trusted_auth_cluster: bool,
    /// Trusted authentication per org, as configure set it.
    pub(crate) trusted_auth_orgs: std::collections::BTreeMap<u64, bool>,
}

impl Default for State {
    fn default() -> Self {
        Self {
            sessions: HashMap::new(),
            tokens: HashMap::new(),
            log: std::collections::VecDeque::new(),
            counts: HashMap::new(),
            prune_at: PRUNE_FLOOR,
            outage: false,
            latency: Duration::ZERO,
            fail_next: None,
            counter: 0,
            trusted_auth_cluster: true,
            trusted_auth_orgs: std::collections::BTreeMap::new(),
        }
    }
}

impl State {
    /// A fresh id: unique in this fake, unpredictable across fakes.
    pub(crate) fn fresh_id(&mut self, prefix: &str) -> String {
        self.counter += 1;
        let mut id = String::with_capacity(prefix.len() + 36);
        id.push_str(prefix);
        id.push_str(itoa::Buffer::new().format(self.counter));
        push_hex(&mut id, fastrand::u64(..), 16);
        id
    }

    /// A fresh GUID-shaped id for incidents and traces (not on the fast path).
    pub(crate) fn fresh_guid(&mut self) -> String {
        self.counter += 1;
        let r = fastrand::u64(..);
        format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            r >> 32,
            r & 0xffff,
            (r >> 16) & 0xfff,
            (r >> 28) & 0xfff,
            self.counter
        )
    }
}

/// Appends the low `digits` hex digits of `value`.
fn push_hex(out: &mut String, value: u64, digits: u32) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for shift in (0..digits).rev() {
        out.push(char::from(HEX[((value >> (shift * 4)) & 0xf) as usize]));
    }
}

impl State {
    /// Records a request: in the ring of the last [`REQUEST_LOG`], and in the counts.
    pub(crate) fn record(&mut self, request: FakeRequest) {
        if let Some(operation) = request.operation {
            *self.counts.entry(operation).or_default() += 1;
        }
        if self.log.len() == REQUEST_LOG {
            self.log.pop_front();
        }
        self.log.push_back(request);
    }

    /// Forgets tokens and sessions that ended more than [`ENDED_RETENTION`] before `now`,
    /// when enough are held for it to be due.
    pub(crate) fn prune(&mut self, now: std::time::SystemTime) {
        let held = self.tokens.len() + self.sessions.len();
        if held < self.prune_at {
            return;
        }
        let kept = |expires_at: std::time::SystemTime| {
            expires_at
                .checked_add(ENDED_RETENTION)
                .is_none_or(|until| now < until)
        };
        self.tokens.retain(|_, t| kept(t.expires_at));
        self.sessions.retain(|_, s| kept(s.expires_at));
        self.prune_at = PRUNE_FLOOR.max(2 * (self.tokens.len() + self.sessions.len()));
    }
}
