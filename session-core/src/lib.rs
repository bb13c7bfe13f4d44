//! # thoughtspot-session-core
//!
//! A client for ThoughtSpot's session and token endpoints — REST API v2.0
//! ([`v2::AuthApi`], `/api/rest/2.0/auth/...`) and the original REST API v2 beta (get
//! session info, login, logout, get token and revoke token) — that runs over any HTTP stack.
//! [`SessionApi`]'s five operations run on either generation ([`ApiVersion`]: `V2`, the
//! default, for every cluster since 9.0.0.cl; `V2Beta` for an older one; `Auto` finds out).
//!
//! This crate holds everything a user can observe: the wire models, the [`SessionApi`]
//! trait, and [`SessionClient`], which builds each request, sends the access token where
//! the specification says, keeps the cluster's session cookies, retries, enforces the
//! timeout and turns every answer into a typed result or an [`Error`]. It knows no HTTP
//! library: a backend implements [`HttpTransport`] (one method, bytes in, bytes out). The
//! backends `thoughtspot-session-reqwest` and `thoughtspot-session-hyper` are ready-made;
//! tests can use any closure-backed or scripted transport.
//!
//! ## Example
//!
//! ```
//! use bytes::Bytes;
//! use thoughtspot_session_core::{
//!     GetTokenRequest, HttpTransport, LoginRequest, SessionApi, SessionClient, TokioSleep, TransportError,
//! };
//!
//! /// A stand-in for a real backend: answers like a cluster would.
//! #[derive(Debug)]
//! struct Canned;
//!
//! #[async_trait::async_trait]
//! impl HttpTransport for Canned {
//!     async fn send(&self, request: http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError> {
//!         // REST API v2.0, the generation a client speaks by default.
//!         let body: &'static [u8] = match request.uri().path() {
//!             "/api/rest/2.0/auth/token/full" => br#"{"token":"tok-123",
//!                 "creation_time_in_millis":1648051501240,"expiration_time_in_millis":1648051801240,
//!                 "scope":{"access_type":"FULL","org_id":0},"valid_for_user_id":"u-1",
//!                 "valid_for_username":"analyst"}"#,
//!             "/api/rest/2.0/auth/session/user" => br#"{"id":"u-1","name":"analyst"}"#,
//!             _ => b"", // login, logout and revoke answer 204
//!         };
//!         Ok(http::Response::new(Bytes::from_static(body)))
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), thoughtspot_session_core::Error> {
//! let client = SessionClient::builder("https://example.thoughtspot.cloud")
//!     .sleep(TokioSleep::new())
//!     .build(Canned)?;
//!
//! // A trusted-authentication token for a user, then a session with it.
//! let issued = client.get_token(&GetTokenRequest::with_secret_key("analyst", "secret-key")).await?;
//! println!("token expires at {:?}", issued.expires_at());
//! client.use_token(&issued)?;
//! client.login(&LoginRequest::bearer()).await?;
//!
//! let info = client.get_session_info().await?;
//! assert_eq!(info.user_name(), Some("analyst"));
//!
//! assert!(client.revoke_token().await?);
//! assert!(!client.has_access_token()); // revoke and logout forget the local session
//! # Ok(()) }
//! ```
//!
//! ## Which call, for which task
//!
//! [`SessionApi`] has the five operations every generation has; they go to REST API v2.0
//! by default and to the beta under [`ApiVersion::V2Beta`]. [`v2::AuthApi`] has every v2.0
//! operation, including those the beta lacks. Where both have a call, either does.
//!
//! | task | `SessionApi` (either generation) | `v2::AuthApi` (v2.0) |
//! |---|---|---|
//! | mint a token for a user (trusted authentication) | [`get_token`](SessionApi::get_token) | [`token_full`](v2::AuthApi::token_full), [`token_object`](v2::AuthApi::token_object) |
//! | mint a token with row-level rules (ABAC) or JIT groups | [`get_v2_token`](SessionApi::get_v2_token) | [`token_custom`](v2::AuthApi::token_custom) (groups: `with_group_identifiers` on full and object) |
//! | the same in a token service, cached and shared | [`TokenManager::token`] (rules and groups on the key: [`TokenKey::with_rules`], [`TokenKey::with_groups`]) | |
//! | who is signed in | [`get_session_info`](SessionApi::get_session_info) | [`session_user`](v2::AuthApi::session_user) |
//! | start a cookie session | [`login`](SessionApi::login) | [`session_login`](v2::AuthApi::session_login) |
//! | end the session | [`logout`](SessionApi::logout) | [`session_logout`](v2::AuthApi::session_logout) |
//! | revoke the client's own token (its session ends) | [`revoke_token`](SessionApi::revoke_token) | [`token_revoke`](v2::AuthApi::token_revoke) with the client's token |
//! | revoke a token handed out to someone else (the client's session stays) | [`SessionClient::revoke_access_token`] | [`token_revoke`](v2::AuthApi::token_revoke) |
//! | revoke every token of a user | | [`token_revoke`](v2::AuthApi::token_revoke) with `RevokeTokenRequest::user` |
//! | check a token | (call with it: `get_session_info`) | [`token_validate`](v2::AuthApi::token_validate) |
//! | a token of the current session (mints one per call) | | [`session_token`](v2::AuthApi::session_token) |
//! | trusted-authentication settings | | [`configure_auth_settings`](v2::AuthApi::configure_auth_settings), [`search_auth_settings`](v2::AuthApi::search_auth_settings) |
//!
//! The beta's [`LoginRequest`] and v2.0's [`v2::SessionLoginRequest`] are distinct types
//! with distinct names, so both modules can be glob-imported together.
//!
//! ## Behaviour
//!
//! | | |
//! |---|---|
//! | headers | `Accept: application/json` always; `Content-Type: application/json` with a body; `User-Agent: thoughtspot-session-core/<version>`; `X-Requested-By: ThoughtSpot`; `Accept-Language` when configured |
//! | auth | v2 beta: `Authorization: Bearer` on get session info, login and revoke token, never on logout or get token; REST API v2.0: on every operation the spec secures, never on token/full, token/object or token/custom; never with an empty token |
//! | cookies | every `Set-Cookie` of the cluster is kept and sent back to it on later calls, logout included; after a logout or a revoke of its own token the client holds nothing of the ended session, even when the call fails: the token and cookies it started with, and any cookie the logout's own answer set, are gone (a token set or a login made meanwhile stays); a late answer to a call sent before the session ended cannot bring it back |
//! | timeout | a whole-call timeout (default 60 s) and an optional per-attempt timeout, both on the injected [`Sleep`] |
//! | retries | [`RetryPolicy`]: by default GET on 429/502/503/504, connect and timeout errors, 3 attempts; a POST only after a connect error |
//! | errors | [`Error`]: the cluster's envelope, other statuses (HTML pages recognised, redirects never followed), undecodable bodies, transport failures, timeouts, invalid requests, configuration; each names its operation, and `source()` goes straight to the cause |
//! | secrets | [`Password`], [`SecretKey`], [`AccessToken`] are zeroed on drop and print as `[redacted]`; no `Debug` or `Display` here prints a secret, a cookie or a body |
//! | tracing | one `thoughtspot_session` span per call (operation, method, path, status, attempt, elapsed_ms), never a secret or a body |
//!
//! ## Features
//!
//! - `rt-tokio`: `TokioSleep`, a [`Sleep`] over tokio's timer, and `TokioSpawn`, a
//!   [`Spawn`] over `tokio::spawn`. Off by default: core
//!   depends on no runtime.
//! - `blocking`: `BlockingClient`, every operation as a plain method on a tokio runtime of
//!   its own, for code without async (implies `rt-tokio`).

#![cfg_attr(docsrs, feature(doc_cfg))]
// Library code does not panic: no unwrap or expect outside tests.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod api;
mod auth;
#[cfg(feature = "blocking")]
mod blocking;
mod client;
mod endpoint;
mod error;
mod headers;
mod limit;
mod model;
#[cfg(test)]
mod proptests;
mod retry;
mod secret;
mod spawn;
mod time;
mod token_manager;
mod transport;
pub mod v2;
mod version;

pub use api::SessionApi;
#[cfg(feature = "blocking")]
pub use blocking::BlockingClient;
pub use client::{DEFAULT_TIMEOUT, NoTransport, SessionClient, SessionClientBuilder};
pub use error::{
    ApiError, ConfigError, DecodeError, Error, ErrorEnvelope, InvalidRequest, StatusError, StoreError,
    StoreErrorKind, TimeoutError, TransportError, TransportErrorKind,
};
pub use model::{AccessLevel, GetTokenRequest, LoginRequest, SessionInfo, SessionLoginResponse, TokenType};
pub use retry::RetryPolicy;
pub use secret::{AccessToken, Password, SecretKey};
#[cfg(feature = "rt-tokio")]
pub use spawn::TokioSpawn;
pub use spawn::{Spawn, SpawnFuture};
#[cfg(feature = "rt-tokio")]
pub use time::TokioSleep;
pub use time::{Clock, Sleep, SleepFuture, SystemClock};
pub use token_manager::{
    Lease, MAX_TOKEN_LIFETIME, ManagedToken, Removal, StoreFailure, TOKEN_CLOCK_TOLERANCE, TokenKey,
    TokenManager, TokenManagerBuilder, TokenManagerStats, TokenRules, TokenStore,
};
pub use transport::{HttpTransport, SendFuture};
pub use version::ApiVersion;

/// Re-exported so that backends and users name the same versions.
pub use bytes;
pub use http;

/// The decoders, for the fuzz target (`cargo fuzz` sets `--cfg fuzzing`).
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing {
    use crate::endpoint::{boolean, json};
    use crate::error::ErrorEnvelope;
    use crate::model::{GetTokenRequest, LoginRequest, SessionInfo, SessionLoginResponse};

    /// Runs every decoder on `body`; a panic is a finding.
    pub fn decode_all(body: &[u8]) {
        let _ = json::<SessionLoginResponse>(http::StatusCode::OK, body)
            .map(|r| (r.created_at(), r.expires_at(), r.lifetime()));
        let _ = json::<SessionInfo>(http::StatusCode::OK, body)
            .map(|i| (i.privileges().count(), i.expiration_time()));
        let _ = json::<GetTokenRequest>(http::StatusCode::OK, body).map(|r| r.validate());
        let _ = json::<LoginRequest>(http::StatusCode::OK, body).map(|r| r.validate());
        let _ = ErrorEnvelope::from_body(body);
        let _ = boolean(http::StatusCode::OK, body);
        let _ = crate::error::shape_snippet(body);
    }
}
