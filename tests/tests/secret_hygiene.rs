//! Over real sockets, through both production backends: every operation and its error
//! paths, with tracing captured at TRACE and Debug and Display of every answer and error
//! printed; no password, secret key, token or cookie value appears.

use std::sync::{Arc, Mutex};
use std::time::Duration;
use thoughtspot_session_core::{
    GetTokenRequest, HttpTransport, LoginRequest, RetryPolicy, SessionApi, SessionClient, TokioSleep,
};
use thoughtspot_session_mock::{FakeServer, FakeThoughtSpot, FakeUser};
use thoughtspot_session_tests::{Factory, TransportOptions};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn run(factory: Factory) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let fake = FakeThoughtSpot::builder()
        .user(FakeUser::new("analyst", "PW-analyst-7f3"))
        .secret_key("KEY-trusted-9c1")
        .build();
    let server = FakeServer::start(fake.clone()).await.unwrap();
    let transport: Arc<dyn HttpTransport> = factory(TransportOptions::default());
    // A whole-call timeout far above the retries' few milliseconds of waiting, so that on
    // a loaded machine every error path is the one named, never a timeout instead.
    let client = SessionClient::builder(server.base_url())
        .api_version(thoughtspot_session_core::ApiVersion::V2Beta)
        .sleep(TokioSleep::new())
        .timeout(Duration::from_secs(30))
        .retry(
            RetryPolicy::default()
                .jitter(false)
                .initial_backoff(Duration::from_millis(5)),
        )
        .build(transport.clone())
        .unwrap();
    let mut printed = String::new();
    let mut show = |what: String| printed.push_str(&what);

    let issued = client
        .get_token(&GetTokenRequest::with_secret_key("analyst", "KEY-trusted-9c1"))
        .await
        .unwrap();
    let token = issued.token().unwrap().secret().to_owned();
    show(format!("{issued:?}"));
    client.use_token(&issued).unwrap();
    show(format!(
        "{:?}",
        client.login(&LoginRequest::bearer()).await.unwrap()
    ));
    assert_eq!(fake.live_sessions().len(), 1);
    show(format!("{:?}", client.get_session_info().await.unwrap()));
    show(format!("{client:?}"));
    let session = client
        .login(&LoginRequest::with_password("analyst", "PW-analyst-7f3"))
        .await
        .unwrap();
    show(format!("{session:?} {client:#?}"));
    assert!(client.revoke_token().await.unwrap());

    let mut errors = Vec::new();
    errors.push(
        client
            .login(&LoginRequest::with_password("analyst", "PW-wrong-55"))
            .await
            .unwrap_err(),
    );
    errors.push(
        client
            .get_token(&GetTokenRequest::with_secret_key("analyst", "KEY-wrong-66"))
            .await
            .unwrap_err(),
    );
    client.set_access_token(token.as_str()).unwrap();
    errors.push(client.login(&LoginRequest::bearer()).await.unwrap_err()); // revoked
    client.set_access_token(token.as_str()).unwrap();
    errors.push(client.revoke_token().await.unwrap_err());
    errors.push(client.logout().await.unwrap_err()); // no session
    fake.set_outage(true);
    let outage = client.get_session_info().await.unwrap_err(); // 503 HTML, retried
    assert!(
        matches!(&outage, thoughtspot_session_core::Error::Status(s) if s.status() == 503 && s.is_html()),
        "{outage:?}"
    );
    assert_eq!(fake.count("get session info"), 4, "one call, then three attempts");
    errors.push(outage);
    fake.set_outage(false);
    fake.set_latency(Duration::from_secs(3600)); // on the virtual clock: never answers
    let impatient = SessionClient::builder(server.base_url())
        .api_version(thoughtspot_session_core::ApiVersion::V2Beta)
        .sleep(TokioSleep::new())
        .timeout(Duration::from_millis(300))
        .build(transport)
        .unwrap();
    errors.push(
        impatient
            .get_token(&GetTokenRequest::with_password("analyst", "PW-analyst-7f3"))
            .await
            .unwrap_err(),
    );
    assert!(matches!(
        errors.last(),
        Some(thoughtspot_session_core::Error::Timeout(_))
    ));
    for e in &errors {
        show(format!(
            "{e} {e:?} {e:#?} {:?}",
            std::error::Error::source(e).map(|s| s.to_string())
        ));
    }

    let traces = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(traces.contains("thoughtspot_session"), "the spans were captured");
    // The fake's session ids all start with "JS"; a printed or traced cookie would show as
    // `JSESSIONID=JS…`.
    let secrets = [
        "PW-analyst-7f3",
        "KEY-trusted-9c1",
        "PW-wrong-55",
        "KEY-wrong-66",
        token.as_str(),
        "=JS",
    ];
    for secret in secrets {
        assert!(!printed.contains(secret), "{secret} printed:\n{printed}");
        assert!(!traces.contains(secret), "{secret} traced");
    }
}

#[tokio::test]
async fn reqwest_prints_and_traces_no_secret() {
    let _watchdog =
        thoughtspot_session_tests::Watchdog::start("secret_hygiene::reqwest_prints_and_traces_no_secret");
    run(thoughtspot_session_tests::reqwest).await;
}

#[tokio::test]
async fn hyper_prints_and_traces_no_secret() {
    let _watchdog =
        thoughtspot_session_tests::Watchdog::start("secret_hygiene::hyper_prints_and_traces_no_secret");
    run(thoughtspot_session_tests::hyper).await;
}
