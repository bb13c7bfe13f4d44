//! `fake-thoughtspot` driven as a separate process, through both production backends.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use thoughtspot_session_core::v2::{AuthApi, GetFullAccessTokenRequest};
use thoughtspot_session_core::{
    ApiVersion, GetTokenRequest, HttpTransport, LoginRequest, SessionApi, SessionClient, TokioSleep,
};

const BIN: &str = env!("CARGO_BIN_EXE_fake-thoughtspot");

/// The running binary and the base URL it printed on its first line.
struct Fake {
    child: Child,
    base_url: String,
}

impl Fake {
    fn start(args: &[&str]) -> Self {
        let mut child = Command::new(BIN)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().expect("stdout"))
            .read_line(&mut line)
            .expect("the first line");
        let base_url = line.trim().to_owned();
        assert!(base_url.starts_with("http://127.0.0.1:"), "{base_url:?}");
        Self { child, base_url }
    }

    /// Sends SIGTERM and returns the exit status and everything written to stderr.
    fn stop(mut self) -> (std::process::ExitStatus, String) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let started = Instant::now();
        let exit = loop {
            if let Some(exit) = self.child.try_wait().expect("wait") {
                break exit;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut stderr = String::new();
        self.child
            .stderr
            .take()
            .expect("stderr")
            .read_to_string(&mut stderr)
            .expect("stderr text");
        (exit, stderr)
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn transports() -> [(&'static str, Arc<dyn HttpTransport>); 2] {
    [
        (
            "reqwest",
            Arc::new(
                thoughtspot_session_reqwest::ReqwestTransport::builder()
                    .no_proxy()
                    .build()
                    .expect("builds"),
            ),
        ),
        (
            "hyper",
            Arc::new(thoughtspot_session_hyper::HyperTransport::new().expect("builds")),
        ),
    ]
}

fn client(
    base: &str,
    transport: Arc<dyn HttpTransport>,
    version: ApiVersion,
) -> SessionClient<Arc<dyn HttpTransport>> {
    SessionClient::builder(base)
        .api_version(thoughtspot_session_core::ApiVersion::V2Beta)
        .sleep(TokioSleep::new())
        .timeout(Duration::from_secs(10))
        .api_version(version)
        .build(transport)
        .expect("valid")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_both_generations_to_both_backends_and_logs_no_secret() {
    let fake = Fake::start(&[
        "--user",
        "analyst:PW-SECRET-1:0,7",
        "--secret-key",
        "KEY-SECRET-2",
    ]);
    let mut tokens = Vec::new();
    for (name, transport) in transports() {
        for version in [ApiVersion::V2Beta, ApiVersion::V2] {
            let c = client(&fake.base_url, transport.clone(), version);
            let issued = c
                .get_token(&GetTokenRequest::with_secret_key("analyst", "KEY-SECRET-2").with_org_id("7"))
                .await
                .unwrap_or_else(|e| panic!("{name} {version:?}: {e}"));
            tokens.push(issued.token().expect("a token").secret().to_owned());
            c.use_token(&issued).expect("usable");
            c.login(&LoginRequest::bearer()).await.expect("login");
            assert_eq!(
                c.get_session_info().await.expect("info").user_name(),
                Some("analyst")
            );
            assert!(c.logout().await.expect("logout"));
            let e = c
                .login(&LoginRequest::with_password("analyst", "wrong"))
                .await
                .expect_err("refused");
            assert!(e.is_unauthorized(), "{name} {version:?}: {e}");
        }
        let v2 = client(&fake.base_url, transport.clone(), ApiVersion::V2);
        let full = v2
            .token_full(&GetFullAccessTokenRequest::with_password(
                "analyst",
                "PW-SECRET-1",
            ))
            .await
            .expect("token/full");
        assert_eq!(full.scope.access_type, "FULL");
    }
    let (exit, log) = fake.stop();
    assert!(exit.success(), "{exit:?}");
    assert!(
        log.contains("POST /tspublic/rest/v2/session/gettoken 200"),
        "{log}"
    );
    assert!(log.contains("POST /api/rest/2.0/auth/token/full 200"), "{log}");
    assert!(log.contains("POST /api/rest/2.0/auth/session/login 401"), "{log}");
    assert!(!log.contains("SECRET"), "{log}");
    for token in tokens {
        assert!(!log.contains(&token), "{log}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_a_toml_file_and_serves_only_what_it_says() {
    let dir = std::env::temp_dir().join(format!("fake-thoughtspot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let config = dir.join("fake.toml");
    std::fs::write(
        &config,
        "secret_key = \"k\"\napi = \"v2\"\ntoken_lifetime_secs = 60\n[[users]]\nname = \"ana\"\npassword = \"pw\"\nprivileges = [\"ADMINISTRATION\"]\n",
    )
    .expect("written");
    let fake = Fake::start(&["--config", config.to_str().expect("utf-8"), "--quiet"]);
    let (_, transport) = transports().into_iter().next().expect("reqwest");
    let beta = client(&fake.base_url, transport.clone(), ApiVersion::V2Beta);
    let e = beta.get_session_info().await.expect_err("no beta here");
    assert_eq!(e.status().map(|s| s.as_u16()), Some(404));
    let v2 = client(&fake.base_url, transport, ApiVersion::Auto);
    let issued = v2
        .get_token(&GetTokenRequest::with_secret_key("ana", "k"))
        .await
        .expect("token");
    assert_eq!(
        (v2.api_version(), issued.lifetime()),
        (ApiVersion::V2, Some(Duration::from_secs(60)))
    );
    let (exit, log) = fake.stop();
    assert!(exit.success());
    assert!(log.is_empty(), "--quiet logs nothing: {log}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bad_flags_exit_2_with_a_message_and_help_documents_everything() {
    for (args, says) in [
        (&["--port", "eighty"][..], "--port takes a number"),
        (&["--user", "nopassword"][..], "--user takes NAME:PASSWORD"),
        (&["--api", "v3"][..], "--api takes both, beta or v2"),
        (&["--bogus"][..], "unknown argument"),
        (&["--config", "/nonexistent/fake.toml"][..], "cannot read"),
    ] {
        let out = Command::new(BIN).args(args).output().expect("runs");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    let help = Command::new(BIN).arg("--help").output().expect("runs");
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    for flag in [
        "--config",
        "--port",
        "--user",
        "--secret-key",
        "--object",
        "--token-lifetime",
        "--session-lifetime",
        "--api",
        "--release-version",
        "--latency-ms",
        "--fail-next",
        "--quiet",
        "SIGTERM",
        "TOML",
    ] {
        assert!(text.contains(flag), "--help leaves out {flag}");
    }
}
