//! Traces: OpenTelemetry over OTLP (HTTP, protobuf), off unless an endpoint is named.
//!
//! The standard variables turn it on and tune it: `OTEL_EXPORTER_OTLP_ENDPOINT` (a base
//! URL, `/v1/traces` appended) or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (verbatim), or
//! `OTEL_TRACES_EXPORTER=otlp` (the default endpoint, `http://localhost:4318`). Off with
//! `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`. `OTEL_SERVICE_NAME`,
//! `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER[_ARG]`, `OTEL_EXPORTER_OTLP_HEADERS`,
//! `OTEL_EXPORTER_OTLP_TIMEOUT` and `OTEL_BSP_*` are read by the SDK as its documentation
//! says. A protocol other than `http/protobuf`, or an exporter other than `otlp` or
//! `none`, stops the service at start rather than sending traces nowhere.
//!
//! What a trace holds: a server span per request (`request`: method, route, status, and
//! for `/token` the outcome code, the tenant and whether the token was `cached`,
//! `fetched` or `rechecked`), the W3C `traceparent` the caller sent as its parent, and a
//! client span per call to the cluster and to an identity provider's key set (method,
//! host, path; never the query, a header or a body), whose context the cluster receives
//! as `traceparent`. Never a token, a key, a claim value or a user name. Spans wait in a
//! bounded queue (`OTEL_BSP_MAX_QUEUE_SIZE`, 2,048 by default; beyond it they are
//! dropped) and are sent in batches from a thread of their own: a collector that is down
//! costs no request anything.

use crate::config::{ConfigError, Env};
use bytes::Bytes;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use std::sync::atomic::{AtomicBool, Ordering};
use thoughtspot_session_core::{HttpTransport, SendFuture, Spawn, SpawnFuture};
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Whether traces are exported (an exporter was installed by [`Traces::from_env`]).
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Whether the environment asks for traces: `Ok(false)` when it does not, an error when
/// it asks for what this service cannot send.
pub fn wanted(env: &impl Env) -> Result<bool, ConfigError> {
    let set = |name: &str| env.var(name).is_some_and(|v| !v.trim().is_empty());
    if env
        .var("OTEL_SDK_DISABLED")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    {
        return Ok(false);
    }
    let exporter = env
        .var("OTEL_TRACES_EXPORTER")
        .map(|v| v.trim().to_ascii_lowercase());
    match exporter.as_deref() {
        Some("none") => return Ok(false),
        None | Some("") | Some("otlp") => {}
        Some(other) => {
            return Err(ConfigError(format!(
                "OTEL_TRACES_EXPORTER={other}: this service exports traces by OTLP only (otlp or none)"
            )));
        }
    }
    let on = exporter.as_deref() == Some("otlp")
        || set("OTEL_EXPORTER_OTLP_ENDPOINT")
        || set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
    if on {
        for name in [
            "OTEL_EXPORTER_OTLP_PROTOCOL",
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        ] {
            if let Some(protocol) = env
                .var(name)
                .filter(|p| p.trim() != "http/protobuf" && !p.trim().is_empty())
            {
                return Err(ConfigError(format!(
                    "{name}={protocol}: this service sends traces as http/protobuf only"
                )));
            }
        }
    }
    Ok(on)
}

/// The trace exporter in force: flush it with [`shutdown`](Self::shutdown) before the
/// process ends.
pub struct Traces {
    provider: SdkTracerProvider,
}

impl std::fmt::Debug for Traces {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Traces").finish_non_exhaustive()
    }
}

/// The `tracing` layer that turns the service's spans into OpenTelemetry spans.
pub type TraceLayer<S> = tracing_opentelemetry::OpenTelemetryLayer<S, opentelemetry_sdk::trace::Tracer>;

impl Traces {
    /// The exporter the environment asks for (see the module docs), and the layer that
    /// feeds it; `None` when traces are off. Installs the W3C trace-context propagator.
    pub fn from_env<S>(env: &impl Env) -> Result<Option<(Self, TraceLayer<S>)>, ConfigError>
    where
        S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    {
        if !wanted(env)? {
            return Ok(None);
        }
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
            .build()
            .map_err(|e| ConfigError(format!("cannot set up the OTLP trace exporter: {e}")))?;
        let resource = opentelemetry_sdk::Resource::builder()
            .with_service_name(
                env.var("OTEL_SERVICE_NAME")
                    .filter(|n| !n.trim().is_empty())
                    .unwrap_or_else(|| "thoughtspot-token-service".into()),
            )
            .build();
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource)
            .build();
        let tracer = provider.tracer("thoughtspot-token-service");
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        ENABLED.store(true, Ordering::Relaxed);
        let layer = tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_location(false)
            .with_threads(false);
        Ok(Some((Self { provider }, layer)))
    }

    /// Sends the spans still queued and stops the exporter: waits at most the export
    /// timeout (`OTEL_EXPORTER_OTLP_TIMEOUT`, 10 s by default). Blocks: call it off the
    /// runtime's threads (`spawn_blocking`) or after the runtime.
    pub fn shutdown(self) {
        ENABLED.store(false, Ordering::Relaxed);
        let _ = self.provider.force_flush();
        let _ = self.provider.shutdown();
    }
}

/// Makes the trace context `headers` carry (`traceparent`, `tracestate`) the parent of
/// `span`. A header that does not parse is ignored: the span starts a trace of its own.
pub fn continue_trace(span: &tracing::Span, headers: &http::HeaderMap) {
    if !enabled() {
        return;
    }
    let parent = opentelemetry::global::get_text_map_propagator(|p| {
        p.extract(&opentelemetry_http::HeaderExtractor(headers))
    });
    let _ = span.set_parent(parent);
}

/// A transport that puts each call in a client span of its own and sends that span's
/// context as `traceparent`: the cluster's trace (or a provider's) joins the caller's.
#[derive(Debug)]
pub struct TracedTransport<T> {
    inner: T,
    peer: &'static str,
}

impl<T> TracedTransport<T> {
    /// `inner`, its calls traced as calls to `peer` (`"cluster"`, `"identity provider"`).
    pub fn new(inner: T, peer: &'static str) -> Self {
        Self { inner, peer }
    }
}

impl<T: HttpTransport> HttpTransport for TracedTransport<T> {
    fn send<'life0, 'async_trait>(&'life0 self, mut request: http::Request<Bytes>) -> SendFuture<'async_trait>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        if !enabled() {
            return self.inner.send(request);
        }
        let uri = request.uri();
        // The path names the operation; the query (and any header or body) is never kept.
        let span = tracing::info_span!(
            "outbound call",
            otel.name = %format_args!("{} {}", request.method(), uri.path()),
            otel.kind = "client",
            peer = self.peer,
            http.request.method = %request.method(),
            server.address = uri.host().unwrap_or_default(),
            url.path = uri.path(),
            http.response.status_code = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
        );
        let context = span.context();
        opentelemetry::global::get_text_map_propagator(|p| {
            p.inject_context(
                &context,
                &mut opentelemetry_http::HeaderInjector(request.headers_mut()),
            )
        });
        let sent = self.inner.send(request);
        let recorded = span.clone();
        Box::pin(
            async move {
                let answer = sent.await;
                match &answer {
                    Ok(response) => {
                        recorded.record("http.response.status_code", response.status().as_u16());
                        if response.status().is_server_error() {
                            recorded.record("otel.status_code", "ERROR");
                        }
                    }
                    Err(_) => {
                        recorded.record("otel.status_code", "ERROR");
                    }
                }
                answer
            }
            .instrument(span),
        )
    }
}

/// A [`Spawn`] whose tasks run in the span that spawned them: work the token manager
/// starts in the background (a fetch shared through Redis) stays in the request's trace.
#[derive(Debug)]
pub struct InSpan<S>(pub S);

impl<S: Spawn> Spawn for InSpan<S> {
    fn spawn(&self, future: SpawnFuture) {
        if enabled() {
            self.0.spawn(Box::pin(future.in_current_span()));
        } else {
            self.0.spawn(future);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traces_are_off_unless_asked_and_an_unsupported_ask_is_refused() {
        let wanted = |env: &[(&str, &str)]| wanted(&env.to_vec());
        assert!(!wanted(&[]).unwrap());
        assert!(wanted(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")]).unwrap());
        assert!(wanted(&[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://c/v1/traces")]).unwrap());
        assert!(wanted(&[("OTEL_TRACES_EXPORTER", "otlp")]).unwrap());
        assert!(
            !wanted(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c"),
                ("OTEL_SDK_DISABLED", "true")
            ])
            .unwrap()
        );
        assert!(
            !wanted(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c"),
                ("OTEL_TRACES_EXPORTER", "none")
            ])
            .unwrap()
        );
        let refused = wanted(&[("OTEL_TRACES_EXPORTER", "zipkin")])
            .unwrap_err()
            .to_string();
        assert!(refused.contains("OTLP only"), "{refused}");
        let refused = wanted(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ])
        .unwrap_err()
        .to_string();
        assert!(refused.contains("http/protobuf"), "{refused}");
    }
}
