//! Live reload under load (issue 34): the binary runs from a configuration file, callers
//! ask for tokens without pause, and the file's rules change twice (SIGHUP each time) and
//! twice to a file it must refuse. No request fails; each new rule set is in force within
//! a second of the signal; a refused file leaves the rules in force, and says so in
//! /metrics and the log without quoting the file.

mod support;

use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::BufRead;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::*;
use thoughtspot_session_mock::FakeThoughtSpot;

/// The configuration file's text: `rules` appended to the `[abac]` table, `grace` the
/// (restart-only) shutdown grace, `origins` the allowed origins.
fn file(cluster: &str, issuer: &Issuer, rules: &str, grace: u64, origins: &str) -> String {
    format!(
        r#"listen = "127.0.0.1:0"
allowed_origins = [{origins}]
log = "json"
[cluster]
url = "{cluster}"
[identity]
issuer = "{issuer}"
audiences = ["{AUDIENCE}"]
jwks_url = "{jwks}"
[limits]
per_user_per_minute = 1000000
per_user_burst = 1000000
shutdown_grace_ms = {grace}
[abac]
{rules}
"#,
        issuer = issuer.idp.issuer(),
        jwks = issuer.jwks_url,
    )
}

const REGION: &str = "[[abac.rules]]\nclaim = \"region\"\ncolumn = \"Region\"\n";
const TERRITORY: &str = "[[abac.rules]]\nclaim = \"region\"\ncolumn = \"Territory\"\n";
const TERRITORY_AND_TIER: &str = "[[abac.rules]]\nclaim = \"region\"\ncolumn = \"Territory\"\n\
     [[abac.rules]]\nclaim = \"tier\"\nparameter = \"Tier\"\n";
const ORIGIN_LIST: &str = "\"https://app.example.com\"";

/// The columns and parameters of the rules a served token was issued with.
type Shape = (Vec<String>, Vec<String>);

fn shapes(fake: &FakeThoughtSpot) -> HashMap<String, Shape> {
    let names = |rules: &Value, list: &str, key: &str| -> Vec<String> {
        rules[list]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|r| r[key].as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    fake.tokens()
        .into_iter()
        .map(|t| {
            let rules = t.rules.clone().unwrap_or(Value::Null);
            (
                t.token.secret().to_owned(),
                (
                    names(&rules, "filter_rules", "column_name"),
                    names(&rules, "parameter_values", "name"),
                ),
            )
        })
        .collect()
}

fn shape(columns: &[&str], parameters: &[&str]) -> Shape {
    (
        columns.iter().map(|s| s.to_string()).collect(),
        parameters.iter().map(|s| s.to_string()).collect(),
    )
}

/// One answer a caller got: when its request began, its status, its body.
struct Answer {
    began: Instant,
    status: u16,
    body: String,
}

struct Child {
    process: std::process::Child,
    base: String,
    stdout: Arc<Mutex<Vec<String>>>,
}

impl Child {
    fn spawn(config: &std::path::Path, args: &[&str]) -> Self {
        let bin = env!("CARGO_BIN_EXE_thoughtspot-token-service");
        let mut process = std::process::Command::new(bin)
            .env_clear()
            .env("TS_SECRET_KEY", SECRET_KEY)
            .arg("--config")
            .arg(config)
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let (found, address) = std::sync::mpsc::channel();
        let lines = std::io::BufReader::new(process.stdout.take().unwrap()).lines();
        let kept = stdout.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("token service on ") {
                    let _ = found.send(rest.trim().to_owned());
                }
                kept.lock().unwrap().push(line);
            }
        });
        let base = address
            .recv_timeout(Duration::from_secs(20))
            .expect("the service printed its address within 20 s");
        Self {
            process,
            base,
            stdout,
        }
    }

    fn signal(&self, name: &str) {
        let status = std::process::Command::new("kill")
            .args([format!("-{name}"), self.process.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    fn log(&self) -> Vec<String> {
        self.stdout.lock().unwrap().clone()
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

async fn metric(http: &reqwest::Client, base: &str, line_start: &str) -> String {
    metric_or_none(http, base, line_start)
        .await
        .unwrap_or_else(|| panic!("no {line_start} in /metrics"))
}

/// A metric's value, `None` while its line is absent (a labelled counter not yet counted).
async fn metric_or_none(http: &reqwest::Client, base: &str, line_start: &str) -> Option<String> {
    let text = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find(|l| l.starts_with(line_start))
        .map(|l| l[line_start.len()..].trim().to_owned())
}

/// Writes `text` over the file in one step (a rename), as an editor or a ConfigMap does.
fn write(path: &std::path::Path, text: &str) {
    let next = path.with_extension("next");
    std::fs::write(&next, text).unwrap();
    std::fs::rename(&next, path).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_change_under_load_without_a_failed_request_and_a_broken_file_is_refused() {
    let issuer = Issuer::start().await;
    let fake = fake();
    let server = cluster(&fake).await;
    let cluster = server.base_url();
    let dir = std::env::temp_dir().join(format!("ts-reload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("token-service.toml");
    write(&path, &file(&cluster, &issuer, REGION, 20000, ORIGIN_LIST));
    let child = Child::spawn(&path, &[]);
    let base = child.base.clone();
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();

    // Callers without pause: two users, four at a time.
    let bearers: Vec<String> = ["alice@example.com", "carol@example.com"]
        .iter()
        .map(|email| {
            issuer.token(json!({"email": email, "email_verified": true, "region": "west", "tier": "gold"}))
        })
        .collect();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let answers = Arc::new(Mutex::new(Vec::<Answer>::new()));
    let mut load = Vec::new();
    for caller in 0..4 {
        let (http, base, stop, answers) = (http.clone(), base.clone(), stop.clone(), answers.clone());
        let bearer = bearers[caller % 2].clone();
        load.push(tokio::spawn(async move {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let began = Instant::now();
                let (status, body) = match http
                    .get(format!("{base}/token"))
                    .header("authorization", format!("Bearer {bearer}"))
                    .send()
                    .await
                {
                    Ok(r) => (r.status().as_u16(), r.text().await.unwrap_or_default()),
                    Err(e) => (0, e.to_string()),
                };
                answers.lock().unwrap().push(Answer { began, status, body });
            }
        }));
    }
    // The shape a fresh token of alice's has now, asked for apart from the load.
    let probe = bearers[0].clone();
    let current = || {
        let (http, base, probe, fake) = (http.clone(), base.clone(), probe.clone(), fake.clone());
        async move {
            let r = http
                .get(format!("{base}/token"))
                .header("authorization", format!("Bearer {probe}"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            let token = r.text().await.unwrap();
            shapes(&fake)[&token].clone()
        }
    };
    assert_eq!(current().await, shape(&["Region"], &[]));
    tokio::time::sleep(Duration::from_millis(300)).await;

    // A change of rules, and of a setting only a restart applies; then a second change of
    // rules that puts that setting back. Each in force within a second of its signal.
    let mut signalled = Vec::new();
    for (rules, grace, expected, pending) in [
        (TERRITORY, 25000, shape(&["Territory"], &[]), "1"),
        (TERRITORY_AND_TIER, 20000, shape(&["Territory"], &["Tier"]), "0"),
    ] {
        write(&path, &file(&cluster, &issuer, rules, grace, ORIGIN_LIST));
        let sent = Instant::now();
        child.signal("HUP");
        loop {
            if current().await == expected {
                break;
            }
            assert!(
                sent.elapsed() < Duration::from_secs(1),
                "{expected:?} not in force within 1 s of SIGHUP"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let took = sent.elapsed();
        eprintln!("{expected:?} in force {took:?} after SIGHUP");
        signalled.push((sent, expected));
        assert_eq!(
            metric(&http, &base, "token_service_config_last_reload_success ").await,
            "1"
        );
        assert_eq!(
            metric(&http, &base, "token_service_config_restart_pending ").await,
            pending
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(
        child
            .log()
            .iter()
            .any(|l| l.contains("limits.shutdown_grace_ms") && l.contains("\"level\":\"WARN\"")),
        "the restart-only change is named in the log"
    );

    // A file cut off mid-write, then one that parses but fails --check (a wildcard origin):
    // both refused, the rules in force kept.
    let good = file(&cluster, &issuer, TERRITORY_AND_TIER, 20000, ORIGIN_LIST);
    let cut = &good[..good.find("parameter = \"Ti").unwrap() + 15];
    let wildcard = file(&cluster, &issuer, TERRITORY_AND_TIER, 20000, "\"*\"");
    for (n, text) in [cut, wildcard.as_str()].into_iter().enumerate() {
        write(&path, text);
        child.signal("HUP");
        let sent = Instant::now();
        loop {
            let refused = metric_or_none(
                &http,
                &base,
                "token_service_config_reloads_total{outcome=\"refused\"} ",
            )
            .await;
            if refused == Some((n + 1).to_string()) {
                break;
            }
            assert!(
                sent.elapsed() < Duration::from_secs(2),
                "the refusal counted within 2 s"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(
            metric(&http, &base, "token_service_config_last_reload_success ").await,
            "0"
        );
        for _ in 0..5 {
            assert_eq!(current().await, shape(&["Territory"], &["Tier"]));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    assert_eq!(
        metric(
            &http,
            &base,
            "token_service_config_reloads_total{outcome=\"applied\"} "
        )
        .await,
        "2"
    );
    let log = child.log();
    let refusals: Vec<&String> = log
        .iter()
        .filter(|l| l.contains("configuration reload refused"))
        .collect();
    assert_eq!(refusals.len(), 2, "{log:#?}");
    assert!(
        refusals[0].contains("line"),
        "the cut file's error names its line: {}",
        refusals[0]
    );
    assert!(refusals[1].contains("allowed_origins"), "{}", refusals[1]);
    for refusal in &refusals {
        assert!(
            !refusal.contains("Territory") && !refusal.contains(&cluster),
            "{refusal}"
        );
    }
    // The wildcard was not put in force: a page of another origin gets no CORS grant.
    let preflight = http
        .request(reqwest::Method::OPTIONS, format!("{base}/token"))
        .header("origin", "https://evil.example.com")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert!(preflight.headers().get("access-control-allow-origin").is_none());

    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for task in load {
        task.await.unwrap();
    }
    let answers = std::mem::take(&mut *answers.lock().unwrap());
    let failed: Vec<_> = answers
        .iter()
        .filter(|a| a.status != 200)
        .map(|a| (a.status, &a.body))
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} requests failed: {failed:?}",
        failed.len(),
        answers.len()
    );
    assert!(answers.len() > 100, "the load ran: {} requests", answers.len());
    // Every request the load began a second or more after a signal got that signal's rules
    // (or a later one's).
    let issued = shapes(&fake);
    let mut late = 0;
    for a in &answers {
        let Some(i) = signalled
            .iter()
            .rposition(|(sent, _)| a.began >= *sent + Duration::from_secs(1))
        else {
            continue;
        };
        let got = &issued[&a.body];
        let allowed: Vec<&Shape> = signalled[i..].iter().map(|(_, s)| s).collect();
        assert!(
            allowed.contains(&got),
            "a request began over 1 s after a reload got {got:?}"
        );
        late += 1;
    }
    assert!(late > 10, "the load ran after the reloads: {late}");
    eprintln!("{} requests under reload, none failed", answers.len());

    child.signal("TERM");
    let mut child = child;
    let started = Instant::now();
    loop {
        if let Some(status) = child.process.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "SIGTERM did not stop it"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_watch_config_a_changed_file_is_applied_without_a_signal() {
    let issuer = Issuer::start().await;
    let fake = fake();
    let server = cluster(&fake).await;
    let cluster = server.base_url();
    let dir = std::env::temp_dir().join(format!("ts-watch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("token-service.toml");
    write(&path, &file(&cluster, &issuer, REGION, 20000, ORIGIN_LIST));
    let child = Child::spawn(&path, &["--watch-config"]);
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let bearer =
        issuer.token(json!({"email": "alice@example.com", "email_verified": true, "region": "west"}));
    let current = || async {
        let token = http
            .get(format!("{}/token", child.base))
            .header("authorization", format!("Bearer {bearer}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        shapes(&fake)[&token].clone()
    };
    assert_eq!(current().await, shape(&["Region"], &[]));
    write(&path, &file(&cluster, &issuer, TERRITORY, 20000, ORIGIN_LIST));
    let written = Instant::now();
    // Checked every second: in force within two.
    while current().await != shape(&["Territory"], &[]) {
        assert!(
            written.elapsed() < Duration::from_secs(2),
            "not applied within 2 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!("applied {:?} after the write", written.elapsed());
    let _ = std::fs::remove_dir_all(&dir);
}
