//! The store on a real Redis Cluster (three primaries, three replicas, `redis-server` in
//! cluster mode on loopback): the replica scenarios of `replicas.rs`, with keys spread over
//! the primaries.

use std::time::Duration;
use thoughtspot_session_core::{SessionClient, TokenKey, TokenManager, TokioSleep, TokioSpawn};
use thoughtspot_session_mock::{FakeServer, FakeThoughtSpot, FakeUser};
use thoughtspot_session_redis::{EncryptionKey, RedisTokenStore};
use thoughtspot_session_reqwest::ReqwestTransport;
use thoughtspot_session_tests::redis::RedisCluster;
use thoughtspot_session_tests::replicas::tokens_at_once;

const SECRET_KEY: &str = "trusted-auth-secret-0xC0FFEE";

type Manager = TokenManager<SessionClient<ReqwestTransport>>;

async fn within<F: std::future::Future>(name: &str, future: F) -> F::Output {
    match tokio::time::timeout(Duration::from_secs(60), future).await {
        Ok(out) => out,
        Err(_) => panic!("{name} did not finish within 60 s: it hangs"),
    }
}

async fn fake_cluster(users: usize) -> (FakeThoughtSpot, FakeServer) {
    let mut b = FakeThoughtSpot::builder()
        .secret_key(SECRET_KEY)
        .token_lifetime(Duration::from_secs(900));
    for n in 0..users {
        b = b.user(FakeUser::new(format!("user-{n}"), "pw"));
    }
    let fake = b.build();
    let server = FakeServer::start(fake.clone()).await.expect("the fake serves");
    (fake, server)
}

/// Three replicas, each with its own client and its own cluster connection, seeded with
/// one node each (a different one), so that each learns the slots on its own.
async fn replicas(server: &FakeServer, redis: &RedisCluster) -> Vec<Manager> {
    let mut out = Vec::new();
    for seed in redis.urls().into_iter().take(3) {
        let store = RedisTokenStore::cluster_builder([seed])
            .namespace("fake.thoughtspot.test", "token-service")
            .keys([EncryptionKey::new(1, [0x5a; 32])])
            .naming_key([0x3c; 32])
            .timeout(Duration::from_secs(5))
            .connect()
            .await
            .expect("connects to the cluster");
        let client = SessionClient::builder(server.base_url())
            .sleep(TokioSleep::new())
            .build(ReqwestTransport::new().expect("transport"))
            .expect("client");
        out.push(
            TokenManager::builder(client, SECRET_KEY)
                .store(store)
                .spawn(TokioSpawn::new())
                .sleep(TokioSleep::new())
                .store_poll(Duration::from_millis(10))
                .build()
                .expect("manager"),
        );
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_redis_cluster_six_hundred_requests_for_twenty_users_make_twenty_calls_and_an_invalidation_reaches_all()
 {
    let redis = RedisCluster::start(3, 1);
    let (fake, server) = fake_cluster(20).await;
    let replicas = replicas(&server, &redis).await;
    within("on_a_redis_cluster", async {
        let per_user = tokens_at_once(&fake, &replicas, 600, 20, 0).await;
        assert_eq!(
            fake.count("token/full"),
            20,
            "one call per user across the replicas"
        );
        assert!(
            per_user.values().all(|t| t.len() == 1),
            "one token per user everywhere"
        );
        for r in &replicas {
            let stats = r.stats();
            assert_eq!((stats.store_errors, stats.store_fallbacks), (0, 0), "{stats:?}");
        }
        // The 20 tokens are spread over the primaries (no slot is forced by the names).
        let holding = redis.nodes[..3]
            .iter()
            .filter(|primary| {
                let size = String::from_utf8_lossy(&primary.cli(&["DBSIZE"]))
                    .trim()
                    .to_owned();
                size.parse::<u64>().unwrap_or(0) > 0
            })
            .count();
        assert!(holding >= 2, "keys on {holding} of 3 primaries");

        // An invalidation on one replica reaches the others.
        let key = TokenKey::new("user-0");
        let old = replicas[0].token(&key).await.expect("token");
        assert!(replicas[1].invalidate(&key, old.token()).await.removed());
        let new = replicas[2].token(&key).await.expect("token");
        assert_ne!(new.token(), old.token());
        for r in &replicas {
            assert_eq!(r.token(&key).await.expect("token").token(), new.token());
        }
        assert_eq!(fake.count("token/full"), 21);
    })
    .await;
}
