//! BlockingClient from plain `#[test]` functions, against the fake served on loopback,
//! over the reqwest and hyper backends.

use std::sync::Arc;
use std::time::Duration;
use thoughtspot_session_core::v2::GetFullAccessTokenRequest;
use thoughtspot_session_core::{
    ApiVersion, BlockingClient, Error, GetTokenRequest, HttpTransport, LoginRequest, SessionClient,
    TokioSleep,
};
use thoughtspot_session_mock::{FakeServer, FakeThoughtSpot, FakeUser};
use thoughtspot_session_tests::Watchdog;

/// Serves a fake on loopback from a thread of its own; the server lives until the process
/// ends.
fn serve() -> (FakeThoughtSpot, String) {
    let fake = FakeThoughtSpot::builder()
        .user(FakeUser::new("analyst", "pw"))
        .secret_key("key")
        .build();
    let (tx, rx) = std::sync::mpsc::channel();
    let served = fake.clone();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let server = FakeServer::start(served).await.expect("serves");
            tx.send(server.base_url()).expect("sent");
            std::future::pending::<()>().await;
        });
    });
    let url = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the server's URL");
    (fake, url)
}

fn transports() -> [Arc<dyn HttpTransport>; 2] {
    [
        thoughtspot_session_tests::reqwest(Default::default()),
        thoughtspot_session_tests::hyper(Default::default()),
    ]
}

fn blocking(
    url: &str,
    transport: Arc<dyn HttpTransport>,
    version: ApiVersion,
) -> BlockingClient<Arc<dyn HttpTransport>> {
    BlockingClient::new(
        SessionClient::builder(url)
            .sleep(TokioSleep::new())
            .timeout(Duration::from_secs(10))
            .api_version(version)
            .build(transport)
            .expect("valid"),
    )
    .expect("a runtime")
}

#[test]
fn every_operation_as_a_plain_call_on_both_backends() {
    let _watchdog = Watchdog::start("blocking::every_operation_as_a_plain_call_on_both_backends");
    let (fake, url) = serve();
    for transport in transports() {
        for version in [ApiVersion::V2Beta, ApiVersion::V2] {
            let c = blocking(&url, transport.clone(), version);
            let issued = c
                .get_token(&GetTokenRequest::with_secret_key("analyst", "key"))
                .expect("token");
            c.client().use_token(&issued).expect("usable");
            c.login(&LoginRequest::bearer()).expect("login");
            assert_eq!(c.get_session_info().expect("info").user_name(), Some("analyst"));
            assert!(c.logout().expect("logout"));
            let full = c
                .token_full(&GetFullAccessTokenRequest::with_secret_key("analyst", "key"))
                .expect("token/full");
            c.client().set_access_token(full.token).expect("valid");
            assert_eq!(c.session_user().expect("user").name(), "analyst");
            let refused = c
                .login(&LoginRequest::with_password("analyst", "wrong"))
                .expect_err("refused");
            assert!(refused.is_unauthorized(), "{refused}");
        }
    }
    assert!(fake.count("get token") >= 2 && fake.count("token/full") >= 4);
}

#[test]
fn several_threads_share_one_client() {
    let _watchdog = Watchdog::start("blocking::several_threads_share_one_client");
    let (fake, url) = serve();
    let c = blocking(
        &url,
        thoughtspot_session_tests::hyper(Default::default()),
        ApiVersion::V2,
    );
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let c = c.clone();
            std::thread::spawn(move || {
                for _ in 0..20 {
                    c.get_token(&GetTokenRequest::with_secret_key("analyst", "key"))
                        .expect("token");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("no thread panicked");
    }
    assert_eq!(fake.count("token/full"), 160);
}

#[tokio::test]
async fn on_the_thread_that_drives_a_current_thread_runtime_it_refuses_and_drops_without_a_panic() {
    let _watchdog = Watchdog::start(
        "blocking::on_the_thread_that_drives_a_current_thread_runtime_it_refuses_and_drops_without_a_panic",
    );
    let fake = FakeThoughtSpot::builder()
        .user(FakeUser::new("a", "pw"))
        .secret_key("k")
        .build();
    let c = BlockingClient::new(fake.client()).expect("a runtime");
    let request = GetTokenRequest::with_secret_key("a", "k");
    let refused = |e: Error| {
        assert!(matches!(e, Error::InvalidRequest(_)), "{e:?}");
        assert!(e.to_string().contains("spawn_blocking"), "{e}");
    };
    // In the runtime's block_on itself, in a task of it, and in a LocalSet on it.
    refused(c.get_token(&request).expect_err("refused in block_on"));
    let (c2, r2) = (c.clone(), request.clone());
    refused(
        tokio::spawn(async move { c2.get_token(&r2) })
            .await
            .expect("joined")
            .expect_err("refused in a task"),
    );
    let (c3, r3) = (c.clone(), request.clone());
    let local = tokio::task::LocalSet::new();
    refused(
        local
            .run_until(async move { tokio::task::spawn_local(async move { c3.get_token(&r3) }).await })
            .await
            .expect("joined")
            .expect_err("refused in a LocalSet"),
    );
    assert_eq!(fake.count("token/full"), 0, "nothing was sent");
    // The check leaves the task's cooperative budget as it was: a task that was refused many
    // times still runs its timers and channels (a drained budget would yield forever here).
    for _ in 0..1000 {
        let _ = c.get_token(&request);
    }
    tokio::time::timeout(Duration::from_secs(5), tokio::task::yield_now())
        .await
        .expect("the task goes on after refusals");
    drop(c);
}

#[test]
fn on_a_current_thread_runtime_it_works_in_spawn_blocking_and_under_enter() {
    let _watchdog =
        Watchdog::start("blocking::on_a_current_thread_runtime_it_works_in_spawn_blocking_and_under_enter");
    let (fake, url) = serve();
    for transport in transports() {
        for version in [ApiVersion::V2Beta, ApiVersion::V2] {
            let c = blocking(&url, transport.clone(), version);
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            // As `#[tokio::main(flavor = "current_thread")]` runs sync code: spawn_blocking.
            let (c2, request) = (c.clone(), GetTokenRequest::with_secret_key("analyst", "key"));
            let issued = runtime
                .block_on(async move {
                    // The runtime's own thread goes on meanwhile: a timer on it fires while
                    // the blocking thread waits for the call.
                    let ticker = tokio::spawn(tokio::time::sleep(Duration::from_millis(1)));
                    let issued = tokio::task::spawn_blocking(move || {
                        let issued = c2.get_token(&request)?;
                        c2.client().use_token(&issued)?;
                        c2.login(&LoginRequest::bearer())?;
                        Ok::<_, Error>(issued)
                    })
                    .await;
                    ticker.await.expect("the runtime went on");
                    issued
                })
                .expect("joined")
                .expect("a token and a login from spawn_blocking");
            assert!(issued.token().is_some());
            // Under Handle::enter on a plain thread.
            let _entered = runtime.enter();
            assert_eq!(c.get_session_info().expect("info").user_name(), Some("analyst"));
        }
    }
    assert!(fake.count("token/full") >= 2 && fake.count("get token") >= 2);
}

#[test]
fn on_a_multi_thread_runtime_it_works_where_tokio_says_blocking_code_belongs() {
    let _watchdog = Watchdog::start(
        "blocking::on_a_multi_thread_runtime_it_works_where_tokio_says_blocking_code_belongs",
    );
    let (fake, url) = serve();
    let c = blocking(
        &url,
        thoughtspot_session_tests::hyper(Default::default()),
        ApiVersion::V2,
    );
    let request = GetTokenRequest::with_secret_key("analyst", "key");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    // Inside spawn_blocking, the place tokio gives blocking code.
    let (c2, r2) = (c.clone(), request.clone());
    runtime
        .block_on(async move { tokio::task::spawn_blocking(move || c2.get_token(&r2)).await })
        .expect("joined")
        .expect("a token from spawn_blocking");
    // Inside block_in_place on a worker.
    let (c3, r3) = (c.clone(), request.clone());
    runtime
        .block_on(async move {
            tokio::spawn(async move { tokio::task::block_in_place(|| c3.get_token(&r3)) }).await
        })
        .expect("joined")
        .expect("a token from block_in_place");
    // Under Handle::enter on a plain thread.
    {
        let _entered = runtime.enter();
        c.get_token(&request).expect("a token under Handle::enter");
    }
    // On a worker directly: the wait moves the worker's other tasks away first, so the
    // runtime goes on (a timer on it fires meanwhile).
    let (c4, r4) = (c.clone(), request.clone());
    runtime
        .block_on(async move {
            tokio::spawn(async move {
                let ticker = tokio::spawn(tokio::time::sleep(Duration::from_millis(1)));
                let token = c4.get_token(&r4);
                ticker.await.expect("the runtime went on");
                token
            })
            .await
        })
        .expect("joined")
        .expect("a token on a worker");
    assert_eq!(fake.count("token/full"), 4);
}
