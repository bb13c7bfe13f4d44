//! https against a local TLS server whose certificate a private CA signed: refused by
//! default, accepted with that CA as a root, accepted with the explicit insecure opt-in.
//! Both production backends.

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};
use std::sync::Arc;
use std::time::Duration;
use thoughtspot_session_core::{
    Error, GetTokenRequest, HttpTransport, RetryPolicy, SessionApi, SessionClient, TokioSleep,
};
use thoughtspot_session_hyper::HyperTransport;
use thoughtspot_session_reqwest::ReqwestTransport;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const BODY: &str = r#"{"token":"t-tls","tokenType":"Bearer"}"#;

/// A CA (its PEM) and a TLS server on 127.0.0.1 with a certificate it signed.
async fn tls_server() -> (String, String) {
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
            let acceptor = acceptor.clone();
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
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{BODY}",
                    BODY.len()
                );
                let _ = tls.write_all(answer.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (base, ca_cert.pem())
}

async fn call(base: &str, transport: Arc<dyn HttpTransport>) -> Result<(), Error> {
    let client = SessionClient::builder(base)
        .api_version(thoughtspot_session_core::ApiVersion::V2Beta)
        .sleep(TokioSleep::new())
        .timeout(Duration::from_secs(10))
        .retry(RetryPolicy::disabled())
        .build(transport)
        .expect("valid");
    let out = client
        .get_token(&GetTokenRequest::with_password("u", "p"))
        .await?;
    assert_eq!(
        out.token().map(|t| t.secret().to_owned()).as_deref(),
        Some("t-tls")
    );
    Ok(())
}

/// Makes a transport: with this root CA PEM (if any), accepting invalid certificates or not.
type Make = fn(Option<&str>, bool) -> Result<Arc<dyn HttpTransport>, thoughtspot_session_core::ConfigError>;

async fn refuses_an_unknown_ca_and_accepts_it_configured_or_with_the_opt_in(make: Make) {
    let (base, ca) = tls_server().await;
    let e = call(&base, make(None, false).expect("builds"))
        .await
        .expect_err("unknown CA");
    assert!(matches!(&e, Error::Transport(t) if t.is_connect()), "{e:?}");
    call(&base, make(Some(&ca), false).expect("builds"))
        .await
        .expect("the CA is trusted");
    call(&base, make(None, true).expect("builds"))
        .await
        .expect("verification is off");
    assert!(make(Some("not a certificate"), false).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reqwest_refuses_an_unknown_ca_and_accepts_it_configured_or_with_the_opt_in() {
    let _watchdog = thoughtspot_session_tests::Watchdog::start(
        "tls::reqwest_refuses_an_unknown_ca_and_accepts_it_configured_or_with_the_opt_in",
    );
    refuses_an_unknown_ca_and_accepts_it_configured_or_with_the_opt_in(|ca, insecure| {
        let mut b = ReqwestTransport::builder().danger_accept_invalid_certs(insecure);
        if let Some(ca) = ca {
            b = b.add_root_certificate_pem(ca);
        }
        Ok(Arc::new(b.build()?))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hyper_refuses_an_unknown_ca_and_accepts_it_configured_or_with_the_opt_in() {
    let _watchdog = thoughtspot_session_tests::Watchdog::start(
        "tls::hyper_refuses_an_unknown_ca_and_accepts_it_configured_or_with_the_opt_in",
    );
    refuses_an_unknown_ca_and_accepts_it_configured_or_with_the_opt_in(|ca, insecure| {
        let mut b = HyperTransport::builder().danger_accept_invalid_certs(insecure);
        if let Some(ca) = ca {
            b = b.add_root_certificate_pem(ca);
        }
        Ok(Arc::new(b.build()?))
    })
    .await;
}
