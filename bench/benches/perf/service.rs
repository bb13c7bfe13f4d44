//! Part 8, the token service (`thoughtspot-token-service`) over loopback: cache-hit
//! throughput against bare servers answering a constant, latency with Redis behind, and
//! memory over a million requests.

use crate::*;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use std::io::{BufRead, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Stops when the parent closes stdin.
async fn stdin_closed() {
    let _ = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        while std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map(|n| n > 0)
            .unwrap_or(false)
        {}
    })
    .await;
}

/// `--serve-token-service USERS [REDIS_URL]`: the service as deployed (the sample
/// configuration: mapping, ABAC rules, limits, CORS, timeouts, metrics) on one thread, on
/// an embedded fake with `USERS` users, caching in memory or on Redis. Prints its port.
pub(crate) fn serve_token_service(users: usize, redis: Option<&str>) {
    use thoughtspot_session_mock::{FakeThoughtSpot, FakeUser};
    use thoughtspot_token_service::config::{Config, LogFormat, RedisConfig};
    let runtime = current_thread();
    runtime.block_on(async {
        let mut config = Config::from_toml(thoughtspot_token_service::SAMPLE_CONFIG).expect("sample");
        config.log = LogFormat::Off;
        config.listen = "127.0.0.1:0".into();
        // The limiter runs (its cost is measured) but never refuses here.
        config.limits.per_user_per_minute = 60_000_000;
        config.limits.per_user_burst = 1_000_000;
        // The cost of checking cached tokens at the cluster, measured against none.
        if let Some(secs) = std::env::var("BENCH_SERVICE_RECHECK_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
        {
            config.limits.token_recheck_secs = secs;
        }
        if let Some(url) = redis {
            config.redis = Some(
                toml::from_str::<RedisConfig>(&format!("url = \"{url}\"\ntimeout_ms = 1000")).expect("redis"),
            );
        }
        let mut fake = FakeThoughtSpot::builder().secret_key(thoughtspot_token_service::FAKE_SECRET_KEY);
        for n in 0..users {
            fake = fake.user(FakeUser::new(format!("user-{n}@example.com"), "unused"));
        }
        let env = [("TS_TOKEN_KEYS", "1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")];
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let local = listener.local_addr().expect("addr");
        let service = thoughtspot_token_service::Service::build_on(&config, &env, local, Some(fake.build()))
            .await
            .expect("service");
        println!("{}", local.port());
        std::io::stdout().flush().expect("flush");
        service.run(listener, stdin_closed()).await;
    });
}

/// `--serve-bare-axum`: axum on the service's own serving loop, one route answering a
/// constant: what the service is measured against.
pub(crate) fn serve_bare_axum() {
    let runtime = current_thread();
    runtime.block_on(async {
        let router = axum::Router::new().route(
            "/fixed",
            axum::routing::get(|| async { "fake-token-0123456789abcdef" }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        println!("{}", listener.local_addr().expect("addr").port());
        std::io::stdout().flush().expect("flush");
        let limits = thoughtspot_token_service::serve::ServeLimits {
            header_read_timeout: Duration::from_secs(5),
            shutdown_grace: Duration::from_secs(1),
        };
        thoughtspot_token_service::serve::serve(router, listener, limits, stdin_closed()).await;
    });
}

fn client() -> RawHyperClient {
    let mut connector = hyper_util::client::legacy::connect::HttpConnector::new();
    connector.set_nodelay(true);
    hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector)
}

/// An ID token from the service's test identity provider for user `n` (every other user
/// with a `region` claim, so that half the tokens are custom ABAC tokens).
async fn sign_in(client: &RawHyperClient, port: u16, n: usize) -> http::HeaderValue {
    // The sample's region rule refuses a caller without the claim: every user has one, and
    // half also a tier (a parameter besides the filter).
    let mut claims = serde_json::json!({"email": format!("user-{n}@example.com"), "region": ["west"]});
    if n % 2 == 1 {
        claims["tier"] = serde_json::json!("gold");
    }
    let request = http::Request::post(format!("http://127.0.0.1:{port}/test-idp/sign-in"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(claims.to_string())))
        .expect("request");
    let response = client.request(request).await.expect("sign-in");
    let body = response.into_body().collect().await.expect("body").to_bytes();
    let value: serde_json::Value = serde_json::from_slice(&body).expect("json");
    let token = value["id_token"].as_str().expect("id_token");
    http::HeaderValue::from_str(&format!("Bearer {token}")).expect("header")
}

/// `total` GETs of `uri`, `in_flight` at a time, cycling through `bearers`. Answers requests per second and, with `latencies`, every request's latency.
async fn drive(
    client: &RawHyperClient,
    uri: &http::Uri,
    bearers: &Arc<Vec<http::HeaderValue>>,
    total: usize,
    in_flight: usize,
    latencies: bool,
) -> (f64, Vec<Duration>) {
    let start = Instant::now();
    let per_worker = total / in_flight;
    let workers: Vec<_> = (0..in_flight)
        .map(|w| {
            let (client, uri, bearers) = (client.clone(), uri.clone(), bearers.clone());
            tokio::spawn(async move {
                let mut times = Vec::with_capacity(if latencies { per_worker } else { 0 });
                for i in 0..per_worker {
                    let request = http::Request::get(uri.clone())
                        .header("origin", "http://localhost:3000")
                        .header(
                            "authorization",
                            bearers[(w + i * in_flight) % bearers.len()].clone(),
                        )
                        .body(Full::new(Bytes::new()))
                        .expect("request");
                    let sent = Instant::now();
                    let response = client.request(request).await.expect("sent");
                    assert!(response.status().is_success(), "{}", response.status());
                    let body = response.into_body().collect().await.expect("body").to_bytes();
                    std::hint::black_box(body);
                    if latencies {
                        times.push(sent.elapsed());
                    }
                }
                times
            })
        })
        .collect();
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.expect("worker"));
    }
    (
        (per_worker * in_flight) as f64 / start.elapsed().as_secs_f64(),
        all,
    )
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

pub(crate) fn service() {
    println!("\n## 8. The token service over loopback\n");
    pin_self_to_cpu0();
    let rounds = env_number("BENCH_ROUNDS", 5).max(1);
    let total = env_number("BENCH_SERVICE_CALLS", 64_000);
    let service = Server::start_args(&["--serve-token-service", "2"]);
    let axum = Server::start_mode("--serve-bare-axum");
    let hyper = Server::start();
    let runtime = current_thread();
    runtime.block_on(async {
        let client = client();
        // Every server gets the same requests (the ID token and the origin included): the
        // bare ones ignore what the service reads.
        let bearer = Arc::new(vec![sign_in(&client, service.port, 0).await]);
        let none = bearer.clone();
        let uri = |port: u16, path: &str| -> http::Uri { format!("http://127.0.0.1:{port}{path}").parse().expect("uri") };
        let (s_uri, a_uri, h_uri) = (uri(service.port, "/token"), uri(axum.port, "/fixed"), uri(hyper.port, "/fixed"));
        for (u, b) in [(&s_uri, &bearer), (&a_uri, &none), (&h_uri, &none)] {
            drive(&client, u, b, 6_400, 64, false).await;
        }
        let (steal_before, all_before) = machine_jiffies();
        let mut rows = Vec::new();
        for round in 0..rounds {
            // Interleaved, the order turning each round.
            let mut r = [0.0; 3];
            for k in 0..3 {
                let which = (k + round) % 3;
                let (u, b) = [(&s_uri, &bearer), (&a_uri, &none), (&h_uri, &none)][which];
                r[which] = drive(&client, u, b, total, 64, false).await.0;
            }
            rows.push(r);
        }
        let (steal_after, all_after) = machine_jiffies();
        let steal = (steal_after - steal_before) as f64 * 100.0 / (all_after - all_before).max(1) as f64;
        println!(
            "Cache hits: the token service (sample configuration: ID token check, mapping, ABAC key, rate limit, \
             metrics, CORS, timeout, body limit and trace layers; token cached in memory) against bare servers \
             answering a constant, each on CPU 1, driven from CPU 0 at 64 in flight ({total} requests a round, \
             {rounds} rounds interleaved, steal {steal:.2}%):\n"
        );
        println!("| round | token service req/s | bare axum req/s | bare hyper req/s | service / axum | service / hyper |");
        println!("|---|---|---|---|---|---|");
        for (i, r) in rows.iter().enumerate() {
            println!("| {} | {:.0} | {:.0} | {:.0} | {:.3} | {:.3} |", i + 1, r[0], r[1], r[2], r[0] / r[1], r[0] / r[2]);
        }
        let to_axum: Vec<f64> = rows.iter().map(|r| r[0] / r[1]).collect();
        let to_hyper: Vec<f64> = rows.iter().map(|r| r[0] / r[2]).collect();
        println!(
            "\nMedian ratio to bare axum {:.3}, to bare hyper {:.3} (target at least 0.8)",
            median(&to_axum),
            median(&to_hyper)
        );
    });
    drop((service, axum, hyper));
    service_instructions();

    // With Redis behind: every request reads the shared store.
    if std::process::Command::new("redis-server")
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .status()
        .is_ok()
    {
        let redis = thoughtspot_session_tests::redis::RedisServer::start();
        let url = redis.url();
        let latency_calls = env_number("BENCH_SERVICE_LATENCY_CALLS", 20_000);
        println!(
            "\nLatency at 16 in flight ({latency_calls} requests after 2,000 to warm, 100 users, each with a region rule, half also a tier), \
             in memory and with Redis on loopback (redis-server on the same two cores):\n"
        );
        println!("| cache | requests/s | p50 | p99 |");
        println!("|---|---|---|---|");
        for (label, args) in [
            ("in memory", vec!["--serve-token-service", "100"]),
            ("Redis", vec!["--serve-token-service", "100", url.as_str()]),
        ] {
            let server = Server::start_args(&args);
            let runtime = current_thread();
            runtime.block_on(async {
                let client = client();
                let mut bearers = Vec::new();
                for n in 0..100 {
                    bearers.push(sign_in(&client, server.port, n).await);
                }
                let bearers = Arc::new(bearers);
                let u: http::Uri = format!("http://127.0.0.1:{}/token", server.port)
                    .parse()
                    .expect("uri");
                drive(&client, &u, &bearers, 2_000, 16, false).await;
                let (rps, mut times) = drive(&client, &u, &bearers, latency_calls, 16, true).await;
                times.sort();
                println!(
                    "| {label} | {rps:.0} | {:.0} µs | {:.0} µs |",
                    percentile(&times, 0.50).as_secs_f64() * 1e6,
                    percentile(&times, 0.99).as_secs_f64() * 1e6
                );
            });
        }
    } else {
        println!("\nredis-server is not installed: the latency with Redis is not measured");
    }

    // Memory over a million requests: 1,000 users, each with its own ID token.
    let total = env_number("BENCH_SERVICE_MEMORY_CALLS", 1_000_000);
    let server = Server::start_args(&["--serve-token-service", "1000"]);
    let pid = server.child.id();
    let runtime = current_thread();
    runtime.block_on(async {
        let client = client();
        let mut bearers = Vec::new();
        for n in 0..1000 {
            bearers.push(sign_in(&client, server.port, n).await);
        }
        let bearers = Arc::new(bearers);
        let u: http::Uri = format!("http://127.0.0.1:{}/token", server.port).parse().expect("uri");
        let step = (total / 10).max(1000);
        let mut samples = Vec::new();
        let mut done = 0;
        while done < total {
            drive(&client, &u, &bearers, step, 64, false).await;
            done += step;
            samples.push((done, rss_kib(pid)));
        }
        println!("\nMemory of the service process (VmRSS) over {done} requests at 64 in flight, 1,000 users (each with a region rule, half also a tier):\n");
        println!("| requests | RSS (KiB) |");
        println!("|---|---|");
        for (n, kib) in &samples {
            println!("| {n} | {kib} |");
        }
        let first = samples.first().map_or(0, |s| s.1);
        let last = samples.last().map_or(0, |s| s.1);
        let max = samples.iter().map(|s| s.1).max().unwrap_or(0);
        println!(
            "\nAfter the first tenth: {first} KiB; at the end: {last} KiB ({:+.1}%); highest {max} KiB",
            (last as f64 - first as f64) * 100.0 / first.max(1) as f64
        );
    });
}

/// Instructions a server in `args` runs per request of `path`, under callgrind: the server
/// runs twice, once for `n` requests and once for `4n`, on one connection, one at a time,
/// and the difference is divided by `3n` (start-up and sign-in cancel out). Deterministic
/// where the wall clock of this machine is not.
fn server_instructions(args: &[&str], path: &str, n: usize, sign: bool) -> Option<f64> {
    server_instructions_with(args, &[], path, n, sign)
}

/// As [`server_instructions`], with `env` set for the server.
fn server_instructions_with(
    args: &[&str],
    env: &[(&str, &str)],
    path: &str,
    n: usize,
    sign: bool,
) -> Option<f64> {
    use std::process::Stdio;
    let exe = std::env::current_exe().ok()?;
    let mut totals = Vec::new();
    for count in [n, 4 * n] {
        let out = std::env::temp_dir().join(format!("callgrind.server.{}.{count}", std::process::id()));
        let mut child = callgrind_command(&out)
            .arg(&exe)
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.as_mut()?)
            .read_line(&mut line)
            .ok()?;
        let port: u16 = line.trim().parse().ok()?;
        let runtime = current_thread();
        runtime.block_on(async {
            let client = client();
            // The same request to every server: an ID token (of the same length, for a
            // server with no identity provider) and the origin.
            let bearer = if sign {
                sign_in(&client, port, 0).await
            } else {
                http::HeaderValue::from_str(&format!("Bearer {}", "x".repeat(377))).expect("header")
            };
            let uri: http::Uri = format!("http://127.0.0.1:{port}{path}").parse().expect("uri");
            drive(&client, &uri, &Arc::new(vec![bearer]), count, 1, false).await;
        });
        drop(child.stdin.take());
        child.wait().ok()?;
        totals.push(callgrind_total(&out)?);
    }
    Some((totals[1] as f64 - totals[0] as f64) / (3 * n) as f64)
}

/// The instructions part: the service's and the bare servers' user-space work per request.
pub(crate) fn service_instructions() {
    if std::process::Command::new("valgrind")
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .status()
        .is_err()
    {
        println!("\nvalgrind is not installed: instructions per request not measured");
        return;
    }
    let n = env_number("BENCH_SERVICE_CALLGRIND_CALLS", 500);
    let service = server_instructions(&["--serve-token-service", "2"], "/token", n, true);
    // The same with cached tokens never checked at the cluster (the check's own cost).
    let never = u32::MAX.to_string();
    let unchecked = server_instructions_with(
        &["--serve-token-service", "2"],
        &[("BENCH_SERVICE_RECHECK_SECS", &never)],
        "/token",
        n,
        true,
    );
    let axum = server_instructions(&["--serve-bare-axum"], "/fixed", n, false);
    println!(
        "\nServer instructions per request under callgrind (user space only; the kernel's share, the same \
         syscalls for each server, is not counted), {n} and {} requests one at a time:\n",
        4 * n
    );
    println!("| server | instructions per request |");
    println!("|---|---|");
    let show = |v: Option<f64>| v.map_or_else(|| "not measured".to_owned(), |v| format!("{v:.0}"));
    println!(
        "| token service, cache hit (cached tokens rechecked after 10 s, the default) | {} |",
        show(service)
    );
    println!(
        "| token service, cache hit, never rechecked | {} |",
        show(unchecked)
    );
    println!("| bare axum, a constant | {} |", show(axum));
}
