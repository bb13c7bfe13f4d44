//! The shared-store protocol: how replicas share tokens through a [`TokenStore`] (a read,
//! the key's lease, a fetch that renews it, a conditional put). The breaker that skips a
//! failing store is in `breaker`, the removals a replica could not make yet in `removals`.

use super::TokenManager;
use super::breaker::Breaker;
use super::expiry::MAX_TOKEN_LIFETIME;
use super::flight::YieldNow;
use super::key::{ManagedToken, TokenKey};
use super::removals::{Pending, Removals, verdict};
use super::stats::bump;
use super::store::{Lease, StoreFailure, TokenStore};
use crate::api::SessionApi;
use crate::error::{Error, StoreError, StoreErrorKind};
use crate::time::Sleep;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

/// A shared token store and how the manager uses it.
pub(super) struct Shared {
    pub(super) store: Arc<dyn TokenStore>,
    pub(super) sleep: Arc<dyn Sleep>,
    pub(super) on_failure: StoreFailure,
    pub(super) lease_time: Duration,
    pub(super) poll: Duration,
    /// The longest a request waits for another replica's lease.
    pub(super) wait: Duration,
    /// This replica's id, the owner of the leases it takes.
    pub(super) owner: String,
    /// The number of the next lease this replica takes.
    pub(super) leases: std::sync::atomic::AtomicU64,
    pub(super) breaker: Arc<Breaker>,
    /// Removals the store could not take yet, by key: never served by this replica, made
    /// by a background task when the store answers again.
    pub(super) removals: Arc<Removals>,
}

/// What the store path answered, and whether the token came without the store (fetched
/// alone or the spare served, because the store failed): such a token is kept in this
/// process's memory as the spare for the next failure, whatever the breaker says by then.
pub(super) struct FromStore {
    pub(super) result: Result<ManagedToken, Error>,
    pub(super) alone: bool,
}

impl FromStore {
    fn shared(result: Result<ManagedToken, Error>) -> Self {
        Self { result, alone: false }
    }

    fn alone(result: Result<ManagedToken, Error>) -> Self {
        Self { result, alone: true }
    }
}

impl Shared {
    fn next_lease(&self) -> u64 {
        self.leases.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }
}

/// Gives a lease back when the fetch holding it is dropped (a cancelled request): the
/// store releases it at once, so no replica waits for it to lapse.
struct LeaseGuard<'a> {
    store: &'a dyn TokenStore,
    key: &'a TokenKey,
    lease: Option<Lease>,
}

impl LeaseGuard<'_> {
    fn lease(&self) -> Option<&Lease> {
        self.lease.as_ref()
    }
}

impl Drop for LeaseGuard<'_> {
    fn drop(&mut self) {
        if let Some(lease) = self.lease.take() {
            self.store.abandon(self.key, lease);
        }
    }
}

impl<S: SessionApi> TokenManager<S> {
    /// Whether the manager would serve `token` now: valid for longer than the skew, and
    /// not further off than a token can live (a store's value is the store's word).
    fn servable(&self, token: &ManagedToken) -> bool {
        let now = self.inner.clock.now();
        now.checked_add(self.inner.skew)
            .is_some_and(|t| token.expires_at > t)
            && now
                .checked_add(MAX_TOKEN_LIFETIME)
                .is_some_and(|t| token.expires_at <= t)
    }

    /// A token for `key` from the shared store: the stored one while servable, else one
    /// fetched under the key's lease (by this process, or by another while this one waits,
    /// for [`Shared::wait`] at most).
    ///
    /// `spare` is the token this process kept in memory while the store failed: should the
    /// store fail again, it is served instead of fetching another.
    pub(super) async fn token_from_store(
        &self,
        shared: &Arc<Shared>,
        key: &TokenKey,
        spare: Option<ManagedToken>,
    ) -> FromStore {
        let inner = &*self.inner;
        // The wait is measured on the manager's clock (a test's virtual clock moves only
        // when told).
        let started = inner.clock.now();
        loop {
            match self.stored(shared, key).await {
                Ok(Some(token)) => return FromStore::shared(Ok(token)),
                Ok(None) => {}
                Err(e) => return FromStore::alone(self.store_failed(shared, e, key, spare).await),
            }
            // The lease is named, and guarded, before it is asked for: a request cancelled
            // while the store takes it still gives it back.
            let mut guard = LeaseGuard {
                store: &*shared.store,
                key,
                lease: Some(Lease::for_owner(&shared.owner, shared.next_lease())),
            };
            let taken = match guard.lease() {
                Some(lease) => shared.store.try_lease(key, shared.lease_time, lease).await,
                None => Ok(false),
            };
            match taken {
                Ok(true) => {}
                Ok(false) => {
                    guard.lease = None; // another's: nothing of ours to give back
                    // Another replica is fetching: its token appears in the store.
                    bump(&inner.counters.store_waits);
                    let waited = inner.clock.now().duration_since(started).unwrap_or_default();
                    if waited >= shared.wait {
                        // A lease that outlives every fetch: a replica died holding one with
                        // a long expiry, or someone wrote it. Not a store failure.
                        bump(&inner.counters.store_wait_timeouts);
                        let e = StoreError::new(
                            StoreErrorKind::Timeout,
                            "another replica's lease on the key outlived the wait for it",
                        );
                        return FromStore::alone(self.policy(e, key, spare).await);
                    }
                    shared.sleep.sleep(shared.poll).await;
                    // A sleep that returns at once (a test's) must not starve the replica
                    // that holds the lease, when all run on one thread.
                    YieldNow(false).await;
                    continue;
                }
                // Perhaps taken before the failure: the guard gives it back.
                Err(e) => return FromStore::alone(self.store_failed(shared, e, key, spare).await),
            }
            // A token stored between the look above and the lease is used, not fetched again.
            let answer = match self.stored(shared, key).await {
                Ok(Some(token)) => FromStore::shared(Ok(token)),
                Ok(None) => {
                    let result = self.fetch_renewing(shared, key, guard.lease()).await;
                    let mut kept = true;
                    if let (Ok(token), Some(lease)) = (&result, guard.lease()) {
                        kept = self.put(shared, key, token, lease).await;
                    }
                    FromStore { result, alone: !kept }
                }
                Err(e) => {
                    self.store_error(shared, &e);
                    FromStore::alone(self.fetch(key).await)
                }
            };
            if let Some(lease) = guard.lease.take()
                && let Err(e) = shared.store.release(key, lease).await
            {
                // It lapses by itself after lease_time.
                self.store_error(shared, &e);
            }
            return answer;
        }
    }

    /// Fetches `key`'s token, renewing `lease` every third of the lease time meanwhile, so
    /// that a slow cluster cannot outlive it and let a second replica fetch too.
    async fn fetch_renewing(
        &self,
        shared: &Shared,
        key: &TokenKey,
        lease: Option<&Lease>,
    ) -> Result<ManagedToken, Error> {
        let Some(lease) = lease else {
            return self.fetch(key).await;
        };
        let mut fetch = pin!(self.fetch(key));
        let mut renew = pin!(async {
            loop {
                shared.sleep.sleep(shared.lease_time / 3).await;
                match shared.store.renew(key, lease, shared.lease_time).await {
                    Ok(true) => {}
                    // Lost (the put will then not land) or the store failed: stop renewing.
                    Ok(false) | Err(_) => break,
                }
                // A sleep that returns at once (a test's) must not keep this loop from
                // yielding to the fetch beside it.
                YieldNow(false).await;
            }
            std::future::pending::<()>().await;
        });
        std::future::poll_fn(|cx| {
            if let Poll::Ready(result) = fetch.as_mut().poll(cx) {
                return Poll::Ready(result);
            }
            let _ = renew.as_mut().poll(cx);
            Poll::Pending
        })
        .await
    }

    /// The servable token stored for `key`, if any. One this process removed while the
    /// store failed is removed now, not served, and revoked off this request (only by the
    /// call that removed it); the other keys' removals are the background task's.
    async fn stored(&self, shared: &Arc<Shared>, key: &TokenKey) -> Result<Option<ManagedToken>, StoreError> {
        // The removals waiting before the read: one the task makes (and forgets) while the
        // read is under way may still cover the token read.
        let before: Option<Vec<Pending>> = shared.removals.pending().get(key).cloned();
        let found = shared.store.get(key).await;
        if found.is_ok() && shared.breaker.succeeded() {
            shared.removals.wake();
        }
        let Some(token) = found? else {
            return Ok(None);
        };
        let covered = {
            let mut pending = shared.removals.pending();
            let covered = pending
                .get(key)
                .and_then(|list| verdict(list, &token))
                .or_else(|| {
                    // Made since the read began: removed and revoked by the task already.
                    before
                        .as_deref()
                        .and_then(|list| verdict(list, &token))
                        .map(|_| false)
                });
            if covered.is_none() {
                // The store has moved on from every token removed here (if any was).
                pending.remove(key);
            }
            covered
        };
        if let Some(revoke) = covered {
            if let Some(removed) = shared.store.remove(key, Some(&token.token)).await?
                && revoke
            {
                shared.removals.revoke_later(removed.token);
            }
            shared.removals.pending().remove(key);
            return Ok(None);
        }
        if !self.servable(&token) {
            return Ok(None);
        }
        bump(&self.inner.counters.store_hits);
        Ok(Some(token))
    }

    /// Stores a token just fetched, until its expiry minus the skew, while `lease` holds;
    /// `false` when the store failed (the token is this process's alone).
    async fn put(&self, shared: &Shared, key: &TokenKey, token: &ManagedToken, lease: &Lease) -> bool {
        let inner = &*self.inner;
        let ttl = token
            .expires_at
            .duration_since(inner.clock.now())
            .ok()
            .and_then(|left| left.checked_sub(inner.skew))
            .filter(|ttl| !ttl.is_zero());
        let Some(ttl) = ttl else {
            bump(&inner.counters.uncached);
            return true;
        };
        match shared.store.put(key, token, ttl, lease).await {
            Ok(true) => true,
            // Another replica holds the key now: its token wins, this one is handed out
            // once and not stored.
            Ok(false) => {
                bump(&inner.counters.leases_lost);
                true
            }
            Err(e) => {
                self.store_error(shared, &e);
                false
            }
        }
    }

    /// Counts and logs a store failure, and opens the breaker.
    pub(super) fn store_error(&self, shared: &Shared, e: &StoreError) {
        shared.breaker.store_failed(e, self.inner.clock.now());
    }

    /// The store failed while looking for `key`'s token.
    async fn store_failed(
        &self,
        shared: &Shared,
        e: StoreError,
        key: &TokenKey,
        spare: Option<ManagedToken>,
    ) -> Result<ManagedToken, Error> {
        self.store_error(shared, &e);
        self.policy(e, key, spare).await
    }

    /// Fetch alone (or serve the spare this process kept), or fail, as set.
    async fn policy(
        &self,
        e: StoreError,
        key: &TokenKey,
        spare: Option<ManagedToken>,
    ) -> Result<ManagedToken, Error> {
        let Some(shared) = &self.inner.shared else {
            return Err(Error::Store(e));
        };
        match shared.on_failure {
            StoreFailure::Fail => Err(Error::Store(e)),
            StoreFailure::FetchLocally => {
                bump(&self.inner.counters.store_fallbacks);
                match spare.filter(|t| self.servable(t)) {
                    Some(token) => Ok(token),
                    None => self.fetch(key).await,
                }
            }
        }
    }
}
