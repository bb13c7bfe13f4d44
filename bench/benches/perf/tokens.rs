//! Part 7, TokenManager: cache hits in memory and on Redis (the token service is part 8).

use crate::*;
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use thoughtspot_session_core::{TokioSleep, TokioSpawn};

pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

pub(crate) fn tokens() {
    use thoughtspot_session_core::{TokenKey, TokenManager};
    println!("\n## 7. TokenManager: cache hits in memory and on Redis\n");

    // In memory, no runtime: the hit path alone.
    let manager = TokenManager::builder(canned_client(), "trusted-key")
        .build()
        .expect("manager");
    let key = TokenKey::new("analyst");
    block_on(manager.token(&key)).expect("token");
    let hits: Vec<(f64, f64)> = (0..5)
        .map(|_| {
            measure(1_000_000, || {
                std::hint::black_box(block_on(manager.token(&key)).expect("hit"));
            })
        })
        .collect();
    let ns: Vec<f64> = hits.iter().map(|h| h.0).collect();
    println!("| cache hit | ns per hit (min / median / max of 5 rounds) | allocations per hit | target |");
    println!("|---|---|---|---|");
    println!(
        "| `TokenManager::token`, in memory | {} | {:.1} | at most 1,000 ns and 2 allocations |",
        spread(&ns, 0),
        hits[0].1
    );

    // On Redis, over loopback: a redis-server of the bench's own.
    let has_redis = Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok();
    if has_redis {
        let redis = thoughtspot_session_tests::redis::RedisServer::start();
        let runtime = current_thread();
        runtime.block_on(async {
            let store = thoughtspot_session_redis::RedisTokenStore::builder(redis.url())
                .namespace("bench", "bench")
                .keys([thoughtspot_session_redis::EncryptionKey::new(1, [7; 32])])
                .connect()
                .await
                .expect("redis");
            let shared = TokenManager::builder(canned_client(), "trusted-key")
                .store(store)
                .spawn(TokioSpawn::new())
                .sleep(TokioSleep::new())
                .build()
                .expect("manager");
            shared.token(&key).await.expect("token");
            for _ in 0..1_000 {
                shared.token(&key).await.expect("warm");
            }
            let allocations = ALLOCATIONS.load(Ordering::Relaxed);
            const N: usize = 20_000;
            let mut times = Vec::with_capacity(N);
            for _ in 0..N {
                let start = Instant::now();
                std::hint::black_box(shared.token(&key).await.expect("hit"));
                times.push(start.elapsed());
            }
            let per = (ALLOCATIONS.load(Ordering::Relaxed) - allocations) as f64 / N as f64;
            times.sort();
            println!(
                "| `TokenManager::token`, on Redis (loopback, one GET) | p50 {:.1} µs, p99 {:.1} µs | {per:.1} | |",
                percentile(&times, 0.50).as_secs_f64() * 1e6,
                percentile(&times, 0.99).as_secs_f64() * 1e6,
            );
            assert_eq!(shared.stats().store_errors, 0);
        });
    } else {
        println!("| `TokenManager::token`, on Redis | redis-server is not installed: not measured | | |");
    }
}
