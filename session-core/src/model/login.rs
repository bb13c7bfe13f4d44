//! The login request body.

use super::lenient::de_opt_bool;
use crate::error::InvalidRequest;
use crate::secret::{Password, serialize_exposed};
use serde::{Deserialize, Serialize};

/// The body of `POST /tspublic/rest/v2/session/login`.
///
/// Log in either with a user name and password, or with the bearer token the client holds
/// (one obtained from get token). The constructors make those the only two shapes.
///
/// ```
/// use thoughtspot_session_core::LoginRequest;
///
/// let by_password = LoginRequest::with_password("tsadmin", "admin-password").with_remember_me(true);
/// // Serialised for a log, the request hides the password; the client alone writes it in
/// // clear, into the body it sends.
/// assert_eq!(
///     serde_json::to_string(&by_password).unwrap(),
///     r#"{"userName":"tsadmin","password":"[redacted]","rememberMe":true}"#
/// );
/// assert!(!format!("{by_password:?}").contains("admin-password"));
///
/// // Empty body: the cluster reads the client's `Authorization: Bearer` token.
/// assert_eq!(serde_json::to_string(&LoginRequest::bearer()).unwrap(), "{}");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    user_name: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_exposed"
    )]
    password: Option<Password>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de_opt_bool"
    )]
    remember_me: Option<bool>,
}

impl LoginRequest {
    /// Logs in `user_name` with `password`.
    pub fn with_password(user_name: impl Into<String>, password: impl Into<Password>) -> Self {
        Self {
            user_name: Some(user_name.into()),
            password: Some(password.into()),
            remember_me: None,
        }
    }

    /// Logs in with the client's access token (see
    /// [`SessionClient::set_access_token`](crate::SessionClient::set_access_token)); the
    /// body carries no credentials.
    pub fn bearer() -> Self {
        Self::default()
    }

    /// Asks for a session cookie that persists across calls (`rememberMe`).
    #[must_use]
    pub fn with_remember_me(mut self, remember: bool) -> Self {
        self.remember_me = Some(remember);
        self
    }

    /// The account name, when logging in by password.
    pub fn user_name(&self) -> Option<&str> {
        self.user_name.as_deref()
    }

    /// The password, when logging in by password.
    pub fn password(&self) -> Option<&Password> {
        self.password.as_ref()
    }

    /// The `rememberMe` flag, when set.
    pub fn remember_me(&self) -> Option<bool> {
        self.remember_me
    }

    /// `true` when the body carries no credentials and the bearer token is meant.
    pub fn is_bearer(&self) -> bool {
        self.user_name.is_none() && self.password.is_none()
    }

    /// Checks the request as the client does before sending it.
    ///
    /// A password login needs a non-empty user name and password; a user name without a
    /// password (or the reverse) is refused.
    pub fn validate(&self) -> Result<(), InvalidRequest> {
        match (&self.user_name, &self.password) {
            (None, None) => Ok(()),
            (Some(user), Some(password)) => {
                if user.trim().is_empty() {
                    Err(InvalidRequest::new("login: userName is empty"))
                } else if password.is_empty() {
                    Err(InvalidRequest::new("login: password is empty"))
                } else {
                    Ok(())
                }
            }
            (Some(_), None) => Err(InvalidRequest::new("login: userName given without a password")),
            (None, Some(_)) => Err(InvalidRequest::new("login: password given without a userName")),
        }
    }
}
