//! The replica scenarios on the shared topologies, as on one node (`replicas.rs`): on a
//! Redis Cluster and under Sentinel, 600 requests for 20 users on three replicas make 20
//! get token calls, an invalidation on one replica reaches all, and what Redis holds (each
//! data node's `SAVE`d dump, every key and value) shows no token, password or secret key.

mod common;

use common::*;
use std::time::Duration;
use thoughtspot_session_core::{AccessToken, TokenKey};
use thoughtspot_session_mock::FakeServer;
use thoughtspot_session_redis::RedisTokenStore;
use thoughtspot_session_tests::redis::{RedisCluster, RedisSentinel, RedisServer, SERVICE};
use thoughtspot_session_tests::replicas::tokens_at_once;

/// 600 requests for 20 users make 20 calls, one token each everywhere; then user-0's token
/// invalidated on one replica is replaced on all. Returns every token handed out.
async fn share_and_invalidate(
    fake: &thoughtspot_session_mock::FakeThoughtSpot,
    replicas: &[Manager],
) -> Vec<AccessToken> {
    let per_user = tokens_at_once(fake, replicas, 600, 20, 0).await;
    assert_eq!(
        fake.count("get token"),
        20,
        "one call per user across the replicas"
    );
    assert!(
        per_user.values().all(|t| t.len() == 1),
        "one token per user everywhere"
    );
    for r in replicas {
        let stats = r.stats();
        assert_eq!((stats.store_errors, stats.store_fallbacks), (0, 0), "{stats:?}");
    }
    let key = TokenKey::new("user-0");
    let old = replicas[0].token(&key).await.expect("token");
    assert!(replicas[1].invalidate(&key, old.token()).await.removed());
    let new = replicas[2].token(&key).await.expect("token");
    assert_ne!(new.token(), old.token());
    for r in replicas {
        assert_eq!(r.token(&key).await.expect("token").token(), new.token());
    }
    assert_eq!(fake.count("get token"), 21);
    fake.tokens().into_iter().map(|t| t.token).collect()
}

/// What `nodes` hold, saved and scanned, shows no token (nor half of one), no password and
/// no secret key, and they hold the tokens (at least `stored` keys in all).
fn nothing_secret_on(nodes: &[&RedisServer], tokens: &[AccessToken], stored: usize) {
    let mut keys = 0;
    for node in nodes {
        let _ = node.cli(&["SAVE"]);
        let dump = std::fs::read(node.dir.join("dump.rdb")).expect("dump.rdb written");
        let scan = node.cli(&["--scan"]);
        let mut values = Vec::new();
        for name in String::from_utf8_lossy(&scan).lines() {
            keys += 1;
            values.extend(node.cli(&["GET", name]));
        }
        for (what, bytes) in [("dump", &dump), ("scan", &scan), ("values", &values)] {
            let text = String::from_utf8_lossy(bytes);
            for token in tokens {
                assert!(
                    !text.contains(token.secret()),
                    "a token in the {what} of :{}",
                    node.port
                );
                let piece = &token.secret()[token.secret().len() / 2..];
                assert!(
                    !text.contains(piece),
                    "part of a token in the {what} of :{}",
                    node.port
                );
            }
            for secret in [SECRET_KEY, PASSWORD, "user-0", "user-1"] {
                assert!(
                    !text.contains(secret),
                    "{secret:?} in the {what} of :{}",
                    node.port
                );
            }
        }
    }
    assert!(keys >= stored, "{keys} keys stored, {stored} expected at least");
}

async fn replicas_over(
    server: &FakeServer,
    builders: Vec<thoughtspot_session_redis::RedisTokenStoreBuilder>,
) -> Vec<Manager> {
    let mut replicas = Vec::new();
    for builder in builders {
        let store = connected(builder, Duration::from_secs(5)).await;
        replicas.push(replica_on(server, store, Duration::from_secs(5)));
    }
    replicas
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_redis_cluster_the_replica_scenarios_hold_and_no_node_holds_a_secret() {
    let redis = RedisCluster::start(3, 1);
    let (fake, server) = cluster(20).await;
    let seeds = redis.urls().into_iter().take(3);
    let replicas = replicas_over(
        &server,
        seeds.map(|s| RedisTokenStore::cluster_builder([s])).collect(),
    )
    .await;
    within("replica scenarios on a cluster", async {
        let tokens = share_and_invalidate(&fake, &replicas).await;
        let nodes: Vec<&RedisServer> = redis.nodes.iter().collect();
        // Every node: the primaries, and their replicas' copies (in their dumps).
        nothing_secret_on(&nodes, &tokens, 20);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_sentinel_the_replica_scenarios_hold_and_no_server_holds_a_secret() {
    let redis = RedisSentinel::start();
    let (fake, server) = cluster(20).await;
    let builders = (0..3)
        .map(|_| RedisTokenStore::sentinel_builder(redis.urls(), SERVICE))
        .collect();
    let replicas = replicas_over(&server, builders).await;
    within("replica scenarios under Sentinel", async {
        let tokens = share_and_invalidate(&fake, &replicas).await;
        let nodes: Vec<&RedisServer> = redis.servers.iter().collect();
        nothing_secret_on(&nodes, &tokens, 20);
    })
    .await;
}
