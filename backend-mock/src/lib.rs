//! # thoughtspot-session-mock
//!
//! Test your code that uses `thoughtspot-session` without a cluster and without a network.
//! Both tools here implement [`HttpTransport`](thoughtspot_session_core::HttpTransport)
//! in-process (no sockets) and need no particular async runtime.
//!
//! - [`FakeThoughtSpot`]: a stateful simulation of a cluster's Session API — users,
//!   passwords, a trusted-authentication secret key, cookie sessions, bearer tokens with
//!   expiry on a virtual [`ManualClock`], revoke, logout, the cluster's error envelope — plus
//!   inspection (request log, live sessions and tokens) and faults (outage, latency, a
//!   status for the next N calls).
//! - [`MockTransport`]: scripted expectations with canned answers, closures, status
//!   sequences and transport faults; a recorder; a verification report.
//! - [`FnTransport`]: a closure that answers each request (a [`Reply`]: a response, a
//!   transport failure, never, or later), and a record of what was sent.
//! - Time: [`ManualClock`], a virtual clock; [`AdvancingSleep`], a sleep that moves it
//!   instead of waiting, so retries, `Retry-After` and timeouts run at once and exactly;
//!   [`InstantSleep`], a sleep that returns at once and records what it was asked.
//!
//! ## A test of your own code against the fake
//!
//! ```
//! use thoughtspot_session_core::{Error, GetTokenRequest, SessionApi};
//! use thoughtspot_session_mock::{FakeThoughtSpot, FakeUser};
//!
//! /// Your code: a token for the embedded front end.
//! async fn token_for(api: &impl SessionApi, user: &str, key: &str) -> Result<String, Error> {
//!     let issued = api.get_token(&GetTokenRequest::with_secret_key(user, key)).await?;
//!     Ok(issued.token().map(|t| t.secret().to_owned()).unwrap_or_default())
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let fake = FakeThoughtSpot::builder().user(FakeUser::new("analyst", "pw")).secret_key("key").build();
//! let client = fake.client();
//!
//! let token = token_for(&client, "analyst", "key").await.unwrap();
//! assert_eq!(fake.live_tokens()[0].token.secret(), token);
//!
//! let refused = token_for(&client, "analyst", "wrong-key").await.unwrap_err();
//! assert!(refused.is_unauthorized());
//! assert_eq!(fake.count("token/full"), 2); // REST API v2.0, as production clients
//! # }
//! ```
//!
//! ## Features
//!
//! - `wiremock`: `FakeThoughtSpot` answers as a `wiremock::Respond`, and
//!   `FakeThoughtSpot::mount` puts the whole stateful cluster on a team's own `MockServer`.
//! - `server`: `FakeServer` serves a `FakeThoughtSpot` over HTTP/1.1 on 127.0.0.1 (hyper
//!   and tokio), so the real backends, or clients in other languages, can run against it.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod clock;
mod fake;
mod fn_transport;
mod mock;
#[cfg(feature = "server")]
mod server;
mod token_store;
#[cfg(feature = "wiremock")]
mod wiremock_respond;

pub use clock::{AdvancingSleep, InstantSleep, ManualClock};
pub use fake::{
    ApiGenerations, ENDED_RETENTION, ExpiryFormat, FAKE_BASE_URL, FakeRequest, FakeSession, FakeThoughtSpot,
    FakeThoughtSpotBuilder, FakeToken, FakeUser, REQUEST_LOG,
};
pub use fn_transport::{FnTransport, Reply, response};
pub use mock::{Expectation, MOCK_BASE_URL, MockError, MockResponse, MockTransport};
#[cfg(feature = "server")]
pub use server::{FakeServer, ServeOptions};
pub use token_store::MemoryTokenStore;
