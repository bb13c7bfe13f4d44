//! The tower backend under an application's own layers: they see every request the SDK
//! makes, and their errors map to the client's kinds.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use thoughtspot_session_core::{Error, GetTokenRequest, RetryPolicy, SessionApi, SessionClient, TokioSleep};
use thoughtspot_session_tests::Watchdog;
use thoughtspot_session_tests::harness::SafeDropServer;
use thoughtspot_session_tower::TowerTransport;
use tower::ServiceBuilder;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, ResponseTemplate};

fn http() -> hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    http_body_util::Full<bytes::Bytes>,
> {
    hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_layer_sees_every_request_retries_included() {
    let _watchdog = Watchdog::start("tower_layers::a_users_layer_sees_every_request_retries_included");
    let server = SafeDropServer::start().await;
    // Busy once, then a token; every request must carry the layer's header.
    Mock::given(method("GET"))
        .and(path("/tspublic/rest/v2/session"))
        .and(header("x-tenant", "acme"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/tspublic/rest/v2/session"))
        .and(header("x-tenant", "acme"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(r#"{"userName":"u"}"#, "application/json"))
        .mount(&server)
        .await;
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    let stack = ServiceBuilder::new()
        .map_request(
            move |mut request: http::Request<http_body_util::Full<bytes::Bytes>>| {
                counter.fetch_add(1, Ordering::SeqCst);
                request
                    .headers_mut()
                    .insert("x-tenant", http::HeaderValue::from_static("acme"));
                request
            },
        )
        .service(http());
    let c = SessionClient::builder(server.uri())
        .api_version(thoughtspot_session_core::ApiVersion::V2Beta)
        .sleep(TokioSleep::new())
        .retry(
            RetryPolicy::default()
                .jitter(false)
                .initial_backoff(Duration::from_millis(5)),
        )
        .build(TowerTransport::new(stack))
        .expect("valid");
    assert_eq!(
        c.get_session_info().await.expect("second attempt").user_name(),
        Some("u")
    );
    c.get_session_info().await.expect("again");
    assert_eq!(
        seen.load(Ordering::SeqCst),
        3,
        "the retry went through the layer too"
    );
    assert_eq!(server.received_requests().await.unwrap_or_default().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tower_timeouts_and_connect_errors_keep_their_kind() {
    let _watchdog = Watchdog::start("tower_layers::tower_timeouts_and_connect_errors_keep_their_kind");
    // Accepts and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let stack = ServiceBuilder::new()
        .timeout(Duration::from_millis(200))
        .service(http());
    let c = SessionClient::builder(base)
        .api_version(thoughtspot_session_core::ApiVersion::V2Beta)
        .sleep(TokioSleep::new())
        .retry(RetryPolicy::disabled())
        .build(TowerTransport::new(stack))
        .expect("valid");
    let e = c
        .get_token(&GetTokenRequest::with_secret_key("u", "k"))
        .await
        .expect_err("the layer's timeout");
    assert!(matches!(&e, Error::Transport(t) if t.is_timeout()), "{e:?}");

    let c = SessionClient::builder("http://127.0.0.1:1")
        .api_version(thoughtspot_session_core::ApiVersion::V2Beta)
        .sleep(TokioSleep::new())
        .retry(RetryPolicy::disabled())
        .build(TowerTransport::new(http()))
        .expect("valid");
    let e = c
        .get_token(&GetTokenRequest::with_secret_key("u", "k"))
        .await
        .expect_err("refused");
    assert!(matches!(&e, Error::Transport(t) if t.is_connect()), "{e:?}");
    assert!(std::error::Error::source(&e).is_some(), "the source is kept");
}

/// A server that answers every request's head at once and then stops sending the body it
/// announced; counts the requests it got.
async fn stalling_body_server() -> (String, Arc<AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let counter = counter.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                counter.fetch_add(1, Ordering::SeqCst);
                let _ = stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 64\r\n\r\n{\"userName\":")
                    .await;
                // Holds the connection open without sending the rest.
                tokio::time::sleep(Duration::from_secs(30)).await;
            });
        }
    });
    (base, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tower_https_body_timeout_is_a_timeout_and_a_get_is_retried_a_post_is_not() {
    let _watchdog = Watchdog::start(
        "tower_layers::tower_https_body_timeout_is_a_timeout_and_a_get_is_retried_a_post_is_not",
    );
    for version in [
        thoughtspot_session_core::ApiVersion::V2Beta,
        thoughtspot_session_core::ApiVersion::V2,
    ] {
        let (base, seen) = stalling_body_server().await;
        let stack = ServiceBuilder::new()
            .layer(tower_http::timeout::ResponseBodyTimeoutLayer::new(
                Duration::from_millis(100),
            ))
            .service(http());
        let c = SessionClient::builder(base)
            .api_version(version)
            .sleep(TokioSleep::new())
            .retry(
                RetryPolicy::default()
                    .max_attempts(3)
                    .jitter(false)
                    .initial_backoff(Duration::from_millis(5)),
            )
            .build(TowerTransport::new(stack))
            .expect("valid");
        // A GET (who am I): a timeout, retried as timeouts are.
        let e = c.get_session_info().await.expect_err("the body never ends");
        assert!(
            matches!(&e, Error::Transport(t) if t.is_timeout()),
            "{version:?}: {e:?}"
        );
        assert!(e.is_retryable(), "{version:?}: {e:?}");
        assert_eq!(
            seen.load(Ordering::SeqCst),
            3,
            "{version:?}: a GET is retried after a timeout"
        );
        // A POST (get token): a timeout too, and not retried (a token may have been minted).
        let e = c
            .get_token(&GetTokenRequest::with_secret_key("u", "k"))
            .await
            .expect_err("the body never ends");
        assert!(
            matches!(&e, Error::Transport(t) if t.is_timeout()),
            "{version:?}: {e:?}"
        );
        assert_eq!(seen.load(Ordering::SeqCst), 4, "{version:?}: a POST is sent once");
    }
}
