//! 10,000 concurrent calls with random cancellations: every finished call has its own
//! correct answer, the session cookies stay as they were, and tasks and connections return
//! to their baseline. In-process and over loopback through both production backends.

use std::sync::Arc;
use std::time::Duration;
use thoughtspot_session_core::{
    GetTokenRequest, HttpTransport, LoginRequest, SessionApi, SessionClient, TokioSleep,
};
use thoughtspot_session_mock::{FakeServer, FakeThoughtSpot, FakeUser};
use thoughtspot_session_tests::{Factory, TransportOptions};

const CALLS: usize = 10_000;
const USERS: usize = 100;

fn cluster() -> FakeThoughtSpot {
    let mut b = FakeThoughtSpot::builder().secret_key("key");
    for n in 0..USERS {
        b = b.user(FakeUser::new(format!("user-{n}"), "pw"));
    }
    b.build()
}

/// The fake, answering after a short random real-time pause, so that cancellations land
/// mid-call.
#[derive(Debug)]
struct Jittery(FakeThoughtSpot);

#[async_trait::async_trait]
impl HttpTransport for Jittery {
    async fn send(
        &self,
        request: http::Request<bytes::Bytes>,
    ) -> Result<http::Response<bytes::Bytes>, thoughtspot_session_core::TransportError> {
        static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let pause = (n.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40) % 50_000; // 0..50 ms, in µs
        tokio::time::sleep(Duration::from_micros(pause)).await;
        self.0.send(request).await
    }
}

fn alive_tasks() -> usize {
    tokio::runtime::Handle::current().metrics().num_alive_tasks()
}

async fn settle(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..1000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{what} did not return to its baseline");
}

/// Fires CALLS get token calls at once, cancelling about two in three after a random short
/// while; checks every answer that arrives. Returns (finished, cancelled).
async fn storm(client: &SessionClient<Arc<dyn HttpTransport>>) -> (usize, usize) {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let tasks: Vec<_> = (0..CALLS)
        .map(|n| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let cancel_after = (!seed.is_multiple_of(3)).then(|| Duration::from_micros(seed % 20_000));
            let client = client.clone();
            tokio::spawn(async move {
                let user = format!("user-{}", n % USERS);
                let request = GetTokenRequest::with_secret_key(user.as_str(), "key");
                let call = client.get_token(&request);
                let result = match cancel_after {
                    Some(after) => match tokio::time::timeout(after, call).await {
                        Ok(result) => result,
                        Err(_) => return false,
                    },
                    None => call.await,
                };
                let answer = result.unwrap_or_else(|e| panic!("call {n} failed: {e}"));
                assert_eq!(
                    answer.user_name(),
                    Some(user.as_str()),
                    "call {n} got another call's answer"
                );
                true
            })
        })
        .collect();
    let mut finished = 0;
    for task in tasks {
        if task.await.expect("no call panics") {
            finished += 1;
        }
    }
    (finished, CALLS - finished)
}

async fn cookie_session_survives(client: &SessionClient<Arc<dyn HttpTransport>>, before: &[String]) {
    let mut after = client.cookie_names();
    after.sort();
    assert_eq!(after, before);
    let info = client
        .get_session_info()
        .await
        .expect("the cookie session still works");
    assert_eq!(info.user_name(), Some("user-0"));
}

async fn login(client: &SessionClient<Arc<dyn HttpTransport>>) -> Vec<String> {
    client
        .login(&LoginRequest::with_password("user-0", "pw"))
        .await
        .expect("login");
    let mut names = client.cookie_names();
    names.sort();
    assert_eq!(names, ["JSESSIONID", "clientId"]);
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_process() {
    let _watchdog = thoughtspot_session_tests::Watchdog::start("cancellation::in_process");
    let fake = cluster();
    let baseline = alive_tasks();
    let transport: Arc<dyn HttpTransport> = Arc::new(Jittery(fake.clone()));
    let client = fake
        .client_builder()
        // The beta, as over loopback below: its login sets both cookies.
        .api_version(thoughtspot_session_core::ApiVersion::V2Beta)
        .sleep(TokioSleep::new())
        .transport(transport)
        .build()
        .expect("valid");
    let cookies = login(&client).await;
    let (finished, cancelled) = storm(&client).await;
    assert!(
        finished > 100 && cancelled > 100,
        "finished {finished}, cancelled {cancelled}"
    );
    cookie_session_survives(&client, &cookies).await;
    drop(client);
    settle("the task count", || alive_tasks() == baseline).await;
    assert_eq!(fake.live_sessions().len(), 1);
}

async fn over_loopback(factory: Factory) {
    let fake = cluster();
    let server = FakeServer::start(fake.clone()).await.expect("serves");
    let baseline = alive_tasks();
    let client = SessionClient::builder(server.base_url())
        .api_version(thoughtspot_session_core::ApiVersion::V2Beta)
        .sleep(TokioSleep::new())
        .max_in_flight(64)
        .build(factory(TransportOptions::default()))
        .expect("valid");
    let cookies = login(&client).await;
    let (finished, cancelled) = storm(&client).await;
    assert!(
        finished > 100 && cancelled > 100,
        "finished {finished}, cancelled {cancelled}"
    );
    // Cancelled calls drop their connections; the client's pool holds the rest.
    eprintln!("open connections after the storm: {}", server.open_connections());
    cookie_session_survives(&client, &cookies).await;
    // Dropping a call mid-flight left the client usable; dropping the client closes all.
    drop(client);
    settle("the connection count", || server.open_connections() == 0).await;
    settle("the task count", || alive_tasks() == baseline).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_loopback_with_reqwest() {
    let _watchdog = thoughtspot_session_tests::Watchdog::start("cancellation::over_loopback_with_reqwest");
    over_loopback(thoughtspot_session_tests::reqwest).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_loopback_with_hyper() {
    let _watchdog = thoughtspot_session_tests::Watchdog::start("cancellation::over_loopback_with_hyper");
    over_loopback(thoughtspot_session_tests::hyper).await;
}
