//! Helpers for scenarios with several `TokenManager` replicas sharing one token store.

use std::collections::{HashMap, HashSet};
use thoughtspot_session_core::{AccessToken, SessionApi, TokenKey, TokenManager};
use thoughtspot_session_mock::{FakeThoughtSpot, FakeUser};

/// A fake cluster with the users `user-0` … `user-{users - 1}` (password `pw`), the
/// trusted-authentication secret key `key` and tokens that live 600 s.
pub fn users(users: usize) -> FakeThoughtSpot {
    let mut b = FakeThoughtSpot::builder()
        .secret_key("key")
        .token_lifetime(std::time::Duration::from_secs(600));
    for n in 0..users {
        b = b.user(FakeUser::new(format!("user-{n}"), "pw"));
    }
    b.build()
}

/// The user a live token of `fake` was issued for.
pub fn owner(fake: &FakeThoughtSpot, token: &AccessToken) -> Option<String> {
    fake.live_tokens()
        .into_iter()
        .find(|t| t.token == *token)
        .map(|t| t.user)
}

/// Asks for `calls` tokens at once, for the users `user-0` to `user-{users - 1}` in turn
/// (starting at `user-{first}`), spread over `replicas` in turn. Every call must get a live
/// token of its own user; returns the distinct tokens each user got.
pub async fn tokens_at_once<S: SessionApi + 'static>(
    fake: &FakeThoughtSpot,
    replicas: &[TokenManager<S>],
    calls: usize,
    users: usize,
    first: usize,
) -> HashMap<String, HashSet<String>> {
    let tasks: Vec<_> = (0..calls)
        .map(|i| {
            let manager = replicas[i % replicas.len()].clone();
            let user = format!("user-{}", (i + first) % users);
            tokio::spawn(async move {
                let token = manager.token(&TokenKey::new(user.as_str())).await;
                (user, token)
            })
        })
        .collect();
    let mut per_user = HashMap::<String, HashSet<String>>::new();
    for task in tasks {
        let (user, token) = task.await.expect("the task ran");
        let token = token.expect("every request gets a token");
        assert_eq!(
            owner(fake, token.token()).as_deref(),
            Some(user.as_str()),
            "a live token of its own user, never another's"
        );
        per_user
            .entry(user)
            .or_default()
            .insert(token.token().secret().to_owned());
    }
    per_user
}
