//! Traces (issue 34): the binary exports OTLP over HTTP/protobuf to a receiver of the
//! test's own, which decodes every batch. A page's request that carries a W3C
//! `traceparent` is continued: the service's server span is its child, the call to the
//! cluster a child of that, and the cluster (a proxy in front of the fake, recording
//! headers) receives that call's context. No batch holds a secret, a token or a user name.

mod support;

use axum::body::Bytes;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message as _;
use serde_json::json;
use std::io::BufRead;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::*;
use thoughtspot_session_mock::FakeThoughtSpot;

/// Every OTLP body received, raw.
#[derive(Clone, Default)]
struct Receiver {
    bodies: Arc<Mutex<Vec<Bytes>>>,
}

impl Receiver {
    async fn start(&self) -> String {
        let bodies = self.bodies.clone();
        let app = axum::Router::new().route(
            "/v1/traces",
            axum::routing::post(move |headers: axum::http::HeaderMap, body: Bytes| {
                let bodies = bodies.clone();
                async move {
                    assert_eq!(headers["content-type"], "application/x-protobuf");
                    bodies.lock().unwrap().push(body);
                    (
                        [("content-type", "application/x-protobuf")],
                        opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse::default()
                            .encode_to_vec(),
                    )
                }
            }),
        );
        serve(app).await
    }

    fn spans(&self) -> Vec<Span> {
        self.bodies
            .lock()
            .unwrap()
            .iter()
            .flat_map(|b| {
                ExportTraceServiceRequest::decode(b.clone())
                    .expect("an OTLP trace request")
                    .resource_spans
            })
            .flat_map(|r| r.scope_spans)
            .flat_map(|s| s.spans)
            .collect()
    }
}

async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

/// The fake cluster behind a proxy that records each request's path and `traceparent`.
async fn recording_cluster(fake: &FakeThoughtSpot) -> (String, Arc<Mutex<Vec<(String, Option<String>)>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (fake, log) = (fake.clone(), seen.clone());
    let app = axum::Router::new().fallback(move |request: axum::extract::Request| {
        let (fake, log) = (fake.clone(), log.clone());
        async move {
            let (parts, body) = request.into_parts();
            let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
            log.lock().unwrap().push((
                parts.uri.path().to_owned(),
                parts
                    .headers
                    .get("traceparent")
                    .map(|v| v.to_str().unwrap().to_owned()),
            ));
            let answer = fake.handle(&http::Request::from_parts(parts, body));
            let (parts, body) = answer.into_parts();
            axum::response::Response::from_parts(parts, axum::body::Body::from(body))
        }
    });
    (serve(app).await, seen)
}

fn attribute(span: &Span, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|a| a.key == key)
        .and_then(|a| match a.value.as_ref()?.value.as_ref()? {
            Any::StringValue(s) => Some(s.clone()),
            Any::IntValue(i) => Some(i.to_string()),
            Any::BoolValue(b) => Some(b.to_string()),
            other => Some(format!("{other:?}")),
        })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_trace_is_continued_to_the_cluster_and_holds_no_secret() {
    let issuer = Issuer::start().await;
    let fake = fake();
    let (cluster, cluster_saw) = recording_cluster(&fake).await;
    let receiver = Receiver::default();
    let collector = receiver.start().await;
    let dir = std::env::temp_dir().join(format!("ts-traces-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("token-service.toml");
    std::fs::write(
        &path,
        format!(
            r#"listen = "127.0.0.1:0"
log = "json"
[cluster]
url = "{cluster}"
[identity]
issuer = "{issuer}"
audiences = ["{AUDIENCE}"]
jwks_url = "{jwks}"
[[abac.rules]]
claim = "region"
column = "Region"
"#,
            issuer = issuer.idp.issuer(),
            jwks = issuer.jwks_url,
        ),
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_thoughtspot-token-service");
    let mut child = std::process::Command::new(bin)
        .env_clear()
        .env("TS_SECRET_KEY", SECRET_KEY)
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &collector)
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .env("OTEL_SERVICE_NAME", "tokens-under-test")
        .arg("--config")
        .arg(&path)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let base = loop {
        let line = lines.next().expect("the service printed its address").unwrap();
        if let Some(rest) = line.strip_prefix("token service on ") {
            break rest.trim().to_owned();
        }
    };
    let logs = std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>());
    let http = reqwest::Client::builder().no_proxy().build().unwrap();

    // The page's trace: its request span is the parent of ours.
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let page_span = "00f067aa0ba902b7";
    let bearer =
        issuer.token(json!({"email": "alice@example.com", "email_verified": true, "region": "west"}));
    let ask = |bearer: String, parent: Option<String>| {
        let (http, base) = (http.clone(), base.clone());
        async move {
            let mut r = http
                .get(format!("{base}/token"))
                .header("authorization", format!("Bearer {bearer}"));
            if let Some(parent) = parent {
                r = r.header("traceparent", parent);
            }
            let r = r.send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let traceparent = format!("00-{trace_id}-{page_span}-01");
    let (status, first) = ask(bearer.clone(), Some(traceparent.clone())).await;
    assert_eq!(status, 200, "{first}");
    let (status, again) = ask(bearer.clone(), Some(format!("00-{trace_id}-1111111111111111-01"))).await;
    assert_eq!((status, &again), (200, &first));
    let (status, _) = ask(
        format!("{bearer}x"),
        Some(format!("00-{trace_id}-2222222222222222-01")),
    )
    .await;
    assert_eq!(status, 401);
    // A request with no trace context, and one whose header is garbage: traces of their own.
    let (status, _) = ask(bearer.clone(), None).await;
    assert_eq!(status, 200);
    let (status, _) = ask(bearer.clone(), Some("00-zz-not-a-trace".into())).await;
    assert_eq!(status, 200);

    // Everything is exported by the time the process has ended (SIGTERM flushes).
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "SIGTERM did not stop it"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(child.wait().unwrap().success());
    let _ = logs.join();

    let spans = receiver.spans();
    let ours: Vec<&Span> = spans.iter().filter(|s| hex(&s.trace_id) == trace_id).collect();
    let server = |parent: &str| {
        *ours
            .iter()
            .find(|s| hex(&s.parent_span_id) == parent && s.name == "GET /token")
            .unwrap_or_else(|| panic!("no server span under {parent}: {spans:#?}"))
    };
    // The first request: served after a call to the cluster.
    let first_span = server(page_span);
    assert_eq!(first_span.kind, 2, "a server span");
    assert_eq!(attribute(first_span, "http.route").as_deref(), Some("/token"));
    assert_eq!(
        attribute(first_span, "http.response.status_code").as_deref(),
        Some("200")
    );
    assert_eq!(attribute(first_span, "outcome").as_deref(), Some("served"));
    assert_eq!(attribute(first_span, "cache").as_deref(), Some("fetched"));
    let calls: Vec<&&Span> = ours
        .iter()
        .filter(|s| s.parent_span_id == first_span.span_id)
        .collect();
    assert_eq!(calls.len(), 1, "one call to the cluster: {calls:#?}");
    let call = calls[0];
    assert_eq!(call.kind, 3, "a client span");
    assert_eq!(call.name, "POST /api/rest/2.0/auth/token/custom");
    assert_eq!(
        attribute(call, "http.response.status_code").as_deref(),
        Some("200")
    );
    // The cluster got that call's context: the page's trace, the call as parent.
    let saw = cluster_saw.lock().unwrap().clone();
    let custom: Vec<_> = saw.iter().filter(|(p, _)| p.ends_with("token/custom")).collect();
    assert_eq!(custom.len(), 1, "{saw:?}");
    assert_eq!(
        custom[0].1.as_deref(),
        Some(format!("00-{trace_id}-{}-01", hex(&call.span_id)).as_str())
    );
    // The second: from the cache, no call.
    let second = server("1111111111111111");
    assert_eq!(attribute(second, "cache").as_deref(), Some("cached"));
    assert!(!ours.iter().any(|s| s.parent_span_id == second.span_id));
    // The third: refused, and why.
    let third = server("2222222222222222");
    assert_eq!(
        attribute(third, "http.response.status_code").as_deref(),
        Some("401")
    );
    assert_eq!(attribute(third, "outcome").as_deref(), Some("malformed_token"));
    // The requests without a (valid) context: roots of traces of their own.
    let roots: Vec<&Span> = spans
        .iter()
        .filter(|s| s.name == "GET /token" && s.parent_span_id.is_empty())
        .collect();
    assert_eq!(roots.len(), 2, "{roots:#?}");
    assert!(roots.iter().all(|s| hex(&s.trace_id) != trace_id));
    let service_name = ExportTraceServiceRequest::decode(receiver.bodies.lock().unwrap()[0].clone())
        .unwrap()
        .resource_spans[0]
        .resource
        .as_ref()
        .unwrap()
        .attributes
        .iter()
        .find(|a| a.key == "service.name")
        .and_then(|a| a.value.clone())
        .and_then(|v| v.value);
    assert_eq!(service_name, Some(Any::StringValue("tokens-under-test".into())));

    // No secret anywhere in what was exported: the secret key, the caller's ID token, the
    // ThoughtSpot token served, the user's name, a claim's value.
    let bodies = receiver.bodies.lock().unwrap().clone();
    for body in &bodies {
        let text = String::from_utf8_lossy(body);
        for secret in [
            SECRET_KEY,
            bearer.as_str(),
            &bearer[bearer.len() - 20..],
            first.as_str(),
            "alice",
            "west",
        ] {
            assert!(!text.contains(secret), "an exported batch holds {secret:?}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_binary_refuses_an_otlp_protocol_it_cannot_send() {
    let bin = env!("CARGO_BIN_EXE_thoughtspot-token-service");
    let out = std::process::Command::new(bin)
        .env_clear()
        .env("TOKEN_SERVICE_ADDR", "127.0.0.1:0")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317")
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        .arg("--check")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("http/protobuf"));
}
