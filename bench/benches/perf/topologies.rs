//! Part 9, the Redis store on its three topologies: cache hits through one node, a Redis
//! Cluster (three primaries, three replicas) and a primary under Sentinel, side by side,
//! interleaved round by round, on the bench's own redis-servers on loopback.

use crate::*;
use std::time::{Duration, Instant};
use thoughtspot_session_core::{TokenKey, TokenManager, TokioSleep, TokioSpawn};
use thoughtspot_session_redis::{EncryptionKey, RedisTokenStore, RedisTokenStoreBuilder};
use thoughtspot_session_tests::redis::{RedisCluster, RedisSentinel, RedisServer, SERVICE};

/// Sequential hits per topology and round.
const HITS: usize = 5_000;
const ROUNDS: usize = 5;

pub(crate) fn topologies() {
    println!("\n## 9. The Redis store on one node, a Redis Cluster and Sentinel\n");
    let one = RedisServer::start();
    let cluster = RedisCluster::start(3, 1);
    let sentinel = RedisSentinel::start();
    let runtime = current_thread();
    runtime.block_on(async {
        let builders: Vec<(&str, RedisTokenStoreBuilder)> = vec![
            ("one node", RedisTokenStore::builder(one.url())),
            ("Redis Cluster (3 + 3)", RedisTokenStore::cluster_builder(cluster.urls())),
            ("Sentinel (1 + 1, 3 sentinels)", RedisTokenStore::sentinel_builder(sentinel.urls(), SERVICE)),
        ];
        let keys: Vec<TokenKey> = (0..20).map(|n| TokenKey::new(format!("user-{n}"))).collect();
        let mut managers = Vec::new();
        for (name, builder) in builders {
            let store = builder
                .namespace("bench", "bench")
                .keys([EncryptionKey::new(1, [7; 32])])
                .connect()
                .await
                .expect("redis");
            let manager = TokenManager::builder(canned_client(), "trusted-key")
                .store(store)
                .spawn(TokioSpawn::new())
                .sleep(TokioSleep::new())
                .build()
                .expect("manager");
            for key in &keys {
                manager.token(key).await.expect("token");
            }
            managers.push((name, manager));
        }
        // Interleaved: each round measures every topology in turn.
        let mut results: Vec<Vec<(f64, Duration, Duration)>> = vec![Vec::new(); managers.len()];
        let (steal_before, all_before) = machine_jiffies();
        for _ in 0..ROUNDS {
            for (n, (_, manager)) in managers.iter().enumerate() {
                let mut times = Vec::with_capacity(HITS);
                let started = Instant::now();
                for i in 0..HITS {
                    let t = Instant::now();
                    std::hint::black_box(manager.token(&keys[i % keys.len()]).await.expect("hit"));
                    times.push(t.elapsed());
                }
                let rate = HITS as f64 / started.elapsed().as_secs_f64();
                times.sort();
                results[n].push((rate, percentile(&times, 0.50), percentile(&times, 0.99)));
            }
        }
        let (steal_after, all_after) = machine_jiffies();
        let steal = (steal_after - steal_before) as f64 * 100.0 / (all_after - all_before).max(1) as f64;
        println!("{ROUNDS} rounds of {HITS} sequential hits per topology, interleaved; steal {steal:.1}% of the machine's CPU time\n");
        println!("| topology | hits/s (min / median / max) | p50 (median of rounds) | p99 (median of rounds) | store errors |");
        println!("|---|---|---|---|---|");
        for (n, (name, manager)) in managers.iter().enumerate() {
            let mut rates: Vec<f64> = results[n].iter().map(|r| r.0).collect();
            rates.sort_by(f64::total_cmp);
            let mut p50: Vec<Duration> = results[n].iter().map(|r| r.1).collect();
            let mut p99: Vec<Duration> = results[n].iter().map(|r| r.2).collect();
            p50.sort();
            p99.sort();
            println!(
                "| {name} | {:.0} / {:.0} / {:.0} | {:.0} µs | {:.0} µs | {} |",
                rates[0],
                rates[rates.len() / 2],
                rates[rates.len() - 1],
                p50[p50.len() / 2].as_secs_f64() * 1e6,
                p99[p99.len() / 2].as_secs_f64() * 1e6,
                manager.stats().store_errors
            );
        }
    });
}
