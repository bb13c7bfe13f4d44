//! When a cached token is checked at the cluster before it is served again: the Visual
//! Embed SDK refuses a token it saw fail as a "duplicate token", so one revoked behind the
//! service's back (by an administrator, an org change) must be replaced, not served again.
//!
//! A token is due for a check when it was not fetched by the request that serves it, is
//! older than the recheck time, and was not checked within it. Checks are remembered by a
//! keyed hash of the token (never the token), for at most [`REMEMBERED`] tokens.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};
use thoughtspot_session_core::ManagedToken;

/// Tokens whose last check is remembered at most; past it the stale ones are forgotten
/// (and, if none is, all: each is then checked once more).
pub const REMEMBERED: usize = 100_000;

/// The recheck rule and the checks made.
#[derive(Debug)]
pub struct Recheck {
    after: Duration,
    hasher: RandomState,
    checked: Mutex<HashMap<u64, Instant>>,
}

impl Recheck {
    /// Tokens older than `after` are checked before they are served again, at most once per
    /// `after` each.
    pub fn new(after: Duration) -> Self {
        Self {
            after,
            hasher: RandomState::new(),
            checked: Mutex::new(HashMap::new()),
        }
    }

    /// The recheck time.
    pub fn after(&self) -> Duration {
        self.after
    }

    /// Whether `token`, about to be served by a request that began at `began`, is to be
    /// checked first; if so, the check is counted as made now (concurrent requests serve
    /// it meanwhile rather than each asking the cluster).
    pub fn due(&self, token: &ManagedToken, began: SystemTime) -> bool {
        // Fetched by this request, or younger than the recheck time: fresh from the cluster.
        if token.issued_at() >= began
            || began
                .duration_since(token.issued_at())
                .is_ok_and(|age| age < self.after)
        {
            return false;
        }
        let id = self.hasher.hash_one(token.token().secret());
        let now = Instant::now();
        // Single inserts and removes: a poisoned map is whole.
        let mut checked = self.checked.lock().unwrap_or_else(|p| p.into_inner());
        if checked
            .get(&id)
            .is_some_and(|at| now.duration_since(*at) < self.after)
        {
            return false;
        }
        if checked.len() >= REMEMBERED && !checked.contains_key(&id) {
            checked.retain(|_, at| now.duration_since(*at) < self.after);
            if checked.len() >= REMEMBERED {
                checked.clear();
            }
        }
        checked.insert(id, now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use thoughtspot_session_core::AccessToken;

    fn token(secret: &str, age: Duration) -> (ManagedToken, SystemTime) {
        let now = SystemTime::now();
        let issued = now - age;
        (
            ManagedToken::new(
                AccessToken::from(secret),
                issued,
                issued + Duration::from_secs(3600),
            ),
            now,
        )
    }

    #[test]
    fn a_token_is_checked_once_it_is_older_than_the_recheck_time_and_then_once_per_it() {
        let recheck = Recheck::new(Duration::from_secs(10));
        let (young, now) = token("young", Duration::from_secs(5));
        assert!(!recheck.due(&young, now), "younger than the recheck time");
        let (old, now) = token("old", Duration::from_secs(11));
        assert!(recheck.due(&old, now), "older: checked");
        assert!(!recheck.due(&old, now), "and not again within the recheck time");
        let (other, now) = token("other", Duration::from_secs(11));
        assert!(recheck.due(&other, now), "each token on its own");
        let every = Recheck::new(Duration::ZERO);
        let (fetched, now) = token("fetched", Duration::ZERO);
        assert!(!every.due(&fetched, now), "fetched by this request");
        let (again, now) = token("again", Duration::from_millis(1));
        assert!(
            every.due(&again, now) && every.due(&again, now),
            "0: every repeat"
        );
    }
}
