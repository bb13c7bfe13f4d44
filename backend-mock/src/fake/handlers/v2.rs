//! The fake's REST API v2.0 face (`/api/rest/2.0/auth/...`), on the same state as the beta
//! one: a token minted on one generation works on the other, and a v2.0 login makes a
//! cookie session that beta calls see.
//!
//! Errors are JSON (`Content-Type: application/json`) in the v2.0 shape
//! `{"error":{"message":{"code","incident_id_guid","trace_id_guid","debug"}}}`:
//!
//! | status | code | when |
//! |---|---|---|
//! | 400 | 10002 | a body that is missing, not JSON, or lacks a required field; an unknown object or org; an invalid, expired or revoked token to validate |
//! | 401 | 10097 | wrong credentials; no session and no valid bearer token |
//! | 403 | 10023 | configure or search without `ADMINISTRATION` or `CONTROL_TRUSTED_AUTH`; an object token used for a session |
//! | 500 | 10038 | an injected failure |

// The handlers' early returns carry the error answer itself: its size costs nothing on a
// path that ends the request.
#![allow(clippy::result_large_err)]

use super::{Call, epoch_millis, json_response, plain};
use crate::fake::state::{FakeSession, FakeToken};
use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use serde_json::{Value, json};
use std::time::Duration;
use thoughtspot_session_core::{AccessLevel, AccessToken, SecretKey};

/// The value of a step that either goes on or has the error answer, which it returns.
macro_rules! or_answer {
    ($step:expr) => {
        match $step {
            Ok(value) => value,
            Err(answer) => return answer,
        }
    };
}

pub(crate) const CODE_BAD_REQUEST: i64 = 10002;
pub(crate) const CODE_UNAUTHORIZED: i64 = 10097;
pub(crate) const CODE_FORBIDDEN: i64 = 10023;
pub(crate) const CODE_FAILURE: i64 = 10038;

/// The lifetime of a token from `GET session/token` (spec 26.8: 24 hours).
const SESSION_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// The v2.0 operation a path names.
pub(crate) fn operation(path: &str) -> Option<&'static str> {
    let rest = path.trim_end_matches('/');
    let (_, op) = rest.split_once("/api/rest/2.0/auth/")?;
    Some(match op {
        "session/user" => "session/user",
        "session/token" => "session/token",
        "session/login" => "v2 login",
        "session/logout" => "v2 logout",
        "token/full" => "token/full",
        "token/object" => "token/object",
        "token/custom" => "token/custom",
        "token/revoke" => "token/revoke",
        "token/validate" => "token/validate",
        "configure" => "configure",
        "search" => "search",
        _ => return None,
    })
}

/// The methods of the v2.0 operations.
pub(crate) fn method(operation: &str) -> http::Method {
    if operation.starts_with("session/") {
        http::Method::GET
    } else {
        http::Method::POST
    }
}

impl Call<'_> {
    pub(crate) fn v2(&mut self, operation: &str) -> Response<Bytes> {
        match operation {
            "session/user" => self.v2_session_user(),
            "session/token" => self.v2_session_token(),
            "v2 login" => self.v2_login(),
            "v2 logout" => self.v2_logout(),
            "token/full" => self.v2_token(false),
            "token/object" => self.v2_token(true),
            "token/custom" => self.v2_custom_token(),
            "token/revoke" => self.v2_revoke(),
            "token/validate" => self.v2_validate(),
            "configure" => self.v2_configure(),
            _ => self.v2_search(),
        }
    }

    pub(crate) fn v2_error(&mut self, status: StatusCode, code: i64, debug: &str) -> Response<Bytes> {
        let incident = self.state.fresh_guid();
        let trace = self.state.fresh_guid();
        json_response(
            status,
            &json!({"error": {"message": {"code": code, "incident_id_guid": incident,
                "trace_id_guid": trace, "debug": debug}}}),
        )
    }

    fn v2_unauthorized(&mut self, debug: &str) -> Response<Bytes> {
        self.v2_error(StatusCode::UNAUTHORIZED, CODE_UNAUTHORIZED, debug)
    }

    fn v2_bad_request(&mut self, debug: &str) -> Response<Bytes> {
        self.v2_error(StatusCode::BAD_REQUEST, CODE_BAD_REQUEST, debug)
    }

    fn v2_body(&mut self) -> Result<serde_json::Map<String, Value>, Response<Bytes>> {
        match serde_json::from_slice::<Value>(self.request.body()) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(self.v2_bad_request("Request body is missing or is not a JSON object")),
        }
    }

    /// The caller: its cookie session, else its full-access bearer token.
    fn v2_caller(&mut self) -> Result<(String, u64), Response<Bytes>> {
        if let Some(id) = self.session_id() {
            let s = &self.state.sessions[&id];
            return Ok((s.user.clone(), s.org_id));
        }
        match self.token() {
            Ok(t) if t.access_level == AccessLevel::Full => Ok((t.user.clone(), t.org_id)),
            Ok(_) => Err(self.v2_error(
                StatusCode::FORBIDDEN,
                CODE_FORBIDDEN,
                "The token only grants view access to one object",
            )),
            Err(why) => Err(self.v2_unauthorized(why)),
        }
    }

    fn no_content() -> Response<Bytes> {
        plain(StatusCode::NO_CONTENT, Bytes::new())
    }

    fn v2_session_user(&mut self) -> Response<Bytes> {
        let (name, org) = or_answer!(self.v2_caller());
        let Some(u) = self.config.users.get(&name) else {
            return self.v2_unauthorized("User no longer exists");
        };
        let org_json = |id: u64| json!({"id": id, "name": format!("Org {id}")});
        let body = json!({
            "id": u.guid, "name": u.name, "display_name": u.display_name, "visibility": "SHARABLE",
            "email": u.email, "account_type": "LOCAL_USER", "account_status": "ACTIVE",
            "privileges": u.privileges, "current_org": org_json(org),
            "orgs": u.orgs.iter().map(|o| org_json(*o)).collect::<Vec<_>>(),
        });
        json_response(StatusCode::OK, &body)
    }

    fn mint(
        &mut self,
        user: &str,
        level: AccessLevel,
        object: Option<String>,
        org: u64,
        lifetime: Duration,
    ) -> FakeToken {
        let token = self.state.fresh_id("fake-token-");
        let record = FakeToken {
            token: AccessToken::new(token.clone()),
            user: user.to_owned(),
            access_level: level,
            object_id: object,
            org_id: org,
            created_at: self.now,
            expires_at: self.now + lifetime,
            revoked: false,
            rules: None,
            groups: Vec::new(),
        };
        self.state.tokens.insert(token, record.clone());
        record
    }

    fn token_json(&self, t: &FakeToken) -> Value {
        let guid = self
            .config
            .users
            .get(&t.user)
            .map(|u| u.guid.clone())
            .unwrap_or_default();
        let access = match t.access_level {
            AccessLevel::ReportBookView => "REPORT_BOOK_VIEW",
            _ => "FULL",
        };
        json!({
            "token": t.token.secret(),
            "creation_time_in_millis": epoch_millis(t.created_at),
            "expiration_time_in_millis": epoch_millis(t.expires_at),
            "scope": {"access_type": access, "org_id": t.org_id, "metadata_id": t.object_id},
            "valid_for_user_id": guid,
            "valid_for_username": t.user,
        })
    }

    fn v2_session_token(&mut self) -> Response<Bytes> {
        let (name, org) = or_answer!(self.v2_caller());
        let record = self.mint(&name, AccessLevel::Full, None, org, SESSION_TOKEN_LIFETIME);
        let mut body = self.token_json(&record);
        if let Some(map) = body.as_object_mut() {
            map.remove("scope");
        }
        json_response(StatusCode::OK, &body)
    }

    fn v2_login(&mut self) -> Response<Bytes> {
        let body = or_answer!(self.v2_body());
        let username = body.get("username").and_then(Value::as_str);
        let password = body.get("password").and_then(Value::as_str);
        let (user, orgs, token) = match (username, password) {
            (Some(name), Some(password)) => match self.config.users.get(name) {
                Some(u) if u.password.secret() == password => (u.name.clone(), u.orgs.clone(), None),
                _ => {
                    return self
                        .v2_unauthorized("Invalid credentials. The username or password is incorrect.");
                }
            },
            (None, None) => match self.token() {
                Ok(t) if t.access_level == AccessLevel::Full => {
                    (t.user.clone(), vec![t.org_id], Some(t.token.secret().to_owned()))
                }
                Ok(_) => {
                    return self.v2_error(
                        StatusCode::FORBIDDEN,
                        CODE_FORBIDDEN,
                        "The token only grants view access to one object",
                    );
                }
                Err(why) => return self.v2_unauthorized(why),
            },
            _ => return self.v2_bad_request("username and password go together"),
        };
        let org = match body.get("org_identifier").and_then(Value::as_str) {
            None => orgs[0],
            Some(o) => match o.trim().parse::<u64>() {
                Ok(id) if orgs.contains(&id) => id,
                _ => return self.v2_bad_request("Invalid parameter values org_identifier"),
            },
        };
        let remember = body.get("remember_me").and_then(Value::as_bool) == Some(true);
        let lifetime = if remember {
            Duration::from_secs(7 * 24 * 3600)
        } else {
            self.config.session_lifetime
        };
        let id = self.state.fresh_id("JS");
        self.state.sessions.insert(
            id.clone(),
            FakeSession {
                user,
                org_id: org,
                created_at: self.now,
                expires_at: self.now + lifetime,
                from_token: token.is_some(),
                token,
            },
        );
        let mut response = Self::no_content();
        let secure = if self.request.uri().scheme_str() == Some("https") {
            "; Secure"
        } else {
            ""
        };
        if let Ok(value) = HeaderValue::try_from(format!("JSESSIONID={id}; Path=/; HttpOnly{secure}")) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
        response
    }

    fn v2_logout(&mut self) -> Response<Bytes> {
        let Some(id) = self.session_id() else {
            return self.v2_unauthorized("No active session");
        };
        self.state.sessions.remove(&id);
        let mut response = Self::no_content();
        response.headers_mut().append(
            header::SET_COOKIE,
            HeaderValue::from_static("JSESSIONID=; Path=/; Max-Age=0"),
        );
        response
    }

    /// The user of a token request, if its credentials hold: the secret key wins over the
    /// password (spec 26.8).
    fn v2_credentials(&mut self, body: &serde_json::Map<String, Value>) -> Result<String, Response<Bytes>> {
        let Some(name) = body
            .get("username")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
        else {
            return Err(self.v2_bad_request("username is required"));
        };
        let key = body
            .get("secret_key")
            .and_then(Value::as_str)
            .filter(|k| !k.is_empty());
        let password = body
            .get("password")
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty());
        let Some(user) = self.config.users.get(name) else {
            return Err(self
                .v2_unauthorized("Invalid credentials. The provided secret key or password is incorrect."));
        };
        let authorised = match (key, password) {
            (Some(key), _) => self.config.secret_key.as_ref() == Some(&SecretKey::new(key)),
            (None, Some(password)) => user.password.secret() == password,
            (None, None) => false,
        };
        if !authorised {
            return Err(self
                .v2_unauthorized("Invalid credentials. The provided secret key or password is incorrect."));
        }
        Ok(user.name.clone())
    }

    fn v2_lifetime(&mut self, body: &serde_json::Map<String, Value>) -> Result<Duration, Response<Bytes>> {
        match body.get("validity_time_in_sec") {
            None => Ok(self.config.token_lifetime),
            Some(v) => match v.as_u64() {
                Some(secs) if secs > 0 && Duration::from_secs(secs) <= self.config.max_token_lifetime => {
                    Ok(Duration::from_secs(secs))
                }
                _ => Err(self.v2_bad_request("Invalid parameter values validity_time_in_sec")),
            },
        }
    }

    fn v2_org(&mut self, user: &str, org: Option<&Value>) -> Result<u64, Response<Bytes>> {
        let orgs = self
            .config
            .users
            .get(user)
            .map(|u| u.orgs.clone())
            .unwrap_or_default();
        let id = match org {
            None => return Ok(orgs.first().copied().unwrap_or(0)),
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s.trim().parse().ok(),
            Some(_) => None,
        };
        match id {
            Some(id) if orgs.contains(&id) => Ok(id),
            _ => Err(self.v2_bad_request("Invalid parameter values org")),
        }
    }

    fn v2_token(&mut self, object: bool) -> Response<Bytes> {
        let body = or_answer!(self.v2_body());
        let user = or_answer!(self.v2_credentials(&body));
        let lifetime = or_answer!(self.v2_lifetime(&body));
        let org = or_answer!(self.v2_org(&user, body.get("org_id")));
        let (level, object_id) = if object {
            let id = body.get("object_id").and_then(Value::as_str).map(str::to_owned);
            match id {
                Some(id) if self.config.objects.contains(&id) => (AccessLevel::ReportBookView, Some(id)),
                _ => return self.v2_bad_request("Invalid parameter values object_id"),
            }
        } else {
            (AccessLevel::Full, None)
        };
        let mut record = self.mint(&user, level, object_id, org, lifetime);
        record.groups = body
            .get("group_identifiers")
            .and_then(Value::as_array)
            .map(|g| g.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default();
        self.state
            .tokens
            .insert(record.token.secret().to_owned(), record.clone());
        json_response(StatusCode::OK, &self.token_json(&record))
    }

    fn v2_custom_token(&mut self) -> Response<Bytes> {
        let body = or_answer!(self.v2_body());
        let persist = body.get("persist_option").and_then(Value::as_str);
        if !matches!(persist, Some("REPLACE" | "APPEND" | "NONE" | "RESET")) {
            return self.v2_bad_request("persist_option is required: REPLACE, APPEND, NONE or RESET");
        }
        if body.contains_key("variable_values") && matches!(persist, Some("NONE" | "RESET")) {
            return self.v2_bad_request("variable_values cannot go with persist_option NONE or RESET");
        }
        let user = or_answer!(self.v2_credentials(&body));
        let lifetime = or_answer!(self.v2_lifetime(&body));
        let org = or_answer!(self.v2_org(&user, body.get("org_identifier")));
        let mut rules = serde_json::Map::new();
        for key in [
            "persist_option",
            "filter_rules",
            "parameter_values",
            "variable_values",
            "objects",
        ] {
            if let Some(v) = body.get(key) {
                rules.insert(key.to_owned(), v.clone());
            }
        }
        let mut record = self.mint(&user, AccessLevel::Full, None, org, lifetime);
        record.rules = Some(Value::Object(rules));
        record.groups = body
            .get("groups")
            .and_then(Value::as_array)
            .map(|g| {
                g.iter()
                    .filter_map(|g| g.get("identifier").and_then(Value::as_str))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let id = self.state.fresh_guid();
        let guid = self
            .config
            .users
            .get(&user)
            .map(|u| u.guid.clone())
            .unwrap_or_default();
        self.state
            .tokens
            .insert(record.token.secret().to_owned(), record.clone());
        json_response(
            StatusCode::OK,
            &json!({
                "id": id,
                "token": record.token.secret(),
                "org": {"id": org, "name": format!("Org {org}")},
                "user": {"id": guid, "name": user},
                "creation_time_in_millis": epoch_millis(record.created_at),
                "expiration_time_in_millis": epoch_millis(record.expires_at),
            }),
        )
    }

    fn v2_revoke(&mut self) -> Response<Bytes> {
        if let Err(why) = self.token()
            && self.session_id().is_none()
        {
            return self.v2_unauthorized(why);
        }
        let body = or_answer!(self.v2_body());
        let token = body.get("token").and_then(Value::as_str).map(str::to_owned);
        let user = body
            .get("user_identifier")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if token.is_none() && user.is_none() {
            return self.v2_bad_request("One of token or user_identifier is required");
        }
        let mut revoked = Vec::new();
        for (key, record) in self.state.tokens.iter_mut() {
            let by_token = token.as_deref() == Some(key.as_str());
            let by_user = token.is_none() && user.as_deref() == Some(record.user.as_str());
            if by_token || by_user {
                record.revoked = true;
                revoked.push(key.clone());
            }
        }
        self.state
            .sessions
            .retain(|_, s| !s.token.as_ref().is_some_and(|t| revoked.contains(t)));
        Self::no_content()
    }

    fn v2_validate(&mut self) -> Response<Bytes> {
        or_answer!(self.v2_caller());
        let body = or_answer!(self.v2_body());
        let Some(token) = body.get("token").and_then(Value::as_str) else {
            return self.v2_bad_request("token is required");
        };
        let record = match self.state.tokens.get(token) {
            Some(t) if t.is_valid_at(self.now) => t.clone(),
            Some(_) => return self.v2_bad_request("The token has expired or was revoked"),
            None => return self.v2_bad_request("The token is not valid"),
        };
        let mut body = self.token_json(&record);
        if let Some(map) = body.as_object_mut() {
            map.remove("token");
            map.remove("valid_for_username");
            map.insert("token_type".to_owned(), json!("BEARER"));
        }
        json_response(StatusCode::OK, &body)
    }

    /// The caller of configure and search, if it may administer trusted authentication.
    fn v2_admin(&mut self) -> Result<(), Response<Bytes>> {
        let (name, _) = self.v2_caller()?;
        let allowed = self.config.users.get(&name).is_some_and(|u| {
            u.privileges
                .iter()
                .any(|p| p == "ADMINISTRATION" || p == "CONTROL_TRUSTED_AUTH")
        });
        if allowed {
            Ok(())
        } else {
            Err(self.v2_error(
                StatusCode::FORBIDDEN,
                CODE_FORBIDDEN,
                "The user needs the ADMINISTRATION or CONTROL_TRUSTED_AUTH privilege",
            ))
        }
    }

    /// The body of configure or search, from a caller that may administer trusted auth.
    fn v2_settings_body(&mut self) -> Result<serde_json::Map<String, Value>, Response<Bytes>> {
        self.v2_admin()?;
        let body = self.v2_body()?;
        if body.get("auth_type").and_then(Value::as_str) != Some("TRUSTED_AUTH") {
            return Err(self.v2_bad_request("auth_type must be TRUSTED_AUTH"));
        }
        Ok(body)
    }

    fn v2_configure(&mut self) -> Response<Bytes> {
        let body = or_answer!(self.v2_settings_body());
        let status = |v: Option<&Value>| match v.and_then(|v| v.get("auth_status")).and_then(Value::as_str) {
            Some("ENABLED") => Some(true),
            Some("DISABLED") => Some(false),
            _ => None,
        };
        if let Some(enabled) = status(body.get("cluster_preferences")) {
            self.state.trusted_auth_cluster = enabled;
        }
        for pref in body
            .get("org_preferences")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let org = pref
                .get("org_identifier")
                .and_then(Value::as_str)
                .and_then(|o| o.parse::<u64>().ok());
            match (org, status(Some(pref))) {
                (Some(org), Some(enabled)) => {
                    self.state.trusted_auth_orgs.insert(org, enabled);
                }
                (None, _) => return self.v2_bad_request("Invalid parameter values org_identifier"),
                _ => {}
            }
        }
        Self::no_content()
    }

    fn v2_search(&mut self) -> Response<Bytes> {
        let body = or_answer!(self.v2_settings_body());
        let scope = body.get("scope").and_then(Value::as_str);
        let key = self
            .config
            .secret_key
            .as_ref()
            .map(|k| json!([{"key": k.secret()}]));
        let status = |on: bool| if on { "ENABLED" } else { "DISABLED" };
        let mut answer = serde_json::Map::new();
        answer.insert("auth_type".to_owned(), json!("TRUSTED_AUTH"));
        if scope != Some("ORG") {
            answer.insert(
                "cluster_preferences".to_owned(),
                json!({"auth_status": status(self.state.trusted_auth_cluster), "access_tokens": key}),
            );
        }
        if scope != Some("CLUSTER") {
            let orgs: Vec<Value> = self
                .state
                .trusted_auth_orgs
                .iter()
                .map(|(org, on)| {
                    json!({"org": {"id": org, "name": format!("Org {org}")}, "auth_status": status(*on),
                           "access_tokens": key})
                })
                .collect();
            answer.insert("org_preferences".to_owned(), Value::Array(orgs));
        }
        json_response(StatusCode::OK, &Value::Object(answer))
    }
}
