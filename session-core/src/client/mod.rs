//! `SessionClient`: the Session API over any transport. Its builder, its implementation
//! of REST API v2.0 (`AuthApi`) and how it picks an API generation live beside it.

mod auth_api;
mod builder;
mod generation;
mod pipeline;

pub use builder::{NoTransport, SessionClientBuilder};

use crate::api::SessionApi;
use crate::auth::{Bearer, SessionEnd, SessionState};
use crate::endpoint::{self};
use crate::error::{Error, InvalidRequest};
use crate::model::{GetTokenRequest, LoginRequest, SessionInfo, SessionLoginResponse, TokenType};
use crate::retry::RetryPolicy;
use crate::secret::AccessToken;
use crate::time::{Clock, Sleep};
use crate::transport::HttpTransport;
use crate::v2;
use crate::version::{ApiVersion, Generation};
use async_trait::async_trait;
use bytes::Bytes;
use http::header::HeaderMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use url::Url;

/// The default whole-call timeout, as the original SDKs.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

const USER_AGENT: &str = concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION"));

/// A client of one cluster's Session API, over the transport `T`.
///
/// Cheap to clone: clones share the transport, the access token and the cookie jar. It
/// speaks REST API v2.0 by default ([`ApiVersion`]). It keeps the session cookies the
/// cluster sets and sends them back on every later call, and sends the access token where
/// the generation's specification secures a call: on v2.0 every operation but
/// `token/full`, `token/object` and `token/custom` (logout included); on the beta get
/// session info, login and revoke token, never logout or get token. After a logout or a
/// revoke of its own token it holds nothing of the ended session.
///
/// ```
/// # use bytes::Bytes;
/// # use thoughtspot_session_core::{HttpTransport, TransportError};
/// # #[derive(Debug)]
/// # struct MyTransport;
/// # #[async_trait::async_trait]
/// # impl HttpTransport for MyTransport {
/// #     async fn send(&self, r: http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError> {
/// #         Ok(http::Response::new(Bytes::from_static(br#"{"token":"t","creation_time_in_millis":0,
/// #             "expiration_time_in_millis":300000,"scope":{"access_type":"FULL"},
/// #             "valid_for_user_id":"u","valid_for_username":"analyst@example.com"}"#)))
/// #     }
/// # }
/// use std::time::Duration;
/// use thoughtspot_session_core::{GetTokenRequest, RetryPolicy, SessionApi, SessionClient, TokioSleep};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let client = SessionClient::builder("https://example.thoughtspot.cloud/")
///     .timeout(Duration::from_secs(30))
///     .retry(RetryPolicy::default().max_attempts(4))
///     .sleep(TokioSleep::new())
///     .build(MyTransport)?;
///
/// let issued = client
///     .get_token(&GetTokenRequest::with_secret_key("analyst@example.com", "secret-key"))
///     .await?;
/// client.use_token(&issued)?; // later calls send it as Authorization: Bearer
/// assert!(client.has_access_token());
/// # Ok(()) }
/// ```
pub struct SessionClient<T = Arc<dyn HttpTransport>> {
    inner: Arc<Inner<T>>,
}

impl<T> Clone for SessionClient<T> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

pub(crate) struct Inner<T> {
    pub(crate) transport: T,
    pub(crate) base_url: Url,
    /// One `(Uri, jar Url)` per endpoint, in [`endpoint::ALL`] order, parsed once at build
    /// (see `endpoint_url`).
    pub(crate) urls: Vec<(http::Uri, Url)>,
    pub(crate) headers: HeaderMap,
    /// `headers` and `Content-Type: application/json`, for calls with a body.
    pub(crate) json_headers: HeaderMap,
    pub(crate) timeout: Option<Duration>,
    pub(crate) attempt_timeout: Option<Duration>,
    pub(crate) retry: RetryPolicy,
    pub(crate) sleep: Option<Arc<dyn Sleep>>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) state: Mutex<SessionState>,
    pub(crate) limiter: Option<Arc<crate::limit::Limiter>>,
    pub(crate) generation: Generation,
}

impl<T> Inner<T> {
    /// The session state. A panic elsewhere while holding the lock cannot leave it half
    /// written (every update is a single assignment or call), so a poisoned lock is used
    /// as it is.
    pub(crate) fn state(&self) -> MutexGuard<'_, SessionState> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl SessionClient {
    /// Starts building a client for the cluster at `base_url`, e.g.
    /// `https://my-company.thoughtspot.cloud` or `https://host/thoughtspot/` for a cluster
    /// served under a path.
    pub fn builder(base_url: impl Into<String>) -> SessionClientBuilder {
        SessionClientBuilder::new(base_url)
    }
}

impl<T: HttpTransport> SessionClient<T> {
    /// Makes later calls send `token` as `Authorization: Bearer` (on the operations that
    /// send it). An empty token, or one that cannot be a header value, is refused.
    pub fn set_access_token(&self, token: impl Into<AccessToken>) -> Result<(), Error> {
        let bearer = Bearer::new(token.into())?;
        self.inner.state().set_bearer(Some(bearer));
        Ok(())
    }

    /// Switches the client to the token of a login or get token answer.
    pub fn use_token(&self, response: &SessionLoginResponse) -> Result<(), Error> {
        let token = response
            .token()
            .ok_or_else(|| InvalidRequest::new("the answer holds no token (a cookie session has none)"))?;
        self.set_access_token(token.clone())
    }

    /// The access token the client sends, if any.
    pub fn access_token(&self) -> Option<AccessToken> {
        self.inner.state().bearer().map(|b| b.token().clone())
    }

    /// `true` when the client holds an access token.
    pub fn has_access_token(&self) -> bool {
        self.inner.state().bearer().is_some()
    }

    /// Stops sending an access token.
    pub fn clear_access_token(&self) {
        self.inner.state().set_bearer(None);
    }

    /// Revokes `token` (revoke token with it as the bearer; under REST API v2.0 also in the
    /// body), leaving the client's own token and cookies as they are: the call neither
    /// sends nor keeps cookies. A token service uses it to revoke tokens it handed out.
    pub async fn revoke_access_token(&self, token: &AccessToken) -> Result<bool, Error> {
        let bearer = Bearer::new(token.clone())?;
        let secrets = [token.secret()];
        self.by_generation(
            || {
                self.inner
                    .execute(&endpoint::REVOKE_TOKEN, None, &[], Some(&bearer))
            },
            || async {
                let body = Self::encode(&v2::RevokeTokenRequest::token(token.clone()))?;
                self.inner
                    .execute(&endpoint::v2::POST_REVOKE, Some(body), &secrets, Some(&bearer))
                    .await
            },
        )
        .await
    }

    /// Whether the cluster still accepts `token`: get session info with it as the bearer
    /// (`session/user` under REST API v2.0), isolated like [`revoke_access_token`](Self::revoke_access_token):
    /// it neither sends nor keeps the client's token or cookies. `Ok(false)` when the
    /// cluster answers 401 (the token was revoked, expired or never issued); other failures
    /// are errors, since they say nothing of the token. A token service asks it before it
    /// serves a cached token again, so that a token revoked behind its back is replaced.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use thoughtspot_session_core::{TokenKey, TokenManager};
    /// use thoughtspot_session_mock::{FakeThoughtSpot, FakeUser};
    ///
    /// let fake = FakeThoughtSpot::builder().user(FakeUser::new("analyst", "pw")).secret_key("key").build();
    /// let client = fake.client();
    /// let manager = TokenManager::builder(client.clone(), "key").build().unwrap();
    /// let token = manager.token(&TokenKey::new("analyst")).await.unwrap().token().clone();
    /// assert!(client.is_token_accepted(&token).await.unwrap());
    /// client.revoke_access_token(&token).await.unwrap();
    /// assert!(!client.is_token_accepted(&token).await.unwrap());
    /// # }
    /// ```
    pub async fn is_token_accepted(&self, token: &AccessToken) -> Result<bool, Error> {
        let bearer = Bearer::new(token.clone())?;
        let answer = self
            .by_generation(
                || {
                    self.inner
                        .execute(&endpoint::GET_SESSION_INFO, None, &[], Some(&bearer))
                },
                || {
                    self.inner
                        .execute(&endpoint::v2::GET_SESSION_INFO, None, &[], Some(&bearer))
                },
            )
            .await;
        match answer {
            Ok(_) => Ok(true),
            Err(e) if e.is_unauthorized() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The API generation the client speaks: as built, or, for [`ApiVersion::Auto`], as
    /// the first answer settled it (`Auto` until then).
    pub fn api_version(&self) -> ApiVersion {
        self.inner.generation.get()
    }

    pub(crate) fn inner(&self) -> &Inner<T> {
        &self.inner
    }

    /// What logout and revoke token hold while they run: when dropped, the session they
    /// started with ends.
    pub(crate) fn end_session_on_drop(&self) -> EndOnDrop<'_, T> {
        EndOnDrop::begin(&self.inner)
    }

    /// Forgets the access token and every cookie, as logout and revoke token do.
    pub fn clear_session(&self) {
        self.inner.state().clear();
    }

    /// The names of the cookies the client holds for the cluster (never their values).
    pub fn cookie_names(&self) -> Vec<String> {
        self.inner.state().cookie_names()
    }

    /// The base URL, normalised (ending in `/`).
    pub fn base_url(&self) -> &str {
        self.inner.base_url.as_str()
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.inner.transport
    }

    pub(crate) fn encode<B: serde::Serialize>(body: &B) -> Result<Bytes, Error> {
        encode_json(body)
    }
}

/// Ends the session a logout or revoke token owned when dropped: after the call finishes,
/// fails, times out or is cancelled. What was set meanwhile (a token set on a clone, a
/// concurrent login's cookies) stays.
pub(crate) struct EndOnDrop<'a, T> {
    inner: &'a Inner<T>,
    owned: Option<SessionEnd>,
}

impl<'a, T> EndOnDrop<'a, T> {
    fn begin(inner: &'a Inner<T>) -> Self {
        let owned = Some(inner.state().begin_end());
        Self { inner, owned }
    }
}

impl<T> Drop for EndOnDrop<'_, T> {
    fn drop(&mut self) {
        if let Some(owned) = self.owned.take() {
            self.inner.state().finish_end(owned);
        }
    }
}

#[async_trait]
impl<T: HttpTransport> SessionApi for SessionClient<T> {
    async fn get_session_info(&self) -> Result<SessionInfo, Error> {
        self.by_generation(
            || self.inner.execute(&endpoint::GET_SESSION_INFO, None, &[], None),
            || {
                self.inner
                    .execute(&endpoint::v2::GET_SESSION_INFO, None, &[], None)
            },
        )
        .await
    }

    async fn login(&self, request: &LoginRequest) -> Result<SessionLoginResponse, Error> {
        request.validate()?;
        if request.is_bearer() && !self.has_access_token() {
            return Err(InvalidRequest::new(
                "login without a password needs an access token: call set_access_token or use_token first",
            )
            .into());
        }
        let secrets = [request.password().map_or("", |p| p.secret())];
        self.by_generation(
            || async {
                let body = Self::encode(request)?;
                self.inner
                    .execute(&endpoint::LOGIN, Some(body), &secrets, None)
                    .await
            },
            || async {
                let successor = match (request.user_name(), request.password()) {
                    (Some(user), Some(password)) => {
                        v2::SessionLoginRequest::with_password(user, password.clone())
                    }
                    _ => v2::SessionLoginRequest::bearer(),
                };
                let successor = match request.remember_me() {
                    Some(remember) => successor.with_remember_me(remember),
                    None => successor,
                };
                let body = Self::encode(&successor)?;
                self.inner
                    .execute(&endpoint::v2::POST_LOGIN, Some(body), &secrets, None)
                    .await?;
                // v2.0 answers 204: the session is the cookie it set.
                let mut answer = SessionLoginResponse::new().with_token_type(TokenType::Cookie);
                if let Some(user) = request.user_name() {
                    answer = answer.with_user_name(user);
                }
                Ok(answer)
            },
        )
        .await
    }

    async fn logout(&self) -> Result<bool, Error> {
        let _end = EndOnDrop::begin(&self.inner);
        self.by_generation(
            || self.inner.execute(&endpoint::LOGOUT, None, &[], None),
            || self.inner.execute(&endpoint::v2::POST_LOGOUT, None, &[], None),
        )
        .await
    }

    async fn get_token(&self, request: &GetTokenRequest) -> Result<SessionLoginResponse, Error> {
        request.validate()?;
        let secrets = [
            request.password().map_or("", |p| p.secret()),
            request.secret_key().map_or("", |k| k.secret()),
        ];
        self.by_generation(
            || async {
                let body = Self::encode(request)?;
                self.inner
                    .execute(&endpoint::GET_TOKEN, Some(body), &secrets, None)
                    .await
            },
            || async {
                let (endpoint, body) = match v2::from_beta::TokenRequest::from_beta(request)? {
                    v2::from_beta::TokenRequest::Full(r) => (&endpoint::v2::GET_FULL_TOKEN, encode_json(&r)?),
                    v2::from_beta::TokenRequest::Object(r) => {
                        (&endpoint::v2::GET_OBJECT_TOKEN, encode_json(&r)?)
                    }
                };
                let token = self.inner.execute(endpoint, Some(body), &secrets, None).await?;
                Ok(SessionLoginResponse::new()
                    .with_user_name(token.valid_for_username)
                    .with_token(token.token)
                    .with_token_type(TokenType::Bearer)
                    .with_created_at(token.creation_time)
                    .with_absolute_expiry(token.expiration_time))
            },
        )
        .await
    }

    async fn get_v2_token(&self, request: &v2::AnyTokenRequest) -> Result<SessionLoginResponse, Error> {
        use v2::AuthApi;
        if self.api_version() == ApiVersion::V2Beta {
            return Err(InvalidRequest::new(
                "tokens with groups or custom rules need REST API v2.0: this client speaks the v2 beta (ApiVersion::V2Beta)",
            )
            .into());
        }
        let (user, token, created, expires) = match request {
            v2::AnyTokenRequest::Full(r) => {
                let t = self.token_full(r).await?;
                (t.valid_for_username, t.token, t.creation_time, t.expiration_time)
            }
            v2::AnyTokenRequest::Object(r) => {
                let t = self.token_object(r).await?;
                (t.valid_for_username, t.token, t.creation_time, t.expiration_time)
            }
            v2::AnyTokenRequest::Custom(r) => {
                let t = self.token_custom(r).await?;
                (
                    t.user.name.unwrap_or_default(),
                    t.token,
                    t.creation_time,
                    t.expiration_time,
                )
            }
        };
        Ok(SessionLoginResponse::new()
            .with_user_name(user)
            .with_token(token)
            .with_token_type(TokenType::Bearer)
            .with_created_at(created)
            .with_absolute_expiry(expires))
    }

    async fn revoke_token(&self) -> Result<bool, Error> {
        let _end = EndOnDrop::begin(&self.inner);
        let token = self.access_token();
        let secrets = [token.as_ref().map_or("", |t| t.secret())];
        self.by_generation(
            || self.inner.execute(&endpoint::REVOKE_TOKEN, None, &[], None),
            || async {
                let request = match &token {
                    Some(token) => v2::RevokeTokenRequest::token(token.clone()),
                    None => v2::RevokeTokenRequest::default(),
                };
                let body = Self::encode(&request)?;
                self.inner
                    .execute(&endpoint::v2::POST_REVOKE, Some(body), &secrets, None)
                    .await
            },
        )
        .await
    }
}

fn encode_json<B: serde::Serialize>(body: &B) -> Result<Bytes, Error> {
    crate::secret::to_wire_json(body)
        .map(Bytes::from)
        .map_err(|_| InvalidRequest::new("the request body could not be encoded as JSON").into())
}

impl<T: fmt::Debug> fmt::Debug for SessionClient<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("SessionClient")
            .field("base_url", &inner.base_url.as_str())
            .field("transport", &inner.transport)
            .field("session", &*inner.state())
            .field("timeout", &inner.timeout)
            .field("attempt_timeout", &inner.attempt_timeout)
            .field("retry", &inner.retry)
            .field("api_version", &inner.generation.get())
            .finish_non_exhaustive()
    }
}
