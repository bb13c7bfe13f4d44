//! The in-process cache: entries by key, least recently used first, bounded by `max_keys`;
//! a key's entry while its token is fetched is a [`Flight`], ended by its [`Leader`].

use super::Inner;
use super::flight::{Flight, FlightState};
use super::key::{ManagedToken, TokenKey};
use super::stats::bump;
use crate::error::Error;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

#[derive(Default)]
pub(super) struct State {
    pub(super) entries: HashMap<TokenKey, Slot>,
    /// Cached keys by last use, oldest first.
    pub(super) lru: BTreeMap<u64, TokenKey>,
    pub(super) tick: u64,
}

pub(super) enum Slot {
    Ready { token: ManagedToken, used: u64 },
    Pending(Arc<Flight>),
}

impl<S> Inner<S> {
    /// A token that expires within the skew margin would never be served again.
    pub(super) fn cacheable(&self, token: &ManagedToken) -> bool {
        token
            .expires_at
            .duration_since(token.issued_at)
            .is_ok_and(|lifetime| lifetime > self.skew)
    }

    pub(super) fn cache(&self, state: &mut State, key: TokenKey, token: ManagedToken) {
        state.tick += 1;
        let used = state.tick;
        state.lru.insert(used, key.clone());
        state.entries.insert(key, Slot::Ready { token, used });
        while state.lru.len() > self.max_keys {
            let Some((_, oldest)) = state.lru.pop_first() else {
                break;
            };
            state.entries.remove(&oldest);
            bump(&self.counters.evictions);
        }
    }
}

/// Ends a flight when the request running it finishes or is dropped.
pub(super) struct Leader<'a, S> {
    pub(super) inner: &'a Inner<S>,
    pub(super) key: &'a TokenKey,
    pub(super) flight: Arc<Flight>,
    pub(super) finished: bool,
    /// Whether the result is cached in this process's memory (no store, or the store is
    /// taken as down).
    pub(super) cache: bool,
}

impl<S> Leader<'_, S> {
    pub(super) fn finish(mut self, result: Result<ManagedToken, Error>) {
        self.finished = true;
        let mut state = self.inner.lock();
        let ours =
            matches!(state.entries.get(self.key), Some(Slot::Pending(f)) if Arc::ptr_eq(f, &self.flight));
        if ours {
            state.entries.remove(self.key);
            if let Ok(token) = &result
                && self.cache
            {
                if self.inner.cacheable(token) {
                    self.inner.cache(&mut state, self.key.clone(), token.clone());
                } else {
                    bump(&self.inner.counters.uncached);
                }
            }
        }
        drop(state);
        self.flight.finish(FlightState::Done(result));
    }
}

impl<S> Drop for Leader<'_, S> {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let mut state = self.inner.lock();
        if matches!(state.entries.get(self.key), Some(Slot::Pending(f)) if Arc::ptr_eq(f, &self.flight)) {
            state.entries.remove(self.key);
        }
        drop(state);
        self.flight.finish(FlightState::Abandoned);
    }
}
