//! `MemoryTokenStore`: a shared token store in memory, for tests of several replicas.

use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};
use thoughtspot_session_core::{
    AccessToken, Clock, Lease, ManagedToken, StoreError, StoreErrorKind, SystemClock, TokenKey, TokenStore,
};

/// A [`TokenStore`] in memory that several `TokenManager`s share, as replicas share Redis:
/// entries and leases expire on its clock, and [`set_failing`](Self::set_failing) makes
/// every call fail as a store that went down. Clones share one store.
///
/// ```
/// use thoughtspot_session_core::{TokenKey, TokenManager, TokioSpawn};
/// use thoughtspot_session_mock::{FakeThoughtSpot, FakeUser, InstantSleep, MemoryTokenStore};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let fake = FakeThoughtSpot::builder().user(FakeUser::new("analyst", "pw")).secret_key("key").build();
/// let store = MemoryTokenStore::with_clock(fake.clock().clone());
/// let replica = |store: &MemoryTokenStore| {
///     TokenManager::builder(fake.client(), "key")
///         .clock(fake.clock().clone())
///         .store(store.clone())
///         .spawn(TokioSpawn::new())
///         .sleep(InstantSleep::new())
///         .build()
///         .unwrap()
/// };
/// let (a, b) = (replica(&store), replica(&store));
/// let key = TokenKey::new("analyst");
/// let first = a.token(&key).await.unwrap();
/// assert_eq!(b.token(&key).await.unwrap().token(), first.token()); // shared
///
/// assert!(b.invalidate(&key, first.token()).await.removed()); // on one replica...
/// assert_ne!(a.token(&key).await.unwrap().token(), first.token()); // ...seen by all
/// assert_eq!(fake.count("token/full"), 2);
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct MemoryTokenStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
    failing: AtomicBool,
    calls: AtomicU64,
}

#[derive(Debug, Default)]
struct State {
    tokens: HashMap<TokenKey, (ManagedToken, SystemTime)>,
    leases: HashMap<TokenKey, (String, SystemTime)>,
}

impl Default for MemoryTokenStore {
    fn default() -> Self {
        Self::with_clock(SystemClock)
    }
}

impl MemoryTokenStore {
    /// An empty store on the system clock.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store whose entries and leases expire on `clock` (a test's virtual clock).
    pub fn with_clock(clock: impl Clock + 'static) -> Self {
        Self {
            inner: Arc::new(Inner {
                clock: Arc::new(clock),
                state: Mutex::new(State::default()),
                failing: AtomicBool::new(false),
                calls: AtomicU64::new(0),
            }),
        }
    }

    /// Makes every later call fail (`true`), as a store that is down, or work again.
    pub fn set_failing(&self, failing: bool) {
        self.inner.failing.store(failing, Ordering::SeqCst);
    }

    /// The calls made so far, failed ones included.
    pub fn calls(&self) -> u64 {
        self.inner.calls.load(Ordering::SeqCst)
    }

    /// The keys with an unexpired token.
    pub fn keys(&self) -> Vec<TokenKey> {
        let now = self.inner.clock.now();
        self.state()
            .tokens
            .iter()
            .filter(|(_, (_, until))| *until > now)
            .map(|(k, _)| k.clone())
            .collect()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Single inserts and removes: a poisoned lock holds whole maps.
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts a call; fails it while the store is set failing.
    fn call(&self) -> Result<SystemTime, StoreError> {
        self.inner.calls.fetch_add(1, Ordering::SeqCst);
        if self.inner.failing.load(Ordering::SeqCst) {
            return Err(StoreError::new(
                StoreErrorKind::Unavailable,
                "the memory store is set failing",
            ));
        }
        Ok(self.inner.clock.now())
    }
}

impl State {
    /// Whether `lease` is `key`'s lease now.
    fn holds(&self, key: &TokenKey, lease: &Lease, now: SystemTime) -> bool {
        self.leases
            .get(key)
            .is_some_and(|(id, until)| id == lease.id() && *until > now)
    }
}

impl MemoryTokenStore {
    fn release_now(&self, key: &TokenKey, lease: &Lease, now: SystemTime) {
        let mut state = self.state();
        if state.holds(key, lease, now) {
            state.leases.remove(key);
        }
    }

    /// The ids of the leases held now, by key (for tests that plant or look for one).
    pub fn leases(&self) -> Vec<(TokenKey, String)> {
        let now = self.inner.clock.now();
        self.state()
            .leases
            .iter()
            .filter(|(_, (_, until))| *until > now)
            .map(|(k, (id, _))| (k.clone(), id.clone()))
            .collect()
    }

    /// Plants a lease on `key` held by `owner` until `ttl` from now, as a replica that died
    /// fetching (or anyone who can write to the store) leaves one.
    pub fn plant_lease(&self, key: &TokenKey, owner: &str, ttl: Duration) {
        let now = self.inner.clock.now();
        self.state().leases.insert(
            key.clone(),
            (
                Lease::for_owner(owner, "planted").id().to_owned(),
                until(now, ttl),
            ),
        );
    }
}

fn until(now: SystemTime, ttl: Duration) -> SystemTime {
    now.checked_add(ttl).unwrap_or(now)
}

#[async_trait]
impl TokenStore for MemoryTokenStore {
    async fn get(&self, key: &TokenKey) -> Result<Option<ManagedToken>, StoreError> {
        let now = self.call()?;
        let state = self.state();
        Ok(state
            .tokens
            .get(key)
            .filter(|(_, until)| *until > now)
            .map(|(token, _)| token.clone()))
    }

    async fn put(
        &self,
        key: &TokenKey,
        token: &ManagedToken,
        ttl: Duration,
        lease: &Lease,
    ) -> Result<bool, StoreError> {
        let now = self.call()?;
        let mut state = self.state();
        // One lock over tokens and leases: the compare and the write are one step.
        if !state.holds(key, lease, now) {
            return Ok(false);
        }
        state.tokens.insert(key.clone(), (token.clone(), until(now, ttl)));
        Ok(true)
    }

    async fn remove(
        &self,
        key: &TokenKey,
        token: Option<&AccessToken>,
    ) -> Result<Option<ManagedToken>, StoreError> {
        let now = self.call()?;
        let mut state = self.state();
        let matches = state
            .tokens
            .get(key)
            .is_some_and(|(t, until)| *until > now && token.is_none_or(|token| t.token() == token));
        if !matches {
            return Ok(None);
        }
        Ok(state.tokens.remove(key).map(|(t, _)| t))
    }

    async fn try_lease(&self, key: &TokenKey, ttl: Duration, lease: &Lease) -> Result<bool, StoreError> {
        let now = self.call()?;
        let mut state = self.state();
        if state
            .leases
            .get(key)
            .is_some_and(|(id, until)| *until > now && !id.starts_with(lease.owner_prefix()))
        {
            return Ok(false);
        }
        state
            .leases
            .insert(key.clone(), (lease.id().to_owned(), until(now, ttl)));
        Ok(true)
    }

    async fn renew(&self, key: &TokenKey, lease: &Lease, ttl: Duration) -> Result<bool, StoreError> {
        let now = self.call()?;
        let mut state = self.state();
        if !state.holds(key, lease, now) {
            return Ok(false);
        }
        state
            .leases
            .insert(key.clone(), (lease.id().to_owned(), until(now, ttl)));
        Ok(true)
    }

    async fn release(&self, key: &TokenKey, lease: Lease) -> Result<(), StoreError> {
        let now = self.call()?;
        self.release_now(key, &lease, now);
        Ok(())
    }

    fn abandon(&self, key: &TokenKey, lease: Lease) {
        // In memory a release needs no wait: made at once (a failing store keeps it).
        if let Ok(now) = self.call() {
            self.release_now(key, &lease, now);
        }
    }
}
