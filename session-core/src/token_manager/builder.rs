//! [`TokenManagerBuilder`]: every setting of a [`TokenManager`], checked by `build`.

use super::breaker::Breaker;
use super::cache::State;
use super::expiry::MAX_TOKEN_LIFETIME;
use super::removals::{Parts, Removals, Revoke};
use super::shared::Shared;
use super::stats::Counters;
use super::store::{StoreFailure, TokenStore};
use super::{Inner, TokenManager};
use crate::api::SessionApi;
use crate::client::SessionClient;
use crate::error::{ConfigError, Error};
use crate::secret::{AccessToken, SecretKey};
use crate::spawn::Spawn;
use crate::time::{Clock, Sleep};
use crate::transport::HttpTransport;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};

use std::time::Duration;

/// Configures a [`TokenManager`]; [`build`](Self::build) checks everything and never
/// panics.
pub struct TokenManagerBuilder<S> {
    pub(super) api: S,
    pub(super) secret_key: SecretKey,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) skew: Duration,
    pub(super) lifetime: Option<Duration>,
    pub(super) fallback_lifetime: Option<Duration>,
    pub(super) max_keys: usize,
    pub(super) fresh_every_time: bool,
    pub(super) revoke: Option<Revoke>,
    pub(super) store: Option<Arc<dyn TokenStore>>,
    pub(super) sleep: Option<Arc<dyn Sleep>>,
    pub(super) spawn: Option<Arc<dyn Spawn>>,
    pub(super) on_store_failure: StoreFailure,
    pub(super) lease_time: Duration,
    pub(super) store_poll: Duration,
    pub(super) store_wait: Option<Duration>,
    pub(super) store_retry: Duration,
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

    /// Where the manager runs its background work (required with a
    /// [`store`](Self::store); `TokioSpawn` under tokio): the removals the store missed
    /// while it failed are made by a task of it, never on a user's request.
    #[must_use]
    pub fn spawn(mut self, spawn: impl Spawn + 'static) -> Self {
        self.spawn = Some(Arc::new(spawn));
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

    /// The longest a request waits for another replica's lease before it follows the
    /// [`on_store_failure`](Self::on_store_failure) policy (default: the lease time plus one
    /// poll). A lease planted with no expiry, or held by a replica that died with a long
    /// one, costs each request at most this, on every replica.
    #[must_use]
    pub fn store_wait(mut self, wait: Duration) -> Self {
        self.store_wait = Some(wait);
        self
    }

    /// After a store failure, how long the store is skipped before one request tries it
    /// again (default 1 s, doubling on each failed try up to 30 s). Meanwhile tokens are
    /// cached in this process's memory, so the cluster sees at most one get token call per
    /// key and token lifetime from this replica; what is given up is sharing with the other
    /// replicas, and invalidations made on them.
    #[must_use]
    pub fn store_retry(mut self, first: Duration) -> Self {
        self.store_retry = first;
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
        let counters = Arc::new(Counters::default());
        let shared = match (self.store, self.sleep, self.spawn) {
            (None, _, _) => None,
            (Some(_), None, _) => {
                return Err(ConfigError::new(
                    "a token store needs a sleep (TokenManagerBuilder::sleep), to wait while another replica fetches",
                ));
            }
            (Some(_), Some(_), None) => {
                return Err(ConfigError::new(
                    "a token store needs a spawn (TokenManagerBuilder::spawn, TokioSpawn under tokio), to make the removals it misses off the request path",
                ));
            }
            (Some(store), Some(sleep), Some(spawn)) => {
                if self.lease_time.is_zero() || self.store_poll.is_zero() {
                    return Err(ConfigError::new(
                        "lease_time and store_poll must be longer than zero",
                    ));
                }
                let wait = self.store_wait.unwrap_or(self.lease_time + self.store_poll);
                if wait.is_zero() || self.store_retry.is_zero() {
                    return Err(ConfigError::new(
                        "store_wait and store_retry must be longer than zero",
                    ));
                }
                let breaker = Arc::new(Breaker::new(
                    self.store_retry,
                    self.store_retry.max(Duration::from_secs(30)),
                    counters.clone(),
                ));
                let removals = Arc::new(Removals::new(Parts {
                    store: store.clone(),
                    breaker: breaker.clone(),
                    spawn,
                    sleep: sleep.clone(),
                    retry: self.store_retry,
                    revoke: self.revoke.clone(),
                    counters: counters.clone(),
                    clock: self.clock.clone(),
                }));
                Some(Arc::new(Shared {
                    store,
                    sleep,
                    on_failure: self.on_store_failure,
                    lease_time: self.lease_time,
                    poll: self.store_poll,
                    wait,
                    owner: replica_id(),
                    leases: std::sync::atomic::AtomicU64::new(0),
                    breaker,
                    removals,
                }))
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
                counters,
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

/// A replica's id for the leases it takes: 128 random bits in hex, so that two replicas
/// never share one. std's `RandomState` draws its keys from the operating system's
/// randomness, once per process and then per instance.
fn replica_id() -> String {
    use std::fmt::Write as _;
    use std::hash::{BuildHasher, Hasher};
    let mut id = String::with_capacity(32);
    for part in 0u8..2 {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u8(part);
        let _ = write!(id, "{:016x}", hasher.finish());
    }
    id
}
