//! A TLS server of the tests' own, behind a private CA, for `--ca-cert` and root-store tests.

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the server answers every request with: a beta get token answer.
pub const BODY: &str = r#"{"token":"t-tls","tokenType":"Bearer"}"#;

/// A TLS server on 127.0.0.1 with a certificate for `localhost` and `127.0.0.1` from a CA
/// made for it: its `https://` base URL and the CA's PEM. Every request gets [`BODY`].
pub async fn tls_server() -> (String, String) {
    tls_server_serving(BODY.to_owned(), "application/json").await
}

/// As [`tls_server`], answering every request with `body` as `content_type`.
pub async fn tls_server_serving(body: String, content_type: &'static str) -> (String, String) {
    let body: Arc<str> = body.into();
    let ca = PrivateCa::new();
    let (server_cert, server_key) = (ca.server_cert, ca.server_key);

    let key = rustls_pki_types::PrivateKeyDer::Pkcs8(server_key.serialize_der().into());
    let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_no_client_auth()
    .with_single_cert(vec![server_cert.der().clone()], key)
    .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));

    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!(
        "https://127.0.0.1:{}",
        listener.local_addr().expect("addr").port()
    );
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (acceptor, body) = (acceptor.clone(), body.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    return;
                };
                let mut buf = vec![0u8; 16 * 1024];
                let mut seen = Vec::new();
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = tokio::time::timeout(Duration::from_millis(20), tls.read(&mut buf)).await;
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(answer.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (base, ca.ca_pem)
}

/// A CA made for a test, and a certificate it signed for `localhost` and `127.0.0.1`.
pub struct PrivateCa {
    /// The CA's certificate (PEM): what a client trusts.
    pub ca_pem: String,
    /// The server's certificate.
    pub server_cert: rcgen::Certificate,
    /// The server's key.
    pub server_key: KeyPair,
}

impl PrivateCa {
    /// A new CA and server certificate.
    pub fn new() -> Self {
        let ca_key = KeyPair::generate().expect("key");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("params");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "thoughtspot-session test CA");
        let ca_cert = ca.self_signed(&ca_key).expect("CA");
        let issuer = rcgen::Issuer::new(ca, ca_key);
        let server_key = KeyPair::generate().expect("key");
        let mut params = CertificateParams::new(vec!["localhost".to_owned()]).expect("params");
        params
            .subject_alt_names
            .push(SanType::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()));
        let server_cert = params
            .signed_by(&server_key, &issuer)
            .expect("server certificate");
        Self {
            ca_pem: ca_cert.pem(),
            server_cert,
            server_key,
        }
    }
}

impl Default for PrivateCa {
    fn default() -> Self {
        Self::new()
    }
}
