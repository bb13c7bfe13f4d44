//! TLS to Redis behind a private CA (`rediss://` with `tls_root_certificates`): one node and
//! a Redis Cluster serving TLS only (clients, replication, the cluster bus), on real
//! `redis-server`, and a primary, a replica and three sentinels all on TLS. Replicas share
//! through them (under Sentinel, through a failover too); without the CA the connection is refused
//! (the public roots do not vouch for the test's CA), and no plain connection gets in.

mod common;

use common::*;
use std::time::Duration;
use thoughtspot_session_core::TokenKey;
use thoughtspot_session_redis::{RedisTokenStore, RedisTokenStoreBuilder};
use thoughtspot_session_tests::redis::{RedisCluster, RedisSentinel, RedisServer, RedisTls, SERVICE};
use thoughtspot_session_tests::replicas::tokens_at_once;

async fn refused(builder: RedisTokenStoreBuilder) -> String {
    let error = builder
        .namespace("fake.thoughtspot.test", "token-service")
        .keys(keys())
        .naming_key(NAMING)
        .timeout(Duration::from_secs(2))
        .connect()
        .await
        .expect_err("refused");
    format!("{error}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_node_over_tls_with_a_private_ca_is_shared_and_refused_without_the_ca() {
    within("one node over TLS", async {
        let tls = RedisTls::new();
        let redis = RedisServer::start_tls(&tls);
        assert!(redis.url().starts_with("rediss://"));
        let (fake, server) = cluster(10).await;
        let mut replicas = Vec::new();
        for _ in 0..3 {
            let builder = RedisTokenStore::builder(redis.url()).tls_root_certificates(tls.ca_pem.clone());
            let store = connected(builder, Duration::from_secs(2)).await;
            replicas.push(replica_on(&server, store, Duration::from_secs(5)));
        }
        tokens_at_once(&fake, &replicas, 30, 10, 0).await;
        assert_eq!(
            fake.count("get token"),
            10,
            "one call per user across three replicas"
        );
        assert!(replicas.iter().all(|r| r.stats().store_errors == 0));

        let untrusted = refused(RedisTokenStore::builder(redis.url())).await;
        eprintln!("without the CA: {untrusted}");
        let plain = redis.url().replacen("rediss://", "redis://", 1);
        let mixed =
            refused(RedisTokenStore::builder(plain.clone()).tls_root_certificates(tls.ca_pem.clone())).await;
        assert!(mixed.contains("rediss://"), "{mixed}");
        let plain = refused(RedisTokenStore::builder(plain)).await;
        eprintln!("plain to a TLS port: {plain}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_over_tls_with_a_private_ca_is_shared_and_refused_without_the_ca() {
    within("cluster over TLS", async {
        let tls = RedisTls::new();
        let redis = RedisCluster::start_tls(3, 1, &tls);
        let (fake, server) = cluster(20).await;
        let mut replicas = Vec::new();
        for seed in redis.urls().into_iter().take(3) {
            assert!(seed.starts_with("rediss://"));
            let builder = RedisTokenStore::cluster_builder([seed]).tls_root_certificates(tls.ca_pem.clone());
            let store = connected(builder, Duration::from_secs(2)).await;
            replicas.push(replica_on(&server, store, Duration::from_secs(5)));
        }
        tokens_at_once(&fake, &replicas, 60, 20, 0).await;
        assert_eq!(
            fake.count("get token"),
            20,
            "one call per user across three replicas"
        );
        assert!(replicas.iter().all(|r| r.stats().store_errors == 0));

        let untrusted = refused(RedisTokenStore::cluster_builder([redis.nodes[0].url()])).await;
        eprintln!("cluster without the CA: {untrusted}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_sentinel_over_tls_with_a_private_ca_a_failover_is_followed_and_refused_without_the_ca() {
    within("sentinel over TLS", async {
        let tls = RedisTls::new();
        let mut redis = RedisSentinel::start_tls(&tls);
        let urls = redis.urls();
        assert!(urls.iter().all(|u| u.starts_with("rediss://")));
        let (fake, server) = cluster(20).await;
        let mut replicas = Vec::new();
        for _ in 0..3 {
            let builder = RedisTokenStore::sentinel_builder(urls.clone(), SERVICE)
                .tls_root_certificates(tls.ca_pem.clone());
            let store = connected(builder, Duration::from_secs(2)).await;
            replicas.push(replica_on(&server, store, Duration::from_secs(5)));
        }
        tokens_at_once(&fake, &replicas, 30, 10, 0).await;
        assert_eq!(
            fake.count("get token"),
            10,
            "one call per user across three replicas"
        );

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

        let untrusted = refused(RedisTokenStore::sentinel_builder(urls.clone(), SERVICE)).await;
        eprintln!("sentinel without the CA: {untrusted}");
    })
    .await;
}

#[test]
fn root_certificates_with_a_plain_url_are_refused_at_build_not_ignored() {
    let ca = RedisTls::new().ca_pem.clone();
    for builder in [
        RedisTokenStore::builder("redis://127.0.0.1:6379"),
        RedisTokenStore::cluster_builder(["rediss://127.0.0.1:7000", "redis://127.0.0.1:7001"]),
        RedisTokenStore::sentinel_builder(["redis://127.0.0.1:26379"], SERVICE),
    ] {
        let error = builder
            .tls_root_certificates(ca.clone())
            .namespace("fake.thoughtspot.test", "token-service")
            .keys(keys())
            .build()
            .expect_err("refused");
        assert!(error.to_string().contains("rediss://"), "{error}");
    }
}
