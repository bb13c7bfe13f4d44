//! # thoughtspot-session-hyper
//!
//! The ThoughtSpot Session API client over [hyper] 1 and hyper-util's pooled client: an
//! [`HttpTransport`] that only moves bytes, and a
//! one-line way to a ready client. Every behaviour a caller sees (headers, auth, cookies,
//! retries, timeouts, errors) comes from `thoughtspot-session-core`, re-exported here so
//! that one dependency line suffices.
//!
//! ```
//! use thoughtspot_session_hyper::{GetTokenRequest, LoginRequest, SessionApi};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # // A fake cluster on 127.0.0.1 stands in for a real one, so that this example runs.
//! # let fake = thoughtspot_session_mock::FakeThoughtSpot::builder()
//! #     .user(thoughtspot_session_mock::FakeUser::new("analyst@example.com", "pw"))
//! #     .secret_key("trusted-auth-key")
//! #     .build();
//! # let server = thoughtspot_session_mock::FakeServer::start(fake).await?;
//! # let base_url = server.base_url();
//! // base_url: "https://my-company.thoughtspot.cloud"
//! let client = thoughtspot_session_hyper::client(base_url)?
//!     .timeout(std::time::Duration::from_secs(30))
//!     .build()?;
//!
//! let issued = client
//!     .get_token(&GetTokenRequest::with_secret_key("analyst@example.com", "trusted-auth-key"))
//!     .await?;
//! client.use_token(&issued)?;
//! client.login(&LoginRequest::bearer()).await?;
//! let info = client.get_session_info().await?;
//! assert_eq!(info.user_name(), Some("analyst@example.com"));
//! client.logout().await?;
//! # Ok(()) }
//! ```
//!
//! ## What the transport it builds does
//!
//! - https through rustls (aws-lc-rs) with the platform's root certificates, plus any root
//!   CA given with [`add_root_certificate_pem`](HyperTransportBuilder::add_root_certificate_pem);
//!   an explicit [`danger_accept_invalid_certs`](HyperTransportBuilder::danger_accept_invalid_certs)
//!   for test clusters, off by default. Plain http where the client allows it.
//! - HTTP/1.1, and HTTP/2 where the server offers it by ALPN.
//! - Never follows a redirect (hyper does not): a 3xx reaches the client, which returns an
//!   error naming the `Location`.
//! - A connect timeout (default 10 s) that covers the TLS handshake too; the whole-call
//!   timeout is the client's.
//! - Pooled connections closed after 90 s idle, in the background
//!   ([`pool_idle_timeout`](HyperTransportBuilder::pool_idle_timeout)); a request whose
//!   pooled connection closed before any byte of it was written is sent again on a new
//!   one (safe for POST too).
//! - A cap on the response body (default 4 MiB) enforced while reading.
//! - **No proxy support.** hyper-util's client connects directly and ignores
//!   `HTTPS_PROXY`; behind a corporate proxy use the reqwest backend (which honours the
//!   proxy environment), or hand [`HyperTransport::from_client`] a client over a connector
//!   that tunnels (hyper-util's `client::proxy` module has one).
//!
//! [`HyperTransport::from_client`] takes a hyper-util client the application owns, over
//! any connector; its pool is shared, and the body cap still applies.
//!
//! ## Features
//!
//! - `native-tls`: also offers TLS through the platform's library (OpenSSL on Linux), with
//!   the same options, through `HyperTransportBuilder::build_native_tls`. rustls stays the
//!   default, so the feature only adds.

// Library code does not panic: no unwrap or expect outside tests.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connect, HttpConnector};
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use std::sync::Arc;
use std::time::Duration;

pub use thoughtspot_session_core::*;

/// The default cap on a response body: 4 MiB.
pub const DEFAULT_MAX_RESPONSE_BODY: usize = 4 * 1024 * 1024;
/// The default connect timeout: 10 s.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The default idle timeout of a pooled connection: 90 s, as reqwest's.
pub const DEFAULT_POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

mod connect_timeout;
pub use connect_timeout::ConnectTimeout;

/// The connector [`HyperTransport::new`] uses: https through rustls over hyper-util's
/// HTTP connector, the whole set-up (TCP and TLS) under the connect timeout.
pub type DefaultConnector = ConnectTimeout<HttpsConnector<HttpConnector>>;

/// The connector of [`HyperTransportBuilder::build_native_tls`] (feature `native-tls`).
#[cfg(feature = "native-tls")]
pub type NativeTlsConnector = ConnectTimeout<hyper_tls::HttpsConnector<HttpConnector>>;

/// A session client builder for the cluster at `base_url`, with a [`HyperTransport`] of
/// default settings and the tokio sleep already set: add options, then `build()`.
pub fn client(base_url: impl Into<String>) -> Result<SessionClientBuilder<HyperTransport>, ConfigError> {
    Ok(SessionClient::builder(base_url)
        .sleep(TokioSleep::new())
        .transport(HyperTransport::new()?))
}

/// [`HttpTransport`] over a hyper-util client.
#[derive(Clone, Debug)]
pub struct HyperTransport<C = DefaultConnector> {
    client: Client<C, Full<Bytes>>,
    max_body: usize,
}

impl HyperTransport {
    /// A transport with the default settings (see the crate docs).
    pub fn new() -> Result<Self, ConfigError> {
        Self::builder().build()
    }

    /// Options for the transport.
    pub fn builder() -> HyperTransportBuilder {
        HyperTransportBuilder::default()
    }
}

impl<C> HyperTransport<C> {
    /// A transport over a client the application owns, with the default body cap.
    pub fn from_client(client: Client<C, Full<Bytes>>) -> Self {
        Self {
            client,
            max_body: DEFAULT_MAX_RESPONSE_BODY,
        }
    }

    /// Sets the cap on a response body.
    #[must_use]
    pub fn with_max_response_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// The underlying client.
    pub fn hyper_client(&self) -> &Client<C, Full<Bytes>> {
        &self.client
    }
}

/// Options for a [`HyperTransport`].
#[derive(Debug)]
pub struct HyperTransportBuilder {
    connect_timeout: Duration,
    max_body: usize,
    root_certificates: Vec<Vec<u8>>,
    accept_invalid_certs: bool,
    pool_max_idle_per_host: Option<usize>,
    pool_idle_timeout: Option<Duration>,
}

impl Default for HyperTransportBuilder {
    fn default() -> Self {
        Self {
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            max_body: DEFAULT_MAX_RESPONSE_BODY,
            root_certificates: Vec::new(),
            accept_invalid_certs: false,
            pool_max_idle_per_host: None,
            pool_idle_timeout: Some(DEFAULT_POOL_IDLE_TIMEOUT),
        }
    }
}

impl HyperTransportBuilder {
    /// How long to wait for a connection, TLS handshake included (default 10 s).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The cap on a response body (default 4 MiB).
    #[must_use]
    pub fn max_response_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// Trusts the root CAs in a PEM document, besides the platform's roots. Checked by
    /// [`build`](Self::build).
    #[must_use]
    pub fn add_root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificates.push(pem.into());
        self
    }

    /// Accepts any server certificate, valid or not: the original SDKs' "skip SSL
    /// verification". Anyone on the network path can then read passwords and tokens: for
    /// test clusters only. Off by default.
    #[must_use]
    pub fn danger_accept_invalid_certs(mut self, accept: bool) -> Self {
        self.accept_invalid_certs = accept;
        self
    }

    /// The most idle connections kept per host (hyper-util's default: no limit).
    #[must_use]
    pub fn pool_max_idle_per_host(mut self, max: usize) -> Self {
        self.pool_max_idle_per_host = Some(max);
        self
    }

    /// How long a pooled connection may stay idle before it is closed, in the background
    /// (default 90 s; `None` keeps idle connections until the server closes them). Set it
    /// below the idle timeout of any load balancer in front of the cluster.
    #[must_use]
    pub fn pool_idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.pool_idle_timeout = timeout;
        self
    }

    /// Builds the transport; fails on a certificate that does not parse.
    pub fn build(self) -> Result<HyperTransport, ConfigError> {
        let tls = self.tls_config()?;
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_all_versions()
            .wrap_connector(self.http_connector());
        Ok(self.transport(https))
    }

    fn http_connector(&self) -> HttpConnector {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(self.connect_timeout));
        http.set_nodelay(true);
        http
    }

    fn transport<C: Connect + Clone>(&self, connector: C) -> HyperTransport<ConnectTimeout<C>>
    where
        ConnectTimeout<C>: Connect + Clone,
    {
        let mut client = Client::builder(TokioExecutor::new());
        // The timer closes idle connections in the background; without it hyper-util only
        // notices an expired one when it next takes it from the pool.
        client
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(self.pool_idle_timeout)
            // A request that failed because its pooled connection closed before any byte
            // of it was written is sent again on a new connection: safe for POST too.
            .retry_canceled_requests(true);
        if let Some(max) = self.pool_max_idle_per_host {
            client.pool_max_idle_per_host(max);
        }
        HyperTransport {
            client: client.build(ConnectTimeout::new(connector, self.connect_timeout)),
            max_body: self.max_body,
        }
    }

    /// Builds the transport with TLS through the platform's library instead of rustls
    /// (feature `native-tls`), with the same options.
    #[cfg(feature = "native-tls")]
    pub fn build_native_tls(self) -> Result<HyperTransport<NativeTlsConnector>, ConfigError> {
        let mut tls = native_tls::TlsConnector::builder();
        tls.danger_accept_invalid_certs(self.accept_invalid_certs)
            .request_alpns(&["h2", "http/1.1"]);
        for pem in &self.root_certificates {
            let certificate = native_tls::Certificate::from_pem(pem)
                .map_err(|e| ConfigError::with_source("a root certificate is not valid PEM", e))?;
            tls.add_root_certificate(certificate);
        }
        let tls = tls
            .build()
            .map_err(|e| ConfigError::with_source("TLS could not be set up", e))?;
        Ok(self.transport(hyper_tls::HttpsConnector::from((
            self.http_connector(),
            tls.into(),
        ))))
    }

    fn tls_config(&self) -> Result<ClientConfig, ConfigError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| ConfigError::with_source("TLS could not be set up", e))?;
        if self.accept_invalid_certs {
            return Ok(builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
                .with_no_client_auth());
        }
        let mut roots = RootCertStore::empty();
        roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        for pem in &self.root_certificates {
            let mut found = false;
            for certificate in CertificateDer::pem_slice_iter(pem) {
                let certificate = certificate
                    .map_err(|e| ConfigError::with_source("a root certificate is not valid PEM", e))?;
                roots
                    .add(certificate)
                    .map_err(|e| ConfigError::with_source("a root certificate was refused", e))?;
                found = true;
            }
            if !found {
                return Err(ConfigError::new("a root certificate PEM holds no certificate"));
            }
        }
        Ok(builder.with_root_certificates(roots).with_no_client_auth())
    }
}

/// The verifier of [`HyperTransportBuilder::danger_accept_invalid_certs`]: accepts every
/// certificate but still checks handshake signatures.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn client_error(e: hyper_util::client::legacy::Error) -> TransportError {
    if e.is_connect() {
        TransportError::connect(e)
    } else {
        TransportError::io(e)
    }
}

// Written without `#[async_trait]`: the request is handed to hyper before the future is
// boxed, so the box holds hyper's response future, not the request as well.
impl<C> HttpTransport for HyperTransport<C>
where
    C: Connect + Clone + Send + Sync + std::fmt::Debug + 'static,
{
    fn send<'life0, 'async_trait>(&'life0 self, request: http::Request<Bytes>) -> SendFuture<'async_trait>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        let sent = self.client.request(request.map(Full::new));
        let max_body = self.max_body;
        Box::pin(async move {
            // The response is taken apart in its own scope, so that it is not kept in this
            // future beside its parts while the body is read.
            let (parts, body) = {
                let response = sent.await.map_err(client_error)?;
                let declared = response
                    .headers()
                    .get(http::header::CONTENT_LENGTH)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok());
                if declared.is_some_and(|len| len > max_body as u64) {
                    return Err(TransportError::body_too_large(max_body));
                }
                response.into_parts()
            };
            let body = match Limited::new(body, max_body).collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
                    return Err(TransportError::body_too_large(max_body));
                }
                Err(e) => return Err(TransportError::io(e)),
            };
            Ok(http::Response::from_parts(parts, body))
        })
    }
}
