//! The answer of get session info.

use super::lenient::{instant_from_epoch, number_from_value};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::time::SystemTime;

/// The session object of `GET /tspublic/rest/v2/session`.
///
/// The specification types it as "any JSON object", so every field is kept; typed accessors
/// read the ones clusters return, and [`get`](Self::get) reads any other.
///
/// ```
/// use thoughtspot_session_core::SessionInfo;
///
/// let info: SessionInfo = serde_json::from_str(r#"{
///     "userName": "analyst", "userGUID": "0f0e…", "userDisplayName": "An Analyst",
///     "privileges": ["AUTHORING", "DATADOWNLOADING"], "releaseVersion": "8.4.1",
///     "expirationTime": 1648052401240, "timezone": "UTC"
/// }"#).unwrap();
/// assert_eq!(info.user_name(), Some("analyst"));
/// assert_eq!(info.privileges().collect::<Vec<_>>(), ["AUTHORING", "DATADOWNLOADING"]);
/// assert!(info.has_privilege("AUTHORING"));
/// assert_eq!(info.get("timezone").and_then(|v| v.as_str()), Some("UTC"));
/// ```
///
/// Its `Debug` shows the typed fields and only the number of the others: the object is
/// the cluster's to fill, and a cluster may echo a token in it.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SessionInfo(Map<String, Value>);

impl std::fmt::Debug for SessionInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionInfo")
            .field("user_name", &self.user_name())
            .field("user_guid", &self.user_guid())
            .field("release_version", &self.release_version())
            .field("current_org_id", &self.current_org_id())
            .field("privileges", &self.privileges().collect::<Vec<_>>())
            .field("fields", &self.0.len())
            .finish()
    }
}

impl SessionInfo {
    /// Wraps a JSON object (servers and fakes build one this way).
    pub fn from_map(map: Map<String, Value>) -> Self {
        Self(map)
    }

    fn str_field(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
    }

    /// `userName` (v2 beta) or `name` (REST API v2.0's `User`).
    pub fn user_name(&self) -> Option<&str> {
        self.str_field("userName").or_else(|| self.str_field("name"))
    }

    /// `userGUID` (beta) or `id` (v2.0).
    pub fn user_guid(&self) -> Option<&str> {
        self.str_field("userGUID").or_else(|| self.str_field("id"))
    }

    /// `userDisplayName` (beta) or `display_name` (v2.0).
    pub fn user_display_name(&self) -> Option<&str> {
        self.str_field("userDisplayName")
            .or_else(|| self.str_field("display_name"))
    }

    /// `userEmail` (beta) or `email` (v2.0).
    pub fn user_email(&self) -> Option<&str> {
        self.str_field("userEmail").or_else(|| self.str_field("email"))
    }

    /// `releaseVersion`, the cluster's software version.
    pub fn release_version(&self) -> Option<&str> {
        self.str_field("releaseVersion")
    }

    /// `currentOrgId` where orgs are enabled (a number or a string on the wire; v2.0:
    /// `current_org.id`).
    pub fn current_org_id(&self) -> Option<String> {
        let id = self
            .0
            .get("currentOrgId")
            .or_else(|| self.0.get("current_org").and_then(|o| o.get("id")))?;
        match id {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// `privileges`: the names in the array, skipping anything that is not a string.
    pub fn privileges(&self) -> impl Iterator<Item = &str> {
        self.0
            .get("privileges")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
    }

    /// `true` when `privileges` names `privilege`.
    pub fn has_privilege(&self, privilege: &str) -> bool {
        self.privileges().any(|p| p == privilege)
    }

    /// `expirationTime` (v2.0: `expiration_time_in_millis`): when the session expires
    /// (epoch milliseconds, or seconds for a value below 10^11; a number or a string on the
    /// wire).
    pub fn expiration_time(&self) -> Option<SystemTime> {
        self.0
            .get("expirationTime")
            .or_else(|| self.0.get("expiration_time_in_millis"))
            .and_then(number_from_value)
            .and_then(instant_from_epoch)
    }

    /// Any field by its wire name.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    /// The whole object.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    /// Takes the whole object.
    pub fn into_map(self) -> Map<String, Value> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn accessors_skip_wrong_types_and_read_times_leniently() {
        let info: SessionInfo = serde_json::from_str(
            r#"{"userName": 7, "privileges": ["A", 3, null, "B"], "expirationTime": "1648052401",
                "currentOrgId": 0}"#,
        )
        .expect("decodes");
        assert_eq!(info.user_name(), None);
        assert_eq!(info.privileges().collect::<Vec<_>>(), ["A", "B"]);
        assert_eq!(
            info.expiration_time(),
            Some(UNIX_EPOCH + Duration::from_secs(1_648_052_401))
        );
        assert_eq!(info.current_org_id().as_deref(), Some("0"));
        assert!(serde_json::from_str::<SessionInfo>("[1]").is_err());
    }

    #[test]
    fn debug_shows_typed_fields_and_counts_the_rest() {
        let info: SessionInfo = serde_json::from_str(
            r#"{"userName": "u", "authToken": "TOK-SECRET", "TOK-AS-KEY": 1, "privileges": ["A"]}"#,
        )
        .expect("decodes");
        let debug = format!("{info:?}");
        assert!(!debug.contains("TOK-"), "{debug}");
        assert!(
            debug.contains(r#"user_name: Some("u")"#) && debug.contains("fields: 4"),
            "{debug}"
        );
    }
}
