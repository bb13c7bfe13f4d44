//! TokenManager replicas sharing one token store (`MemoryTokenStore`, the store seam's
//! in-memory implementation): one fetch across replicas, invalidation everywhere, a store
//! that fails, a replica that dies holding a lease. The same scenarios on real Redis are in
//! the `thoughtspot-session-redis` crate's tests.

use async_trait::async_trait;
use bytes::Bytes;
use std::collections::HashSet;
use std::time::Duration;
use thoughtspot_session_core::{
    Error, HttpTransport, SessionClient, StoreFailure, TokenKey, TokenManager, TokioSleep, TransportError,
};
use thoughtspot_session_mock::{FakeThoughtSpot, FakeUser, MemoryTokenStore};
use thoughtspot_session_tests::replicas::{owner, tokens_at_once};
use thoughtspot_session_tests::{Watchdog, within};

/// The fake behind a delay on tokio's clock, so that calls overlap as over a network.
#[derive(Debug, Clone)]
struct Delayed {
    fake: FakeThoughtSpot,
    delay: Duration,
    /// Never answers: a replica stuck in a fetch.
    hang: bool,
}

#[async_trait]
impl HttpTransport for Delayed {
    async fn send(&self, request: http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError> {
        if self.hang {
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(self.delay).await;
        self.fake.send(request).await
    }
}

fn fake(users: usize) -> FakeThoughtSpot {
    let mut b = FakeThoughtSpot::builder()
        .secret_key("key")
        .token_lifetime(Duration::from_secs(600));
    for n in 0..users {
        b = b.user(FakeUser::new(format!("user-{n}"), "pw"));
    }
    b.build()
}

fn replica_with(
    fake: &FakeThoughtSpot,
    store: &MemoryTokenStore,
    hang: bool,
    failure: StoreFailure,
) -> TokenManager<SessionClient<Delayed>> {
    let client = fake
        .client_builder()
        .sleep(TokioSleep::new())
        .build(Delayed {
            fake: fake.clone(),
            delay: Duration::from_millis(40),
            hang,
        })
        .expect("valid");
    TokenManager::builder(client, "key")
        .clock(fake.clock().clone())
        .store(store.clone())
        .sleep(TokioSleep::new())
        .lease_time(Duration::from_secs(5))
        .on_store_failure(failure)
        .build()
        .expect("valid")
}

fn replica(fake: &FakeThoughtSpot, store: &MemoryTokenStore) -> TokenManager<SessionClient<Delayed>> {
    replica_with(fake, store, false, StoreFailure::FetchLocally)
}

fn store_of(fake: &FakeThoughtSpot) -> MemoryTokenStore {
    MemoryTokenStore::with_clock(fake.clock().clone())
}

#[tokio::test(start_paused = true)]
async fn concurrent_requests_on_three_replicas_make_one_fetch_per_user() {
    let _watch = Watchdog::start("concurrent_requests_on_three_replicas_make_one_fetch_per_user");
    within(
        "concurrent_requests_on_three_replicas_make_one_fetch_per_user",
        async {
            let fake = fake(20);
            let store = store_of(&fake);
            let replicas: Vec<_> = (0..3).map(|_| replica(&fake, &store)).collect();
            let per_user = tokens_at_once(&fake, &replicas, 600, 20, 0).await;
            assert_eq!(
                fake.count("get token"),
                20,
                "one get token call per user across replicas"
            );
            assert!(
                per_user.values().all(|tokens| tokens.len() == 1),
                "one token per user everywhere"
            );
            let waits: u64 = replicas.iter().map(|r| r.stats().store_waits).sum();
            assert!(waits > 0, "some replicas waited for another's fetch");
        },
    )
    .await;
}

#[tokio::test(start_paused = true)]
async fn an_invalidation_on_one_replica_reaches_every_replica() {
    let _watch = Watchdog::start("an_invalidation_on_one_replica_reaches_every_replica");
    within("an_invalidation_on_one_replica_reaches_every_replica", async {
        let fake = fake(1);
        let store = store_of(&fake);
        let replicas: Vec<_> = (0..3).map(|_| replica(&fake, &store)).collect();
        let key = TokenKey::new("user-0");
        let old = replicas[0].token(&key).await.expect("token");
        for r in &replicas {
            assert_eq!(r.token(&key).await.expect("token").token(), old.token());
        }
        assert!(replicas[1].invalidate(&key, old.token()).await);
        // A second report of the same token does nothing.
        assert!(!replicas[2].invalidate(&key, old.token()).await);
        let mut new = HashSet::new();
        for r in &replicas {
            let token = r.token(&key).await.expect("token");
            assert_ne!(
                token.token(),
                old.token(),
                "no replica serves the invalidated token"
            );
            new.insert(token.token().secret().to_owned());
        }
        assert_eq!(new.len(), 1, "the replacement is shared too");
        assert_eq!(fake.count("get token"), 2);
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_failing_store_falls_back_to_fetching_and_sharing_resumes_after() {
    let _watch = Watchdog::start("a_failing_store_falls_back_to_fetching_and_sharing_resumes_after");
    within(
        "a_failing_store_falls_back_to_fetching_and_sharing_resumes_after",
        async {
            let fake = fake(4);
            let store = store_of(&fake);
            let replicas: Vec<_> = (0..3).map(|_| replica(&fake, &store)).collect();
            store.set_failing(true);
            tokens_at_once(&fake, &replicas, 60, 4, 0).await;
            // Each replica fetched once per user (its own single-flight), nothing was lost.
            let during = fake.count("get token");
            assert!(
                (4..=12).contains(&during),
                "{during} fetches for 4 users on 3 replicas"
            );
            let fallbacks: u64 = replicas.iter().map(|r| r.stats().store_fallbacks).sum();
            assert_eq!(fallbacks, during as u64);
            assert!(replicas.iter().all(|r| r.stats().store_errors > 0));

            store.set_failing(false);
            let key = TokenKey::new("user-0");
            let shared = replicas[0].token(&key).await.expect("token");
            for r in &replicas[1..] {
                assert_eq!(r.token(&key).await.expect("token").token(), shared.token());
            }
            assert_eq!(
                fake.count("get token"),
                during + 1,
                "sharing resumed: one fetch for all"
            );
        },
    )
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_failing_store_fails_requests_when_so_configured() {
    let _watch = Watchdog::start("a_failing_store_fails_requests_when_so_configured");
    within("a_failing_store_fails_requests_when_so_configured", async {
        let fake = fake(1);
        let store = store_of(&fake);
        let manager = replica_with(&fake, &store, false, StoreFailure::Fail);
        store.set_failing(true);
        let e = manager.token(&TokenKey::new("user-0")).await.unwrap_err();
        assert!(matches!(e, Error::Store(_)), "{e:?}");
        assert!(e.to_string().starts_with("token store:"), "{e}");
        assert_eq!(fake.count("get token"), 0);
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_replica_that_dies_holding_the_lease_holds_the_others_up_only_until_it_lapses() {
    let _watch =
        Watchdog::start("a_replica_that_dies_holding_the_lease_holds_the_others_up_only_until_it_lapses");
    within(
        "a_replica_that_dies_holding_the_lease_holds_the_others_up_only_until_it_lapses",
        async {
            let fake = fake(1);
            let store = store_of(&fake);
            let stuck = replica_with(&fake, &store, true, StoreFailure::FetchLocally);
            let healthy = replica(&fake, &store);
            let key = TokenKey::new("user-0");
            let dying = tokio::spawn({
                let (stuck, key) = (stuck.clone(), key.clone());
                async move { stuck.token(&key).await }
            });
            tokio::time::sleep(Duration::from_millis(100)).await; // it holds the lease now
            dying.abort(); // the replica dies mid-fetch; its lease stays in the store
            let waiting = tokio::spawn({
                let (healthy, key) = (healthy.clone(), key.clone());
                async move { healthy.token(&key).await }
            });
            tokio::time::sleep(Duration::from_secs(1)).await;
            assert!(!waiting.is_finished(), "the lease still holds");
            assert!(healthy.stats().store_waits > 0);
            fake.clock().advance(Duration::from_secs(6)); // past the 5 s lease
            let token = waiting
                .await
                .expect("task")
                .expect("a token after the lease lapsed");
            assert_eq!(owner(&fake, token.token()).as_deref(), Some("user-0"));
            assert_eq!(
                fake.count("get token"),
                1,
                "the dead replica's call never reached the cluster"
            );
        },
    )
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_token_rejected_while_the_store_is_down_is_not_served_after() {
    let _watch = Watchdog::start("a_token_rejected_while_the_store_is_down_is_not_served_after");
    within(
        "a_token_rejected_while_the_store_is_down_is_not_served_after",
        async {
            let fake = fake(1);
            let store = store_of(&fake);
            let manager = replica(&fake, &store);
            let key = TokenKey::new("user-0");
            let old = manager.token(&key).await.expect("token");
            store.set_failing(true);
            assert!(
                !manager.invalidate(&key, old.token()).await,
                "not known to be removed"
            );
            store.set_failing(false);
            let new = manager.token(&key).await.expect("token");
            assert_ne!(new.token(), old.token());
            assert_eq!(store.keys(), std::slice::from_ref(&key));
            assert_eq!(manager.token(&key).await.expect("token").token(), new.token());
        },
    )
    .await;
}

#[test]
fn a_store_needs_a_sleep() {
    let fake = fake(1);
    let e = TokenManager::builder(fake.client(), "key")
        .store(MemoryTokenStore::new())
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("sleep"), "{e}");
}

#[tokio::test(flavor = "current_thread")]
async fn replicas_on_one_thread_with_a_sleep_that_never_waits_still_make_progress() {
    let _watch = Watchdog::start("replicas_on_one_thread_with_a_sleep_that_never_waits_still_make_progress");
    within(
        "replicas_on_one_thread_with_a_sleep_that_never_waits_still_make_progress",
        async {
            // The fake answers after a tokio sleep, so the lease holder must be polled again
            // while the other replica waits with a sleep that is ready at once.
            let fake = fake(1);
            let store = store_of(&fake);
            let replica = |store: &MemoryTokenStore| {
                let client = fake
                    .client_builder()
                    .sleep(TokioSleep::new())
                    .build(Delayed {
                        fake: fake.clone(),
                        delay: Duration::from_millis(20),
                        hang: false,
                    })
                    .expect("valid");
                TokenManager::builder(client, "key")
                    .clock(fake.clock().clone())
                    .store(store.clone())
                    .sleep(thoughtspot_session_mock::InstantSleep::new())
                    .build()
                    .expect("valid")
            };
            let (a, b) = (replica(&store), replica(&store));
            let key = TokenKey::new("user-0");
            let (x, y) = tokio::join!(a.token(&key), b.token(&key));
            assert_eq!(x.expect("token").token(), y.expect("token").token());
            assert_eq!(fake.count("get token"), 1);
        },
    )
    .await;
}
