//! The shared-store protocol: how replicas share tokens through a [`TokenStore`] (a read,
//! the key's lease, a fetch, a put) and what a replica does when the store fails.

use super::TokenManager;
use super::expiry::MAX_TOKEN_LIFETIME;
use super::flight::YieldNow;
use super::key::{ManagedToken, TokenKey};
use super::stats::bump;
use super::store::{StoreFailure, TokenStore};
use crate::api::SessionApi;
use crate::error::{Error, StoreError};
use crate::secret::AccessToken;
use crate::time::Sleep;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// A shared token store and how the manager uses it.
pub(super) struct Shared {
    pub(super) store: Arc<dyn TokenStore>,
    pub(super) sleep: Arc<dyn Sleep>,
    pub(super) on_failure: StoreFailure,
    pub(super) lease_time: Duration,
    pub(super) poll: Duration,
    /// Tokens invalidated while the store failed, by key: never served from the store by
    /// this process, and removed from it when seen again.
    pub(super) rejected: Mutex<HashMap<TokenKey, AccessToken>>,
}

impl Shared {
    pub(super) fn rejected(&self) -> MutexGuard<'_, HashMap<TokenKey, AccessToken>> {
        // Single inserts and removes: a poisoned lock holds a whole map.
        self.rejected.lock().unwrap_or_else(|p| p.into_inner())
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
    /// fetched under the key's lease (by this process, or by another while this one waits).
    pub(super) async fn token_from_store(
        &self,
        shared: &Shared,
        key: &TokenKey,
    ) -> Result<ManagedToken, Error> {
        let inner = &*self.inner;
        loop {
            match self.stored(shared, key).await {
                Ok(Some(token)) => return Ok(token),
                Ok(None) => {}
                Err(e) => return self.store_failed(e, key).await,
            }
            let lease = match shared.store.try_lease(key, shared.lease_time).await {
                Ok(Some(lease)) => lease,
                Ok(None) => {
                    // Another replica is fetching: its token appears in the store.
                    bump(&inner.counters.store_waits);
                    shared.sleep.sleep(shared.poll).await;
                    // A sleep that returns at once (a test's) must not starve the replica
                    // that holds the lease, when all run on one thread.
                    YieldNow(false).await;
                    continue;
                }
                Err(e) => return self.store_failed(e, key).await,
            };
            // A token stored between the look above and the lease is used, not fetched again.
            let result = match self.stored(shared, key).await {
                Ok(Some(token)) => Ok(token),
                Ok(None) => {
                    let result = self.fetch(key).await;
                    if let Ok(token) = &result {
                        self.put(shared, key, token).await;
                    }
                    result
                }
                Err(e) => {
                    self.count_store_error(&e);
                    self.fetch(key).await
                }
            };
            if let Err(e) = shared.store.release(key, lease).await {
                // It lapses by itself after lease_time.
                self.count_store_error(&e);
            }
            return result;
        }
    }

    /// The servable token stored for `key`, if any; one this process saw rejected is
    /// removed, not served.
    async fn stored(&self, shared: &Shared, key: &TokenKey) -> Result<Option<ManagedToken>, StoreError> {
        let Some(token) = shared.store.get(key).await? else {
            return Ok(None);
        };
        let rejected = {
            let mut rejected = shared.rejected();
            match rejected.get(key) {
                Some(bad) if *bad == token.token => true,
                Some(_) => {
                    // The store has moved on from the rejected token.
                    rejected.remove(key);
                    false
                }
                None => false,
            }
        };
        if rejected {
            shared.store.remove(key, Some(&token.token)).await?;
            shared.rejected().remove(key);
            return Ok(None);
        }
        if !self.servable(&token) {
            return Ok(None);
        }
        bump(&self.inner.counters.store_hits);
        Ok(Some(token))
    }

    /// Stores a token just fetched, until its expiry minus the skew.
    async fn put(&self, shared: &Shared, key: &TokenKey, token: &ManagedToken) {
        let inner = &*self.inner;
        let ttl = token
            .expires_at
            .duration_since(inner.clock.now())
            .ok()
            .and_then(|left| left.checked_sub(inner.skew))
            .filter(|ttl| !ttl.is_zero());
        let Some(ttl) = ttl else {
            bump(&inner.counters.uncached);
            return;
        };
        if let Err(e) = shared.store.put(key, token, ttl).await {
            self.count_store_error(&e);
        }
    }

    pub(super) fn count_store_error(&self, e: &StoreError) {
        bump(&self.inner.counters.store_errors);
        // A store error's text names what failed, never a token or a key.
        tracing::warn!(error = %e, "the shared token store failed");
    }

    /// The store failed while looking for `key`'s token: fetch alone, or fail, as set.
    async fn store_failed(&self, e: StoreError, key: &TokenKey) -> Result<ManagedToken, Error> {
        self.count_store_error(&e);
        let Some(shared) = &self.inner.shared else {
            return Err(Error::Store(e));
        };
        match shared.on_failure {
            StoreFailure::Fail => Err(Error::Store(e)),
            StoreFailure::FetchLocally => {
                bump(&self.inner.counters.store_fallbacks);
                self.fetch(key).await
            }
        }
    }
}
