//! # thoughtspot-session-redis
//!
//! A [`TokenStore`] on Redis for `TokenManager`: the replicas of a trusted-authentication
//! token service share one cache, so that concurrent requests for a user on any number of
//! replicas make one get token call, and an invalidation on one replica holds on all.
//!
//! - **One fetch across replicas.** A replica that finds no token takes the key's lease
//!   (`SET … NX PX`) and fetches; the others wait for its token. A lease that its holder
//!   never gives back (the replica died) lapses after `lease_time`.
//! - **Invalidation everywhere.** Nothing is cached in the replicas: every request reads
//!   Redis, so once `invalidate` or `refresh` returns, no replica serves the old token.
//!   Removal is conditional and atomic (a Lua compare-and-delete), so a report of an old
//!   token never deletes its replacement.
//! - **Encrypted at rest.** Each token is sealed with ChaCha20-Poly1305 under a key the
//!   application supplies, bound to the Redis key it is stored under. Keys rotate: the first
//!   key seals, every key opens. Redis key names hold a digest of the user, org and object,
//!   never the names themselves. An entry's TTL ends before its token does (expiry minus
//!   the manager's skew).
//! - **Redis trouble is not an outage.** Every call is bounded by [`timeout`]; the manager
//!   then fetches on its own (or fails, as configured), counts it, and shares again once
//!   Redis answers. A value that does not open (corrupt, foreign, under a retired key) is a
//!   miss.
//! - **TLS and ACLs** come from the URL, as the `redis` crate reads it: `rediss://` (feature
//!   `tls`), `redis://user:password@host:6379/0`.
//!
//! It needs Redis 6.2 or later (`GETDEL`), or a server that speaks the same commands
//! (Valkey, for one).
//!
//! ```no_run
//! use thoughtspot_session_core::{TokenKey, TokenManager, TokioSleep};
//! use thoughtspot_session_redis::{EncryptionKey, RedisTokenStore};
//! # async fn run(client: thoughtspot_session_core::SessionClient) -> Result<(), Box<dyn std::error::Error>> {
//! let keys = EncryptionKey::parse_list(&std::env::var("TS_TOKEN_KEYS")?)?;
//! let store = RedisTokenStore::builder("redis://127.0.0.1:6379")
//!     .namespace("analytics.example.thoughtspot.cloud", "token-service")
//!     .keys(keys)
//!     .connect()
//!     .await?;
//! let manager = TokenManager::builder(client, "trusted-auth-secret-key")
//!     .store(store)
//!     .sleep(TokioSleep::new())
//!     .build()?;
//! let token = manager.token(&TokenKey::new("analyst")).await?;
//! # Ok(()) }
//! ```
//!
//! [`timeout`]: RedisTokenStoreBuilder::timeout
#![cfg_attr(docsrs, feature(doc_cfg))]

mod seal;

pub use seal::EncryptionKey;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use seal::Keyring;
use sha2::{Digest, Sha256};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use thoughtspot_session_core::{
    AccessToken, ConfigError, Error, Lease, ManagedToken, StoreError, StoreErrorKind, TokenKey, TokenStore,
};

/// Removes KEYS[1] only while it holds ARGV[1]: the release of a lease, the removal of one
/// token, atomic on the server.
const COMPARE_AND_DELETE: &str =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

/// The default bound on one Redis call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(250);

/// A token cache on Redis, shared by the replicas of a token service (see the crate docs).
/// Cheap to clone: clones share one connection.
#[derive(Clone)]
pub struct RedisTokenStore {
    inner: Arc<Inner>,
}

struct Inner {
    /// The connection, once made; `None` until Redis first answered.
    connection: Mutex<Option<ConnectionManager>>,
    client: redis::Client,
    config: ConnectionManagerConfig,
    prefix: String,
    /// Values read that did not open.
    unreadable: AtomicU64,
    keyring: Keyring,
    timeout: Duration,
}

impl fmt::Debug for RedisTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisTokenStore")
            .field("prefix", &self.inner.prefix)
            .field("timeout", &self.inner.timeout)
            .finish_non_exhaustive()
    }
}

/// Configures a [`RedisTokenStore`].
pub struct RedisTokenStoreBuilder {
    url: String,
    cluster: String,
    app: String,
    keys: Vec<EncryptionKey>,
    timeout: Duration,
}

impl fmt::Debug for RedisTokenStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may carry a password: only its scheme is shown.
        let scheme = self.url.split_once("://").map_or("?", |(s, _)| s);
        f.debug_struct("RedisTokenStoreBuilder")
            .field("url", &format_args!("{scheme}://[redacted]"))
            .field("cluster", &self.cluster)
            .field("app", &self.app)
            .field("keys", &self.keys)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl RedisTokenStore {
    /// A store on the Redis at `url` (`redis://[user:password@]host:port[/db]`, or
    /// `rediss://…` with the `tls` feature).
    pub fn builder(url: impl Into<String>) -> RedisTokenStoreBuilder {
        RedisTokenStoreBuilder {
            url: url.into(),
            cluster: String::new(),
            app: String::new(),
            keys: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// The Redis key name of `key`'s token (`kind` "token") or lease ("lease").
    fn name(&self, kind: &str, key: &TokenKey) -> String {
        let mut digest = Sha256::new();
        for part in [
            key.user(),
            key.org_id().unwrap_or(""),
            key.access_level().as_str(),
            key.object_id().unwrap_or(""),
        ] {
            // Length-prefixed, so that no two keys make one input.
            digest.update((part.len() as u64).to_be_bytes());
            digest.update(part.as_bytes());
        }
        let digest = digest.finalize();
        let prefix = &self.inner.prefix;
        let mut name = String::with_capacity(prefix.len() + kind.len() + 34);
        name.push_str(prefix);
        name.push(':');
        name.push_str(kind);
        name.push(':');
        push_hex(&mut name, &digest[..16]);
        name
    }

    /// Runs `cmd` on the connection within the timeout.
    ///
    /// After an outage the connection manager still holds its last failed reconnection, and
    /// the first command on it fails with that stale refusal while a fresh connection is
    /// started. A refused command was never sent, so it is sent once more, on the fresh
    /// connection, within the same bound: a replica goes back to Redis on the first request
    /// after Redis answers, not on the second.
    async fn query<T: redis::FromRedisValue>(
        &self,
        what: &'static str,
        cmd: &redis::Cmd,
    ) -> Result<T, StoreError> {
        let mut connection = self.connection().await?;
        let attempt = async {
            match cmd.query_async(&mut connection).await {
                Err(e) if e.is_connection_refusal() => cmd.query_async(&mut connection).await,
                other => other,
            }
        };
        match tokio::time::timeout(self.inner.timeout, attempt).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => {
                let kind = if e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal() {
                    StoreErrorKind::Unavailable
                } else if e.is_timeout() {
                    StoreErrorKind::Timeout
                } else {
                    StoreErrorKind::Other
                };
                Err(StoreError::new(kind, what).with_source(e))
            }
            Err(_) => Err(StoreError::new(
                StoreErrorKind::Timeout,
                format!("{what}: no answer from Redis within {:?}", self.inner.timeout),
            )),
        }
    }

    /// The connection, made now if Redis has not answered before (within the timeout).
    async fn connection(&self) -> Result<ConnectionManager, StoreError> {
        if let Some(connection) = self.lock().as_ref() {
            return Ok(connection.clone());
        }
        let made = connect(&self.inner.client, &self.inner.config, self.inner.timeout).await?;
        Ok(self.lock().get_or_insert(made).clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<ConnectionManager>> {
        // Set once from None to Some: a poisoned lock holds a whole value.
        self.inner.connection.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Opens `value` stored under `name`; one that does not open is counted, logged and a
    /// miss.
    fn open(&self, name: &str, value: Option<&[u8]>) -> Option<ManagedToken> {
        let token = self.inner.keyring.open(name, value?);
        if token.is_none() {
            self.inner.unreadable.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                "a token in Redis did not open (corrupt, written by another program, or sealed under \
                 a key this replica lacks: do all replicas share the same keys?); taken as a miss"
            );
        }
        token
    }

    /// How many values read from Redis did not open: corrupt, foreign, or sealed under a
    /// key this store lacks. Replicas with different keys would each overwrite the other's
    /// tokens; this count (and a warning in the log) shows it.
    pub fn unreadable_values(&self) -> u64 {
        self.inner.unreadable.load(Ordering::Relaxed)
    }
}

impl RedisTokenStoreBuilder {
    /// The cluster and the application the tokens belong to: every Redis key starts with
    /// `ts-session:{cluster}:{app}:`, so that two services or two clusters sharing a Redis
    /// never read each other's tokens.
    #[must_use]
    pub fn namespace(mut self, cluster: impl Into<String>, app: impl Into<String>) -> Self {
        self.cluster = cluster.into();
        self.app = app.into();
        self
    }

    /// The encryption keys: the first seals new values, all open stored ones (add the new
    /// key first to rotate; drop an old key once its values have expired). Required.
    #[must_use]
    pub fn keys(mut self, keys: impl IntoIterator<Item = EncryptionKey>) -> Self {
        self.keys = keys.into_iter().collect();
        self
    }

    /// The bound on each Redis call, connecting included (default 250 ms).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Checks the configuration and connects: fails at once when Redis cannot be reached,
    /// which a service may prefer at start-up. Reconnects by itself later on.
    pub async fn connect(self) -> Result<RedisTokenStore, Error> {
        let store = self.build()?;
        let made = connect(&store.inner.client, &store.inner.config, store.inner.timeout).await?;
        *store.lock() = Some(made);
        Ok(store)
    }

    /// Checks the configuration; connects on first use. A service started while Redis is
    /// down then starts, fetching on its own (as `TokenManager` does when its store fails),
    /// and shares once Redis answers.
    pub fn build(self) -> Result<RedisTokenStore, ConfigError> {
        if self.cluster.is_empty() || self.app.is_empty() {
            return Err(ConfigError::new(
                "the Redis token store needs a namespace (cluster and app)",
            ));
        }
        if self.timeout.is_zero() {
            return Err(ConfigError::new("the Redis timeout must be longer than zero"));
        }
        let keyring = Keyring::new(&self.keys)?;
        let client = redis::Client::open(self.url.as_str()).map_err(|_| {
            ConfigError::new("the Redis URL is not valid (redis://[user:password@]host:port[/db])")
        })?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(1);
        Ok(RedisTokenStore {
            inner: Arc::new(Inner {
                connection: Mutex::new(None),
                client,
                config,
                prefix: format!("ts-session:{}:{}", self.cluster, self.app),
                unreadable: AtomicU64::new(0),
                keyring,
                timeout: self.timeout,
            }),
        })
    }
}

/// A connection to Redis, made within a few timeouts.
async fn connect(
    client: &redis::Client,
    config: &ConnectionManagerConfig,
    timeout: Duration,
) -> Result<ConnectionManager, StoreError> {
    tokio::time::timeout(
        timeout * 4,
        client.get_connection_manager_with_config(config.clone()),
    )
    .await
    .map_err(|_| StoreError::new(StoreErrorKind::Timeout, "connecting to Redis timed out"))?
    .map_err(|e| StoreError::new(StoreErrorKind::Unavailable, "connecting to Redis failed").with_source(e))
}

/// Appends `bytes` to `out` in lowercase hex.
fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
}

/// Random lease ids: 128 bits, hex.
fn lease_id() -> Result<String, StoreError> {
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes)
        .map_err(|_| StoreError::new(StoreErrorKind::Other, "no randomness for a lease id"))?;
    let mut id = String::with_capacity(32);
    push_hex(&mut id, &bytes);
    Ok(id)
}

/// `EVAL` of the compare-and-delete script on `name`, expecting `value`.
fn compare_and_delete(name: &str, value: impl redis::ToRedisArgs) -> redis::Cmd {
    let mut cmd = redis::cmd("EVAL");
    cmd.arg(COMPARE_AND_DELETE).arg(1).arg(name).arg(value);
    cmd
}

#[async_trait]
impl TokenStore for RedisTokenStore {
    async fn get(&self, key: &TokenKey) -> Result<Option<ManagedToken>, StoreError> {
        let name = self.name("token", key);
        let value: Option<Vec<u8>> = self.query("GET of a token", redis::cmd("GET").arg(&name)).await?;
        Ok(self.open(&name, value.as_deref()))
    }

    async fn put(&self, key: &TokenKey, token: &ManagedToken, ttl: Duration) -> Result<(), StoreError> {
        let name = self.name("token", key);
        let sealed = self
            .inner
            .keyring
            .seal(&name, token)
            .map_err(|why| StoreError::new(StoreErrorKind::Other, why))?;
        let millis = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        self.query(
            "SET of a token",
            redis::cmd("SET").arg(&name).arg(sealed).arg("PX").arg(millis),
        )
        .await
    }

    async fn remove(
        &self,
        key: &TokenKey,
        token: Option<&AccessToken>,
    ) -> Result<Option<ManagedToken>, StoreError> {
        let name = self.name("token", key);
        let Some(expected) = token else {
            let value: Option<Vec<u8>> = self
                .query("GETDEL of a token", redis::cmd("GETDEL").arg(&name))
                .await?;
            return Ok(self.open(&name, value.as_deref()));
        };
        let value: Option<Vec<u8>> = self.query("GET of a token", redis::cmd("GET").arg(&name)).await?;
        let Some(value) = value else { return Ok(None) };
        let Some(stored) = self.open(&name, Some(&value)) else {
            return Ok(None);
        };
        if stored.token() != expected {
            return Ok(None);
        }
        // Deleted only if the value is still the one read: a replacement written since stays.
        let deleted: i64 = self
            .query("compare-and-delete of a token", &compare_and_delete(&name, value))
            .await?;
        Ok((deleted == 1).then_some(stored))
    }

    async fn try_lease(&self, key: &TokenKey, ttl: Duration) -> Result<Option<Lease>, StoreError> {
        let lease = self.name("lease", key);
        let id = lease_id()?;
        let millis = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let taken: Option<String> = self
            .query(
                "SET NX of a lease",
                redis::cmd("SET")
                    .arg(&lease)
                    .arg(&id)
                    .arg("NX")
                    .arg("PX")
                    .arg(millis),
            )
            .await?;
        Ok(taken.map(|_| Lease::new(id)))
    }

    async fn release(&self, key: &TokenKey, lease: Lease) -> Result<(), StoreError> {
        let name = self.name("lease", key);
        let _: i64 = self
            .query(
                "compare-and-delete of a lease",
                &compare_and_delete(&name, lease.id()),
            )
            .await?;
        Ok(())
    }
}
