//! `AuthApi`: the REST API v2.0 operations (implemented on `SessionClient` in the client's
//! `auth_api`).

use super::request::{
    ConfigureAuthSettingsRequest, GetCustomAccessTokenRequest, GetFullAccessTokenRequest,
    GetObjectAccessTokenRequest, RevokeTokenRequest, SearchAuthSettingsRequest, SessionLoginRequest,
    ValidateTokenRequest,
};
use super::response::{AuthSettings, CustomAccessToken, GetTokenResponse, Token, TokenValidation, User};
use crate::error::Error;
use async_trait::async_trait;

/// Every operation of REST API v2.0 authentication, named after its path. Object-safe:
/// `Arc<dyn AuthApi>` works, and so do mocks of your own.
#[async_trait]
pub trait AuthApi: Send + Sync {
    /// `GET session/user`: the user of the calling session or token.
    async fn session_user(&self) -> Result<User, Error>;
    /// `GET session/token`: a token of the calling session.
    async fn session_token(&self) -> Result<GetTokenResponse, Error>;
    /// `POST session/login` (204): a cookie session, kept by the client.
    async fn session_login(&self, request: &SessionLoginRequest) -> Result<(), Error>;
    /// `POST session/logout` (204): ends the session; the client then holds nothing of it
    /// (as [`SessionApi::logout`](crate::SessionApi::logout)).
    async fn session_logout(&self) -> Result<(), Error>;
    /// `POST token/full`: a full-access token (sent without `Authorization`).
    async fn token_full(&self, request: &GetFullAccessTokenRequest) -> Result<Token, Error>;
    /// `POST token/object`: a token for one object (sent without `Authorization`).
    async fn token_object(&self, request: &GetObjectAccessTokenRequest) -> Result<Token, Error>;
    /// `POST token/custom`: a token with row-level rules (sent without `Authorization`).
    async fn token_custom(&self, request: &GetCustomAccessTokenRequest) -> Result<CustomAccessToken, Error>;
    /// `POST token/revoke` (204). Revoking the client's own token ends its session, as
    /// [`SessionApi::revoke_token`](crate::SessionApi::revoke_token) does.
    async fn token_revoke(&self, request: &RevokeTokenRequest) -> Result<(), Error>;
    /// `POST token/validate`: what the cluster says of a token.
    async fn token_validate(&self, request: &ValidateTokenRequest) -> Result<TokenValidation, Error>;
    /// `POST configure` (204): trusted-authentication settings.
    async fn configure_auth_settings(&self, request: &ConfigureAuthSettingsRequest) -> Result<(), Error>;
    /// `POST search`: reads the trusted-authentication settings.
    async fn search_auth_settings(&self, request: &SearchAuthSettingsRequest) -> Result<AuthSettings, Error>;
}
