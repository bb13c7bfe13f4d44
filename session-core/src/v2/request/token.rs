//! `token/full` and `token/object`: the options they share and their two requests.

use super::*;
use crate::error::InvalidRequest;
use crate::secret::{Password, SecretKey, serialize_exposed};
use serde::Serialize;
use std::time::Duration;

/// The JIT provisioning and lifetime fields that full and object token requests share, in
/// their schema order after `username` (and `object_id`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub(super) struct TokenOptions {
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "serialize_exposed")]
    password: Option<Password>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "serialize_exposed")]
    secret_key: Option<SecretKey>,
    #[serde(skip_serializing_if = "Option::is_none")]
    validity_time_in_sec: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    org_id: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    auto_create: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    group_identifiers: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_parameters: Option<UserParameterOptions>,
}

impl TokenOptions {
    pub(super) fn credential(password: Option<Password>, secret_key: Option<SecretKey>) -> Self {
        Self {
            password,
            secret_key,
            ..Self::default()
        }
    }

    pub(super) fn validate(&self, operation: &str) -> Result<(), InvalidRequest> {
        let password = self.password.as_ref().is_some_and(|p| !p.is_empty());
        let key = self.secret_key.as_ref().is_some_and(|k| !k.is_empty());
        if !password && !key {
            return Err(InvalidRequest::new(format!(
                "{operation}: needs a non-empty password or secret_key"
            )));
        }
        positive_validity(operation, self.validity_time_in_sec)
    }
}

/// Setters and getters of the fields full and object token requests share.
macro_rules! token_options {
    ($name:ident) => {
        impl $name {
            /// Asks for a token lifetime (`validity_time_in_sec`; whole seconds, rounded up;
            /// the cluster's default is 300 s).
            #[must_use]
            pub fn with_validity(mut self, lifetime: Duration) -> Self {
                self.options.validity_time_in_sec = Some(validity_secs(lifetime));
                self
            }

            /// The org the token is for (`org_id`, an integer).
            #[must_use]
            pub fn with_org_id(mut self, org_id: i32) -> Self {
                self.options.org_id = Some(org_id);
                self
            }

            /// JIT provisioning: the user's email.
            #[must_use]
            pub fn with_email(mut self, email: impl Into<String>) -> Self {
                self.options.email = Some(email.into());
                self
            }

            /// JIT provisioning: the user's display name.
            #[must_use]
            pub fn with_display_name(mut self, name: impl Into<String>) -> Self {
                self.options.display_name = Some(name.into());
                self
            }

            /// JIT provisioning: create the user if it does not exist (needs the secret
            /// key; the cluster's default is `false`).
            #[must_use]
            pub fn with_auto_create(mut self, auto_create: bool) -> Self {
                self.options.auto_create = Some(auto_create);
                self
            }

            /// JIT provisioning: the groups to put the user in, by id or name.
            #[must_use]
            pub fn with_group_identifiers<I, G>(mut self, groups: I) -> Self
            where
                I: IntoIterator<Item = G>,
                G: Into<String>,
            {
                self.options.group_identifiers = Some(groups.into_iter().map(Into::into).collect());
                self
            }

            /// Runtime filters, sorts and parameters bound to the token (`user_parameters`,
            /// deprecated by the cluster from 10.4.0.cl in favour of custom tokens).
            #[must_use]
            pub fn with_user_parameters(mut self, parameters: UserParameterOptions) -> Self {
                self.options.user_parameters = Some(parameters);
                self
            }

            /// The user the token is for.
            pub fn username(&self) -> &str {
                &self.username
            }

            /// The password credential, if any.
            pub fn password(&self) -> Option<&Password> {
                self.options.password.as_ref()
            }

            /// The secret key credential, if any.
            pub fn secret_key(&self) -> Option<&SecretKey> {
                self.options.secret_key.as_ref()
            }

            /// The lifetime asked for, in seconds.
            pub fn validity(&self) -> Option<Duration> {
                self.options
                    .validity_time_in_sec
                    .and_then(|s| u64::try_from(s).ok())
                    .map(Duration::from_secs)
            }

            /// The org asked for.
            pub fn org_id(&self) -> Option<i32> {
                self.options.org_id
            }
        }
    };
}

/// `POST /api/rest/2.0/auth/token/full`: a token with the user's full access. Sent with no
/// `Authorization` header.
///
/// ```
/// use std::time::Duration;
/// use thoughtspot_session_core::v2::GetFullAccessTokenRequest;
///
/// let request = GetFullAccessTokenRequest::with_secret_key("alice", "SK")
///     .with_validity(Duration::from_secs(600))
///     .with_org_id(3);
/// // Serialised for a log, the request hides its key; the client alone writes it in clear.
/// assert_eq!(
///     serde_json::to_string(&request).unwrap(),
///     r#"{"username":"alice","secret_key":"[redacted]","validity_time_in_sec":600,"org_id":3}"#
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GetFullAccessTokenRequest {
    username: String,
    #[serde(flatten)]
    options: TokenOptions,
}

impl GetFullAccessTokenRequest {
    /// A token for `username`, authorised by the trusted-authentication secret key.
    pub fn with_secret_key(username: impl Into<String>, secret_key: impl Into<SecretKey>) -> Self {
        Self {
            username: username.into(),
            options: TokenOptions::credential(None, Some(secret_key.into())),
        }
    }

    /// A token for `username`, authorised by the user's password.
    pub fn with_password(username: impl Into<String>, password: impl Into<Password>) -> Self {
        Self {
            username: username.into(),
            options: TokenOptions::credential(Some(password.into()), None),
        }
    }

    pub(crate) fn validate(&self) -> Result<(), InvalidRequest> {
        non_empty("token/full: username", &self.username)?;
        self.options.validate("token/full")
    }
}

token_options!(GetFullAccessTokenRequest);

/// `POST /api/rest/2.0/auth/token/object`: a token that opens one object (a Liveboard or
/// an Answer) only. Sent with no `Authorization` header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GetObjectAccessTokenRequest {
    username: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    object_id: Option<String>,
    #[serde(flatten)]
    options: TokenOptions,
}

impl GetObjectAccessTokenRequest {
    /// A token for `username` on the object `object_id` (its GUID), authorised by the
    /// trusted-authentication secret key.
    pub fn with_secret_key(
        username: impl Into<String>,
        object_id: impl Into<String>,
        secret_key: impl Into<SecretKey>,
    ) -> Self {
        Self {
            username: username.into(),
            object_id: Some(object_id.into()),
            options: TokenOptions::credential(None, Some(secret_key.into())),
        }
    }

    /// A token for `username` on `object_id`, authorised by the user's password.
    pub fn with_password(
        username: impl Into<String>,
        object_id: impl Into<String>,
        password: impl Into<Password>,
    ) -> Self {
        Self {
            username: username.into(),
            object_id: Some(object_id.into()),
            options: TokenOptions::credential(Some(password.into()), None),
        }
    }

    /// The object the token opens.
    pub fn object_id(&self) -> Option<&str> {
        self.object_id.as_deref()
    }

    pub(crate) fn validate(&self) -> Result<(), InvalidRequest> {
        non_empty("token/object: username", &self.username)?;
        non_empty("token/object: object_id", self.object_id.as_deref().unwrap_or(""))?;
        self.options.validate("token/object")
    }
}

token_options!(GetObjectAccessTokenRequest);
