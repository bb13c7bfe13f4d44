//! The manager's counters: [`TokenManagerStats`] as a service exports them, and the atomics
//! behind them.

use std::sync::atomic::{AtomicU64, Ordering};

/// Counters a service can export.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenManagerStats {
    /// Requests served from the cache.
    pub hits: u64,
    /// Requests that found no usable cached token and started a fetch.
    pub misses: u64,
    /// Requests that joined a fetch another request had started.
    pub joined: u64,
    /// get token calls made.
    pub fetches: u64,
    /// get token calls that failed.
    pub errors: u64,
    /// Cached tokens dropped to stay within the key limit.
    pub evictions: u64,
    /// Revocations that failed (best-effort: the failure is logged, not returned).
    pub revoke_errors: u64,
    /// Tokens handed out but not cached, because their lifetime was no longer than the
    /// skew margin.
    pub uncached: u64,
    /// Requests served from the shared store.
    pub store_hits: u64,
    /// Requests that found another process fetching their key and waited for its token.
    pub store_waits: u64,
    /// Calls to the shared store that failed or timed out.
    pub store_errors: u64,
    /// Requests served by a fetch of their own because the store failed
    /// ([`StoreFailure::FetchLocally`](crate::StoreFailure::FetchLocally)).
    pub store_fallbacks: u64,
    /// Requests that waited for another replica's lease for the whole bound
    /// ([`TokenManagerBuilder::store_wait`](crate::TokenManagerBuilder::store_wait)) and
    /// then followed the [`StoreFailure`](crate::StoreFailure) policy.
    pub store_wait_timeouts: u64,
    /// Tokens fetched under a lease that was lost meanwhile: handed out, not stored.
    pub leases_lost: u64,
    /// Requests served without the store while it was taken as down (the breaker's
    /// window), from this process's memory or a fetch of its own.
    pub store_skips: u64,
    /// Removals (sign-outs, invalidations) the store could not take: remembered, never
    /// served here, and made when the store answers again.
    pub removals_deferred: u64,
    /// Keys whose deferred removals the background task has made (the stored token
    /// removed, and revoked once where revocation is on).
    pub removals_made: u64,
    /// Keys with deferred removals still waiting for the store.
    pub removals_waiting: usize,
    /// Tokens cached now in this process (none while a shared store holds them).
    pub cached: usize,
}

#[derive(Default)]
pub(super) struct Counters {
    pub(super) hits: AtomicU64,
    pub(super) misses: AtomicU64,
    pub(super) joined: AtomicU64,
    pub(super) fetches: AtomicU64,
    pub(super) errors: AtomicU64,
    pub(super) evictions: AtomicU64,
    pub(super) revoke_errors: AtomicU64,
    pub(super) uncached: AtomicU64,
    pub(super) store_hits: AtomicU64,
    pub(super) store_waits: AtomicU64,
    pub(super) store_errors: AtomicU64,
    pub(super) store_fallbacks: AtomicU64,
    pub(super) store_wait_timeouts: AtomicU64,
    pub(super) leases_lost: AtomicU64,
    pub(super) store_skips: AtomicU64,
    pub(super) removals_deferred: AtomicU64,
    pub(super) removals_made: AtomicU64,
}

pub(super) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}
