//! SessionApi and HttpTransport work as trait objects, and every future is Send.

mod support;

use std::sync::Arc;
use support::*;
use thoughtspot_session_core::{HttpTransport, SessionApi, SessionClient};

fn assert_send<T: Send>(_: &T) {}
fn assert_send_sync_clone<T: Send + Sync + Clone>() {}

#[tokio::test]
async fn trait_objects_and_send_futures() {
    let t = FnTransport::always(200, r#"{"userName":"u"}"#);
    let client = client(&t);
    assert_send_sync_clone::<SessionClient<FnTransport>>();

    let boxed: Box<dyn SessionApi> = Box::new(client.clone());
    let shared: Arc<dyn SessionApi> = Arc::new(client.clone());
    let future = shared.get_session_info();
    assert_send(&future);
    assert_eq!(future.await.unwrap().user_name(), Some("u"));
    assert_eq!(boxed.get_session_info().await.unwrap().user_name(), Some("u"));

    // Arc<dyn SessionApi> is itself a SessionApi, so generic code accepts it.
    async fn user<S: SessionApi>(api: S) -> Option<String> {
        api.get_session_info().await.ok()?.user_name().map(str::to_owned)
    }
    assert_eq!(user(shared).await.as_deref(), Some("u"));

    // A client over a boxed or shared dyn transport.
    let dyn_transport: Arc<dyn HttpTransport> = Arc::new(t.clone());
    let erased: SessionClient = builder(&InstantSleep::default()).build(dyn_transport).unwrap();
    let spawned = tokio::spawn(async move { erased.get_session_info().await.map(|i| i.into_map().len()) });
    assert_eq!(spawned.await.unwrap().unwrap(), 1);
    let boxed_transport: Box<dyn HttpTransport> = Box::new(t.clone());
    builder(&InstantSleep::default())
        .build(boxed_transport)
        .unwrap()
        .get_session_info()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_each_get_their_own_answer() {
    let t = FnTransport::new(|r, _| {
        let n = r.headers()["x-call"].to_str().unwrap().to_owned();
        let body: &'static str = Box::leak(format!(r#"{{"userName":"user-{n}"}}"#).into_boxed_str());
        Reply::Answer(answer(200, body))
    });
    let mut handles = Vec::new();
    for n in 0..50 {
        let c = builder(&InstantSleep::default())
            .default_header("x-call", n.to_string())
            .build(t.clone())
            .unwrap();
        handles.push(tokio::spawn(
            async move { (n, c.get_session_info().await.unwrap()) },
        ));
    }
    for h in handles {
        let (n, info) = h.await.unwrap();
        assert_eq!(info.user_name(), Some(format!("user-{n}").as_str()));
    }
}

/// Counts sends in flight and remembers the most seen at once.
#[derive(Debug, Default)]
struct Gauge {
    now: std::sync::atomic::AtomicUsize,
    peak: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl thoughtspot_session_core::HttpTransport for Gauge {
    async fn send(
        &self,
        _: http::Request<bytes::Bytes>,
    ) -> Result<http::Response<bytes::Bytes>, thoughtspot_session_core::TransportError> {
        use std::sync::atomic::Ordering::SeqCst;
        let inside = self.now.fetch_add(1, SeqCst) + 1;
        self.peak.fetch_max(inside, SeqCst);
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        self.now.fetch_sub(1, SeqCst);
        Ok(http::Response::new(bytes::Bytes::from_static(b"{}")))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_in_flight_bounds_concurrent_sends() {
    let gauge = Arc::new(Gauge::default());
    let client = SessionClient::builder(BASE)
        .api_version(thoughtspot_session_core::ApiVersion::V2Beta)
        .sleep(thoughtspot_session_core::TokioSleep::new())
        .max_in_flight(4)
        .build(gauge.clone())
        .unwrap();
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.get_session_info().await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(gauge.peak.load(std::sync::atomic::Ordering::SeqCst), 4);
    let refused = SessionClient::builder(BASE)
        .api_version(thoughtspot_session_core::ApiVersion::V2Beta)
        .sleep(InstantSleep::default())
        .max_in_flight(0)
        .build(gauge.clone());
    assert!(refused.unwrap_err().to_string().contains("max_in_flight"));
}
