//! A closure-backed transport and an instant sleep for session-core's tests.
#![allow(dead_code)]

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use thoughtspot_session_core::{
    HttpTransport, RetryPolicy, SessionClient, SessionClientBuilder, Sleep, SleepFuture, TransportError,
};

/// What the handler answers: a response, a transport error, or nothing ever.
pub enum Reply {
    Answer(Response<Bytes>),
    Fail(TransportError),
    Hang,
    /// Answers when the future completes (a test holds it to order calls).
    Later(std::pin::Pin<Box<dyn std::future::Future<Output = Response<Bytes>> + Send>>),
}

type Handler = dyn Fn(&Request<Bytes>, usize) -> Reply + Send + Sync;

/// Answers each request with a closure of (request, index of the request), and records
/// every request it saw.
#[derive(Clone)]
pub struct FnTransport {
    handler: Arc<Handler>,
    seen: Arc<Mutex<Vec<Request<Bytes>>>>,
}

impl std::fmt::Debug for FnTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FnTransport")
    }
}

impl FnTransport {
    pub fn new(handler: impl Fn(&Request<Bytes>, usize) -> Reply + Send + Sync + 'static) -> Self {
        Self {
            handler: Arc::new(handler),
            seen: Arc::default(),
        }
    }

    /// Answers every request with `status` and `body`.
    pub fn always(status: u16, body: &'static str) -> Self {
        Self::new(move |_, _| Reply::Answer(answer(status, body)))
    }

    pub fn requests(&self) -> Vec<Request<Bytes>> {
        self.seen.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }

    pub fn last(&self) -> Request<Bytes> {
        self.seen
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("a request was sent")
    }
}

#[async_trait::async_trait]
impl HttpTransport for FnTransport {
    async fn send(&self, request: Request<Bytes>) -> Result<Response<Bytes>, TransportError> {
        let index = {
            let mut seen = self.seen.lock().unwrap();
            seen.push(request.clone());
            seen.len() - 1
        };
        match (self.handler)(&request, index) {
            Reply::Answer(r) => Ok(r),
            Reply::Fail(e) => Err(e),
            Reply::Hang => std::future::pending().await,
            Reply::Later(answer) => Ok(answer.await),
        }
    }
}

pub fn answer(status: u16, body: &'static str) -> Response<Bytes> {
    let mut r = Response::new(Bytes::from_static(body.as_bytes()));
    *r.status_mut() = StatusCode::from_u16(status).unwrap();
    r
}

pub fn answer_with(
    status: u16,
    headers: &[(&'static str, &'static str)],
    body: &'static str,
) -> Response<Bytes> {
    let mut r = answer(status, body);
    for (name, value) in headers {
        r.headers_mut().append(*name, value.parse().unwrap());
    }
    r
}

/// A sleep that returns at once and records what it was asked to wait.
#[derive(Clone, Debug, Default)]
pub struct InstantSleep {
    pub waits: Arc<Mutex<Vec<Duration>>>,
}

impl InstantSleep {
    pub fn waits(&self) -> Vec<Duration> {
        self.waits.lock().unwrap().clone()
    }
}

impl Sleep for InstantSleep {
    fn sleep(&self, duration: Duration) -> SleepFuture {
        self.waits.lock().unwrap().push(duration);
        Box::pin(std::future::ready(()))
    }
}

pub const BASE: &str = "https://ts.example.com";

/// A builder for `BASE` with an instant sleep and no jitter.
pub fn builder(sleep: &InstantSleep) -> SessionClientBuilder {
    SessionClient::builder(BASE)
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
