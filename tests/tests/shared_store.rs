//! TokenManager replicas sharing one token store (`MemoryTokenStore`, the store seam's
//! in-memory implementation): one fetch across replicas, invalidation everywhere, a store
//! that fails, a replica that dies holding a lease. The same scenarios on real Redis are in
//! the `thoughtspot-session-redis` crate's tests.

use async_trait::async_trait;
use bytes::Bytes;
use std::collections::HashSet;
use std::time::Duration;
use thoughtspot_session_core::{
    AccessToken, Error, HttpTransport, Lease, ManagedToken, SessionClient, StoreError, StoreErrorKind,
    StoreFailure, TokenKey, TokenManager, TokenStore, TokioSleep, TokioSpawn, TransportError,
};
use thoughtspot_session_mock::{FakeThoughtSpot, MemoryTokenStore};
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
    thoughtspot_session_tests::replicas::users(users)
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
        .spawn(TokioSpawn::new())
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
                fake.count("token/full"),
                20,
                "one token/full call per user across replicas"
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
        assert!(replicas[1].invalidate(&key, old.token()).await.removed());
        // A second report of the same token does nothing.
        assert!(!replicas[2].invalidate(&key, old.token()).await.removed());
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
        assert_eq!(fake.count("token/full"), 2);
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
            // Each replica fetched once per user (its own single-flight, then its memory
            // while the store is skipped), nothing was lost.
            let during = fake.count("token/full");
            assert!(
                (4..=12).contains(&during),
                "{during} fetches for 4 users on 3 replicas"
            );
            assert!(replicas.iter().all(|r| r.stats().store_errors > 0));
            assert!(
                replicas.iter().any(|r| r.stats().store_skips > 0),
                "the store was skipped"
            );

            store.set_failing(false);
            // The store is tried again once its back-off window (1 s) has passed.
            fake.clock().advance(Duration::from_secs(1));
            let key = TokenKey::new("user-0");
            let shared = replicas[0].token(&key).await.expect("token");
            for r in &replicas[1..] {
                assert_eq!(r.token(&key).await.expect("token").token(), shared.token());
            }
            assert_eq!(
                fake.count("token/full"),
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
        assert_eq!(fake.count("token/full"), 0);
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
            // The stuck replica takes the lease, then dies as a process dies: none of its
            // code runs again (a cancelled request, unlike this, gives its lease back).
            let mut dying = Box::pin(stuck.token(&key));
            let leased = async {
                while store.leases().is_empty() {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            };
            tokio::select! {
                _ = &mut dying => panic!("the stuck fetch finished"),
                () = leased => {}
            }
            std::mem::forget(dying);
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
                fake.count("token/full"),
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
                !manager.invalidate(&key, old.token()).await.removed(),
                "not known to be removed"
            );
            store.set_failing(false);
            let new = manager.token(&key).await.expect("token");
            assert_ne!(new.token(), old.token());
            // The replica's task removed the rejected token as soon as the store answered
            // (which ends the outage); from then on the token is the store's again.
            assert_eq!(manager.stats().removals_waiting, 0);
            assert!(store.keys().is_empty(), "the rejected token is out of the store");
            let shared = manager.token(&key).await.expect("token");
            assert_ne!(shared.token(), old.token());
            assert_eq!(store.keys(), std::slice::from_ref(&key));
            assert_eq!(manager.token(&key).await.expect("token").token(), shared.token());
        },
    )
    .await;
}

#[test]
fn a_store_needs_a_sleep() {
    let fake = fake(1);
    let e = TokenManager::builder(fake.client(), "key")
        .store(MemoryTokenStore::new())
        .spawn(TokioSpawn::new())
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
                    .spawn(TokioSpawn::new())
                    .sleep(thoughtspot_session_mock::InstantSleep::new())
                    .build()
                    .expect("valid")
            };
            let (a, b) = (replica(&store), replica(&store));
            let key = TokenKey::new("user-0");
            let (x, y) = tokio::join!(a.token(&key), b.token(&key));
            assert_eq!(x.expect("token").token(), y.expect("token").token());
            assert_eq!(fake.count("token/full"), 1);
        },
    )
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_planted_lease_with_no_expiry_costs_a_request_the_stated_bound_at_most() {
    let _watch = Watchdog::start("a_planted_lease_with_no_expiry_costs_a_request_the_stated_bound_at_most");
    within("a_planted_lease", async {
        let fake = fake(1);
        let store = store_of(&fake);
        let key = TokenKey::new("user-0");
        // Anyone who can write to the store plants a lease that never lapses.
        store.plant_lease(&key, "intruder", Duration::from_secs(365 * 24 * 3600));
        let replicas: Vec<_> = (0..3).map(|_| replica(&fake, &store)).collect();
        for r in &replicas {
            let waiting = tokio::spawn({
                let (r, key) = (r.clone(), key.clone());
                async move { r.token(&key).await }
            });
            // The bound is the lease time plus one poll (5 s + 25 ms here), on the
            // manager's clock: move it past, as time passes.
            while !waiting.is_finished() {
                tokio::time::sleep(Duration::from_millis(25)).await;
                fake.clock().advance(Duration::from_millis(250));
            }
            let token = waiting.await.expect("task").expect("a token by the policy");
            assert_eq!(owner(&fake, token.token()).as_deref(), Some("user-0"));
            assert_eq!(r.stats().store_wait_timeouts, 1);
            assert_eq!(r.stats().store_fallbacks, 1);
        }
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_fetch_gives_its_lease_back_at_once() {
    let _watch = Watchdog::start("a_cancelled_fetch_gives_its_lease_back_at_once");
    within("a_cancelled_fetch", async {
        let fake = fake(100);
        let store = store_of(&fake);
        let stuck = replica_with(&fake, &store, true, StoreFailure::FetchLocally);
        let healthy = replica(&fake, &store);
        // 100 fetches start (one per user), take their leases and are cancelled mid-flight,
        // as browser aborts or a load balancer's timeouts cancel them.
        let fetches: Vec<_> = (0..100)
            .map(|n| {
                let (stuck, key) = (stuck.clone(), TokenKey::new(format!("user-{n}")));
                tokio::spawn(async move { stuck.token(&key).await })
            })
            .collect();
        while store.leases().len() < 100 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        for f in &fetches {
            f.abort();
        }
        for f in fetches {
            let _ = f.await;
        }
        assert!(store.leases().is_empty(), "every lease was given back");
        for n in 0..100 {
            healthy
                .token(&TokenKey::new(format!("user-{n}")))
                .await
                .expect("token");
        }
        assert_eq!(healthy.stats().store_waits, 0, "no request waited for a lease");
        assert_eq!(fake.count("token/full"), 100, "one token/full per key");
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_fetch_slower_than_the_lease_keeps_it_and_one_token_wins() {
    let _watch = Watchdog::start("a_fetch_slower_than_the_lease_keeps_it_and_one_token_wins");
    within("a_fetch_slower_than_the_lease", async {
        let fake = fake(1);
        let store = store_of(&fake);
        // The cluster answers after 3 s (tokio's clock); leases last 1 s on the fake clock,
        // which moves with tokio's here.
        let slow = |fake: &FakeThoughtSpot| {
            let client = fake
                .client_builder()
                .sleep(TokioSleep::new())
                .build(Delayed {
                    fake: fake.clone(),
                    delay: Duration::from_secs(3),
                    hang: false,
                })
                .expect("valid");
            TokenManager::builder(client, "key")
                .clock(fake.clock().clone())
                .store(store.clone())
                .spawn(TokioSpawn::new())
                .sleep(TokioSleep::new())
                .lease_time(Duration::from_secs(1))
                .store_wait(Duration::from_secs(30))
                .build()
                .expect("valid")
        };
        let (a, b) = (slow(&fake), slow(&fake));
        let key = TokenKey::new("user-0");
        let first = tokio::spawn({
            let (a, key) = (a.clone(), key.clone());
            async move { a.token(&key).await }
        });
        let second = tokio::spawn({
            let (b, key) = (b.clone(), key.clone());
            async move {
                tokio::time::sleep(Duration::from_millis(100)).await;
                b.token(&key).await
            }
        });
        let ticker = tokio::spawn({
            let fake = fake.clone();
            async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    fake.clock().advance(Duration::from_millis(50));
                }
            }
        });
        let (x, y) = (
            first.await.expect("task").expect("token"),
            second.await.expect("task").expect("token"),
        );
        ticker.abort();
        assert_eq!(x.token(), y.token(), "one token for both: the lease held");
        assert_eq!(fake.count("token/full"), 1);
        assert_eq!(a.stats().leases_lost + b.stats().leases_lost, 0);
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_sign_out_during_an_outage_is_deferred_then_made_and_never_served_meanwhile() {
    let _watch =
        Watchdog::start("a_sign_out_during_an_outage_is_deferred_then_made_and_never_served_meanwhile");
    within("a_sign_out_during_an_outage", async {
        let fake = fake(1);
        let store = store_of(&fake);
        let (a, b) = (replica(&fake, &store), replica(&fake, &store));
        let key = TokenKey::new("user-0");
        let before = a.token(&key).await.expect("token");
        assert_eq!(b.token(&key).await.expect("token").token(), before.token());
        store.set_failing(true);
        assert_eq!(a.evict(&key).await, thoughtspot_session_core::Removal::Deferred);
        assert_eq!(a.stats().removals_deferred, 1);
        // Meanwhile a never serves it: the store is skipped, its memory has none.
        assert_ne!(a.token(&key).await.expect("token").token(), before.token());
        store.set_failing(false);
        fake.clock().advance(Duration::from_secs(1)); // the back-off window
        // The first request through the store makes the removal before anything is served.
        let after = a.token(&key).await.expect("token");
        assert_ne!(after.token(), before.token());
        for r in [&a, &b] {
            fake.clock().advance(Duration::from_secs(1));
            assert_ne!(r.token(&key).await.expect("token").token(), before.token());
        }
    })
    .await;
}

/// A store one of whose keys is out of reach while the others answer: a Redis Cluster with
/// the primary holding that key's slot down.
#[derive(Debug, Clone)]
struct OneShardDown {
    store: MemoryTokenStore,
    down: &'static str,
}

impl OneShardDown {
    fn reach(&self, key: &TokenKey) -> Result<(), StoreError> {
        if key.user() == self.down {
            return Err(StoreError::new(
                StoreErrorKind::Unavailable,
                "this key's shard is down",
            ));
        }
        Ok(())
    }
}

#[async_trait]
impl TokenStore for OneShardDown {
    async fn get(&self, key: &TokenKey) -> Result<Option<ManagedToken>, StoreError> {
        self.reach(key)?;
        self.store.get(key).await
    }

    async fn put(
        &self,
        key: &TokenKey,
        token: &ManagedToken,
        ttl: Duration,
        lease: &Lease,
    ) -> Result<bool, StoreError> {
        self.reach(key)?;
        self.store.put(key, token, ttl, lease).await
    }

    async fn remove(
        &self,
        key: &TokenKey,
        token: Option<&AccessToken>,
    ) -> Result<Option<ManagedToken>, StoreError> {
        self.reach(key)?;
        self.store.remove(key, token).await
    }

    async fn try_lease(&self, key: &TokenKey, ttl: Duration, lease: &Lease) -> Result<bool, StoreError> {
        self.reach(key)?;
        self.store.try_lease(key, ttl, lease).await
    }

    async fn renew(&self, key: &TokenKey, lease: &Lease, ttl: Duration) -> Result<bool, StoreError> {
        self.reach(key)?;
        self.store.renew(key, lease, ttl).await
    }

    async fn release(&self, key: &TokenKey, lease: Lease) -> Result<(), StoreError> {
        self.reach(key)?;
        self.store.release(key, lease).await
    }
}

/// While one key's shard is down, its token is fetched once by a replica and kept as the
/// spare, even when a request for another key ends the replica's back-off (the store
/// answered it) while that fetch is under way: the next failure for the key serves the
/// spare, it does not fetch again.
#[tokio::test(start_paused = true)]
async fn with_one_shard_down_a_key_is_fetched_once_though_other_keys_answer_meanwhile() {
    let name = "with_one_shard_down_a_key_is_fetched_once_though_other_keys_answer_meanwhile";
    let _watch = Watchdog::start(name);
    within(name, async {
        let fake = fake(2);
        let store = OneShardDown {
            store: store_of(&fake),
            down: "user-0",
        };
        let client = fake
            .client_builder()
            .sleep(TokioSleep::new())
            .build(Delayed {
                fake: fake.clone(),
                delay: Duration::from_millis(40),
                hang: false,
            })
            .expect("valid");
        let replica = TokenManager::builder(client, "key")
            .clock(fake.clock().clone())
            .store(store)
            .spawn(TokioSpawn::new())
            .sleep(TokioSleep::new())
            .build()
            .expect("valid");
        let (down, up) = (TokenKey::new("user-0"), TokenKey::new("user-1"));
        let fetching = tokio::spawn({
            let (replica, down) = (replica.clone(), down.clone());
            async move { replica.token(&down).await }
        });
        // The store failed for user-0 (the breaker opened) and its fetch alone is under
        // way; the back-off passes and a request for user-1 finds the store answering.
        tokio::time::sleep(Duration::from_millis(10)).await;
        fake.clock().advance(Duration::from_secs(1));
        replica.token(&up).await.expect("user-1 through the store");
        let first = fetching.await.expect("ran").expect("user-0 fetched alone");
        for _ in 0..3 {
            let again = replica.token(&down).await.expect("user-0");
            assert_eq!(
                again.token(),
                first.token(),
                "the spare is served, not a new token"
            );
        }
        let fetched = fake.tokens().iter().filter(|t| t.user == "user-0").count();
        assert_eq!(fetched, 1, "user-0 fetched once while its shard is down");
        // The first failure fetched alone, the second served the spare; the breaker then
        // skipped the store and memory served the rest.
        let stats = replica.stats();
        assert_eq!((stats.store_fallbacks, stats.fetches), (2, 2), "{stats:?}");
    })
    .await;
}
