//! The seam between [`TokenManager`](crate::TokenManager) and a token cache shared by
//! several processes (Redis, say): [`TokenStore`], its [`Lease`], [`StoreError`] and
//! [`StoreFailure`].

use super::key::{ManagedToken, TokenKey};
use crate::error::StoreError;
use crate::secret::AccessToken;
use async_trait::async_trait;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// A token cache shared by the replicas of a token service, so that they fetch each token
/// once between them and an invalidation on one reaches all.
///
/// [`TokenManager`](crate::TokenManager) keeps its tokens in memory, per process, unless it
/// is given a store ([`TokenManagerBuilder::store`](crate::TokenManagerBuilder::store));
/// then every request asks the store, and the manager's own single-flight still joins the
/// requests of one process. `thoughtspot-session-redis` implements it on Redis.
///
/// An implementation must:
/// - treat a value it cannot read (corrupt, foreign, sealed under a key it does not hold)
///   as absent: `Ok(None)`, never a panic;
/// - bound every call in time, answering [`StoreError`] rather than waiting on a store
///   that does not answer;
/// - keep [`put`](Self::put), [`remove`](Self::remove), [`renew`](Self::renew) and
///   [`release`](Self::release) conditional and atomic: they act only while the lease or
///   token named is the one stored, never on one written since.
///
/// The trait is object-safe; the manager holds an `Arc<dyn TokenStore>`.
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::Mutex;
/// use std::time::Duration;
/// use thoughtspot_session_core::{AccessToken, Lease, ManagedToken, StoreError, TokenKey, TokenStore};
///
/// /// One process's maps: a store for tests (no expiry, no second process).
/// #[derive(Debug, Default)]
/// struct MapStore {
///     tokens: Mutex<HashMap<TokenKey, ManagedToken>>,
///     leases: Mutex<HashMap<TokenKey, String>>,
/// }
///
/// #[async_trait::async_trait]
/// impl TokenStore for MapStore {
///     async fn get(&self, key: &TokenKey) -> Result<Option<ManagedToken>, StoreError> {
///         Ok(self.tokens.lock().unwrap().get(key).cloned())
///     }
///     async fn put(&self, key: &TokenKey, token: &ManagedToken, _ttl: Duration, lease: &Lease) -> Result<bool, StoreError> {
///         // One lock over both maps would make this atomic across processes' stores too.
///         if self.leases.lock().unwrap().get(key).map(String::as_str) != Some(lease.id()) {
///             return Ok(false);
///         }
///         self.tokens.lock().unwrap().insert(key.clone(), token.clone());
///         Ok(true)
///     }
///     async fn remove(&self, key: &TokenKey, token: Option<&AccessToken>) -> Result<Option<ManagedToken>, StoreError> {
///         let mut tokens = self.tokens.lock().unwrap();
///         match tokens.get(key) {
///             Some(t) if token.is_none_or(|token| t.token() == token) => Ok(tokens.remove(key)),
///             _ => Ok(None),
///         }
///     }
///     async fn try_lease(&self, key: &TokenKey, _ttl: Duration, lease: &Lease) -> Result<bool, StoreError> {
///         let mut leases = self.leases.lock().unwrap();
///         if leases.get(key).is_some_and(|id| !id.starts_with(lease.owner_prefix())) {
///             return Ok(false); // another owner's
///         }
///         leases.insert(key.clone(), lease.id().to_owned());
///         Ok(true)
///     }
///     async fn renew(&self, key: &TokenKey, lease: &Lease, _ttl: Duration) -> Result<bool, StoreError> {
///         Ok(self.leases.lock().unwrap().get(key).map(String::as_str) == Some(lease.id()))
///     }
///     async fn release(&self, key: &TokenKey, lease: Lease) -> Result<(), StoreError> {
///         let mut leases = self.leases.lock().unwrap();
///         if leases.get(key).is_some_and(|id| id == lease.id()) {
///             leases.remove(key);
///         }
///         Ok(())
///     }
/// }
/// ```
#[async_trait]
pub trait TokenStore: Send + Sync + fmt::Debug {
    /// The token stored for `key`, if any.
    async fn get(&self, key: &TokenKey) -> Result<Option<ManagedToken>, StoreError>;

    /// Stores `token` for `key`, replacing any other, but only while `lease` is still the
    /// key's lease (one atomic compare on the store, never a read then a write): `Ok(false)`
    /// when the lease lapsed or was taken by another, and nothing was written. The store
    /// forgets the token after `ttl` (the manager passes its expiry minus the skew).
    async fn put(
        &self,
        key: &TokenKey,
        token: &ManagedToken,
        ttl: Duration,
        lease: &Lease,
    ) -> Result<bool, StoreError>;

    /// Removes the token of `key` if it is `token` (any token for `None`), atomically, and
    /// returns what was removed.
    async fn remove(
        &self,
        key: &TokenKey,
        token: Option<&AccessToken>,
    ) -> Result<Option<ManagedToken>, StoreError>;

    /// Takes the right to fetch `key`'s token for `ttl` as `lease` (named by the manager
    /// before the call, so that a call cancelled midway can still be given back):
    /// `Ok(false)` while a lease of another owner holds. A lease of the same owner
    /// ([`Lease::owner_prefix`]) is taken over (a fetch of its own that was abandoned), since
    /// one replica fetches a key once at a time. A lease that is not released lapses after
    /// `ttl`.
    async fn try_lease(&self, key: &TokenKey, ttl: Duration, lease: &Lease) -> Result<bool, StoreError>;

    /// Extends `lease` to `ttl` from now if it is still held: `Ok(false)` when it was lost.
    async fn renew(&self, key: &TokenKey, lease: &Lease, ttl: Duration) -> Result<bool, StoreError>;

    /// Gives `lease` back if it is still held (not lapsed and taken by another).
    async fn release(&self, key: &TokenKey, lease: Lease) -> Result<(), StoreError>;

    /// Gives `lease` back without waiting, from a `Drop`: the fetch that held it was
    /// cancelled. The default does nothing (the lease lapses after its ttl, or its owner takes
    /// it back); a store on a runtime starts the release there.
    fn abandon(&self, key: &TokenKey, lease: Lease) {
        let _ = (key, lease);
    }
}

#[async_trait]
impl<T: TokenStore + ?Sized> TokenStore for Arc<T> {
    async fn get(&self, key: &TokenKey) -> Result<Option<ManagedToken>, StoreError> {
        (**self).get(key).await
    }
    async fn put(
        &self,
        key: &TokenKey,
        token: &ManagedToken,
        ttl: Duration,
        lease: &Lease,
    ) -> Result<bool, StoreError> {
        (**self).put(key, token, ttl, lease).await
    }
    async fn remove(
        &self,
        key: &TokenKey,
        token: Option<&AccessToken>,
    ) -> Result<Option<ManagedToken>, StoreError> {
        (**self).remove(key, token).await
    }
    async fn try_lease(&self, key: &TokenKey, ttl: Duration, lease: &Lease) -> Result<bool, StoreError> {
        (**self).try_lease(key, ttl, lease).await
    }
    async fn renew(&self, key: &TokenKey, lease: &Lease, ttl: Duration) -> Result<bool, StoreError> {
        (**self).renew(key, lease, ttl).await
    }
    async fn release(&self, key: &TokenKey, lease: Lease) -> Result<(), StoreError> {
        (**self).release(key, lease).await
    }
    fn abandon(&self, key: &TokenKey, lease: Lease) {
        (**self).abandon(key, lease);
    }
}

/// The right to fetch one key's token, held by one process until released or lapsed.
/// Its id is `{owner}.{unique}`: the replica that takes it, and one taking of that replica.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    id: String,
}

impl Lease {
    /// A lease known to its store by `id`: `{owner}.{unique}`, as [`for_owner`](Self::for_owner)
    /// writes it (an id without a `.` is an owner's whole id).
    pub fn new(id: impl Into<String>) -> Self {
        Self { id: id.into() }
    }

    /// The lease `unique` of `owner` (`owner` holds no `.`).
    pub fn for_owner(owner: &str, unique: impl std::fmt::Display) -> Self {
        Self {
            id: format!("{owner}.{unique}"),
        }
    }

    /// The owner's part of the id, with its `.`: what a store compares to take back an
    /// owner's abandoned lease.
    pub fn owner_prefix(&self) -> &str {
        match self.id.find('.') {
            Some(dot) => &self.id[..=dot],
            None => &self.id,
        }
    }

    /// The id the store knows it by.
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// What the manager does when its store fails (an error or a timeout).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreFailure {
    /// Fetch the token from the cluster, joining this process's concurrent requests for the
    /// key, and do not cache it: the service stays up, at the cost of a get token call per
    /// burst and process while the store is down. Counted in
    /// [`TokenManagerStats::store_fallbacks`](crate::TokenManagerStats::store_fallbacks).
    #[default]
    FetchLocally,
    /// Fail the request with [`Error::Store`](crate::Error::Store).
    Fail,
}
