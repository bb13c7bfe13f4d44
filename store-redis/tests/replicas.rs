//! Three token-service replicas on loopback, each with its own HTTP client and its own Redis
//! connection, sharing one real redis-server, against the fake cluster served over
//! loopback; and the same on a Redis Cluster.

use std::time::{Duration, Instant};
use thoughtspot_session_core::{SessionClient, TokenKey, TokenManager, TokioSleep, TokioSpawn};
use thoughtspot_session_redis::{EncryptionKey, RedisTokenStore};
use thoughtspot_session_reqwest::ReqwestTransport;
use thoughtspot_session_tests::redis::{RedisCluster, RedisServer};
use thoughtspot_session_tests::replicas::{owner, tokens_at_once};

mod common;

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn six_hundred_requests_for_twenty_users_on_three_replicas_make_twenty_get_token_calls() {
    let redis = RedisServer::start();
    let (fake, server) = cluster(20).await;
    let replicas = replicas(&server, &redis).await;
    within("six_hundred_requests", async {
        let per_user = tokens_at_once(&fake, &replicas, 600, 20, 0).await;
        assert_eq!(
            fake.count("get token"),
            20,
            "one get token call per user across the replicas"
        );
        assert!(per_user.values().all(|t| t.len() == 1));
        let errors: u64 = replicas.iter().map(|r| r.stats().store_errors).sum();
        assert_eq!(errors, 0);
    })
    .await;
}

/// The same on a Redis Cluster (three primaries, three replicas): each replica seeded with
/// a different node learns the slots on its own, and the keys spread over the primaries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_redis_cluster_six_hundred_requests_for_twenty_users_make_twenty_calls_and_an_invalidation_reaches_all()
 {
    let redis = RedisCluster::start(3, 1);
    let (fake, server) = cluster(20).await;
    let mut replicas = Vec::new();
    for seed in redis.urls().into_iter().take(3) {
        let store = connected(RedisTokenStore::cluster_builder([seed]), Duration::from_secs(5)).await;
        replicas.push(replica_on(&server, store, Duration::from_secs(5)));
    }
    within("on_a_redis_cluster", async {
        let per_user = tokens_at_once(&fake, &replicas, 600, 20, 0).await;
        assert_eq!(
            fake.count("get token"),
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
        let key = TokenKey::new("user-0");
        let old = replicas[0].token(&key).await.expect("token");
        assert!(replicas[1].invalidate(&key, old.token()).await.removed());
        let new = replicas[2].token(&key).await.expect("token");
        assert_ne!(new.token(), old.token());
        for r in &replicas {
            assert_eq!(r.token(&key).await.expect("token").token(), new.token());
        }
        assert_eq!(fake.count("get token"), 21);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_an_invalidation_returns_no_replica_serves_the_old_token() {
    let redis = RedisServer::start();
    let (fake, server) = cluster(1).await;
    let replicas = replicas(&server, &redis).await;
    within("after_an_invalidation", async {
        let key = TokenKey::new("user-0");
        let old = replicas[0].token(&key).await.expect("token");
        // Readers on the other replicas, all the while: each read's start and what it got.
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let done = std::sync::Arc::new(AtomicUsize::new(0));
        let readers: Vec<_> = replicas[1..]
            .iter()
            .map(|r| {
                let (r, key, stop, done) = (r.clone(), key.clone(), stop.clone(), done.clone());
                tokio::spawn(async move {
                    let mut reads = Vec::new();
                    while !stop.load(SeqCst) {
                        let started = Instant::now();
                        let token = r.token(&key).await.expect("token");
                        reads.push((started, token.token().clone()));
                        done.fetch_add(1, SeqCst);
                    }
                    reads
                })
            })
            .collect();
        // Counted reads, not sleeps that usually suffice: some before, enough after.
        let reads_by = |n: usize| {
            let done = done.clone();
            async move {
                while done.load(SeqCst) < n {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        };
        reads_by(10).await;
        assert!(replicas[0].invalidate(&key, old.token()).await.removed());
        let returned = Instant::now();
        // At most one read per reader was under way when invalidate returned.
        reads_by(done.load(SeqCst) + 30).await;
        stop.store(true, SeqCst);
        // The stale window: how long after invalidate returned a read that began then still
        // got the old token (none may).
        let mut stale_after = None::<Duration>;
        let mut reads_after = 0;
        for reader in readers {
            for (started, token) in reader.await.expect("reader") {
                if started >= returned {
                    reads_after += 1;
                    if token == *old.token() {
                        let late = started - returned;
                        stale_after = Some(stale_after.map_or(late, |s| s.max(late)));
                    }
                }
            }
        }
        assert!(reads_after >= 28, "{reads_after} reads after the invalidation");
        assert_eq!(
            stale_after, None,
            "a replica served the invalidated token after invalidate returned"
        );
        println!("stale window after invalidate returned: 0 ({reads_after} reads on 2 replicas)");
        for r in &replicas {
            assert_ne!(r.token(&key).await.expect("token").token(), old.token());
        }
        assert_eq!(fake.count("get token"), 2);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_stopped_mid_load_loses_no_request_and_sharing_resumes_when_it_returns() {
    let mut redis = RedisServer::start();
    let port = redis.port;
    let (fake, server) = cluster(10).await;
    let replicas = replicas(&server, &redis).await;
    within("redis_stopped_mid_load", async {
        let load = |round: usize| tokens_at_once(&fake, &replicas, 120, 10, round);
        load(0).await;
        let before = fake.count("get token");
        assert_eq!(before, 10);

        // Redis goes away in the middle of a load.
        let during = tokio::spawn({
            let (fake, replicas) = (fake.clone(), replicas.clone());
            async move { tokens_at_once(&fake, &replicas, 120, 10, 1).await }
        });
        tokio::time::sleep(Duration::from_millis(2)).await; // the load is under way
        redis.stop();
        during.await.expect("the load ran");
        load(2).await;
        let errors: u64 = replicas.iter().map(|r| r.stats().store_errors).sum();
        let fallbacks: u64 = replicas.iter().map(|r| r.stats().store_fallbacks).sum();
        assert!(
            errors > 0 && fallbacks > 0,
            "{errors} store errors, {fallbacks} fallbacks"
        );

        // Redis is back (empty, as after a crash without persistence). What the library
        // promises: each replica goes back to Redis at a request once Redis answers (the
        // store sends a command refused on a stale connection once more), and from then on
        // the replicas share one token again. Each replica is asked until a request of its
        // own is served without a fallback, within a bound; only then is sharing checked.
        let _back = RedisServer::start_on(port, None);
        let key = TokenKey::new("user-3");
        for (n, replica) in replicas.iter().enumerate() {
            back_on_redis(n, replica, &key).await;
        }
        let fetched = fake.count("get token");
        let shared = replicas[0].token(&key).await.expect("token");
        for r in &replicas[1..] {
            assert_eq!(
                r.token(&key).await.expect("token").token(),
                shared.token(),
                "shared again"
            );
        }
        assert_eq!(fake.count("get token"), fetched, "no further fetch once shared");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_call_after_redis_returns_answers() {
    let mut redis = RedisServer::start();
    let port = redis.port;
    let store = RedisTokenStore::builder(redis.url())
        .namespace("c", "a")
        .keys(keys())
        .connect()
        .await
        .expect("connects");
    use thoughtspot_session_core::TokenStore;
    let key = TokenKey::new("u");
    within("the_first_call_after_redis_returns", async {
        assert!(store.get(&key).await.expect("answers").is_none());
        redis.stop();
        // Calls during the outage fail, each leaving the connection a failed reconnection.
        for _ in 0..5 {
            assert!(store.get(&key).await.is_err(), "Redis is down");
        }
        tokio::time::sleep(Duration::from_millis(500)).await; // the last reconnection failed too
        let _back = RedisServer::start_on(port, None);
        store
            .get(&key)
            .await
            .expect("the first call once Redis answers is answered");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_holding_the_lease_delays_the_others_only_until_it_lapses() {
    let redis = RedisServer::start();
    let (fake, server) = cluster(1).await;
    let key = TokenKey::new("user-0");
    within("a_replica_killed_holding_the_lease", async {
        // The doomed replica's cluster answers after 30 s: it takes the lease and hangs.
        fake.set_latency(Duration::from_secs(30));
        let doomed = replica(&server, &redis, Duration::from_millis(800)).await;
        let mut dying = Box::pin(doomed.token(&key));
        let leased = async {
            while redis.cli(&["--scan", "--pattern", "*:lease:*"]).is_empty() {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        tokio::select! {
            _ = &mut dying => panic!("the doomed fetch finished"),
            () = leased => {}
        }
        // Killed mid-fetch, as a process dies: none of its code runs again, its lease stays
        // in Redis.
        std::mem::forget(dying);
        fake.set_latency(Duration::ZERO);
        let healthy = replica(&server, &redis, Duration::from_millis(800)).await;
        let started = Instant::now();
        let pttl = String::from_utf8_lossy(&redis.cli(&[
            "EVAL",
            "return redis.call('PTTL', redis.call('KEYS', '*:lease:*')[1])",
            "0",
        ]))
        .trim()
        .parse::<u64>()
        .expect("the lease's time left");
        let token = healthy.token(&key).await.expect("a token once the lease lapsed");
        let waited = started.elapsed();
        assert!(healthy.stats().store_waits > 0, "it waited for the lease");
        assert!(
            waited + Duration::from_millis(1) >= Duration::from_millis(pttl),
            "waited {waited:?}, the lease had {pttl} ms left"
        );
        assert!(waited < Duration::from_secs(5), "waited {waited:?}");
        assert_eq!(owner(&fake, token.token()).as_deref(), Some("user-0"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_dump_a_key_scan_and_monitor_show_no_token_password_or_secret_key() {
    let redis = RedisServer::start();
    let (fake, server) = cluster(3).await;
    let monitor = std::process::Command::new("redis-cli")
        .args(["-p", &redis.port.to_string(), "monitor"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("redis-cli monitor");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let replicas = replicas(&server, &redis).await;
    let mut tokens = Vec::new();
    within("a_redis_dump", async {
        for (n, replica) in replicas.iter().enumerate() {
            let key = TokenKey::new(format!("user-{n}")).with_org_id("0");
            tokens.push(replica.token(&key).await.expect("token").token().clone());
        }
        let old = tokens[0].clone();
        replicas[1]
            .invalidate(&TokenKey::new("user-0").with_org_id("0"), &old)
            .await
            .removed();
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut monitor = monitor;
    let _ = monitor.kill();
    let monitored = monitor.wait_with_output().expect("monitor output").stdout;
    let _ = redis.cli(&["SAVE"]);
    let dump = std::fs::read(redis.dir.join("dump.rdb")).expect("dump.rdb written");
    let scan = redis.cli(&["--scan"]);
    let mut values = Vec::new();
    for name in String::from_utf8_lossy(&scan).lines() {
        values.extend(redis.cli(&["GET", name]));
    }
    assert!(
        String::from_utf8_lossy(&scan).lines().count() >= 2,
        "tokens are stored"
    );
    assert!(
        String::from_utf8_lossy(&monitored).contains("SET"),
        "monitor saw the writes"
    );
    for (what, bytes) in [
        ("dump", &dump),
        ("scan", &scan),
        ("values", &values),
        ("monitor", &monitored),
    ] {
        let text = String::from_utf8_lossy(bytes);
        for token in &tokens {
            assert!(!text.contains(token.secret()), "a token in the {what}");
            // Not even a long piece of one.
            let piece = &token.secret()[token.secret().len() / 2..];
            assert!(!text.contains(piece), "part of a token in the {what}");
        }
        for secret in [SECRET_KEY, PASSWORD, "user-0", "user-1", "user-2"] {
            assert!(!text.contains(secret), "{secret:?} in the {what}");
        }
    }
    drop(fake);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_protected_redis_works_and_a_wrong_password_fails_without_showing_it() {
    let redis = RedisServer::start_with_password("redis-pass-0xFEED");
    let store = RedisTokenStore::builder(redis.url())
        .namespace("c", "a")
        .keys(keys())
        .connect()
        .await
        .expect("connects with the password");
    use thoughtspot_session_core::TokenStore;
    assert!(store.get(&TokenKey::new("u")).await.expect("answers").is_none());
    let wrong = format!("redis://:wrong-pass-0xDEAD@127.0.0.1:{}", redis.port);
    let e = RedisTokenStore::builder(wrong.clone())
        .namespace("c", "a")
        .keys(keys())
        .connect()
        .await
        .unwrap_err();
    let mut chain = format!("{e} {e:?}");
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        chain.push_str(&format!(" {s} {s:?}"));
        source = s.source();
    }
    assert!(!chain.contains("wrong-pass-0xDEAD"), "{chain}");
    let builder = format!("{:?}", RedisTokenStore::builder(wrong).keys(keys()));
    assert!(!builder.contains("wrong-pass"), "{builder}");
    assert!(
        !builder.contains("0x5a") && !builder.contains("90, 90"),
        "{builder}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_or_foreign_value_is_a_miss_and_keys_rotate() {
    let redis = RedisServer::start();
    let (fake, server) = cluster(1).await;
    let manager = replica(&server, &redis, Duration::from_secs(5)).await;
    within("a_corrupt_or_foreign_value", async {
        let key = TokenKey::new("user-0");
        let first = manager.token(&key).await.expect("token");
        let scan = redis.cli(&["--scan", "--pattern", "*:token:*"]);
        let name = String::from_utf8_lossy(&scan).trim().to_owned();
        let _ = redis.cli(&["SET", &name, "not a sealed value"]);
        let second = manager.token(&key).await.expect("a corrupt value is a miss");
        assert_ne!(second.token(), first.token());

        // Rotation: a store that seals with key 2 and still opens key 1 reads the value.
        let rotated = RedisTokenStore::builder(redis.url())
            .namespace("fake.thoughtspot.test", "token-service")
            .keys([
                EncryptionKey::new(2, [0x77; 32]),
                EncryptionKey::new(1, [0x5a; 32]),
            ])
            .naming_key(NAMING)
            .connect()
            .await
            .expect("connects");
        use thoughtspot_session_core::TokenStore;
        let read = rotated
            .get(&key)
            .await
            .expect("answers")
            .expect("the old key opens it");
        assert_eq!(read.token(), second.token());
        // With key 1 retired, the value is a miss.
        let retired = RedisTokenStore::builder(redis.url())
            .namespace("fake.thoughtspot.test", "token-service")
            .keys([EncryptionKey::new(2, [0x77; 32])])
            .naming_key(NAMING)
            .connect()
            .await
            .expect("connects");
        assert!(retired.get(&key).await.expect("answers").is_none());
        assert_eq!(retired.unreadable_values(), 1, "counted, so a key mismatch shows");
        assert_eq!(rotated.unreadable_values(), 0);
        assert_eq!(fake.count("get token"), 2);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_started_while_redis_is_down_serves_and_shares_once_redis_is_up() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let (fake, server) = cluster(1).await;
    let url = format!("redis://127.0.0.1:{port}");
    let strict = RedisTokenStore::builder(url.clone())
        .namespace("c", "a")
        .keys(keys())
        .connect()
        .await;
    assert!(strict.is_err(), "connect() fails at once without Redis");
    let make = || {
        let client = SessionClient::builder(server.base_url())
            .api_version(thoughtspot_session_core::ApiVersion::V2Beta)
            .sleep(TokioSleep::new())
            .build(ReqwestTransport::new().expect("transport"))
            .expect("client");
        let store = RedisTokenStore::builder(url.clone())
            .namespace("c", "a")
            .keys(keys())
            .build()
            .expect("build() does not connect");
        TokenManager::builder(client, SECRET_KEY)
            .store(store)
            .spawn(TokioSpawn::new())
            .sleep(TokioSleep::new())
            .store_retry(Duration::from_millis(100))
            .build()
            .expect("manager")
    };
    let (a, b) = (make(), make());
    within("a_service_started_while_redis_is_down", async {
        let key = TokenKey::new("user-0");
        let alone = a.token(&key).await.expect("a token without Redis");
        assert_eq!(owner(&fake, alone.token()).as_deref(), Some("user-0"));
        assert_eq!(a.stats().store_fallbacks, 1);
        let _redis = RedisServer::start_on(port, None);
        // a goes back to Redis once its back-off window (100 ms here) has passed; b never
        // met the outage.
        back_on_redis(0, &a, &key).await;
        let shared = a.token(&key).await.expect("token");
        assert_eq!(
            b.token(&key).await.expect("token").token(),
            shared.token(),
            "shared"
        );
        assert_eq!(fake.count("get token"), 2);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planted_lease_with_no_expiry_costs_each_request_the_stated_bound_on_every_replica() {
    let redis = RedisServer::start();
    let (fake, server) = cluster(1).await;
    let key = TokenKey::new("user-0");
    // A writer to Redis plants the key's lease for a year (through the store's own call,
    // as anyone with the naming key could).
    use thoughtspot_session_core::TokenStore;
    let intruder = store(&redis).await;
    let planted = intruder
        .try_lease(
            &key,
            Duration::from_secs(365 * 24 * 3600),
            &thoughtspot_session_core::Lease::for_owner("intruder", 1),
        )
        .await
        .expect("answers");
    assert!(planted);
    let mut replicas = Vec::new();
    for _ in 0..3 {
        replicas.push(replica(&server, &redis, Duration::from_millis(300)).await);
    }
    within("a_planted_lease", async {
        // The bound: the lease time (300 ms) plus one poll (10 ms).
        for r in &replicas {
            let started = Instant::now();
            let token = r.token(&key).await.expect("a token by the fetch-locally policy");
            let waited = started.elapsed();
            assert_eq!(owner(&fake, token.token()).as_deref(), Some("user-0"));
            assert_eq!(r.stats().store_wait_timeouts, 1);
            assert!(waited >= Duration::from_millis(310), "waited {waited:?}");
            println!("a planted lease cost a request {waited:?} (bound 310 ms plus the calls)");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_cancelled_fetches_give_their_leases_back_at_once() {
    let redis = RedisServer::start();
    let (fake, server) = cluster(100).await;
    within("a_hundred_cancelled_fetches", async {
        // The cluster answers nothing for now: every fetch takes its lease and hangs.
        fake.set_latency(Duration::from_secs(3600));
        let doomed = replica(&server, &redis, Duration::from_secs(15)).await;
        let fetches: Vec<_> = (0..100)
            .map(|n| {
                let (doomed, key) = (doomed.clone(), TokenKey::new(format!("user-{n}")));
                tokio::spawn(async move { doomed.token(&key).await })
            })
            .collect();
        let leases = || {
            String::from_utf8_lossy(&redis.cli(&["--scan", "--pattern", "*:lease:*"]))
                .lines()
                .count()
        };
        while leases() < 100 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // Browser aborts: every request is cancelled mid-fetch.
        for f in &fetches {
            f.abort();
        }
        for f in fetches {
            let _ = f.await;
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while leases() > 0 {
            assert!(Instant::now() < deadline, "{} leases still held", leases());
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        fake.set_latency(Duration::ZERO);
        let before = fake.count("get token");
        let healthy = replica(&server, &redis, Duration::from_secs(15)).await;
        for n in 0..100 {
            healthy
                .token(&TokenKey::new(format!("user-{n}")))
                .await
                .expect("token");
        }
        assert_eq!(healthy.stats().store_waits, 0, "no request waited for a lease");
        assert_eq!(fake.count("get token") - before, 100, "one get token per key");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_slower_than_the_lease_leaves_one_token_everywhere() {
    let redis = RedisServer::start();
    let (fake, server) = cluster(1).await;
    within("a_cluster_slower_than_the_lease", async {
        let key = TokenKey::new("user-0");
        // Leases of 300 ms; the cluster answers after 1 s (the fake's clock follows real
        // time here).
        let clock = fake.clock().clone();
        let ticker = tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(10)).await;
                clock.advance(Duration::from_millis(10));
            }
        });
        fake.set_latency(Duration::from_secs(1));
        // The others wait up to 5 s for the lease: long enough to see it kept alive.
        let mut replicas = Vec::new();
        for _ in 0..3 {
            let client = SessionClient::builder(server.base_url())
                .api_version(thoughtspot_session_core::ApiVersion::V2Beta)
                .sleep(TokioSleep::new())
                .build(ReqwestTransport::new().expect("transport"))
                .expect("client");
            replicas.push(
                TokenManager::builder(client, SECRET_KEY)
                    .store(store(&redis).await)
                    .spawn(TokioSpawn::new())
                    .sleep(TokioSleep::new())
                    .lease_time(Duration::from_millis(300))
                    .store_poll(Duration::from_millis(10))
                    .store_wait(Duration::from_secs(5))
                    .build()
                    .expect("manager"),
            );
        }
        let tasks: Vec<_> = replicas
            .iter()
            .enumerate()
            .map(|(n, r)| {
                let (r, key) = (r.clone(), key.clone());
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(100 * n as u64)).await;
                    r.token(&key).await
                })
            })
            .collect();
        let mut tokens = std::collections::HashSet::new();
        for t in tasks {
            tokens.insert(t.await.expect("task").expect("token").token().secret().to_owned());
        }
        ticker.abort();
        assert_eq!(tokens.len(), 1, "one token wins, everywhere");
        assert_eq!(
            fake.count("get token"),
            1,
            "the lease held through the slow fetch"
        );
        for r in &replicas {
            assert_eq!(
                r.token(&key).await.expect("token").token().secret(),
                tokens.iter().next().unwrap().as_str()
            );
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_key_rotation_has_no_miss_storm_and_invalidation_reaches_every_replica() {
    let redis = RedisServer::start();
    let (fake, server) = cluster(5).await;
    let (old, new) = (EncryptionKey::new(1, [0x5a; 32]), || {
        EncryptionKey::new(2, [0x77; 32])
    });
    let _ = old;
    // One replica per phase of the README's procedure, side by side:
    // 0: [1] (before), 1: [2 open-only, 1] (phase 1), 2: [2, 1] (phase 2).
    let phases: Vec<Vec<EncryptionKey>> = vec![
        vec![EncryptionKey::new(1, [0x5a; 32])],
        vec![new().open_only(), EncryptionKey::new(1, [0x5a; 32])],
        vec![new(), EncryptionKey::new(1, [0x5a; 32])],
    ];
    let mut replicas = Vec::new();
    let mut stores = Vec::new();
    for keys in phases {
        let client = SessionClient::builder(server.base_url())
            .sleep(TokioSleep::new())
            .build(ReqwestTransport::new().expect("transport"))
            .expect("client");
        let store = RedisTokenStore::builder(redis.url())
            .namespace("fake.thoughtspot.test", "token-service")
            .keys(keys)
            .naming_key(NAMING)
            .timeout(Duration::from_secs(5))
            .connect()
            .await
            .expect("connects");
        stores.push(store.clone());
        replicas.push(
            TokenManager::builder(client, SECRET_KEY)
                .store(store)
                .spawn(TokioSpawn::new())
                .sleep(TokioSleep::new())
                .store_poll(Duration::from_millis(10))
                .build()
                .expect("manager"),
        );
    }
    within("a_rolling_key_rotation", async {
        // Phases 0 and 1 run together: both seal with key 1, both open it.
        for n in 0..5 {
            let key = TokenKey::new(format!("user-{n}"));
            let a = replicas[0].token(&key).await.expect("token");
            assert_eq!(replicas[1].token(&key).await.expect("token").token(), a.token());
        }
        // Phases 1 and 2 run together: phase 2 seals with key 2, which phase 1 opens.
        let key = TokenKey::new("user-0");
        let old = replicas[2].token(&key).await.expect("token");
        assert!(replicas[2].invalidate(&key, old.token()).await.removed());
        let fresh = replicas[2].token(&key).await.expect("sealed with key 2");
        assert_eq!(
            replicas[1].token(&key).await.expect("token").token(),
            fresh.token()
        );
        // Invalidation from the phase-1 replica reaches the phase-2 one.
        assert!(replicas[1].invalidate(&key, fresh.token()).await.removed());
        assert_ne!(
            replicas[2].token(&key).await.expect("token").token(),
            fresh.token()
        );
        for (n, store) in stores.iter().enumerate().skip(1) {
            assert_eq!(store.unreadable_values(), 0, "replica {n} opened every value");
        }
        assert_eq!(
            fake.count("token/full"),
            5 + 2,
            "no miss storm: one fetch per user, one per invalidation"
        );
    })
    .await;
}

/// Steady load on three replicas for 50 users while Redis is stopped for 10 s: no request
/// fails (the fetch-locally policy), the cluster sees at most one get token per key and
/// replica meanwhile (the breaker's memory), and sign-outs made during the outage hold on
/// every replica once Redis is back. Prints the latency figures BENCHMARKS.md quotes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_seconds_without_redis_under_steady_load() {
    const USERS: usize = 50;
    let mut redis = RedisServer::start();
    let port = redis.port;
    let (fake, server) = cluster(USERS).await;
    let mut replicas = Vec::new();
    for _ in 0..3 {
        replicas.push(replica(&server, &redis, Duration::from_secs(5)).await);
    }
    let fetches = || fake.count("get token");
    tokio::time::timeout(Duration::from_secs(120), async {
        for n in 0..USERS {
            replicas[n % 3]
                .token(&TokenKey::new(format!("user-{n}")))
                .await
                .expect("token");
        }
        assert_eq!(fetches(), USERS);
        use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        // The load: every replica asks for every user, round after round.
        let load = tokio::spawn({
            let (replicas, stop) = (replicas.clone(), stop.clone());
            async move {
                let mut samples: Vec<(Instant, Duration)> = Vec::new();
                while !stop.load(SeqCst) {
                    let round: Vec<_> = (0..USERS * 3)
                        .map(|i| {
                            let r = replicas[i % 3].clone();
                            let key = TokenKey::new(format!("user-{}", i % USERS));
                            tokio::spawn(async move {
                                let started = Instant::now();
                                r.token(&key).await.expect("no request fails");
                                (started, started.elapsed())
                            })
                        })
                        .collect();
                    for t in round {
                        samples.push(t.await.expect("task"));
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                samples
            }
        });
        tokio::time::sleep(Duration::from_secs(1)).await;
        let outage = Instant::now();
        redis.stop();
        let before_outage = fetches();
        tokio::time::sleep(Duration::from_secs(2)).await;
        // Ten users sign out during the outage, each on one replica.
        let mut signed_out = Vec::new();
        for n in 0..10 {
            let key = TokenKey::new(format!("user-{n}"));
            let removal = replicas[n % 3].evict(&key).await;
            signed_out.push((key, std::time::SystemTime::now()));
            assert_ne!(
                removal,
                thoughtspot_session_core::Removal::Removed,
                "Redis is down"
            );
        }
        tokio::time::sleep(Duration::from_secs(8)).await;
        let during = fetches() - before_outage;
        let _back = RedisServer::start_on(port, None);
        let back = Instant::now();
        tokio::time::sleep(Duration::from_secs(2)).await;
        stop.store(true, SeqCst);
        let samples = load.await.expect("the load ran");
        for (n, r) in replicas.iter().enumerate() {
            back_on_redis(n, r, &TokenKey::new("user-49")).await;
        }
        // Sign-outs hold everywhere: no token of a signed-out user issued before its
        // sign-out is served by any replica.
        for (key, at) in &signed_out {
            for r in &replicas {
                let token = r.token(key).await.expect("token");
                assert!(
                    token.issued_at() > *at,
                    "a token from before the sign-out was served"
                );
            }
        }
        assert!(
            during <= 3 * USERS + 10,
            "{during} get token calls during the outage: at most one per key and replica (+10 sign-outs)"
        );
        let percentile = |from: Instant, to: Instant, p: f64| {
            let mut d: Vec<Duration> = samples
                .iter()
                .filter(|(at, _)| *at >= from && *at < to)
                .map(|(_, d)| *d)
                .collect();
            d.sort();
            d.get(((d.len() as f64 * p) as usize).min(d.len().saturating_sub(1)))
                .copied()
                .unwrap_or_default()
        };
        let start = outage - Duration::from_secs(1);
        println!(
            "outage figures: {} requests; p50/p99 before {:?}/{:?}, during {:?}/{:?}, after {:?}/{:?}; \
             get token calls: {USERS} before, {during} during the 10 s (bound {}), {} after",
            samples.len(),
            percentile(start, outage, 0.5),
            percentile(start, outage, 0.99),
            percentile(outage, back, 0.5),
            percentile(outage, back, 0.99),
            percentile(back, Instant::now(), 0.5),
            percentile(back, Instant::now(), 0.99),
            3 * USERS + 10,
            fetches() - before_outage - during,
        );
    })
    .await
    .expect("ten_seconds_without_redis_under_steady_load did not finish within 120 s");
}
