//! Where a scenario's stubs live: a wiremock server behind a real transport, or a
//! MockTransport in-process. Scenarios see only this interface.

use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;
use thoughtspot_session_core::HttpTransport;
use thoughtspot_session_mock::{MockResponse, MockTransport};
use wiremock::matchers::{any, method, path};
use wiremock::{Mock, MockServer, Respond, ResponseTemplate};

/// What a stub answers.
#[derive(Clone, Debug)]
pub enum Body {
    /// These bytes.
    Bytes(Vec<u8>),
    /// `{"userName": u, "token": "tok-" + u, "tokenType": "Bearer"}` for the request
    /// body's `userName` u.
    EchoUser,
}

/// One stubbed route and its answer.
#[derive(Clone, Debug)]
pub struct Stub {
    pub method: &'static str,
    pub path: &'static str,
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Body,
    /// Answer after this long (MockTransport never answers instead).
    pub delay: Option<Duration>,
    /// Answer at most this many times (then the next stub of the route answers).
    pub times: Option<u64>,
}

impl Stub {
    pub fn new(method: &'static str, path: &'static str, status: u16) -> Self {
        Self {
            method,
            path,
            status,
            headers: Vec::new(),
            body: Body::Bytes(Vec::new()),
            delay: None,
            times: None,
        }
    }

    pub fn json(mut self, value: serde_json::Value) -> Self {
        self.headers.push(("content-type", "application/json".into()));
        self.body = Body::Bytes(value.to_string().into_bytes());
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Body::Bytes(body.into());
        self
    }

    pub fn echo_user(mut self) -> Self {
        self.body = Body::EchoUser;
        self
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    pub fn times(mut self, times: u64) -> Self {
        self.times = Some(times);
        self
    }
}

/// A request the harness received.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// Options a scenario asks of the transport under test.
#[derive(Clone, Copy, Debug)]
pub struct TransportOptions {
    pub max_body: usize,
}

impl Default for TransportOptions {
    fn default() -> Self {
        Self {
            max_body: 4 * 1024 * 1024,
        }
    }
}

/// Makes the transport under test.
pub type Factory = fn(TransportOptions) -> Arc<dyn HttpTransport>;

/// Where stubs are served and requests recorded.
#[async_trait]
pub trait Harness: Send + Sync {
    fn base_url(&self) -> String;
    fn transport(&self) -> Arc<dyn HttpTransport>;
    async fn stub(&self, stub: Stub);
    async fn requests(&self) -> Vec<Recorded>;
    /// Checks the harness's own expectations (wiremock's catch-all `expect(0)`), from async
    /// code, before the harness is dropped.
    async fn verify(&self) {}
}

/// A wiremock server that is safe to drop inside a tokio runtime.
///
/// wiremock's `MockServer::drop` verifies expectations with `futures::executor::block_on`,
/// which awaits a tokio `RwLock`. tokio's semaphore takes part in cooperative scheduling:
/// when the dropping task has used up its budget (a test that just awaited 200 join
/// handles, say), every poll of the lock answers Pending and defers its wake-up to the
/// tokio scheduler, which never runs again because `block_on` never yields: the test
/// spins forever. Dropped here, the server is verified on a plain thread that has no tokio
/// budget, while the runtime's workers go on serving the connections still open to it.
pub struct SafeDropServer(Option<MockServer>);

impl SafeDropServer {
    /// Starts a wiremock server on 127.0.0.1.
    pub async fn start() -> Self {
        Self(Some(MockServer::start().await))
    }
}

impl std::ops::Deref for SafeDropServer {
    type Target = MockServer;

    fn deref(&self) -> &MockServer {
        // Some from construction until drop.
        self.0.as_ref().expect("the server lives until drop")
    }
}

impl Drop for SafeDropServer {
    fn drop(&mut self) {
        let Some(server) = self.0.take() else { return };
        let verified = std::thread::spawn(move || drop(server)).join();
        if let Err(panic) = verified
            && !std::thread::panicking()
        {
            std::panic::resume_unwind(panic);
        }
    }
}

/// A wiremock server on 127.0.0.1 with a catch-all that fails unmatched requests loudly
/// (its `expect(0)` is checked when the server drops), and a real transport.
pub struct Wiremock {
    pub server: SafeDropServer,
    transport: Arc<dyn HttpTransport>,
}

impl Wiremock {
    pub async fn start(factory: Factory, options: TransportOptions) -> Self {
        let server = SafeDropServer::start().await;
        Mock::given(any())
            .respond_with(ResponseTemplate::new(418).set_body_string("no stub matched this request"))
            .with_priority(u8::MAX)
            .named("catch-all: a request no scenario stub matched")
            .expect(0)
            .mount(&server)
            .await;
        Self {
            server,
            transport: factory(options),
        }
    }
}

/// The answer of [`Body::EchoUser`] to a request body.
pub fn echo_user(body: &[u8]) -> String {
    let user = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("userName").and_then(|u| u.as_str()).map(str::to_owned))
        .unwrap_or_default();
    serde_json::json!({ "userName": user, "token": format!("tok-{user}"), "tokenType": "Bearer" }).to_string()
}

struct Echo {
    status: u16,
}

impl Respond for Echo {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        ResponseTemplate::new(self.status).set_body_raw(echo_user(&request.body), "application/json")
    }
}

#[async_trait]
impl Harness for Wiremock {
    fn base_url(&self) -> String {
        self.server.uri()
    }

    fn transport(&self) -> Arc<dyn HttpTransport> {
        self.transport.clone()
    }

    async fn stub(&self, stub: Stub) {
        let mock = Mock::given(method(stub.method)).and(path(stub.path));
        let mock = match stub.body {
            Body::EchoUser => mock.respond_with(Echo { status: stub.status }),
            Body::Bytes(bytes) => {
                let mut template = ResponseTemplate::new(stub.status);
                let content_type = stub
                    .headers
                    .iter()
                    .find(|(n, _)| *n == "content-type")
                    .map(|(_, v)| v.clone());
                for (name, value) in stub.headers.iter().filter(|(n, _)| *n != "content-type") {
                    template = template.append_header(*name, value.as_str());
                }
                template = match content_type {
                    Some(ct) => template.set_body_raw(bytes, &ct),
                    None => template.set_body_bytes(bytes),
                };
                if let Some(delay) = stub.delay {
                    template = template.set_delay(delay);
                }
                mock.respond_with(template)
            }
        };
        let mock = match stub.times {
            Some(n) => mock.up_to_n_times(n),
            None => mock,
        };
        mock.mount(&self.server).await;
    }

    async fn verify(&self) {
        self.server.verify().await;
    }

    async fn requests(&self) -> Vec<Recorded> {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|r| Recorded {
                method: r.method.to_string(),
                path: r.url.path().to_owned(),
                headers: r.headers,
                body: r.body,
            })
            .collect()
    }
}

/// The scripted MockTransport: no socket, the same stubs.
pub struct Mocked {
    pub mock: MockTransport,
}

impl Mocked {
    pub async fn start() -> Self {
        Self {
            mock: MockTransport::new(),
        }
    }
}

#[async_trait]
impl Harness for Mocked {
    fn base_url(&self) -> String {
        thoughtspot_session_mock::MOCK_BASE_URL.to_owned()
    }

    fn transport(&self) -> Arc<dyn HttpTransport> {
        Arc::new(self.mock.clone())
    }

    async fn stub(&self, stub: Stub) {
        let method = http::Method::from_bytes(stub.method.as_bytes()).unwrap_or(http::Method::GET);
        let expectation = self.mock.expect(method, stub.path);
        let expectation = match stub.times {
            Some(n) => expectation.times(usize::try_from(n).unwrap_or(usize::MAX)),
            None => expectation.at_least(0),
        };
        if stub.delay.is_some() {
            return expectation.hang();
        }
        match stub.body {
            Body::EchoUser => {
                let status = stub.status;
                expectation.respond_with(move |request| {
                    let mut response = http::Response::new(bytes::Bytes::from(echo_user(request.body())));
                    *response.status_mut() = http::StatusCode::from_u16(status).unwrap_or_default();
                    Ok(response)
                })
            }
            Body::Bytes(bytes) => {
                let mut response = MockResponse::status(stub.status).body(bytes);
                for (name, value) in &stub.headers {
                    response = response.header(name, value);
                }
                expectation.respond(response)
            }
        }
    }

    async fn requests(&self) -> Vec<Recorded> {
        self.mock
            .requests()
            .into_iter()
            .map(|r| {
                let (parts, body) = r.into_parts();
                Recorded {
                    method: parts.method.to_string(),
                    path: parts.uri.path().to_owned(),
                    headers: parts.headers,
                    body: body.to_vec(),
                }
            })
            .collect()
    }
}
