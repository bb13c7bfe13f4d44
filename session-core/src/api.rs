//! The `SessionApi` trait: the five operations of the Session API.

use crate::error::{Error, InvalidRequest};
use crate::model::{GetTokenRequest, LoginRequest, SessionInfo, SessionLoginResponse};
use crate::v2::AnyTokenRequest;
use async_trait::async_trait;
use std::sync::Arc;

/// The five session operations, on either API generation: what a token service and most
/// tools need. A [`SessionClient`](crate::SessionClient) sends them to REST API v2.0 by
/// default (`session/user`, `session/login`, `session/logout`, `token/full` or
/// `token/object`, `token/revoke`) and to the v2 beta's `SessionController` under
/// [`ApiVersion::V2Beta`](crate::ApiVersion::V2Beta); the answers are the same types either
/// way. Which call to make for each task, on each face, is in the crate docs' table.
///
/// [`SessionClient`](crate::SessionClient) implements it over any transport. The trait is
/// object-safe and its futures are `Send`, so application code can hold an
/// `Arc<dyn SessionApi>` and tests can put a fake in its place.
///
/// ```
/// use std::sync::Arc;
/// use thoughtspot_session_core::{Error, GetTokenRequest, SessionApi};
///
/// /// Application code depends on the trait, not on a transport.
/// async fn token_for(api: &dyn SessionApi, user: &str, key: &str) -> Result<String, Error> {
///     let response = api.get_token(&GetTokenRequest::with_secret_key(user, key)).await?;
///     Ok(response.token().map(|t| t.secret().to_owned()).unwrap_or_default())
/// }
///
/// fn shareable(api: Arc<dyn SessionApi>) -> impl SessionApi {
///     api // Arc<dyn SessionApi> is itself a SessionApi
/// }
/// ```
#[async_trait]
pub trait SessionApi: Send + Sync {
    /// The session object of the signed-in user (v2.0 `GET session/user`; beta
    /// `GET /tspublic/rest/v2/session`).
    async fn get_session_info(&self) -> Result<SessionInfo, Error>;

    /// Starts a cookie session, by password or by the client's bearer token (v2.0
    /// `POST session/login`; beta `POST /tspublic/rest/v2/session/login`).
    async fn login(&self, request: &LoginRequest) -> Result<SessionLoginResponse, Error>;

    /// Ends the session (v2.0 `POST session/logout`, which carries the bearer token; beta
    /// `POST /tspublic/rest/v2/session/logout`, which does not). Whether or not the call
    /// succeeds, the client then holds nothing of the ended session: the token and cookies
    /// it started with are forgotten, and so is any cookie the logout's own answer (or
    /// another call of that session) set meanwhile. A token set or a login made meanwhile
    /// stays.
    async fn logout(&self) -> Result<bool, Error>;

    /// Issues a bearer token for a user (v2.0 `POST token/full`, or `token/object` for
    /// `REPORT_BOOK_VIEW`; beta `POST /tspublic/rest/v2/session/gettoken`). Never retried
    /// once sent: each call mints a token.
    async fn get_token(&self, request: &GetTokenRequest) -> Result<SessionLoginResponse, Error>;

    /// Revokes the client's own token (v2.0 `POST token/revoke` with the token in the body;
    /// beta `POST /tspublic/rest/v2/session/revoketoken`). Like logout, the client then
    /// holds nothing of the ended session, whether or not the call succeeds.
    async fn revoke_token(&self) -> Result<bool, Error>;

    /// Issues a REST API v2.0 token of any kind: `token/full` or `token/object` (with JIT
    /// groups, say) or `token/custom` (with row-level rules), answered in the same form as
    /// [`get_token`](Self::get_token). Never retried once sent. A
    /// [`TokenManager`](crate::TokenManager) calls it for keys with groups or rules.
    ///
    /// A [`SessionClient`](crate::SessionClient) sends it under `V2` and `Auto` and refuses
    /// it under `V2Beta`, which has no such tokens. The provided method refuses it with
    /// [`Error::InvalidRequest`]: an implementation that speaks only the beta need not
    /// write it.
    async fn get_v2_token(&self, request: &AnyTokenRequest) -> Result<SessionLoginResponse, Error> {
        let _ = request;
        Err(InvalidRequest::new(
            "this SessionApi does not issue REST API v2.0 tokens (groups or custom rules)",
        )
        .into())
    }
}

macro_rules! forward_session_api {
    ($($ptr:ident),*) => {$(
        #[async_trait]
        impl<S: SessionApi + ?Sized> SessionApi for $ptr<S> {
            async fn get_session_info(&self) -> Result<SessionInfo, Error> {
                (**self).get_session_info().await
            }
            async fn login(&self, request: &LoginRequest) -> Result<SessionLoginResponse, Error> {
                (**self).login(request).await
            }
            async fn logout(&self) -> Result<bool, Error> {
                (**self).logout().await
            }
            async fn get_token(&self, request: &GetTokenRequest) -> Result<SessionLoginResponse, Error> {
                (**self).get_token(request).await
            }
            async fn revoke_token(&self) -> Result<bool, Error> {
                (**self).revoke_token().await
            }
            async fn get_v2_token(&self, request: &AnyTokenRequest) -> Result<SessionLoginResponse, Error> {
                (**self).get_v2_token(request).await
            }
        }
    )*};
}

forward_session_api!(Arc, Box);
