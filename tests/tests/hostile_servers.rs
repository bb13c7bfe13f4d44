//! Servers that misbehave on the wire: every case ends in a clear error within the
//! timeout, never a panic or a hang, and the client works for the next call. Both
//! production backends.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use thoughtspot_session_core::{Error, GetTokenRequest, RetryPolicy, SessionApi, SessionClient, TokioSleep};
use thoughtspot_session_tests::{Factory, TransportOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const GOOD: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 39\r\n\r\n{\"token\":\"t-good\",\"tokenType\":\"Bearer\"}";
const TIMEOUT: Duration = Duration::from_secs(2);
const CAP: usize = 1024 * 1024;

#[derive(Clone, Copy, Debug)]
enum Case {
    ShortBody,
    ResetMidHeaders,
    DripBody,
    HugeDeclaredBody,
    HugeChunkedBody,
    BrokenChunked,
    HugeHeaders,
    InvalidUtf8Json,
    HtmlOn200,
    Http10CloseDelimited,
    NeverAnswers,
}

/// Reads one request's head (and its small body) so the client sees its request taken.
async fn read_request(stream: &mut TcpStream) {
    let mut buf = vec![0u8; 16 * 1024];
    let mut seen = Vec::new();
    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
    // Give the body (a few hundred bytes at most) a moment to arrive.
    let _ = tokio::time::timeout(Duration::from_millis(20), stream.read(&mut buf)).await;
}

async fn misbehave(case: Case, mut s: TcpStream) {
    read_request(&mut s).await;
    let ok = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n";
    match case {
        Case::ShortBody => {
            let _ = s
                .write_all(format!("{ok}Content-Length: 100\r\n\r\n{{\"token\":").as_bytes())
                .await;
        }
        Case::ResetMidHeaders => {
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Le").await;
            // SO_LINGER 0: closing sends a reset (blocking on drop is what the test wants).
            #[allow(deprecated)]
            let _ = s.set_linger(Some(Duration::ZERO));
        }
        Case::DripBody => {
            let _ = s
                .write_all(format!("{ok}Content-Length: 1000\r\n\r\n").as_bytes())
                .await;
            for _ in 0..100 {
                if s.write_all(b" ").await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
        Case::HugeDeclaredBody => {
            let _ = s
                .write_all(format!("{ok}Content-Length: 104857600\r\n\r\n").as_bytes())
                .await;
            let chunk = vec![b' '; 64 * 1024];
            for _ in 0..1600 {
                if s.write_all(&chunk).await.is_err() {
                    return;
                }
            }
        }
        Case::HugeChunkedBody => {
            let _ = s
                .write_all(format!("{ok}Transfer-Encoding: chunked\r\n\r\n").as_bytes())
                .await;
            let mut chunk = b"10000\r\n".to_vec();
            chunk.extend(std::iter::repeat_n(b' ', 0x10000));
            chunk.extend_from_slice(b"\r\n");
            for _ in 0..1600 {
                if s.write_all(&chunk).await.is_err() {
                    return;
                }
            }
        }
        Case::BrokenChunked => {
            let _ = s
                .write_all(format!("{ok}Transfer-Encoding: chunked\r\n\r\nZZ\r\nnot a chunk\r\n").as_bytes())
                .await;
        }
        Case::HugeHeaders => {
            let big = "a".repeat(100 * 1024);
            let _ = s
                .write_all(format!("{ok}X-Big: {big}\r\nContent-Length: 2\r\n\r\n{{}}").as_bytes())
                .await;
        }
        Case::InvalidUtf8Json => {
            let body = b"{\"token\":\"\xff\xfe\",\"tokenType\":\"Bearer\"}";
            let _ = s
                .write_all(format!("{ok}Content-Length: {}\r\n\r\n", body.len()).as_bytes())
                .await;
            let _ = s.write_all(body).await;
        }
        Case::HtmlOn200 => {
            let body = "<!DOCTYPE html><html><body>Please sign in</body></html>";
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(format!("{head}{body}").as_bytes()).await;
        }
        Case::Http10CloseDelimited => {
            let _ = s
                .write_all(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{\"token\":\"t-10\",\"tokenType\":\"Bearer\"}")
                .await;
        }
        Case::NeverAnswers => {
            tokio::time::sleep(Duration::from_secs(60)).await;
        }
    }
    let _ = s.shutdown().await;
}

/// A server whose first connection misbehaves as `case` and whose later ones answer well.
async fn hostile_server(case: Case) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = connections.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                if n == 0 {
                    misbehave(case, stream).await;
                } else {
                    loop {
                        read_request(&mut stream).await;
                        if stream.write_all(GOOD).await.is_err() {
                            return;
                        }
                        let mut probe = [0u8; 1];
                        match tokio::time::timeout(Duration::from_secs(5), stream.peek(&mut probe)).await {
                            Ok(Ok(n)) if n > 0 => continue,
                            _ => return,
                        }
                    }
                }
            });
        }
    });
    (base, connections)
}

async fn run(factory: Factory, case: Case) -> Result<(), Error> {
    let (base, _) = hostile_server(case).await;
    let client = SessionClient::builder(base)
        .api_version(thoughtspot_session_core::ApiVersion::V2Beta)
        .sleep(TokioSleep::new())
        .timeout(TIMEOUT)
        .retry(RetryPolicy::disabled())
        .build(factory(TransportOptions { max_body: CAP }))
        .expect("valid");
    let started = Instant::now();
    let first = client.get_token(&GetTokenRequest::with_password("u", "p")).await;
    assert!(
        started.elapsed() < TIMEOUT + Duration::from_secs(1),
        "{case:?} took {:?}",
        started.elapsed()
    );
    let second = client.get_token(&GetTokenRequest::with_password("u", "p")).await;
    let token = second.unwrap_or_else(|e| panic!("{case:?}: the next call failed: {e:?}"));
    assert_eq!(
        token.token().map(|t| t.secret().to_owned()).as_deref(),
        Some("t-good"),
        "{case:?}"
    );
    first.map(|_| ())
}

fn transport_kind(e: &Error) -> Option<thoughtspot_session_core::TransportErrorKind> {
    match e {
        Error::Transport(t) => Some(t.kind()),
        _ => None,
    }
}

async fn every_case(factory: Factory) {
    use thoughtspot_session_core::TransportErrorKind as K;
    let expect_err = |case, result: Result<(), Error>| result.expect_err(&format!("{case:?} must fail"));
    for case in [Case::ShortBody, Case::ResetMidHeaders, Case::BrokenChunked] {
        let e = expect_err(case, run(factory, case).await);
        assert!(
            matches!(transport_kind(&e), Some(K::Io | K::Other)),
            "{case:?}: {e:?}"
        );
    }
    for case in [Case::DripBody, Case::NeverAnswers] {
        let e = expect_err(case, run(factory, case).await);
        assert!(matches!(e, Error::Timeout(_)), "{case:?}: {e:?}");
    }
    for case in [Case::HugeDeclaredBody, Case::HugeChunkedBody] {
        let e = expect_err(case, run(factory, case).await);
        assert_eq!(transport_kind(&e), Some(K::BodyTooLarge), "{case:?}: {e:?}");
    }
    let e = expect_err(Case::HugeHeaders, run(factory, Case::HugeHeaders).await);
    assert!(matches!(transport_kind(&e), Some(K::Other | K::Io)), "{e:?}");
    for case in [Case::InvalidUtf8Json, Case::HtmlOn200] {
        let e = expect_err(case, run(factory, case).await);
        assert!(matches!(e, Error::Decode(_)), "{case:?}: {e:?}");
    }
    // A close-delimited HTTP/1.0 body is valid HTTP: it decodes.
    run(factory, Case::Http10CloseDelimited)
        .await
        .expect("an HTTP/1.0 answer is fine");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reqwest_survives_hostile_servers() {
    let _watchdog =
        thoughtspot_session_tests::Watchdog::start("hostile_servers::reqwest_survives_hostile_servers");
    every_case(thoughtspot_session_tests::reqwest).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hyper_survives_hostile_servers() {
    let _watchdog =
        thoughtspot_session_tests::Watchdog::start("hostile_servers::hyper_survives_hostile_servers");
    every_case(thoughtspot_session_tests::hyper).await;
}
