//! Connection handling both backends owe a user behind load balancers and proxies: idle
//! pooled connections closed in the background, a connection the server dropped while
//! idle never failing the next call, a connect timeout that covers the TLS handshake, and
//! (reqwest) the proxy environment honoured.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use thoughtspot_session_core::{
    GetTokenRequest, HttpTransport, RetryPolicy, SessionApi, SessionClient, TokioSleep,
};
use thoughtspot_session_tests::Watchdog;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const TOKEN: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{\"token\":\"t-ok\"}";

/// Reads one request's head and its small body; `false` when the peer closed first.
async fn read_request(stream: &mut TcpStream) -> bool {
    let mut buf = vec![0u8; 16 * 1024];
    let mut seen = Vec::new();
    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
    let _ = tokio::time::timeout(Duration::from_millis(20), stream.read(&mut buf)).await;
    true
}

/// What a server saw: connections accepted, idle connections the client closed, and idle
/// connections it closed itself.
#[derive(Default)]
struct Seen {
    accepted: AtomicUsize,
    closed_by_client: AtomicUsize,
    closed_by_server: AtomicUsize,
}

/// A keep-alive server. With `drop_idle_after`, it closes each connection that long after
/// answering (a load balancer's idle timeout); otherwise it waits for the client to close.
async fn server(drop_idle_after: Option<Duration>) -> (String, Arc<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let seen = Arc::new(Seen::default());
    let counts = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            counts.accepted.fetch_add(1, Ordering::SeqCst);
            let counts = counts.clone();
            tokio::spawn(async move {
                while read_request(&mut stream).await {
                    if stream.write_all(TOKEN).await.is_err() {
                        return;
                    }
                    if let Some(after) = drop_idle_after {
                        let mut probe = [0u8; 1];
                        match tokio::time::timeout(after, stream.peek(&mut probe)).await {
                            Ok(Ok(n)) if n > 0 => continue,
                            _ => {
                                let _ = stream.shutdown().await;
                                counts.closed_by_server.fetch_add(1, Ordering::SeqCst);
                                return;
                            }
                        }
                    }
                }
                counts.closed_by_client.fetch_add(1, Ordering::SeqCst);
            });
        }
    });
    (base, seen)
}

fn reqwest_with_idle(idle: Option<Duration>) -> Arc<dyn HttpTransport> {
    Arc::new(
        thoughtspot_session_reqwest::ReqwestTransport::builder()
            .pool_idle_timeout(idle)
            .build()
            .expect("builds"),
    )
}

fn hyper_with_idle(idle: Option<Duration>) -> Arc<dyn HttpTransport> {
    Arc::new(
        thoughtspot_session_hyper::HyperTransport::builder()
            .pool_idle_timeout(idle)
            .build()
            .expect("builds"),
    )
}

type Make = fn(Option<Duration>) -> Arc<dyn HttpTransport>;

fn client(base: &str, transport: Arc<dyn HttpTransport>) -> SessionClient<Arc<dyn HttpTransport>> {
    SessionClient::builder(base)
        .api_version(thoughtspot_session_core::ApiVersion::V2Beta)
        .sleep(TokioSleep::new())
        .timeout(Duration::from_secs(10))
        .retry(RetryPolicy::disabled())
        .build(transport)
        .expect("valid")
}

async fn token(c: &SessionClient<Arc<dyn HttpTransport>>) {
    let out = c
        .get_token(&GetTokenRequest::with_secret_key("u", "k"))
        .await
        .expect("a token");
    assert_eq!(
        out.token().map(|t| t.secret().to_owned()).as_deref(),
        Some("t-ok")
    );
}

async fn idle_connections_are_closed_in_the_background(make: Make) {
    let (base, seen) = server(None).await;
    let c = client(&base, make(Some(Duration::from_millis(200))));
    token(&c).await;
    let started = Instant::now();
    while seen.closed_by_client.load(Ordering::SeqCst) == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the idle connection stayed open"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // No call was made meanwhile: the pool closed it on its own.
    assert_eq!(seen.accepted.load(Ordering::SeqCst), 1);
}

async fn a_connection_the_server_dropped_while_idle_fails_no_post(make: Make) {
    // The load balancer drops idle connections after 100 ms; the pool keeps them 90 s.
    let (base, seen) = server(Some(Duration::from_millis(100))).await;
    let c = client(&base, make(Some(Duration::from_secs(90))));
    for n in 1..=3 {
        token(&c).await;
        // The next call comes once the server has closed this connection (counted, not
        // slept on), as it would after a load balancer's idle timeout.
        let started = Instant::now();
        while seen.closed_by_server.load(Ordering::SeqCst) < n {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "the server never closed the idle connection"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    assert_eq!(
        seen.accepted.load(Ordering::SeqCst),
        3,
        "a new connection each time"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reqwest_closes_idle_connections_in_the_background() {
    let _watchdog = Watchdog::start("connections::reqwest_closes_idle_connections_in_the_background");
    idle_connections_are_closed_in_the_background(reqwest_with_idle).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hyper_closes_idle_connections_in_the_background() {
    let _watchdog = Watchdog::start("connections::hyper_closes_idle_connections_in_the_background");
    idle_connections_are_closed_in_the_background(hyper_with_idle).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reqwest_survives_a_connection_dropped_while_idle() {
    let _watchdog = Watchdog::start("connections::reqwest_survives_a_connection_dropped_while_idle");
    a_connection_the_server_dropped_while_idle_fails_no_post(reqwest_with_idle).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hyper_survives_a_connection_dropped_while_idle() {
    let _watchdog = Watchdog::start("connections::hyper_survives_a_connection_dropped_while_idle");
    a_connection_the_server_dropped_while_idle_fails_no_post(hyper_with_idle).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hyper_connect_timeout_covers_the_tls_handshake() {
    let _watchdog = Watchdog::start("connections::hyper_connect_timeout_covers_the_tls_handshake");
    // Accepts TCP and then never says a word of TLS.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let transport = thoughtspot_session_hyper::HyperTransport::builder()
        .connect_timeout(Duration::from_millis(300))
        .build()
        .expect("builds");
    let c = SessionClient::builder(format!("https://127.0.0.1:{port}"))
        .api_version(thoughtspot_session_core::ApiVersion::V2Beta)
        .sleep(TokioSleep::new())
        .timeout(Duration::from_secs(20))
        .retry(RetryPolicy::disabled())
        .build(transport)
        .expect("valid");
    let started = Instant::now();
    let e = c
        .get_token(&GetTokenRequest::with_secret_key("u", "k"))
        .await
        .expect_err("no handshake");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        matches!(&e, thoughtspot_session_core::Error::Transport(t) if t.is_connect()),
        "{e:?}"
    );
}

/// A forward proxy on loopback that answers every request itself and records its line.
async fn proxy() -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let lines = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = lines.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                let n = stream.read(&mut buf).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n])
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_owned();
                seen.lock().unwrap().push(head);
                let _ = stream.write_all(TOKEN).await;
            });
        }
    });
    (url, lines)
}

/// Runs the ignored test `child` in a copy of this test binary with `HTTP_PROXY` set to
/// `proxy_url` and `server` in `TS_TEST_SERVER` (std::env::set_var is unsafe, and the
/// workspace forbids unsafe code). Its output is shown only when it fails.
async fn run_child(child: &'static str, proxy_url: &str, server: &str) {
    let mut command = std::process::Command::new(std::env::current_exe().expect("the test binary"));
    command
        .args([child, "--exact", "--ignored", "--nocapture"])
        .env("HTTP_PROXY", proxy_url)
        .env("TS_TEST_SERVER", server);
    for name in ["NO_PROXY", "no_proxy", "http_proxy", "ALL_PROXY", "all_proxy"] {
        command.env_remove(name);
    }
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("the child's runner")
        .expect("the child runs");
    assert!(
        output.status.success(),
        "{child} failed in the child process:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reqwest_honours_the_proxy_environment() {
    let _watchdog = Watchdog::start("connections::reqwest_honours_the_proxy_environment");
    let (url, lines) = proxy().await;
    run_child("child_calls_through_the_proxy", &url, "").await;
    assert_eq!(
        lines.lock().unwrap().as_slice(),
        ["POST http://ts.example.invalid/tspublic/rest/v2/session/gettoken HTTP/1.1"]
    );
    // With no_proxy() the environment is ignored: the call goes straight to the server.
    let (base, seen) = server(None).await;
    run_child("child_ignores_the_proxy", &url, &base).await;
    assert_eq!(lines.lock().unwrap().len(), 1, "the proxy saw nothing more");
    assert_eq!(seen.accepted.load(Ordering::SeqCst), 1);
}

#[tokio::test]
#[ignore = "run by reqwest_honours_the_proxy_environment in a child process with HTTP_PROXY set"]
async fn child_calls_through_the_proxy() {
    assert!(std::env::var("HTTP_PROXY").is_ok(), "run by its parent test");
    let transport = thoughtspot_session_reqwest::ReqwestTransport::new().expect("builds");
    let c = SessionClient::builder("http://ts.example.invalid")
        .api_version(thoughtspot_session_core::ApiVersion::V2Beta)
        .allow_insecure_http(true)
        .sleep(TokioSleep::new())
        .build(transport)
        .expect("valid");
    let out = c
        .get_token(&GetTokenRequest::with_secret_key("u", "k"))
        .await
        .expect("answered by the proxy");
    assert_eq!(
        out.token().map(|t| t.secret().to_owned()).as_deref(),
        Some("t-ok")
    );
}

#[tokio::test]
#[ignore = "run by reqwest_honours_the_proxy_environment in a child process with HTTP_PROXY set"]
async fn child_ignores_the_proxy() {
    let base = std::env::var("TS_TEST_SERVER").expect("run by its parent test");
    let transport = thoughtspot_session_reqwest::ReqwestTransport::builder()
        .no_proxy()
        .build()
        .expect("builds");
    token(&client(&base, Arc::new(transport))).await;
}
