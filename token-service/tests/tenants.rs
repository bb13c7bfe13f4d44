//! Many tenants in one deployment (issue 34): two identity providers, one with a fixed org,
//! one whose callers' org claim picks one of two rule sets. Each caller gets its own org's
//! rules; a token of one provider never gets another's rules or orgs. Run in process over
//! HTTP against the fake cluster on loopback and two JWT issuers of the test's own.

mod support;

use serde_json::{Value, json};
use std::time::Duration;
use support::*;
use thoughtspot_session_mock::{FakeThoughtSpot, FakeToken, FakeUser};
use thoughtspot_token_service::config::Config;

const ENV: [(&str, &str); 1] = [("TS_SECRET_KEY", SECRET_KEY)];

/// Acme signs its users in at issuer A (audience `acme-app`) into org 7, under a region
/// rule. Globex signs in at issuer B (audience `globex-app`); its `org` claim picks org 9
/// (sales, a department rule) or org 11 (support, a queue parameter).
fn tenants_config(cluster: &str, a: &Issuer, b: &Issuer) -> Config {
    let text = format!(
        r#"
listen = "127.0.0.1:0"
log = "off"
[cluster]
url = "{cluster}"
[[tenants]]
name = "acme"
identity = {{ issuer = "{a}", audiences = ["acme-app"], jwks_url = "{a_jwks}", jwks_min_refresh_secs = 1 }}
mapping = {{ org = "7" }}
[[tenants.abac.rules]]
claim = "region"
column = "Region"

[[tenants]]
name = "globex-sales"
identity = {{ issuer = "{b}", audiences = ["globex-app"], jwks_url = "{b_jwks}", jwks_min_refresh_secs = 1 }}
mapping = {{ org_claim = "org", orgs_allowed = ["9"] }}
select = {{ claim = "org", values = ["9"] }}
[[tenants.abac.rules]]
claim = "dept"
column = "Department"

[[tenants]]
name = "globex-support"
identity = {{ issuer = "{b}", audiences = ["globex-app"], jwks_url = "{b_jwks}", jwks_min_refresh_secs = 1 }}
mapping = {{ org_claim = "org", orgs_allowed = ["11"] }}
select = {{ claim = "org", values = ["11"] }}
[[tenants.abac.rules]]
claim = "queue"
parameter = "Queue"
"#,
        a = a.idp.issuer(),
        a_jwks = a.jwks_url,
        b = b.idp.issuer(),
        b_jwks = b.jwks_url,
    );
    Config::from_toml(&text).unwrap()
}

fn fake_with_orgs() -> FakeThoughtSpot {
    FakeThoughtSpot::builder()
        .user(FakeUser::new("bob@example.com", "pw").orgs([0, 7, 9, 11]))
        .user(FakeUser::new("erin@example.com", "pw").orgs([0, 9]))
        .secret_key(SECRET_KEY)
        .token_lifetime(Duration::from_secs(3600))
        .build()
}

fn person(email: &str, extra: Value) -> Value {
    let mut claims = json!({"email": email, "email_verified": true});
    claims
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    claims
}

/// What the cluster issued for the token served.
fn issued(fake: &FakeThoughtSpot, served: &str) -> FakeToken {
    fake.tokens()
        .into_iter()
        .find(|t| t.token.secret() == served)
        .expect("the cluster issued the token served")
}

async fn refused(s: &Running, bearer: &str) -> (u16, String) {
    let (status, body) = json_error(s.get("/token", Some(bearer)).await).await;
    (status, body["error"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_provider_and_org_gets_its_own_rules_and_crossing_them_is_refused() {
    let (a, b) = (
        Issuer::start_for("acme-app").await,
        Issuer::start_for("globex-app").await,
    );
    let fake = fake_with_orgs();
    let server = cluster(&fake).await;
    let s = start(&tenants_config(&server.base_url(), &a, &b), &ENV).await;

    // Acme's caller: org 7, the region rule.
    let acme = s
        .token(&a.token(person("bob@example.com", json!({"region": "west"}))))
        .await;
    let t = issued(&fake, &acme);
    assert_eq!((t.user.as_str(), t.org_id), ("bob@example.com", 7));
    assert_eq!(
        t.rules.as_ref().unwrap()["filter_rules"][0]["column_name"],
        "Region"
    );
    // Globex's callers: the org claim picks the rule set.
    let sales = s
        .token(&b.token(person("bob@example.com", json!({"org": 9, "dept": "emea"}))))
        .await;
    let t = issued(&fake, &sales);
    assert_eq!(t.org_id, 9);
    let rules = t.rules.unwrap();
    assert_eq!(rules["filter_rules"][0]["column_name"], "Department");
    assert_eq!(rules["filter_rules"][0]["values"], json!(["emea"]));
    let support = s
        .token(&b.token(person("bob@example.com", json!({"org": "11", "queue": "l2"}))))
        .await;
    let t = issued(&fake, &support);
    assert_eq!(t.org_id, 11);
    let rules = t.rules.unwrap();
    assert_eq!(rules["parameter_values"][0]["name"], "Queue");
    assert!(
        rules["filter_rules"].as_array().is_none_or(Vec::is_empty),
        "{rules}"
    );
    assert_eq!(fake.count("token/custom"), 3, "three shapes, three tokens");

    // Acme's token shaped for Globex (org 9, a dept, no region): Acme's rules still apply,
    // and its region rule refuses it.
    let crossed = a.token(person("bob@example.com", json!({"org": 9, "dept": "emea"})));
    assert_eq!(refused(&s, &crossed).await, (403, "missing_rule_claim".into()));
    // With a region too: Acme's org and rule, nothing of Globex's.
    let both = s
        .token(&a.token(person(
            "bob@example.com",
            json!({"org": 9, "dept": "emea", "region": "north"}),
        )))
        .await;
    let t = issued(&fake, &both);
    assert_eq!(t.org_id, 7, "a fixed org is not the claim's");
    assert!(!t.rules.unwrap().to_string().contains("Department"));

    // Globex's token naming Acme's org, or no org: no tenant of Globex takes it.
    for org in [json!(7), json!("0"), Value::Null] {
        let mut claims = person("bob@example.com", json!({"dept": "emea", "queue": "l2"}));
        claims["org"] = org.clone();
        assert_eq!(
            refused(&s, &b.token(claims)).await,
            (403, "no_tenant".into()),
            "org {org}"
        );
    }
    // A token signed with Acme's key that names Globex as its issuer: Globex's keys do not
    // verify it.
    let forged = a.idp.sign_raw(&json!({
        "iss": b.idp.issuer(), "aud": "globex-app", "exp": 4_000_000_000u64,
        "email": "erin@example.com", "email_verified": true, "org": 9, "dept": "emea",
    }));
    let (status, code) = refused(&s, &forged).await;
    assert_eq!(status, 401, "{code}");
    // Acme's token for Globex's audience, or Globex's for Acme's: each provider accepts
    // only its own audiences.
    let wrong_aud = a.idp.sign_raw(&json!({
        "iss": a.idp.issuer(), "aud": "globex-app", "exp": 4_000_000_000u64,
        "email": "bob@example.com", "email_verified": true, "region": "west",
    }));
    assert_eq!(refused(&s, &wrong_aud).await, (401, "wrong_audience".into()));
    // A third provider, and a token with no issuer: no tenant.
    let c = Issuer::start_for("acme-app").await;
    let stranger = c.token(person("bob@example.com", json!({"region": "west"})));
    assert_eq!(refused(&s, &stranger).await, (401, "wrong_issuer".into()));
    let anonymous = a
        .idp
        .sign_raw(&json!({"aud": "acme-app", "exp": 4_000_000_000u64, "email": "bob@example.com"}));
    assert_eq!(refused(&s, &anonymous).await, (401, "wrong_issuer".into()));
    assert_eq!(c.fetches(), 0, "a stranger's keys are never fetched");

    // Readiness names each tenant's keys.
    let ready: Value = serde_json::from_slice(&s.get("/readyz", None).await.bytes().await.unwrap()).unwrap();
    assert_eq!(ready["ready"], true, "{ready}");
    for name in ["acme", "globex-sales", "globex-support"] {
        assert_eq!(ready["checks"]["identity_keys"][name], true, "{ready}");
    }
    assert_eq!(
        fake.count("token/custom"),
        4,
        "no refused caller reached the cluster"
    );
}

#[test]
fn tenants_that_could_overlap_are_refused_at_start() {
    let base = |extra: &str| {
        format!(
            r#"
[cluster]
url = "https://analytics.example.com"
[[tenants]]
name = "a"
identity = {{ issuer = "https://a.example.com", audiences = ["x"], jwks_url = "https://a.example.com/jwks" }}
mapping = {{ org = "7" }}
{extra}"#
        )
    };
    let check = |text: String| Config::from_toml(&text).and_then(|c| c.validate());
    check(base("")).unwrap();
    for (extra, says) in [
        // Another provider into the same org.
        (
            "[[tenants]]\nname = \"b\"\nidentity = { issuer = \"https://b.example.com\", audiences = [\"x\"], jwks_url = \"https://b.example.com/jwks\" }\nmapping = { org = \"7\" }\n",
            "belongs to tenants",
        ),
        // An org claim that could name any org.
        (
            "[[tenants]]\nname = \"b\"\nidentity = { issuer = \"https://b.example.com\", audiences = [\"x\"], jwks_url = \"https://b.example.com/jwks\" }\nmapping = { org_claim = \"org\" }\n",
            "orgs_allowed",
        ),
        // No org at all.
        (
            "[[tenants]]\nname = \"b\"\nidentity = { issuer = \"https://b.example.com\", audiences = [\"x\"], jwks_url = \"https://b.example.com/jwks\" }\n",
            "names no org",
        ),
        // Two tenants of one issuer with nothing to tell them apart.
        (
            "[[tenants]]\nname = \"b\"\nidentity = { issuer = \"https://a.example.com\", audiences = [\"x\"], jwks_url = \"https://a.example.com/jwks\" }\nmapping = { org = \"8\" }\n",
            "share the issuer",
        ),
        // The same name twice.
        (
            "[[tenants]]\nname = \"a\"\nidentity = { issuer = \"https://b.example.com\", audiences = [\"x\"], jwks_url = \"https://b.example.com/jwks\" }\nmapping = { org = \"8\" }\n",
            "name of its own",
        ),
        // A top-level rule set beside the tenants.
        ("[mapping]\nuser_claim = \"sub\"\n", "top-level"),
        // A tenant's own provider over plain HTTP off loopback.
        (
            "[[tenants]]\nname = \"b\"\nidentity = { issuer = \"http://b.example.com\", audiences = [\"x\"], jwks_url = \"http://b.example.com/jwks\" }\nmapping = { org = \"8\" }\n",
            "tenant \"b\": identity.issuer must be an https URL",
        ),
    ] {
        // A top-level table must come before the array of tables.
        let text = if extra.starts_with("[mapping]") {
            format!("{extra}{}", base(""))
        } else {
            base(extra)
        };
        let err = check(text).unwrap_err().to_string();
        assert!(err.contains(says), "{extra:?}: {err}");
    }
    // Identity from the environment cannot stand beside tenants either.
    let env = [
        ("OIDC_ISSUER", "https://c.example.com"),
        ("OIDC_AUDIENCE", "x"),
        ("OIDC_JWKS_URL", "https://c.example.com/jwks"),
    ];
    let config = Config::from_toml(&base("")).unwrap().with_env(&env).unwrap();
    assert!(config.validate().unwrap_err().to_string().contains("top-level"));
}
