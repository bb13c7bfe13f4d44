//! The answer of login and get token.

use super::lenient::{
    EPOCH_MILLIS_THRESHOLD, de_non_empty_string, de_opt_number, instant_from_epoch, ser_opt_number_as_string,
};
use crate::secret::{AccessToken, serialize_exposed};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::time::{Duration, SystemTime};

/// The kind of token a login or get token answered (`tokenType`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenType {
    /// A bearer token, sent as `Authorization: Bearer`.
    Bearer,
    /// A cookie session: the token is empty and the session lives in the cookie jar.
    Cookie,
    /// Any other value, kept as the cluster sent it.
    Other(String),
}

impl TokenType {
    /// The wire form: `Bearer`, `Cookie`, or the other value as received.
    pub fn as_str(&self) -> &str {
        match self {
            TokenType::Bearer => "Bearer",
            TokenType::Cookie => "Cookie",
            TokenType::Other(s) => s,
        }
    }

    /// Reads a wire value; `Bearer` and `Cookie` match without regard to case.
    pub fn parse(value: &str) -> Self {
        if value.eq_ignore_ascii_case("bearer") {
            TokenType::Bearer
        } else if value.eq_ignore_ascii_case("cookie") {
            TokenType::Cookie
        } else {
            TokenType::Other(value.to_owned())
        }
    }
}

impl Serialize for TokenType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for TokenType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|s| TokenType::parse(&s))
    }
}

fn de_token_type<'de, D: Deserializer<'de>>(d: D) -> Result<Option<TokenType>, D::Error> {
    Ok(de_non_empty_string(d)?.map(|s| TokenType::parse(&s)))
}

fn de_token<'de, D: Deserializer<'de>>(d: D) -> Result<Option<AccessToken>, D::Error> {
    Ok(de_non_empty_string(d)?.map(AccessToken::new))
}

/// The answer of login and get token (`SessionLoginResponse`).
///
/// Every field is optional on the wire and decoded leniently: times come as strings or
/// numbers, `"-1"` and `""` mean absent, an empty token means none (a cookie session),
/// unknown fields are ignored.
///
/// # Times
/// [`created_at`](Self::created_at) reads `tokenCreatedTime` as epoch milliseconds (a value
/// below 10^11 is taken as epoch seconds). [`expires_at`](Self::expires_at) reads
/// `tokenExpiryDuration` by one rule: a value of at least 10^11 is an absolute instant in
/// epoch milliseconds (clusters have been seen to send that, e.g. created `1648051501240`,
/// expiry `1648052401240`); a smaller value is a lifetime in seconds counted from
/// `tokenCreatedTime`, as the specification says. No real lifetime reaches 10^11 seconds
/// and no real instant falls below 10^11 milliseconds (1973), so the rule cannot misread.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use thoughtspot_session_core::{SessionLoginResponse, TokenType};
///
/// let body = br#"{"userName":"analyst","token":"eyJ0eXAi","tokenCreatedTime":"1648051501240",
///                 "tokenExpiryDuration":"1648052401240","tokenType":"Bearer"}"#;
/// let r: SessionLoginResponse = serde_json::from_slice(body).unwrap();
/// assert_eq!(r.token_type(), Some(&TokenType::Bearer));
/// assert_eq!(r.lifetime(), Some(Duration::from_secs(900)));
/// assert_eq!(r.expires_at(), Some(UNIX_EPOCH + Duration::from_millis(1648052401240)));
/// assert!(!format!("{r:?}").contains("eyJ0eXAi"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionLoginResponse {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de_non_empty_string"
    )]
    user_name: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_exposed",
        deserialize_with = "de_token"
    )]
    token: Option<AccessToken>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_opt_number_as_string",
        deserialize_with = "de_opt_number"
    )]
    token_created_time: Option<u64>,
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
        deserialize_with = "de_token_type"
    )]
    token_type: Option<TokenType>,
}

impl SessionLoginResponse {
    /// An empty response; the `with_*` methods fill it (servers and fakes use them).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `userName`.
    #[must_use]
    pub fn with_user_name(mut self, user_name: impl Into<String>) -> Self {
        self.user_name = Some(user_name.into()).filter(|s: &String| !s.is_empty());
        self
    }

    /// Sets `token`; an empty token means none.
    #[must_use]
    pub fn with_token(mut self, token: AccessToken) -> Self {
        self.token = Some(token).filter(|t| !t.is_empty());
        self
    }

    /// Sets `tokenType`.
    #[must_use]
    pub fn with_token_type(mut self, token_type: TokenType) -> Self {
        self.token_type = Some(token_type);
        self
    }

    /// Sets `tokenCreatedTime` from an instant (sent as epoch milliseconds).
    #[must_use]
    pub fn with_created_at(mut self, at: SystemTime) -> Self {
        self.token_created_time = epoch_millis(at);
        self
    }

    /// Sets `tokenExpiryDuration` to a lifetime in seconds, as the specification says.
    #[must_use]
    pub fn with_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_expiry_duration = Some(lifetime.as_secs());
        self
    }

    /// Sets `tokenExpiryDuration` to an absolute instant in epoch milliseconds, as some
    /// clusters do.
    #[must_use]
    pub fn with_absolute_expiry(mut self, at: SystemTime) -> Self {
        self.token_expiry_duration = epoch_millis(at);
        self
    }

    /// The account the token was issued for.
    pub fn user_name(&self) -> Option<&str> {
        self.user_name.as_deref()
    }

    /// The bearer token; `None` for a cookie session or when the cluster sent none.
    pub fn token(&self) -> Option<&AccessToken> {
        self.token.as_ref()
    }

    /// Takes the token out of the response.
    pub fn into_token(self) -> Option<AccessToken> {
        self.token
    }

    /// The kind of token.
    pub fn token_type(&self) -> Option<&TokenType> {
        self.token_type.as_ref()
    }

    /// `tokenCreatedTime` as received, a whole number (see the type's docs).
    pub fn raw_created_time(&self) -> Option<u64> {
        self.token_created_time
    }

    /// `tokenExpiryDuration` as received, a whole number (see the type's docs).
    pub fn raw_expiry_duration(&self) -> Option<u64> {
        self.token_expiry_duration
    }

    /// When the token was issued.
    pub fn created_at(&self) -> Option<SystemTime> {
        self.token_created_time.and_then(instant_from_epoch)
    }

    /// When the token expires, by the rule in the type's docs. `None` when the cluster sent
    /// no expiry, or a lifetime without a creation time.
    pub fn expires_at(&self) -> Option<SystemTime> {
        let raw = self.token_expiry_duration?;
        if raw >= EPOCH_MILLIS_THRESHOLD {
            instant_from_epoch(raw)
        } else {
            self.created_at()?.checked_add(Duration::from_secs(raw))
        }
    }

    /// How long the token lives: `expires_at - created_at`, or the lifetime in seconds when
    /// the cluster sent one.
    pub fn lifetime(&self) -> Option<Duration> {
        let raw = self.token_expiry_duration?;
        if raw >= EPOCH_MILLIS_THRESHOLD {
            self.expires_at()?.duration_since(self.created_at()?).ok()
        } else {
            Some(Duration::from_secs(raw))
        }
    }

    /// `true` when the token has expired at `now` (an injected clock's reading); `false`
    /// when the expiry is unknown.
    pub fn is_expired_at(&self, now: SystemTime) -> bool {
        self.expires_at().is_some_and(|at| at <= now)
    }
}

fn epoch_millis(at: SystemTime) -> Option<u64> {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .ok()
        .and_then(|d| u64::try_from(d.as_millis()).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn decode(json: &str) -> SessionLoginResponse {
        serde_json::from_str(json).expect("decodes")
    }

    #[test]
    fn lifetime_in_seconds_counts_from_creation() {
        let r =
            decode(r#"{"tokenCreatedTime":1648051501240,"tokenExpiryDuration":"300","tokenType":"bearer"}"#);
        assert_eq!(
            r.created_at(),
            Some(UNIX_EPOCH + Duration::from_millis(1_648_051_501_240))
        );
        assert_eq!(
            r.expires_at(),
            Some(UNIX_EPOCH + Duration::from_millis(1_648_051_801_240))
        );
        assert_eq!(r.lifetime(), Some(Duration::from_secs(300)));
        assert_eq!(r.token_type(), Some(&TokenType::Bearer));
    }

    #[test]
    fn absent_markers_and_unknown_fields() {
        let r = decode(
            r#"{"userName":"","token":"","tokenCreatedTime":"-1","tokenExpiryDuration":"","tokenType":"Cookie","extra":{"x":1}}"#,
        );
        assert_eq!(r.user_name(), None);
        assert!(r.token().is_none());
        assert_eq!(r.created_at(), None);
        assert_eq!(r.expires_at(), None);
        assert_eq!(r.token_type(), Some(&TokenType::Cookie));
        assert_eq!(decode("{}"), SessionLoginResponse::default());
        assert_eq!(
            decode(r#"{"tokenType":"SAML"}"#).token_type(),
            Some(&TokenType::Other("SAML".into()))
        );
    }

    #[test]
    fn lifetime_without_creation_time_has_no_expiry() {
        let r = decode(r#"{"tokenExpiryDuration":300}"#);
        assert_eq!(r.expires_at(), None);
        assert_eq!(r.lifetime(), Some(Duration::from_secs(300)));
        assert!(!r.is_expired_at(UNIX_EPOCH + Duration::from_secs(u32::MAX.into())));
    }

    #[test]
    fn encode_then_decode_is_identity() {
        let r = SessionLoginResponse::new()
            .with_user_name("a")
            .with_token(AccessToken::new("t"))
            .with_token_type(TokenType::Other("x".into()))
            .with_created_at(UNIX_EPOCH + Duration::from_millis(1_700_000_000_123))
            .with_lifetime(Duration::from_secs(60));
        let json = String::from_utf8(crate::secret::to_wire_json(&r).expect("encodes")).expect("utf-8");
        assert_eq!(
            json,
            r#"{"userName":"a","token":"t","tokenCreatedTime":"1700000000123","tokenExpiryDuration":"60","tokenType":"x"}"#
        );
        assert_eq!(decode(&json), r);
        // Any other serialisation, an audit log's say, shows no token.
        let public = serde_json::to_string(&r).expect("encodes");
        assert_eq!(
            public,
            r#"{"userName":"a","token":"[redacted]","tokenCreatedTime":"1700000000123","tokenExpiryDuration":"60","tokenType":"x"}"#
        );
    }
}
