//! Benchmarks of thoughtspot-session: what the SDK costs over the HTTP client it runs on.
//!
//! ```sh
//! cargo bench -p thoughtspot-session-bench               # everything (about 2 minutes once built)
//! cargo bench -p thoughtspot-session-bench -- core       # one part: core | loopback | callgrind | inprocess | memory | allocations | tokens
//! ```
//!
//! The loopback server runs in its own process, pinned to CPU 1 where `taskset` exists; the
//! client runs pinned to CPU 0. Results and targets: BENCHMARKS.md.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serde::{Deserialize, Serialize};
use std::alloc::{GlobalAlloc, Layout, System};
use std::future::Future;
use std::io::{BufRead, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use thoughtspot_session_core::{
    GetTokenRequest, HttpTransport, RetryPolicy, SessionApi, SessionClient, TokioSleep,
};

// ---------------------------------------------------------------------------------------
// Allocation counting

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static ALLOCATED_BYTES: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        ALLOCATED_BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        ALLOCATED_BYTES.fetch_add(new_size as u64, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

// ---------------------------------------------------------------------------------------
// Fixed bodies

const TOKEN_BODY: &str = r#"{"userName":"analyst","token":"eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.ZmFrZQ.c2ln","tokenCreatedTime":"1648051501240","tokenExpiryDuration":"1648052401240","tokenType":"Bearer"}"#;

const V2_TOKEN_BODY: &str = r#"{"token":"eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.ZmFrZQ.c2ln","creation_time_in_millis":1648051501240,"expiration_time_in_millis":1648052401240,"scope":{"access_type":"FULL","org_id":0,"metadata_id":null},"valid_for_user_id":"0f0e0d0c-0000-4000-8000-000000000001","valid_for_username":"analyst"}"#;

fn answer(path: &str) -> &'static str {
    if path.ends_with("/token/full") {
        V2_TOKEN_BODY
    } else if path.ends_with("/gettoken") || path.ends_with("/login") {
        TOKEN_BODY
    } else if path.ends_with("/session") {
        r#"{"userName":"analyst","privileges":["AUTHORING"]}"#
    } else {
        "true"
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RawTokenRequest<'a> {
    user_name: &'a str,
    secret_key: &'a str,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct RawTokenResponse {
    user_name: Option<String>,
    token: Option<String>,
    token_created_time: Option<String>,
    token_expiry_duration: Option<String>,
    token_type: Option<String>,
}

/// The v2.0 token/full body, as a careful user writes it by hand.
#[derive(Serialize)]
struct RawFullTokenRequest<'a> {
    username: &'a str,
    secret_key: &'a str,
}

/// The v2.0 token/full answer, with the fields the SDK reads.
#[derive(Deserialize)]
#[allow(dead_code)]
struct RawFullToken {
    token: String,
    creation_time_in_millis: f64,
    expiration_time_in_millis: f64,
    scope: RawScope,
    valid_for_user_id: String,
    valid_for_username: String,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct RawScope {
    access_type: String,
    org_id: Option<i64>,
    metadata_id: Option<String>,
}

fn raw_full_request(uri: &http::Uri) -> http::Request<Full<Bytes>> {
    raw_post(
        uri,
        &RawFullTokenRequest {
            username: "analyst",
            secret_key: "trusted-key",
        },
    )
}

fn sdk_request() -> GetTokenRequest {
    GetTokenRequest::with_secret_key("analyst", "trusted-key")
}

fn v2_request() -> thoughtspot_session_core::v2::GetFullAccessTokenRequest {
    thoughtspot_session_core::v2::GetFullAccessTokenRequest::with_secret_key("analyst", "trusted-key")
}

// ---------------------------------------------------------------------------------------
// A minimal executor for in-process measurements (no runtime in the numbers)

fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    loop {
        if let std::task::Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

#[derive(Debug)]
struct Canned;

#[async_trait::async_trait]
impl HttpTransport for Canned {
    async fn send(
        &self,
        _request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, thoughtspot_session_core::TransportError> {
        Ok(http::Response::new(Bytes::from_static(TOKEN_BODY.as_bytes())))
    }
}

/// The in-memory transport of a REST API v2.0 cluster: the token/full answer.
#[derive(Debug)]
struct CannedV2;

#[async_trait::async_trait]
impl HttpTransport for CannedV2 {
    async fn send(
        &self,
        _request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, thoughtspot_session_core::TransportError> {
        Ok(http::Response::new(Bytes::from_static(V2_TOKEN_BODY.as_bytes())))
    }
}

/// The SDK's v2.0 client over the in-memory transport, with no timer and no retries.
fn canned_v2_client() -> SessionClient<CannedV2> {
    SessionClient::builder("https://cluster.example.com")
        .no_timeout()
        .retry(RetryPolicy::disabled())
        .build(CannedV2)
        .expect("valid")
}

/// The hand-written request for the same bytes: encode the body, set the same headers.
fn raw_request<B: From<Bytes>>(uri: &http::Uri) -> http::Request<B> {
    raw_post(
        uri,
        &RawTokenRequest {
            user_name: "analyst",
            secret_key: "trusted-key",
        },
    )
}

/// A POST of `body` as JSON with the SDK's headers, built by hand.
fn raw_post<B: From<Bytes>>(uri: &http::Uri, body: &impl Serialize) -> http::Request<B> {
    let body = serde_json::to_vec(body).expect("encodes");
    http::Request::post(uri.clone())
        .header(http::header::ACCEPT, "application/json")
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::USER_AGENT, "raw/1")
        .header("x-requested-by", "ThoughtSpot")
        .body(B::from(Bytes::from(body)))
        .expect("request")
}

/// The hand-written minimum for the same bytes: encode, build the request, decode.
fn raw_minimum(uri: &http::Uri) {
    std::hint::black_box(raw_request::<Bytes>(uri));
    let response: RawTokenResponse = serde_json::from_slice(TOKEN_BODY.as_bytes()).expect("decodes");
    std::hint::black_box(response);
}

/// The SDK over the in-memory transport, with no timer and no retries.
fn canned_client() -> SessionClient<Canned> {
    SessionClient::builder("https://cluster.example.com")
        .no_timeout()
        .retry(RetryPolicy::disabled())
        .build(Canned)
        .expect("valid")
}

fn measure(iterations: u64, mut f: impl FnMut()) -> (f64, f64) {
    for _ in 0..iterations / 10 {
        f();
    }
    let allocations = ALLOCATIONS.load(Ordering::Relaxed);
    let start = Instant::now();
    for _ in 0..iterations {
        f();
    }
    let ns = start.elapsed().as_nanos() as f64 / iterations as f64;
    let allocs = (ALLOCATIONS.load(Ordering::Relaxed) - allocations) as f64 / iterations as f64;
    (ns, allocs)
}

fn core_cost() {
    println!("\n## 1. Core cost per get token call (in-process, no runtime)\n");
    let client = canned_client();
    let request = sdk_request();
    let uri: http::Uri = "https://cluster.example.com/tspublic/rest/v2/session/gettoken"
        .parse()
        .expect("uri");
    const N: u64 = 200_000;
    let v2_client = canned_v2_client();
    let v2 = v2_request();
    let mut rounds = Vec::new();
    let mut v2_rounds = Vec::new();
    for _ in 0..5 {
        let sdk = measure(N, || {
            let r = block_on(client.get_token(&request)).expect("decodes");
            std::hint::black_box(r);
        });
        let raw = measure(N, || raw_minimum(&uri));
        let full = measure(N, || {
            use thoughtspot_session_core::v2::AuthApi;
            let r = block_on(v2_client.token_full(&v2)).expect("decodes");
            std::hint::black_box(r);
        });
        rounds.push((sdk, raw));
        v2_rounds.push(full);
    }
    let (sdk_ns, raw_ns, ratios) = (
        rounds.iter().map(|r| r.0.0).collect::<Vec<_>>(),
        rounds.iter().map(|r| r.1.0).collect::<Vec<_>>(),
        rounds.iter().map(|r| r.0.0 / r.1.0).collect::<Vec<_>>(),
    );
    let (sdk_allocs, raw_allocs) = (rounds[0].0.1, rounds[0].1.1);
    println!("| | ns per call (min / median / max) | allocations per call |");
    println!("|---|---|---|");
    println!(
        "| SDK get_token (whole client call) | {} | {:.1} |",
        spread(&sdk_ns, 0),
        sdk_allocs
    );
    println!(
        "| hand-written minimum (encode, build, decode) | {} | {:.1} |",
        spread(&raw_ns, 0),
        raw_allocs
    );
    let v2_ns: Vec<f64> = v2_rounds.iter().map(|r| r.0).collect();
    println!(
        "| SDK token_full, REST API v2.0 (whole client call) | {} | {:.1} |",
        spread(&v2_ns, 0),
        v2_rounds[0].1
    );
    println!(
        "\nSDK / minimum time: {} (target at most 1.3); allocations above the minimum: {:.1} (target at most 2)",
        spread(&ratios, 2),
        sdk_allocs - raw_allocs
    );
}

fn spread(values: &[f64], decimals: usize) -> String {
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let median = v[v.len() / 2];
    format!(
        "{:.d$} / {:.d$} / {:.d$}",
        v[0],
        median,
        v[v.len() - 1],
        d = decimals
    )
}

// ---------------------------------------------------------------------------------------
// The loopback server (its own process)

fn serve() {
    let runtime = current_thread();
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        println!("{}", listener.local_addr().expect("addr").port());
        std::io::stdout().flush().expect("flush");
        // Stop when the parent closes our stdin.
        let stop = tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            while std::io::stdin().lock().read_line(&mut line).map(|n| n > 0).unwrap_or(false) {}
        });
        let mut stop = std::pin::pin!(stop);
        loop {
            tokio::select! {
                _ = &mut stop => break,
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else { continue };
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(async move {
                        let service = hyper::service::service_fn(|request: hyper::Request<hyper::body::Incoming>| async move {
                            let path = request.uri().path().to_owned();
                            let _ = request.into_body().collect().await;
                            let mut response = hyper::Response::new(Full::new(Bytes::from_static(answer(&path).as_bytes())));
                            response.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
                            Ok::<_, std::convert::Infallible>(response)
                        });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                            .await;
                    });
                }
            }
        }
    });
}

struct Server {
    child: std::process::Child,
    port: u16,
}

impl Server {
    fn start() -> Self {
        Self::start_mode("--serve")
    }

    /// This binary in `mode` (`--serve`, `--serve-token-service`), pinned to CPU 1.
    fn start_mode(mode: &str) -> Self {
        let exe = std::env::current_exe().expect("exe");
        let pinned = has_taskset();
        let mut command = if pinned {
            Command::new("taskset")
        } else {
            Command::new(&exe)
        };
        if pinned {
            command.arg("-c").arg("1").arg(&exe);
        }
        let mut child = command
            .arg(mode)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("server");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.as_mut().expect("stdout"))
            .read_line(&mut line)
            .expect("port");
        Self {
            child,
            port: line.trim().parse().expect("a port"),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

fn has_taskset() -> bool {
    std::thread::available_parallelism()
        .map(|n| n.get() >= 2)
        .unwrap_or(false)
        && Command::new("taskset")
            .arg("-V")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
}

fn pin_self_to_cpu0() {
    if has_taskset() {
        let _ = Command::new("taskset")
            .args(["-cp", "0", &std::process::id().to_string()])
            .stdout(Stdio::null())
            .status();
    }
}

/// The client process's CPU time so far, (user, system), from `getrusage` (microseconds;
/// /proc/self/stat counts in ticks of 10 ms, too coarse for short rounds).
fn cpu_times() -> (Duration, Duration) {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a whole rusage into the buffer it is given, which is a valid
    // rusage (all zeroes) even if it failed.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr());
        usage.assume_init()
    };
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    (time(usage.ru_utime), time(usage.ru_stime))
}

// ---------------------------------------------------------------------------------------
// The four clients

#[derive(Clone, Copy, Debug, PartialEq)]
enum Variant {
    SdkReqwest,
    RawReqwest,
    SdkHyper,
    RawHyper,
    /// The SDK over hyper-util's client with a plain HttpConnector, as the raw client uses.
    SdkHyperPlain,
    /// The SDK over the tower backend, on hyper-util's client with a plain HttpConnector.
    SdkTower,
    /// The SDK's REST API v2.0 token_full over the reqwest backend.
    SdkReqwestV2,
    /// The SDK's REST API v2.0 token_full over the hyper backend.
    SdkHyperV2,
    /// The SDK over the hyper backend without its whole-call timeout (`no_timeout()`).
    SdkHyperNoTimeout,
    /// reqwest by hand, REST API v2.0 token/full.
    RawReqwestV2,
    /// hyper-util's client by hand, REST API v2.0 token/full.
    RawHyperV2,
}

/// The v2.0 variants, measured beside the beta ones in the callgrind part.
const V2_VARIANTS: [Variant; 2] = [Variant::SdkReqwestV2, Variant::SdkHyperV2];

const VARIANTS: [Variant; 4] = [
    Variant::SdkReqwest,
    Variant::RawReqwest,
    Variant::SdkHyper,
    Variant::RawHyper,
];

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Variant::SdkReqwest => "sdk-reqwest",
            Variant::RawReqwest => "raw-reqwest",
            Variant::SdkHyper => "sdk-hyper",
            Variant::RawHyper => "raw-hyper",
            Variant::SdkHyperPlain => "sdk-hyper-plain",
            Variant::SdkTower => "sdk-tower",
            Variant::SdkReqwestV2 => "sdk-reqwest-v2",
            Variant::SdkHyperV2 => "sdk-hyper-v2",
            Variant::SdkHyperNoTimeout => "sdk-hyper-no-timeout",
            Variant::RawReqwestV2 => "raw-reqwest-v2",
            Variant::RawHyperV2 => "raw-hyper-v2",
        }
    }

    fn parse(s: &str) -> Self {
        VARIANTS
            .into_iter()
            .chain([Variant::SdkHyperPlain, Variant::SdkTower])
            .chain(V2_VARIANTS)
            .chain([
                Variant::RawReqwestV2,
                Variant::RawHyperV2,
                Variant::SdkHyperNoTimeout,
            ])
            .find(|v| v.name() == s)
            .expect("a variant name")
    }
}

type RawHyperClient =
    hyper_util::client::legacy::Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

// The variants are built once per run; their sizes do not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
enum Client {
    SdkReqwest(SessionClient<thoughtspot_session_reqwest::ReqwestTransport>),
    RawReqwest(reqwest::Client, reqwest::Url),
    RawReqwestV2(reqwest::Client, reqwest::Url),
    RawHyperV2(RawHyperClient, http::Uri),
    SdkHyper(SessionClient<thoughtspot_session_hyper::HyperTransport>),
    SdkHyperPlain(
        SessionClient<
            thoughtspot_session_hyper::HyperTransport<hyper_util::client::legacy::connect::HttpConnector>,
        >,
    ),
    RawHyper(RawHyperClient, http::Uri),
    SdkTower(SessionClient<thoughtspot_session_tower::TowerTransport<RawHyperClient>>),
    SdkReqwestV2(SessionClient<thoughtspot_session_reqwest::ReqwestTransport>),
    SdkHyperV2(SessionClient<thoughtspot_session_hyper::HyperTransport>),
}

fn client(variant: Variant, port: u16, max_in_flight: Option<usize>) -> Client {
    let base = format!("http://127.0.0.1:{port}");
    let gettoken = format!("{base}/tspublic/rest/v2/session/gettoken");
    let full = format!("{base}/api/rest/2.0/auth/token/full");
    let raw_hyper = || {
        let mut connector = hyper_util::client::legacy::connect::HttpConnector::new();
        connector.set_nodelay(true);
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector)
    };
    let sdk = |b: thoughtspot_session_core::SessionClientBuilder| {
        // BENCH_NO_TIMEOUT=1 measures the SDK without its default whole-call timeout.
        let b = if std::env::var_os("BENCH_NO_TIMEOUT").is_some() {
            b.no_timeout()
        } else {
            b
        };
        match max_in_flight {
            Some(n) => b.max_in_flight(n),
            None => b,
        }
    };
    match variant {
        Variant::SdkReqwest => Client::SdkReqwest(
            sdk(SessionClient::builder(&base).sleep(TokioSleep::new()))
                .build(thoughtspot_session_reqwest::ReqwestTransport::new().expect("transport"))
                .expect("client"),
        ),
        Variant::RawReqwest => Client::RawReqwest(
            reqwest::Client::builder().no_proxy().build().expect("client"),
            reqwest::Url::parse(&gettoken).expect("url"),
        ),
        Variant::SdkHyperNoTimeout => Client::SdkHyper(
            sdk(SessionClient::builder(&base).sleep(TokioSleep::new()))
                .no_timeout()
                .build(thoughtspot_session_hyper::HyperTransport::new().expect("transport"))
                .expect("client"),
        ),
        Variant::SdkHyper => Client::SdkHyper(
            sdk(SessionClient::builder(&base).sleep(TokioSleep::new()))
                .build(thoughtspot_session_hyper::HyperTransport::new().expect("transport"))
                .expect("client"),
        ),
        Variant::SdkHyperPlain => {
            let mut connector = hyper_util::client::legacy::connect::HttpConnector::new();
            connector.set_nodelay(true);
            let raw = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build(connector);
            Client::SdkHyperPlain(
                sdk(SessionClient::builder(&base).sleep(TokioSleep::new()))
                    .build(thoughtspot_session_hyper::HyperTransport::from_client(raw))
                    .expect("client"),
            )
        }
        Variant::SdkTower => {
            let mut connector = hyper_util::client::legacy::connect::HttpConnector::new();
            connector.set_nodelay(true);
            let raw = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build(connector);
            Client::SdkTower(
                sdk(SessionClient::builder(&base).sleep(TokioSleep::new()))
                    .build(thoughtspot_session_tower::TowerTransport::new(raw))
                    .expect("client"),
            )
        }
        Variant::SdkReqwestV2 => Client::SdkReqwestV2(
            sdk(SessionClient::builder(&base).sleep(TokioSleep::new()))
                .build(thoughtspot_session_reqwest::ReqwestTransport::new().expect("transport"))
                .expect("client"),
        ),
        Variant::SdkHyperV2 => Client::SdkHyperV2(
            sdk(SessionClient::builder(&base).sleep(TokioSleep::new()))
                .build(thoughtspot_session_hyper::HyperTransport::new().expect("transport"))
                .expect("client"),
        ),
        Variant::RawHyper => Client::RawHyper(raw_hyper(), gettoken.parse().expect("uri")),
        Variant::RawHyperV2 => Client::RawHyperV2(raw_hyper(), full.parse().expect("uri")),
        Variant::RawReqwestV2 => Client::RawReqwestV2(
            reqwest::Client::builder().no_proxy().build().expect("client"),
            reqwest::Url::parse(&full).expect("url"),
        ),
    }
}

impl Client {
    async fn get_token(&self) {
        match self {
            Client::SdkReqwest(c) => {
                std::hint::black_box(c.get_token(&sdk_request()).await.expect("token"));
            }
            Client::SdkHyper(c) => {
                std::hint::black_box(c.get_token(&sdk_request()).await.expect("token"));
            }
            Client::SdkHyperPlain(c) => {
                std::hint::black_box(c.get_token(&sdk_request()).await.expect("token"));
            }
            Client::SdkTower(c) => {
                std::hint::black_box(c.get_token(&sdk_request()).await.expect("token"));
            }
            Client::SdkReqwestV2(c) => {
                use thoughtspot_session_core::v2::AuthApi;
                std::hint::black_box(c.token_full(&v2_request()).await.expect("token"));
            }
            Client::SdkHyperV2(c) => {
                use thoughtspot_session_core::v2::AuthApi;
                std::hint::black_box(c.token_full(&v2_request()).await.expect("token"));
            }
            Client::RawReqwest(c, url) => {
                let body = RawTokenRequest {
                    user_name: "analyst",
                    secret_key: "trusted-key",
                };
                std::hint::black_box(raw_reqwest_post::<RawTokenResponse>(c, url, &body).await);
            }
            Client::RawReqwestV2(c, url) => {
                let body = RawFullTokenRequest {
                    username: "analyst",
                    secret_key: "trusted-key",
                };
                std::hint::black_box(raw_reqwest_post::<RawFullToken>(c, url, &body).await);
            }
            Client::RawHyperV2(c, uri) => {
                let request = raw_full_request(uri);
                let response = c.request(request).await.expect("sent");
                assert!(response.status().is_success());
                let bytes = response.into_body().collect().await.expect("body").to_bytes();
                let decoded: RawFullToken = serde_json::from_slice(&bytes).expect("decodes");
                std::hint::black_box(decoded);
            }
            Client::RawHyper(c, uri) => {
                let request = raw_request::<Full<Bytes>>(uri);
                let response = c.request(request).await.expect("sent");
                assert!(response.status().is_success());
                let bytes = response.into_body().collect().await.expect("body").to_bytes();
                let decoded: RawTokenResponse = serde_json::from_slice(&bytes).expect("decodes");
                std::hint::black_box(decoded);
            }
        }
    }
}

/// What a careful user writes by hand with reqwest: encode, POST with the same headers as
/// the SDK, read the body, decode.
async fn raw_reqwest_post<T: serde::de::DeserializeOwned>(
    client: &reqwest::Client,
    url: &reqwest::Url,
    body: &impl Serialize,
) -> T {
    let body = serde_json::to_vec(body).expect("encodes");
    let response = client
        .post(url.clone())
        .header(reqwest::header::ACCEPT, "application/json")
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(reqwest::header::USER_AGENT, "raw/1")
        .header("x-requested-by", "ThoughtSpot")
        .body(body)
        .send()
        .await
        .expect("sent");
    assert!(response.status().is_success());
    let bytes = response.bytes().await.expect("body");
    serde_json::from_slice(&bytes).expect("decodes")
}

/// A single-threaded tokio runtime with its drivers, as every part here uses.
fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// What one run of `drive` measured.
#[derive(Clone, Copy, Debug, Default)]
struct Run {
    requests_per_second: f64,
    /// Client CPU per request in user mode, µs.
    user_us: f64,
    /// Client CPU per request in the kernel, µs.
    system_us: f64,
}

impl Run {
    fn cpu_us(&self) -> f64 {
        self.user_us + self.system_us
    }
}

/// Runs `total` get token calls, `in_flight` at a time.
async fn drive(client: &Client, total: usize, in_flight: usize) -> Run {
    let cpu = cpu_times();
    let start = Instant::now();
    let per_worker = total / in_flight;
    let workers: Vec<_> = (0..in_flight)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                for _ in 0..per_worker {
                    client.get_token().await;
                }
            })
        })
        .collect();
    for w in workers {
        w.await.expect("worker");
    }
    let elapsed = start.elapsed().as_secs_f64();
    let done = (per_worker * in_flight) as f64;
    let after = cpu_times();
    let per = |a: Duration, b: Duration| (a - b).as_secs_f64() * 1e6 / done;
    Run {
        requests_per_second: done / elapsed,
        user_us: per(after.0, cpu.0),
        system_us: per(after.1, cpu.1),
    }
}

/// The whole machine's CPU time from /proc/stat: (steal, all), in jiffies.
fn machine_jiffies() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is inside user already).
    let all = fields.iter().take(8).sum();
    (fields.get(7).copied().unwrap_or(0), all)
}

/// The pairs of clients compared over loopback: (SDK, raw, label).
const PAIRS: [(Variant, Variant, &str); 6] = [
    (Variant::SdkReqwest, Variant::RawReqwest, "reqwest"),
    (Variant::SdkHyper, Variant::RawHyper, "hyper"),
    (
        Variant::SdkReqwestV2,
        Variant::RawReqwestV2,
        "reqwest, v2.0 token/full",
    ),
    (Variant::SdkHyperV2, Variant::RawHyperV2, "hyper, v2.0 token/full"),
    (
        Variant::SdkHyperPlain,
        Variant::RawHyper,
        "hyper, the SDK on the raw client's HttpConnector",
    ),
    (
        Variant::SdkHyper,
        Variant::SdkHyperNoTimeout,
        "hyper, the SDK with its whole-call timeout against without",
    ),
];

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Calls a run, rounds, and which pairs (by label prefix), from the environment:
/// `BENCH_CALLS` (calls at 64 in flight; a tenth of it sequentially), `BENCH_ROUNDS`,
/// `BENCH_PAIRS` (comma-separated: reqwest, hyper, reqwest-v2, hyper-v2, hyper-plain, timeout),
/// `BENCH_MODES`
/// (comma-separated: sequential, 64).
fn loopback() {
    println!("\n## 2. End to end on loopback: get token, SDK against the raw client\n");
    let calls = env_number("BENCH_CALLS", 200_000);
    let rounds = env_number("BENCH_ROUNDS", 3).max(1);
    let chosen = std::env::var("BENCH_PAIRS").unwrap_or_else(|_| "reqwest,hyper,reqwest-v2,hyper-v2".into());
    let pairs: Vec<_> = PAIRS
        .iter()
        .zip([
            "reqwest",
            "hyper",
            "reqwest-v2",
            "hyper-v2",
            "hyper-plain",
            "timeout",
        ])
        .filter(|(_, key)| chosen.split(',').any(|c| c.trim() == *key))
        .map(|(pair, _)| *pair)
        .collect();
    let server = Server::start();
    pin_self_to_cpu0();
    let runtime = current_thread();
    runtime.block_on(async {
        let clients: Vec<(Variant, Client)> = pairs
            .iter()
            .flat_map(|(sdk, raw, _)| [*sdk, *raw])
            .map(|v| (v, client(v, server.port, None)))
            .collect();
        let modes = std::env::var("BENCH_MODES").unwrap_or_else(|_| "sequential,64".into());
        for (name, total, in_flight) in [("sequential", calls / 10, 1), ("64 in flight", calls, 64)]
            .into_iter()
            .filter(|(_, _, n)| modes.split(',').any(|m| m.trim() == if *n == 1 { "sequential" } else { "64" }))
        {
            let mut results: Vec<Vec<Run>> = vec![Vec::new(); clients.len()];
            for (_, c) in &clients {
                drive(c, (total / 10).max(in_flight), in_flight).await; // warm up: connections, caches
            }
            let (steal_before, all_before) = machine_jiffies();
            for round in 0..rounds {
                // Each pair runs SDK first in even rounds and raw first in odd ones, so that
                // neither always follows the other.
                for pair in 0..clients.len() / 2 {
                    let order = if round % 2 == 0 { [2 * pair, 2 * pair + 1] } else { [2 * pair + 1, 2 * pair] };
                    for i in order {
                        results[i].push(drive(&clients[i].1, total, in_flight).await);
                    }
                }
            }
            let (steal_after, all_after) = machine_jiffies();
            let steal = (steal_after - steal_before) as f64 * 100.0 / (all_after - all_before).max(1) as f64;
            println!(
                "### {name} ({total} calls a run, {rounds} interleaved rounds, steal {steal:.2}% of the machine's CPU time)\n"
            );
            println!("| client | requests/s per round | client CPU µs/request, user + system (median) |");
            println!("|---|---|---|");
            for (i, (v, _)) in clients.iter().enumerate() {
                let rps: Vec<String> = results[i].iter().map(|r| format!("{:.0}", r.requests_per_second)).collect();
                let user = median(&results[i].iter().map(|r| r.user_us).collect::<Vec<_>>());
                let system = median(&results[i].iter().map(|r| r.system_us).collect::<Vec<_>>());
                println!("| {} | {} | {user:.2} + {system:.2} = {:.2} |", v.name(), rps.join(", "), user + system);
            }
            println!();
            let target = if in_flight > 1 { 0.95 } else { 0.97 };
            println!("| pair | SDK/raw throughput per round | median | client CPU SDK/raw per round | median | targets |");
            println!("|---|---|---|---|---|---|");
            for (p, (_, _, label)) in pairs.iter().enumerate() {
                let (sdk, raw) = (&results[2 * p], &results[2 * p + 1]);
                let ratios: Vec<f64> = (0..rounds)
                    .map(|r| sdk[r].requests_per_second / raw[r].requests_per_second)
                    .collect();
                let cpu: Vec<f64> = (0..rounds).map(|r| sdk[r].cpu_us() / raw[r].cpu_us()).collect();
                let show = |v: &[f64]| v.iter().map(|x| format!("{x:.3}")).collect::<Vec<_>>().join(", ");
                let cpu_target = if in_flight > 1 { ", CPU at most 1.05" } else { "" };
                println!(
                    "| {label} | {} | {:.3} | {} | {:.3} | throughput at least {target}{cpu_target} |",
                    show(&ratios),
                    median(&ratios),
                    show(&cpu),
                    median(&cpu)
                );
            }
            println!();
        }
    });
}

// ---------------------------------------------------------------------------------------
// TokenManager: cache hits in memory and on Redis; the token service against a bare server

/// The example token service on a single-threaded runtime, its manager caching in memory
/// over the in-memory transport (so that, once warm, every answer is a cache hit). Prints
/// its port; stops when stdin closes.
fn serve_token_service() {
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
async fn drive_service(client: &RawHyperClient, uri: &http::Uri, total: usize, in_flight: usize) -> f64 {
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

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

fn tokens() {
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

// ---------------------------------------------------------------------------------------
// Allocations per request over loopback

fn allocations() {
    println!("\n## 6. Allocations per request over loopback (64 in flight, 20,000 calls)\n");
    let server = Server::start();
    pin_self_to_cpu0();
    let runtime = current_thread();
    println!("| client | allocations per request | bytes allocated per request |");
    println!("|---|---|---|");
    runtime.block_on(async {
        for v in VARIANTS.into_iter().chain(V2_VARIANTS) {
            let c = client(v, server.port, None);
            drive(&c, 6_400, 64).await; // warm up: connections, caches
            let (count, bytes) = (
                ALLOCATIONS.load(Ordering::Relaxed),
                ALLOCATED_BYTES.load(Ordering::Relaxed),
            );
            const N: usize = 19_968; // a multiple of 64
            drive(&c, N, 64).await;
            let per = |now: u64, then: u64| (now - then) as f64 / N as f64;
            println!(
                "| {} | {:.1} | {:.0} |",
                v.name(),
                per(ALLOCATIONS.load(Ordering::Relaxed), count),
                per(ALLOCATED_BYTES.load(Ordering::Relaxed), bytes)
            );
        }
    });
}

// ---------------------------------------------------------------------------------------
// Instructions per request (callgrind)

fn calls_mode(variant: Variant, port: u16, n: usize, in_flight: usize) {
    let runtime = current_thread();
    runtime.block_on(async {
        let c = client(variant, port, None);
        drive(&c, n, in_flight).await;
    });
}

fn callgrind_instructions(variant: Variant, port: u16, n: usize) -> Option<u64> {
    callgrind_run(&["--calls", variant.name(), &port.to_string(), &n.to_string()])
}

/// Total instructions of this binary run with `args` under callgrind.
fn callgrind_run(args: &[&str]) -> Option<u64> {
    let exe = std::env::current_exe().ok()?;
    let out = std::env::temp_dir().join(format!("callgrind.{}.{}", args.join("_"), std::process::id()));
    let status = Command::new("valgrind")
        .args(["--tool=callgrind", "--quiet"])
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(&exe)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()?;
    if !status.success() {
        return None;
    }
    let text = std::fs::read_to_string(&out).ok()?;
    let _ = std::fs::remove_file(&out);
    text.lines()
        .find_map(|l| l.strip_prefix("summary:").or_else(|| l.strip_prefix("totals:")))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

fn callgrind() {
    println!("\n## 3. Client instructions per request (valgrind callgrind, sequential)\n");
    if Command::new("valgrind")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_err()
    {
        println!("valgrind is not installed: skipped");
        return;
    }
    let server = Server::start();
    let (small, large) = (100, 600);
    let mut per = Vec::new();
    for v in VARIANTS {
        let a = callgrind_instructions(v, server.port, small);
        let b = callgrind_instructions(v, server.port, large);
        per.push(match (a, b) {
            (Some(a), Some(b)) => Some((b.saturating_sub(a)) as f64 / (large - small) as f64),
            _ => None,
        });
    }
    println!("| client | instructions per request |");
    println!("|---|---|");
    for (v, p) in VARIANTS.iter().zip(&per) {
        println!(
            "| {} | {} |",
            v.name(),
            p.map_or("n/a".to_owned(), |p| format!("{p:.0}"))
        );
    }
    for (sdk, raw, label) in [(0, 1, "reqwest"), (2, 3, "hyper")] {
        if let (Some(s), Some(r)) = (per[sdk], per[raw]) {
            println!(
                "\nSDK overhead on {label}: {:+.0} instructions per request (target at most 3,000)",
                s - r
            );
        }
    }
    let plain = |v| {
        let a = callgrind_instructions(v, server.port, small)?;
        let b = callgrind_instructions(v, server.port, large)?;
        Some(b.saturating_sub(a) as f64 / (large - small) as f64)
    };
    if let (Some(tower), Some(hyper)) = (plain(Variant::SdkTower), plain(Variant::SdkHyperPlain)) {
        println!(
            "\nThe tower backend on hyper-util's client: {tower:.0} instructions per request; the hyper backend \
             on the same client: {hyper:.0}; tower over hyper {:+.0} (target at most +1,000)",
            tower - hyper
        );
    }
    for (v, beta, label) in [(V2_VARIANTS[0], 0, "reqwest"), (V2_VARIANTS[1], 2, "hyper")] {
        let a = callgrind_instructions(v, server.port, small);
        let b = callgrind_instructions(v, server.port, large);
        if let (Some(a), Some(b), Some(beta)) = (a, b, per[beta]) {
            let v2 = b.saturating_sub(a) as f64 / (large - small) as f64;
            println!(
                "\nREST API v2.0 token_full on {label}: {v2:.0} instructions per request (beta get token: {beta:.0})"
            );
        }
    }
    let per_call = |mode: &str| -> Option<f64> {
        let a = callgrind_run(&[mode, "2000"])?;
        let b = callgrind_run(&[mode, "12000"])?;
        Some(b.saturating_sub(a) as f64 / 10_000.0)
    };
    let modes = (
        per_call("--profile-core"),
        per_call("--profile-raw"),
        per_call("--profile-fake"),
        per_call("--profile-core-v2"),
    );
    if let (Some(sdk), Some(raw), Some(fake), Some(v2)) = modes {
        println!(
            "\nIn-process instructions per get token call: SDK over an in-memory transport {sdk:.0}, \
             hand-written minimum {raw:.0} (ratio {:.2}), SDK over FakeThoughtSpot {fake:.0}; \
             REST API v2.0 token_full over an in-memory transport {v2:.0}",
            sdk / raw
        );
    }
}

// ---------------------------------------------------------------------------------------
// In-process: the fake cluster and the mock

fn in_process() {
    println!("\n## 4. In-process get token calls per second (one core, no runtime)\n");
    use thoughtspot_session_mock::{FakeThoughtSpot, FakeUser, MockResponse, MockTransport};
    let fake = FakeThoughtSpot::builder()
        .user(FakeUser::new("analyst", "pw"))
        .secret_key("trusted-key")
        .build();
    let fake_client = fake.client();
    let mock = MockTransport::new();
    mock.verify_on_drop(false);
    mock.expect_get_token().at_least(0).respond(MockResponse::json(
        200,
        serde_json::from_str(TOKEN_BODY).expect("json"),
    ));
    let mock_client = mock.client();
    let request = sdk_request();
    let mut fake_rates = Vec::new();
    let mut mock_rates = Vec::new();
    for _ in 0..3 {
        let (ns, _) = measure(100_000, || {
            std::hint::black_box(block_on(fake_client.get_token(&request)).expect("token"));
        });
        fake_rates.push(1e9 / ns);
        let (ns, _) = measure(100_000, || {
            std::hint::black_box(block_on(mock_client.get_token(&request)).expect("token"));
        });
        mock_rates.push(1e9 / ns);
        mock.reset();
        mock.expect_get_token().at_least(0).respond(MockResponse::json(
            200,
            serde_json::from_str(TOKEN_BODY).expect("json"),
        ));
    }
    println!("| transport | calls/s (min / median / max) | target |");
    println!("|---|---|---|");
    println!(
        "| FakeThoughtSpot | {} | at least 500,000 |",
        spread(&fake_rates, 0)
    );
    println!(
        "| MockTransport | {} | at least 1,000,000 |",
        spread(&mock_rates, 0)
    );
}

// ---------------------------------------------------------------------------------------
// Memory: 10,000 calls at once

fn memory_mode(variant: Variant, port: u16, bound: Option<usize>) {
    let runtime = current_thread();
    let start = Instant::now();
    runtime.block_on(async {
        let c = client(variant, port, bound);
        let calls: Vec<_> = (0..10_000)
            .map(|_| {
                let c = c.clone();
                tokio::spawn(async move { c.get_token().await })
            })
            .collect();
        for call in calls {
            call.await.expect("call");
        }
    });
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .unwrap_or("?")
        .trim()
        .to_owned();
    println!("{peak}|{:.2}", start.elapsed().as_secs_f64());
}

fn memory() {
    println!("\n## 5. Peak resident memory of 10,000 get token calls started at once\n");
    let server = Server::start();
    let exe = std::env::current_exe().expect("exe");
    println!("| client | peak resident | wall time |");
    println!("|---|---|---|");
    for (variant, bound) in [
        (Variant::RawReqwest, None),
        (Variant::SdkReqwest, None),
        (Variant::SdkReqwest, Some(64)),
        (Variant::RawHyper, None),
        (Variant::SdkHyper, None),
        (Variant::SdkHyper, Some(64)),
    ] {
        let mut command = Command::new(&exe);
        command.args(["--mem", variant.name(), &server.port.to_string()]);
        if let Some(b) = bound {
            command.arg(b.to_string());
        }
        let output = command.output().expect("runs");
        let line = String::from_utf8_lossy(&output.stdout);
        let (peak, secs) = line.trim().split_once('|').unwrap_or(("failed", "?"));
        let label = match bound {
            Some(b) => format!("{} with max_in_flight({b})", variant.name()),
            None => variant.name().to_owned(),
        };
        println!("| {label} | {peak} | {secs} s |");
    }
    println!("\nTargets: with max_in_flight(64) at most 64 MiB; unbounded within 1.1x of the raw client.");
}

fn main() {
    let all: Vec<String> = std::env::args().skip(1).collect();
    // `cargo test --all-targets` runs this binary too, without `--bench`: nothing to do then.
    let internal = all.first().is_some_and(|a| a.starts_with("--") && a != "--bench");
    if !internal && !all.iter().any(|a| a == "--bench") {
        println!("benchmarks run with `cargo bench -p thoughtspot-session-bench`");
        return;
    }
    let args: Vec<String> = all.into_iter().filter(|a| a != "--bench").collect();
    match args.first().map(String::as_str) {
        Some("--serve") => return serve(),
        Some("--serve-token-service") => return serve_token_service(),
        Some("--calls") => {
            return calls_mode(
                Variant::parse(&args[1]),
                args[2].parse().expect("port"),
                args[3].parse().expect("n"),
                args.get(4).map_or(1, |a| a.parse().expect("in flight")),
            );
        }
        Some("--profile-core") => {
            // For `valgrind --tool=callgrind`: N SDK calls over the in-memory transport.
            let client = canned_client();
            let request = sdk_request();
            for _ in 0..args[1].parse::<usize>().expect("n") {
                std::hint::black_box(block_on(client.get_token(&request)).expect("decodes"));
            }
            return;
        }
        Some("--profile-core-v2") => {
            use thoughtspot_session_core::v2::AuthApi;
            let client = canned_v2_client();
            let request = v2_request();
            for _ in 0..args[1].parse::<usize>().expect("n") {
                std::hint::black_box(block_on(client.token_full(&request)).expect("decodes"));
            }
            return;
        }
        Some("--profile-raw") => {
            let uri: http::Uri = "https://cluster.example.com/tspublic/rest/v2/session/gettoken"
                .parse()
                .expect("uri");
            for _ in 0..args[1].parse::<usize>().expect("n") {
                raw_minimum(&uri);
            }
            return;
        }
        Some("--profile-fake") => {
            use thoughtspot_session_mock::{FakeThoughtSpot, FakeUser};
            let fake = FakeThoughtSpot::builder()
                .user(FakeUser::new("analyst", "pw"))
                .secret_key("trusted-key")
                .build();
            let client = fake.client();
            let request = sdk_request();
            for _ in 0..args[1].parse::<usize>().expect("n") {
                std::hint::black_box(block_on(client.get_token(&request)).expect("token"));
            }
            return;
        }
        Some("--mem") => {
            return memory_mode(
                Variant::parse(&args[1]),
                args[2].parse().expect("port"),
                args.get(3).map(|b| b.parse().expect("bound")),
            );
        }
        _ => {}
    }
    let wanted = |part: &str| args.is_empty() || args.iter().any(|a| a == part);
    println!(
        "# thoughtspot-session benchmarks ({} CPUs)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    if wanted("core") {
        core_cost();
    }
    if wanted("inprocess") {
        in_process();
    }
    if wanted("loopback") {
        loopback();
    }
    if wanted("callgrind") {
        callgrind();
    }
    if wanted("memory") {
        memory();
    }
    if wanted("allocations") {
        allocations();
    }
    if wanted("tokens") {
        tokens();
    }
}
