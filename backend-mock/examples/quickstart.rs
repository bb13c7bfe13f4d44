//! The quickstart: a whole session flow, on the embedded fake cluster by default.
//!
//! ```sh
//! cargo run -p thoughtspot-session-mock --example quickstart
//! ```
//!
//! With a base URL and credentials, the same flow runs against a real cluster through the
//! reqwest backend (flags win over environment variables):
//!
//! ```sh
//! cargo run -p thoughtspot-session-mock --example quickstart -- \
//!     --base-url https://my-company.thoughtspot.cloud --user analyst@example.com \
//!     --password '…' --secret-key '…'
//! # or TS_BASE_URL, TS_USER, TS_PASSWORD, TS_SECRET_KEY
//! ```

use std::process::ExitCode;
use std::sync::Arc;
use thoughtspot_session_core::{
    Error, GetTokenRequest, HttpTransport, LoginRequest, SessionApi, SessionClient, TokioSleep,
};
use thoughtspot_session_mock::{FakeThoughtSpot, FakeUser};

/// Where to run and as whom.
struct Target {
    base_url: Option<String>,
    user: String,
    password: String,
    secret_key: String,
}

fn target() -> Result<Target, String> {
    let mut base_url = std::env::var("TS_BASE_URL").ok().filter(|v| !v.is_empty());
    let mut user = std::env::var("TS_USER").ok();
    let mut password = std::env::var("TS_PASSWORD").ok();
    let mut secret_key = std::env::var("TS_SECRET_KEY").ok();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let slot = match flag.as_str() {
            "--base-url" => &mut base_url,
            "--user" => &mut user,
            "--password" => &mut password,
            "--secret-key" => &mut secret_key,
            "-h" | "--help" => {
                return Err(
                    "usage: quickstart [--base-url URL --user NAME --password PW --secret-key KEY]".into(),
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
        }),
        Some(url) => Ok(Target {
            base_url: Some(url),
            user: user.ok_or("a real cluster needs --user or TS_USER")?,
            password: password.ok_or("a real cluster needs --password or TS_PASSWORD")?,
            secret_key: secret_key.ok_or("a real cluster needs --secret-key or TS_SECRET_KEY")?,
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
        "   issued a {:?} token for {:?}, valid for {:?}",
        issued.token_type(),
        issued.user_name(),
        issued.lifetime()
    );

    step(2, "log in with that token");
    client.use_token(&issued)?;
    let session = client.login(&LoginRequest::bearer()).await?;
    println!(
        "   session of type {:?}; cookies kept: {:?}",
        session.token_type(),
        client.cookie_names()
    );

    step(3, "read the session info");
    let info = client.get_session_info().await?;
    println!(
        "   signed in as {:?} ({:?}), privileges {:?}, release {:?}",
        info.user_name().unwrap_or("?"),
        info.user_display_name().unwrap_or("?"),
        info.privileges().collect::<Vec<_>>(),
        info.release_version().unwrap_or("?")
    );

    step(4, "revoke the token");
    println!("   revoked: {}", client.revoke_token().await?);

    step(5, "show that the revoked token is refused");
    client.use_token(&issued)?;
    match client.login(&LoginRequest::bearer()).await {
        Err(e) if e.is_unauthorized() => println!("   refused, as it should be: {e}"),
        Err(e) => return Err(e),
        Ok(_) => println!("   WARNING: the cluster still accepted the revoked token"),
    }
    client.clear_session();

    step(6, "log in with the password");
    let session = client
        .login(&LoginRequest::with_password(t.user.as_str(), t.password.as_str()))
        .await?;
    println!(
        "   session of type {:?} for {:?}",
        session.token_type(),
        session.user_name()
    );

    step(7, "log out");
    println!(
        "   logged out: {}; cookies left: {:?}",
        client.logout().await?,
        client.cookie_names()
    );
    Ok(())
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
    let client = match &target.base_url {
        None => {
            println!("Running on the embedded fake cluster (no network). Give --base-url to use a real one.");
            let fake = FakeThoughtSpot::builder()
                .user(
                    FakeUser::new(target.user.as_str(), target.password.as_str()).display_name("An Analyst"),
                )
                .secret_key(target.secret_key.as_str())
                .build();
            let transport: Arc<dyn HttpTransport> = Arc::new(fake.clone());
            fake.client_builder().transport(transport).build()
        }
        Some(url) => {
            println!("Running against {url} through the reqwest backend.");
            match thoughtspot_session_reqwest::ReqwestTransport::new() {
                Ok(transport) => {
                    let transport: Arc<dyn HttpTransport> = Arc::new(transport);
                    SessionClient::builder(url.as_str())
                        .sleep(TokioSleep::new())
                        .transport(transport)
                        .build()
                }
                Err(e) => Err(e),
            }
        }
    };
    let client = match client {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    match walk(&client, &target).await {
        Ok(()) => {
            println!("\nDone: a whole session flow, start to end.");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("\nFailed: {e}");
            ExitCode::FAILURE
        }
    }
}
