//! Passwords on the shared topologies: a Redis Cluster whose nodes require one, and a
//! primary and replica under Sentinel that require one while the sentinels require another.
//! Replicas share through them (and, under Sentinel, through a failover to a primary that
//! requires it too); a wrong password is refused at connect with an error that names
//! neither password.

mod common;

use common::*;
use std::time::Duration;
use thoughtspot_session_core::TokenKey;
use thoughtspot_session_redis::{RedisTokenStore, RedisTokenStoreBuilder};
use thoughtspot_session_tests::redis::{RedisCluster, RedisSentinel, SERVICE};
use thoughtspot_session_tests::replicas::tokens_at_once;

const DATA_PASSWORD: &str = "data-password-0xFEEDFACE";
const SENTINEL_PASSWORD: &str = "sentinel-password-0xDEADBEEF";
const WRONG_PASSWORD: &str = "wrong-password-0x0BADF00D";

/// `builder` connected with the tests' namespace and keys: the error, which must say
/// what failed and show no password (neither in Display nor in Debug).
async fn refused(builder: RedisTokenStoreBuilder) -> String {
    let error = builder
        .namespace("fake.thoughtspot.test", "token-service")
        .keys(keys())
        .naming_key(NAMING)
        .timeout(Duration::from_secs(2))
        .connect()
        .await
        .expect_err("a wrong password is refused at connect");
    let shown = format!("{error} {error:?}");
    for secret in [DATA_PASSWORD, SENTINEL_PASSWORD, WRONG_PASSWORD] {
        assert!(!shown.contains(secret), "the error shows a password: {shown}");
    }
    shown
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_that_requires_a_password_is_shared_with_it_and_refuses_a_wrong_one() {
    within("cluster with a password", async {
        let redis = RedisCluster::start_with_password(3, 1, Some(DATA_PASSWORD));
        let (fake, server) = cluster(20).await;
        let mut replicas = Vec::new();
        for seed in redis.urls().into_iter().take(3) {
            assert!(seed.contains(DATA_PASSWORD), "the seed URL carries the password");
            let store = connected(RedisTokenStore::cluster_builder([seed]), Duration::from_secs(2)).await;
            replicas.push(replica_on(&server, store, Duration::from_secs(5)));
        }
        tokens_at_once(&fake, &replicas, 60, 20, 0).await;
        assert_eq!(
            fake.count("get token"),
            20,
            "one call per user across three replicas"
        );
        assert!(replicas.iter().all(|r| r.stats().store_errors == 0));

        let port = redis.nodes[0].port;
        let wrong = format!("redis://:{WRONG_PASSWORD}@127.0.0.1:{port}");
        let shown = refused(RedisTokenStore::cluster_builder([wrong])).await;
        eprintln!("a wrong cluster password: {shown}");
        let none = format!("redis://127.0.0.1:{port}");
        refused(RedisTokenStore::cluster_builder([none])).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_sentinel_with_passwords_replicas_share_through_a_failover_and_a_wrong_one_is_refused() {
    within("sentinel with passwords", async {
        let mut redis = RedisSentinel::start_with_passwords(Some(DATA_PASSWORD), Some(SENTINEL_PASSWORD));
        let urls = redis.urls();
        assert!(urls.iter().all(|u| u.contains(SENTINEL_PASSWORD)));
        let (fake, server) = cluster(20).await;
        let mut replicas = Vec::new();
        for _ in 0..3 {
            let builder =
                RedisTokenStore::sentinel_builder(urls.clone(), SERVICE).primary_auth(None, DATA_PASSWORD);
            let store = connected(builder, Duration::from_secs(2)).await;
            replicas.push(replica_on(&server, store, Duration::from_secs(5)));
        }
        tokens_at_once(&fake, &replicas, 30, 10, 0).await;
        assert_eq!(
            fake.count("get token"),
            10,
            "one call per user across three replicas"
        );

        // The primary dies; the store finds the new one through the sentinels and speaks
        // to it with the same password.
        let old = redis.primary_port().expect("a primary");
        redis.servers[0].stop();
        let took = redis.wait_promoted(old);
        for (n, replica) in replicas.iter().enumerate() {
            back_on_redis(n, replica, &TokenKey::new("user-0")).await;
        }
        let before = fake.count("get token");
        // Users 10..20 are new (fetched once, stored on the new primary); 0..10 were replicated.
        tokens_at_once(&fake, &replicas, 30, 20, 10).await;
        assert_eq!(
            fake.count("get token"),
            before + 10,
            "after the failover (promoted in {took:?}), one call per new user across three replicas"
        );

        // A wrong password for the data nodes, and for the sentinels.
        let wrong_data =
            RedisTokenStore::sentinel_builder(urls.clone(), SERVICE).primary_auth(None, WRONG_PASSWORD);
        let shown = refused(wrong_data).await;
        eprintln!("a wrong primary password: {shown}");
        let port = redis.sentinels[0].port;
        let wrong_sentinel = format!("redis://:{WRONG_PASSWORD}@127.0.0.1:{port}");
        let shown = refused(
            RedisTokenStore::sentinel_builder([wrong_sentinel], SERVICE).primary_auth(None, DATA_PASSWORD),
        )
        .await;
        eprintln!("a wrong sentinel password: {shown}");
    })
    .await;
}
