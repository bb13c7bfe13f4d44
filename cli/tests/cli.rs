//! The CLI end to end: the binary as a process against the fake cluster on loopback.

use std::process::{Command, Output};
use std::time::Duration;
use thoughtspot_session_mock::{ApiGenerations, FakeServer, FakeThoughtSpot, FakeUser};

const BIN: &str = env!("CARGO_BIN_EXE_thoughtspot-session");
const OBJECT: &str = "0f6b4c33-58a9-4b3c-9d6b-ef2f7c1b2a10";

fn fake(generations: ApiGenerations) -> FakeThoughtSpot {
    FakeThoughtSpot::builder()
        .user(
            FakeUser::new("analyst", "PW-SECRET-1")
                .orgs([0, 7])
                .display_name("An Analyst"),
        )
        .secret_key("KEY-SECRET-2")
        .object(OBJECT)
        .release_version("10.1.0.cl")
        .generations(generations)
        .build()
}

/// Runs the CLI with `args` and `env` (and no inherited TS_ variables), off the runtime.
async fn cli(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(BIN);
    command.args(args);
    for name in [
        "TS_BASE_URL",
        "TS_API",
        "TS_PASSWORD",
        "TS_SECRET_KEY",
        "TS_TOKEN",
    ] {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    tokio::task::spawn_blocking(move || command.output().expect("the CLI runs"))
        .await
        .expect("joined")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_whoami_validate_revoke_on_both_generations() {
    for api in ["v2", "beta", "auto"] {
        let fake = fake(ApiGenerations::Both);
        let server = FakeServer::start(fake.clone()).await.expect("serves");
        let url = server.base_url();
        let base = [("TS_BASE_URL", url.as_str()), ("TS_API", api)];
        let key = [base[0], base[1], ("TS_SECRET_KEY", "KEY-SECRET-2")];

        let out = cli(&["token", "--user", "analyst", "--org", "7"], &key).await;
        assert!(out.status.success(), "{api}: {}", text(&out.stderr));
        let token = text(&out.stdout).trim().to_owned();
        assert!(
            fake.live_tokens()
                .iter()
                .any(|t| t.token.secret() == token && t.org_id == 7),
            "{api}"
        );
        assert_eq!(
            text(&out.stdout),
            format!("{token}\n"),
            "only the token, for pipes"
        );

        let out = cli(
            &[
                "token",
                "--user",
                "analyst",
                "--object",
                OBJECT,
                "--lifetime",
                "60",
                "--json",
            ],
            &key,
        )
        .await;
        assert!(out.status.success(), "{}", text(&out.stderr));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        assert_eq!(
            (json["user"].as_str(), json["lifetime_secs"].as_u64()),
            (Some("analyst"), Some(60))
        );

        let with_token = [base[0], base[1], ("TS_TOKEN", token.as_str())];
        let out = cli(&["whoami"], &with_token).await;
        assert!(out.status.success(), "{api}: {}", text(&out.stderr));
        let shown = text(&out.stdout);
        assert!(
            shown.contains("user:       analyst") && shown.contains("AUTHORING"),
            "{api}: {shown}"
        );

        let with_password = [base[0], base[1], ("TS_PASSWORD", "PW-SECRET-1")];
        let out = cli(&["whoami", "--user", "analyst"], &with_password).await;
        assert!(out.status.success(), "{api}: {}", text(&out.stderr));

        let out = cli(&["validate"], &with_token).await;
        assert!(out.status.success(), "{api}: {}", text(&out.stderr));
        assert!(text(&out.stdout).starts_with("valid"), "{api}");
        let out = cli(&["revoke"], &with_token).await;
        assert!(out.status.success(), "{api}: {}", text(&out.stderr));
        let out = cli(&["validate"], &with_token).await;
        assert_eq!(
            out.status.code(),
            Some(3),
            "{api}: a revoked token is refused: {}",
            text(&out.stderr)
        );

        // Nothing but `token` prints the token, and nothing prints the password or the key.
        let mut printed = String::new();
        for args in [
            &["whoami"][..],
            &["validate"][..],
            &["revoke"][..],
            &["probe"][..],
            &["whoami", "-vv"][..],
        ] {
            let out = cli(args, &with_token).await;
            printed += &(text(&out.stdout) + &text(&out.stderr));
        }
        let out = cli(&["whoami", "--user", "analyst", "-vv"], &with_password).await;
        printed += &(text(&out.stdout) + &text(&out.stderr));
        assert!(printed.contains("thoughtspot_session"), "-vv traces the calls");
        assert!(
            !printed.contains("SECRET") && !printed.contains(&token),
            "{api}: {printed}"
        );
        server.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_says_which_generations_a_cluster_serves() {
    for (generations, says) in [
        (ApiGenerations::Both, "served:      v2.0, v2 beta"),
        (ApiGenerations::BetaOnly, "served:      v2 beta"),
        (ApiGenerations::V2Only, "served:      v2.0\n"),
    ] {
        let server = FakeServer::start(fake(generations)).await.expect("serves");
        let out = cli(&["probe", "--base-url", &server.base_url()], &[]).await;
        assert!(out.status.success(), "{}", text(&out.stderr));
        let shown = text(&out.stdout);
        assert!(
            shown.contains(says) && shown.contains("round trip:"),
            "{generations:?}: {shown}"
        );
        server.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_its_exit_code_and_a_message_that_says_what_to_do() {
    let fake = fake(ApiGenerations::Both);
    let server = FakeServer::start(fake.clone()).await.expect("serves");
    let url = server.base_url();
    // A refused secret key: 3.
    let out = cli(
        &["token", "--user", "analyst"],
        &[("TS_BASE_URL", &url), ("TS_SECRET_KEY", "wrong")],
    )
    .await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("check the user, the password, the secret key"));
    // A refused password: 3, and it never prints.
    let out = cli(
        &["whoami", "--user", "analyst"],
        &[("TS_BASE_URL", &url), ("TS_PASSWORD", "PW-WRONG-9")],
    )
    .await;
    assert_eq!(out.status.code(), Some(3));
    assert!(!text(&out.stderr).contains("PW-WRONG-9"));
    // An unreachable host: 4. (Port 1 on loopback: nothing listens, and a test cannot
    // take it, unlike a port freed a moment ago that a parallel test may bind.)
    let out = cli(
        &["token", "--user", "a", "--base-url", "http://127.0.0.1:1"],
        &[("TS_SECRET_KEY", "k")],
    )
    .await;
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("check --base-url"));
    // A timeout: 4.
    fake.set_latency(Duration::from_secs(3600)); // virtual time: never answers
    let out = cli(
        &["token", "--user", "analyst", "--timeout", "1"],
        &[("TS_BASE_URL", &url), ("TS_SECRET_KEY", "KEY-SECRET-2")],
    )
    .await;
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    fake.set_latency(Duration::ZERO);
    // A wrong URL, a malformed flag, a missing secret: 2.
    for (args, env, says) in [
        (
            &["token", "--user", "a", "--base-url", "not a url"][..],
            &[("TS_SECRET_KEY", "k")][..],
            "base URL",
        ),
        (
            &["token", "--user", "a", "--lifetime", "soon"][..],
            &[("TS_BASE_URL", url.as_str())][..],
            "invalid value",
        ),
        (
            &["token", "--user", "a"][..],
            &[("TS_BASE_URL", url.as_str())][..],
            "set TS_SECRET_KEY",
        ),
        (
            &["token", "--user", "a", "--password", "x"][..],
            &[][..],
            "unexpected argument",
        ),
        (&["whoami"][..], &[][..], "--base-url"),
    ] {
        let out = cli(args, env).await;
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains(says),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    server.shutdown().await;
}

#[tokio::test]
async fn help_and_completions() {
    let out = cli(&["--help"], &[]).await;
    assert!(out.status.success());
    let help = text(&out.stdout);
    for word in [
        "token",
        "whoami",
        "validate",
        "revoke",
        "probe",
        "--base-url",
        "--api",
        "--ca-cert",
        "--timeout",
        "EXIT CODES",
        "TS_PASSWORD",
    ] {
        assert!(help.contains(word), "--help leaves out {word}");
    }
    let out = cli(&["completions", "bash"], &[]).await;
    assert!(out.status.success() && text(&out.stdout).contains("thoughtspot-session"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_trusts_the_ca_cert_and_asks_for_no_token() {
    let (base, ca) = thoughtspot_session_tests::tls::tls_server().await;
    let dir = std::env::temp_dir().join(format!("ts-cli-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a directory");
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, ca).expect("written");
    let without = cli(&["probe", "--base-url", &base], &[]).await;
    assert!(
        !without.status.success(),
        "a private CA is not trusted by default"
    );
    let with = cli(
        &[
            "probe",
            "--base-url",
            &base,
            "--ca-cert",
            ca_file.to_str().expect("utf-8"),
        ],
        &[],
    )
    .await;
    assert!(with.status.success(), "{}", text(&with.stderr));
    assert!(text(&with.stdout).contains("served:"), "{}", text(&with.stdout));
    assert!(
        text(&with.stdout).contains("set TS_TOKEN"),
        "no token was asked for"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_closed_pipe_ends_the_output_quietly_with_success() {
    // A pipe whose reader is already gone, as after `| head` read what it wanted: every
    // write gets EPIPE.
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let out = Command::new(BIN)
        .args(["completions", "bash"])
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .expect("the CLI runs");
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}
