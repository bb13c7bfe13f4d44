//! session-core's tests use the closure-backed transport and the instant sleep that the
//! mock crate ships to users, plus a few shorthands.
#![allow(dead_code)]

use bytes::Bytes;
use http::{Request, Response};
use thoughtspot_session_core::{RetryPolicy, SessionClient, SessionClientBuilder};

pub use thoughtspot_session_mock::{FnTransport, InstantSleep, Reply};

pub fn answer(status: u16, body: &'static str) -> Response<Bytes> {
    thoughtspot_session_mock::response(status, &[], body)
}

pub fn answer_with(
    status: u16,
    headers: &[(&'static str, &'static str)],
    body: &'static str,
) -> Response<Bytes> {
    thoughtspot_session_mock::response(status, headers, body)
}

pub const BASE: &str = "https://ts.example.com";

/// A builder for `BASE` with an instant sleep and no jitter.
pub fn builder(sleep: &InstantSleep) -> SessionClientBuilder {
    SessionClient::builder(BASE)
        .api_version(thoughtspot_session_core::ApiVersion::V2Beta)
        .sleep(sleep.clone())
        .retry(RetryPolicy::default().jitter(false))
}

/// A client over `transport` with default settings but an instant sleep.
pub fn client(transport: &FnTransport) -> SessionClient<FnTransport> {
    builder(&InstantSleep::default())
        .build(transport.clone())
        .unwrap()
}

pub fn header<'a>(request: &'a Request<Bytes>, name: &str) -> Option<&'a str> {
    request.headers().get(name).map(|v| v.to_str().unwrap())
}

pub fn json_body(request: &Request<Bytes>) -> serde_json::Value {
    serde_json::from_slice(request.body()).unwrap()
}

pub const TOKEN_BODY: &str = r#"{"userName":"analyst","token":"tok-SECRET-1","tokenCreatedTime":"1648051501240","tokenExpiryDuration":"1648052401240","tokenType":"Bearer"}"#;

/// Collects everything a tracing subscriber writes, for tests that look for secrets in it.
#[derive(Clone, Default)]
pub struct Captured(pub std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// A subscriber that writes every event and span, down to TRACE, into `self`.
    pub fn subscriber(&self) -> impl tracing::Subscriber + Send + Sync + 'static {
        let writer = self.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish()
    }

    /// What was written, as text.
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}
