//! Redis Cluster's one rule the store must keep: every key one operation touches shares a
//! hash slot, whatever namespace the application configures. Against a real redis-server
//! in cluster mode (one node holding every slot, which refuses cross-slot commands as a
//! cluster does).

use std::time::Duration;
use thoughtspot_session_core::{TokenKey, TokenManager, TokioSleep, TokioSpawn};
use thoughtspot_session_mock::{FakeThoughtSpot, FakeUser};
use thoughtspot_session_redis::{EncryptionKey, RedisTokenStore};
use thoughtspot_session_tests::redis::RedisServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_namespace_with_braces_keeps_a_keys_token_and_lease_in_one_slot() {
    let redis = RedisServer::start_one_node_cluster();
    let fake = FakeThoughtSpot::builder()
        .secret_key("key")
        .user(FakeUser::new("analyst", "pw"))
        .build();
    // The control, a plain namespace, then namespaces whose braces would move the tag.
    for (cluster, app) in [("fake.thoughtspot.test", "svc"), ("eu{prod", "svc"), ("a", "}b{")] {
        let replica = || async {
            let store = RedisTokenStore::builder(redis.url())
                .namespace(cluster, app)
                .keys([EncryptionKey::new(1, [0x5a; 32])])
                .timeout(Duration::from_secs(5))
                .connect()
                .await
                .expect("connects");
            TokenManager::builder(fake.client(), "key")
                .store(store)
                .spawn(TokioSpawn::new())
                .sleep(TokioSleep::new())
                .build()
                .expect("manager")
        };
        let (a, b) = (replica().await, replica().await);
        let key = TokenKey::new("analyst");
        let minted = fake.count("token/full");
        let first = a.token(&key).await.expect("token");
        assert_eq!(
            b.token(&key).await.expect("token").token(),
            first.token(),
            "{cluster:?} {app:?}: shared"
        );
        assert_eq!(
            fake.count("token/full"),
            minted + 1,
            "{cluster:?} {app:?}: one fetch"
        );
        for r in [&a, &b] {
            let stats = r.stats();
            assert_eq!(
                stats.store_errors, 0,
                "{cluster:?} {app:?}: no CROSSSLOT, {stats:?}"
            );
            assert_eq!(stats.store_fallbacks, 0, "{cluster:?} {app:?}: {stats:?}");
        }
    }
}
