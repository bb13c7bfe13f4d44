//! The quickstart: a whole session flow on both API generations (REST API v2.0, then the
//! v2 beta), on the embedded fake cluster by default.
//!
//! ```sh
//! cargo run -p thoughtspot-session-mock --example quickstart
//! ```
//!
//! With a base URL and credentials, the same flow runs against a real cluster through the
//! reqwest backend (flags win over environment variables); `--api` picks the generation
//! (`v2`, `beta`, `auto` or `both`; default `auto` on a real cluster, `both` on the fake):
//!
//! ```sh
//! cargo run -p thoughtspot-session-mock --example quickstart -- \
//!     --base-url https://my-company.thoughtspot.cloud --user analyst@example.com \
//!     --password '…' --secret-key '…' --api v2
//! # or TS_BASE_URL, TS_USER, TS_PASSWORD, TS_SECRET_KEY, TS_API
//! ```

use std::fmt::Display;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use thoughtspot_session_core::v2::{AuthApi, ValidateTokenRequest};
use thoughtspot_session_core::{
    ApiVersion, Error, GetTokenRequest, HttpTransport, LoginRequest, SessionApi, SessionClient, TokioSleep,
};
use thoughtspot_session_mock::{FakeThoughtSpot, FakeUser};

/// Where to run and as whom.
struct Target {
    base_url: Option<String>,
    user: String,
    password: String,
    secret_key: String,
    versions: Vec<ApiVersion>,
}

fn versions(api: Option<&str>, real: bool) -> Result<Vec<ApiVersion>, String> {
    Ok(match api {
        Some("v2") => vec![ApiVersion::V2],
        Some("beta") => vec![ApiVersion::V2Beta],
        Some("auto") => vec![ApiVersion::Auto],
        Some("both") => vec![ApiVersion::V2, ApiVersion::V2Beta],
        None if real => vec![ApiVersion::Auto],
        None => vec![ApiVersion::V2, ApiVersion::V2Beta],
        Some(other) => return Err(format!("--api takes v2, beta, auto or both, not {other:?}")),
    })
}

/// A value in plain words, or `unknown`.
fn plain(value: Option<impl Display>) -> String {
    value.map_or_else(|| "unknown".to_owned(), |v| v.to_string())
}

fn seconds(d: Option<Duration>) -> String {
    d.map_or_else(|| "an unknown time".to_owned(), |d| format!("{} s", d.as_secs()))
}

fn target() -> Result<Target, String> {
    let mut base_url = std::env::var("TS_BASE_URL").ok().filter(|v| !v.is_empty());
    let mut user = std::env::var("TS_USER").ok();
    let mut password = std::env::var("TS_PASSWORD").ok();
    let mut secret_key = std::env::var("TS_SECRET_KEY").ok();
    let mut api = std::env::var("TS_API").ok().filter(|v| !v.is_empty());
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let slot = match flag.as_str() {
            "--base-url" => &mut base_url,
            "--user" => &mut user,
            "--password" => &mut password,
            "--secret-key" => &mut secret_key,
            "--api" => &mut api,
            "-h" | "--help" => {
                return Err(
                    "usage: quickstart [--base-url URL --user NAME --password PW --secret-key KEY] [--api v2|beta|auto|both]"
                        .into(),
                );
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        };
        *slot = Some(args.next().ok_or_else(|| format!("{flag} needs a value"))?);
    }
    match base_url {
        None => Ok(Target {
            base_url: None,
            user: "analyst".into(),
            password: "analyst-password".into(),
            secret_key: "trusted-auth-key".into(),
            versions: versions(api.as_deref(), false)?,
        }),
        Some(url) => Ok(Target {
            base_url: Some(url),
            user: user.ok_or("a real cluster needs --user or TS_USER")?,
            password: password.ok_or("a real cluster needs --password or TS_PASSWORD")?,
            secret_key: secret_key.ok_or("a real cluster needs --secret-key or TS_SECRET_KEY")?,
            versions: versions(api.as_deref(), true)?,
        }),
    }
}

fn step(n: u32, what: &str) {
    println!("\n{n}. {what}");
}

async fn walk(client: &SessionClient<Arc<dyn HttpTransport>>, t: &Target) -> Result<(), Error> {
    step(
        1,
        "get a token for the user with the trusted-authentication secret key",
    );
    let issued = client
        .get_token(&GetTokenRequest::with_secret_key(
            t.user.as_str(),
            t.secret_key.as_str(),
        ))
        .await?;
    println!(
        "   issued a {} token for {}, valid for {}",
        plain(issued.token_type().map(|t| t.as_str())),
        plain(issued.user_name()),
        seconds(issued.lifetime())
    );
    if client.api_version() == ApiVersion::V2 {
        println!("   (REST API v2.0 settled: the call went to /api/rest/2.0/auth/token/full)");
    }

    step(2, "log in with that token");
    client.use_token(&issued)?;
    let session = client.login(&LoginRequest::bearer()).await?;
    println!(
        "   a {} session; cookies kept: {}",
        plain(session.token_type().map(|t| t.as_str())),
        client.cookie_names().join(", ")
    );

    step(3, "read the session info");
    let info = client.get_session_info().await?;
    println!(
        "   signed in as {} ({}), privileges {}",
        plain(info.user_name()),
        plain(info.user_display_name()),
        info.privileges().collect::<Vec<_>>().join(", ")
    );

    if client.api_version() == ApiVersion::V2 {
        step(
            4,
            "ask the cluster what it thinks of the token (v2.0 only: token/validate)",
        );
        let token = issued.token().cloned().unwrap_or_else(|| "".into());
        let validation = client.token_validate(&ValidateTokenRequest::new(token)).await?;
        println!(
            "   a {} token with {} access",
            validation.token_type, validation.scope.access_type
        );
    } else {
        step(4, "(token/validate exists in REST API v2.0 only)");
    }

    step(5, "revoke the token");
    println!(
        "   revoked: {}",
        if client.revoke_token().await? { "yes" } else { "no" }
    );

    step(6, "show that the revoked token is refused");
    client.use_token(&issued)?;
    match client.login(&LoginRequest::bearer()).await {
        Err(e) if e.is_unauthorized() => println!("   refused, as it should be: {e}"),
        Err(e) => return Err(e),
        Ok(_) => println!("   WARNING: the cluster still accepted the revoked token"),
    }
    client.clear_session();

    step(7, "log in with the password");
    let session = client
        .login(&LoginRequest::with_password(t.user.as_str(), t.password.as_str()))
        .await?;
    println!(
        "   a {} session for {}",
        plain(session.token_type().map(|t| t.as_str())),
        plain(session.user_name())
    );

    step(8, "log out");
    let out = client.logout().await?;
    let left = client.cookie_names();
    println!(
        "   logged out: {}; cookies left: {}",
        if out { "yes" } else { "no" },
        if left.is_empty() {
            "none".to_owned()
        } else {
            left.join(", ")
        }
    );
    Ok(())
}

fn title(version: ApiVersion) -> &'static str {
    match version {
        ApiVersion::V2 => "REST API v2.0 (/api/rest/2.0/auth/...)",
        ApiVersion::V2Beta => "REST API v2 beta (/tspublic/rest/v2/session/...)",
        _ => "the generation the cluster serves (v2.0 first, then the beta)",
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let target = match target() {
        Ok(t) => t,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
    };
    let fake = FakeThoughtSpot::builder()
        .user(FakeUser::new(target.user.as_str(), target.password.as_str()).display_name("An Analyst"))
        .secret_key(target.secret_key.as_str())
        .build();
    match &target.base_url {
        None => {
            println!("Running on the embedded fake cluster (no network). Give --base-url to use a real one.")
        }
        Some(url) => println!("Running against {url} through the reqwest backend."),
    }
    for &version in &target.versions {
        println!("\n== {} ==", title(version));
        let client = match &target.base_url {
            None => {
                let transport: Arc<dyn HttpTransport> = Arc::new(fake.clone());
                fake.client_builder()
                    .api_version(version)
                    .transport(transport)
                    .build()
            }
            Some(url) => match thoughtspot_session_reqwest::ReqwestTransport::new() {
                Ok(transport) => {
                    let transport: Arc<dyn HttpTransport> = Arc::new(transport);
                    SessionClient::builder(url.as_str())
                        .sleep(TokioSleep::new())
                        .api_version(version)
                        .transport(transport)
                        .build()
                }
                Err(e) => Err(e),
            },
        };
        let client = match client {
            Ok(c) => c,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        };
        if let Err(e) = walk(&client, &target).await {
            eprintln!("\nFailed: {e}");
            return ExitCode::FAILURE;
        }
    }
    println!(
        "\nDone: a whole session flow, start to end, on {}.",
        match target.versions.len() {
            1 => "one API generation",
            _ => "both API generations",
        }
    );
    ExitCode::SUCCESS
}
