//! Runs the example token service.
//!
//! ```sh
//! cargo run -p thoughtspot-token-service
//! ```
//!
//! By default it serves on 127.0.0.1:8787 against the embedded fake cluster. With
//! `TS_BASE_URL` and `TS_SECRET_KEY` it asks a real cluster instead. `TOKEN_SERVICE_ADDR`,
//! `TOKEN_SERVICE_KEY` and `TOKEN_SERVICE_ORIGIN` set the address, the callers' shared key
//! and the allowed origin.

use std::sync::Arc;
use thoughtspot_session_core::{HttpTransport, SessionClient, TokenKey, TokenManager, TokioSleep};
use thoughtspot_session_mock::{FakeThoughtSpot, FakeUser};
use thoughtspot_token_service::{ServiceConfig, TokenService, serve};

fn env(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = env("TOKEN_SERVICE_ADDR", "127.0.0.1:8787");
    let caller_key = env("TOKEN_SERVICE_KEY", "example-caller-key");
    let origin = env("TOKEN_SERVICE_ORIGIN", "http://localhost:3000");
    let (client, secret_key) = match (std::env::var("TS_BASE_URL"), std::env::var("TS_SECRET_KEY")) {
        (Ok(url), Ok(key)) if !url.is_empty() => {
            println!("asking the cluster at {url}");
            let transport: Arc<dyn HttpTransport> =
                Arc::new(thoughtspot_session_reqwest::ReqwestTransport::new()?);
            (
                SessionClient::builder(url)
                    .sleep(TokioSleep::new())
                    .build(transport)?,
                key,
            )
        }
        _ => {
            println!("asking the embedded fake cluster (set TS_BASE_URL and TS_SECRET_KEY for a real one)");
            let fake = FakeThoughtSpot::builder()
                .user(FakeUser::new("alice@example.com", "unused"))
                .user(FakeUser::new("bob@example.com", "unused").orgs([0, 7]))
                .secret_key("fake-secret-key")
                .build();
            let transport: Arc<dyn HttpTransport> = Arc::new(fake.clone());
            (
                fake.client_builder().transport(transport).build()?,
                "fake-secret-key".to_owned(),
            )
        }
    };
    let manager = TokenManager::builder(client, secret_key)
        .token_lifetime(std::time::Duration::from_secs(600))
        .revoke_on_invalidate(true)
        .build()?;
    let config = ServiceConfig::new(caller_key, origin)
        .user("alice", TokenKey::new("alice@example.com"))
        .user("bob", TokenKey::new("bob@example.com").with_org_id("7"));
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("token service on http://{}; try:", listener.local_addr()?);
    println!("  curl -i -H 'x-service-key: <TOKEN_SERVICE_KEY>' -H 'x-app-user: alice' http://{addr}/token");
    println!("stop with Ctrl-C");
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    serve(TokenService::new(manager, config), listener, shutdown).await;
    Ok(())
}
