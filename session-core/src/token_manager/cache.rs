//! The in-process cache: entries by key, least recently used first, bounded by `max_keys`.

use super::Inner;
use super::flight::Flight;
use super::key::{ManagedToken, TokenKey};
use super::stats::bump;
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
