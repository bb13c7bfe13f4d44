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
//!   `tls`), `redis://user:password@host:6379/0`. A private CA is trusted with
//!   `RedisTokenStoreBuilder::tls_root_certificates` (feature `tls`) on every topology.
//! - **One node, a Redis Cluster or Sentinel.** [`RedisTokenStore::builder`] takes one
//!   node's URL; [`RedisTokenStore::cluster_builder`] a cluster's seed nodes (the `redis`
//!   crate's cluster client: slots learned from the seeds, `MOVED`/`ASK` followed). Every key
//!   one call touches shares a slot, whatever the namespace.
//!   [`RedisTokenStore::sentinel_builder`] takes the sentinels and the service name, and
//!   follows a failover to the new primary. Scripts are sent whole (`EVAL`): a node that
//!   never saw one runs it.
//! - **A removal survives a failover.** It waits for a replica's acknowledgement
//!   ([`removals_wait_for`](RedisTokenStoreBuilder::removals_wait_for)), on a connection of
//!   its own so that reads never wait behind it; with `revoke_on_invalidate` its token is
//!   also revoked at the cluster, so a copy a failover brings back is refused.
//!
//! It needs Redis 6.2 or later (`GETDEL`), or a server that speaks the same commands
//! (Valkey, for one).
//!
//! ```no_run
//! use thoughtspot_session_core::{TokenKey, TokenManager, TokioSleep, TokioSpawn};
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
//!     .spawn(TokioSpawn::new())
//!     .sleep(TokioSleep::new())
//!     .build()?;
//! let token = manager.token(&TokenKey::new("analyst")).await?;
//! # Ok(()) }
//! ```
//!
//! [`timeout`]: RedisTokenStoreBuilder::timeout
#![cfg_attr(docsrs, feature(doc_cfg))]

mod seal;
mod topology;

pub use seal::EncryptionKey;

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use redis::aio::ConnectionManagerConfig;
use seal::Keyring;
use sha2::Sha256;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use thoughtspot_session_core::{
    AccessToken, ConfigError, Error, Lease, ManagedToken, StoreError, StoreErrorKind, TokenKey, TokenStore,
};
use topology::{Connection, Link, Topology};

/// Removes KEYS[1] only while it holds ARGV[1]: the release of a lease, the removal of one
/// token, atomic on the server.
const COMPARE_AND_DELETE: &str =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

/// Takes lease KEYS[1] as ARGV[1] for ARGV[3] ms when it is free or held by the same owner
/// (its id starts with ARGV[2]: an abandoned fetch of this replica's); 1 when taken.
const TAKE_LEASE: &str = "local held = redis.call('GET', KEYS[1]) \
    if (not held) or string.sub(held, 1, string.len(ARGV[2])) == ARGV[2] then \
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3]) return 1 end return 0";

/// Extends lease KEYS[1] to ARGV[2] ms while it holds ARGV[1]; 1 when extended.
const RENEW_LEASE: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end";

/// Writes token KEYS[1] = ARGV[1] for ARGV[3] ms only while lease KEYS[2] holds ARGV[2];
/// 1 when written. One script: no other write can come between the compare and the set.
const PUT_UNDER_LEASE: &str = "if redis.call('GET', KEYS[2]) == ARGV[2] then \
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3]) return 1 end return 0";

/// The default bound on one Redis call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(250);

/// The default bound on the wait for a replica's acknowledgement of a removal (on a cluster
/// and under Sentinel).
pub const DEFAULT_REPLICA_WAIT: Duration = Duration::from_millis(100);

/// A token cache on Redis, shared by the replicas of a token service (see the crate docs).
/// Cheap to clone: clones share one connection.
#[derive(Clone)]
pub struct RedisTokenStore {
    inner: Arc<Inner>,
}

struct Inner {
    /// Where Redis is, and the connection once made.
    link: Link,
    /// The same, on a connection of its own for removals that wait for replicas: `WAIT`
    /// holds up the connection it is sent on, and reads must not wait behind it.
    removals: Link,
    prefix: String,
    /// The HMAC that names keys, keyed with the naming key.
    naming: Hmac<Sha256>,
    /// Values read that did not open.
    unreadable: AtomicU64,
    keyring: Keyring,
    timeout: Duration,
    /// Replicas a removal waits for, and for how long.
    replica_acks: ReplicaAcks,
    /// Removals that fewer replicas than asked acknowledged in time.
    unreplicated: AtomicU64,
}

/// How many replicas a removal waits for, within what bound.
#[derive(Clone, Copy, Debug)]
struct ReplicaAcks {
    replicas: u32,
    within: Duration,
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
    /// One node's URL, a Redis Cluster's seed nodes, or the sentinels.
    urls: Vec<String>,
    kind: TopologyKind,
    /// Under Sentinel: the service (master) name.
    service: String,
    /// Under Sentinel: the primary's user and password.
    primary_auth: Option<(Option<String>, zeroize::Zeroizing<String>)>,
    replica_acks: Option<ReplicaAcks>,
    cluster: String,
    app: String,
    keys: Vec<EncryptionKey>,
    naming_key: Option<zeroize::Zeroizing<Vec<u8>>>,
    timeout: Duration,
    /// PEM certificates of the CAs the servers' certificates must chain to, instead of the
    /// public roots.
    #[cfg(feature = "tls")]
    tls_roots: Option<Vec<u8>>,
}

impl fmt::Debug for RedisTokenStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A URL may carry a password: only its scheme is shown.
        let schemes: Vec<_> = self
            .urls
            .iter()
            .map(|url| format!("{}://[redacted]", url.split_once("://").map_or("?", |(s, _)| s)))
            .collect();
        f.debug_struct("RedisTokenStoreBuilder")
            .field("urls", &schemes)
            .field("topology", &self.kind)
            .field("service", &self.service)
            .field("primary_auth", &self.primary_auth.as_ref().map(|_| "[redacted]"))
            .field("replica_acks", &self.replica_acks)
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
            urls: vec![url.into()],
            kind: TopologyKind::OneNode,
            service: String::new(),
            primary_auth: None,
            replica_acks: None,
            cluster: String::new(),
            app: String::new(),
            keys: Vec::new(),
            naming_key: None,
            timeout: DEFAULT_TIMEOUT,
            #[cfg(feature = "tls")]
            tls_roots: None,
        }
    }

    /// A store on a Redis Cluster that `nodes` belong to (seed nodes' URLs, as
    /// [`builder`](Self::builder) takes; one is enough, more survive a seed that is down).
    /// The client learns the slots from them, follows `MOVED` and `ASK` redirections, and
    /// refreshes the topology when slots move or a replica is promoted. Every key one call
    /// touches shares a slot (a key's token and lease hash on the digest in braces).
    pub fn cluster_builder<I, U>(nodes: I) -> RedisTokenStoreBuilder
    where
        I: IntoIterator<Item = U>,
        U: Into<String>,
    {
        RedisTokenStoreBuilder {
            urls: nodes.into_iter().map(Into::into).collect(),
            kind: TopologyKind::Cluster,
            ..Self::builder("")
        }
    }

    /// A store on the primary that `sentinels` (their URLs, `redis://[user:password@]host:port`,
    /// the sentinels' own credentials) name for `service` (the `sentinel monitor` name). The
    /// primary is looked up when the store connects and again whenever a call finds it gone,
    /// silent or a replica (`READONLY`): after a failover the store follows the new primary
    /// without a restart. The primary's own credentials are
    /// [`primary_auth`](RedisTokenStoreBuilder::primary_auth); it is reached over TLS when
    /// the sentinels are (`rediss://`).
    pub fn sentinel_builder<I, U>(sentinels: I, service: impl Into<String>) -> RedisTokenStoreBuilder
    where
        I: IntoIterator<Item = U>,
        U: Into<String>,
    {
        RedisTokenStoreBuilder {
            urls: sentinels.into_iter().map(Into::into).collect(),
            kind: TopologyKind::Sentinel,
            service: service.into(),
            ..Self::builder("")
        }
    }

    /// The topology this store was built for.
    pub fn topology(&self) -> TopologyKind {
        match self.inner.link.topology {
            Topology::One(..) => TopologyKind::OneNode,
            Topology::Cluster(_) => TopologyKind::Cluster,
            Topology::Sentinel { .. } => TopologyKind::Sentinel,
        }
    }

    /// How many removals (invalidations, sign-outs) fewer replicas acknowledged in time than
    /// [`removals_wait_for`](RedisTokenStoreBuilder::removals_wait_for) asks. Such a removal
    /// holds on the primary; a failover before its replica saw it would bring the token back
    /// (each one is also logged). With `revoke_on_invalidate` the token is revoked at the
    /// cluster as well, so a copy brought back is refused by ThoughtSpot.
    pub fn removals_unreplicated(&self) -> u64 {
        self.inner.unreplicated.load(Ordering::Relaxed)
    }

    /// Asks Redis for a reply within the timeout (`PING`; on a cluster, a node): for a
    /// readiness check.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let _: String = self.query("PING", &redis::cmd("PING")).await?;
        Ok(())
    }

    /// The Redis key name of `key`'s token (`kind` "token") or lease ("lease"):
    /// `{prefix}:{kind}:{digest}`, the digest an HMAC-SHA256 of the user, org, access level,
    /// object and, when the key has them, its groups and rules under the naming key (so a reader of Redis cannot confirm a guessed user
    /// name), length-prefixed so that no two keys make one input, in braces so that a key's
    /// token and lease share a Redis Cluster slot.
    fn name(&self, kind: &str, key: &TokenKey) -> String {
        use hmac::Mac;
        let mut mac = self.inner.naming.clone();
        for part in [
            key.user(),
            key.org_id().unwrap_or(""),
            key.access_level().as_str(),
            key.object_id().unwrap_or(""),
        ] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        // Groups and rules shape the token too. A plain key writes nothing more, so its name
        // is what it was before keys had them; every part is length-prefixed, so a key with
        // them never makes another key's input.
        if key.is_shaped() {
            let groups = key.groups();
            let rules = key.rules().map_or("", |r| r.as_json());
            mac.update(&(groups.len() as u64).to_be_bytes());
            for part in groups.iter().map(String::as_str).chain([rules]) {
                mac.update(&(part.len() as u64).to_be_bytes());
                mac.update(part.as_bytes());
            }
        }
        let digest = mac.finalize().into_bytes();
        let prefix = &self.inner.prefix;
        let mut name = String::with_capacity(prefix.len() + kind.len() + 36);
        name.push_str(prefix);
        name.push(':');
        name.push_str(kind);
        name.push_str(":{");
        push_hex(&mut name, &digest[..16]);
        name.push('}');
        name
    }

    /// Runs `request` on the connection within the timeout.
    ///
    /// After an outage the connection manager still holds its last failed reconnection, and
    /// the first command on it fails with that stale refusal while a fresh connection is
    /// started. A refused command was never sent, so it is sent once more, on the fresh
    /// connection, within the same bound: a replica goes back to Redis on the first request
    /// after Redis answers, not on the second. Under Sentinel, a call the primary refused,
    /// dropped or answered as a replica (`READONLY`) is sent once more, within the same
    /// bound, to the primary the sentinels name now (after a failover, the new one).
    async fn query<'a, T>(&self, what: &'static str, request: impl Into<Request<'a>>) -> Result<T, StoreError>
    where
        T: redis::FromRedisValue + Send,
    {
        self.query_on(&self.inner.link, what, request.into()).await
    }

    /// Runs a removal, `cmd`, and waits for the replicas that
    /// [`removals_wait_for`](RedisTokenStoreBuilder::removals_wait_for) asks for (on the
    /// removals' own connection): `WAIT` after it in one pipeline, so both reach the node
    /// that holds the key.
    async fn remove_replicated<T>(&self, what: &'static str, cmd: redis::Cmd) -> Result<T, StoreError>
    where
        T: redis::FromRedisValue + Send,
    {
        let acks = self.inner.replica_acks;
        if acks.replicas == 0 {
            return self.query(what, &cmd).await;
        }
        let mut pipe = redis::pipe();
        pipe.add_command(cmd)
            .cmd("WAIT")
            .arg(acks.replicas)
            .arg(millis(acks.within));
        let (value, acked): (T, u32) = self
            .query_on(&self.inner.removals, what, Request::from(&pipe))
            .await?;
        if acked < acks.replicas {
            self.inner.unreplicated.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                acked,
                asked = acks.replicas,
                "a removal was not acknowledged by enough Redis replicas in time: it holds on the \
                 primary, and a failover before a replica sees it would bring the token back"
            );
        }
        Ok(value)
    }

    async fn query_on<T>(
        &self,
        link: &Link,
        what: &'static str,
        request: Request<'_>,
    ) -> Result<T, StoreError>
    where
        T: redis::FromRedisValue + Send,
    {
        let (number, mut connection) = link.get().await?;
        let attempt = async {
            let first = match request.send::<T>(&mut connection).await {
                Err(e) if e.is_connection_refusal() => request.send(&mut connection).await,
                other => other,
            };
            match first {
                Ok(value) => Ok(value),
                Err(e) if link.failed(number, Some(&e)) => {
                    let (number, mut fresh) = link.get().await?;
                    request.send(&mut fresh).await.map_err(|e| {
                        link.failed(number, Some(&e));
                        failure(what, e)
                    })
                }
                Err(e) => Err(failure(what, e)),
            }
        };
        match tokio::time::timeout(self.inner.timeout, attempt).await {
            Ok(answer) => answer,
            Err(_) => {
                // Under Sentinel a silent primary may be partitioned away: look it up again.
                link.failed(number, None);
                Err(StoreError::new(
                    StoreErrorKind::Timeout,
                    format!("{what}: no answer from Redis within {:?}", self.inner.timeout),
                ))
            }
        }
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
    /// never read each other's tokens. Braces (and `%`) in either name are escaped in key
    /// names, so that on Redis Cluster a key's token and lease always share a slot.
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

    /// The key (32 bytes or more, secret) under which Redis key names are derived. By
    /// default it is derived from the encryption key with the lowest id, so names change
    /// when that key is retired: give one apart to rotate every encryption key without a
    /// change of names (each replica of a service must have the same).
    #[must_use]
    pub fn naming_key(mut self, key: impl Into<Vec<u8>>) -> Self {
        self.naming_key = Some(zeroize::Zeroizing::new(key.into()));
        self
    }

    /// The bound on each Redis call, connecting included (default 250 ms).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The certificates (PEM) of the CAs that sign the Redis servers' certificates, trusted
    /// instead of the public roots: a private CA, as self-run Redis often has. For
    /// `rediss://` URLs on one node, a Redis Cluster's nodes, and under Sentinel both the
    /// sentinels and the primary. Given with a URL that is not `rediss://`, it is refused at
    /// [`build`](Self::build), never ignored.
    #[cfg(feature = "tls")]
    #[must_use]
    pub fn tls_root_certificates(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.tls_roots = Some(pem.into());
        self
    }

    /// Under Sentinel: the user (`None` for the default user) and password of the primary
    /// and its replicas, which may differ from the sentinels' own (given in their URLs).
    #[must_use]
    pub fn primary_auth(mut self, username: Option<&str>, password: impl Into<String>) -> Self {
        self.primary_auth = Some((
            username.map(str::to_owned),
            zeroize::Zeroizing::new(password.into()),
        ));
        self
    }

    /// How many replicas must acknowledge a removal (an invalidation or a sign-out), within
    /// what bound (`WAIT replicas within`), before it returns: a removal a replica holds
    /// survives the primary's failover. By default 1 within 100 ms on a cluster and under
    /// Sentinel, none on one node; 0 turns it off. A removal fewer replicas acknowledged in
    /// time still holds on the primary, and is counted
    /// ([`removals_unreplicated`](RedisTokenStore::removals_unreplicated)) and logged. The
    /// bound must be shorter than the [`timeout`](Self::timeout), which the whole removal
    /// keeps to. The cost is the replica's round trip on each removal, never on a read.
    #[must_use]
    pub fn removals_wait_for(mut self, replicas: u32, within: Duration) -> Self {
        self.replica_acks = Some(ReplicaAcks { replicas, within });
        self
    }

    /// Checks the configuration and connects: fails at once when Redis cannot be reached,
    /// which a service may prefer at start-up. Reconnects by itself later on.
    pub async fn connect(self) -> Result<RedisTokenStore, Error> {
        let store = self.build()?;
        store.inner.link.get().await?;
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
        let naming = naming_hmac(self.naming_key.as_ref().map(|k| k.as_slice()), &self.keys)?;
        let replica_acks = self.replica_acks.unwrap_or(match self.kind {
            TopologyKind::OneNode => ReplicaAcks {
                replicas: 0,
                within: Duration::ZERO,
            },
            _ => ReplicaAcks {
                replicas: 1,
                within: DEFAULT_REPLICA_WAIT,
            },
        });
        if replica_acks.replicas > 0 && (replica_acks.within.is_zero() || replica_acks.within >= self.timeout)
        {
            return Err(ConfigError::new(
                "the wait for replicas on a removal must be longer than zero and shorter than the Redis timeout",
            ));
        }
        let removals = Link::new(self.topology()?, self.timeout);
        Ok(RedisTokenStore {
            inner: Arc::new(Inner {
                link: Link::new(self.topology()?, self.timeout),
                removals,
                prefix: prefix(&self.cluster, &self.app),
                naming,
                unreadable: AtomicU64::new(0),
                keyring,
                timeout: self.timeout,
                replica_acks,
                unreplicated: AtomicU64::new(0),
            }),
        })
    }

    /// Under Sentinel with a private CA: the sentinels and the primary both checked against
    /// `pem`; the sentinels' user and password from their URLs (one for all), the
    /// primary's from [`primary_auth`](Self::primary_auth).
    #[cfg(feature = "tls")]
    fn sentinel_with_roots(&self, pem: &[u8]) -> Result<redis::sentinel::SentinelClient, ConfigError> {
        use redis::IntoConnectionInfo;
        let invalid =
            || ConfigError::new("the sentinels' URLs are not valid (rediss://[user:password@]host:port)");
        let mut addresses = Vec::new();
        let mut auth: Option<(Option<String>, Option<String>)> = None;
        for url in &self.urls {
            let info = url.as_str().into_connection_info().map_err(|_| invalid())?;
            let settings = info.redis_settings();
            let this = (
                settings.username().map(str::to_owned),
                settings.password().map(str::to_owned),
            );
            match &auth {
                Some(first) if *first != this => {
                    return Err(ConfigError::new(
                        "the sentinels' URLs carry different users or passwords: give one for all",
                    ));
                }
                _ => auth = Some(this),
            }
            addresses.push(info.addr().clone());
        }
        let mut builder = redis::sentinel::SentinelClientBuilder::new(
            addresses,
            self.service.clone(),
            redis::sentinel::SentinelServerType::Master,
        )
        .map_err(|_| invalid())?
        .set_client_to_sentinel_tls_mode(redis::TlsMode::Secure)
        .set_client_to_sentinel_certificates(roots(pem))
        .set_client_to_redis_tls_mode(redis::TlsMode::Secure)
        .set_client_to_redis_certificates(roots(pem));
        if let Some((user, password)) = auth {
            if let Some(user) = user {
                builder = builder.set_client_to_sentinel_username(user);
            }
            if let Some(password) = password {
                builder = builder.set_client_to_sentinel_password(zeroize::Zeroizing::new(password).as_str());
            }
        }
        if let Some((user, password)) = &self.primary_auth {
            if let Some(user) = user {
                builder = builder.set_client_to_redis_username(user);
            }
            builder = builder.set_client_to_redis_password(password.as_str());
        }
        builder.build().map_err(|_| invalid())
    }

    fn topology(&self) -> Result<Topology, ConfigError> {
        #[cfg(feature = "tls")]
        if self.tls_roots.is_some() && !self.urls.iter().all(|u| u.starts_with("rediss://")) {
            return Err(ConfigError::new(
                "TLS root certificates are given, but not every Redis URL is rediss://",
            ));
        }
        Ok(match self.kind {
            TopologyKind::Cluster => {
                if self.urls.is_empty() {
                    return Err(ConfigError::new("a Redis Cluster store needs at least one node"));
                }
                let builder = redis::cluster::ClusterClient::builder(self.urls.iter().map(String::as_str))
                    .connection_timeout(self.timeout)
                    .response_timeout(self.timeout)
                    .retries(2);
                #[cfg(feature = "tls")]
                let builder = match &self.tls_roots {
                    Some(pem) => builder.certs(roots(pem)),
                    None => builder,
                };
                let client = builder
                    .build()
                    .map_err(|_| {
                        ConfigError::new(
                            "the Redis Cluster nodes are not valid (redis://[user:password@]host:port URLs, one password for all)",
                        )
                    })?;
                Topology::Cluster(client)
            }
            TopologyKind::Sentinel => {
                if self.urls.is_empty() || self.service.is_empty() {
                    return Err(ConfigError::new(
                        "a Sentinel store needs at least one sentinel and the service name",
                    ));
                }
                #[cfg(feature = "tls")]
                if let Some(pem) = &self.tls_roots {
                    let client = self.sentinel_with_roots(pem)?;
                    let config = redis::AsyncConnectionConfig::new()
                        .set_connection_timeout(Some(self.timeout))
                        .set_response_timeout(Some(self.timeout));
                    return Ok(Topology::Sentinel {
                        client: tokio::sync::Mutex::new(client),
                        config,
                    });
                }
                let mut redis_info = redis::RedisConnectionInfo::default();
                if let Some((user, password)) = &self.primary_auth {
                    if let Some(user) = user {
                        redis_info = redis_info.set_username(user);
                    }
                    redis_info = redis_info.set_password(password.as_str());
                }
                let mut node = redis::sentinel::SentinelNodeConnectionInfo::default()
                    .set_redis_connection_info(redis_info);
                if self.urls.iter().any(|u| u.starts_with("rediss://")) {
                    node = node.set_tls_mode(redis::TlsMode::Secure);
                }
                let client = redis::sentinel::SentinelClient::build(
                    self.urls.iter().map(String::as_str).collect(),
                    self.service.clone(),
                    Some(node),
                    redis::sentinel::SentinelServerType::Master,
                )
                .map_err(|_| {
                    ConfigError::new("the sentinels' URLs are not valid (redis://[user:password@]host:port)")
                })?;
                let config = redis::AsyncConnectionConfig::new()
                    .set_connection_timeout(Some(self.timeout))
                    .set_response_timeout(Some(self.timeout));
                Topology::Sentinel {
                    client: tokio::sync::Mutex::new(client),
                    config,
                }
            }
            _ => {
                let url = self.urls.first().map_or("", String::as_str);
                #[cfg(feature = "tls")]
                let opened = match &self.tls_roots {
                    Some(pem) => redis::Client::build_with_tls(url, roots(pem)),
                    None => redis::Client::open(url),
                };
                #[cfg(not(feature = "tls"))]
                let opened = redis::Client::open(url);
                let client = opened.map_err(|_| {
                    ConfigError::new("the Redis URL is not valid (redis://[user:password@]host:port[/db])")
                })?;
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(self.timeout))
                    .set_response_timeout(Some(self.timeout))
                    .set_number_of_retries(1);
                Topology::One(client, config)
            }
        })
    }
}

/// The topology of a [`RedisTokenStore`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TopologyKind {
    /// One node (a primary, or a name that a managed service moves on failover).
    OneNode,
    /// A Redis Cluster.
    Cluster,
    /// A primary under Sentinel.
    Sentinel,
}

impl TopologyKind {
    /// `one_node`, `cluster` or `sentinel`, as the token service's metrics say it.
    pub fn as_str(self) -> &'static str {
        match self {
            TopologyKind::OneNode => "one_node",
            TopologyKind::Cluster => "cluster",
            TopologyKind::Sentinel => "sentinel",
        }
    }
}

/// The start of every key name: `ts-session:` and the namespace, each part length-prefixed
/// (`a:b` + `c` and `a` + `b:c` make two prefixes) and with its braces escaped, so that no
/// name a user configures holds a `{` or `}`: Redis Cluster then hashes every key on the
/// digest in braces that ends it, and a key's token and lease share a slot whatever the
/// namespace (an unescaped `{` in it would make the tag start there and end at the digest's
/// `}`, a tag that differs between the token and the lease). `%` is escaped too, so that
/// two namespaces never make one prefix; a namespace without `{`, `}` or `%` is unchanged.
fn prefix(cluster: &str, app: &str) -> String {
    let escape = |part: &str| -> String {
        let mut out = String::with_capacity(part.len());
        for c in part.chars() {
            match c {
                '%' => out.push_str("%25"),
                '{' => out.push_str("%7B"),
                '}' => out.push_str("%7D"),
                c => out.push(c),
            }
        }
        out
    };
    let (cluster, app) = (escape(cluster), escape(app));
    format!("ts-session:{}.{}:{}.{}", cluster.len(), cluster, app.len(), app)
}

/// The HMAC that names keys: under `given`, else under a key derived from the encryption
/// key with the lowest id (HMAC-SHA256 of a fixed label), so that names never show a user.
fn naming_hmac(given: Option<&[u8]>, keys: &[EncryptionKey]) -> Result<Hmac<Sha256>, ConfigError> {
    let key: zeroize::Zeroizing<Vec<u8>> = match given {
        Some(key) if key.len() < 32 => {
            return Err(ConfigError::new("the naming key must be at least 32 bytes"));
        }
        Some(key) => zeroize::Zeroizing::new(key.to_vec()),
        None => {
            let lowest = keys
                .iter()
                .min_by_key(|k| k.id())
                .ok_or_else(|| ConfigError::new("the Redis token store needs an encryption key"))?;
            let mut derive = <Hmac<Sha256> as Mac>::new_from_slice(lowest.bytes())
                .map_err(|_| ConfigError::new("an encryption key cannot key an HMAC"))?;
            derive.update(b"thoughtspot-session: Redis key names");
            zeroize::Zeroizing::new(derive.finalize().into_bytes().to_vec())
        }
    };
    <Hmac<Sha256> as Mac>::new_from_slice(&key)
        .map_err(|_| ConfigError::new("the naming key cannot key an HMAC"))
}

/// Appends `bytes` to `out` in lowercase hex.
fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
}

/// A store error for `what` from the `redis` crate's `e`.
fn failure(what: &'static str, e: redis::RedisError) -> StoreError {
    let kind = if e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal() {
        StoreErrorKind::Unavailable
    } else if e.is_timeout() {
        StoreErrorKind::Timeout
    } else {
        StoreErrorKind::Other
    };
    StoreError::new(kind, what).with_source(e)
}

/// What [`RedisTokenStore::query`] sends: one command or a pipeline.
#[derive(Clone, Copy)]
enum Request<'a> {
    One(&'a redis::Cmd),
    Pipeline(&'a redis::Pipeline),
}

impl Request<'_> {
    async fn send<T: redis::FromRedisValue>(self, connection: &mut Connection) -> redis::RedisResult<T> {
        match self {
            Request::One(cmd) => cmd.query_async(connection).await,
            Request::Pipeline(pipe) => pipe.query_async(connection).await,
        }
    }
}

impl<'a> From<&'a redis::Cmd> for Request<'a> {
    fn from(cmd: &'a redis::Cmd) -> Self {
        Request::One(cmd)
    }
}

impl<'a> From<&'a mut redis::Cmd> for Request<'a> {
    fn from(cmd: &'a mut redis::Cmd) -> Self {
        Request::One(cmd)
    }
}

impl<'a> From<&'a redis::Pipeline> for Request<'a> {
    fn from(pipe: &'a redis::Pipeline) -> Self {
        Request::Pipeline(pipe)
    }
}

/// The CA certificates `pem`, trusted instead of the public roots (no client certificate).
#[cfg(feature = "tls")]
fn roots(pem: &[u8]) -> redis::TlsCertificates {
    redis::TlsCertificates {
        client_tls: None,
        root_cert: Some(pem.to_vec()),
    }
}

/// `EVAL` of the compare-and-delete script on `name`, expecting `value`.
fn compare_and_delete(name: &str, value: impl redis::ToRedisArgs) -> redis::Cmd {
    let mut cmd = redis::cmd("EVAL");
    cmd.arg(COMPARE_AND_DELETE).arg(1).arg(name).arg(value);
    cmd
}

/// Milliseconds of `ttl`, at least one.
fn millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

#[async_trait]
impl TokenStore for RedisTokenStore {
    async fn get(&self, key: &TokenKey) -> Result<Option<ManagedToken>, StoreError> {
        let name = self.name("token", key);
        let value: Option<Vec<u8>> = self.query("GET of a token", redis::cmd("GET").arg(&name)).await?;
        Ok(self.open(&name, value.as_deref()))
    }

    async fn put(
        &self,
        key: &TokenKey,
        token: &ManagedToken,
        ttl: Duration,
        lease: &Lease,
    ) -> Result<bool, StoreError> {
        let name = self.name("token", key);
        let sealed = self
            .inner
            .keyring
            .seal(&name, token)
            .map_err(|why| StoreError::new(StoreErrorKind::Other, why))?;
        let mut cmd = redis::cmd("EVAL");
        cmd.arg(PUT_UNDER_LEASE)
            .arg(2)
            .arg(&name)
            .arg(self.name("lease", key))
            .arg(sealed)
            .arg(lease.id())
            .arg(millis(ttl));
        let written: i64 = self.query("SET of a token under its lease", &cmd).await?;
        Ok(written == 1)
    }

    async fn remove(
        &self,
        key: &TokenKey,
        token: Option<&AccessToken>,
    ) -> Result<Option<ManagedToken>, StoreError> {
        let name = self.name("token", key);
        let Some(expected) = token else {
            let mut cmd = redis::cmd("GETDEL");
            cmd.arg(&name);
            let value: Option<Vec<u8>> = self.remove_replicated("GETDEL of a token", cmd).await?;
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
            .remove_replicated("compare-and-delete of a token", compare_and_delete(&name, value))
            .await?;
        Ok((deleted == 1).then_some(stored))
    }

    async fn try_lease(&self, key: &TokenKey, ttl: Duration, lease: &Lease) -> Result<bool, StoreError> {
        let mut cmd = redis::cmd("EVAL");
        cmd.arg(TAKE_LEASE)
            .arg(1)
            .arg(self.name("lease", key))
            .arg(lease.id())
            .arg(lease.owner_prefix())
            .arg(millis(ttl));
        let taken: i64 = self.query("taking a lease", &cmd).await?;
        Ok(taken == 1)
    }

    async fn renew(&self, key: &TokenKey, lease: &Lease, ttl: Duration) -> Result<bool, StoreError> {
        let mut cmd = redis::cmd("EVAL");
        cmd.arg(RENEW_LEASE)
            .arg(1)
            .arg(self.name("lease", key))
            .arg(lease.id())
            .arg(millis(ttl));
        let renewed: i64 = self.query("renewing a lease", &cmd).await?;
        Ok(renewed == 1)
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

    fn abandon(&self, key: &TokenKey, lease: Lease) {
        // A cancelled fetch: release on the runtime it ran on, without waiting for it.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return; // no runtime: the lease lapses, or this replica takes it back
        };
        let (store, key) = (self.clone(), key.clone());
        runtime.spawn(async move {
            if let Err(e) = store.release(&key, lease).await {
                tracing::warn!(error = %e, "releasing a cancelled fetch's lease failed; it lapses");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The part of `name` Redis Cluster hashes: what the first `{` and the first `}` after
    /// it enclose, when that is not empty; else the whole name.
    fn hash_tag(name: &str) -> &str {
        if let Some(open) = name.find('{')
            && let Some(len) = name[open + 1..].find('}')
            && len > 0
        {
            return &name[open + 1..open + 1 + len];
        }
        name
    }

    fn store(cluster: &str, app: &str) -> RedisTokenStore {
        RedisTokenStore::builder("redis://127.0.0.1:1")
            .namespace(cluster, app)
            .keys([EncryptionKey::new(1, [7; 32])])
            .build()
            .expect("valid")
    }

    #[test]
    fn no_namespace_moves_the_hash_tag_off_the_digest_and_none_makes_another_ones_prefix() {
        let key = TokenKey::new("analyst@example.com");
        let plain = store("cluster.example.com", "svc");
        let digest = hash_tag(&plain.name("token", &key)).to_owned();
        assert_eq!(digest.len(), 32, "the digest's 16 bytes in hex");
        for (cluster, app) in [
            ("a{b", "svc"),
            ("a", "}b{"),
            ("{x}", "{y}"),
            ("a{", "}b"),
            ("}", "{}"),
            ("%7B", "svc"),
        ] {
            let store = store(cluster, app);
            let (token, lease) = (store.name("token", &key), store.name("lease", &key));
            assert_eq!(
                hash_tag(&token),
                hash_tag(&lease),
                "{cluster:?} {app:?}: one slot"
            );
            assert_eq!(
                hash_tag(&token).len(),
                32,
                "{cluster:?} {app:?}: the digest is the tag"
            );
            assert_eq!(token.matches('{').count(), 1, "{token}");
        }
        // Escaping keeps namespaces apart: `{` and its escape make two prefixes.
        assert_ne!(prefix("a{b", "c"), prefix("a%7Bb", "c"));
        assert_ne!(prefix("a:b", "c"), prefix("a", "b:c"));
        // A namespace with nothing to escape keeps the names it had.
        assert_eq!(
            prefix("cluster.example.com", "svc"),
            "ts-session:19.cluster.example.com:3.svc"
        );
    }
}
