//! Serving: hyper's HTTP/1 connections with a header-read timeout, the axum router as the
//! service, and a graceful shutdown that stops accepting, lets requests in flight finish
//! (within a stated grace) and closes idle connections.

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;

/// How long a connection may take to send a request's headers, and how long requests in
/// flight may take to finish once shutdown begins.
#[derive(Clone, Copy, Debug)]
pub struct ServeLimits {
    /// The bound on reading a request's headers.
    pub header_read_timeout: Duration,
    /// The bound on finishing requests in flight after shutdown begins.
    pub shutdown_grace: Duration,
}

/// Serves `service` (an axum router, or [`http::app`](crate::http::app)) on `listener`
/// until `shutdown` completes, then drains. Answers whether every connection finished
/// within the grace.
pub async fn serve<S, B>(
    service: S,
    listener: TcpListener,
    limits: ServeLimits,
    shutdown: impl Future<Output = ()>,
) -> bool
where
    S: tower::Service<http::Request<hyper::body::Incoming>, Response = http::Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        // Out of descriptors, say: wait a little rather than spin.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let service = TowerToHyperService::new(service.clone());
                let connection = builder.serve_connection(TokioIo::new(stream), service);
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    let _ = connection.await;
                });
            }
        }
    }
    drop(listener);
    tracing::info!(
        grace_ms = limits.shutdown_grace.as_millis() as u64,
        "shutting down: finishing requests in flight"
    );
    tokio::select! {
        () = graceful.shutdown() => {
            tracing::info!("every connection finished");
            true
        }
        () = tokio::time::sleep(limits.shutdown_grace) => {
            tracing::warn!("the shutdown grace ran out with requests still in flight");
            false
        }
    }
}

/// Completes on SIGTERM or Ctrl-C (SIGINT).
pub async fn signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
