//! The `SessionApi` trait: the five operations of the Session API.

use crate::error::Error;
use crate::model::{GetTokenRequest, LoginRequest, SessionInfo, SessionLoginResponse};
use async_trait::async_trait;
use std::sync::Arc;

/// The Session endpoints of ThoughtSpot's REST API v2.
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
    /// `GET /tspublic/rest/v2/session`: the session object of the signed-in user.
    async fn get_session_info(&self) -> Result<SessionInfo, Error>;

    /// `POST /tspublic/rest/v2/session/login`: starts a session, by password or by the
    /// client's bearer token.
    async fn login(&self, request: &LoginRequest) -> Result<SessionLoginResponse, Error>;

    /// `POST /tspublic/rest/v2/session/logout`: ends the session. The client forgets its
    /// token and cookies whether or not the call succeeds.
    async fn logout(&self) -> Result<bool, Error>;

    /// `POST /tspublic/rest/v2/session/gettoken`: issues a bearer token for a user.
    async fn get_token(&self, request: &GetTokenRequest) -> Result<SessionLoginResponse, Error>;

    /// `POST /tspublic/rest/v2/session/revoketoken`: revokes the client's token. The client
    /// forgets its token and cookies whether or not the call succeeds.
    async fn revoke_token(&self) -> Result<bool, Error>;
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
        }
    )*};
}

forward_session_api!(Arc, Box);
