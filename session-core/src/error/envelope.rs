//! The ThoughtSpot error envelope: `{"error": {...}}`.

use serde_json::{Map, Value, json};

/// The error body clusters answer failures with (HTTP 500 with `{"error": {...}}`).
///
/// The inner object is untyped in the specification; clusters nest a GraphQL-style error
/// whose `extension` (or `extensions`) carries the upstream status and the upstream data
/// (code, debug message, incident and trace ids). `errors` may be an object or an array
/// (the first entry is read). Every field is optional.
///
/// ```
/// use thoughtspot_session_core::ErrorEnvelope;
///
/// let body = br#"{"error": {"errors": {"message": "Request failed with status code 500",
///   "extension": {"code": "UPSTREAM_FAILURE", "exception": {"upstreamResponse": {
///     "status": 401, "data": {"code": 10000, "debug": "Bad credentials",
///     "incident_id_guid": "inc-1", "trace_id_guid": "trace-1"}}}}}}}"#;
/// let e = ErrorEnvelope::from_body(body).unwrap();
/// assert_eq!(e.upstream_status(), Some(401));
/// assert_eq!(e.code(), Some("UPSTREAM_FAILURE"));
/// assert_eq!(e.incident_id(), Some("inc-1"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ErrorEnvelope {
    message: Option<String>,
    code: Option<String>,
    service: Option<String>,
    upstream_status: Option<u16>,
    upstream_code: Option<i64>,
    debug: Option<String>,
    incident_id: Option<String>,
    trace_id: Option<String>,
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn whole(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

impl ErrorEnvelope {
    /// Reads an envelope from a response body; `None` when the body is not a JSON object
    /// with an `error` member.
    pub fn from_body(body: &[u8]) -> Option<Self> {
        let value: Value = serde_json::from_slice(body).ok()?;
        Self::from_value(&value)
    }

    /// Reads an envelope from decoded JSON; `None` when it is not an object with an
    /// `error` member.
    pub fn from_value(value: &Value) -> Option<Self> {
        let outer = value.as_object()?.get("error")?;
        let inner = match outer {
            Value::Object(map) => map,
            Value::String(s) => {
                return Some(Self {
                    message: Some(s.clone()).filter(|s| !s.is_empty()),
                    ..Self::default()
                });
            }
            _ => return Some(Self::default()),
        };
        // REST API v2.0: {"error": {"message": {"code", "incident_id_guid", "trace_id_guid",
        // "debug"}}} (the message may also be a plain string, read below).
        if let Some(Value::Object(message)) = inner.get("message") {
            return Some(Self {
                message: None,
                code: text(message.get("code")),
                service: None,
                upstream_status: None,
                upstream_code: whole(message.get("code")),
                debug: text(message.get("debug")),
                incident_id: text(message.get("incident_id_guid")),
                trace_id: text(message.get("trace_id_guid")),
            });
        }
        let error: &Map<String, Value> = match inner.get("errors") {
            Some(Value::Object(e)) => e,
            Some(Value::Array(list)) => list.iter().find_map(Value::as_object).unwrap_or(inner),
            _ => inner,
        };
        let extension = error
            .get("extension")
            .or_else(|| error.get("extensions"))
            .and_then(Value::as_object);
        let exception = extension
            .and_then(|e| e.get("exception"))
            .and_then(Value::as_object);
        let upstream = exception
            .and_then(|e| e.get("upstreamResponse"))
            .and_then(Value::as_object);
        let data = upstream.and_then(|u| u.get("data")).and_then(Value::as_object);
        Some(Self {
            message: text(error.get("message")),
            code: extension
                .and_then(|e| text(e.get("code")))
                .or_else(|| text(error.get("code"))),
            service: extension.and_then(|e| text(e.get("service"))),
            upstream_status: upstream
                .and_then(|u| whole(u.get("status")))
                .and_then(|s| u16::try_from(s).ok()),
            upstream_code: data.and_then(|d| whole(d.get("code"))),
            debug: data.and_then(|d| text(d.get("debug"))),
            incident_id: data.and_then(|d| text(d.get("incident_id_guid"))),
            trace_id: data.and_then(|d| text(d.get("trace_id_guid"))),
        })
    }

    /// An envelope for an upstream failure, shaped as clusters send it (for servers and
    /// fakes): message `Request failed with status code 500`, code `UPSTREAM_FAILURE`,
    /// service `CALLOSUM`.
    pub fn upstream(status: u16, code: i64, debug: impl Into<String>) -> Self {
        Self {
            message: Some("Request failed with status code 500".to_owned()),
            code: Some("UPSTREAM_FAILURE".to_owned()),
            service: Some("CALLOSUM".to_owned()),
            upstream_status: Some(status),
            upstream_code: Some(code),
            debug: Some(debug.into()),
            incident_id: None,
            trace_id: None,
        }
    }

    /// Sets the incident and trace ids.
    #[must_use]
    pub fn with_ids(mut self, incident_id: impl Into<String>, trace_id: impl Into<String>) -> Self {
        self.incident_id = Some(incident_id.into());
        self.trace_id = Some(trace_id.into());
        self
    }

    /// The envelope as clusters send it, ready to serialise.
    pub fn to_json(&self) -> Value {
        let data = json!({
            "code": self.upstream_code,
            "incident_id_guid": self.incident_id,
            "trace_id_guid": self.trace_id,
            "debug": self.debug,
        });
        let upstream_status = self
            .upstream_status
            .map(|s| format!("Request failed with status code {s}"));
        json!({"error": {"errors": {
            "message": self.message,
            "extension": {
                "service": self.service,
                "code": self.code,
                "exception": {
                    "service": self.service,
                    "upstreamResponse": {"data": data, "status": self.upstream_status},
                    "stacktrace": upstream_status.into_iter().collect::<Vec<_>>(),
                }
            }
        }}})
    }

    /// Replaces each of `secrets` in every text of the envelope (message, code, service,
    /// debug message, incident and trace ids) with `[redacted]`: a cluster that echoes a
    /// credential anywhere must not make the client print it.
    ///
    /// The rule: a secret of [`SHORT_SECRET`] characters or more is replaced wherever it
    /// occurs; a shorter one only where it stands alone, between characters that are not
    /// letters or digits (or at either end), so that a one-letter password hides its echo
    /// (`password 'a' refused`) without garbling every word that holds the letter.
    pub(crate) fn redact(&mut self, secrets: &[&str]) {
        let fields = [
            &mut self.message,
            &mut self.code,
            &mut self.service,
            &mut self.debug,
            &mut self.incident_id,
            &mut self.trace_id,
        ];
        for text in fields.into_iter().flatten() {
            for secret in secrets.iter().filter(|s| !s.is_empty()) {
                if text.contains(secret) {
                    *text = redact_one(text, secret);
                }
            }
        }
    }

    /// The top-level message, e.g. `Request failed with status code 500`.
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// The error code, e.g. `UPSTREAM_FAILURE`.
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// The failing service, e.g. `CALLOSUM`.
    pub fn service(&self) -> Option<&str> {
        self.service.as_deref()
    }

    /// The status the upstream service answered: 401 for bad credentials or no session,
    /// 400 for bad parameters.
    pub fn upstream_status(&self) -> Option<u16> {
        self.upstream_status
    }

    /// The upstream's numeric error code, e.g. `10002`.
    pub fn upstream_code(&self) -> Option<i64> {
        self.upstream_code
    }

    /// The upstream's debug message, e.g. `Invalid parameter values userName`.
    pub fn debug_message(&self) -> Option<&str> {
        self.debug.as_deref()
    }

    /// The incident id to quote to ThoughtSpot support.
    pub fn incident_id(&self) -> Option<&str> {
        self.incident_id.as_deref()
    }

    /// The trace id of the failed call.
    pub fn trace_id(&self) -> Option<&str> {
        self.trace_id.as_deref()
    }
}

/// Below this many characters a secret is redacted only where it stands alone (see
/// [`ErrorEnvelope::redact`]).
pub(crate) const SHORT_SECRET: usize = 4;

/// `text` with `secret` replaced by `[redacted]` by the rule of [`ErrorEnvelope::redact`].
fn redact_one(text: &str, secret: &str) -> String {
    if secret.chars().count() >= SHORT_SECRET {
        return text.replace(secret, "[redacted]");
    }
    let word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(secret) {
        // The character before the match in the text: in `rest`, else the last one written.
        let before = match at {
            0 => out.chars().next_back(),
            _ => rest[..at].chars().next_back(),
        };
        let after = rest[at + secret.len()..].chars().next();
        out.push_str(&rest[..at]);
        if word(before) || word(after) {
            out.push_str(secret);
        } else {
            out.push_str("[redacted]");
        }
        rest = &rest[at + secret.len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_secrets_go_everywhere_short_ones_only_where_they_stand_alone() {
        assert_eq!(redact_one("xPW-hunter2y", "PW-hunter2"), "x[redacted]y");
        assert_eq!(
            redact_one("password 'a' refused", "a"),
            "password '[redacted]' refused"
        );
        assert_eq!(redact_one("a", "a"), "[redacted]");
        assert_eq!(
            redact_one("Invalid parameter values", "a"),
            "Invalid parameter values"
        );
        assert_eq!(redact_one("id=7;", "7"), "id=[redacted];");
        assert_eq!(redact_one("inc-7f3a", "7"), "inc-7f3a");
        let mut e = ErrorEnvelope::upstream(401, 10002, "bad password PW-hunter2")
            .with_ids("inc-PW-hunter2", "PW-hunter2");
        e.redact(&["PW-hunter2"]);
        assert_eq!(e.incident_id(), Some("inc-[redacted]"));
        assert_eq!(e.trace_id(), Some("[redacted]"));
        assert_eq!(e.debug_message(), Some("bad password [redacted]"));
    }

    #[test]
    fn reads_the_documented_example_array_form_and_extensions() {
        let doc = br#"{"error": {"errors": {"message": "Request failed with status code 500",
          "path": ["restapiV2__login"],
          "extension": {"service": "CALLOSUM", "code": "UPSTREAM_FAILURE",
            "exception": {"upstreamResponse": {"status": 400, "data": {
              "code": 10002, "incident_id_guid": "deb0bc49", "trace_id_guid": "deb0bc4a",
              "debug": "Invalid parameter values userName"}}}}}}}"#;
        let e = ErrorEnvelope::from_body(doc).expect("an envelope");
        assert_eq!(e.message(), Some("Request failed with status code 500"));
        assert_eq!(e.service(), Some("CALLOSUM"));
        assert_eq!(e.upstream_status(), Some(400));
        assert_eq!(e.upstream_code(), Some(10002));
        assert_eq!(e.debug_message(), Some("Invalid parameter values userName"));
        assert_eq!(e.trace_id(), Some("deb0bc4a"));

        let array = br#"{"error": {"errors": [{"message": "m", "extensions": {"code": "C",
            "exception": {"upstreamResponse": {"status": "401", "data": {"code": "10000"}}}}}]}}"#;
        let e = ErrorEnvelope::from_body(array).expect("an envelope");
        assert_eq!(
            (e.message(), e.code(), e.upstream_status(), e.upstream_code()),
            (Some("m"), Some("C"), Some(401), Some(10000))
        );

        assert_eq!(
            ErrorEnvelope::from_body(br#"{"error": {}}"#),
            Some(ErrorEnvelope::default())
        );
        assert_eq!(ErrorEnvelope::from_body(b"<html>"), None);
        assert_eq!(ErrorEnvelope::from_body(br#"{"message": "x"}"#), None);
    }

    #[test]
    fn to_json_reads_back() {
        let e = ErrorEnvelope::upstream(401, 10000, "Bad credentials").with_ids("i", "t");
        assert_eq!(ErrorEnvelope::from_value(&e.to_json()), Some(e));
    }
}
