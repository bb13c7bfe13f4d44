//! Keys with groups and row-level rules: the manager asks REST API v2.0 for them
//! (`token/custom`, or `token/full` with JIT groups), and everything that shapes a token is
//! part of its key, in one process and across replicas sharing a store.

use std::sync::Arc;
use std::time::Duration;
use thoughtspot_session_core::v2::{FilterOperator, FilterRule, NamedValues, PersistOption};
use thoughtspot_session_core::{
    ApiVersion, Error, HttpTransport, SessionClient, TokenKey, TokenManager, TokenRules, TokioSleep,
    TokioSpawn,
};
use thoughtspot_session_mock::{FakeThoughtSpot, FakeUser, MemoryTokenStore};

fn fake() -> FakeThoughtSpot {
    FakeThoughtSpot::builder()
        .user(FakeUser::new("alice", "pw").orgs([0, 7]))
        .user(FakeUser::new("bob", "pw"))
        .secret_key("key")
        .token_lifetime(Duration::from_secs(600))
        .build()
}

fn manager(
    fake: &FakeThoughtSpot,
    version: ApiVersion,
) -> TokenManager<SessionClient<Arc<dyn HttpTransport>>> {
    let transport: Arc<dyn HttpTransport> = Arc::new(fake.clone());
    let client = fake
        .client_builder()
        .api_version(version)
        .build(transport)
        .unwrap();
    TokenManager::builder(client, "key").build().unwrap()
}

fn region(values: &[&str]) -> TokenRules {
    TokenRules::new(PersistOption::None).filter(FilterRule::new(
        "region",
        FilterOperator::In,
        values.iter().copied(),
    ))
}

#[tokio::test]
async fn a_key_with_rules_gets_a_custom_token_carrying_them() {
    let fake = fake();
    let m = manager(&fake, ApiVersion::V2);
    let rules = region(&["west", "north"]).parameter(NamedValues::new("tier", ["gold"]));
    let key = TokenKey::new("alice")
        .with_org_id("7")
        .with_groups(["sales", "emea"])
        .with_rules(rules);
    let token = m.token(&key).await.unwrap();
    assert_eq!(fake.count("token/custom"), 1);
    assert_eq!(fake.count("token/full"), 0);
    let issued = fake.live_tokens();
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0].token, *token.token());
    assert_eq!(issued[0].org_id, 7);
    assert_eq!(issued[0].groups, ["emea", "sales"]);
    assert_eq!(
        issued[0].rules.as_ref().unwrap(),
        &serde_json::json!({
            "persist_option": "NONE",
            "filter_rules": [{"column_name": "region", "operator": "IN", "values": ["west", "north"]}],
            "parameter_values": [{"name": "tier", "values": ["gold"]}],
        })
    );
    // The same shape is a cache hit; group order and repeats make no other key.
    let same = TokenKey::new("alice")
        .with_org_id("7")
        .with_groups(["sales", "emea", "sales"])
        .with_rules(region(&["west", "north"]).parameter(NamedValues::new("tier", ["gold"])));
    assert_eq!(m.token(&same).await.unwrap().token(), token.token());
    assert_eq!(fake.count("token/custom"), 1);
}

#[tokio::test]
async fn tokens_of_other_rules_groups_or_none_are_never_shared() {
    let fake = fake();
    let m = manager(&fake, ApiVersion::V2);
    let keys = [
        TokenKey::new("alice"),
        TokenKey::new("alice").with_rules(region(&["west"])),
        TokenKey::new("alice").with_rules(region(&["east"])),
        TokenKey::new("alice").with_rules(TokenRules::new(PersistOption::Append).filter(FilterRule::new(
            "region",
            FilterOperator::In,
            ["west"],
        ))),
        TokenKey::new("alice").with_groups(["sales"]),
        TokenKey::new("alice").with_groups(["support"]),
        TokenKey::new("alice")
            .with_groups(["sales"])
            .with_rules(region(&["west"])),
    ];
    let mut tokens = Vec::new();
    for key in &keys {
        tokens.push(m.token(key).await.unwrap().token().clone());
    }
    for key in &keys {
        m.token(key).await.unwrap();
    }
    let distinct: std::collections::HashSet<_> = tokens.iter().map(|t| t.secret().to_owned()).collect();
    assert_eq!(distinct.len(), keys.len(), "each shape has its own token");
    assert_eq!(m.stats().fetches, keys.len() as u64, "each shape once, then hits");
    // Groups alone are JIT provisioning on a full token.
    let by_token = |t: &thoughtspot_session_core::AccessToken| {
        fake.live_tokens().into_iter().find(|f| &f.token == t).unwrap()
    };
    assert_eq!(by_token(&tokens[4]).groups, ["sales"]);
    assert!(by_token(&tokens[4]).rules.is_none());
    assert_eq!(fake.count("token/full"), 3);
    assert_eq!(fake.count("token/custom"), 4);
    assert_eq!(
        by_token(&tokens[2]).rules.as_ref().unwrap()["filter_rules"][0]["values"],
        serde_json::json!(["east"])
    );
}

#[tokio::test]
async fn replicas_sharing_a_store_keep_shapes_apart() {
    let fake = fake();
    let store = MemoryTokenStore::new();
    let replica = || {
        let transport: Arc<dyn HttpTransport> = Arc::new(fake.clone());
        let client = fake
            .client_builder()
            .api_version(ApiVersion::V2)
            .sleep(TokioSleep::new())
            .build(transport)
            .unwrap();
        TokenManager::builder(client, "key")
            .store(store.clone())
            .spawn(TokioSpawn::new())
            .sleep(TokioSleep::new())
            .build()
            .unwrap()
    };
    let (a, b) = (replica(), replica());
    let west = TokenKey::new("alice").with_rules(region(&["west"]));
    let east = TokenKey::new("alice").with_rules(region(&["east"]));
    let t_west = a.token(&west).await.unwrap();
    // The other replica finds alice's west token for west, and mints east anew.
    assert_eq!(b.token(&west).await.unwrap().token(), t_west.token());
    let t_east = b.token(&east).await.unwrap();
    assert_ne!(t_east.token(), t_west.token());
    assert_eq!(a.token(&east).await.unwrap().token(), t_east.token());
    assert_ne!(
        a.token(&TokenKey::new("alice")).await.unwrap().token(),
        t_west.token()
    );
    assert_eq!(fake.count("token/custom"), 2);
}

#[tokio::test]
async fn the_beta_and_mismatched_keys_are_refused_before_sending() {
    let fake = fake();
    let beta = manager(&fake, ApiVersion::V2Beta);
    let err = beta
        .token(&TokenKey::new("alice").with_rules(region(&["west"])))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
    assert!(err.to_string().contains("REST API v2.0"), "{err}");
    let v2 = manager(&fake, ApiVersion::V2);
    let err = v2
        .token(
            &TokenKey::new("alice")
                .with_report_book_view("obj-1")
                .with_rules(region(&["west"])),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("one object"), "{err}");
    let err = v2
        .token(&TokenKey::new("alice").with_org_id("sales").with_groups(["g"]))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("integer org"), "{err}");
    assert_eq!(
        fake.count("token/custom") + fake.count("token/full") + fake.count("get token"),
        0
    );
    // The key's Debug shows its shape and no secret.
    let debug = format!("{:?}", TokenKey::new("alice").with_rules(region(&["west"])));
    assert!(debug.contains("region") && !debug.contains("key"), "{debug}");
}
