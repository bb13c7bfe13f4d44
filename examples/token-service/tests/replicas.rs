//! Three replicas of the token service on loopback sharing one real redis-server (started
//! by the test) and one fake cluster served over loopback.

use std::collections::{HashMap, HashSet};
use std::time::Duration;
use thoughtspot_session_core::{SessionClient, TokenKey, TokenManager, TokioSleep};
use thoughtspot_session_mock::{FakeServer, FakeThoughtSpot, FakeUser};
use thoughtspot_session_redis::{EncryptionKey, RedisTokenStore};
use thoughtspot_session_reqwest::ReqwestTransport;
use thoughtspot_session_tests::redis::RedisServer;
use thoughtspot_token_service::{ServiceConfig, TokenService, serve};

const ORIGIN: &str = "https://app.example.com";
const CALLER_KEY: &str = "caller-key-123";
const USERS: usize = 20;

async fn replica(cluster: &FakeServer, redis: &RedisServer) -> (String, tokio::sync::oneshot::Sender<()>) {
    let client = SessionClient::builder(cluster.base_url())
        .api_version(thoughtspot_session_core::ApiVersion::V2Beta)
        .sleep(TokioSleep::new())
        .build(ReqwestTransport::new().unwrap())
        .unwrap();
    let store = RedisTokenStore::builder(redis.url())
        .namespace(cluster.base_url(), "thoughtspot-token-service")
        .keys(EncryptionKey::parse_list("1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").unwrap())
        // Sharing is checked here, not slowness: on a starved machine a Redis call may pass
        // the default 250 ms and count as an outage (a fetch of the replica's own).
        .timeout(Duration::from_secs(5))
        .connect()
        .await
        .unwrap();
    let manager = TokenManager::builder(client, "cluster-secret-key")
        .store(store)
        .sleep(TokioSleep::new())
        .store_poll(Duration::from_millis(10))
        .build()
        .unwrap();
    let mut config = ServiceConfig::new(CALLER_KEY, ORIGIN);
    for n in 0..USERS {
        config = config.user(format!("app-{n}"), TokenKey::new(format!("user-{n}")));
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(TokenService::new(manager, config), listener, async move {
        let _ = stopped.await;
    }));
    (base, stop)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_share_one_cache_on_redis() {
    let redis = RedisServer::start();
    let mut fake = FakeThoughtSpot::builder().secret_key("cluster-secret-key");
    for n in 0..USERS {
        fake = fake.user(FakeUser::new(format!("user-{n}"), "pw"));
    }
    let fake = fake.build();
    let cluster = FakeServer::start(fake.clone()).await.unwrap();
    let mut replicas = Vec::new();
    for _ in 0..3 {
        replicas.push(replica(&cluster, &redis).await);
    }
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let get = |base: &str, user: String| {
        http.get(format!("{base}/token"))
            .header("origin", ORIGIN)
            .header("x-service-key", CALLER_KEY)
            .header("x-app-user", user)
            .send()
    };
    let work = async {
        // 600 requests for 20 users, spread over the replicas, all at once.
        let requests: Vec<_> = (0..600)
            .map(|i| {
                let (base, user) = (replicas[i % 3].0.clone(), i % USERS);
                let request = get(&base, format!("app-{user}"));
                tokio::spawn(async move {
                    let response = request.await.unwrap();
                    assert_eq!(response.status(), 200);
                    (user, response.text().await.unwrap())
                })
            })
            .collect();
        let mut tokens = HashMap::<usize, HashSet<String>>::new();
        for request in requests {
            let (user, token) = request.await.unwrap();
            tokens.entry(user).or_default().insert(token);
        }
        assert_eq!(
            fake.count("get token"),
            USERS,
            "one get token call per user over three replicas"
        );
        assert!(tokens.values().all(|t| t.len() == 1));

        // The front end rejects app-0's token at one replica: every replica moves on.
        let old = tokens[&0].iter().next().unwrap().clone();
        let response = http
            .post(format!("{}/token/invalidate", replicas[1].0))
            .header("origin", ORIGIN)
            .header("x-service-key", CALLER_KEY)
            .header("x-app-user", "app-0")
            .body(old.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204);
        let mut new = HashSet::new();
        for (base, _) in &replicas {
            let token = get(base, "app-0".into()).await.unwrap().text().await.unwrap();
            assert_ne!(token, old);
            new.insert(token);
        }
        assert_eq!(new.len(), 1);
    };
    tokio::time::timeout(Duration::from_secs(60), work)
        .await
        .expect("three_replicas_share_one_cache_on_redis did not finish within 60 s");
}
