//! Part 7, TokenManager: cache hits in memory and on Redis; the token service against a
//! bare server.

use crate::*;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use std::io::{BufRead, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use thoughtspot_session_core::TokioSleep;

/// The example token service on a single-threaded runtime, its manager caching in memory
/// over the in-memory transport (so that, once warm, every answer is a cache hit). Prints
/// its port; stops when stdin closes.
pub(crate) fn serve_token_service() {
    use thoughtspot_session_core::{TokenKey, TokenManager};
    use thoughtspot_token_service::{ServiceConfig, TokenService, serve};
    let runtime = current_thread();
    runtime.block_on(async {
        let manager = TokenManager::builder(canned_client(), "trusted-key")
            .build()
            .expect("manager");
        let config = ServiceConfig::new("bench-caller-key", "https://app.example.com")
            .user("analyst", TokenKey::new("analyst"));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        println!("{}", listener.local_addr().expect("addr").port());
        std::io::stdout().flush().expect("flush");
        let stop = tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            while std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map(|n| n > 0)
                .unwrap_or(false)
            {}
        });
        serve(TokenService::new(manager, config), listener, async {
            let _ = stop.await;
        })
        .await;
    });
}

/// GET /token as the front end's back end asks it, `total` times, `in_flight` at a time.
pub(crate) async fn drive_service(
    client: &RawHyperClient,
    uri: &http::Uri,
    total: usize,
    in_flight: usize,
) -> f64 {
    let start = Instant::now();
    let per_worker = total / in_flight;
    let workers: Vec<_> = (0..in_flight)
        .map(|_| {
            let (client, uri) = (client.clone(), uri.clone());
            tokio::spawn(async move {
                for _ in 0..per_worker {
                    let request = http::Request::get(uri.clone())
                        .header("origin", "https://app.example.com")
                        .header("x-service-key", "bench-caller-key")
                        .header("x-app-user", "analyst")
                        .body(Full::new(Bytes::new()))
                        .expect("request");
                    let response = client.request(request).await.expect("sent");
                    assert!(response.status().is_success());
                    let body = response.into_body().collect().await.expect("body").to_bytes();
                    std::hint::black_box(body);
                }
            })
        })
        .collect();
    for w in workers {
        w.await.expect("worker");
    }
    (per_worker * in_flight) as f64 / start.elapsed().as_secs_f64()
}

pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

pub(crate) fn tokens() {
    use thoughtspot_session_core::{TokenKey, TokenManager};
    println!("\n## 7. TokenManager: cache hits in memory and on Redis; the token service\n");

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

    // The example service on one core against a bare hyper server on the same core.
    pin_self_to_cpu0();
    let service = Server::start_mode("--serve-token-service");
    let bare = Server::start();
    let runtime = current_thread();
    let rounds = env_number("BENCH_ROUNDS", 5).max(1);
    let total = env_number("BENCH_SERVICE_CALLS", 64_000);
    runtime.block_on(async {
        let mut connector = hyper_util::client::legacy::connect::HttpConnector::new();
        connector.set_nodelay(true);
        let client: RawHyperClient =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build(connector);
        let service_uri: http::Uri = format!("http://127.0.0.1:{}/token", service.port)
            .parse()
            .expect("uri");
        let bare_uri: http::Uri = format!("http://127.0.0.1:{}/fixed", bare.port)
            .parse()
            .expect("uri");
        drive_service(&client, &service_uri, 6_400, 64).await;
        drive_service(&client, &bare_uri, 6_400, 64).await;
        let (steal_before, all_before) = machine_jiffies();
        let mut ratios = Vec::new();
        let mut rates = Vec::new();
        for round in 0..rounds {
            let (s, b) = if round % 2 == 0 {
                let s = drive_service(&client, &service_uri, total, 64).await;
                (s, drive_service(&client, &bare_uri, total, 64).await)
            } else {
                let b = drive_service(&client, &bare_uri, total, 64).await;
                (drive_service(&client, &service_uri, total, 64).await, b)
            };
            ratios.push(s / b);
            rates.push((s, b));
        }
        let (steal_after, all_after) = machine_jiffies();
        let steal = (steal_after - steal_before) as f64 * 100.0 / (all_after - all_before).max(1) as f64;
        println!(
            "\nThe token service (cached tokens, in memory) against a bare hyper server answering a fixed \
             string, each on CPU 1, driven from CPU 0 at 64 in flight ({total} requests a round, {rounds} \
             rounds, steal {steal:.2}%):\n"
        );
        println!("| round | token service requests/s | bare server requests/s | ratio |");
        println!("|---|---|---|---|");
        for (i, ((s, b), r)) in rates.iter().zip(&ratios).enumerate() {
            println!("| {} | {s:.0} | {b:.0} | {r:.3} |", i + 1);
        }
        println!("\nMedian ratio {:.3} (target at least 0.8)", median(&ratios));
    });
}
