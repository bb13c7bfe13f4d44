//! `token/revoke` and `token/validate`: ending a token and asking about one.

use crate::error::InvalidRequest;
use crate::secret::{AccessToken, serialize_exposed};
use serde::Serialize;

/// `POST /api/rest/2.0/auth/token/revoke`: revokes a token, or a user's tokens.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RevokeTokenRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    user_identifier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "serialize_exposed")]
    token: Option<AccessToken>,
}

impl RevokeTokenRequest {
    /// Revokes `token`.
    pub fn token(token: impl Into<AccessToken>) -> Self {
        Self {
            user_identifier: None,
            token: Some(token.into()),
        }
    }

    /// Revokes the tokens of a user, by id or name.
    pub fn user(user_identifier: impl Into<String>) -> Self {
        Self {
            user_identifier: Some(user_identifier.into()),
            token: None,
        }
    }

    /// Also names the user the token belongs to.
    #[must_use]
    pub fn with_user_identifier(mut self, user: impl Into<String>) -> Self {
        self.user_identifier = Some(user.into());
        self
    }

    /// The token to revoke, if given.
    pub fn revoked_token(&self) -> Option<&AccessToken> {
        self.token.as_ref()
    }

    /// The user whose tokens are revoked, if given.
    pub fn user_identifier(&self) -> Option<&str> {
        self.user_identifier.as_deref()
    }

    /// A request naming neither a token nor a user (`{}`) is a 400 by the spec: refused
    /// before sending.
    pub(crate) fn validate(&self) -> Result<(), InvalidRequest> {
        let token = self.token.as_ref().is_some_and(|t| !t.secret().trim().is_empty());
        let user = self
            .user_identifier
            .as_ref()
            .is_some_and(|u| !u.trim().is_empty());
        if !token && !user {
            return Err(InvalidRequest::new(
                "token/revoke: needs a token or a user_identifier",
            ));
        }
        Ok(())
    }
}

/// `POST /api/rest/2.0/auth/token/validate`: checks a token (the caller must be
/// authenticated itself).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ValidateTokenRequest {
    #[serde(serialize_with = "crate::secret::serialize_exposed_value")]
    token: AccessToken,
}

impl ValidateTokenRequest {
    /// Validates `token`.
    pub fn new(token: impl Into<AccessToken>) -> Self {
        Self { token: token.into() }
    }

    /// The token to validate.
    pub fn token(&self) -> &AccessToken {
        &self.token
    }
}
