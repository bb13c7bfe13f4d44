//! The identity provider's key set as the service holds it: fetched by a task of its own,
//! never inside a caller's request, one fetch at a time, fresh for as long as the
//! provider's `Cache-Control` says (within the configured bounds).
//!
//! The bounds, with `min` for `jwks_min_refresh_secs` and `max` for `jwks_max_age_secs`:
//!
//! - **Fetches.** At most one starts per `min`, whatever callers send; one in flight ends
//!   within [`JWKS_TIMEOUT`], whether or not the caller
//!   that started it is still there.
//! - **Waits.** A caller whose token names a key not held joins the fetch in flight (or
//!   starts one, when `min` allows) and waits for it at most [`JOIN_WAIT`]; callers
//!   arriving meanwhile wait for the same fetch, none is refused for arriving second.
//! - **A rotated key** (a new `kid`) is refused for at most `min` plus one fetch after the
//!   provider publishes it: the first token naming it after the window starts the fetch.
//! - **A retired key** is accepted for at most its freshness (`Cache-Control: max-age`,
//!   held within `min..=max`; `no-cache`, `no-store` or no header: `min` and `max`
//!   respectively) plus one fetch. Past three quarters of it, a request starts a refresh
//!   in the background and is served from the keys held, so callers do not wait for it.

use bytes::Bytes;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use thoughtspot_session_core::HttpTransport;
use tokio::sync::watch;

use crate::identity::{JWKS_TIMEOUT, MAX_JWKS_LEN};

/// The longest a caller waits for the key fetch in flight: the fetch's own bound, and a
/// little for the task to be scheduled.
pub const JOIN_WAIT: Duration = Duration::from_millis(JWKS_TIMEOUT.as_millis() as u64 + 500);

/// A published signing key, with the one algorithm it verifies.
pub(crate) struct Key {
    pub(crate) key: DecodingKey,
    pub(crate) algorithm: Algorithm,
}

/// Counts of key fetches, for the metrics.
#[derive(Debug, Default)]
pub struct FetchCounts {
    /// Fetches that brought a key set.
    pub ok: AtomicU64,
    /// Fetches that failed.
    pub failed: AtomicU64,
}

#[derive(Default)]
struct Keys {
    by_kid: HashMap<String, Arc<Key>>,
    /// Keys with no `kid`, tried when a token names none.
    anonymous: Vec<Arc<Key>>,
    fetched_at: Option<Instant>,
    /// How long the set is fresh for, from the provider's `Cache-Control`.
    fresh_for: Duration,
}

/// What a lookup found.
pub(crate) struct Found {
    pub(crate) key: Option<Arc<Key>>,
    /// Past its freshness: to be fetched again before use, when the refresh limit allows.
    pub(crate) stale: bool,
}

/// The key set, its fetches and their single flight.
pub(crate) struct KeyRing {
    url: String,
    min_refresh: Duration,
    max_age: Duration,
    transport: Arc<dyn HttpTransport>,
    keys: RwLock<Keys>,
    /// When the last fetch started, and the fetch in flight (`true` once it has ended).
    flight: Mutex<(Option<Instant>, Option<watch::Receiver<bool>>)>,
    pub(crate) fetches: FetchCounts,
}

impl KeyRing {
    pub(crate) fn new(
        url: String,
        min_refresh: Duration,
        max_age: Duration,
        transport: Arc<dyn HttpTransport>,
    ) -> Self {
        KeyRing {
            url,
            min_refresh,
            max_age: max_age.max(min_refresh),
            transport,
            keys: RwLock::new(Keys::default()),
            flight: Mutex::new((None, None)),
            fetches: FetchCounts::default(),
        }
    }

    /// Whether a key set has ever been fetched.
    pub(crate) fn has_keys(&self) -> bool {
        self.keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .fetched_at
            .is_some()
    }

    /// The key a token names (by `kid`, or by algorithm among the keys without one), and
    /// whether the set is stale.
    pub(crate) fn lookup(self: &Arc<Self>, kid: Option<&str>, alg: Algorithm) -> Found {
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        let key = match kid {
            Some(kid) => keys.by_kid.get(kid).cloned(),
            None => keys.anonymous.iter().find(|k| k.algorithm == alg).cloned(),
        };
        let stale = self.age_check(&keys);
        Found { key, stale }
    }

    /// Whether `key` is still published under `kid` in a set that is still fresh (a
    /// remembered verification holds while it is).
    pub(crate) fn still_published(self: &Arc<Self>, kid: Option<&str>, key: &Arc<Key>) -> bool {
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        let published = match kid {
            Some(kid) => keys.by_kid.get(kid).is_some_and(|k| Arc::ptr_eq(k, key)),
            None => keys.anonymous.iter().any(|k| Arc::ptr_eq(k, key)),
        };
        published && !self.age_check(&keys)
    }

    /// Whether `keys` are stale; past three quarters of their freshness a refresh starts
    /// in the background, so that callers are served from the keys held meanwhile.
    fn age_check(self: &Arc<Self>, keys: &Keys) -> bool {
        let Some(age) = keys.fetched_at.map(|at| at.elapsed()) else {
            return true;
        };
        if age >= keys.fresh_for {
            return true;
        }
        if age >= keys.fresh_for / 4 * 3 {
            let _ = self.begin();
        }
        false
    }

    /// The fetch in flight, or a new one when the refresh limit allows; `None` when
    /// neither. The fetch is a task of its own: dropping the caller does not stop it.
    pub(crate) fn begin(self: &Arc<Self>) -> Option<watch::Receiver<bool>> {
        let mut flight = self.flight.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(running) = &flight.1
            && !*running.borrow()
        {
            return Some(running.clone());
        }
        if flight.0.is_some_and(|at| at.elapsed() < self.min_refresh) {
            return None;
        }
        let (done, running) = watch::channel(false);
        *flight = (Some(Instant::now()), Some(running.clone()));
        let ring = self.clone();
        tokio::spawn(async move {
            ring.fetch().await;
            let _ = done.send(true);
        });
        Some(running)
    }

    /// Waits for the fetch in flight to end, at most [`JOIN_WAIT`].
    pub(crate) async fn join(mut running: watch::Receiver<bool>) {
        let _ = tokio::time::timeout(JOIN_WAIT, running.wait_for(|done| *done)).await;
    }

    /// Fetches the key set now; a failure keeps the keys held.
    async fn fetch(&self) {
        match self.fetch_set().await {
            Ok((set, fresh_for)) => {
                let mut fresh = Keys {
                    fetched_at: Some(Instant::now()),
                    fresh_for,
                    ..Keys::default()
                };
                for jwk in &set.keys {
                    if jwk
                        .common
                        .public_key_use
                        .as_ref()
                        .is_some_and(|u| !matches!(u, jsonwebtoken::jwk::PublicKeyUse::Signature))
                    {
                        continue;
                    }
                    let (Some(algorithm), Ok(key)) = (algorithm_of(jwk), DecodingKey::from_jwk(jwk)) else {
                        continue;
                    };
                    let key = Arc::new(Key { key, algorithm });
                    match &jwk.common.key_id {
                        Some(kid) => {
                            fresh.by_kid.insert(kid.clone(), key);
                        }
                        None => fresh.anonymous.push(key),
                    }
                }
                self.fetches.ok.fetch_add(1, Relaxed);
                tracing::info!(
                    keys = fresh.by_kid.len() + fresh.anonymous.len(),
                    fresh_secs = fresh_for.as_secs(),
                    "fetched the identity provider's keys"
                );
                *self.keys.write().unwrap_or_else(|e| e.into_inner()) = fresh;
            }
            Err(why) => {
                self.fetches.failed.fetch_add(1, Relaxed);
                tracing::warn!(reason = %why, "could not fetch the identity provider's keys");
            }
        }
    }

    async fn fetch_set(&self) -> Result<(JwkSet, Duration), String> {
        let request = http::Request::get(&self.url)
            .header(http::header::ACCEPT, "application/json")
            .body(Bytes::new())
            .map_err(|e| format!("bad JWKS URL: {e}"))?;
        let response = tokio::time::timeout(JWKS_TIMEOUT, self.transport.send(request))
            .await
            .map_err(|_| format!("no answer within {JWKS_TIMEOUT:?}"))?
            .map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("the JWKS URL answered {}", response.status()));
        }
        let fresh_for = self.freshness(response.headers().get_all(http::header::CACHE_CONTROL));
        let body = response.body();
        if body.len() > MAX_JWKS_LEN {
            return Err(format!("the key set is over {MAX_JWKS_LEN} bytes"));
        }
        let set = serde_json::from_slice(body).map_err(|e| format!("the key set is not a JWKS: {e}"))?;
        Ok((set, fresh_for))
    }

    /// How long a key set answered with these `Cache-Control` values stays fresh:
    /// `max-age` held within `min_refresh..=max_age`; `no-cache` or `no-store`,
    /// `min_refresh`; neither, `max_age`.
    fn freshness(&self, values: http::header::GetAll<'_, http::HeaderValue>) -> Duration {
        let mut max_age = None;
        for directive in values
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
        {
            let lower = directive.to_ascii_lowercase();
            if lower == "no-cache" || lower == "no-store" {
                return self.min_refresh;
            }
            if let Some(secs) = lower.strip_prefix("max-age=") {
                // An unreadable max-age is taken as stale (RFC 9111 §4.2.1).
                let secs = secs.trim_matches('"').parse::<u64>().unwrap_or(0);
                max_age = Some(max_age.map_or(secs, |m: u64| m.min(secs)));
            }
        }
        match max_age {
            Some(secs) => Duration::from_secs(secs).clamp(self.min_refresh, self.max_age),
            None => self.max_age,
        }
    }
}

fn algorithm_of(jwk: &jsonwebtoken::jwk::Jwk) -> Option<Algorithm> {
    if let Some(alg) = jwk.common.key_algorithm {
        return match alg {
            KeyAlgorithm::RS256 => Some(Algorithm::RS256),
            KeyAlgorithm::RS384 => Some(Algorithm::RS384),
            KeyAlgorithm::RS512 => Some(Algorithm::RS512),
            KeyAlgorithm::PS256 => Some(Algorithm::PS256),
            KeyAlgorithm::PS384 => Some(Algorithm::PS384),
            KeyAlgorithm::PS512 => Some(Algorithm::PS512),
            KeyAlgorithm::ES256 => Some(Algorithm::ES256),
            KeyAlgorithm::ES384 => Some(Algorithm::ES384),
            KeyAlgorithm::EdDSA => Some(Algorithm::EdDSA),
            _ => None,
        };
    }
    match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Some(Algorithm::RS256),
        AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
            EllipticCurve::P256 => Some(Algorithm::ES256),
            EllipticCurve::P384 => Some(Algorithm::ES384),
            _ => None,
        },
        AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => {
            Some(Algorithm::EdDSA)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring() -> KeyRing {
        let transport: Arc<dyn HttpTransport> = Arc::new(thoughtspot_session_mock::MockTransport::new());
        KeyRing::new(
            String::new(),
            Duration::from_secs(30),
            Duration::from_secs(3600),
            transport,
        )
    }

    fn fresh(values: &[&str]) -> u64 {
        let mut headers = http::HeaderMap::new();
        for v in values {
            headers.append(http::header::CACHE_CONTROL, v.parse().unwrap());
        }
        ring()
            .freshness(headers.get_all(http::header::CACHE_CONTROL))
            .as_secs()
    }

    #[test]
    fn cache_control_sets_freshness_within_the_configured_bounds() {
        assert_eq!(fresh(&[]), 3600, "no header: the configured maximum");
        assert_eq!(fresh(&["public, max-age=600"]), 600);
        assert_eq!(fresh(&["max-age=5"]), 30, "not under the refresh limit");
        assert_eq!(fresh(&["max-age=86400"]), 3600, "not over the configured maximum");
        assert_eq!(
            fresh(&["max-age=900", "max-age=300"]),
            300,
            "the least of several"
        );
        assert_eq!(fresh(&["Max-Age=\"120\""]), 120);
        assert_eq!(fresh(&["max-age=soon"]), 30, "unreadable is stale");
        assert_eq!(fresh(&["no-cache"]), 30);
        assert_eq!(fresh(&["max-age=600, no-store"]), 30);
    }
}
