//! [`SessionClientBuilder`]: the base URL, timeouts, retries, headers and generation of a
//! [`SessionClient`], checked by `build`.

use super::{DEFAULT_TIMEOUT, Inner, SessionClient, USER_AGENT};
use crate::auth::{Bearer, SessionState};
use crate::endpoint::{self, Route};
use crate::error::ConfigError;
use crate::headers::is_sensitive_header;
use crate::retry::RetryPolicy;
use crate::secret::AccessToken;
use crate::time::{Clock, Sleep, SystemClock};
use crate::transport::HttpTransport;
use crate::version::{ApiVersion, Generation};
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use url::Url;

/// Builds a [`SessionClient`]; [`build`](Self::build) checks everything and never panics.
///
/// Defaults: a whole-call timeout of 60 s and [`RetryPolicy::default`] (3 attempts for
/// GET). Both need a [`Sleep`]: set one (e.g. `TokioSleep` with the `rt-tokio` feature), or
/// turn both off with [`no_timeout`](Self::no_timeout) and
/// `retry(RetryPolicy::disabled())`; otherwise `build` says so.
///
/// ```
/// use thoughtspot_session_core::{RetryPolicy, SessionClient};
/// # #[derive(Debug)] struct T;
/// # #[async_trait::async_trait] impl thoughtspot_session_core::HttpTransport for T {
/// #   async fn send(&self, _: http::Request<bytes::Bytes>) -> Result<http::Response<bytes::Bytes>, thoughtspot_session_core::TransportError> { unimplemented!() } }
///
/// // Plain http is refused for a host other than loopback: passwords travel in bodies.
/// let refused = SessionClient::builder("http://cluster.example.com").no_timeout()
///     .retry(RetryPolicy::disabled()).build(T);
/// assert!(refused.unwrap_err().to_string().contains("plain http"));
///
/// // No sleep for the default timeout: a clear error, not a silent lack of timeout.
/// let no_sleep = SessionClient::builder("https://cluster.example.com").build(T);
/// assert!(no_sleep.unwrap_err().to_string().contains("sleep"));
/// ```
pub struct SessionClientBuilder<T = NoTransport> {
    transport: T,
    base_url: String,
    access_token: Option<AccessToken>,
    timeout: Option<Duration>,
    attempt_timeout: Option<Duration>,
    retry: RetryPolicy,
    sleep: Option<Arc<dyn Sleep>>,
    clock: Arc<dyn Clock>,
    accept_language: Option<String>,
    default_headers: Vec<(String, String)>,
    allow_insecure_http: bool,
    max_in_flight: Option<usize>,
    api_version: ApiVersion,
}

/// The transport of a [`SessionClientBuilder`] that has none yet: give one to
/// [`build`](SessionClientBuilder::build) or [`transport`](SessionClientBuilder::transport).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoTransport;

impl SessionClientBuilder<NoTransport> {
    /// A builder for the cluster at `base_url`; same as [`SessionClient::builder`].
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            transport: NoTransport,
            base_url: base_url.into(),
            access_token: None,
            timeout: Some(DEFAULT_TIMEOUT),
            attempt_timeout: None,
            retry: RetryPolicy::default(),
            sleep: None,
            clock: Arc::new(SystemClock),
            accept_language: None,
            default_headers: Vec::new(),
            allow_insecure_http: false,
            max_in_flight: None,
            api_version: ApiVersion::default(),
        }
    }

    /// Checks the configuration and builds the client over `transport`.
    pub fn build<U: HttpTransport>(self, transport: U) -> Result<SessionClient<U>, ConfigError> {
        self.transport(transport).build()
    }
}

impl<T> SessionClientBuilder<T> {
    /// Sets the transport; [`build`](SessionClientBuilder::build) then needs no argument.
    /// Backends' ready-made builders come with theirs set.
    pub fn transport<U: HttpTransport>(self, transport: U) -> SessionClientBuilder<U> {
        SessionClientBuilder {
            transport,
            base_url: self.base_url,
            access_token: self.access_token,
            timeout: self.timeout,
            attempt_timeout: self.attempt_timeout,
            retry: self.retry,
            sleep: self.sleep,
            clock: self.clock,
            accept_language: self.accept_language,
            default_headers: self.default_headers,
            allow_insecure_http: self.allow_insecure_http,
            max_in_flight: self.max_in_flight,
            api_version: self.api_version,
        }
    }

    /// The transport set so far.
    pub fn transport_ref(&self) -> &T {
        &self.transport
    }

    /// An access token to send as `Authorization: Bearer` from the first call.
    #[must_use]
    pub fn access_token(mut self, token: impl Into<AccessToken>) -> Self {
        self.access_token = Some(token.into());
        self
    }

    /// The whole-call timeout, all attempts and waits included (default 60 s).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// No whole-call timeout.
    #[must_use]
    pub fn no_timeout(mut self) -> Self {
        self.timeout = None;
        self
    }

    /// A timeout for each attempt (none by default); an attempt that runs past it counts
    /// as a timeout for the retry policy.
    #[must_use]
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = Some(timeout);
        self
    }

    /// The retry policy (default [`RetryPolicy::default`]).
    #[must_use]
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The sleep that timeouts and retry waits use. To share one, pass an `Arc` of it:
    /// `Arc<S>` and `Arc<dyn Sleep>` are sleeps too.
    #[must_use]
    pub fn sleep(mut self, sleep: impl Sleep + 'static) -> Self {
        self.sleep = Some(Arc::new(sleep));
        self
    }

    /// The clock that reads `Retry-After` dates (default the system clock). To share one,
    /// pass an `Arc` of it.
    #[must_use]
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Sends `Accept-Language` with this value on every call (not sent by default).
    #[must_use]
    pub fn accept_language(mut self, language: impl Into<String>) -> Self {
        self.accept_language = Some(language.into());
        self
    }

    /// A header sent on every call.
    ///
    /// `User-Agent` may be given here and then replaces the client's own
    /// (`thoughtspot-session-core/VERSION`). The headers the protocol or the client's own
    /// behaviour depend on are refused by `build`: `Accept` (answers are decoded as JSON),
    /// `X-Requested-By` (ThoughtSpot's CSRF guard), `Authorization`, `Cookie`, `Host`,
    /// `Content-Type`, `Content-Length` and `Transfer-Encoding`.
    #[must_use]
    pub fn default_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.default_headers.push((name.into(), value.into()));
        self
    }

    /// Bounds the requests in flight at once through this client (and its clones), and so
    /// the connections it opens; further calls wait their turn, in order, within their
    /// timeout. Unbounded by default. At least 1.
    #[must_use]
    pub fn max_in_flight(mut self, max: usize) -> Self {
        self.max_in_flight = Some(max);
        self
    }

    /// The API generation [`SessionApi`](crate::SessionApi)'s operations go to (default
    /// [`ApiVersion::V2Beta`]; a current cluster is [`ApiVersion::V2`]). See [`ApiVersion`].
    #[must_use]
    pub fn api_version(mut self, version: ApiVersion) -> Self {
        self.api_version = version;
        self
    }

    /// Allows plain `http` to a host other than loopback. Passwords, secret keys and tokens
    /// then cross the network unencrypted: for test clusters only.
    #[must_use]
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    fn headers(&self) -> Result<HeaderMap, ConfigError> {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        headers.insert(header::USER_AGENT, HeaderValue::from_static(USER_AGENT));
        headers.insert(
            HeaderName::from_static("x-requested-by"),
            HeaderValue::from_static("ThoughtSpot"),
        );
        if let Some(language) = &self.accept_language {
            let value = HeaderValue::try_from(language.as_str())
                .map_err(|_| ConfigError::new("the Accept-Language value is not a valid header value"))?;
            headers.insert(header::ACCEPT_LANGUAGE, value);
        }
        for (name, value) in &self.default_headers {
            let name = HeaderName::try_from(name.as_str())
                .map_err(|_| ConfigError::new(format!("{name:?} is not a valid header name")))?;
            let reserved = [
                header::ACCEPT,
                HeaderName::from_static("x-requested-by"),
                header::HOST,
                header::CONTENT_TYPE,
                header::CONTENT_LENGTH,
                header::TRANSFER_ENCODING,
            ];
            if is_sensitive_header(&name) || reserved.contains(&name) {
                return Err(ConfigError::new(format!(
                    "the {name} header is set by the client itself and cannot be a default header"
                )));
            }
            let value = HeaderValue::try_from(value.as_str()).map_err(|_| {
                ConfigError::new(format!(
                    "the value of the {name} header is not a valid header value"
                ))
            })?;
            headers.insert(name, value);
        }
        Ok(headers)
    }
}

impl<T: HttpTransport> SessionClientBuilder<T> {
    /// Checks the configuration and builds the client over the transport set.
    pub fn build(self) -> Result<SessionClient<T>, ConfigError> {
        let base_url = parse_base_url(&self.base_url, self.allow_insecure_http)?;
        let urls = endpoint::ALL
            .iter()
            .map(|e| endpoint_url(&base_url, e))
            .collect::<Result<Vec<_>, _>>()?;
        if self.timeout == Some(Duration::ZERO) || self.attempt_timeout == Some(Duration::ZERO) {
            return Err(ConfigError::new("a timeout must be longer than zero"));
        }
        if self.max_in_flight == Some(0) {
            return Err(ConfigError::new("max_in_flight must be at least 1"));
        }
        if self.retry.attempts() == 0 {
            return Err(ConfigError::new("the retry policy needs at least 1 attempt"));
        }
        if self.sleep.is_none() {
            let needs = if self.timeout.is_some() {
                Some("a timeout is configured (60 s by default)")
            } else if self.attempt_timeout.is_some() {
                Some("an attempt timeout is configured")
            } else if self.retry.attempts() > 1 {
                Some("retries are configured (3 attempts by default)")
            } else {
                None
            };
            if let Some(why) = needs {
                return Err(ConfigError::new(format!(
                    "{why} but no sleep is set: call .sleep(TokioSleep::new()) (feature rt-tokio) or \
                     another Sleep, or turn off both with .no_timeout() and .retry(RetryPolicy::disabled())"
                )));
            }
        }
        let headers = self.headers()?;
        let mut json_headers = headers.clone();
        json_headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let bearer = self.access_token.map(Bearer::new).transpose()?;
        let transport = self.transport;
        Ok(SessionClient {
            inner: Arc::new(Inner {
                transport,
                base_url,
                urls,
                headers,
                json_headers,
                timeout: self.timeout,
                attempt_timeout: self.attempt_timeout,
                retry: self.retry,
                sleep: self.sleep,
                clock: self.clock,
                state: Mutex::new(SessionState::new(bearer)),
                limiter: self.max_in_flight.map(crate::limit::Limiter::new),
                generation: Generation::new(self.api_version),
            }),
        })
    }
}

impl<T: fmt::Debug> fmt::Debug for SessionClientBuilder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionClientBuilder")
            .field("transport", &self.transport)
            .field("base_url", &RedactedUrl(&self.base_url))
            .field("access_token", &self.access_token)
            .field("timeout", &self.timeout)
            .field("attempt_timeout", &self.attempt_timeout)
            .field("retry", &self.retry)
            .field("sleep", &self.sleep)
            .field("clock", &self.clock)
            .field("accept_language", &self.accept_language)
            .field(
                "default_headers",
                &self.default_headers.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .field("allow_insecure_http", &self.allow_insecure_http)
            .field("max_in_flight", &self.max_in_flight)
            .field("api_version", &self.api_version)
            .finish()
    }
}

/// A base URL as `Debug` may show it: without user, password, query or fragment (which
/// `build` refuses, but a builder holds until then), and not at all when it does not parse.
struct RedactedUrl<'a>(&'a str);

impl fmt::Debug for RedactedUrl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Url::parse(self.0.trim()) {
            Ok(mut url) => {
                let hidden = !url.username().is_empty()
                    || url.password().is_some()
                    || url.query().is_some()
                    || url.fragment().is_some();
                // Clearing these cannot fail on a URL with a host; where it does, the URL
                // keeps them and is not shown.
                let cleared = url.set_username("").is_ok() && url.set_password(None).is_ok();
                url.set_query(None);
                url.set_fragment(None);
                match (cleared, hidden) {
                    (true, false) => write!(f, "{:?}", url.as_str()),
                    (true, true) => write!(f, "\"{} [user, query or fragment redacted]\"", url.as_str()),
                    (false, _) => f.write_str("[a URL with no host, redacted]"),
                }
            }
            Err(_) => write!(f, "[not a valid URL, {} bytes, redacted]", self.0.len()),
        }
    }
}

fn parse_base_url(raw: &str, allow_insecure_http: bool) -> Result<Url, ConfigError> {
    let mut url = Url::parse(raw.trim())
        .map_err(|e| ConfigError::new(format!("the base URL is not a valid absolute URL: {e}")))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_insecure_http || is_loopback(&url) => {}
        "http" => {
            return Err(ConfigError::new(
                "plain http to a host other than loopback would send passwords and tokens \
                 unencrypted: use https, or allow_insecure_http(true) for a test cluster",
            ));
        }
        other => {
            return Err(ConfigError::new(format!(
                "the base URL must be http or https, not {other:?}"
            )));
        }
    }
    if url.host().is_none() {
        return Err(ConfigError::new("the base URL has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ConfigError::new(
            "the base URL must not carry a user name or password: log in with LoginRequest",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ConfigError::new(
            "the base URL must not have a query or a fragment",
        ));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// The URI a call is sent to, and the URL the cookie jar files its cookies under.
///
/// The builder trusts plain http to a loopback host (`localhost`, `*.localhost`,
/// `localhost.`, loopback addresses) as it trusts https; the jar's own rule is narrower
/// (only `localhost` and loopback addresses), so it would keep a `Secure` session cookie
/// from `http://app.localhost` and never send it back. The jar is shown such a URL as
/// https, so both rules agree.
fn endpoint_url(base: &Url, endpoint: &Route) -> Result<(http::Uri, Url), ConfigError> {
    let mut url = base
        .join(endpoint.path)
        .map_err(|e| ConfigError::new(format!("cannot form the {} URL: {e}", endpoint.name)))?;
    let uri = http::Uri::try_from(url.as_str())
        .map_err(|e| ConfigError::new(format!("cannot form the {} URI: {e}", endpoint.name)))?;
    if url.scheme() == "http" && is_loopback(&url) {
        // http and https are both special schemes: the change cannot fail.
        let _ = url.set_scheme("https");
    }
    Ok((uri, url))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(raw: &str) -> Result<String, String> {
        parse_base_url(raw, false)
            .map(|u| u.to_string())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn base_urls_are_normalised_and_checked() {
        assert_eq!(
            url("https://ts.example.com"),
            Ok("https://ts.example.com/".into())
        );
        assert_eq!(
            url("https://ts.example.com/thoughtspot"),
            Ok("https://ts.example.com/thoughtspot/".into())
        );
        assert_eq!(
            url("https://ts.example.com/thoughtspot/"),
            Ok("https://ts.example.com/thoughtspot/".into())
        );
        assert_eq!(url("http://127.0.0.1:8080"), Ok("http://127.0.0.1:8080/".into()));
        assert_eq!(url("http://[::1]:8080"), Ok("http://[::1]:8080/".into()));
        assert_eq!(url("http://localhost"), Ok("http://localhost/".into()));
        assert!(url("http://ts.example.com").is_err());
        assert!(parse_base_url("http://ts.example.com", true).is_ok());
        assert!(url("ftp://ts.example.com").is_err());
        assert!(url("ts.example.com").is_err());
        assert!(url("https://ts.example.com/?x=1").is_err());
        let e = url("https://admin:hunter2@ts.example.com").unwrap_err();
        assert!(!e.contains("hunter2"), "{e}");
    }

    #[test]
    fn builder_debug_shows_no_secret_of_the_base_url() {
        for (raw, shown) in [
            (
                "https://admin:hunter2@ts.example.com/ts",
                "https://ts.example.com/ts [user, query or fragment redacted]",
            ),
            (
                "https://ts.example.com/?token=hunter2",
                "https://ts.example.com/ [user, query or fragment redacted]",
            ),
            ("https://ts.example.com/ts", "\"https://ts.example.com/ts\""),
            ("hunter2 is no URL", "[not a valid URL, 17 bytes, redacted]"),
        ] {
            let debug = format!("{:?}", SessionClient::builder(raw));
            assert!(debug.contains(shown) && !debug.contains("hunter2"), "{debug}");
        }
    }

    #[test]
    fn endpoint_urls_keep_the_path_prefix() {
        let base = parse_base_url("https://h/thoughtspot", false).expect("valid");
        let (uri, _) = endpoint_url(&base, &endpoint::LOGIN.route).expect("valid");
        assert_eq!(
            uri.to_string(),
            "https://h/thoughtspot/tspublic/rest/v2/session/login"
        );
        let (uri, _) = endpoint_url(&base, &endpoint::GET_SESSION_INFO.route).expect("valid");
        assert_eq!(uri.path(), "/thoughtspot/tspublic/rest/v2/session");
    }
}
