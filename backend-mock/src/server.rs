//! Serving a fake cluster over HTTP on loopback (feature `server`).

use crate::FakeThoughtSpot;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use thoughtspot_session_core::HttpTransport;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The largest request body the server reads.
const MAX_REQUEST_BODY: usize = 1024 * 1024;

/// A [`FakeThoughtSpot`] served over HTTP/1.1 on 127.0.0.1, on a port the system picks.
///
/// The same fake answers in-process and over the socket, so a test can drive it through a
/// real backend and inspect it directly. Dropping the server stops it.
///
/// ```
/// use thoughtspot_session_mock::{FakeServer, FakeThoughtSpot, FakeUser};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> std::io::Result<()> {
/// let fake = FakeThoughtSpot::builder().user(FakeUser::new("analyst", "pw")).build();
/// let server = FakeServer::start(fake.clone()).await?;
/// assert!(server.base_url().starts_with("http://127.0.0.1:"));
/// server.shutdown().await;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct FakeServer {
    addr: SocketAddr,
    open: Arc<AtomicUsize>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

/// How a [`FakeServer`] serves: its port and its request log.
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub struct ServeOptions {
    /// The port on 127.0.0.1; 0 lets the system pick one.
    pub port: u16,
    /// Writes one line per request to stderr: method, path, status and elapsed time, never
    /// a header, a query or a body.
    pub log_requests: bool,
    /// Waits the fake's [latency](FakeThoughtSpot::set_latency) on tokio's clock, to the
    /// millisecond, instead of on the fake's virtual clock (whose time the
    /// `fake-thoughtspot` binary moves in ticks).
    pub real_time_latency: bool,
}

impl ServeOptions {
    /// A free port, no log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Serves on `port` (0: any free one).
    #[must_use]
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Logs each request to stderr.
    #[must_use]
    pub fn with_request_log(mut self, log: bool) -> Self {
        self.log_requests = log;
        self
    }

    /// Waits the fake's latency in real time (see [`real_time_latency`](Self::real_time_latency)).
    #[must_use]
    pub fn with_real_time_latency(mut self, real: bool) -> Self {
        self.real_time_latency = real;
        self
    }
}

impl FakeServer {
    /// Binds 127.0.0.1 on a free port and serves `fake` on the current tokio runtime.
    pub async fn start(fake: FakeThoughtSpot) -> std::io::Result<Self> {
        Self::start_with(fake, ServeOptions::default()).await
    }

    /// Binds 127.0.0.1 as `options` say and serves `fake` on the current tokio runtime.
    pub async fn start_with(fake: FakeThoughtSpot, options: ServeOptions) -> std::io::Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, options.port)).await?;
        let addr = listener.local_addr()?;
        let (stop, mut stopped) = oneshot::channel();
        let open = Arc::new(AtomicUsize::new(0));
        let counter = open.clone();
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    accepted = listener.accept() => {
                        let Ok((stream, _)) = accepted else { continue };
                        let fake = fake.clone();
                        let counter = counter.clone();
                        counter.fetch_add(1, Ordering::SeqCst);
                        tokio::spawn(async move {
                            let service = service_fn(move |request| serve(fake.clone(), request, options));
                            let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                            counter.fetch_sub(1, Ordering::SeqCst);
                        });
                    }
                }
            }
        });
        Ok(Self {
            addr,
            open,
            stop: Some(stop),
            task,
        })
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many client connections are open now.
    pub fn open_connections(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }

    /// The base URL to give a client, e.g. `http://127.0.0.1:41234`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting connections and waits for the accept loop to end.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn serve(
    fake: FakeThoughtSpot,
    request: hyper::Request<Incoming>,
    options: ServeOptions,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let started = std::time::Instant::now();
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let response = answer(fake, request, options.real_time_latency).await;
    if options.log_requests {
        eprintln!(
            "{method} {path} {} {:.1}ms",
            response.status().as_u16(),
            started.elapsed().as_secs_f64() * 1000.0
        );
    }
    Ok(response)
}

async fn answer(
    fake: FakeThoughtSpot,
    request: hyper::Request<Incoming>,
    real_time_latency: bool,
) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, MAX_REQUEST_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            let mut response = hyper::Response::new(Full::new(Bytes::new()));
            *response.status_mut() = http::StatusCode::PAYLOAD_TOO_LARGE;
            return response;
        }
    };
    let request = http::Request::from_parts(parts, body);
    let answered = if real_time_latency {
        let response = fake.handle(&request);
        let latency = fake.latency();
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        Ok(response)
    } else {
        fake.send(request).await
    };
    let response = match answered {
        Ok(response) => response,
        // The fake answers every request; a transport error cannot come from it.
        Err(_) => http::Response::builder()
            .status(http::StatusCode::INTERNAL_SERVER_ERROR)
            .body(Bytes::new())
            .unwrap_or_default(),
    };
    let (parts, body) = response.into_parts();
    hyper::Response::from_parts(parts, Full::new(body))
}
