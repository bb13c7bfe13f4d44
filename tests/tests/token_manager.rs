//! TokenManager on FakeThoughtSpot and its virtual clock.

use std::time::{Duration, SystemTime};
use thoughtspot_session_core::{ApiVersion, Error, SessionClient, TokenKey, TokenManager};
use thoughtspot_session_mock::{ExpiryFormat, FakeThoughtSpot, FakeUser, ManualClock};

fn fake(users: usize) -> FakeThoughtSpot {
    let mut b = FakeThoughtSpot::builder()
        .secret_key("key")
        .token_lifetime(Duration::from_secs(300));
    for n in 0..users {
        b = b.user(FakeUser::new(format!("user-{n}"), "pw").orgs([0, 7]));
    }
    b.build()
}

/// A client of `version` whose timeouts run on the fake's virtual clock, so latency holds
/// calls open.
fn client_of(fake: &FakeThoughtSpot, version: ApiVersion) -> SessionClient<FakeThoughtSpot> {
    fake.client_builder()
        .sleep(fake.clock().clone())
        .api_version(version)
        .build(fake.clone())
        .expect("valid")
}

fn manager_of(
    fake: &FakeThoughtSpot,
    version: ApiVersion,
) -> thoughtspot_session_core::TokenManagerBuilder<SessionClient<FakeThoughtSpot>> {
    TokenManager::builder(client_of(fake, version), "key").clock(fake.clock().clone())
}

/// Tokens the fake minted on either generation (get token, token/full, token/object).
fn minted(fake: &FakeThoughtSpot) -> usize {
    ["get token", "token/full", "token/object"]
        .iter()
        .map(|op| fake.count(op))
        .sum()
}

async fn until_sleeping(fake: &FakeThoughtSpot, sleeps: usize) {
    while fake.clock().pending_sleeps() < sleeps {
        tokio::task::yield_now().await;
    }
}

/// Every test below runs on both API generations: the manager works over `SessionApi`.
macro_rules! on_both_generations {
    ($($generation:ident: $version:expr),*) => {$(
        mod $generation {
            use super::*;

            fn client(fake: &FakeThoughtSpot) -> SessionClient<FakeThoughtSpot> {
                client_of(fake, $version)
            }

            fn manager(
                fake: &FakeThoughtSpot,
            ) -> thoughtspot_session_core::TokenManagerBuilder<SessionClient<FakeThoughtSpot>> {
                manager_of(fake, $version)
            }

        #[tokio::test]
        async fn cached_until_the_skew_margin_then_refreshed() {
            let _watchdog = thoughtspot_session_tests::Watchdog::start(
                "token_manager::cached_until_the_skew_margin_then_refreshed",
            );
            let fake = fake(1);
            let m = manager(&fake).skew(Duration::from_secs(60)).build().unwrap();
            let key = TokenKey::new("user-0");
            let first = m.token(&key).await.unwrap();
            assert_eq!(
                first.expires_at().duration_since(first.issued_at()).unwrap(),
                Duration::from_secs(300)
            );
            fake.clock().advance(Duration::from_secs(239));
            assert_eq!(m.token(&key).await.unwrap(), first, "valid for 61 s more: served");
            fake.clock().advance(Duration::from_secs(2));
            let second = m.token(&key).await.unwrap();
            assert_ne!(second.token(), first.token(), "valid for 59 s only: refreshed");
            assert_eq!(minted(&fake), 2);
            let s = m.stats();
            assert_eq!((s.hits, s.misses, s.fetches, s.errors, s.cached), (1, 2, 2, 0, 1));
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn a_thousand_concurrent_requests_for_ten_users_make_ten_calls() {
            let _watchdog = thoughtspot_session_tests::Watchdog::start(
                "token_manager::a_thousand_concurrent_requests_for_ten_users_make_ten_calls",
            );
            let fake = fake(10);
            fake.set_latency(Duration::from_secs(1));
            let m = manager(&fake).build().unwrap();
            let tasks: Vec<_> = (0..1000)
                .map(|n| {
                    let m = m.clone();
                    tokio::spawn(async move {
                        let key = TokenKey::new(format!("user-{}", n % 10));
                        (n % 10, m.token(&key).await)
                    })
                })
                .collect();
            // The ten get token calls (and their clients' whole-call timeouts) wait on the clock.
            until_sleeping(&fake, 20).await;
            fake.clock().advance(Duration::from_secs(1));
            let mut per_user: Vec<Option<String>> = vec![None; 10];
            for task in tasks {
                let (user, result) = task.await.unwrap();
                let token = result.unwrap().token().secret().to_owned();
                let seen = per_user[user].get_or_insert_with(|| token.clone());
                assert_eq!(*seen, token, "one token per user");
            }
            assert_eq!(minted(&fake), 10);
            let s = m.stats();
            assert_eq!((s.fetches, s.misses, s.joined + s.hits), (10, 10, 990));
            for (n, token) in per_user.iter().enumerate() {
                let issued = fake
                    .tokens()
                    .into_iter()
                    .find(|t| t.user == format!("user-{n}"))
                    .unwrap();
                assert_eq!(Some(issued.token.secret()), token.as_deref());
            }
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn a_failed_fetch_reaches_every_waiter_and_the_next_request_retries() {
            let _watchdog = thoughtspot_session_tests::Watchdog::start(
                "token_manager::a_failed_fetch_reaches_every_waiter_and_the_next_request_retries",
            );
            let fake = fake(1);
            fake.set_latency(Duration::from_secs(1));
            fake.fail_next(1, 500);
            let m = manager(&fake).build().unwrap();
            let key = TokenKey::new("user-0");
            let tasks: Vec<_> = (0..100)
                .map(|_| {
                    let (m, key) = (m.clone(), key.clone());
                    tokio::spawn(async move { m.token(&key).await })
                })
                .collect();
            // Every request has joined the one fetch before it is let through (a request arriving
            // after the failure would start a fetch of its own, as it should).
            until_sleeping(&fake, 2).await;
            while m.stats().joined < 99 {
                tokio::task::yield_now().await;
            }
            fake.clock().advance(Duration::from_secs(1));
            for task in tasks {
                let e = task.await.unwrap().unwrap_err();
                assert!(
                    matches!(&e, Error::Api(api) if api.status() == 500),
                    "{e:?}"
                );
            }
            assert_eq!((m.stats().fetches, m.stats().errors, m.stats().cached), (1, 1, 0));

            fake.set_latency(Duration::ZERO);
            assert!(m.token(&key).await.is_ok(), "the failure was not cached");
            assert_eq!(minted(&fake), 2);
        }

        #[tokio::test]
        async fn the_least_recently_used_key_is_evicted() {
            let _watchdog =
                thoughtspot_session_tests::Watchdog::start("token_manager::the_least_recently_used_key_is_evicted");
            let fake = fake(3);
            let m = manager(&fake).max_keys(2).build().unwrap();
            let [a, b, c] = [0, 1, 2].map(|n| TokenKey::new(format!("user-{n}")));
            m.token(&a).await.unwrap();
            m.token(&b).await.unwrap();
            m.token(&a).await.unwrap();
            m.token(&c).await.unwrap();
            assert_eq!(m.cached_keys(), [a.clone(), c.clone()]);
            assert_eq!(m.stats().evictions, 1);
            m.token(&b).await.unwrap();
            assert_eq!(m.cached_keys(), [c, b]);
            assert_eq!(minted(&fake), 4);
        }

        #[tokio::test]
        async fn keys_keep_orgs_and_access_levels_apart() {
            let _watchdog =
                thoughtspot_session_tests::Watchdog::start("token_manager::keys_keep_orgs_and_access_levels_apart");
            let fake = FakeThoughtSpot::builder()
                .user(FakeUser::new("u", "pw").orgs([0, 7]))
                .secret_key("key")
                .object("obj-1")
                .build();
            let m = manager(&fake).build().unwrap();
            let full = m.token(&TokenKey::new("u")).await.unwrap();
            let org7 = m.token(&TokenKey::new("u").with_org_id("7")).await.unwrap();
            let view = m
                .token(&TokenKey::new("u").with_report_book_view("obj-1"))
                .await
                .unwrap();
            assert_ne!(full.token(), org7.token());
            assert_ne!(org7.token(), view.token());
            let orgs: Vec<u64> = [&full, &org7]
                .iter()
                .map(|t| {
                    fake.tokens()
                        .into_iter()
                        .find(|r| &r.token == t.token())
                        .unwrap()
                        .org_id
                })
                .collect();
            assert_eq!(orgs, [0, 7]);
            assert_eq!(m.stats().cached, 3);
        }

        #[tokio::test]
        async fn invalidate_revokes_and_refresh_mints_a_new_token() {
            let _watchdog = thoughtspot_session_tests::Watchdog::start(
                "token_manager::invalidate_revokes_and_refresh_mints_a_new_token",
            );
            let fake = fake(1);
            let m = manager(&fake).revoke_on_invalidate(true).build().unwrap();
            let key = TokenKey::new("user-0");
            let first = m.token(&key).await.unwrap();
            let second = m.refresh(&key, first.token()).await.unwrap();
            assert_ne!(first.token(), second.token());
            let revoked: Vec<bool> = fake.tokens().iter().map(|t| t.revoked).collect();
            assert_eq!(revoked.iter().filter(|r| **r).count(), 1);
            assert!(
                !m.invalidate(&key, first.token()).await.removed(),
                "first is no longer cached"
            );
            assert!(m.invalidate(&key, second.token()).await.removed());
            assert!(!m.evict(&key).await.removed(), "nothing cached any more");
            assert!(fake.live_tokens().is_empty());
            assert!(
                m.api().access_token().is_none(),
                "revoking a handed-out token leaves the client's state alone"
            );
        }

        #[tokio::test]
        async fn two_reports_of_one_rejected_token_make_one_new_token() {
            let _watchdog = thoughtspot_session_tests::Watchdog::start(
                "token_manager::two_reports_of_one_rejected_token_make_one_new_token",
            );
            let fake = fake(1);
            let m = manager(&fake).revoke_on_invalidate(true).build().unwrap();
            let key = TokenKey::new("user-0");
            let rejected = m.token(&key).await.unwrap();
            // Two tabs report the same token, one after the other.
            let tab1 = m.refresh(&key, rejected.token()).await.unwrap();
            let tab2 = m.refresh(&key, rejected.token()).await.unwrap();
            assert_ne!(tab1.token(), rejected.token());
            assert_eq!(
                tab1.token(),
                tab2.token(),
                "the second report keeps the replacement"
            );
            assert_eq!(minted(&fake), 2);
            assert_eq!(["revoke token", "token/revoke"].iter().map(|op| fake.count(op)).sum::<usize>(), 1, "the replacement is never revoked");
            assert_eq!(fake.live_tokens().len(), 1);
        }

        #[tokio::test]
        async fn a_failed_revocation_is_counted_not_returned() {
            let _watchdog = thoughtspot_session_tests::Watchdog::start(
                "token_manager::a_failed_revocation_is_counted_not_returned",
            );
            let fake = fake(1);
            let m = manager(&fake).revoke_on_invalidate(true).build().unwrap();
            let key = TokenKey::new("user-0");
            let rejected = m.token(&key).await.unwrap();
            // The token is already revoked on the cluster (as a rejected token usually is): the
            // revocation answers 401.
            assert!(client(&fake).revoke_access_token(rejected.token()).await.unwrap());
            let fresh = m
                .refresh(&key, rejected.token())
                .await
                .expect("a new token all the same");
            assert_ne!(fresh.token(), rejected.token());
            assert_eq!(m.stats().revoke_errors, 1);
            assert!(fake.live_tokens().iter().any(|t| &t.token == fresh.token()));
        }

        /// Freshness rests on the manager's clock: a cluster clock hours off either way neither
        /// disables caching nor serves an expired token.
        #[tokio::test]
        async fn a_cluster_clock_hours_off_changes_nothing() {
            let _watchdog = thoughtspot_session_tests::Watchdog::start(
                "token_manager::a_cluster_clock_hours_off_changes_nothing",
            );
            let local = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
            for format in [ExpiryFormat::Seconds, ExpiryFormat::AbsoluteMillis] {
                for offset_hours in [-5i64, -1, 0, 1, 5] {
                    let offset = Duration::from_secs(offset_hours.unsigned_abs() * 3600);
                    let cluster_now = if offset_hours < 0 {
                        local - offset
                    } else {
                        local + offset
                    };
                    let fake = FakeThoughtSpot::builder()
                        .user(FakeUser::new("u", "pw"))
                        .secret_key("key")
                        .token_lifetime(Duration::from_secs(300))
                        .expiry_format(format)
                        .clock(ManualClock::starting_at(cluster_now))
                        .build();
                    let manager_clock = ManualClock::starting_at(local);
                    let m = TokenManager::builder(client(&fake), "key")
                        .clock(manager_clock.clone())
                        .build()
                        .unwrap();
                    let key = TokenKey::new("u");
                    let first = m.token(&key).await.unwrap();
                    let case = format!("{format:?}, cluster {offset_hours:+} h");
                    assert_eq!(first.expires_at(), local + Duration::from_secs(300), "{case}");
                    for advance in [Duration::from_secs(200), Duration::from_secs(39)] {
                        fake.clock().advance(advance);
                        manager_clock.advance(advance);
                        assert_eq!(m.token(&key).await.unwrap(), first, "{case}: cached");
                    }
                    fake.clock().advance(Duration::from_secs(2));
                    manager_clock.advance(Duration::from_secs(2));
                    let second = m.token(&key).await.unwrap();
                    assert_ne!(second.token(), first.token(), "{case}: within the skew, replaced");
                    assert_eq!(minted(&fake), 2, "{case}");
                }
            }
        }

        #[test]
        fn the_builder_refuses_configurations_that_cannot_work() {
            let fake = fake(1);
            let err = |b: thoughtspot_session_core::TokenManagerBuilder<SessionClient<FakeThoughtSpot>>| {
                b.build().map(|_| ()).unwrap_err().to_string()
            };
            assert!(err(manager(&fake).max_keys(0)).contains("max_keys"));
            assert!(err(manager(&fake).token_lifetime(Duration::from_secs(60))).contains("skew"));
            assert!(err(manager(&fake).skew(Duration::from_secs(300))).contains("fallback_lifetime"));
            assert!(err(manager(&fake).fallback_lifetime(Duration::MAX)).contains("at most a year"));
            assert!(err(manager(&fake).token_lifetime(Duration::ZERO)).contains("longer than zero"));
            // An explicit fallback is kept beside an asked lifetime.
            manager(&fake)
                .token_lifetime(Duration::from_secs(600))
                .fallback_lifetime(Duration::from_secs(120))
                .build()
                .unwrap();
        }

        #[tokio::test]
        async fn fresh_every_time_never_reuses_a_token() {
            let _watchdog =
                thoughtspot_session_tests::Watchdog::start("token_manager::fresh_every_time_never_reuses_a_token");
            let fake = fake(1);
            let m = manager(&fake).fresh_every_time(true).build().unwrap();
            let key = TokenKey::new("user-0");
            let a = m.token(&key).await.unwrap();
            let b = m.token(&key).await.unwrap();
            assert_ne!(a.token(), b.token());
            assert_eq!((m.stats().fetches, m.stats().cached), (2, 0));
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn a_cancelled_fetch_hands_over_to_a_waiter() {
            let _watchdog =
                thoughtspot_session_tests::Watchdog::start("token_manager::a_cancelled_fetch_hands_over_to_a_waiter");
            let fake = fake(1);
            fake.set_latency(Duration::from_secs(1));
            let m = manager(&fake).build().unwrap();
            let key = TokenKey::new("user-0");
            let leader = tokio::spawn({
                let (m, key) = (m.clone(), key.clone());
                async move { m.token(&key).await }
            });
            until_sleeping(&fake, 2).await;
            let waiter = tokio::spawn({
                let (m, key) = (m.clone(), key.clone());
                async move { m.token(&key).await }
            });
            while m.stats().joined == 0 {
                tokio::task::yield_now().await;
            }
            leader.abort();
            assert!(leader.await.unwrap_err().is_cancelled());
            // The waiter runs its own fetch: wait for it to be held by the latency too.
            until_sleeping(&fake, 2).await;
            fake.clock().advance(Duration::from_secs(1));
            assert!(waiter.await.unwrap().is_ok());
            assert_eq!(m.stats().misses, 2);
        }

        #[tokio::test]
        async fn debug_shows_keys_never_tokens() {
            let _watchdog =
                thoughtspot_session_tests::Watchdog::start("token_manager::debug_shows_keys_never_tokens");
            let fake = fake(1);
            let m = manager(&fake).build().unwrap();
            let t = m.token(&TokenKey::new("user-0")).await.unwrap();
            let printed = format!("{m:?} {t:?}");
            assert!(printed.contains("user-0"), "{printed}");
            assert!(!printed.contains(t.token().secret()), "{printed}");
            assert!(!printed.contains("key\""), "{printed}");
        }
        }
    )*};
}

on_both_generations!(beta: ApiVersion::V2Beta, v2: ApiVersion::V2);
