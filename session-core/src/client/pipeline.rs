//! The one request pipeline every operation runs through.

use super::Inner;
use crate::auth::Bearer;
use crate::endpoint::{Endpoint, Route};
use crate::error::ErrorEnvelope;
use crate::error::{
    ApiError, DecodeError, Error, StatusError, TimeoutError, TransportError, TransportErrorKind,
};
use crate::retry::Failure;
use crate::time::deadline;
use crate::transport::HttpTransport;
use bytes::Bytes;
use http::StatusCode;
use http::header::{self, HeaderMap};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;
use tracing::field::Empty;

impl<T: HttpTransport> Inner<T> {
    /// Runs the endpoint `row` with `body`: build the request, send it with retries inside the
    /// whole-call timeout, keep cookies, classify the answer, decode a 2xx body.
    ///
    /// `body_secrets` are the credentials in `body`; with the token and cookies, they are
    /// scrubbed from any text of the cluster's that an error shows. `bearer`, when given,
    /// is sent instead of the session's token.
    pub(crate) async fn execute<O>(
        &self,
        row: &'static Endpoint<O>,
        body: Option<Bytes>,
        body_secrets: &[&str],
        bearer: Option<&Bearer>,
    ) -> Result<O, Error> {
        let endpoint = &row.route;
        let span = tracing::debug_span!(
            "thoughtspot_session",
            operation = endpoint.name,
            method = %endpoint.method,
            path = self.urls[endpoint.index].0.path(),
            status = Empty,
            attempt = Empty,
            elapsed_ms = Empty,
        );
        // The clock is read only for a span that a subscriber records.
        let started = (!span.is_disabled()).then(Instant::now);
        let attempts = AtomicU32::new(0);
        let whole_call = self.timeout.zip(self.sleep.as_deref());
        // Awaited where it is made, so that this future holds the attempts once (an async
        // block around them would hold them twice: as its capture and as its awaitee).
        let outcome = deadline(
            self.attempts(row, body, body_secrets, bearer, &attempts, &span),
            whole_call,
        )
        .in_span(&span)
        .await;
        span.in_scope(|| {
            if let Some(started) = started {
                let elapsed = started.elapsed();
                span.record(
                    "elapsed_ms",
                    u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
                );
            }
            match outcome {
                Ok(Ok(out)) => {
                    tracing::debug!("call succeeded");
                    Ok(out)
                }
                Ok(Err(e)) => {
                    tracing::debug!(error = %e, "call failed");
                    Err(e)
                }
                Err(()) => {
                    let timeout = self.timeout.unwrap_or_default();
                    let e = TimeoutError::new(endpoint.name, timeout, attempts.load(Ordering::Relaxed));
                    tracing::debug!(error = %e, "call timed out");
                    Err(Error::Timeout(e))
                }
            }
        })
    }

    async fn attempts<O>(
        &self,
        row: &'static Endpoint<O>,
        body: Option<Bytes>,
        body_secrets: &[&str],
        bearer: Option<&Bearer>,
        count: &AtomicU32,
        span: &tracing::Span,
    ) -> Result<O, Error> {
        let (endpoint, decode) = (&row.route, row.decode);
        let (uri, url) = &self.urls[endpoint.index];
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            count.store(attempt, Ordering::Relaxed);
            if !span.is_disabled() {
                span.record("attempt", attempt);
            }
            // The slot is taken before the attempt's deadline starts: waiting for one counts
            // only against the whole-call timeout.
            let permit = match &self.limiter {
                Some(limiter) => Some(limiter.acquire().await),
                None => None,
            };
            let (request, epoch) = self.request(endpoint, uri, url, body.clone(), bearer);
            let attempt_deadline = self.attempt_timeout.zip(self.sleep.as_deref());
            let sent = deadline(self.transport.send(request), attempt_deadline).await;
            drop(permit);
            let (error, delay) = match sent {
                Ok(Ok(response)) => {
                    let (parts, bytes) = response.into_parts();
                    if !span.is_disabled() {
                        span.record("status", parts.status.as_u16());
                    }
                    if headers_too_large(&parts.headers) {
                        // Not retried: a server that sends this will send it again.
                        return Err(Error::Transport(
                            TransportError::msg(
                                TransportErrorKind::Other,
                                "the response headers are larger than 64 KiB",
                            )
                            .for_operation(endpoint.name),
                        ));
                    }
                    // A call with its own bearer (revoking a token handed out) is isolated:
                    // it neither sends nor keeps the client's cookies.
                    if bearer.is_none() && parts.headers.contains_key(header::SET_COOKIE) {
                        self.state()
                            .store_cookies(url, &parts.headers, epoch, endpoint.starts_session);
                    }
                    if parts.status.is_success() {
                        return decode(parts.status, &bytes).map_err(|p| {
                            Error::Decode(Box::new(DecodeError::new(
                                endpoint.name,
                                parts.status,
                                parts.headers,
                                bytes,
                                p.expected,
                                p.problem,
                            )))
                        });
                    }
                    let delay = self.retry.next_delay(
                        &endpoint.method,
                        endpoint.mints,
                        attempt,
                        Failure::Status(parts.status, &parts.headers),
                        self.clock.now(),
                    );
                    let error = classify(endpoint.name, parts.status, parts.headers, bytes);
                    (self.scrub(error, body_secrets, bearer), delay)
                }
                Ok(Err(e)) => {
                    let delay = self.retry.next_delay(
                        &endpoint.method,
                        endpoint.mints,
                        attempt,
                        Failure::Transport(&e),
                        self.clock.now(),
                    );
                    (Error::Transport(e.for_operation(endpoint.name)), delay)
                }
                Err(()) => {
                    let delay = self.retry.next_delay(
                        &endpoint.method,
                        endpoint.mints,
                        attempt,
                        Failure::AttemptTimeout,
                        self.clock.now(),
                    );
                    let e = TransportError::msg(
                        TransportErrorKind::Timeout,
                        "no answer within the attempt timeout",
                    )
                    .for_operation(endpoint.name);
                    (Error::Transport(e), delay)
                }
            };
            let Some(delay) = delay else {
                return Err(error);
            };
            tracing::debug!(attempt, error = %error, delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX), "retrying");
            if let Some(sleep) = &self.sleep {
                sleep.sleep(delay).await;
            }
        }
    }

    /// Removes every secret of this call from the texts of an error envelope.
    fn scrub(&self, mut error: Error, body_secrets: &[&str], bearer: Option<&Bearer>) -> Error {
        if let Error::Api(api) = &mut error {
            let session_secrets = self.state().secret_values();
            let mut secrets: Vec<&str> = session_secrets.iter().map(String::as_str).collect();
            secrets.extend_from_slice(body_secrets);
            secrets.extend(bearer.map(|b| b.token().secret()));
            api.envelope_mut().redact(&secrets);
        }
        error
    }

    /// The request of one attempt, and the session epoch it is sent in.
    fn request(
        &self,
        endpoint: &Route,
        uri: &http::Uri,
        url: &url::Url,
        body: Option<Bytes>,
        bearer: Option<&Bearer>,
    ) -> (http::Request<Bytes>, u64) {
        let has_body = body.is_some();
        let mut request = http::Request::new(body.unwrap_or_default());
        *request.method_mut() = endpoint.method.clone();
        *request.uri_mut() = uri.clone();
        let headers = request.headers_mut();
        *headers = if has_body {
            self.json_headers.clone()
        } else {
            self.headers.clone()
        };
        let epoch = match bearer {
            None => {
                let state = self.state();
                state.apply(url, endpoint.sends_token, headers);
                state.epoch()
            }
            Some(bearer) => {
                if endpoint.sends_token {
                    headers.insert(header::AUTHORIZATION, bearer.header().clone());
                }
                0
            }
        };
        (request, epoch)
    }
}

/// The most response header bytes (names and values) the client accepts.
const MAX_RESPONSE_HEADER_BYTES: usize = 64 * 1024;

fn headers_too_large(headers: &HeaderMap) -> bool {
    let mut total = 0usize;
    for (name, value) in headers {
        total += name.as_str().len() + value.len();
        if total > MAX_RESPONSE_HEADER_BYTES {
            return true;
        }
    }
    false
}

/// Turns a non-2xx answer into an error: the cluster's envelope, or a plain status error.
fn classify(operation: &'static str, status: StatusCode, headers: HeaderMap, body: Bytes) -> Error {
    let envelope = (!status.is_redirection())
        .then(|| ErrorEnvelope::from_body(&body))
        .flatten();
    if let Some(envelope) = envelope {
        return Error::Api(Box::new(ApiError::new(
            operation, status, headers, body, envelope,
        )));
    }
    Error::Status(Box::new(StatusError::new(operation, status, headers, body)))
}
