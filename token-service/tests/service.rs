//! The service end to end on loopback: a JWT issuer the test runs (keys generated per run,
//! JWKS over HTTP, rotated mid-run), the fake cluster over HTTP, a real HTTP client.

mod support;

use serde_json::json;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use support::*;

const ENV: [(&str, &str); 1] = [("TS_SECRET_KEY", SECRET_KEY)];

/// Every log line of this test binary, in JSON, as the service writes them.
fn logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        #[derive(Clone)]
        struct Sink(Arc<Mutex<Vec<u8>>>);
        impl Write for Sink {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let sink = Sink(buffer.clone());
        tracing_subscriber::fmt()
            .json()
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(move || sink.clone())
            .init();
        buffer
    })
    .clone()
}

/// What most tests run: the logs captured, an issuer, the fake cluster over HTTP, and the
/// service configured for them with `extra` TOML.
async fn setup(
    extra: &str,
) -> (
    Issuer,
    thoughtspot_session_mock::FakeThoughtSpot,
    thoughtspot_session_mock::FakeServer,
    Running,
) {
    logs();
    let issuer = Issuer::start().await;
    let fake = fake();
    let cluster = cluster(&fake).await;
    let s = start(&config(&cluster.base_url(), &issuer, extra), &ENV).await;
    (issuer, fake, cluster, s)
}

fn logged() -> String {
    String::from_utf8_lossy(&logs().lock().unwrap()).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verified_caller_gets_a_full_token_and_a_caller_with_abac_claims_a_custom_one() {
    let (issuer, fake, _cluster, s) = setup("").await;

    let alice_id = issuer.token(alice());
    let response = s.get("/token", Some(&alice_id)).await;
    assert_eq!(response.status(), 200);
    let h = response.headers().clone();
    assert_eq!(h["content-type"], "text/plain; charset=utf-8");
    assert_eq!(h["cache-control"], "no-store");
    assert_eq!(h["access-control-allow-origin"], ORIGIN);
    assert_eq!(h["access-control-allow-credentials"], "true");
    let alice = response.text().await.unwrap();
    assert_eq!(s.token(&alice_id).await, alice, "cached");
    let record = fake
        .live_tokens()
        .into_iter()
        .find(|t| t.token.secret() == alice)
        .unwrap();
    assert_eq!(record.user, "alice@example.com");
    assert!(record.rules.is_none(), "no rule applies: a full token");
    assert_eq!(fake.count("token/full"), 1);

    // Bob's claims carry an org, groups and a region: a custom token with his rules.
    let west_id = issuer.token(
        json!({"email": "bob@example.com", "ts_org": 7, "groups": ["sales"], "region": ["west", "north"]}),
    );
    let west = s.token(&west_id).await;
    let record = fake
        .live_tokens()
        .into_iter()
        .find(|t| t.token.secret() == west)
        .unwrap();
    assert_eq!((record.user.as_str(), record.org_id), ("bob@example.com", 7));
    assert_eq!(record.groups, ["sales"]);
    assert_eq!(
        record.rules.unwrap(),
        json!({"persist_option": "NONE", "filter_rules": [{"column_name": "Region", "operator": "IN", "values": ["west", "north"]}]})
    );
    // Another region is another token; the same region is the cached one, from a new ID token.
    let east = s
        .token(
            &issuer.token(
                json!({"email": "bob@example.com", "ts_org": 7, "groups": ["sales"], "region": "east"}),
            ),
        )
        .await;
    assert_ne!(east, west);
    let again = s.token(&issuer.token(json!({"email": "bob@example.com", "ts_org": 7, "groups": ["sales"], "region": ["west", "north"]}))).await;
    assert_eq!(again, west);
    assert_eq!(fake.count("token/custom"), 2);
    // Bob with no region claim gets neither of his custom tokens.
    let plain = s
        .token(&issuer.token(json!({"email": "bob@example.com", "ts_org": 7, "groups": ["sales"]})))
        .await;
    assert!(plain != west && plain != east);

    // Logs name outcomes, never an ID token, a ThoughtSpot token or the secret key.
    let logs = logged();
    assert!(
        logs.contains("token served") && logs.contains("answered"),
        "{logs}"
    );
    for secret in [
        alice_id.as_str(),
        west_id.as_str(),
        &alice,
        &west,
        &east,
        SECRET_KEY,
    ] {
        assert!(!logs.contains(secret), "a secret reached the logs");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_bearer_tokens_are_401s_that_say_why() {
    let (issuer, fake, _cluster, s) = setup("").await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let base = |extra: serde_json::Value| {
        let mut c = json!({"email": "alice@example.com", "email_verified": true, "iss": issuer.idp.issuer(), "aud": AUDIENCE, "iat": now, "exp": now + 600});
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                c.as_object_mut().unwrap().remove(k);
            } else {
                c[k] = v.clone();
            }
        }
        c
    };
    use base64::Engine;
    let b64 = |v: &serde_json::Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let unsigned = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(&base(json!({})))
    );
    let stranger = thoughtspot_token_service::test_idp::TestIdp::new(issuer.idp.issuer(), AUDIENCE);
    // A token whose header claims HS256: an attacker's try at signing with a public key.
    let good = issuer.idp.sign_raw(&base(json!({})));
    let payload = good.split('.').nth(1).unwrap();
    let hs256 = format!(
        "{}.{payload}.c2ln",
        b64(&json!({"alg": "HS256", "kid": issuer.idp.current_kid()}))
    );
    let tampered = {
        let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
        parts[1] = b64(&base(json!({"email": "bob@example.com"})));
        parts.join(".")
    };
    let cases: Vec<(&str, Option<String>, &str)> = vec![
        ("no header", None, "missing_token"),
        ("not a JWT", Some("not-a-jwt".into()), "malformed_token"),
        ("unsigned", Some(unsigned), "malformed_token"),
        ("HS256 header", Some(hs256), "algorithm_not_accepted"),
        (
            "expired",
            Some(
                issuer
                    .idp
                    .sign_raw(&base(json!({"exp": now - 3600, "iat": now - 7200}))),
            ),
            "token_expired",
        ),
        (
            "not yet valid",
            Some(issuer.idp.sign_raw(&base(json!({"nbf": now + 3600})))),
            "token_not_yet_valid",
        ),
        (
            "wrong audience",
            Some(issuer.idp.sign_raw(&base(json!({"aud": "another-app"})))),
            "wrong_audience",
        ),
        (
            "wrong issuer",
            Some(
                issuer
                    .idp
                    .sign_raw(&base(json!({"iss": "https://evil.example.com"}))),
            ),
            "wrong_issuer",
        ),
        (
            "no exp",
            Some(issuer.idp.sign_raw(&base(json!({"exp": null})))),
            "missing_claim",
        ),
        (
            "unknown key",
            Some(stranger.sign_raw(&base(json!({})))),
            "unknown_signing_key",
        ),
        ("tampered", Some(tampered), "bad_signature"),
        // The standards' rules (issue 32, item 3).
        (
            "iss an array naming the issuer",
            Some(issuer.idp.sign_raw(&base(json!({"iss": [issuer.idp.issuer()]})))),
            "wrong_issuer",
        ),
        (
            "crit naming an unknown extension",
            Some(
                issuer
                    .idp
                    .sign_raw_with(&base(json!({})), |h| h.crit = Some(vec!["exp".into()])),
            ),
            "unsupported_critical_header",
        ),
        (
            "an empty crit",
            Some(
                issuer
                    .idp
                    .sign_raw_with(&base(json!({})), |h| h.crit = Some(vec![])),
            ),
            "unsupported_critical_header",
        ),
        (
            "typed as a logout token",
            Some(
                issuer
                    .idp
                    .sign_raw_with(&base(json!({})), |h| h.typ = Some("logout+jwt".into())),
            ),
            "token_type_not_accepted",
        ),
        (
            "several audiences, no azp",
            Some(
                issuer
                    .idp
                    .sign_raw(&base(json!({"aud": [AUDIENCE, "another-app"]}))),
            ),
            "wrong_authorized_party",
        ),
        (
            "several audiences, azp another party",
            Some(issuer.idp.sign_raw(&base(
                json!({"aud": [AUDIENCE, "another-app"], "azp": "another-app"}),
            ))),
            "wrong_authorized_party",
        ),
    ];
    let mut sent = Vec::new();
    for (what, bearer, code) in &cases {
        let response = s.get("/token", bearer.as_deref()).await;
        let challenge = response.headers().get("www-authenticate").cloned();
        let (status, body) = json_error(response).await;
        assert_eq!(status, 401, "{what}: {body}");
        assert_eq!(body["error"], *code, "{what}: {body}");
        assert!(
            challenge.is_some_and(|c| c.to_str().unwrap().starts_with("Bearer")),
            "{what}"
        );
        sent.extend(bearer.clone());
    }
    // Within the leeway (30 s) an expired token still passes.
    s.token(&issuer.idp.sign_raw(&base(json!({"exp": now - 5}))))
        .await;
    // The controls of the standards' rules: the accepted types (either case, with or
    // without `application/`), none at all, and several audiences with our azp.
    for typ in [Some("JWT"), Some("application/AT+JWT"), None] {
        s.token(
            &issuer
                .idp
                .sign_raw_with(&base(json!({})), |h| h.typ = typ.map(str::to_owned)),
        )
        .await;
    }
    s.token(
        &issuer
            .idp
            .sign_raw(&base(json!({"aud": [AUDIENCE, "another-app"], "azp": AUDIENCE}))),
    )
    .await;
    // A caller the cluster does not know is a 502 (the cluster refused), not a token.
    let (status, body) = json_error(
        s.get(
            "/token",
            Some(&issuer.token(json!({"email": "mallory@example.com"}))),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (502, Some("cluster_refused")),
        "{body}"
    );
    // A caller with no user claim is a 403.
    let (status, body) = json_error(
        s.get("/token", Some(&issuer.token(json!({"sub": "no-email"}))))
            .await,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("unmapped_user")),
        "{body}"
    );
    assert_eq!(
        fake.count("token/full") + fake.count("token/custom"),
        2,
        "alice's once, mallory's refused"
    );
    let logs = logged();
    for token in &sent {
        assert!(
            token.len() < 10 || !logs.contains(token.as_str()),
            "a bearer token reached the logs"
        );
    }
    assert!(
        logs.contains("token_expired") && logs.contains("wrong_audience"),
        "refusals are logged by reason"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_rotated_mid_run_are_fetched_once_and_unknown_kids_cannot_flood_the_provider() {
    let (issuer, _fake, _cluster, s) = setup("").await;
    let old = issuer.token(alice());
    s.token(&old).await;
    assert_eq!(issuer.fetches(), 1, "fetched once, at start");

    // A flood of tokens from keys the provider does not publish: at most one fetch a
    // second (jwks_min_refresh_secs = 1 here), however many requests.
    let stranger = thoughtspot_token_service::test_idp::TestIdp::new(issuer.idp.issuer(), AUDIENCE);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let started = std::time::Instant::now();
    for _ in 0..50 {
        let (status, body) = json_error(s.get("/token", Some(&stranger.sign(&claims(alice())))).await).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("unknown_signing_key"))
        );
    }
    let allowed = 1 + started.elapsed().as_secs() as usize + 1;
    assert!(
        issuer.fetches() - 1 <= allowed,
        "{} fetches in {:?}",
        issuer.fetches() - 1,
        started.elapsed()
    );

    // The provider rotates: the new key is fetched on first sight of its kid, and the
    // retired key's tokens no longer pass.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let before = issuer.fetches();
    issuer.idp.rotate(true);
    let new = issuer.token(alice());
    s.token(&new).await;
    assert_eq!(issuer.fetches(), before + 1);
    s.token(&new).await;
    assert_eq!(issuer.fetches(), before + 1, "the new key is cached");
    let (status, body) = json_error(s.get("/token", Some(&old)).await).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("unknown_signing_key")),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_over_its_rate_gets_429_with_retry_after_and_others_do_not() {
    let (issuer, _fake, _cluster, s) = setup("[limits]\nper_user_per_minute = 6\nper_user_burst = 3\n").await;
    let alice = issuer.token(alice());
    for _ in 0..3 {
        s.token(&alice).await;
    }
    let response = s.get("/token", Some(&alice)).await;
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=10).contains(&retry), "one token every 10 s: {retry}");
    let (status, body) = json_error(response).await;
    assert_eq!((status, body["error"].as_str()), (429, Some("rate_limited")));
    // Carol has her own budget.
    s.token(&issuer.token(json!({"email": "carol@example.com"})))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_metrics_and_json_errors() {
    let (issuer, fake, _cluster, s) = setup("[limits]\nbody_limit_bytes = 1024\n").await;
    assert_eq!(s.get("/healthz", None).await.status(), 200);
    let ready = s.get("/readyz", None).await;
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = serde_json::from_slice(&ready.bytes().await.unwrap()).unwrap();
    assert_eq!(body["checks"], json!({"cluster": true, "identity_keys": true}));

    let alice = issuer.token(alice());
    s.token(&alice).await;
    s.token(&alice).await;
    let metrics = s.get("/metrics", None).await.text().await.unwrap();
    assert!(
        metrics.contains(r#"token_service_requests_total{route="token",outcome="served"} 2"#),
        "{metrics}"
    );
    assert!(
        metrics.contains("token_service_token_cache_hits_total 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("token_service_cluster_token_calls_total 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("token_service_request_duration_seconds_bucket"),
        "{metrics}"
    );
    assert!(!metrics.contains("alice"), "no user in a label");

    // JSON errors with proper statuses.
    let (status, _) = json_error(s.get("/nowhere", None).await).await;
    assert_eq!(status, 404);
    let response = s.http.delete(format!("{}/token", s.base)).send().await.unwrap();
    let (status, body) = json_error(response).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (405, Some("method_not_allowed"))
    );
    let response = s
        .http
        .post(format!("{}/token/invalidate", s.base))
        .header("authorization", format!("Bearer {alice}"))
        .body(vec![b'x'; 4096])
        .send()
        .await
        .unwrap();
    let (status, _) = json_error(response).await;
    assert_eq!(status, 413);
    // CORS: a preflight from the allowed origin passes, another origin gets no grant.
    let preflight = |origin: &'static str| {
        s.http
            .request(reqwest::Method::OPTIONS, format!("{}/token", s.base))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let ok = preflight(ORIGIN).await.unwrap();
    assert_eq!(ok.headers()["access-control-allow-origin"], ORIGIN);
    let other = preflight("https://evil.example.com").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());

    // The cluster goes down (a load balancer's 503 for every call): readiness says so, and
    // a token request is a 503.
    let fresh = issuer.token(json!({"email": "carol@example.com"}));
    fake.set_outage(true);
    tokio::time::sleep(Duration::from_millis(1100)).await; // past the readiness cache
    let ready = s.get("/readyz", None).await;
    assert_eq!(ready.status(), 503);
    let (status, body) = json_error(s.get("/token", Some(&fresh)).await).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (503, Some("cluster_unavailable")),
        "{body}"
    );
    // Alice's cached token is still served.
    s.token(&alice).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalidation_revokes_the_rejected_token_and_the_next_request_mints_anew() {
    let (issuer, fake, _cluster, s) = setup("").await;
    let id = issuer.token(json!({"email": "bob@example.com", "region": "west"}));
    let first = s.token(&id).await;
    assert_eq!(s.invalidate(&id, &first).await, 204);
    let record = fake
        .tokens()
        .into_iter()
        .find(|t| t.token.secret() == first)
        .unwrap();
    assert!(record.revoked, "revoked on the cluster");
    let second = s.token(&id).await;
    assert_ne!(second, first);
    // Another user cannot invalidate bob's token: the key is the caller's own.
    let alice = issuer.token(alice());
    assert_eq!(s.invalidate(&alice, &second).await, 204);
    assert_eq!(s.token(&id).await, second);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_requests_in_flight_and_stops_accepting() {
    logs();
    let issuer = Issuer::start().await;
    let fake = fake();
    fake.set_latency(Duration::from_millis(700));
    let cluster = thoughtspot_session_mock::FakeServer::start_with(
        fake.clone(),
        thoughtspot_session_mock::ServeOptions::new().with_real_time_latency(true),
    )
    .await
    .unwrap();
    let mut s = start(&config(&cluster.base_url(), &issuer, ""), &ENV).await;
    let id = issuer.token(alice());
    let http = s.http.clone();
    let url = format!("{}/token", s.base);
    let in_flight = tokio::spawn(async move {
        http.get(url)
            .header("authorization", format!("Bearer {id}"))
            .send()
            .await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(s.shutdown().await, "drained within the grace");
    let response = in_flight.await.unwrap().unwrap();
    assert_eq!(response.status(), 200, "the request in flight was answered");
    assert!(
        s.http.get(format!("{}/healthz", s.base)).send().await.is_err(),
        "no longer accepting"
    );
}

#[test]
fn the_binary_refuses_a_real_cluster_without_an_identity_provider_and_has_help() {
    let bin = env!("CARGO_BIN_EXE_thoughtspot-token-service");
    let out = std::process::Command::new(bin)
        .env_clear()
        .env("TS_BASE_URL", "https://analytics.example.com")
        .env("TS_SECRET_KEY", "a-secret-key-value")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no identity provider"), "{stderr}");
    assert!(!stderr.contains("a-secret-key-value"));
    let help = std::process::Command::new(bin).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("--config") && help.contains("TS_SECRET_KEY"),
        "{help}"
    );
    let sample = std::process::Command::new(bin)
        .arg("--print-sample-config")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&sample.stdout),
        thoughtspot_token_service::SAMPLE_CONFIG
    );
    // A secret in an argument is not an option: there is no flag that takes one.
    let out = std::process::Command::new(bin)
        .args(["--secret-key", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remembered_verification_ends_when_its_token_expires() {
    logs();
    let issuer = Issuer::start().await;
    let fake = fake();
    let cluster = cluster(&fake).await;
    let mut config = config(&cluster.base_url(), &issuer, "");
    config.identity.as_mut().unwrap().leeway_secs = 0;
    let s = start(&config, &ENV).await;
    let short = issuer.idp.sign_for(&claims(alice()), Duration::from_secs(2));
    s.token(&short).await;
    s.token(&short).await; // remembered
    tokio::time::sleep(Duration::from_millis(3100)).await;
    let (status, body) = json_error(s.get("/token", Some(&short)).await).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("token_expired")),
        "{body}"
    );
}

#[test]
fn the_binary_serves_offline_and_sigterm_stops_it_cleanly() {
    use std::io::BufRead;
    let bin = env!("CARGO_BIN_EXE_thoughtspot-token-service");
    let mut child = std::process::Command::new(bin)
        .env_clear()
        .env("TOKEN_SERVICE_ADDR", "127.0.0.1:0")
        .env("TOKEN_SERVICE_LOG", "off")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut base, mut curl) = (None, None);
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(rest) = line.strip_prefix("token service on ") {
            base = Some(rest.trim().to_owned());
        }
        if line
            .trim_start()
            .starts_with("curl -i -H 'Authorization: Bearer ")
        {
            curl = Some(line.clone());
        }
        if line.starts_with("stop with") {
            break;
        }
    }
    let (base, curl) = (base.expect("an address"), curl.expect("a curl line"));
    // The printed curl line works as printed: its ID token gets alice a custom token.
    let bearer = curl
        .split("Bearer ")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap()
        .to_owned();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let response = http
            .get(format!("{base}/token"))
            .header("authorization", format!("Bearer {bearer}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    });
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "SIGTERM did not stop the service"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_key_set_is_refused_and_callers_get_503_not_a_hang() {
    logs();
    // A provider whose key set is 2 MiB of nothing: over the 256 KiB cap.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().route(
        "/jwks.json",
        axum::routing::get(|| async { " ".repeat(2 * 1024 * 1024) }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    let issuer = Issuer::start().await;
    let fake = fake();
    let cluster = cluster(&fake).await;
    let mut config = config(&cluster.base_url(), &issuer, "");
    config.identity.as_mut().unwrap().jwks_url = format!("{base}/jwks.json");
    let s = start(&config, &ENV).await;
    let started = std::time::Instant::now();
    let (status, body) = json_error(s.get("/token", Some(&issuer.token(alice()))).await).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (503, Some("identity_provider_unavailable")),
        "{body}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    let ready = s.get("/readyz", None).await;
    assert_eq!(ready.status(), 503, "no keys: not ready");
    let metrics = s.get("/metrics", None).await.text().await.unwrap();
    assert!(
        !metrics.contains("token_service_jwks_fetch_failures_total 0"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_revoked_behind_the_services_back_is_replaced_not_served_again() {
    let (issuer, fake, _cluster, s) = setup("[limits]\ntoken_recheck_secs = 1").await;
    let id = issuer.token(alice());
    let revoke_at_the_cluster = |token: &str| {
        let fake = fake.clone();
        let token = thoughtspot_session_core::AccessToken::from(token);
        async move { fake.client().revoke_access_token(&token).await.unwrap() }
    };
    let live = |token: &str| fake.live_tokens().iter().any(|t| t.token.secret() == token);
    let first = s.token(&id).await;
    // Younger than the recheck time: served from the cache, no call to the cluster.
    assert_eq!(s.token(&id).await, first);
    assert_eq!(fake.count("session/user"), 0);

    // The page says which token failed (a POST with it as the body): replaced at once.
    assert!(revoke_at_the_cluster(&first).await);
    let post = |body: String| {
        s.http
            .post(format!("{}/token", s.base))
            .header("authorization", format!("Bearer {id}"))
            .body(body)
            .send()
    };
    let answer = post(first.clone()).await.unwrap();
    assert_eq!(answer.status(), 200);
    let second = answer.text().await.unwrap();
    assert_ne!(second, first, "a fresh token, not the one that failed");
    assert!(live(&second));
    // Control: naming a token that is not the cached one (another's, or stale) changes
    // nothing and mints nothing.
    let minted = fake.count("token/full");
    let answer = post("not-the-cached-token".to_owned()).await.unwrap();
    assert_eq!(answer.text().await.unwrap(), second);
    assert_eq!(fake.count("token/full"), minted);

    // A page that says nothing: once the token is older than the recheck time, it is
    // checked before it is served again, and replaced when the cluster refuses it.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let checks = fake.count("session/user");
    assert_eq!(s.token(&id).await, second, "a live token is served on");
    assert_eq!(fake.count("session/user"), checks + 1, "after one check");
    assert_eq!(s.token(&id).await, second);
    assert_eq!(fake.count("session/user"), checks + 1, "once per recheck time");
    assert!(revoke_at_the_cluster(&second).await);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let third = s.token(&id).await;
    assert_ne!(third, second, "the revoked token is not served again");
    assert!(live(&third));
    assert_eq!(s.token(&id).await, third, "and its replacement is cached");
    let metrics = s.get("/metrics", None).await.text().await.unwrap();
    assert!(
        metrics.contains(r#"route="token",outcome="recheck_replaced"} 1"#),
        "{metrics}"
    );
}
