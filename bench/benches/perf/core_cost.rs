//! Part 1, the cost of core alone: the SDK over an in-memory transport against the
//! hand-written minimum, on a minimal executor (no runtime in the numbers).

use crate::*;
use bytes::Bytes;
use serde::Serialize;
use std::future::Future;
use std::sync::atomic::Ordering;
use std::time::Instant;
use thoughtspot_session_core::{HttpTransport, RetryPolicy, SessionApi, SessionClient};

pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
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
pub(crate) struct Canned;

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
pub(crate) struct CannedV2;

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
pub(crate) fn canned_v2_client() -> SessionClient<CannedV2> {
    SessionClient::builder("https://cluster.example.com")
        .no_timeout()
        .retry(RetryPolicy::disabled())
        .build(CannedV2)
        .expect("valid")
}

/// The hand-written request for the same bytes: encode the body, set the same headers.
pub(crate) fn raw_request<B: From<Bytes>>(uri: &http::Uri) -> http::Request<B> {
    raw_post(
        uri,
        &RawTokenRequest {
            user_name: "analyst",
            secret_key: "trusted-key",
        },
    )
}

/// A POST of `body` as JSON with the SDK's headers, built by hand.
pub(crate) fn raw_post<B: From<Bytes>>(uri: &http::Uri, body: &impl Serialize) -> http::Request<B> {
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
pub(crate) fn raw_minimum(uri: &http::Uri) {
    std::hint::black_box(raw_request::<Bytes>(uri));
    let response: RawTokenResponse = serde_json::from_slice(TOKEN_BODY.as_bytes()).expect("decodes");
    std::hint::black_box(response);
}

/// The SDK over the in-memory transport, with no timer and no retries, on the beta (the
/// canned answer is the beta's get token body, as the earlier figures measured).
pub(crate) fn canned_client() -> SessionClient<Canned> {
    SessionClient::builder("https://cluster.example.com")
        .api_version(thoughtspot_session_core::ApiVersion::V2Beta)
        .no_timeout()
        .retry(RetryPolicy::disabled())
        .build(Canned)
        .expect("valid")
}

pub(crate) fn measure(iterations: u64, mut f: impl FnMut()) -> (f64, f64) {
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

pub(crate) fn core_cost() {
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

pub(crate) fn spread(values: &[f64], decimals: usize) -> String {
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
