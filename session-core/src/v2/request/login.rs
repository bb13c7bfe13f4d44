//! `session/login`: a password login, or a bearer token turned into a cookie session.

use crate::error::InvalidRequest;
use crate::secret::{Password, serialize_exposed};
use serde::Serialize;

/// `POST /api/rest/2.0/auth/session/login`: a password login, or (with no fields) a login
/// with the client's bearer token, which turns it into a cookie session.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SessionLoginRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "serialize_exposed")]
    password: Option<Password>,
    #[serde(skip_serializing_if = "Option::is_none")]
    org_identifier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    remember_me: Option<bool>,
}

impl SessionLoginRequest {
    /// Logs in `username` with `password`.
    pub fn with_password(username: impl Into<String>, password: impl Into<Password>) -> Self {
        Self {
            username: Some(username.into()),
            password: Some(password.into()),
            ..Self::default()
        }
    }

    /// Logs in with the client's access token (sent as `Authorization: Bearer`); the body
    /// is `{}`.
    pub fn bearer() -> Self {
        Self::default()
    }

    /// The org to sign in to, by id or name (`org_identifier`).
    #[must_use]
    pub fn with_org_identifier(mut self, org: impl Into<String>) -> Self {
        self.org_identifier = Some(org.into());
        self
    }

    /// Keeps the session for about 7 days instead of 3 hours of inactivity (`remember_me`).
    #[must_use]
    pub fn with_remember_me(mut self, remember: bool) -> Self {
        self.remember_me = Some(remember);
        self
    }

    /// The user, when logging in by password.
    pub fn username(&self) -> Option<&str> {
        self.username.as_deref()
    }

    /// The password, when logging in by password.
    pub fn password(&self) -> Option<&Password> {
        self.password.as_ref()
    }

    /// The org asked for.
    pub fn org_identifier(&self) -> Option<&str> {
        self.org_identifier.as_deref()
    }

    /// The `remember_me` flag, when set.
    pub fn remember_me(&self) -> Option<bool> {
        self.remember_me
    }

    /// `true` when the bearer token is meant (no user, no password).
    pub fn is_bearer(&self) -> bool {
        self.username.is_none() && self.password.is_none()
    }

    pub(crate) fn validate(&self) -> Result<(), InvalidRequest> {
        match (&self.username, &self.password) {
            (None, None) => Ok(()),
            (Some(u), Some(p)) if !u.trim().is_empty() && !p.is_empty() => Ok(()),
            _ => Err(InvalidRequest::new(
                "login: a password login needs a non-empty username and password",
            )),
        }
    }
}
