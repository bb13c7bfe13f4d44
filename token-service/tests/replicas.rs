//! Three replicas of the service on loopback sharing one real redis-server (started by the
//! test), one fake cluster over HTTP and one JWT issuer: each token shape (user, rules) is
//! minted once across replicas, and no replica serves one shape's token for another.

mod support;

use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use support::*;
use thoughtspot_session_mock::{FakeThoughtSpot, FakeUser};
use thoughtspot_session_tests::redis::{RedisCluster, RedisServer};

const USERS: usize = 20;
const SHAPES: [Option<&str>; 3] = [None, Some("west"), Some("east")];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_mint_each_shape_once_and_never_cross_rules() {
    let redis = RedisServer::start();
    three_replicas(&format!("url = \"{}\"", redis.url()), "one_node").await;
}

/// The same on a Redis Cluster of three primaries and three replicas, the service given
/// two seed nodes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_redis_cluster_three_replicas_mint_each_shape_once_and_never_cross_rules() {
    let redis = RedisCluster::start(3, 1);
    let urls = redis.urls();
    three_replicas(&format!("nodes = [\"{}\", \"{}\"]", urls[0], urls[4]), "cluster").await;
}

/// Three replicas over the `[redis]` topology `where_redis` is (`url = …`, `nodes = […]`).
async fn three_replicas(where_redis: &str, topology: &str) {
    let issuer = Issuer::start().await;
    let mut fake = FakeThoughtSpot::builder()
        .secret_key(SECRET_KEY)
        .token_lifetime(Duration::from_secs(3600));
    for n in 0..USERS {
        fake = fake.user(FakeUser::new(format!("user-{n}@example.com"), "pw"));
    }
    let fake = fake.build();
    let cluster = cluster(&fake).await;
    // Sharing is checked here, not slowness: on a starved machine a Redis call may pass the
    // default 250 ms and count as an outage (a fetch of the replica's own).
    let config = config(
        &cluster.base_url(),
        &issuer,
        // The request timeout makes room for that (the service refuses a store wait that
        // cannot fit inside it).
        &format!("[redis]\n{where_redis}\ntimeout_ms = 5000\n[limits]\nrequest_timeout_ms = 40000\n"),
    );
    let env = [
        ("TS_SECRET_KEY", SECRET_KEY),
        ("TS_TOKEN_KEYS", "1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="),
    ];
    let mut replicas = Vec::new();
    for _ in 0..3 {
        replicas.push(start(&config, &env).await);
    }
    let work = async {
        // 600 requests, 20 users × 3 shapes (no rule, west, east), spread over the replicas,
        // all at once, each with an ID token of its own.
        let requests: Vec<_> = (0..600)
            .map(|i| {
                let (user, shape) = (i % USERS, i % SHAPES.len());
                let mut claims = json!({"email": format!("user-{user}@example.com")});
                if let Some(region) = SHAPES[shape] {
                    claims["region"] = region.into();
                }
                let id = issuer.token(claims);
                let (http, base) = (replicas[i % 3].http.clone(), replicas[i % 3].base.clone());
                tokio::spawn(async move {
                    let response = http
                        .get(format!("{base}/token"))
                        .header("authorization", format!("Bearer {id}"))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(response.status(), 200);
                    ((user, shape), response.text().await.unwrap())
                })
            })
            .collect();
        let mut tokens = HashMap::<(usize, usize), HashSet<String>>::new();
        for request in requests {
            let (shape, token) = request.await.unwrap();
            tokens.entry(shape).or_default().insert(token);
        }
        assert_eq!(tokens.len(), USERS * SHAPES.len());
        assert!(
            tokens.values().all(|t| t.len() == 1),
            "one token per shape on every replica"
        );
        assert_eq!(
            fake.count("token/full"),
            USERS,
            "one full token per user over three replicas"
        );
        assert_eq!(
            fake.count("token/custom"),
            2 * USERS,
            "one custom token per user and region"
        );
        let distinct: HashSet<_> = tokens.values().flatten().collect();
        assert_eq!(distinct.len(), USERS * SHAPES.len(), "no token serves two shapes");
        // Each token carries its own shape's rules.
        let issued = fake.live_tokens();
        for ((user, shape), token) in &tokens {
            let token = token.iter().next().unwrap();
            let record = issued.iter().find(|t| t.token.secret() == token).unwrap();
            assert_eq!(record.user, format!("user-{user}@example.com"));
            let region = record
                .rules
                .as_ref()
                .map(|r| r["filter_rules"][0]["values"][0].clone());
            assert_eq!(region, SHAPES[*shape].map(serde_json::Value::from));
        }

        // One replica invalidates user-0's west token: every replica moves on, and the
        // east token stays.
        let west_id = issuer.token(json!({"email": "user-0@example.com", "region": "west"}));
        let old = tokens[&(0, 1)].iter().next().unwrap().clone();
        assert_eq!(replicas[1].invalidate(&west_id, &old).await, 204);
        let mut new = HashSet::new();
        for r in &replicas {
            let token = r.token(&west_id).await;
            assert_ne!(token, old);
            new.insert(token);
        }
        assert_eq!(new.len(), 1);
        let east_id = issuer.token(json!({"email": "user-0@example.com", "region": "east"}));
        assert!(tokens[&(0, 2)].contains(&replicas[2].token(&east_id).await));
        // Readiness sees Redis.
        let ready = replicas[0].get("/readyz", None).await;
        let body: serde_json::Value = serde_json::from_slice(&ready.bytes().await.unwrap()).unwrap();
        assert_eq!(body["checks"]["redis"], true, "{body}");
        assert_eq!(body["checks"]["redis_topology"], topology, "{body}");
        let metrics = replicas[0].get("/metrics", None).await.text().await.unwrap();
        assert!(
            metrics.contains(&format!(
                "token_service_token_store_topology{{topology=\"{topology}\"}} 1"
            )),
            "{metrics}"
        );
    };
    tokio::time::timeout(Duration::from_secs(120), work)
        .await
        .expect("three_replicas_mint_each_shape_once_and_never_cross_rules did not finish within 120 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_is_degraded_not_unready_and_a_planted_lease_costs_the_stated_wait() {
    use thoughtspot_session_core::{Lease, TokenKey, TokenStore};
    let redis = RedisServer::start();
    let issuer = Issuer::start().await;
    let fake = fake();
    let cluster = cluster(&fake).await;
    let keys = "1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let env = [("TS_SECRET_KEY", SECRET_KEY), ("TS_TOKEN_KEYS", keys)];
    let config = config(
        &cluster.base_url(),
        &issuer,
        &format!("[redis]\nurl = \"{}\"\nstore_wait_ms = 1000\n", redis.url()),
    );
    let s = start(&config, &env).await;
    // A writer to Redis plants alice's lease for a year, as the service names it.
    let intruder = thoughtspot_session_redis::RedisTokenStore::builder(redis.url())
        .namespace(cluster.base_url(), "thoughtspot-token-service")
        .keys(thoughtspot_session_redis::EncryptionKey::parse_list(keys).unwrap())
        .connect()
        .await
        .unwrap();
    let planted = intruder
        .try_lease(
            &TokenKey::new("alice@example.com"),
            Duration::from_secs(365 * 24 * 3600),
            &Lease::for_owner("intruder", 1),
        )
        .await
        .unwrap();
    assert!(planted);
    // The request waits the configured 1 s, then asks the cluster itself: a token, well
    // inside the 15 s request timeout (before, the library's 15 s wait was a 504).
    let started = std::time::Instant::now();
    s.token(&issuer.token(json!({"email": "alice@example.com"})))
        .await;
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(1000) && waited < Duration::from_secs(5),
        "waited {waited:?}"
    );
    // A configuration whose wait cannot fit inside the request timeout is refused.
    let mut tight = config.clone();
    tight.limits.request_timeout_ms = 5000;
    let e = tight.validate().unwrap_err().to_string();
    assert!(e.contains("store_wait_ms"), "{e}");
    // Redis stops: the service is degraded, still ready, and still serves.
    drop(redis);
    tokio::time::sleep(Duration::from_millis(1100)).await; // past the cached verdict
    let ready = s.get("/readyz", None).await;
    let status = ready.status();
    let body: serde_json::Value = serde_json::from_slice(&ready.bytes().await.unwrap()).unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["checks"]["redis"], false, "{body}");
    assert_eq!(body["checks"]["degraded"], true, "{body}");
    s.token(&issuer.token(json!({"email": "bob@example.com"}))).await;
}
