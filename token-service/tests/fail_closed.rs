//! The token service fails closed (issue 32): where it is unsure it gives less, never more.
//! Each test runs the service in process over HTTP against the fake cluster on loopback
//! and a JWT issuer of its own, with a control that shows the good path works.

mod support;

use serde_json::json;
use support::*;
use thoughtspot_token_service::config::Config;

const ENV: [(&str, &str); 1] = [("TS_SECRET_KEY", SECRET_KEY)];

/// What each test runs against: a JWT issuer, the fake cluster over HTTP.
struct World {
    issuer: Issuer,
    fake: thoughtspot_session_mock::FakeThoughtSpot,
    cluster: thoughtspot_session_mock::FakeServer,
}

impl World {
    async fn new() -> Self {
        let issuer = Issuer::start().await;
        let fake = fake();
        let cluster = cluster(&fake).await;
        World {
            issuer,
            fake,
            cluster,
        }
    }

    /// The tests' configuration (the region rule lets callers without it through).
    fn config(&self) -> Config {
        config(&self.cluster.base_url(), &self.issuer, "")
    }

    /// The service on `config`.
    async fn start(&self, config: &Config) -> Running {
        start(config, &ENV).await
    }
}

/// Status and error code of a `/token` call.
async fn refused(s: &Running, bearer: &str) -> (u16, String) {
    let (status, body) = json_error(s.get("/token", Some(bearer)).await).await;
    (status, body["error"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_or_empty_rule_claim_gets_no_token_unless_the_rule_says_skip() {
    let w = World::new().await;
    let (issuer, fake) = (&w.issuer, &w.fake);
    // The region rule at its default.
    let s = w.start(&strict_config(&w.cluster.base_url(), issuer, "")).await;
    for region in [None, Some(json!(null)), Some(json!("")), Some(json!([]))] {
        let mut claims = alice();
        if let Some(region) = &region {
            claims["region"] = region.clone();
        }
        assert_eq!(
            refused(&s, &issuer.token(claims)).await,
            (403, "missing_rule_claim".to_owned()),
            "region {region:?}"
        );
    }
    assert_eq!(
        fake.count("token/full") + fake.count("token/custom"),
        0,
        "no token was minted for a caller without the rule's claim"
    );
    // Control: with the claim, a custom token carrying the rule.
    let token = s
        .token(&issuer.token(json!({"email": "alice@example.com", "region": ["west"]})))
        .await;
    let record = fake
        .live_tokens()
        .into_iter()
        .find(|t| t.token.secret() == token)
        .unwrap();
    assert!(
        format!("{:?}", record.rules).contains("west"),
        "{:?}",
        record.rules
    );
    // The named opt-in: the same caller without the claim, through to a full token.
    let open = w.start(&w.config()).await;
    open.token(&issuer.token(alice())).await;
    assert_eq!(fake.count("token/full"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unverified_email_is_no_user_and_sub_needs_no_flag() {
    let w = World::new().await;
    let issuer = &w.issuer;
    let s = w.start(&w.config()).await;
    for verified in [json!(false), json!("false"), json!(null)] {
        let claims = json!({"email": "alice@example.com", "email_verified": verified});
        assert_eq!(
            refused(&s, &issuer.token(claims)).await,
            (403, "email_not_verified".to_owned()),
            "email_verified {verified}"
        );
    }
    // Control: verified.
    s.token(&issuer.token(json!({"email": "alice@example.com", "email_verified": true})))
        .await;
    // The user from `sub`: an unverified email beside it does not matter.
    let mut by_sub = w.config();
    by_sub.mapping.user_claim = "sub".into();
    let s = w.start(&by_sub).await;
    s.token(&issuer.token(json!({"sub": "bob@example.com", "email": "x@y", "email_verified": false})))
        .await;
    // Turned off, as the setting says, for a provider that sends no flag.
    let mut unflagged = w.config();
    unflagged.mapping.require_email_verified = false;
    let s = w.start(&unflagged).await;
    s.token(&issuer.token(json!({"email": "carol@example.com", "email_verified": false})))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_from_a_claim_pass_only_through_the_allow_list() {
    let w = World::new().await;
    let (issuer, fake) = (&w.issuer, &w.fake);
    let s = w.start(&w.config()).await;
    // groups_allowed = ["sales", "emea-*"] in the tests' configuration.
    let token = s
        .token(&issuer.token(json!({"email": "bob@example.com", "ts_org": 7,
            "groups": ["sales", "Administrator", "emea-west", "emea", "ALL_GROUP"]})))
        .await;
    let record = fake
        .live_tokens()
        .into_iter()
        .find(|t| t.token.secret() == token)
        .unwrap();
    let mut groups = record.groups.clone();
    groups.sort();
    assert_eq!(
        groups,
        ["emea-west", "sales"],
        "only listed groups reached the cluster"
    );
    // A groups claim with no allow-list is a configuration the service refuses.
    let text = format!(
        "[cluster]\nurl = \"{}\"\n[identity]\nissuer = \"{}\"\naudiences = [\"a\"]\njwks_url = \"{}\"\n[mapping]\ngroups_claim = \"groups\"\n",
        w.cluster.base_url(),
        issuer.idp.issuer(),
        issuer.jwks_url
    );
    let e = Config::from_toml(&text)
        .unwrap()
        .validate()
        .unwrap_err()
        .to_string();
    assert!(e.contains("groups_allowed"), "{e}");
}

#[test]
fn an_issuer_or_key_set_in_the_clear_and_a_disguised_cluster_are_refused() {
    let base = |identity: &str, cluster: &str, test_idp: bool| {
        let text = format!(
            "listen = \"127.0.0.1:0\"\ntest_idp = {test_idp}\n[cluster]\nurl = '{cluster}'\n{identity}"
        );
        Config::from_toml(&text).unwrap().validate()
    };
    let identity = |issuer: &str, jwks: &str| {
        format!("[identity]\nissuer = \"{issuer}\"\naudiences = [\"a\"]\njwks_url = \"{jwks}\"\n")
    };
    let cluster = "https://analytics.example.com";
    for (issuer, jwks) in [
        ("http://login.example.com", "https://login.example.com/jwks"),
        ("https://login.example.com", "http://login.example.com/jwks"),
        ("https://login.example.com", "http://127.0.0.1.evil.com/jwks"),
        ("https://login.example.com", "not a url"),
    ] {
        let e = base(&identity(issuer, jwks), cluster, false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("https"), "{issuer} {jwks}: {e}");
    }
    // Controls: https anywhere, http on loopback.
    base(
        &identity("https://login.example.com", "https://login.example.com/jwks"),
        cluster,
        false,
    )
    .unwrap();
    base(
        &identity("http://127.0.0.1:9/", "http://localhost:9/jwks"),
        cluster,
        false,
    )
    .unwrap();
    // The client's URL parser reads `\` as `/`, so this cluster is real-cluster, not
    // loopback: the test identity provider may not run against it.
    let e = base("", "https://real-cluster\\@127.0.0.1/", true)
        .unwrap_err()
        .to_string();
    assert!(e.contains("anyone"), "{e}");
    base("", "http://127.0.0.1:9000/", true).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_probes_are_one_flight_and_can_live_on_an_admin_listener() {
    let w = World::new().await;
    let (issuer, fake) = (&w.issuer, &w.fake);
    let mut config = w.config();
    config.admin_listen = Some("127.0.0.1:0".into());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let local = listener.local_addr().unwrap();
    let service = thoughtspot_token_service::Service::build(&config, &ENV, local)
        .await
        .unwrap();
    let admin = format!("http://{}", service.admin_addr().expect("an admin listener"));
    tokio::spawn(service.run(listener, std::future::pending()));
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    // 200 probes at once: one probe's worth of cluster calls.
    let before = fake.count("session/user");
    let probes: Vec<_> = (0..200)
        .map(|_| {
            let (http, url) = (http.clone(), format!("{admin}/readyz"));
            tokio::spawn(async move { http.get(url).send().await.unwrap().status().as_u16() })
        })
        .collect();
    for p in probes {
        assert_eq!(p.await.unwrap(), 200);
    }
    let calls = fake.count("session/user") - before;
    assert!(
        (1..=2).contains(&calls),
        "200 concurrent probes made {calls} cluster calls"
    );
    // The operator's routes left the main listener; the token route did not.
    let main = format!("http://{local}");
    for path in ["/readyz", "/metrics", "/healthz"] {
        assert_eq!(
            http.get(format!("{main}{path}")).send().await.unwrap().status(),
            404,
            "{path}"
        );
    }
    assert_eq!(
        http.get(format!("{admin}/metrics"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let token = http
        .get(format!("{main}/token"))
        .bearer_auth(issuer.token(alice()))
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 200);
    assert_eq!(
        http.get(format!("{admin}/token")).send().await.unwrap().status(),
        404
    );
}

/// Writes `head` then `body` on a raw connection and reads the answer to its end: the
/// status line and whether the server said `Connection: close`.
async fn raw_answer(base: &str, head: String, body: Vec<u8>) -> (String, bool) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
        .write_all(&body)
        .await
        .expect("the body is read, not reset");
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut answer))
        .await
        .expect("an answer within 10 s")
        .expect("an answer, not a reset");
    let text = String::from_utf8_lossy(&answer[..n]).to_ascii_lowercase();
    let status = text.lines().next().unwrap_or_default().to_owned();
    (status, text.contains("\r\nconnection: close\r\n"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_body_to_the_token_route_is_a_413_not_a_reset() {
    let w = World::new().await;
    let issuer = &w.issuer;
    let s = w.start(&w.config()).await;
    let bearer = issuer.token(alice());
    // A client that writes its whole 4 MiB body before it reads (as reqwest and browsers
    // do) reads the 413: the body is drained, not left to reset the connection. Several
    // rounds, since a reset is a race the client loses only sometimes.
    for _ in 0..10 {
        let response = s
            .http
            .post(format!("{}/token", s.base))
            .bearer_auth(&bearer)
            .body(vec![b'x'; 4 * 1024 * 1024])
            .send()
            .await
            .expect("an answer, not a reset connection");
        let (status, body) = json_error(response).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (413, Some("too_large")),
            "{body}"
        );
    }
    // The same with no declared length (chunked), past the limit: 413, and drained to its
    // end the connection is kept.
    let mut chunked = Vec::new();
    for _ in 0..64 {
        chunked.extend_from_slice(format!("{:x}\r\n", 16 * 1024).as_bytes());
        chunked.extend_from_slice(&[b'y'; 16 * 1024]);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let head = format!(
        "POST /token HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {bearer}\r\n\
         transfer-encoding: chunked\r\n\r\n"
    );
    let (status, close) = raw_answer(&s.base, head, chunked).await;
    assert!(status.starts_with("http/1.1 413"), "{status}");
    assert!(!close, "a drained body keeps the connection");
    // A body declared past the drain bound is answered at once, before it is sent, and the
    // connection is closed: the service reads none of it.
    let head = format!(
        "POST /token HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {bearer}\r\n\
         content-length: {}\r\n\r\n",
        64 * 1024 * 1024
    );
    let (status, close) = raw_answer(&s.base, head, Vec::new()).await;
    assert!(status.starts_with("http/1.1 413"), "{status}");
    assert!(close, "a body past the drain bound closes the connection");
    // Control: a POST with no body gets its token, as the SDK sends it, and one within the
    // limit too.
    for body in [Vec::new(), vec![b'z'; 1024]] {
        let response = s
            .http
            .post(format!("{}/token", s.base))
            .bearer_auth(&bearer)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_key_is_one_fetch_every_caller_shares_and_a_dropped_caller_cannot_stall_it() {
    let w = World::new().await;
    let issuer = &w.issuer;
    let s = w
        .start(&config(
            &w.cluster.base_url(),
            issuer,
            "[limits]\nper_user_burst = 100\n",
        ))
        .await;
    assert_eq!(issuer.fetches(), 1, "fetched at start");
    issuer
        .jwks_delay_ms
        .store(400, std::sync::atomic::Ordering::SeqCst);

    // A caller names the new key and hangs up at once, while the fetch it started runs.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    issuer.idp.rotate(false);
    let rotated = issuer.token(alice());
    let impatient = reqwest::Client::builder()
        .timeout(std::time::Duration::from_millis(50))
        .build()
        .unwrap();
    let dropped = impatient
        .get(format!("{}/token", s.base))
        .bearer_auth(&rotated)
        .send()
        .await;
    assert!(dropped.is_err(), "the impatient caller gave up first");
    // Valid callers with the new key right after are not refused for the refresh window:
    // the fetch went on without its caller and they wait for it.
    assert_eq!(
        together(&s, &rotated, 20).await,
        vec![200; 20],
        "every caller served"
    );
    assert_eq!(issuer.fetches(), 2, "one fetch, shared");

    // Again with nobody hanging up: 20 callers arrive together on a new key, one fetch
    // serves them all (before: 1 served, 19 refused at once).
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    issuer.idp.rotate(false);
    let rotated = issuer.token(json!({"email": "bob@example.com"}));
    assert_eq!(together(&s, &rotated, 20).await, vec![200; 20]);
    assert_eq!(issuer.fetches(), 3);
    // Control: a key the provider never published is still refused, after its one fetch.
    let stranger = thoughtspot_token_service::test_idp::TestIdp::new(issuer.idp.issuer(), AUDIENCE);
    assert_eq!(
        refused(&s, &stranger.sign(&claims(alice()))).await,
        (401, "unknown_signing_key".to_owned())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_refreshed_before_they_go_stale_as_cache_control_says_and_a_retired_key_ends() {
    let w = World::new().await;
    let issuer = &w.issuer;
    *issuer.cache_control.lock().unwrap() = Some("public, max-age=4".into());
    let s = w.start(&w.config()).await;
    let started = std::time::Instant::now();
    let old = issuer.token(alice());
    assert_eq!(s.get("/token", Some(&old)).await.status(), 200);
    // The provider retires the old key, and its key set is slow from now on.
    issuer
        .jwks_delay_ms
        .store(3000, std::sync::atomic::Ordering::SeqCst);
    issuer.idp.rotate(true);
    // Past three quarters of the 4 s the provider allowed, a request starts the refresh
    // and is answered from the keys held, without waiting 3 s for the provider.
    tokio::time::sleep(std::time::Duration::from_millis(3200).saturating_sub(started.elapsed())).await;
    let asked = std::time::Instant::now();
    assert_eq!(s.get("/token", Some(&old)).await.status(), 200);
    assert!(
        asked.elapsed() < std::time::Duration::from_millis(1500),
        "answered in {:?}, not after the refresh",
        asked.elapsed()
    );
    // The refresh's request reaches the provider on its own time: give it a second.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
    while issuer.fetches() < 2 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(issuer.fetches(), 2, "the refresh started, once");
    // Once that refresh has landed (4 s + one fetch), the retired key's tokens are
    // refused, and the new key's are served without a fetch of their own.
    tokio::time::sleep(std::time::Duration::from_millis(6500).saturating_sub(started.elapsed())).await;
    issuer.jwks_delay_ms.store(0, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(refused(&s, &old).await, (401, "unknown_signing_key".to_owned()));
    let fetches = issuer.fetches();
    assert_eq!(
        s.get("/token", Some(&issuer.token(json!({"email": "bob@example.com"}))))
            .await
            .status(),
        200
    );
    assert_eq!(issuer.fetches(), fetches, "the new key came with the refresh");
}

/// `n` calls to `/token` with `bearer` at once: their statuses, in order.
async fn together(s: &Running, bearer: &str, n: usize) -> Vec<u16> {
    let mut set = tokio::task::JoinSet::new();
    for i in 0..n {
        let request = s.http.get(format!("{}/token", s.base)).bearer_auth(bearer);
        set.spawn(async move { (i, request.send().await.map_or(0, |r| r.status().as_u16())) });
    }
    let mut out = vec![0; n];
    while let Some(done) = set.join_next().await {
        let (i, status) = done.unwrap();
        out[i] = status;
    }
    out
}
