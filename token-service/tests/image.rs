//! The image (issue 34), built by `scripts/build-image` from the binary these tests run
//! and run with podman as an operator would: read-only root, no capabilities, nobody's
//! user, low ulimits. It serves a token offline (the printed curl line), reads its trust
//! store where the image ships it (an identity provider behind a private CA is refused
//! until that CA is the bundle), serves a caller of a loopback cluster, answers /healthz
//! and /metrics, and stops on SIGTERM inside its grace.
//!
//! It needs podman (and runc): `scripts/test` installs them and runs this test by name
//! (`cargo test -p thoughtspot-token-service --test image -- --ignored`); without podman
//! it fails saying so.

mod support;

use serde_json::{Value, json};
use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

const GRACE: Duration = Duration::from_secs(20);

fn podman(args: &[&str]) -> std::process::Output {
    let out = Command::new("podman").args(args).output().unwrap_or_else(|e| {
        panic!("podman is needed by this test ({e}): install it (Debian: apt-get install podman runc), or run scripts/test, which does")
    });
    assert!(
        out.status.success(),
        "podman {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A container of the image, running in the foreground under the test.
struct Container {
    name: String,
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Container {
    fn run(image: &str, name: &str, extra: &[&str]) -> Self {
        let _ = Command::new("podman").args(["rm", "-f", name]).output();
        let mut args = vec![
            "run",
            "--rm",
            "--name",
            name,
            "--runtime",
            "runc",
            // The sandbox's loopback is the test's: the container listens on 127.0.0.1.
            "--network",
            "host",
            "--read-only",
            "--cap-drop",
            "ALL",
            "--security-opt",
            "no-new-privileges",
            "--ulimit",
            "nofile=1024:1024",
            "--ulimit",
            "nproc=256:256",
        ];
        args.extend_from_slice(extra);
        args.push(image);
        let mut child = Command::new("podman")
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("podman runs");
        let (send, lines) = std::sync::mpsc::channel();
        let stdout = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        std::thread::spawn(move || {
            for line in stdout.map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            name: name.to_owned(),
            child,
            lines,
        }
    }

    /// The lines printed up to and with the one starting with `stop with`.
    fn banner(&self) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let done = line.starts_with("stop with");
                    seen.push(line);
                    if done {
                        return seen;
                    }
                }
                Err(_) => panic!("the container printed no banner within 30 s: {seen:#?}"),
            }
        }
    }

    /// Stops it as an orchestrator does (SIGTERM, the image's STOPSIGNAL) and answers how
    /// long it took; asserts it exited 0 (drained).
    fn stop(mut self) -> Duration {
        let began = Instant::now();
        podman(&["stop", "--time", &GRACE.as_secs().to_string(), &self.name]);
        let status = self.child.wait().unwrap();
        let took = began.elapsed();
        assert!(status.success(), "the service exited {status} on SIGTERM");
        took
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = Command::new("podman").args(["rm", "-f", &self.name]).output();
        let _ = self.child.kill();
    }
}

async fn get(http: &reqwest::Client, url: &str, bearer: Option<&str>) -> (u16, String) {
    let mut r = http.get(url);
    if let Some(b) = bearer {
        r = r.header("authorization", format!("Bearer {b}"));
    }
    let r = r.send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[test]
#[ignore = "builds and runs a container with podman: scripts/test runs it by name"]
fn the_image_runs_read_only_as_nobody_serves_tokens_and_stops_on_sigterm() {
    let image = format!("thoughtspot-token-service:test-{}", std::process::id());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/build-image");
    let built = Command::new(script)
        .args([
            "--binary",
            env!("CARGO_BIN_EXE_thoughtspot-token-service"),
            "--tag",
            &image,
        ])
        .status()
        .expect("scripts/build-image runs");
    assert!(built.success(), "scripts/build-image failed");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();

    // What the image holds: the binary, its libraries, the CA bundle; no shell, no user
    // database. It runs as nobody.
    let user = podman(&["image", "inspect", "--format", "{{.Config.User}}", &image]);
    assert_eq!(String::from_utf8_lossy(&user.stdout).trim(), "65534:65534");
    let created = podman(&["create", "--runtime", "runc", &image]);
    let id = String::from_utf8_lossy(&created.stdout).trim().to_owned();
    let files = Command::new("sh")
        .args(["-c", &format!("podman export {id} | tar -t")])
        .output()
        .unwrap();
    let bundle = Command::new("sh")
        .args([
            "-c",
            &format!("podman export {id} | tar -xO etc/ssl/certs/ca-certificates.crt"),
        ])
        .output()
        .unwrap();
    podman(&["rm", &id]);
    let files = String::from_utf8_lossy(&files.stdout);
    let mut regular: Vec<&str> = files.lines().filter(|f| !f.ends_with('/')).collect();
    regular.sort();
    assert!(
        regular.contains(&"usr/local/bin/thoughtspot-token-service"),
        "{regular:?}"
    );
    assert!(regular.iter().any(|f| f.ends_with("/libc.so.6")), "{regular:?}");
    assert!(
        regular.iter().all(|f| f.starts_with("usr/local/bin/")
            || f.starts_with("lib")
            || f.starts_with("usr/lib")
            || *f == "etc/ssl/certs/ca-certificates.crt"
            // Made by the runtime: empty mount points.
            || ["etc/hosts", "etc/resolv.conf", "etc/hostname", "run/.containerenv"].contains(f)),
        "only the binary, its libraries and the CA bundle: {regular:?}"
    );
    assert!(
        !regular
            .iter()
            .any(|f| f.ends_with("bin/sh") || *f == "etc/passwd")
    );
    let roots = String::from_utf8_lossy(&bundle.stdout)
        .matches("BEGIN CERTIFICATE")
        .count();
    assert!(roots > 100, "the public CA bundle ships: {roots} certificates");

    // Offline: the embedded fake and the test identity provider; the printed curl line
    // gets a token through the container.
    let port = free_port();
    let addr = format!("TOKEN_SERVICE_ADDR=127.0.0.1:{port}");
    let name = format!("ts-image-offline-{}", std::process::id());
    let offline = Container::run(&image, &name, &["-e", &addr]);
    let banner = offline.banner();
    let curl = banner
        .iter()
        .find(|l| l.trim_start().starts_with("curl -i -H 'Authorization: Bearer "))
        .unwrap_or_else(|| panic!("a curl line: {banner:#?}"));
    let bearer = curl.split("Bearer ").nth(1).unwrap().split('\'').next().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    assert!(curl.ends_with(&format!("{base}/token")), "{curl}");
    runtime.block_on(async {
        let (status, token) = get(&http, &format!("{base}/token"), Some(bearer)).await;
        assert_eq!(status, 200, "{token}");
        assert!(!token.is_empty());
        assert_eq!(get(&http, &format!("{base}/healthz"), None).await.0, 200);
        let (status, metrics) = get(&http, &format!("{base}/metrics"), None).await;
        assert_eq!(status, 200);
        assert!(
            metrics.contains("token_service_requests_total{route=\"token\",outcome=\"served\"} 1"),
            "{metrics}"
        );
    });
    let top = podman(&["top", &name, "huser", "user"]);
    let top = String::from_utf8_lossy(&top.stdout);
    assert!(
        top.lines()
            .skip(1)
            .all(|l| l.split_whitespace().nth(1) == Some("65534")),
        "{top}"
    );
    let took = offline.stop();
    assert!(took < GRACE, "stopped in {took:?}, inside the grace");
    eprintln!("offline container stopped {took:?} after SIGTERM");

    // A loopback cluster, and an identity provider whose key set is served over TLS by a
    // private CA. With the image's public bundle, the provider is not trusted: no keys, no
    // token. With that CA as the bundle (mounted where the image ships it), tokens.
    runtime.block_on(async {
        let issuer = Issuer::start().await;
        let fake = fake();
        let cluster = cluster(&fake).await;
        let (jwks_base, ca_pem) = thoughtspot_session_tests::tls::tls_server_serving(
            issuer.idp.jwks().to_string(),
            "application/json",
        )
        .await;
        let dir = std::env::temp_dir().join(format!("ts-image-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (config, ca) = (dir.join("config.toml"), dir.join("ca.pem"));
        let port = free_port();
        std::fs::write(
            &config,
            format!(
                r#"[cluster]
url = "{cluster}"
[identity]
issuer = "{iss}"
audiences = ["{AUDIENCE}"]
jwks_url = "{jwks_base}/jwks.json"
jwks_min_refresh_secs = 1
"#,
                cluster = cluster.base_url(),
                iss = issuer.idp.issuer(),
            ),
        )
        .unwrap();
        std::fs::write(&ca, ca_pem).unwrap();
        let mount = format!("{}:/etc/token-service/config.toml:ro", config.display());
        let secret = format!("TS_SECRET_KEY={SECRET_KEY}");
        // The image sets TOKEN_SERVICE_ADDR (all addresses, port 8787), which a file's
        // `listen` does not override: the variable does.
        let addr = format!("TOKEN_SERVICE_ADDR=127.0.0.1:{port}");
        let common = [
            "-v",
            mount.as_str(),
            "-e",
            "TOKEN_SERVICE_CONFIG=/etc/token-service/config.toml",
            "-e",
            secret.as_str(),
            "-e",
            addr.as_str(),
        ];
        let base = format!("http://127.0.0.1:{port}");
        let caller = issuer.token(json!({"email": "carol@example.com", "email_verified": true}));

        let name = format!("ts-image-untrusted-{}", std::process::id());
        let untrusted = Container::run(&image, &name, &common);
        untrusted.banner();
        let (status, ready) = get(&http, &format!("{base}/readyz"), None).await;
        let ready: Value = serde_json::from_str(&ready).unwrap();
        assert_eq!(
            (status, &ready["checks"]["identity_keys"]),
            (503, &json!(false)),
            "{ready}"
        );
        let (status, body) = get(&http, &format!("{base}/token"), Some(&caller)).await;
        assert_eq!(status, 503, "{body}");
        untrusted.stop();

        let bundle = format!("{}:/etc/ssl/certs/ca-certificates.crt:ro", ca.display());
        let mut args = common.to_vec();
        args.extend_from_slice(&["-v", bundle.as_str()]);
        let name = format!("ts-image-trusted-{}", std::process::id());
        let trusted = Container::run(&image, &name, &args);
        trusted.banner();
        let (status, ready) = get(&http, &format!("{base}/readyz"), None).await;
        assert_eq!(status, 200, "{ready}");
        let (status, token) = get(&http, &format!("{base}/token"), Some(&caller)).await;
        assert_eq!(status, 200, "{token}");
        let issued = fake
            .tokens()
            .into_iter()
            .find(|t| t.token.secret() == token)
            .expect("the cluster issued it");
        assert_eq!(issued.user, "carol@example.com");
        let (_, metrics) = get(&http, &format!("{base}/metrics"), None).await;
        assert!(metrics.contains("outcome=\"served\"} 1"), "{metrics}");
        let took = tokio::task::spawn_blocking(move || trusted.stop()).await.unwrap();
        assert!(took < GRACE, "stopped in {took:?}");
        let _ = std::fs::remove_dir_all(&dir);
    });
    let _ = Command::new("podman").args(["rmi", "-f", &image]).output();
}

#[test]
fn the_registry_containerfile_ends_in_the_runtime_stage_the_test_proves() {
    let stage = |text: &str| {
        let from = text.rfind("FROM scratch").expect("a scratch runtime stage");
        let user = text[from..].find("USER ").expect("a USER") + from;
        text[user..].to_owned()
    };
    let proven = include_str!("../image/Containerfile");
    let registry = include_str!("../Containerfile");
    assert_eq!(stage(registry), stage(proven));
    assert!(registry.contains("token-service/image/rootfs target/release/thoughtspot-token-service /rootfs"));
    assert!(registry[registry.rfind("FROM scratch").unwrap()..].contains("COPY --from=build /rootfs/ /"));
}
