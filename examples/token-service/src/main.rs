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
//!
//! Several replicas share one token cache on Redis with `--redis URL` (or
//! `TOKEN_SERVICE_REDIS`); the keys that encrypt the tokens at rest come from
//! `TS_TOKEN_KEYS`, written `id:base64` and comma-separated, the first one sealing:
//!
//! ```sh
//! export TS_TOKEN_KEYS="1:$(openssl rand -base64 32)"
//! TOKEN_SERVICE_ADDR=127.0.0.1:8787 cargo run -p thoughtspot-token-service -- --redis redis://127.0.0.1:6379 &
//! TOKEN_SERVICE_ADDR=127.0.0.1:8788 cargo run -p thoughtspot-token-service -- --redis redis://127.0.0.1:6379 &
//! ```

use std::sync::Arc;
use thoughtspot_session_core::{HttpTransport, SessionClient, TokenKey, TokenManager, TokioSleep};
use thoughtspot_session_mock::{FakeThoughtSpot, FakeUser};
use thoughtspot_session_redis::{EncryptionKey, RedisTokenStore};
use thoughtspot_token_service::{ServiceConfig, TokenService, serve};

fn env(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // One line per request on stdout; TOKEN_SERVICE_LOG=off silences it.
    if env("TOKEN_SERVICE_LOG", "info") != "off" {
        tracing_subscriber::fmt().with_target(false).init();
    }
    let addr = env("TOKEN_SERVICE_ADDR", "127.0.0.1:8787");
    let caller_key = env("TOKEN_SERVICE_KEY", "example-caller-key");
    let origin = env("TOKEN_SERVICE_ORIGIN", "http://localhost:3000");
    let mut args = std::env::args().skip(1);
    let mut redis = std::env::var("TOKEN_SERVICE_REDIS")
        .ok()
        .filter(|v| !v.is_empty());
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--redis" => {
                redis = Some(
                    args.next()
                        .ok_or("--redis needs a URL: --redis redis://host:6379")?,
                )
            }
            other => return Err(format!("unknown argument {other:?} (known: --redis URL)").into()),
        }
    }
    let (client, secret_key, embedded) = match (std::env::var("TS_BASE_URL"), std::env::var("TS_SECRET_KEY"))
    {
        (Ok(url), Ok(key)) if !url.is_empty() => {
            println!("asking the cluster at {url}");
            let transport: Arc<dyn HttpTransport> =
                Arc::new(thoughtspot_session_reqwest::ReqwestTransport::new()?);
            (
                SessionClient::builder(url)
                    .sleep(TokioSleep::new())
                    .build(transport)?,
                key,
                false,
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
                true,
            )
        }
    };
    let client_base_url = client.base_url().to_owned();
    let mut manager = TokenManager::builder(client, secret_key)
        .token_lifetime(std::time::Duration::from_secs(600))
        .revoke_on_invalidate(true);
    if let Some(url) = redis {
        let keys = std::env::var("TS_TOKEN_KEYS")
            .map_err(|_| "--redis needs TS_TOKEN_KEYS: the keys that encrypt tokens at rest, as id:base64")?;
        let builder = || -> Result<_, Box<dyn std::error::Error>> {
            Ok(RedisTokenStore::builder(url.clone())
                // Shared per cluster: the namespace is the base URL the client asks.
                .namespace(client_base_url.as_str(), "thoughtspot-token-service")
                .keys(EncryptionKey::parse_list(&keys)?))
        };
        // A Redis that is down at start-up does not stop the service: it serves alone until
        // Redis answers. A wrong URL or key still does.
        let store = match builder()?.connect().await {
            Ok(store) => store,
            Err(thoughtspot_session_core::Error::Store(e)) => {
                println!("Redis is not reachable yet ({e}); serving alone until it is");
                builder()?.build()?
            }
            Err(e) => return Err(e.into()),
        };
        println!("sharing tokens through Redis ({store:?})");
        if embedded {
            println!(
                "note: each replica embeds its own fake cluster; share a real one (TS_BASE_URL) across replicas"
            );
        }
        manager = manager.store(store).sleep(TokioSleep::new());
    }
    let manager = manager.build()?;
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
