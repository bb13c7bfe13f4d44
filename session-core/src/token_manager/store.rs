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
/// - keep [`remove`](Self::remove) and [`release`](Self::release) conditional and atomic:
///   they act only on the token or lease named, never on one written since.
///
/// The trait is object-safe; the manager holds an `Arc<dyn TokenStore>`.
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::Mutex;
/// use std::time::Duration;
/// use thoughtspot_session_core::{AccessToken, Lease, ManagedToken, StoreError, TokenKey, TokenStore};
///
/// /// One process's map: a store for tests (no expiry, no second process).
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
///     async fn put(&self, key: &TokenKey, token: &ManagedToken, _ttl: Duration) -> Result<(), StoreError> {
///         self.tokens.lock().unwrap().insert(key.clone(), token.clone());
///         Ok(())
///     }
///     async fn remove(&self, key: &TokenKey, token: Option<&AccessToken>) -> Result<Option<ManagedToken>, StoreError> {
///         let mut tokens = self.tokens.lock().unwrap();
///         match tokens.get(key) {
///             Some(t) if token.is_none_or(|token| t.token() == token) => Ok(tokens.remove(key)),
///             _ => Ok(None),
///         }
///     }
///     async fn try_lease(&self, key: &TokenKey, _ttl: Duration) -> Result<Option<Lease>, StoreError> {
///         let mut leases = self.leases.lock().unwrap();
///         if leases.contains_key(key) {
///             return Ok(None);
///         }
///         leases.insert(key.clone(), "only".into());
///         Ok(Some(Lease::new("only")))
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

    /// Stores `token` for `key`, replacing any other; the store forgets it after `ttl`
    /// (the manager passes the token's expiry minus its skew margin, so that no entry
    /// outlives its token).
    async fn put(&self, key: &TokenKey, token: &ManagedToken, ttl: Duration) -> Result<(), StoreError>;

    /// Removes the token of `key` if it is `token` (any token for `None`), atomically, and
    /// returns what was removed.
    async fn remove(
        &self,
        key: &TokenKey,
        token: Option<&AccessToken>,
    ) -> Result<Option<ManagedToken>, StoreError>;

    /// Takes the right to fetch `key`'s token for `ttl`, if no one holds it: `Ok(None)`
    /// when another process does. A lease that is not released lapses after `ttl`, so a
    /// process that died holding one stops no one for longer.
    async fn try_lease(&self, key: &TokenKey, ttl: Duration) -> Result<Option<Lease>, StoreError>;

    /// Gives `lease` back if it is still held (not lapsed and taken by another).
    async fn release(&self, key: &TokenKey, lease: Lease) -> Result<(), StoreError>;
}

#[async_trait]
impl<T: TokenStore + ?Sized> TokenStore for Arc<T> {
    async fn get(&self, key: &TokenKey) -> Result<Option<ManagedToken>, StoreError> {
        (**self).get(key).await
    }
    async fn put(&self, key: &TokenKey, token: &ManagedToken, ttl: Duration) -> Result<(), StoreError> {
        (**self).put(key, token, ttl).await
    }
    async fn remove(
        &self,
        key: &TokenKey,
        token: Option<&AccessToken>,
    ) -> Result<Option<ManagedToken>, StoreError> {
        (**self).remove(key, token).await
    }
    async fn try_lease(&self, key: &TokenKey, ttl: Duration) -> Result<Option<Lease>, StoreError> {
        (**self).try_lease(key, ttl).await
    }
    async fn release(&self, key: &TokenKey, lease: Lease) -> Result<(), StoreError> {
        (**self).release(key, lease).await
    }
}

/// The right to fetch one key's token, held by one process until released or lapsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    id: String,
}

impl Lease {
    /// A lease known to its store by `id` (unique per taking, e.g. random).
    pub fn new(id: impl Into<String>) -> Self {
        Self { id: id.into() }
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
