//! `SessionClient`'s implementation of [`AuthApi`]: every REST API v2.0 operation through
//! the same pipeline as the beta's.

use super::SessionClient;
use crate::endpoint::v2 as rows;
use crate::error::{Error, InvalidRequest};
use crate::secret::{Password, SecretKey};
use crate::transport::HttpTransport;
use crate::v2::{
    AuthApi, AuthSettings, ConfigureAuthSettingsRequest, CustomAccessToken, GetCustomAccessTokenRequest,
    GetFullAccessTokenRequest, GetObjectAccessTokenRequest, GetTokenResponse, RevokeTokenRequest,
    SearchAuthSettingsRequest, SessionLoginRequest, Token, TokenValidation, User, ValidateTokenRequest,
};
use async_trait::async_trait;
use std::sync::Arc;

/// The credentials of a token request: what an error text must never quote.
fn credentials<'a>(password: Option<&'a Password>, secret_key: Option<&'a SecretKey>) -> [&'a str; 2] {
    [
        password.map_or("", |p| p.secret()),
        secret_key.map_or("", |k| k.secret()),
    ]
}

#[async_trait]
impl<T: HttpTransport> AuthApi for SessionClient<T> {
    async fn session_user(&self) -> Result<User, Error> {
        self.inner().execute(&rows::GET_USER, None, &[], None).await
    }

    async fn session_token(&self) -> Result<GetTokenResponse, Error> {
        self.inner()
            .execute(&rows::GET_SESSION_TOKEN, None, &[], None)
            .await
    }

    async fn session_login(&self, request: &SessionLoginRequest) -> Result<(), Error> {
        request.validate()?;
        if request.password().is_none() && !self.has_access_token() {
            return Err(InvalidRequest::new(
                "session/login without a password needs an access token: call set_access_token first",
            )
            .into());
        }
        let body = Self::encode(request)?;
        let secrets = [request.password().map_or("", |p| p.secret())];
        self.inner()
            .execute(&rows::POST_LOGIN, Some(body), &secrets, None)
            .await
    }

    async fn session_logout(&self) -> Result<(), Error> {
        let _end = self.end_session_on_drop();
        self.inner()
            .execute(&rows::POST_LOGOUT, None, &[], None)
            .await
            .map(|_| ())
    }

    async fn token_full(&self, request: &GetFullAccessTokenRequest) -> Result<Token, Error> {
        request.validate()?;
        let body = Self::encode(request)?;
        let secrets = credentials(request.password(), request.secret_key());
        self.inner()
            .execute(&rows::GET_FULL_TOKEN, Some(body), &secrets, None)
            .await
    }

    async fn token_object(&self, request: &GetObjectAccessTokenRequest) -> Result<Token, Error> {
        request.validate()?;
        let body = Self::encode(request)?;
        let secrets = credentials(request.password(), request.secret_key());
        self.inner()
            .execute(&rows::GET_OBJECT_TOKEN, Some(body), &secrets, None)
            .await
    }

    async fn token_custom(&self, request: &GetCustomAccessTokenRequest) -> Result<CustomAccessToken, Error> {
        request.validate()?;
        let body = Self::encode(request)?;
        let secrets = credentials(request.password(), request.secret_key());
        self.inner()
            .execute(&rows::GET_CUSTOM_TOKEN, Some(body), &secrets, None)
            .await
    }

    async fn token_revoke(&self, request: &RevokeTokenRequest) -> Result<(), Error> {
        request.validate()?;
        // Revoking the client's own token ends its session, as revoke token does: the token
        // and cookies it started with are forgotten however the call ends.
        let own = request
            .revoked_token()
            .is_some_and(|t| self.access_token().as_ref() == Some(t));
        let _end = own.then(|| self.end_session_on_drop());
        let body = Self::encode(request)?;
        let secrets = [request.revoked_token().map_or("", |t| t.secret())];
        self.inner()
            .execute(&rows::POST_REVOKE, Some(body), &secrets, None)
            .await
            .map(|_| ())
    }

    async fn token_validate(&self, request: &ValidateTokenRequest) -> Result<TokenValidation, Error> {
        let body = Self::encode(request)?;
        let secrets = [request.token().secret()];
        self.inner()
            .execute(&rows::POST_VALIDATE, Some(body), &secrets, None)
            .await
    }

    async fn configure_auth_settings(&self, request: &ConfigureAuthSettingsRequest) -> Result<(), Error> {
        let body = Self::encode(request)?;
        self.inner()
            .execute(&rows::POST_CONFIGURE, Some(body), &[], None)
            .await
    }

    async fn search_auth_settings(&self, request: &SearchAuthSettingsRequest) -> Result<AuthSettings, Error> {
        let body = Self::encode(request)?;
        self.inner()
            .execute(&rows::POST_SEARCH, Some(body), &[], None)
            .await
    }
}

macro_rules! forward {
    ($($wrapper:ty),*) => {$(
        #[async_trait]
        impl<A: AuthApi + ?Sized> AuthApi for $wrapper {
            async fn session_user(&self) -> Result<User, Error> { (**self).session_user().await }
            async fn session_token(&self) -> Result<GetTokenResponse, Error> { (**self).session_token().await }
            async fn session_login(&self, r: &SessionLoginRequest) -> Result<(), Error> { (**self).session_login(r).await }
            async fn session_logout(&self) -> Result<(), Error> { (**self).session_logout().await }
            async fn token_full(&self, r: &GetFullAccessTokenRequest) -> Result<Token, Error> { (**self).token_full(r).await }
            async fn token_object(&self, r: &GetObjectAccessTokenRequest) -> Result<Token, Error> { (**self).token_object(r).await }
            async fn token_custom(&self, r: &GetCustomAccessTokenRequest) -> Result<CustomAccessToken, Error> { (**self).token_custom(r).await }
            async fn token_revoke(&self, r: &RevokeTokenRequest) -> Result<(), Error> { (**self).token_revoke(r).await }
            async fn token_validate(&self, r: &ValidateTokenRequest) -> Result<TokenValidation, Error> { (**self).token_validate(r).await }
            async fn configure_auth_settings(&self, r: &ConfigureAuthSettingsRequest) -> Result<(), Error> { (**self).configure_auth_settings(r).await }
            async fn search_auth_settings(&self, r: &SearchAuthSettingsRequest) -> Result<AuthSettings, Error> { (**self).search_auth_settings(r).await }
        }
    )*};
}

forward!(Arc<A>, Box<A>);
