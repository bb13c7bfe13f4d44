//! REST API v2.0 answers. Required fields are typed and required; unknown fields are
//! ignored; `*_time_in_millis` read from integer or float JSON numbers as [`SystemTime`];
//! every token is an [`AccessToken`] and every key a [`SecretKey`], redacted in `Debug`.

use crate::secret::{AccessToken, SecretKey};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Epoch milliseconds, as an integer or a float JSON number, to an instant.
fn millis<'de, D: Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
    let raw = f64::deserialize(d)?;
    if !raw.is_finite() || !(0.0..=1e15).contains(&raw) {
        return Err(serde::de::Error::custom(
            "a time in epoch milliseconds out of range",
        ));
    }
    // Whole milliseconds; a float's fraction below one millisecond is dropped.
    Ok(UNIX_EPOCH + Duration::from_millis(raw as u64))
}

fn opt_millis<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SystemTime>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(v) => millis(v).map(Some).map_err(serde::de::Error::custom),
    }
}

/// What a token may open (`scope`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Scope {
    /// `FULL`, or `REPORT_BOOK_VIEW` for an object token.
    pub access_type: String,
    /// The org the token is for.
    #[serde(default)]
    pub org_id: Option<i32>,
    /// The object an object token opens.
    #[serde(default)]
    pub metadata_id: Option<String>,
}

/// A token from `token/full` or `token/object` (the spec's `Token`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Token {
    /// The bearer token.
    pub token: AccessToken,
    /// When it was issued (the cluster's clock).
    #[serde(rename = "creation_time_in_millis", deserialize_with = "millis")]
    pub creation_time: SystemTime,
    /// When it expires (the cluster's clock).
    #[serde(rename = "expiration_time_in_millis", deserialize_with = "millis")]
    pub expiration_time: SystemTime,
    /// What it opens.
    pub scope: Scope,
    /// The user's id (a GUID).
    pub valid_for_user_id: String,
    /// The user's name.
    pub valid_for_username: String,
}

impl Token {
    /// How long it lives: expiration minus creation, the same on any clock.
    pub fn lifetime(&self) -> Option<Duration> {
        self.expiration_time.duration_since(self.creation_time).ok()
    }
}

/// The token of the calling session, from `GET session/token`. Spec 26.8 says the cluster mints a new 24-hour token from the
/// session; spec 26.5 said it returns the caller's own: this type reads either.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct GetTokenResponse {
    /// The bearer token.
    pub token: AccessToken,
    /// When it was issued.
    #[serde(rename = "creation_time_in_millis", deserialize_with = "millis")]
    pub creation_time: SystemTime,
    /// When it expires.
    #[serde(rename = "expiration_time_in_millis", deserialize_with = "millis")]
    pub expiration_time: SystemTime,
    /// The user's id.
    pub valid_for_user_id: String,
    /// The user's name.
    pub valid_for_username: String,
}

/// An org, by id and name.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct OrgInfo {
    /// Its id.
    pub id: i32,
    /// Its name.
    #[serde(default)]
    pub name: Option<String>,
}

/// A user, by id and name.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct UserInfo {
    /// Its id.
    pub id: String,
    /// Its name.
    #[serde(default)]
    pub name: Option<String>,
}

/// A token from `token/custom` (the spec names it `AccessToken`; renamed here so that it
/// never meets the secret type [`AccessToken`]).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct CustomAccessToken {
    /// The token's own id.
    #[serde(default)]
    pub id: Option<String>,
    /// The bearer token.
    pub token: AccessToken,
    /// The org it is for.
    pub org: OrgInfo,
    /// The user it is for.
    pub user: UserInfo,
    /// When it was issued.
    #[serde(rename = "creation_time_in_millis", deserialize_with = "millis")]
    pub creation_time: SystemTime,
    /// When it expires.
    #[serde(rename = "expiration_time_in_millis", deserialize_with = "millis")]
    pub expiration_time: SystemTime,
}

/// What `token/validate` says of a token (the spec's `TokenValidationResponse`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct TokenValidation {
    /// When it was issued.
    #[serde(rename = "creation_time_in_millis", deserialize_with = "millis")]
    pub creation_time: SystemTime,
    /// When it expires.
    #[serde(rename = "expiration_time_in_millis", deserialize_with = "millis")]
    pub expiration_time: SystemTime,
    /// What it opens.
    pub scope: Scope,
    /// The user's id.
    pub valid_for_user_id: String,
    /// E.g. `BEARER`.
    pub token_type: String,
}

/// The user of the calling session or token, from `GET session/user`.
///
/// The four required fields are typed; every other field the cluster sends is kept and
/// read through the accessors or [`get`](Self::get). Its `Debug` shows the typed fields
/// and only the count of the others.
#[derive(Clone, PartialEq, Deserialize)]
pub struct User {
    id: String,
    name: String,
    display_name: String,
    visibility: String,
    #[serde(flatten)]
    other: Map<String, Value>,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("display_name", &self.display_name)
            .field("visibility", &self.visibility)
            .field("other_fields", &self.other.len())
            .finish()
    }
}

impl User {
    /// The user's id (a GUID).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The user's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The user's display name.
    pub fn display_name(&self) -> &str {
        &self.display_name
    }

    /// `SHARABLE` or `NON_SHARABLE`.
    pub fn visibility(&self) -> &str {
        &self.visibility
    }

    fn str_field(&self, key: &str) -> Option<&str> {
        self.other.get(key).and_then(Value::as_str)
    }

    /// `email`.
    pub fn email(&self) -> Option<&str> {
        self.str_field("email")
    }

    /// `account_type`, e.g. `LOCAL_USER`.
    pub fn account_type(&self) -> Option<&str> {
        self.str_field("account_type")
    }

    /// `account_status`, e.g. `ACTIVE`.
    pub fn account_status(&self) -> Option<&str> {
        self.str_field("account_status")
    }

    /// `privileges`.
    pub fn privileges(&self) -> impl Iterator<Item = &str> {
        self.other
            .get("privileges")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
    }

    /// `current_org`.
    pub fn current_org(&self) -> Option<OrgInfo> {
        serde_json::from_value(self.other.get("current_org")?.clone()).ok()
    }

    /// `orgs`.
    pub fn orgs(&self) -> Vec<OrgInfo> {
        self.other
            .get("orgs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|o| serde_json::from_value(o.clone()).ok())
            .collect()
    }

    /// `expiration_time_in_millis`.
    pub fn expiration_time(&self) -> Option<SystemTime> {
        self.other
            .get("expiration_time_in_millis")
            .cloned()
            .and_then(|v| opt_millis(v).ok().flatten())
    }

    /// Any other field by its wire name.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.other.get(key)
    }
}

/// A trusted-authentication key as the settings search shows it (`access_tokens[]`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct SettingsKey {
    /// The secret key, in plain text on the wire.
    pub key: SecretKey,
}

/// The cluster's trusted-authentication settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ClusterPreferences {
    /// `ENABLED` or `DISABLED`.
    #[serde(default)]
    pub auth_status: Option<crate::v2::AuthStatus>,
    /// The keys.
    #[serde(default)]
    pub access_tokens: Option<Vec<SettingsKey>>,
}

/// One org's trusted-authentication settings.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct OrgPreference {
    /// The org.
    pub org: OrgInfo,
    /// `ENABLED` or `DISABLED`.
    #[serde(default)]
    pub auth_status: Option<crate::v2::AuthStatus>,
    /// The keys.
    #[serde(default)]
    pub access_tokens: Option<Vec<SettingsKey>>,
}

/// What `auth/search` answers (the spec's `SearchAuthSettingsResponse`); every field may be
/// absent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct AuthSettings {
    /// `TRUSTED_AUTH`.
    #[serde(default)]
    pub auth_type: Option<crate::v2::AuthType>,
    /// The cluster's settings.
    #[serde(default)]
    pub cluster_preferences: Option<ClusterPreferences>,
    /// The orgs' settings.
    #[serde(default)]
    pub org_preferences: Option<Vec<OrgPreference>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_read_integer_and_float_times_and_redact() {
        let token: Token = serde_json::from_str(
            r#"{"token":"T-SECRET","creation_time_in_millis":1724277430000,
                "expiration_time_in_millis":1.7242777300e12,"scope":{"access_type":"FULL","org_id":0},
                "valid_for_user_id":"g-1","valid_for_username":"alice","org_scope":"x"}"#,
        )
        .expect("decodes");
        assert_eq!(token.lifetime(), Some(Duration::from_secs(300)));
        assert_eq!(token.scope.org_id, Some(0));
        assert!(!format!("{token:?}").contains("T-SECRET"));
        let missing = serde_json::from_str::<Token>(r#"{"token":"t"}"#);
        assert!(missing.is_err(), "required fields are required");
    }

    #[test]
    fn a_user_keeps_every_field_and_prints_only_the_typed_ones() {
        let user: User = serde_json::from_str(
            r#"{"id":"g-1","name":"alice","display_name":"Alice","visibility":"SHARABLE",
                "email":"a@example.com","privileges":["ADMINISTRATION"],"current_org":{"id":7,"name":"Sales"},
                "extended_properties":{"token":"TOK-ECHO"}}"#,
        )
        .expect("decodes");
        assert_eq!((user.id(), user.email()), ("g-1", Some("a@example.com")));
        assert_eq!(user.current_org().map(|o| o.id), Some(7));
        assert_eq!(user.privileges().collect::<Vec<_>>(), ["ADMINISTRATION"]);
        assert!(!format!("{user:?}").contains("TOK-ECHO"));
    }

    #[test]
    fn search_results_keep_keys_secret() {
        let settings: AuthSettings = serde_json::from_str(
            r#"{"auth_type":"TRUSTED_AUTH","cluster_preferences":{"auth_status":"ENABLED",
                "access_tokens":[{"key":"KEY-SECRET"}]}}"#,
        )
        .expect("decodes");
        let keys = settings
            .cluster_preferences
            .as_ref()
            .and_then(|c| c.access_tokens.as_ref());
        assert_eq!(keys.map(|k| k[0].key.secret()), Some("KEY-SECRET"));
        assert!(!format!("{settings:?}").contains("KEY-SECRET"));
    }
}
