//! The get token request body.

use super::lenient::{de_opt_number, de_opt_string, ser_opt_number_as_string};
use crate::error::InvalidRequest;
use crate::secret::{Password, SecretKey, serialize_exposed};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// What a token lets its holder do (`accessLevel`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum AccessLevel {
    /// A session with the user's full access (`FULL`, the cluster's default).
    #[default]
    Full,
    /// View access to one Liveboard or visualization (`REPORT_BOOK_VIEW`); needs
    /// `tsObjectId`.
    ReportBookView,
}

impl AccessLevel {
    /// The wire name: `FULL` or `REPORT_BOOK_VIEW`.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessLevel::Full => "FULL",
            AccessLevel::ReportBookView => "REPORT_BOOK_VIEW",
        }
    }
}

/// The body of `POST /tspublic/rest/v2/session/gettoken`.
///
/// A user name and one credential are required, so the constructors take them; the rest
/// are optional and left out of the JSON when unset.
///
/// ```
/// use std::time::Duration;
/// use thoughtspot_session_core::GetTokenRequest;
///
/// let request = GetTokenRequest::with_secret_key("analyst@example.com", "5e1f-secret")
///     .with_report_book_view("e65d7d3e-f8d2-4e2b-a2b3-8f7ad5b4e5c1")
///     .with_token_expiry(Duration::from_secs(300))
///     .with_org_id("42");
/// // Serialised for a log, the request hides its key; the client alone writes it in clear.
/// assert_eq!(
///     serde_json::to_string(&request).unwrap(),
///     concat!(
///         r#"{"userName":"analyst@example.com","secretKey":"[redacted]","#,
///         r#""accessLevel":"REPORT_BOOK_VIEW","tsObjectId":"e65d7d3e-f8d2-4e2b-a2b3-8f7ad5b4e5c1","#,
///         r#""tokenExpiryDuration":"300","orgId":"42"}"#
///     )
/// );
/// assert!(!format!("{request:?}").contains("5e1f-secret"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetTokenRequest {
    #[serde(default)]
    user_name: String,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_exposed"
    )]
    password: Option<Password>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_exposed"
    )]
    secret_key: Option<SecretKey>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    access_level: Option<AccessLevel>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de_opt_string"
    )]
    ts_object_id: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_opt_number_as_string",
        deserialize_with = "de_opt_number"
    )]
    token_expiry_duration: Option<u64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de_opt_string"
    )]
    org_id: Option<String>,
}

impl GetTokenRequest {
    fn new(user_name: String, password: Option<Password>, secret_key: Option<SecretKey>) -> Self {
        Self {
            user_name,
            password,
            secret_key,
            access_level: None,
            ts_object_id: None,
            token_expiry_duration: None,
            org_id: None,
        }
    }

    /// A token for `user_name`, authorised by the cluster's trusted-authentication secret
    /// key: the usual call of a token service.
    pub fn with_secret_key(user_name: impl Into<String>, secret_key: impl Into<SecretKey>) -> Self {
        Self::new(user_name.into(), None, Some(secret_key.into()))
    }

    /// A token for `user_name`, authorised by that user's password.
    pub fn with_password(user_name: impl Into<String>, password: impl Into<Password>) -> Self {
        Self::new(user_name.into(), Some(password.into()), None)
    }

    /// Sets `accessLevel`. [`AccessLevel::ReportBookView`] also needs
    /// [`with_ts_object_id`](Self::with_ts_object_id); [`with_report_book_view`](Self::with_report_book_view)
    /// sets both.
    #[must_use]
    pub fn with_access_level(mut self, level: AccessLevel) -> Self {
        self.access_level = Some(level);
        self
    }

    /// View access to one Liveboard or visualization: `REPORT_BOOK_VIEW` and its GUID.
    #[must_use]
    pub fn with_report_book_view(mut self, object_id: impl Into<String>) -> Self {
        self.access_level = Some(AccessLevel::ReportBookView);
        self.ts_object_id = Some(object_id.into());
        self
    }

    /// Sets `tsObjectId`, the GUID of the object a `REPORT_BOOK_VIEW` token opens.
    #[must_use]
    pub fn with_ts_object_id(mut self, object_id: impl Into<String>) -> Self {
        self.ts_object_id = Some(object_id.into());
        self
    }

    /// Asks for a token lifetime (`tokenExpiryDuration`, whole seconds on the wire; a
    /// fraction of a second is rounded up).
    #[must_use]
    pub fn with_token_expiry(mut self, lifetime: Duration) -> Self {
        let secs = lifetime.as_secs() + u64::from(lifetime.subsec_nanos() > 0);
        self.token_expiry_duration = Some(secs);
        self
    }

    /// Sets `orgId`, the organization the token is for where orgs are enabled.
    #[must_use]
    pub fn with_org_id(mut self, org_id: impl Into<String>) -> Self {
        self.org_id = Some(org_id.into());
        self
    }

    /// The account the token is for.
    pub fn user_name(&self) -> &str {
        &self.user_name
    }

    /// The password credential, if this request carries one.
    pub fn password(&self) -> Option<&Password> {
        self.password.as_ref()
    }

    /// The secret key credential, if this request carries one.
    pub fn secret_key(&self) -> Option<&SecretKey> {
        self.secret_key.as_ref()
    }

    /// The access level asked for; `None` leaves the cluster's default (`FULL`).
    pub fn access_level(&self) -> Option<AccessLevel> {
        self.access_level
    }

    /// The access level the cluster applies: the one asked for, or `FULL`.
    pub fn effective_access_level(&self) -> AccessLevel {
        self.access_level.unwrap_or_default()
    }

    /// The object GUID for `REPORT_BOOK_VIEW`.
    pub fn ts_object_id(&self) -> Option<&str> {
        self.ts_object_id.as_deref()
    }

    /// The lifetime asked for.
    pub fn token_expiry(&self) -> Option<Duration> {
        self.token_expiry_duration.map(Duration::from_secs)
    }

    /// The organization asked for.
    pub fn org_id(&self) -> Option<&str> {
        self.org_id.as_deref()
    }

    /// Checks the request as the client does before sending it: a non-empty user name, a
    /// non-empty password or secret key, a `tsObjectId` with `REPORT_BOOK_VIEW`, and a
    /// lifetime of at least one second.
    pub fn validate(&self) -> Result<(), InvalidRequest> {
        if self.user_name.trim().is_empty() {
            return Err(InvalidRequest::new("get token: userName is empty"));
        }
        let has_password = self.password.as_ref().is_some_and(|p| !p.is_empty());
        let has_key = self.secret_key.as_ref().is_some_and(|k| !k.is_empty());
        if !has_password && !has_key {
            return Err(InvalidRequest::new(
                "get token: needs a non-empty password or secretKey",
            ));
        }
        if self.access_level == Some(AccessLevel::ReportBookView)
            && self.ts_object_id.as_deref().is_none_or(|id| id.trim().is_empty())
        {
            return Err(InvalidRequest::new(
                "get token: accessLevel REPORT_BOOK_VIEW needs a tsObjectId",
            ));
        }
        if self.token_expiry_duration == Some(0) {
            return Err(InvalidRequest::new(
                "get token: tokenExpiryDuration must be at least one second",
            ));
        }
        Ok(())
    }
}
