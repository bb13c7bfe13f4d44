//! https against a local TLS server whose certificate a private CA signed: refused by
//! default, accepted with that CA as a root, accepted with the explicit insecure opt-in.
//! Both production backends.

use std::sync::Arc;
use std::time::Duration;
use thoughtspot_session_core::{
    Error, GetTokenRequest, HttpTransport, RetryPolicy, SessionApi, SessionClient, TokioSleep,
};
use thoughtspot_session_hyper::HyperTransport;
use thoughtspot_session_reqwest::ReqwestTransport;

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
    let (base, ca) = thoughtspot_session_tests::tls::tls_server().await;
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
