//! Walks the five operations over a tiny in-example transport that answers like a cluster.
//!
//! Run: `cargo run -p thoughtspot-session-core --features rt-tokio --example walkthrough`

use bytes::Bytes;
use thoughtspot_session_core::{
    Error, GetTokenRequest, HttpTransport, LoginRequest, SessionApi, SessionClient, TokioSleep,
    TransportError,
};

/// Answers each path with a fixed body, as a cluster would on success.
#[derive(Debug)]
struct CannedCluster;

#[async_trait::async_trait]
impl HttpTransport for CannedCluster {
    async fn send(&self, request: http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError> {
        let body: &'static str = match request.uri().path() {
            "/tspublic/rest/v2/session/gettoken" => {
                r#"{"userName":"analyst","token":"example-token","tokenCreatedTime":"1648051501240",
                   "tokenExpiryDuration":"1648052401240","tokenType":"Bearer"}"#
            }
            "/tspublic/rest/v2/session/login" => r#"{"userName":"analyst","token":"","tokenType":"Cookie"}"#,
            "/tspublic/rest/v2/session" => {
                r#"{"userName":"analyst","userDisplayName":"An Analyst","privileges":["AUTHORING"],
                   "releaseVersion":"8.4.1"}"#
            }
            _ => "true",
        };
        let auth = if request.headers().contains_key(http::header::AUTHORIZATION) {
            "with"
        } else {
            "without"
        };
        println!(
            "  -> {} {} ({auth} a bearer token)",
            request.method(),
            request.uri().path()
        );
        Ok(http::Response::new(Bytes::from_static(body.as_bytes())))
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let client = SessionClient::builder("https://example.thoughtspot.cloud")
        .sleep(TokioSleep::new())
        .build(CannedCluster)?;

    println!("get token with the secret key");
    let issued = client
        .get_token(&GetTokenRequest::with_secret_key("analyst", "secret-key"))
        .await?;
    println!(
        "  token for {:?}, lives {:?}",
        issued.user_name(),
        issued.lifetime()
    );

    println!("log in with it");
    client.use_token(&issued)?;
    let session = client.login(&LoginRequest::bearer()).await?;
    println!("  session type {:?}", session.token_type());

    println!("read the session info");
    let info = client.get_session_info().await?;
    println!(
        "  {:?} ({:?}), release {:?}",
        info.user_name(),
        info.user_display_name(),
        info.release_version()
    );

    println!("revoke the token");
    println!(
        "  revoked: {}; client still holds a token: {}",
        client.revoke_token().await?,
        client.has_access_token()
    );
    Ok(())
}
