//! `TokenManager`: cached, single-flight trusted-authentication tokens for a token service.
//!
//! The manager and its requests live here; beside it: its builder, what a token is for
//! (`key`), the in-process cache, single flight, the shared-store seam (`store`) and
//! protocol (`shared`), expiry, and the counters.

mod breaker;
mod builder;
mod cache;
mod expiry;
mod flight;
mod key;
mod mint;
mod removals;
mod rules;
mod shared;
mod stats;
mod store;

pub use builder::TokenManagerBuilder;
pub use expiry::{MAX_TOKEN_LIFETIME, TOKEN_CLOCK_TOLERANCE};
pub use key::{ManagedToken, TokenKey};
pub use rules::TokenRules;
pub use stats::TokenManagerStats;
pub use store::{Lease, StoreFailure, TokenStore};

/// What [`TokenManager::invalidate`] and [`TokenManager::evict`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Removal {
    /// A cached (or stored) token was removed.
    Removed,
    /// No token was cached for the key (or the one named was already replaced).
    NotCached,
    /// The shared store could not take the removal now: this replica remembers it, never
    /// serves the token meanwhile, and its background task (the builder's
    /// [`spawn`](TokenManagerBuilder::spawn)) makes the removal, and the revocation, once the
    /// store answers again: within `store_retry` of that, plus two store calls a key and
    /// one revocation a token, never on a user's request.
    Deferred,
}

impl Removal {
    /// Whether a token was removed ([`Removed`](Self::Removed)).
    pub fn removed(self) -> bool {
        self == Removal::Removed
    }
}

use crate::api::SessionApi;
use crate::error::Error;
use crate::model::GetTokenRequest;
use crate::secret::{AccessToken, SecretKey};
use crate::time::{Clock, SystemClock};
use breaker::Admit;
use cache::{Leader, Slot, State};
use expiry::local_expiry;
use flight::{Flight, Join};
use removals::Revoke;
use stats::{Counters, bump};
use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Tokens for a token service: cached per [`TokenKey`] while they stay valid, fetched once
/// for any number of concurrent requests, bounded, invalidated on demand. Works over any
/// [`SessionApi`] and the injected clock; needs no runtime. Cheap to clone.
///
/// # Guide
///
/// A trusted-authentication token service signs its own users in, asks the cluster for a
/// token for each with the secret key, and hands the token to the embedding front end.
///
/// - **Lifetime.** Ask for a lifetime a little longer than a front-end page lives, e.g. 5 to
///   15 minutes ([`TokenManagerBuilder::token_lifetime`]); a long-lived token is a long-lived
///   credential in a browser. The manager serves a cached token only while it stays valid
///   for longer than the skew margin (default 60 s), so the front end never receives a token
///   about to expire.
/// - **Cache or mint.** Caching per user is right when the front end accepts a token it has
///   seen before; concurrent requests for one user then share one get token call. Some
///   embedding set-ups refuse a token twice: turn on
///   [`fresh_every_time`](TokenManagerBuilder::fresh_every_time). When the front end reports
///   a rejected token, pass that token to [`refresh`](TokenManager::refresh) (or
///   [`invalidate`](TokenManager::invalidate)): it acts only while that token is still the
///   cached one, so two tabs reporting the same token make one new token, not two.
/// - **Clocks.** Freshness is measured on the manager's clock alone: a token counts as
///   expiring at the local time its request was sent plus the lifetime the cluster
///   answered. The cluster's own clock, which may be hours off, only ever shortens that, by
///   at most [`TOKEN_CLOCK_TOLERANCE`].
/// - **Orgs.** Where orgs are enabled a token is scoped to one org: make the org part of the
///   key ([`TokenKey::with_org_id`]); tokens of two orgs never mix.
/// - **Sign-out.** When a user signs out of your application, [`evict`](TokenManager::evict)
///   their keys with revocation on
///   ([`revoke_on_invalidate`](TokenManagerBuilder::revoke_on_invalidate)), so the token
///   stops working on the cluster too. Revocation is best-effort: a failure is counted in
///   [`TokenManagerStats::revoke_errors`] and logged, never returned (a rejected token is
///   usually expired or revoked already, and the cluster then refuses to revoke it).
///
/// # Scaling out
///
/// One process is enough while one replica of the service carries the load: the manager
/// caches in memory. Run several replicas behind a load balancer and each would fetch its
/// own token for every user, and a token invalidated on one would still be served by the
/// others. Give them a shared [`TokenStore`] ([`TokenManagerBuilder::store`]; the
/// `thoughtspot-session-redis` crate has one on Redis, with a [`Sleep`](crate::Sleep) and a
/// [`Spawn`](crate::Spawn)) and:
///
/// - **what is shared**: the tokens and a fetch lease per key. A replica that finds no
///   servable token takes the key's lease and fetches; the others wait for the token to
///   appear in the store, polling every [`store_poll`](TokenManagerBuilder::store_poll). The
///   replicas keep no copy: every request reads the store, so once [`invalidate`](Self::invalidate),
///   [`refresh`](Self::refresh) or [`evict`](Self::evict) returns, no replica serves the old
///   token. A stored token lives until its expiry minus the skew.
/// - **what is encrypted**: whatever the store does; the Redis store seals each token with
///   ChaCha20-Poly1305 under the application's keys.
/// - **when the store fails** (an error or its timeout): by default the replica fetches on
///   its own, still joining its own concurrent requests, caches nothing, and counts it
///   ([`TokenManagerStats::store_errors`], [`TokenManagerStats::store_fallbacks`]); with
///   [`StoreFailure::Fail`] the request fails with [`Error::Store`]. The next request asks
///   the store again, so sharing resumes as soon as it answers. A token invalidated while
///   the store fails is not served again by this replica.
/// - **a replica that dies while fetching** holds the key's lease until it lapses
///   ([`lease_time`](TokenManagerBuilder::lease_time), 15 s): the others wait that long at
///   most, then one of them fetches.
/// - **clocks**: a stored token's expiry is on the clock of the replica that fetched it;
///   keep the replicas' clocks within a fraction of the skew of each other (NTP does).
///
/// ```
/// use thoughtspot_session_core::{TokenKey, TokenManager};
/// use thoughtspot_session_mock::{FakeThoughtSpot, FakeUser};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let fake = FakeThoughtSpot::builder().user(FakeUser::new("analyst", "pw")).secret_key("key").build();
/// let manager = TokenManager::builder(fake.client(), "key")
///     .clock(fake.clock().clone())
///     .revoke_on_invalidate(true)
///     .build()
///     .unwrap();
///
/// let key = TokenKey::new("analyst");
/// let first = manager.token(&key).await.unwrap();
/// let again = manager.token(&key).await.unwrap();
/// assert_eq!(first.token(), again.token()); // cached
/// assert_eq!(manager.stats().fetches, 1);
///
/// // The front end rejected `first`: the next token is a new one.
/// let second = manager.refresh(&key, first.token()).await.unwrap();
/// assert_ne!(second.token(), first.token());
/// // A second report of the same rejected token keeps `second`.
/// assert_eq!(manager.refresh(&key, first.token()).await.unwrap().token(), second.token());
///
/// assert!(manager.evict(&key).await.removed()); // sign-out: revoked on the cluster too
/// assert!(fake.live_tokens().is_empty());
/// # }
/// ```
pub struct TokenManager<S> {
    inner: Arc<Inner<S>>,
}

impl<S> Clone for TokenManager<S> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

struct Inner<S> {
    /// The shared store, when the tokens live there.
    shared: Option<Arc<shared::Shared>>,
    api: S,
    secret_key: SecretKey,
    clock: Arc<dyn Clock>,
    skew: Duration,
    lifetime: Option<Duration>,
    fallback_lifetime: Duration,
    max_keys: usize,
    fresh_every_time: bool,
    revoke: Option<Revoke>,
    state: Mutex<State>,
    counters: Arc<Counters>,
}

impl<S> Inner<S> {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Every update below is completed before the guard drops; a panic cannot leave a
        // half-written entry, so a poisoned lock is used as it is.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

enum Next {
    Serve(ManagedToken),
    Join(Arc<Flight>),
    /// Run the fetch; with the token this process had cached (not served: the store
    /// decides), kept in case the store fails.
    Lead(Arc<Flight>, Option<ManagedToken>),
}

impl<S: SessionApi> TokenManager<S> {
    /// A manager that gets tokens from `api` with the trusted-authentication `secret_key`.
    pub fn builder(api: S, secret_key: impl Into<SecretKey>) -> TokenManagerBuilder<S> {
        TokenManagerBuilder {
            api,
            secret_key: secret_key.into(),
            clock: Arc::new(SystemClock),
            skew: Duration::from_secs(60),
            lifetime: None,
            fallback_lifetime: None,
            max_keys: 10_000,
            fresh_every_time: false,
            revoke: None,
            store: None,
            sleep: None,
            spawn: None,
            on_store_failure: StoreFailure::default(),
            lease_time: Duration::from_secs(15),
            store_poll: Duration::from_millis(25),
            store_wait: None,
            store_retry: Duration::from_secs(1),
        }
    }

    /// A token for `key`: the cached one while it stays valid for longer than the skew
    /// margin, else a new one. Concurrent requests for one key share one get token call;
    /// its failure reaches every one of them and is not cached.
    pub async fn token(&self, key: &TokenKey) -> Result<ManagedToken, Error> {
        let inner = &*self.inner;
        if inner.fresh_every_time {
            bump(&inner.counters.misses);
            return self.fetch(key).await;
        }
        // With a store: use it, or (while it is taken as down) this process's memory, or
        // probe it, one request at a time, once its back-off window has passed.
        let admit = inner.shared.as_ref().map(|s| s.breaker.admit(inner.clock.now()));
        let in_memory = matches!(admit, None | Some(Admit::Skip));
        if admit == Some(Admit::Skip) {
            bump(&inner.counters.store_skips);
        }
        // A probe cancelled before the store answered must not leave the breaker waiting for
        // it forever: the guard lets the next request probe instead.
        let _probe = match (&inner.shared, admit) {
            (Some(shared), Some(Admit::Probe)) => Some(breaker::ProbeGuard(&shared.breaker)),
            _ => None,
        };
        loop {
            let next = {
                let now = inner.clock.now();
                let mut state = inner.lock();
                state.tick += 1;
                let tick = state.tick;
                let State { entries, lru, .. } = &mut *state;
                match entries.get_mut(key) {
                    Some(Slot::Ready { token, used })
                        if in_memory && now.checked_add(inner.skew).is_some_and(|t| token.expires_at > t) =>
                    {
                        // The key moves to its new place: a hit clones no key.
                        let moved = lru.remove(used).unwrap_or_else(|| key.clone());
                        lru.insert(tick, moved);
                        *used = tick;
                        Next::Serve(token.clone())
                    }
                    Some(Slot::Pending(flight)) => Next::Join(flight.clone()),
                    stale => {
                        let mut spare = None;
                        if let Some(Slot::Ready { used, token }) = stale {
                            lru.remove(used);
                            spare = Some(token.clone());
                        }
                        let flight = Arc::new(Flight::default());
                        entries.insert(key.clone(), Slot::Pending(flight.clone()));
                        Next::Lead(flight, spare)
                    }
                }
            };
            match next {
                Next::Serve(token) => {
                    bump(&inner.counters.hits);
                    return Ok(token);
                }
                Next::Join(flight) => {
                    bump(&inner.counters.joined);
                    if let Some(result) = Join(flight).await {
                        return result;
                    }
                    // The fetch was abandoned: look again (and perhaps run it).
                }
                Next::Lead(flight, spare) => {
                    bump(&inner.counters.misses);
                    let mut leader = Leader {
                        inner,
                        key,
                        flight,
                        finished: false,
                        cache: in_memory,
                    };
                    let result = match (&inner.shared, in_memory) {
                        (Some(shared), false) => {
                            let answer = self.token_from_store(shared, key, spare).await;
                            // A token fetched because the store failed is kept in memory
                            // too: served while the store is skipped, and the spare if it
                            // fails again. A store that answered some other request
                            // meanwhile (another Redis primary) changes nothing about this
                            // key: it would only be fetched again.
                            leader.cache = answer.alone || shared.breaker.is_open();
                            answer.result
                        }
                        _ => self.fetch(key).await,
                    };
                    leader.finish(result.clone());
                    return result;
                }
            }
        }
    }

    async fn fetch(&self, key: &TokenKey) -> Result<ManagedToken, Error> {
        let inner = &*self.inner;
        bump(&inner.counters.fetches);
        let sent_at = inner.clock.now();
        let answer = if key.is_shaped() {
            match mint::v2_request(key, &inner.secret_key, inner.lifetime) {
                Ok(request) => inner.api.get_v2_token(&request).await,
                Err(e) => Err(e),
            }
        } else {
            let mut request = GetTokenRequest::with_secret_key(key.user.as_str(), inner.secret_key.clone());
            if let Some(object) = &key.object_id {
                request = request.with_report_book_view(object.as_str());
            }
            if let Some(org) = &key.org {
                request = request.with_org_id(org.as_str());
            }
            if let Some(lifetime) = inner.lifetime {
                request = request.with_token_expiry(lifetime);
            }
            inner.api.get_token(&request).await
        };
        let response = match answer {
            Ok(r) => r,
            Err(e) => {
                bump(&inner.counters.errors);
                return Err(e);
            }
        };
        let expires_at = local_expiry(sent_at, &response, inner.fallback_lifetime);
        match response.into_token() {
            Some(token) => Ok(ManagedToken {
                token,
                issued_at: sent_at,
                expires_at,
            }),
            None => {
                bump(&inner.counters.errors);
                Err(crate::error::InvalidRequest::new("get token answered without a token").into())
            }
        }
    }

    /// Removes the cached token of `key` if `which` accepts it.
    fn take(&self, key: &TokenKey, which: impl FnOnce(&ManagedToken) -> bool) -> Option<ManagedToken> {
        let mut state = self.inner.lock();
        let used = match state.entries.get(key) {
            Some(Slot::Ready { token, used }) if which(token) => *used,
            _ => return None,
        };
        state.lru.remove(&used);
        match state.entries.remove(key) {
            Some(Slot::Ready { token, .. }) => Some(token),
            _ => None,
        }
    }

    /// Revokes `token` with revocation on: best-effort, a failure is counted and logged.
    async fn revoke(&self, token: ManagedToken) {
        if let Some(revoke) = &self.inner.revoke {
            removals::revoke_logged(revoke, &self.inner.counters, token.token).await;
        }
    }

    /// Forgets `rejected` if it is still the cached token of `key`, so it is never served
    /// again; with revocation on, also revokes it (best-effort). The [`Removal`] says what
    /// happened: with a shared store, [`Removal::Deferred`] when the store could not take it
    /// (this replica then never serves the token, and its task removes it from the store
    /// once the store answers). While the store cannot say whose `rejected` is, it is
    /// revoked at once only if this replica held it for `key`, else only once the store
    /// shows it stored for `key`: a token reported under another user's key is never
    /// revoked.
    ///
    /// A token another request already replaced is left alone: two reports of one rejected
    /// token invalidate once.
    pub async fn invalidate(&self, key: &TokenKey, rejected: &AccessToken) -> Removal {
        let in_memory = self.take(key, |cached| cached.token == *rejected);
        let Some(shared) = &self.inner.shared else {
            return match in_memory {
                Some(token) => {
                    self.revoke(token).await;
                    Removal::Removed
                }
                None => Removal::NotCached,
            };
        };
        match self.remove_from_store(shared, key, Some(rejected)).await {
            Ok(Some(token)) => {
                self.revoke(token).await;
                Removal::Removed
            }
            Ok(None) => match in_memory {
                Some(token) => {
                    self.revoke(token).await;
                    Removal::Removed
                }
                None => Removal::NotCached,
            },
            Err(()) => {
                // The store cannot say whose `rejected` is: it is revoked now only if this
                // replica held it for `key` (the caller's own), else once the store shows
                // it stored for `key` (by the background task).
                let revoked = in_memory.is_some();
                self.defer(
                    shared,
                    key,
                    removals::Pending::Token {
                        token: rejected.clone(),
                        revoked,
                    },
                );
                if let Some(token) = in_memory {
                    self.revoke(token).await;
                }
                Removal::Deferred
            }
        }
    }

    /// Removes `key`'s token from the store (the one named, or any); `Err` when the store
    /// failed or is taken as down (then no call is made).
    async fn remove_from_store(
        &self,
        shared: &shared::Shared,
        key: &TokenKey,
        token: Option<&AccessToken>,
    ) -> Result<Option<ManagedToken>, ()> {
        if shared.breaker.is_open() {
            return Err(());
        }
        shared
            .store
            .remove(key, token)
            .await
            .map_err(|e| self.store_error(shared, &e))
    }

    fn defer(&self, shared: &Arc<shared::Shared>, key: &TokenKey, removal: removals::Pending) {
        if !shared.removals.defer(key, removal, self.inner.max_keys) {
            tracing::warn!("too many removals wait for the token store; one is dropped (its token expires)");
        }
    }

    /// A new token in place of `rejected`, the token the front end refused: invalidates
    /// `rejected` if it is still cached (revoking it, best-effort), then returns the cached
    /// or a new token. When another request already replaced `rejected`, that replacement
    /// is returned and nothing is minted.
    pub async fn refresh(&self, key: &TokenKey, rejected: &AccessToken) -> Result<ManagedToken, Error> {
        // Deferred or not, `rejected` is never served again by this replica.
        let _ = self.invalidate(key, rejected).await;
        self.token(key).await
    }

    /// Forgets whatever token is cached for `key`, revoking it with revocation on
    /// (best-effort): for a user's sign-out. The [`Removal`] says what happened; with a
    /// shared store, [`Removal::Deferred`] when the store could not take it: this replica
    /// then serves no token of `key` issued before now, and its task removes (and revokes,
    /// exactly once) the stored one once the store answers.
    pub async fn evict(&self, key: &TokenKey) -> Removal {
        let in_memory = self.take(key, |_| true);
        if let Some(token) = in_memory.clone() {
            self.revoke(token).await;
        }
        let Some(shared) = &self.inner.shared else {
            return if in_memory.is_some() {
                Removal::Removed
            } else {
                Removal::NotCached
            };
        };
        // The stored token is read, then removed only while it is still the one read: a
        // removal whose answer is lost (a failover mid-call) has a known token to revoke.
        let stored = match self.stored_for_removal(shared, key).await {
            Ok(stored) => stored,
            Err(()) => {
                let removal = removals::Pending::IssuedBefore {
                    at: self.inner.clock.now(),
                    revoked: in_memory.map(|t| t.token).into_iter().collect(),
                };
                self.defer(shared, key, removal);
                return Removal::Deferred;
            }
        };
        let Some(stored) = stored else {
            return if in_memory.is_some() {
                Removal::Removed
            } else {
                Removal::NotCached
            };
        };
        match shared.store.remove(key, Some(&stored.token)).await {
            Ok(Some(token)) => {
                self.revoke(token).await;
                Removal::Removed
            }
            // Removed meanwhile by another removal (which revokes it), or replaced by a
            // token fetched since.
            Ok(None) => Removal::Removed,
            Err(e) => {
                // The removal may have been made: the token read is revoked now, and the
                // task removes it (without revoking it again) if it is still there.
                self.store_error(shared, &e);
                let mut revoked: Vec<AccessToken> = in_memory.map(|t| t.token).into_iter().collect();
                // This replica's memory held the same token: revoked above already.
                if !revoked.contains(&stored.token) {
                    self.revoke(stored.clone()).await;
                    revoked.push(stored.token);
                }
                let removal = removals::Pending::IssuedBefore {
                    at: self.inner.clock.now(),
                    revoked,
                };
                self.defer(shared, key, removal);
                Removal::Deferred
            }
        }
    }

    /// `key`'s stored token, for a removal; `Err` when the store failed or is taken as down.
    async fn stored_for_removal(
        &self,
        shared: &shared::Shared,
        key: &TokenKey,
    ) -> Result<Option<ManagedToken>, ()> {
        if shared.breaker.is_open() {
            return Err(());
        }
        shared
            .store
            .get(key)
            .await
            .map_err(|e| self.store_error(shared, &e))
    }

    /// The counters.
    pub fn stats(&self) -> TokenManagerStats {
        let c = &self.inner.counters;
        let cached = self.inner.lock().lru.len();
        TokenManagerStats {
            hits: c.hits.load(Ordering::Relaxed),
            misses: c.misses.load(Ordering::Relaxed),
            joined: c.joined.load(Ordering::Relaxed),
            fetches: c.fetches.load(Ordering::Relaxed),
            errors: c.errors.load(Ordering::Relaxed),
            evictions: c.evictions.load(Ordering::Relaxed),
            revoke_errors: c.revoke_errors.load(Ordering::Relaxed),
            uncached: c.uncached.load(Ordering::Relaxed),
            store_hits: c.store_hits.load(Ordering::Relaxed),
            store_waits: c.store_waits.load(Ordering::Relaxed),
            store_errors: c.store_errors.load(Ordering::Relaxed),
            store_fallbacks: c.store_fallbacks.load(Ordering::Relaxed),
            store_wait_timeouts: c.store_wait_timeouts.load(Ordering::Relaxed),
            leases_lost: c.leases_lost.load(Ordering::Relaxed),
            store_skips: c.store_skips.load(Ordering::Relaxed),
            removals_deferred: c.removals_deferred.load(Ordering::Relaxed),
            removals_made: c.removals_made.load(Ordering::Relaxed),
            removals_waiting: self.inner.shared.as_ref().map_or(0, |s| s.removals.waiting()),
            cached,
        }
    }

    /// The cached keys, least recently used first.
    pub fn cached_keys(&self) -> Vec<TokenKey> {
        self.inner.lock().lru.values().cloned().collect()
    }

    /// The API the manager calls.
    pub fn api(&self) -> &S {
        &self.inner.api
    }
}

impl<S> fmt::Debug for TokenManager<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<TokenKey> = self.inner.lock().lru.values().cloned().collect();
        f.debug_struct("TokenManager")
            .field("cached_keys", &keys)
            .field("skew", &self.inner.skew)
            .field("max_keys", &self.inner.max_keys)
            .field("fresh_every_time", &self.inner.fresh_every_time)
            .finish_non_exhaustive()
    }
}
