//! Sign-outs and invalidations a replica could not give its shared store during an outage:
//! each ends with its token out of the store and revoked at the cluster exactly once, by the
//! replica's background task (its `Spawn`), not on a user's request; and during the outage
//! `invalidate` revokes only a token known to be the caller's.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use thoughtspot_session_core::{
    AccessToken, Removal, SessionClient, Spawn, SpawnFuture, TokenKey, TokenManager, TokioSleep, TokioSpawn,
};
use thoughtspot_session_mock::{FakeThoughtSpot, MemoryTokenStore};
use thoughtspot_session_tests::{Watchdog, within};

/// Every revocation the replicas asked for, by token, passed on to the fake.
#[derive(Clone, Default)]
struct Revocations(Arc<Mutex<HashMap<String, usize>>>);

impl Revocations {
    fn of(&self, token: &AccessToken) -> usize {
        self.0.lock().unwrap().get(token.secret()).copied().unwrap_or(0)
    }

    fn total(&self) -> usize {
        self.0.lock().unwrap().values().sum()
    }

    fn tokens(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

/// Holds what the manager spawns until the test lets it run.
#[derive(Clone, Default)]
struct HeldSpawn(Arc<Mutex<Vec<SpawnFuture>>>);

impl fmt::Debug for HeldSpawn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HeldSpawn")
    }
}

impl Spawn for HeldSpawn {
    fn spawn(&self, future: SpawnFuture) {
        self.0.lock().unwrap().push(future);
    }
}

impl HeldSpawn {
    /// Runs what was held on tokio; how many tasks that was.
    fn release(&self) -> usize {
        let held: Vec<_> = self.0.lock().unwrap().drain(..).collect();
        let n = held.len();
        for future in held {
            drop(tokio::spawn(future));
        }
        n
    }
}

fn fake(users: usize) -> FakeThoughtSpot {
    thoughtspot_session_tests::replicas::users(users)
}

fn replica(
    fake: &FakeThoughtSpot,
    store: &MemoryTokenStore,
    spawn: impl Spawn + 'static,
    seen: &Revocations,
) -> TokenManager<SessionClient<FakeThoughtSpot>> {
    let (client, seen) = (fake.client(), seen.clone());
    TokenManager::builder(fake.client(), "key")
        .clock(fake.clock().clone())
        .store(store.clone())
        .spawn(spawn)
        .sleep(TokioSleep::new())
        .revoke_with(move |token: AccessToken| {
            let (client, seen) = (client.clone(), seen.clone());
            async move {
                *seen
                    .0
                    .lock()
                    .unwrap()
                    .entry(token.secret().to_owned())
                    .or_default() += 1;
                client.revoke_access_token(&token).await
            }
        })
        .build()
        .expect("valid")
}

/// Waits until `done` holds, checking every 10 ms, for `limit` at most.
async fn until(what: &str, limit: Duration, done: impl Fn() -> bool) -> Result<(), ()> {
    let started = tokio::time::Instant::now();
    while !done() {
        if started.elapsed() >= limit {
            eprintln!("{what}: not within {limit:?}");
            return Err(());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(())
}

fn live(fake: &FakeThoughtSpot, token: &AccessToken) -> bool {
    fake.live_tokens().iter().any(|t| t.token == *token)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_sign_outs_over_an_outage_end_revoked_once_each_off_the_request_path() {
    let name = "a_hundred_sign_outs_over_an_outage_end_revoked_once_each_off_the_request_path";
    let _watch = Watchdog::start(name);
    within(name, async {
        let (fake, seen, held) = (fake(100), Revocations::default(), HeldSpawn::default());
        let store = MemoryTokenStore::with_clock(fake.clock().clone());
        let a = replica(&fake, &store, held.clone(), &seen);
        let keys: Vec<TokenKey> = (0..100).map(|n| TokenKey::new(format!("user-{n}"))).collect();
        let mut signed_out = Vec::new();
        for key in &keys {
            signed_out.push(a.token(key).await.expect("token").token().clone());
        }
        store.set_failing(true);
        for key in &keys {
            assert_eq!(a.evict(key).await, Removal::Deferred);
        }
        assert_eq!(a.stats().removals_waiting, 100);
        let revoked_in_the_outage = seen.total();

        // The store answers again. The first request makes its own key's removal (its
        // token is not served) and nothing of the other 99 keys'.
        store.set_failing(false);
        fake.clock().advance(Duration::from_secs(1));
        let calls = store.calls();
        let first = a.token(&keys[0]).await.expect("token");
        let calls = store.calls() - calls;
        assert_ne!(
            first.token(),
            &signed_out[0],
            "a signed-out token is never served"
        );
        assert_eq!(
            seen.total(),
            revoked_in_the_outage,
            "no revocation runs on the request"
        );
        assert!(
            calls <= 6,
            "{calls} store calls on the first request after the outage"
        );

        // The task and 99 users' requests, at once: whoever removes a token revokes it.
        assert_eq!(held.release(), 1, "one task makes every removal");
        let requests: Vec<_> = keys[1..]
            .iter()
            .map(|key| {
                let (a, key) = (a.clone(), key.clone());
                tokio::spawn(async move { a.token(&key).await })
            })
            .collect();
        for (request, old) in requests.into_iter().zip(&signed_out[1..]) {
            let token = request.await.expect("task").expect("token");
            assert_ne!(token.token(), old, "a signed-out token is never served");
        }
        until("every removal made and revoked", Duration::from_secs(10), || {
            a.stats().removals_waiting == 0 && seen.total() >= 100
        })
        .await
        .unwrap_or_else(|()| panic!("{} of 100 revoked, {:?}", seen.total(), a.stats()));
        // Anything still to come would show as a second revocation.
        tokio::time::sleep(Duration::from_millis(100)).await;
        for (n, token) in signed_out.iter().enumerate() {
            assert_eq!(seen.of(token), 1, "user-{n}'s signed-out token: revocations");
            assert!(
                !live(&fake, token),
                "user-{n}'s signed-out token is dead at the cluster"
            );
        }
        assert_eq!(
            (seen.tokens(), seen.total()),
            (100, 100),
            "no other token was revoked"
        );
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn in_an_outage_invalidate_revokes_only_a_token_known_to_be_the_callers() {
    let name = "in_an_outage_invalidate_revokes_only_a_token_known_to_be_the_callers";
    let _watch = Watchdog::start(name);
    within(name, async {
        let (fake, seen) = (fake(2), Revocations::default());
        let store = MemoryTokenStore::with_clock(fake.clock().clone());
        let a = replica(&fake, &store, TokioSpawn::new(), &seen);
        let (mine, theirs) = (TokenKey::new("user-0"), TokenKey::new("user-1"));
        let victim = a.token(&theirs).await.expect("token").token().clone();
        let stored = a.token(&mine).await.expect("token").token().clone();
        store.set_failing(true);

        // Another user's token, reported under my key: the store cannot say whose it is.
        assert_eq!(a.invalidate(&mine, &victim).await, Removal::Deferred);
        assert_eq!(seen.of(&victim), 0, "not revoked");
        // Control: a token this replica holds for my key (fetched during the outage) is
        // revoked at once.
        let held = a.token(&mine).await.expect("token").token().clone();
        assert_ne!(held, stored);
        assert_eq!(a.invalidate(&mine, &held).await, Removal::Deferred);
        assert_eq!(seen.of(&held), 1);
        assert!(!live(&fake, &held));
        // My stored token, which this replica does not hold: revoked once the store shows it.
        assert_eq!(a.invalidate(&mine, &stored).await, Removal::Deferred);
        assert_eq!(seen.of(&stored), 0);

        store.set_failing(false);
        fake.clock().advance(Duration::from_secs(1));
        until("the removals made", Duration::from_secs(5), || {
            a.stats().removals_waiting == 0
        })
        .await
        .unwrap_or_else(|()| panic!("not made: {:?}", a.stats()));
        assert_eq!(seen.of(&stored), 1, "my stored token, revoked once");
        assert!(!live(&fake, &stored));
        assert_eq!(seen.of(&held), 1, "not again");
        assert_eq!(seen.of(&victim), 0, "the other user's token is left alone");
        assert!(live(&fake, &victim));
        assert_eq!(
            a.token(&theirs).await.expect("token").token(),
            &victim,
            "and still served"
        );
    })
    .await;
}
