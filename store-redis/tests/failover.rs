//! The events of a production Redis, mid-load: a primary killed and its replica promoted
//! (Redis Cluster failover, Sentinel failover) and every slot of a primary moved to
//! another. Three token-service replicas keep asking for tokens all the while; users sign
//! out just before and during the event. Each scenario checks: no request fails, no sign-out
//! is lost (on every replica, afterwards, no signed-out token is served, and each is revoked
//! at the cluster), get token calls per user stay within the bound, and the time until the
//! replicas share through Redis again is printed.

mod common;

use common::*;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use thoughtspot_session_core::{AccessToken, TokenKey};
use thoughtspot_session_mock::{FakeServer, FakeThoughtSpot};
use thoughtspot_session_redis::{RedisTokenStore, RedisTokenStoreBuilder};
use thoughtspot_session_tests::redis::{RedisCluster, RedisSentinel, SERVICE};
use thoughtspot_session_tests::replicas::{owner, tokens_at_once};

/// Users 0..16 carry the steady load; 16, 17 sign out during the event, 18, 19 just before.
const USERS: usize = 20;
const LOADED: usize = 16;

/// At most this many get token calls per user over a scenario: the first, and per replica
/// three. A replica's first failed store call for the user fetches alone, and the token is
/// kept in its memory as the spare served on each failure after (while it skips Redis, or
/// when a call to the dead primary fails), until Redis answers for the key again. A
/// request sent before the failover ended may still fail up to a store timeout after it,
/// when the spare is given up: one more each for the two requests a replica has in flight
/// here (the load's and the checks'). A user who signs out may need the same again after
/// the sign-out.
const CALLS_PER_USER: usize = 1 + 3 * 3;

/// Each replica's bound on one store call.
const STORE_TIMEOUT: Duration = Duration::from_secs(1);

fn key(user: usize) -> TokenKey {
    TokenKey::new(format!("user-{user}"))
}

/// Steady requests: on each replica a task asks for users 0..16 in turn, 2 ms apart, and
/// checks that each answer is a live token of that user.
struct Load {
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<Seen>>,
}

/// What the load saw: requests served, failures, and each request's start and latency.
struct Seen {
    served: usize,
    failed: Vec<String>,
    latencies: Vec<(Instant, Duration)>,
}

impl Seen {
    /// The p50 and p99 latency of the requests begun between `from` and `to`, and their count.
    fn percentiles(&self, from: Instant, to: Instant) -> (Duration, Duration, usize) {
        let mut within: Vec<Duration> = self
            .latencies
            .iter()
            .filter(|(at, _)| *at >= from && *at < to)
            .map(|(_, took)| *took)
            .collect();
        within.sort();
        let at = |q: f64| {
            within
                .get(((within.len() as f64 * q) as usize).min(within.len().saturating_sub(1)))
                .copied()
        };
        (
            at(0.5).unwrap_or_default(),
            at(0.99).unwrap_or_default(),
            within.len(),
        )
    }
}

impl Load {
    fn start(fake: &FakeThoughtSpot, replicas: &[Manager]) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let tasks = replicas
            .iter()
            .enumerate()
            .map(|(n, replica)| {
                let (replica, fake, stop) = (replica.clone(), fake.clone(), stop.clone());
                tokio::spawn(async move {
                    let (mut served, mut failed, mut latencies) = (0, Vec::new(), Vec::new());
                    let mut i = n;
                    while !stop.load(Ordering::Relaxed) {
                        let user = format!("user-{}", i % LOADED);
                        let began = Instant::now();
                        let answer = replica.token(&TokenKey::new(user.as_str())).await;
                        latencies.push((began, began.elapsed()));
                        match answer {
                            Ok(token) if owner(&fake, token.token()).as_deref() == Some(user.as_str()) => {
                                served += 1
                            }
                            Ok(_) => {
                                failed.push(format!("replica {n}: {user} got a token not live for them"))
                            }
                            Err(e) => failed.push(format!("replica {n}: {user}: {e}")),
                        }
                        i += 1;
                        tokio::time::sleep(Duration::from_millis(2)).await;
                    }
                    Seen {
                        served,
                        failed,
                        latencies,
                    }
                })
            })
            .collect();
        Self { stop, tasks }
    }

    /// Stops it: what it saw.
    async fn stop(self) -> Seen {
        self.stop.store(true, Ordering::Relaxed);
        let mut seen = Seen {
            served: 0,
            failed: Vec::new(),
            latencies: Vec::new(),
        };
        for task in self.tasks {
            let one = task.await.expect("the load ran");
            seen.served += one.served;
            seen.failed.extend(one.failed);
            seen.latencies.extend(one.latencies);
        }
        seen
    }
}

/// Runs `event` (blocking: it drives redis-server and redis-cli) under steady load, with
/// sign-outs just before and during it, then checks what the module docs say.
async fn through<E>(
    name: &str,
    fake: &FakeThoughtSpot,
    replicas: &[Manager],
    stores: &[RedisTokenStore],
    event: E,
) where
    E: FnOnce() -> Duration + Send + 'static,
{
    within(name, async {
        tokens_at_once(fake, replicas, 3 * USERS, USERS, 0).await;
        assert_eq!(fake.count("get token"), USERS, "{name}: shared before the event");
        let mut signed_out: HashMap<usize, AccessToken> = HashMap::new();
        for user in 16..USERS {
            signed_out.insert(user, replicas[0].token(&key(user)).await.expect("token").token().clone());
        }
        let load = Load::start(fake, replicas);
        let loaded = Instant::now();
        tokio::time::sleep(Duration::from_millis(200)).await;
        for user in [18, 19] {
            replicas[1].evict(&key(user)).await;
        }
        let began = Instant::now();
        let event = tokio::task::spawn_blocking(event);
        // Into the event: the primary is gone, or the slots are moving.
        tokio::time::sleep(Duration::from_millis(300)).await;
        for user in [16, 17] {
            replicas[2].evict(&key(user)).await;
        }
        let took = event.await.expect("the event ran");
        let ended = Instant::now();
        // Sharing has resumed once every replica's removals reached Redis and all three
        // serve one token per user through it, and that holds: a request sent before the
        // event ended (to the dead primary) may still time out up to a store timeout after,
        // and send its replica off Redis for a back-off window. So the agreement is checked
        // until a store timeout has passed since the end; it began when it last began.
        let deadline = ended + Duration::from_secs(30);
        let mut since: Option<Duration> = None;
        loop {
            let mut agree = replicas.iter().all(|r| r.stats().removals_waiting == 0);
            for user in [0, 5] {
                let mut seen = std::collections::HashSet::new();
                for (n, replica) in replicas.iter().enumerate() {
                    back_on_redis(n, replica, &key(user)).await;
                    seen.insert(replica.token(&key(user)).await.expect("token").token().secret().to_owned());
                }
                agree &= seen.len() == 1;
            }
            if !agree {
                since = None;
            } else if since.is_none() {
                since = Some(ended.elapsed());
            }
            if agree && ended.elapsed() > STORE_TIMEOUT {
                break;
            }
            assert!(Instant::now() < deadline, "{name}: the replicas did not share again within 30 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let resumed = since.unwrap_or_default();
        tokio::time::sleep(Duration::from_millis(200)).await;
        let seen = load.stop().await;
        let stopped = Instant::now();
        let (served, failed) = (seen.served, &seen.failed);
        assert!(failed.is_empty(), "{name}: {} of {} requests failed: {:?}", failed.len(), served + failed.len(), &failed[..failed.len().min(5)]);

        // Afterwards, every replica agrees on one token per user again.
        for user in [0, 5, 16, 18] {
            let shared = replicas[0].token(&key(user)).await.expect("token");
            for r in &replicas[1..] {
                assert_eq!(r.token(&key(user)).await.expect("token").token(), shared.token(), "{name}: user-{user} shared again");
            }
        }
        // No sign-out is lost: the token each user had is served by no replica and is
        // revoked at the cluster.
        for (user, old) in &signed_out {
            for (n, r) in replicas.iter().enumerate() {
                let now = r.token(&key(*user)).await.expect("token");
                assert_ne!(now.token(), old, "{name}: replica {n} serves user-{user}'s token from before the sign-out");
            }
            assert_eq!(owner(fake, old), None, "{name}: user-{user}'s old token is revoked");
        }
        let mut per_user = HashMap::<String, usize>::new();
        for token in fake.tokens() {
            *per_user.entry(token.user).or_default() += 1;
        }
        let most = per_user.iter().map(|(u, n)| {
            let signed = signed_out.keys().any(|s| format!("user-{s}") == *u);
            (*n, if signed { 2 * CALLS_PER_USER } else { CALLS_PER_USER }, u.clone())
        });
        for (calls, bound, user) in most {
            assert!(calls <= bound, "{name}: {calls} get token calls for {user} (bound {bound})");
        }
        let max = per_user.values().max().copied().unwrap_or(0);
        // Latency before, during and after the event (from its end plus the resumption).
        let windows = [
            ("before", loaded, began),
            ("during", began, ended),
            ("after", ended + resumed, stopped),
        ];
        let latency: Vec<String> = windows
            .iter()
            .map(|(what, from, to)| {
                let (p50, p99, n) = seen.percentiles(*from, *to);
                format!("{what}: p50 {p50:.1?}, p99 {p99:.1?} ({n} requests)")
            })
            .collect();
        eprintln!("{name}: latency {}", latency.join("; "));
        let unreplicated: u64 = stores.iter().map(RedisTokenStore::removals_unreplicated).sum();
        eprintln!(
            "{name}: event took {took:?}; sharing resumed {resumed:?} after it; {served} requests served, none failed; \
             {} get token calls in all, at most {max} for one user; {unreplicated} removals unreplicated",
            fake.count("get token")
        );
    })
    .await;
}

async fn cluster_replicas(server: &FakeServer, redis: &RedisCluster) -> (Vec<Manager>, Vec<RedisTokenStore>) {
    let seeds = redis.urls().into_iter().skip(1).take(3);
    revoking_replicas(server, seeds.map(|seed| RedisTokenStore::cluster_builder([seed]))).await
}

/// A revoking replica over each of `stores`, whose removals wait up to 200 ms for a replica
/// (a call is bounded at 1 s), and the stores.
async fn revoking_replicas(
    server: &FakeServer,
    stores: impl Iterator<Item = RedisTokenStoreBuilder>,
) -> (Vec<Manager>, Vec<RedisTokenStore>) {
    let (mut replicas, mut made) = (Vec::new(), Vec::new());
    for builder in stores {
        let builder = builder.removals_wait_for(1, Duration::from_millis(200));
        let store = connected(builder, STORE_TIMEOUT).await;
        made.push(store.clone());
        replicas.push(revoking_replica_on(server, store));
    }
    (replicas, made)
}

/// The slot of a user's key that a primary holds: a primary killed or emptied must hold
/// live keys, or the event proves nothing.
fn a_loaded_slot(redis: &RedisCluster, primary: usize) -> u16 {
    let keys = String::from_utf8_lossy(&redis.nodes[primary].cli(&["KEYS", "*token*"])).into_owned();
    let name = keys
        .lines()
        .next()
        .unwrap_or_else(|| panic!("primary {primary} holds no token"));
    let slot = String::from_utf8_lossy(&redis.nodes[primary].cli(&["CLUSTER", "KEYSLOT", name])).into_owned();
    slot.trim().parse().expect("a slot")
}

/// A Redis Cluster primary killed mid-load, its replica promoted by the cluster (about
/// 3.5 s here, with a 2 s node timeout).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_primary_killed_mid_load_loses_no_request_and_no_sign_out() {
    let redis = RedisCluster::start(3, 1);
    let (fake, server) = cluster(USERS).await;
    let (replicas, stores) = cluster_replicas(&server, &redis).await;
    tokens_at_once(&fake, &replicas, USERS, USERS, 0).await;
    let slot = a_loaded_slot(&redis, 0);
    let redis = Arc::new(std::sync::Mutex::new(Some(redis)));
    let held = redis.clone();
    through("cluster failover", &fake, &replicas, &stores, move || {
        let mut guard = held.lock().expect("the cluster");
        let cluster = guard.as_mut().expect("the cluster");
        cluster.kill_and_wait_promoted(0, slot)
    })
    .await;
    drop(redis);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_primary_s_slots_moved_mid_load_lose_no_request_and_no_sign_out() {
    let redis = Arc::new(RedisCluster::start(3, 1));
    let (fake, server) = cluster(USERS).await;
    let (replicas, stores) = cluster_replicas(&server, &redis).await;
    tokens_at_once(&fake, &replicas, USERS, USERS, 0).await;
    let slot = a_loaded_slot(&redis, 0);
    let moving = redis.clone();
    through("slot migration", &fake, &replicas, &stores, move || {
        moving.move_slots(0, 1)
    })
    .await;
    assert_eq!(
        redis.owner_of(2, slot),
        Some(redis.nodes[1].port),
        "the slots moved"
    );
    let stats: Vec<_> = replicas.iter().map(|r| r.stats()).collect();
    for s in &stats {
        assert_eq!(
            s.store_fallbacks, 0,
            "a migration is followed (ASK, MOVED), not an outage: {s:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sentinel_failover_mid_load_is_followed_and_loses_no_request_and_no_sign_out() {
    let redis = RedisSentinel::start();
    let (fake, server) = cluster(USERS).await;
    let builders = (0..3).map(|_| RedisTokenStore::sentinel_builder(redis.urls(), SERVICE));
    let (replicas, stores) = revoking_replicas(&server, builders).await;
    let old = redis.primary_port().expect("a primary");
    let redis = Arc::new(std::sync::Mutex::new(redis));
    let held = redis.clone();
    through("sentinel failover", &fake, &replicas, &stores, move || {
        let mut setup = held.lock().expect("the setup");
        setup.servers[0].stop();
        setup.wait_promoted(old)
    })
    .await;
    let new = redis.lock().expect("the setup").primary_port();
    assert_ne!(new, Some(old), "the replica was promoted");
}

/// A removal waits for the replica (`WAIT`), on a connection of its own: while the replica
/// is stalled the removal returns after the bound and is counted as unreplicated, and
/// reads on the same store are not held up behind it. Scripts are sent whole (`EVAL`), so a
/// primary that never saw them (here, after `SCRIPT FLUSH`) runs them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removal_waits_for_a_replica_and_reads_do_not_wait_behind_it() {
    let redis = RedisSentinel::start();
    let (fake, server) = cluster(2).await;
    let store = RedisTokenStore::sentinel_builder(redis.urls(), SERVICE)
        .namespace("fake.thoughtspot.test", "token-service")
        .keys(keys())
        .naming_key(NAMING)
        .timeout(Duration::from_secs(2))
        .removals_wait_for(1, Duration::from_millis(500))
        .connect()
        .await
        .expect("connects through the sentinels");
    let replica = revoking_replica_on(&server, store.clone());
    within("a_removal_waits", async {
        for user in 0..2 {
            replica.token(&key(user)).await.expect("token");
        }
        // In sync: the removal is acknowledged at once.
        let started = Instant::now();
        assert!(replica.evict(&key(0)).await.removed());
        assert!(
            started.elapsed() < Duration::from_millis(400),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(store.removals_unreplicated(), 0);

        for server in &redis.servers {
            server.cli(&["SCRIPT", "FLUSH"]);
        }
        // The replica stalls for 1.5 s.
        let port = redis.servers[1].port;
        let stall = std::thread::spawn(move || {
            std::process::Command::new("redis-cli")
                .args(["-p", &port.to_string(), "DEBUG", "SLEEP", "1.5"])
                .output()
        });
        std::thread::sleep(Duration::from_millis(100));
        let (removal, read) = tokio::join!(
            async {
                let started = Instant::now();
                let removal = replica.evict(&key(1)).await;
                (removal, started.elapsed())
            },
            async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                let started = Instant::now();
                let token = replica.token(&key(0)).await.expect("token");
                (token, started.elapsed())
            }
        );
        stall.join().expect("the stall ran").expect("redis-cli ran");
        assert!(removal.0.removed(), "{:?}", removal.0);
        assert!(
            removal.1 >= Duration::from_millis(450),
            "the removal waited for the replica: {:?}",
            removal.1
        );
        assert_eq!(
            store.removals_unreplicated(),
            1,
            "and says it was not acknowledged"
        );
        assert!(
            read.1 < Duration::from_millis(300),
            "a read waited behind the removal: {:?}",
            read.1
        );
        assert_eq!(owner(&fake, read.0.token()).as_deref(), Some("user-0"));
        eprintln!(
            "removal with the replica stalled: {:?}; a read meanwhile: {:?}",
            removal.1, read.1
        );
    })
    .await;
}
