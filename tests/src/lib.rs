//! The contract suite of thoughtspot-session: scenarios written once and run against every
//! backend, so that every backend is proven to behave the same.
//!
//! - [`scenarios`]: stub-and-check scenarios over a [`Harness`] (a wiremock server behind a
//!   real transport, or the in-process MockTransport); [`contract_suite!`] runs them all.
//! - [`network`]: scenarios only a real socket has (refused connections, body caps,
//!   redirects to another server); [`network_suite!`] runs them.
//! - [`fake`]: behavioural scenarios against FakeThoughtSpot, run in-process, over
//!   loopback through each production backend and mounted on wiremock, on both API
//!   generations; [`fake_suite!`] runs them.
//! - [`watchdog`]: the time limits every test here runs under.

// An unpublished test crate: its items are documented where it helps the reader.
#![allow(missing_docs)]

pub mod fake;
pub mod harness;
pub mod network;
pub mod redis;
pub mod replicas;
pub mod scenarios;
pub mod scenarios_v2;
pub mod tls;
pub mod watchdog;

pub use harness::{Factory, Harness, Mocked, Recorded, Stub, TransportOptions, Wiremock};
pub use watchdog::{Watchdog, within};

use std::sync::Arc;
use thoughtspot_session_core::HttpTransport;

/// The reqwest transport under test.
pub fn reqwest(options: TransportOptions) -> Arc<dyn HttpTransport> {
    let transport = thoughtspot_session_reqwest::ReqwestTransport::builder()
        .max_response_body(options.max_body)
        .build()
        .expect("the reqwest transport builds");
    Arc::new(transport)
}

/// How many requests [`Recorder`] middlewares have seen, in every test of a binary.
pub static MIDDLEWARE_CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A reqwest-middleware middleware that counts each request and marks it with a header.
pub struct Recorder;

#[async_trait::async_trait]
impl reqwest_middleware::Middleware for Recorder {
    async fn handle(
        &self,
        mut request: ::reqwest::Request,
        extensions: &mut http::Extensions,
        next: reqwest_middleware::Next<'_>,
    ) -> reqwest_middleware::Result<::reqwest::Response> {
        MIDDLEWARE_CALLS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        request
            .headers_mut()
            .insert("x-middleware", http::HeaderValue::from_static("recorder"));
        next.run(request, extensions).await
    }
}

/// The reqwest transport over a reqwest-middleware chain under test.
pub fn reqwest_middleware(options: TransportOptions) -> Arc<dyn HttpTransport> {
    let client = ::reqwest::Client::builder()
        .redirect(::reqwest::redirect::Policy::none())
        .build()
        .expect("the reqwest client builds");
    let chain = reqwest_middleware::ClientBuilder::new(client)
        .with(Recorder)
        .build();
    Arc::new(
        thoughtspot_session_reqwest::ReqwestTransport::from_middleware(chain)
            .with_max_response_body(options.max_body),
    )
}

/// The tower transport under test: hyper-util's client under a real layer stack, as an
/// application runs it (a header its gateway wants, tracing, a concurrency limit, a
/// timeout).
pub fn tower(options: TransportOptions) -> Arc<dyn HttpTransport> {
    use tower::ServiceBuilder;
    let http = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<bytes::Bytes>>();
    let stack = ServiceBuilder::new()
        .layer(tower_http::set_header::SetRequestHeaderLayer::if_not_present(
            http::HeaderName::from_static("x-app-gateway"),
            http::HeaderValue::from_static("layer"),
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .timeout(std::time::Duration::from_secs(30))
        .concurrency_limit(256)
        .service(http);
    let transport =
        thoughtspot_session_tower::TowerTransport::new(stack).with_max_response_body(options.max_body);
    Arc::new(transport)
}

/// The hyper transport under test.
pub fn hyper(options: TransportOptions) -> Arc<dyn HttpTransport> {
    let transport = thoughtspot_session_hyper::HyperTransport::builder()
        .max_response_body(options.max_body)
        .build()
        .expect("the hyper transport builds");
    Arc::new(transport)
}
