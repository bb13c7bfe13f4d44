//! The clients compared: the SDK over each backend and the raw clients, and `drive`.

use crate::*;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serde::Serialize;
use std::time::{Duration, Instant};
use thoughtspot_session_core::{SessionApi, SessionClient, TokioSleep};

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Variant {
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
pub(crate) const V2_VARIANTS: [Variant; 2] = [Variant::SdkReqwestV2, Variant::SdkHyperV2];

pub(crate) const VARIANTS: [Variant; 4] = [
    Variant::SdkReqwest,
    Variant::RawReqwest,
    Variant::SdkHyper,
    Variant::RawHyper,
];

impl Variant {
    pub(crate) fn name(self) -> &'static str {
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

    pub(crate) fn parse(s: &str) -> Self {
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

pub(crate) type RawHyperClient =
    hyper_util::client::legacy::Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

// The variants are built once per run; their sizes do not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
pub(crate) enum Client {
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

pub(crate) fn client(variant: Variant, port: u16, max_in_flight: Option<usize>) -> Client {
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
    pub(crate) async fn get_token(&self) {
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
pub(crate) async fn raw_reqwest_post<T: serde::de::DeserializeOwned>(
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
pub(crate) fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// What one run of `drive` measured.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Run {
    pub(crate) requests_per_second: f64,
    /// Client CPU per request in user mode, µs.
    pub(crate) user_us: f64,
    /// Client CPU per request in the kernel, µs.
    pub(crate) system_us: f64,
}

impl Run {
    pub(crate) fn cpu_us(&self) -> f64 {
        self.user_us + self.system_us
    }
}

/// Runs `total` get token calls, `in_flight` at a time.
pub(crate) async fn drive(client: &Client, total: usize, in_flight: usize) -> Run {
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
