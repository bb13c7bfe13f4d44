//! What the Redis store's scenario tests share: the fake cluster served over loopback, and
//! token-service replicas (each with its own HTTP client and Redis connection) over a store.
#![allow(dead_code)] // each test file uses its own share of these

use std::time::{Duration, Instant};
use thoughtspot_session_core::{SessionClient, TokenKey, TokenManager, TokioSleep, TokioSpawn};
use thoughtspot_session_mock::{FakeServer, FakeThoughtSpot, FakeUser};
use thoughtspot_session_redis::{EncryptionKey, RedisTokenStore, RedisTokenStoreBuilder};
use thoughtspot_session_reqwest::ReqwestTransport;
use thoughtspot_session_tests::redis::RedisServer;

pub const SECRET_KEY: &str = "trusted-auth-secret-0xC0FFEE";
pub const PASSWORD: &str = "user-password-0xBADC0DE";

pub type Manager = TokenManager<SessionClient<ReqwestTransport>>;

/// Fails the test, naming it, if `future` runs past 60 s.
pub async fn within<F: std::future::Future>(name: &str, future: F) -> F::Output {
    match tokio::time::timeout(Duration::from_secs(60), future).await {
        Ok(out) => out,
        Err(_) => panic!("{name} did not finish within 60 s: it hangs"),
    }
}

pub fn keys() -> Vec<EncryptionKey> {
    vec![EncryptionKey::new(1, [0x5a; 32])]
}

/// The naming key every replica of these tests shares, given apart so that key rotation
/// leaves names alone.
pub const NAMING: [u8; 32] = [0x3c; 32];

pub async fn cluster(users: usize) -> (FakeThoughtSpot, FakeServer) {
    let mut b = FakeThoughtSpot::builder()
        .secret_key(SECRET_KEY)
        .token_lifetime(Duration::from_secs(900));
    for n in 0..users {
        b = b.user(FakeUser::new(format!("user-{n}"), PASSWORD));
    }
    let fake = b.build();
    let server = FakeServer::start(fake.clone()).await.expect("the fake serves");
    (fake, server)
}

/// A replica's store. These tests check sharing and recovery, not slowness: on a starved
/// test machine a call may take longer than the default 250 ms and would count as an
/// outage, so the bound is 5 s (an outage here is a stopped server: refused at once).
pub async fn store(redis: &RedisServer) -> RedisTokenStore {
    connected(RedisTokenStore::builder(redis.url()), Duration::from_secs(5)).await
}

/// `builder` with these tests' namespace and keys and the bound `timeout`, connected.
pub async fn connected(builder: RedisTokenStoreBuilder, timeout: Duration) -> RedisTokenStore {
    builder
        .namespace("fake.thoughtspot.test", "token-service")
        .keys(keys())
        .naming_key(NAMING)
        .timeout(timeout)
        .connect()
        .await
        .expect("connects")
}

pub async fn replica(server: &FakeServer, redis: &RedisServer, lease: Duration) -> Manager {
    replica_on(server, store(redis).await, lease)
}

/// A replica over `store`.
pub fn replica_on(server: &FakeServer, store: RedisTokenStore, lease: Duration) -> Manager {
    manager(server, store, lease, false)
}

/// A replica over `store` that revokes what it invalidates or evicts at the cluster.
pub fn revoking_replica_on(server: &FakeServer, store: RedisTokenStore) -> Manager {
    manager(server, store, Duration::from_secs(5), true)
}

fn manager(server: &FakeServer, store: RedisTokenStore, lease: Duration, revoke: bool) -> Manager {
    let client = SessionClient::builder(server.base_url())
        .api_version(thoughtspot_session_core::ApiVersion::V2Beta)
        .sleep(TokioSleep::new())
        .build(ReqwestTransport::new().expect("transport"))
        .expect("client");
    TokenManager::builder(client, SECRET_KEY)
        .store(store)
        .spawn(TokioSpawn::new())
        .sleep(TokioSleep::new())
        .lease_time(lease)
        .store_poll(Duration::from_millis(10))
        .store_retry(Duration::from_millis(100))
        .revoke_on_invalidate(revoke)
        .build()
        .expect("manager")
}

/// Asks `replica` for `key` until a request is served through Redis (no fallback, the
/// store not skipped), within 20 s: after an outage each replica goes back once its
/// back-off window has passed.
pub async fn back_on_redis(n: usize, replica: &Manager, key: &TokenKey) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let before = replica.stats();
        replica.token(key).await.expect("token");
        let after = replica.stats();
        if after.store_fallbacks == before.store_fallbacks && after.store_skips == before.store_skips {
            return;
        }
        assert!(Instant::now() < deadline, "replica {n} never went back to Redis");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub async fn replicas(server: &FakeServer, redis: &RedisServer) -> Vec<Manager> {
    let mut out = Vec::new();
    for _ in 0..3 {
        out.push(replica(server, redis, Duration::from_secs(5)).await);
    }
    out
}
