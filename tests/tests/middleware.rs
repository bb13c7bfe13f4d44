//! A reqwest-middleware chain under the reqwest transport sees every request.

use std::sync::atomic::Ordering;
use thoughtspot_session_core::{GetTokenRequest, SessionApi, SessionClient, TokioSleep};
use thoughtspot_session_tests::harness::SafeDropServer;
use thoughtspot_session_tests::{MIDDLEWARE_CALLS, TransportOptions, Watchdog, reqwest_middleware};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, ResponseTemplate};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chain_sees_every_request() {
    let _watchdog = Watchdog::start("middleware::the_chain_sees_every_request");
    let server = SafeDropServer::start().await;
    Mock::given(method("POST"))
        .and(path("/tspublic/rest/v2/session/gettoken"))
        .and(header("x-middleware", "recorder"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(r#"{"token":"t"}"#, "application/json"))
        .expect(3)
        .mount(&server)
        .await;
    let before = MIDDLEWARE_CALLS.load(Ordering::SeqCst);
    let c = SessionClient::builder(server.uri())
        .api_version(thoughtspot_session_core::ApiVersion::V2Beta)
        .sleep(TokioSleep::new())
        .build(reqwest_middleware(TransportOptions::default()))
        .expect("valid");
    for _ in 0..3 {
        c.get_token(&GetTokenRequest::with_secret_key("u", "k"))
            .await
            .expect("token");
    }
    assert_eq!(MIDDLEWARE_CALLS.load(Ordering::SeqCst) - before, 3);
    server.verify().await;
}
