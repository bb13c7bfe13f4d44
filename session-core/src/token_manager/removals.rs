//! The removals a replica could not make while its shared store failed (sign-outs,
//! invalidations): remembered, never served meanwhile, then made by one background task
//! of the replica's [`Spawn`](crate::Spawn), never on a user's request.
//!
//! Each removal ends with its token out of the store and, with revocation on, revoked at
//! the cluster exactly once: a stored token is revoked only by the call whose
//! compare-and-delete removed it, so neither two requests of this replica nor two replicas
//! revoke one token twice. The task tries the store every `store_retry` while it fails,
//! and once the store answers makes every removal at the pace of its calls (two store
//! calls a key, and one revocation where a token is removed).

use super::breaker::Breaker;
use super::key::{ManagedToken, TokenKey};
use super::stats::{Counters, bump};
use super::store::TokenStore;
use crate::error::{Error, StoreError};
use crate::secret::AccessToken;
use crate::spawn::Spawn;
use crate::time::{Clock, Sleep};
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, SystemTime};

/// What a revocation returns: whether the cluster revoked the token.
pub(super) type RevokeFuture = Pin<Box<dyn Future<Output = Result<bool, Error>> + Send>>;
/// The manager's revocation of a token at the cluster.
pub(super) type Revoke = Arc<dyn Fn(AccessToken) -> RevokeFuture + Send + Sync>;

/// Removals one key may wait for at most; an older one is dropped (its token expires).
const PENDING_PER_KEY: usize = 16;

/// Tokens waiting for their revocation at most; past it the oldest is dropped (logged: it
/// stays valid until it expires).
const REVOCATIONS_WAITING: usize = 10_000;

/// A removal the store has not taken yet.
#[derive(Clone, Debug)]
pub(super) enum Pending {
    /// This token (an invalidation). `revoked` when this replica held it and revoked it
    /// at once (it was known to be the caller's).
    Token { token: AccessToken, revoked: bool },
    /// Any token issued before `at` (a sign-out); `revoked` names the tokens revoked
    /// already: this replica's memory's, and a stored one whose removal went unanswered.
    IssuedBefore {
        at: SystemTime,
        revoked: Vec<AccessToken>,
    },
}

impl Pending {
    pub(super) fn covers(&self, token: &ManagedToken) -> bool {
        match self {
            Pending::Token { token: t, .. } => *t == token.token,
            Pending::IssuedBefore { at, .. } => token.issued_at <= *at,
        }
    }

    /// Whether `token`, covered and removed, is still to be revoked.
    pub(super) fn revokes(&self, token: &ManagedToken) -> bool {
        match self {
            Pending::Token { revoked, .. } => !revoked,
            Pending::IssuedBefore { revoked, .. } => !revoked.contains(&token.token),
        }
    }

    /// Notes that `token`, which this removal covers, is revoked.
    fn revoked(&mut self, token: &AccessToken) {
        match self {
            Pending::Token { token: t, revoked } if t == token => *revoked = true,
            Pending::Token { .. } => {}
            Pending::IssuedBefore { revoked, .. } => revoked.push(token.clone()),
        }
    }
}

/// Whether the removals in `list` cover `token` (`None`: none does) and, if so, whether
/// removing it is still to revoke it (one made at once revoked it already).
pub(super) fn verdict(list: &[Pending], token: &ManagedToken) -> Option<bool> {
    let mut covering = list.iter().filter(|p| p.covers(token)).peekable();
    covering.peek()?;
    Some(covering.any(|p| p.revokes(token)))
}

/// Revokes `token` with `revoke`, best-effort: a failure is counted and logged.
pub(super) async fn revoke_logged(revoke: &Revoke, counters: &Counters, token: AccessToken) {
    if let Err(e) = revoke(token).await {
        bump(&counters.revoke_errors);
        // The error's text holds no secret (see the error module).
        tracing::warn!(error = %e, "revoking a token failed; it stays valid until it expires");
    }
}

/// The removals waiting, the revocations waiting, whether the task runs, and what it
/// works with.
pub(super) struct Removals {
    by_key: Mutex<HashMap<TokenKey, Vec<Pending>>>,
    revocations: Mutex<VecDeque<AccessToken>>,
    running: AtomicBool,
    with: Parts,
}

/// What the task works with, from the manager's builder.
pub(super) struct Parts {
    pub(super) store: Arc<dyn TokenStore>,
    pub(super) breaker: Arc<Breaker>,
    pub(super) spawn: Arc<dyn Spawn>,
    pub(super) sleep: Arc<dyn Sleep>,
    /// How often the task tries a failing store.
    pub(super) retry: Duration,
    pub(super) revoke: Option<Revoke>,
    pub(super) counters: Arc<Counters>,
    pub(super) clock: Arc<dyn Clock>,
}

impl Removals {
    pub(super) fn new(with: Parts) -> Self {
        Self {
            by_key: Mutex::default(),
            revocations: Mutex::default(),
            running: AtomicBool::new(false),
            with,
        }
    }

    pub(super) fn pending(&self) -> MutexGuard<'_, HashMap<TokenKey, Vec<Pending>>> {
        // Single inserts and removes: a poisoned lock holds a whole map.
        self.by_key.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn revocations(&self) -> MutexGuard<'_, VecDeque<AccessToken>> {
        self.revocations.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keys with removals waiting.
    pub(super) fn waiting(&self) -> usize {
        self.pending().len()
    }

    fn idle(&self) -> bool {
        self.pending().is_empty() && self.revocations().is_empty()
    }
}

/// Sets `running` back when the task ends, or is dropped unpolled (its runtime shut
/// down, or none was there): the next removal starts a task again.
struct Running(Weak<Removals>);

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(shared) = self.0.upgrade() {
            shared.running.store(false, Ordering::SeqCst);
        }
    }
}

impl Removals {
    /// Remembers a removal the store could not take, and starts the task that makes it;
    /// `false` when the map is full (the removal is dropped).
    pub(super) fn defer(self: &Arc<Self>, key: &TokenKey, removal: Pending, max_keys: usize) -> bool {
        bump(&self.with.counters.removals_deferred);
        let kept = {
            let mut pending = self.pending();
            if !pending.contains_key(key) && pending.len() >= max_keys {
                false
            } else {
                let list = pending.entry(key.clone()).or_default();
                if list.len() == PENDING_PER_KEY {
                    list.remove(0);
                }
                list.push(removal);
                true
            }
        };
        self.wake();
        kept
    }

    /// Revokes `token` from the task, off the request that removed it.
    pub(super) fn revoke_later(self: &Arc<Self>, token: AccessToken) {
        if self.with.revoke.is_none() {
            return;
        }
        {
            let mut waiting = self.revocations();
            if waiting.len() >= REVOCATIONS_WAITING {
                waiting.pop_front();
                tracing::warn!(
                    "too many revocations wait; one is dropped (its token stays valid until it expires)"
                );
            }
            waiting.push_back(token);
        }
        self.wake();
    }

    /// Starts the task unless it runs, when there is work for it.
    pub(super) fn wake(self: &Arc<Self>) {
        if self.idle() || self.running.swap(true, Ordering::SeqCst) {
            return;
        }
        let running = Running(Arc::downgrade(self));
        self.with.spawn.spawn(Box::pin(run(running)));
    }

    /// Makes `key`'s removals: the stored token, if one covers it, is removed and (when
    /// this call removed it) revoked.
    async fn make(&self, key: &TokenKey) -> Result<(), StoreError> {
        let stored = self.with.store.get(key).await?;
        self.with.breaker.succeeded();
        let seen = self.pending().get(key).map_or(0, Vec::len);
        let covering = stored.and_then(|token| {
            let revoke = self.pending().get(key).and_then(|list| verdict(list, &token))?;
            Some((token, revoke))
        });
        if let Some((token, revoke)) = covering {
            match self.with.store.remove(key, Some(&token.token)).await {
                Ok(Some(removed)) if revoke => self.revoke_now(removed.token).await,
                Ok(_) => {}
                Err(e) => {
                    // Unanswered: the removal may have been made all the same (a cluster
                    // client retries on the new primary after a failover), and then no
                    // later look finds the token to revoke. It is covered, so it is
                    // revoked now, once: the removals note it.
                    if revoke {
                        self.revoke_now(token.token.clone()).await;
                        if let Some(list) = self.pending().get_mut(key) {
                            list.iter_mut().for_each(|p| p.revoked(&token.token));
                        }
                    }
                    return Err(e);
                }
            }
        }
        bump(&self.with.counters.removals_made);
        // The removals seen are made; one deferred since stays for the next round.
        let mut pending = self.pending();
        if let Some(list) = pending.get_mut(key) {
            list.drain(..seen.min(list.len()));
            if list.is_empty() {
                pending.remove(key);
            }
        }
        Ok(())
    }

    async fn revoke_now(&self, token: AccessToken) {
        if let Some(revoke) = &self.with.revoke {
            revoke_logged(revoke, &self.with.counters, token).await;
        }
    }
}

/// The task: revocations first, then the removals, until none is left; while the store
/// fails, tried again every `retry`. It holds the manager's state only while it works, and
/// ends when the last manager is dropped.
async fn run(running: Running) {
    let weak = running.0.clone();
    let mut running = Some(running);
    loop {
        let Some(shared) = weak.upgrade() else { return };
        let next = shared.revocations().pop_front();
        if let Some(token) = next {
            shared.revoke_now(token).await;
            continue;
        }
        let keys: Vec<TokenKey> = shared.pending().keys().cloned().collect();
        if keys.is_empty() {
            drop(running.take());
            // Work that came between the look and the flag is this task's still.
            if shared.idle() || shared.running.swap(true, Ordering::SeqCst) {
                return;
            }
            running = Some(Running(weak.clone()));
            continue;
        }
        let mut failed = false;
        for key in keys {
            if let Err(e) = shared.make(&key).await {
                shared.with.breaker.store_failed(&e, shared.with.clock.now());
                failed = true;
                break;
            }
        }
        if failed {
            let (sleep, retry) = (shared.with.sleep.clone(), shared.with.retry);
            drop(shared);
            sleep.sleep(retry).await;
        }
    }
}
