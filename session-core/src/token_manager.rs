//! `TokenManager`: cached, single-flight trusted-authentication tokens for a token service.

use crate::api::SessionApi;
use crate::client::SessionClient;
use crate::error::{ConfigError, Error};
use crate::model::{AccessLevel, GetTokenRequest, SessionLoginResponse};
use crate::secret::{AccessToken, SecretKey};
use crate::time::{Clock, Sleep, SystemClock};
use crate::token_store::{StoreError, StoreFailure, TokenStore};
use crate::transport::HttpTransport;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, SystemTime};

/// What a token is for: user, org, access level and object. Tokens are cached per key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TokenKey {
    user: String,
    org: Option<String>,
    access_level: AccessLevel,
    object_id: Option<String>,
}

impl TokenKey {
    /// A full-access token for `user`, in the user's default org.
    pub fn new(user: impl Into<String>) -> Self {
        Self {
            user: user.into(),
            org: None,
            access_level: AccessLevel::Full,
            object_id: None,
        }
    }

    /// Scopes the token to an org.
    #[must_use]
    pub fn with_org_id(mut self, org: impl Into<String>) -> Self {
        self.org = Some(org.into());
        self
    }

    /// View access to one Liveboard or visualization (`REPORT_BOOK_VIEW`).
    #[must_use]
    pub fn with_report_book_view(mut self, object_id: impl Into<String>) -> Self {
        self.access_level = AccessLevel::ReportBookView;
        self.object_id = Some(object_id.into());
        self
    }

    /// The user.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The org, if scoped.
    pub fn org_id(&self) -> Option<&str> {
        self.org.as_deref()
    }

    /// The access level.
    pub fn access_level(&self) -> AccessLevel {
        self.access_level
    }

    /// The object of a `REPORT_BOOK_VIEW` key.
    pub fn object_id(&self) -> Option<&str> {
        self.object_id.as_deref()
    }
}

/// A token the manager handed out. Its `Debug` redacts the token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManagedToken {
    token: AccessToken,
    issued_at: SystemTime,
    expires_at: SystemTime,
}

impl ManagedToken {
    /// A token issued at `issued_at` that expires at `expires_at`: what a
    /// [`TokenStore`] reads back.
    pub fn new(token: AccessToken, issued_at: SystemTime, expires_at: SystemTime) -> Self {
        Self {
            token,
            issued_at,
            expires_at,
        }
    }

    /// The bearer token.
    pub fn token(&self) -> &AccessToken {
        &self.token
    }

    /// When the manager asked for it (the manager's clock).
    pub fn issued_at(&self) -> SystemTime {
        self.issued_at
    }

    /// When it expires, on the manager's clock: when its request was sent plus the lifetime
    /// the cluster answered (or the fallback lifetime); see [`TOKEN_CLOCK_TOLERANCE`].
    pub fn expires_at(&self) -> SystemTime {
        self.expires_at
    }
}

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
    /// ([`StoreFailure::FetchLocally`]).
    pub store_fallbacks: u64,
    /// Tokens cached now in this process (none while a shared store holds them).
    pub cached: usize,
}

type RevokeFuture = Pin<Box<dyn Future<Output = Result<bool, Error>> + Send>>;
type Revoke = Arc<dyn Fn(AccessToken) -> RevokeFuture + Send + Sync>;

/// How far the cluster's absolute expiry may fall short of the local one and still be
/// believed (30 s). A cluster clock off by more is ignored: freshness then rests on the
/// manager's clock and the lifetime alone.
pub const TOKEN_CLOCK_TOLERANCE: Duration = Duration::from_secs(30);

/// The longest lifetime the manager believes or accepts (one year): a longer one from the
/// cluster is cut to it, and a longer one configured is refused.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(365 * 24 * 3600);

/// Configures a [`TokenManager`]; [`build`](Self::build) checks everything and never
/// panics.
pub struct TokenManagerBuilder<S> {
    api: S,
    secret_key: SecretKey,
    clock: Arc<dyn Clock>,
    skew: Duration,
    lifetime: Option<Duration>,
    fallback_lifetime: Option<Duration>,
    max_keys: usize,
    fresh_every_time: bool,
    revoke: Option<Revoke>,
    store: Option<Arc<dyn TokenStore>>,
    sleep: Option<Arc<dyn Sleep>>,
    on_store_failure: StoreFailure,
    lease_time: Duration,
    store_poll: Duration,
}

impl<S: SessionApi> TokenManagerBuilder<S> {
    /// Keeps tokens in `store`, shared with the other replicas of the service, instead of
    /// in this process (see [Scaling out](TokenManager#scaling-out)). Needs a
    /// [`sleep`](Self::sleep), to wait while another replica fetches.
    #[must_use]
    pub fn store(mut self, store: impl TokenStore + 'static) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// The sleep the manager waits on while another replica fetches a token it needs
    /// (required with a [`store`](Self::store); `TokioSleep` under tokio).
    #[must_use]
    pub fn sleep(mut self, sleep: impl Sleep + 'static) -> Self {
        self.sleep = Some(Arc::new(sleep));
        self
    }

    /// What to do when the store fails (default [`StoreFailure::FetchLocally`]).
    #[must_use]
    pub fn on_store_failure(mut self, failure: StoreFailure) -> Self {
        self.on_store_failure = failure;
        self
    }

    /// How long a replica may fetch a key's token before another may take over (default
    /// 15 s): the longest a replica that died while fetching holds the others up.
    #[must_use]
    pub fn lease_time(mut self, lease: Duration) -> Self {
        self.lease_time = lease;
        self
    }

    /// How often a replica waiting for another's fetch looks for its token (default 25 ms).
    #[must_use]
    pub fn store_poll(mut self, every: Duration) -> Self {
        self.store_poll = every;
        self
    }

    /// The clock that decides whether a cached token is still good (default the system
    /// clock; give a virtual one in tests). To share one, pass an `Arc` of it.
    #[must_use]
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// A cached token is served only while it stays valid for longer than this (default
    /// 60 s). It must be shorter than the token lifetime and the fallback lifetime.
    #[must_use]
    pub fn skew(mut self, skew: Duration) -> Self {
        self.skew = skew;
        self
    }

    /// The lifetime asked of the cluster (`tokenExpiryDuration`); by default none is asked
    /// and the cluster's default applies.
    #[must_use]
    pub fn token_lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = Some(lifetime);
        self
    }

    /// The lifetime assumed when the cluster's answer says nothing of expiry. When not set:
    /// the asked [`token_lifetime`](Self::token_lifetime), else 5 minutes.
    #[must_use]
    pub fn fallback_lifetime(mut self, lifetime: Duration) -> Self {
        self.fallback_lifetime = Some(lifetime);
        self
    }

    /// The most keys cached (default 10,000); the least recently used is evicted. At least
    /// 1.
    #[must_use]
    pub fn max_keys(mut self, max: usize) -> Self {
        self.max_keys = max;
        self
    }

    /// Mint a new token for every request, for front ends that refuse a token they have
    /// seen (nothing is cached or shared).
    #[must_use]
    pub fn fresh_every_time(mut self, fresh: bool) -> Self {
        self.fresh_every_time = fresh;
        self
    }

    /// Revoke a token on the cluster when it is invalidated or evicted, with `revoke`.
    #[must_use]
    pub fn revoke_with<F, Fut>(mut self, revoke: F) -> Self
    where
        F: Fn(AccessToken) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<bool, Error>> + Send + 'static,
    {
        self.revoke = Some(Arc::new(move |token| Box::pin(revoke(token))));
        self
    }

    /// Checks the configuration and builds the manager.
    pub fn build(self) -> Result<TokenManager<S>, ConfigError> {
        if self.max_keys == 0 {
            return Err(ConfigError::new("max_keys must be at least 1"));
        }
        let fallback = self
            .fallback_lifetime
            .or(self.lifetime)
            .unwrap_or(Duration::from_secs(300));
        for (name, lifetime) in [
            ("token_lifetime", self.lifetime),
            ("fallback_lifetime", Some(fallback)),
        ] {
            let Some(lifetime) = lifetime else { continue };
            if lifetime.is_zero() || lifetime > MAX_TOKEN_LIFETIME {
                return Err(ConfigError::new(format!(
                    "{name} must be longer than zero and at most a year"
                )));
            }
            if self.skew >= lifetime {
                return Err(ConfigError::new(format!(
                    "the skew ({:?}) must be shorter than {name} ({lifetime:?}): no token would ever \
                     be served from the cache",
                    self.skew
                )));
            }
        }
        let shared = match (self.store, self.sleep) {
            (None, _) => None,
            (Some(_), None) => {
                return Err(ConfigError::new(
                    "a token store needs a sleep (TokenManagerBuilder::sleep), to wait while another replica fetches",
                ));
            }
            (Some(store), Some(sleep)) => {
                if self.lease_time.is_zero() || self.store_poll.is_zero() {
                    return Err(ConfigError::new(
                        "lease_time and store_poll must be longer than zero",
                    ));
                }
                Some(Shared {
                    store,
                    sleep,
                    on_failure: self.on_store_failure,
                    lease_time: self.lease_time,
                    poll: self.store_poll,
                    rejected: Mutex::new(HashMap::new()),
                })
            }
        };
        Ok(TokenManager {
            inner: Arc::new(Inner {
                shared,
                api: self.api,
                secret_key: self.secret_key,
                clock: self.clock,
                skew: self.skew,
                lifetime: self.lifetime,
                fallback_lifetime: fallback,
                max_keys: self.max_keys,
                fresh_every_time: self.fresh_every_time,
                revoke: self.revoke,
                state: Mutex::new(State::default()),
                counters: Counters::default(),
            }),
        })
    }
}

impl<T: HttpTransport + 'static> TokenManagerBuilder<SessionClient<T>> {
    /// Revoke a token on the cluster when it is invalidated or evicted, through the same
    /// client ([`SessionClient::revoke_access_token`], which leaves the client's own token
    /// and cookies alone); off by default.
    #[must_use]
    pub fn revoke_on_invalidate(self, revoke: bool) -> Self {
        if !revoke {
            return Self { revoke: None, ..self };
        }
        let client = self.api.clone();
        self.revoke_with(move |token| {
            let client = client.clone();
            async move { client.revoke_access_token(&token).await }
        })
    }
}

impl<S> fmt::Debug for TokenManagerBuilder<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenManagerBuilder")
            .field("secret_key", &self.secret_key)
            .field("skew", &self.skew)
            .field("lifetime", &self.lifetime)
            .field("fallback_lifetime", &self.fallback_lifetime)
            .field("max_keys", &self.max_keys)
            .field("fresh_every_time", &self.fresh_every_time)
            .field("revoke_on_invalidate", &self.revoke.is_some())
            .field("store", &self.store)
            .field("on_store_failure", &self.on_store_failure)
            .field("lease_time", &self.lease_time)
            .finish_non_exhaustive()
    }
}

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
/// `thoughtspot-session-redis` crate has one on Redis) and:
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
/// assert!(manager.evict(&key).await); // sign-out: revoked on the cluster too
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
    shared: Option<Shared>,
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
    counters: Counters,
}

/// A shared token store and how the manager uses it.
struct Shared {
    store: Arc<dyn TokenStore>,
    sleep: Arc<dyn Sleep>,
    on_failure: StoreFailure,
    lease_time: Duration,
    poll: Duration,
    /// Tokens invalidated while the store failed, by key: never served from the store by
    /// this process, and removed from it when seen again.
    rejected: Mutex<HashMap<TokenKey, AccessToken>>,
}

impl Shared {
    fn rejected(&self) -> MutexGuard<'_, HashMap<TokenKey, AccessToken>> {
        // Single inserts and removes: a poisoned lock holds a whole map.
        self.rejected.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[derive(Default)]
struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    joined: AtomicU64,
    fetches: AtomicU64,
    errors: AtomicU64,
    evictions: AtomicU64,
    revoke_errors: AtomicU64,
    uncached: AtomicU64,
    store_hits: AtomicU64,
    store_waits: AtomicU64,
    store_errors: AtomicU64,
    store_fallbacks: AtomicU64,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

#[derive(Default)]
struct State {
    entries: HashMap<TokenKey, Slot>,
    /// Cached keys by last use, oldest first.
    lru: BTreeMap<u64, TokenKey>,
    tick: u64,
}

enum Slot {
    Ready { token: ManagedToken, used: u64 },
    Pending(Arc<Flight>),
}

/// One get token call that several requests wait for.
#[derive(Default)]
struct Flight {
    state: Mutex<FlightState>,
}

#[derive(Default)]
enum FlightState {
    #[default]
    Running,
    Waiting(Vec<Waker>),
    Done(Result<ManagedToken, Error>),
    /// The request that ran the fetch was dropped before it finished.
    Abandoned,
}

impl Flight {
    fn lock(&self) -> MutexGuard<'_, FlightState> {
        // Updated by single assignments: a poisoned lock holds a whole state.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn finish(&self, end: FlightState) {
        let previous = std::mem::replace(&mut *self.lock(), end);
        if let FlightState::Waiting(wakers) = previous {
            wakers.into_iter().for_each(Waker::wake);
        }
    }
}

/// Ready on its second poll: lets the executor run other tasks once, on any runtime.
struct YieldNow(bool);

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Waits for a flight; `None` when it was abandoned.
struct Join(Arc<Flight>);

impl Future for Join {
    type Output = Option<Result<ManagedToken, Error>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.0.lock();
        match &mut *state {
            FlightState::Done(result) => Poll::Ready(Some(result.clone())),
            FlightState::Abandoned => Poll::Ready(None),
            FlightState::Running => {
                *state = FlightState::Waiting(vec![cx.waker().clone()]);
                Poll::Pending
            }
            FlightState::Waiting(wakers) => {
                if !wakers.iter().any(|w| w.will_wake(cx.waker())) {
                    wakers.push(cx.waker().clone());
                }
                Poll::Pending
            }
        }
    }
}

/// Ends a flight when the request running it finishes or is dropped.
struct Leader<'a, S> {
    inner: &'a Inner<S>,
    key: &'a TokenKey,
    flight: Arc<Flight>,
    finished: bool,
}

impl<S> Leader<'_, S> {
    fn finish(mut self, result: Result<ManagedToken, Error>) {
        self.finished = true;
        let mut state = self.inner.lock();
        let ours =
            matches!(state.entries.get(self.key), Some(Slot::Pending(f)) if Arc::ptr_eq(f, &self.flight));
        if ours {
            state.entries.remove(self.key);
            if let Ok(token) = &result
                && self.inner.shared.is_none()
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

impl<S> Inner<S> {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Every update below is completed before the guard drops; a panic cannot leave a
        // half-written entry, so a poisoned lock is used as it is.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A token that expires within the skew margin would never be served again.
    fn cacheable(&self, token: &ManagedToken) -> bool {
        token
            .expires_at
            .duration_since(token.issued_at)
            .is_ok_and(|lifetime| lifetime > self.skew)
    }

    fn cache(&self, state: &mut State, key: TokenKey, token: ManagedToken) {
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

enum Next {
    Serve(ManagedToken),
    Join(Arc<Flight>),
    Lead(Arc<Flight>),
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
            on_store_failure: StoreFailure::default(),
            lease_time: Duration::from_secs(15),
            store_poll: Duration::from_millis(25),
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
        loop {
            let next = {
                let now = inner.clock.now();
                let mut state = inner.lock();
                state.tick += 1;
                let tick = state.tick;
                let State { entries, lru, .. } = &mut *state;
                match entries.get_mut(key) {
                    Some(Slot::Ready { token, used })
                        if now.checked_add(inner.skew).is_some_and(|t| token.expires_at > t) =>
                    {
                        lru.remove(used);
                        lru.insert(tick, key.clone());
                        *used = tick;
                        Next::Serve(token.clone())
                    }
                    Some(Slot::Pending(flight)) => Next::Join(flight.clone()),
                    stale => {
                        if let Some(Slot::Ready { used, .. }) = stale {
                            lru.remove(used);
                        }
                        let flight = Arc::new(Flight::default());
                        entries.insert(key.clone(), Slot::Pending(flight.clone()));
                        Next::Lead(flight)
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
                Next::Lead(flight) => {
                    bump(&inner.counters.misses);
                    let leader = Leader {
                        inner,
                        key,
                        flight,
                        finished: false,
                    };
                    let result = match &inner.shared {
                        None => self.fetch(key).await,
                        Some(shared) => self.token_from_store(shared, key).await,
                    };
                    leader.finish(result.clone());
                    return result;
                }
            }
        }
    }

    async fn fetch(&self, key: &TokenKey) -> Result<ManagedToken, Error> {
        let inner = &*self.inner;
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
        bump(&inner.counters.fetches);
        let sent_at = inner.clock.now();
        let response = match inner.api.get_token(&request).await {
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
    async fn token_from_store(&self, shared: &Shared, key: &TokenKey) -> Result<ManagedToken, Error> {
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

    fn count_store_error(&self, e: &StoreError) {
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
        let Some(revoke) = &self.inner.revoke else { return };
        if let Err(e) = revoke(token.token).await {
            bump(&self.inner.counters.revoke_errors);
            // The error's text holds no secret (see the error module).
            tracing::warn!(error = %e, "revoking a token failed; it stays valid until it expires");
        }
    }

    /// Forgets `rejected` if it is still the cached token of `key`, so it is never served
    /// again; with revocation on, also revokes it (best-effort). `true` when it was cached.
    ///
    /// A token another request already replaced is left alone: two reports of one rejected
    /// token invalidate once.
    pub async fn invalidate(&self, key: &TokenKey, rejected: &AccessToken) -> bool {
        let token = match &self.inner.shared {
            None => self.take(key, |cached| cached.token == *rejected),
            Some(shared) => match shared.store.remove(key, Some(rejected)).await {
                Ok(removed) => removed,
                Err(e) => {
                    // Not known to be gone from the store: this process will not serve it,
                    // and removes it when it meets it there again.
                    self.count_store_error(&e);
                    let mut remembered = shared.rejected();
                    if remembered.len() < self.inner.max_keys {
                        remembered.insert(key.clone(), rejected.clone());
                    }
                    None
                }
            },
        };
        let Some(token) = token else {
            return false;
        };
        self.revoke(token).await;
        true
    }

    /// A new token in place of `rejected`, the token the front end refused: invalidates
    /// `rejected` if it is still cached (revoking it, best-effort), then returns the cached
    /// or a new token. When another request already replaced `rejected`, that replacement
    /// is returned and nothing is minted.
    pub async fn refresh(&self, key: &TokenKey, rejected: &AccessToken) -> Result<ManagedToken, Error> {
        self.invalidate(key, rejected).await;
        self.token(key).await
    }

    /// Forgets whatever token is cached for `key`, revoking it with revocation on
    /// (best-effort): for a user's sign-out. `true` when a token was cached.
    pub async fn evict(&self, key: &TokenKey) -> bool {
        let token = match &self.inner.shared {
            None => self.take(key, |_| true),
            Some(shared) => match shared.store.remove(key, None).await {
                Ok(removed) => removed,
                Err(e) => {
                    self.count_store_error(&e);
                    None
                }
            },
        };
        let Some(token) = token else {
            return false;
        };
        self.revoke(token).await;
        true
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

/// When a token answered to a request sent at `sent_at` expires, on the local clock.
///
/// The lifetime (`tokenExpiryDuration` in seconds, or the cluster's expiry minus its
/// creation time) is measured on the cluster but is the same on any clock, so it is added
/// to the local send time. The cluster's absolute expiry is read on the cluster's clock: it
/// only shortens the result, and only when it falls short by at most [`TOKEN_CLOCK_TOLERANCE`];
/// a cluster clock off by more is ignored. With no lifetime, a plausible absolute expiry
/// (in the future, within [`MAX_TOKEN_LIFETIME`]) is used, else `fallback`.
fn local_expiry(sent_at: SystemTime, response: &SessionLoginResponse, fallback: Duration) -> SystemTime {
    let absolute = response.expires_at();
    let lifetime = match response.lifetime() {
        Some(lifetime) => lifetime.min(MAX_TOKEN_LIFETIME),
        None => match absolute.and_then(|at| at.duration_since(sent_at).ok()) {
            Some(left) if !left.is_zero() && left <= MAX_TOKEN_LIFETIME => left,
            _ => fallback,
        },
    };
    // Both lifetimes are at most a year: the sum stays in range for any real clock; should
    // it not, the token counts as expired at once.
    let local = sent_at.checked_add(lifetime).unwrap_or(sent_at);
    match absolute {
        Some(at) if at < local && local.duration_since(at).is_ok_and(|d| d <= TOKEN_CLOCK_TOLERANCE) => at,
        _ => local,
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

#[cfg(test)]
mod tests {
    use super::*;

    const AT: Duration = Duration::from_secs(1_800_000_000);

    fn at(secs_after: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + AT + Duration::from_secs(secs_after)
    }

    #[test]
    fn expiry_is_the_local_send_time_plus_the_lifetime() {
        let sent = at(0);
        let fallback = Duration::from_secs(120);
        let seconds = SessionLoginResponse::new()
            .with_created_at(at(7200))
            .with_lifetime(Duration::from_secs(300));
        assert_eq!(local_expiry(sent, &seconds, fallback), at(300));
        // The cluster's expiry 20 s short of ours: believed, as an upper bound.
        let short = SessionLoginResponse::new()
            .with_created_at(at(0))
            .with_absolute_expiry(at(280));
        assert_eq!(local_expiry(sent, &short, fallback), at(280));
        // Nothing of expiry: the fallback.
        assert_eq!(
            local_expiry(sent, &SessionLoginResponse::new(), fallback),
            at(120)
        );
        // Only an absolute expiry: used when plausible, else the fallback.
        let absolute = SessionLoginResponse::new().with_absolute_expiry(at(600));
        assert_eq!(local_expiry(sent, &absolute, fallback), at(600));
        let past = SessionLoginResponse::new().with_absolute_expiry(at(0) - Duration::from_secs(60));
        assert_eq!(local_expiry(sent, &past, fallback), at(120));
        // An absurd lifetime is cut to a year, never an overflow.
        let huge = SessionLoginResponse::new().with_lifetime(Duration::from_secs(10_000_000_000));
        assert_eq!(local_expiry(sent, &huge, fallback), sent + MAX_TOKEN_LIFETIME);
    }
}
