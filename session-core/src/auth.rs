//! Session state: the access token and the cluster's cookies.

use crate::error::ConfigError;
use crate::secret::AccessToken;
use cookie_store::CookieStore;
use http::HeaderMap;
use http::header::{self, HeaderValue};
use std::fmt;
use url::Url;

/// The bearer token and its prebuilt `Authorization` value.
#[derive(Clone)]
pub(crate) struct Bearer {
    token: AccessToken,
    header: HeaderValue,
}

impl Bearer {
    /// Validates a token once, so that every call only copies the prebuilt header.
    pub(crate) fn new(token: AccessToken) -> Result<Self, ConfigError> {
        if token.secret().trim().is_empty() {
            return Err(ConfigError::new("the access token is empty"));
        }
        let mut header = HeaderValue::try_from(format!("Bearer {}", token.secret())).map_err(|_| {
            ConfigError::new("the access token holds characters not allowed in an HTTP header")
        })?;
        header.set_sensitive(true);
        Ok(Self { token, header })
    }

    pub(crate) fn token(&self) -> &AccessToken {
        &self.token
    }

    pub(crate) fn header(&self) -> &HeaderValue {
        &self.header
    }
}

/// What the client knows of its session: the access token and the cookie jar.
///
/// Two counters keep concurrent calls from undoing each other:
/// - `token_generation` changes whenever the token is set or cleared, so that logout and
///   revoke token clear the token only if it is still the one they started with;
/// - `epoch` changes whenever a logout or revoke token ends the session, so that cookies
///   answering a call sent before that end cannot bring the ended session back (a login's
///   cookies start a new session and are always kept);
/// - `ending` counts the logouts and revokes in flight: while one runs, cookies answering a
///   call of the session it ends (its own answer included) are not kept either.
#[derive(Default)]
pub(crate) struct SessionState {
    bearer: Option<Bearer>,
    token_generation: u64,
    cookies: CookieStore,
    /// `false` while the jar has never held a cookie since it was last emptied: calls then
    /// skip the jar's lookup (the common case of a token service).
    has_cookies: bool,
    epoch: u64,
    ending: u32,
}

/// What a logout or revoke token owns and clears when it ends: the token it started with,
/// and the cookies (by name and value) the jar held then.
pub(crate) struct SessionEnd {
    token_generation: u64,
    cookies: Vec<(String, String)>,
}

impl SessionState {
    pub(crate) fn new(bearer: Option<Bearer>) -> Self {
        Self {
            bearer,
            ..Self::default()
        }
    }

    pub(crate) fn bearer(&self) -> Option<&Bearer> {
        self.bearer.as_ref()
    }

    pub(crate) fn set_bearer(&mut self, bearer: Option<Bearer>) {
        self.bearer = bearer;
        self.token_generation += 1;
    }

    /// The session epoch a call is sent in; see [`store_cookies`](Self::store_cookies).
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Adds `Authorization` (when `send_token`) and `Cookie` for `url` to `headers`.
    pub(crate) fn apply(&self, url: &Url, send_token: bool, headers: &mut HeaderMap) {
        if let (true, Some(bearer)) = (send_token, &self.bearer) {
            headers.insert(header::AUTHORIZATION, bearer.header.clone());
        }
        if !self.has_cookies {
            return;
        }
        let mut cookie = String::new();
        for (name, value) in self.cookies.get_request_values(url) {
            if !cookie.is_empty() {
                cookie.push_str("; ");
            }
            cookie.push_str(name);
            cookie.push('=');
            cookie.push_str(value);
        }
        if !cookie.is_empty() {
            // A value the jar accepted from a Set-Cookie header is a valid header value;
            // if it is not, the cookie is left out rather than the call failing.
            if let Ok(mut value) = HeaderValue::try_from(cookie) {
                value.set_sensitive(true);
                headers.insert(header::COOKIE, value);
            }
        }
    }

    /// Stores the `Set-Cookie` headers of an answer from `url` to a call sent in
    /// `sent_epoch`. Cookies the jar refuses (another domain, malformed) are dropped, and
    /// so is every cookie of a call sent before the session last ended, unless the call
    /// `starts_session` (a login).
    pub(crate) fn store_cookies(
        &mut self,
        url: &Url,
        headers: &HeaderMap,
        sent_epoch: u64,
        starts_session: bool,
    ) {
        if (sent_epoch != self.epoch || self.ending > 0) && !starts_session {
            return;
        }
        for value in headers.get_all(header::SET_COOKIE) {
            let stored = value
                .to_str()
                .is_ok_and(|text| self.cookies.parse(text, url).is_ok());
            self.has_cookies |= stored;
        }
    }

    /// The token and every cookie value: what an error text must never quote.
    pub(crate) fn secret_values(&self) -> Vec<String> {
        let token = self.bearer.as_ref().map(|b| b.token.secret().to_owned());
        token
            .into_iter()
            .chain(self.cookies.iter_any().map(|c| c.value().to_owned()))
            .collect()
    }

    pub(crate) fn cookie_names(&self) -> Vec<String> {
        self.cookies
            .iter_unexpired()
            .map(|c| c.name().to_owned())
            .collect()
    }

    /// What a logout or revoke token starting now owns.
    pub(crate) fn begin_end(&mut self) -> SessionEnd {
        self.ending += 1;
        SessionEnd {
            token_generation: self.token_generation,
            cookies: self
                .cookies
                .iter_any()
                .map(|c| (c.name().to_owned(), c.value().to_owned()))
                .collect(),
        }
    }

    /// Ends the session a logout or revoke token owned: clears the token if nothing set
    /// another since, removes the cookies it started with (not those a login set since),
    /// and starts a new epoch.
    pub(crate) fn finish_end(&mut self, owned: SessionEnd) {
        self.ending = self.ending.saturating_sub(1);
        if self.token_generation == owned.token_generation {
            self.set_bearer(None);
        }
        if !owned.cookies.is_empty() {
            let doomed: Vec<(String, String, String)> = self
                .cookies
                .iter_any()
                .filter(|c| owned.cookies.iter().any(|(n, v)| n == c.name() && v == c.value()))
                .map(|c| {
                    (
                        String::from(&c.domain),
                        String::from(&c.path),
                        c.name().to_owned(),
                    )
                })
                .collect();
            for (domain, path, name) in doomed {
                self.cookies.remove(&domain, &path, &name);
            }
        }
        self.has_cookies = self.cookies.iter_any().next().is_some();
        self.epoch += 1;
    }

    /// Forgets the token and every cookie, and starts a new epoch.
    pub(crate) fn clear(&mut self) {
        self.set_bearer(None);
        self.cookies.clear();
        self.has_cookies = false;
        self.epoch += 1;
    }
}

impl fmt::Debug for SessionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionState")
            .field("access_token", &self.bearer.as_ref().map(|_| "[redacted]"))
            .field("cookies", &self.cookie_names())
            .finish()
    }
}
