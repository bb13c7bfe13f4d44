//! The request body: read up to the limit, and past it drained a bounded amount so the
//! caller reads its 413 instead of a reset connection.
//!
//! An HTTP/1.1 client writes its whole body before it reads the answer. A server that
//! answers early and closes leaves unread bytes in its socket; the kernel then resets the
//! connection and the client sees a broken pipe, not the 413 (what `RequestBodyLimitLayer`
//! alone does). So, like nginx's lingering close, a body past the limit is read and thrown
//! away, up to [`DRAIN_BYTES`] more and for at most [`DRAIN_TIME`], then answered 413.
//! Nothing past the limit is kept: the memory bound is the limit, the extra cost is
//! bandwidth. A body declared larger than the limit plus [`DRAIN_BYTES`] is answered at
//! once, with `Connection: close`.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::BytesMut;
use http_body_util::BodyExt;
use std::time::Duration;

/// How many bytes past the limit are read and discarded before the 413.
pub const DRAIN_BYTES: u64 = 8 * 1024 * 1024;

/// How long a body past the limit is drained before the 413 is sent anyway.
pub const DRAIN_TIME: Duration = Duration::from_secs(2);

/// The body limit of a route, in bytes, as in force (a reload replaces it): the state of
/// [`bounded`].
#[derive(Clone, Debug)]
pub struct BodyLimit(pub std::sync::Arc<std::sync::atomic::AtomicUsize>);

/// Middleware: reads the body up to the limit and hands it on whole; past it, drains
/// (bounded) and answers 413. A body that fails while it is read is a 400.
pub async fn bounded(State(BodyLimit(limit)): State<BodyLimit>, request: Request, next: Next) -> Response {
    let limit = limit.load(std::sync::atomic::Ordering::Relaxed);
    let (parts, body) = request.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64 + DRAIN_BYTES) {
        return too_large(true);
    }
    if declared == Some(0) {
        return next.run(Request::from_parts(parts, Body::empty())).await;
    }
    let mut body = body;
    let mut kept = BytesMut::new();
    let mut seen: u64 = 0;
    // Within the limit, the read is bounded by the whole-request timeout outside.
    loop {
        match body.frame().await {
            None => break,
            Some(Err(_)) => return StatusCode::BAD_REQUEST.into_response(),
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    seen += data.len() as u64;
                    if seen > limit as u64 {
                        return drain(body, seen, limit).await;
                    }
                    kept.extend_from_slice(&data);
                }
            }
        }
    }
    next.run(Request::from_parts(parts, Body::from(kept.freeze())))
        .await
}

/// Reads and discards what is left of a body past its limit, within the drain bounds.
async fn drain(mut body: Body, mut seen: u64, limit: usize) -> Response {
    let cap = limit as u64 + DRAIN_BYTES;
    let read = async {
        while seen <= cap {
            match body.frame().await {
                None => return true,
                Some(Err(_)) => return false,
                Some(Ok(frame)) => {
                    seen += frame.data_ref().map_or(0, |d| d.len() as u64);
                }
            }
        }
        false
    };
    let finished = tokio::time::timeout(DRAIN_TIME, read).await.unwrap_or(false);
    too_large(!finished)
}

fn too_large(close: bool) -> Response {
    let mut response = StatusCode::PAYLOAD_TOO_LARGE.into_response();
    if close {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}
