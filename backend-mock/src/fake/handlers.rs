//! The fake's HTTP face: routes, credentials, and answers shaped as clusters shape them.

mod embed;
mod v2;

use super::state::{FakeSession, FakeToken, State};
use super::{ApiGenerations, Config, ExpiryFormat};
use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use serde_json::json;
use std::time::{SystemTime, UNIX_EPOCH};
use thoughtspot_session_core::{
    AccessLevel, AccessToken, ErrorEnvelope, GetTokenRequest, LoginRequest, SessionLoginResponse, TokenType,
};

const SESSION: &str = "/tspublic/rest/v2/session";
const LOGIN: &str = "/tspublic/rest/v2/session/login";
const LOGOUT: &str = "/tspublic/rest/v2/session/logout";
const GET_TOKEN: &str = "/tspublic/rest/v2/session/gettoken";
const REVOKE_TOKEN: &str = "/tspublic/rest/v2/session/revoketoken";

/// The upstream code the fake uses for authentication failures.
pub(crate) const CODE_UNAUTHORIZED: i64 = 10000;
/// The upstream code for bad parameters (the one the specification's example shows).
pub(crate) const CODE_BAD_PARAMETER: i64 = 10002;

/// The operation a path names, of either generation (any base path prefix allowed).
pub(crate) fn operation(path: &str) -> Option<&'static str> {
    v2::operation(path)
        .or_else(|| beta_operation(path))
        .or_else(|| embed::operation(path))
}

fn beta_operation(path: &str) -> Option<&'static str> {
    let path = path.trim_end_matches('/');
    [
        (LOGIN, "login"),
        (LOGOUT, "logout"),
        (GET_TOKEN, "get token"),
        (REVOKE_TOKEN, "revoke token"),
        (SESSION, "get session info"),
    ]
    .into_iter()
    .find(|(suffix, _)| path.ends_with(suffix))
    .map(|(_, name)| name)
}

struct Call<'a> {
    config: &'a Config,
    state: &'a mut State,
    now: SystemTime,
    request: &'a Request<Bytes>,
}

pub(crate) fn handle(
    config: &Config,
    state: &mut State,
    now: SystemTime,
    request: &Request<Bytes>,
) -> Response<Bytes> {
    // CORS, as a cluster's allow-list: nothing at all without one.
    if config.cors_origins.is_empty() {
        return answer(config, state, now, request);
    }
    if let Some(preflight) = embed::preflight(&config.cors_origins, request) {
        return preflight;
    }
    let mut response = answer(config, state, now, request);
    embed::allow(&config.cors_origins, request.headers(), response.headers_mut());
    response
}

fn answer(config: &Config, state: &mut State, now: SystemTime, request: &Request<Bytes>) -> Response<Bytes> {
    if state.outage {
        return html(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable");
    }
    let path = request.uri().path();
    let v2_operation = v2::operation(path);
    let served = match config.generations {
        ApiGenerations::Both => true,
        ApiGenerations::BetaOnly => v2_operation.is_none(),
        ApiGenerations::V2Only => v2_operation.is_some() || beta_operation(path).is_none(),
    };
    if !served {
        return html(StatusCode::NOT_FOUND, "Not Found");
    }
    if let Some((left, status)) = state.fail_next {
        state.fail_next = (left > 1).then_some((left - 1, status));
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            let mut call = Call {
                config,
                state,
                now,
                request,
            };
            return match v2_operation {
                Some(_) => call.v2_error(status, v2::CODE_FAILURE, "Injected failure"),
                None => call.envelope(500, 10500, "Injected failure"),
            };
        }
        return plain(status, Bytes::new());
    }
    let mut call = Call {
        config,
        state,
        now,
        request,
    };
    if let Some(operation) = v2_operation {
        if request.method() != v2::method(operation) {
            return plain(StatusCode::METHOD_NOT_ALLOWED, Bytes::new());
        }
        return call.v2(operation);
    }
    if let Some(operation) = embed::operation(path) {
        return call.embed(operation);
    }
    let expected_method = |m: Method| request.method() == m;
    match beta_operation(path) {
        Some("get session info") if expected_method(Method::GET) => call.session_info(),
        Some("login") if expected_method(Method::POST) => call.login(),
        Some("logout") if expected_method(Method::POST) => call.logout(),
        Some("get token") if expected_method(Method::POST) => call.get_token(),
        Some("revoke token") if expected_method(Method::POST) => call.revoke_token(),
        Some(_) => plain(StatusCode::METHOD_NOT_ALLOWED, Bytes::new()),
        None => html(StatusCode::NOT_FOUND, "Not Found"),
    }
}

impl Call<'_> {
    fn envelope(&mut self, upstream_status: u16, code: i64, debug: &str) -> Response<Bytes> {
        let incident = self.state.fresh_guid();
        let trace = self.state.fresh_guid();
        let body = ErrorEnvelope::upstream(upstream_status, code, debug)
            .with_ids(incident, trace)
            .to_json();
        json_response(StatusCode::INTERNAL_SERVER_ERROR, &body)
    }

    fn unauthorized(&mut self, debug: &str) -> Response<Bytes> {
        self.envelope(401, CODE_UNAUTHORIZED, debug)
    }

    fn bad_parameter(&mut self, debug: &str) -> Response<Bytes> {
        self.envelope(400, CODE_BAD_PARAMETER, debug)
    }

    fn bearer(&self) -> Option<&str> {
        let value = self.request.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim())
            .filter(|t| !t.is_empty())
    }

    fn cookie(&self, name: &str) -> Option<&str> {
        self.request
            .headers()
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
    }

    /// The live cookie session of this request, by its JSESSIONID.
    fn session_id(&self) -> Option<String> {
        let id = self.cookie("JSESSIONID")?;
        let session = self.state.sessions.get(id)?;
        (self.now < session.expires_at).then(|| id.to_owned())
    }

    /// The valid token of this request's `Authorization: Bearer`.
    fn token(&self) -> Result<&FakeToken, &'static str> {
        let token = self.bearer().ok_or("No active session")?;
        let record = self.state.tokens.get(token).ok_or("Invalid token")?;
        if record.revoked {
            Err("Token has been revoked")
        } else if self.now >= record.expires_at {
            Err("Token has expired")
        } else {
            Ok(record)
        }
    }

    fn session_info(&mut self) -> Response<Bytes> {
        let (user, org, expires_at) = if let Some(id) = self.session_id() {
            let s = &self.state.sessions[&id];
            (s.user.clone(), s.org_id, s.expires_at)
        } else {
            match self.token() {
                Ok(t) if t.access_level == AccessLevel::Full => (t.user.clone(), t.org_id, t.expires_at),
                Ok(_) => return self.unauthorized("Token only grants view access to one object"),
                Err(why) => return self.unauthorized(why),
            }
        };
        let Some(u) = self.config.users.get(&user) else {
            return self.unauthorized("User no longer exists");
        };
        let body = json!({
            "userName": u.name,
            "userGUID": u.guid,
            "userDisplayName": u.display_name,
            "userEmail": u.email,
            "privileges": u.privileges,
            "currentOrgId": org,
            "orgIds": u.orgs,
            "expirationTime": epoch_millis(expires_at),
            "releaseVersion": self.config.release_version,
            "timezone": "UTC",
            "locale": "en-US",
        });
        json_response(StatusCode::OK, &body)
    }

    fn login(&mut self) -> Response<Bytes> {
        let request: LoginRequest = match decode_body(self.request.body()) {
            Ok(r) => r,
            Err(why) => return self.bad_parameter(why),
        };
        if let Err(e) = request.validate() {
            return self.bad_parameter(&format!("Invalid parameter values: {}", e.message()));
        }
        let (user, org, token) =
            if let (Some(name), Some(password)) = (request.user_name(), request.password()) {
                match self.config.users.get(name) {
                    Some(u) if &u.password == password => (u.name.clone(), u.orgs[0], None),
                    _ => return self.unauthorized("Invalid username or password"),
                }
            } else {
                match self.token() {
                    Ok(t) if t.access_level == AccessLevel::Full => {
                        (t.user.clone(), t.org_id, Some(t.token.secret().to_owned()))
                    }
                    Ok(_) => return self.unauthorized("Token only grants view access to one object"),
                    Err(why) => return self.unauthorized(why),
                }
            };
        let id = self.state.fresh_id("JS");
        let client_id = self.state.fresh_guid();
        let lifetime = self.config.session_lifetime;
        self.state.sessions.insert(
            id.clone(),
            FakeSession {
                user: user.clone(),
                org_id: org,
                created_at: self.now,
                expires_at: self.now + lifetime,
                from_token: token.is_some(),
                token,
            },
        );
        let body = SessionLoginResponse::new()
            .with_user_name(user)
            .with_token_type(TokenType::Cookie)
            .with_created_at(self.now)
            .with_lifetime(lifetime);
        let mut response = json_response(StatusCode::OK, &login_answer(&body));
        let secure = if self.request.uri().scheme_str() == Some("https") {
            "; Secure"
        } else {
            ""
        };
        for cookie in [
            format!("JSESSIONID={id}; Path=/; HttpOnly{secure}"),
            format!("clientId={client_id}; Path=/{secure}"),
        ] {
            if let Ok(value) = HeaderValue::try_from(cookie) {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
        }
        response
    }

    fn logout(&mut self) -> Response<Bytes> {
        let Some(id) = self.session_id() else {
            return self.unauthorized("No active session");
        };
        self.state.sessions.remove(&id);
        let mut response = json_response(StatusCode::OK, &json!(true));
        response.headers_mut().append(
            header::SET_COOKIE,
            HeaderValue::from_static("JSESSIONID=; Path=/; Max-Age=0"),
        );
        response
    }

    fn get_token(&mut self) -> Response<Bytes> {
        let request: GetTokenRequest = match decode_body(self.request.body()) {
            Ok(r) => r,
            Err(why) => return self.bad_parameter(why),
        };
        if let Err(e) = request.validate() {
            return self.bad_parameter(&format!("Invalid parameter values: {}", e.message()));
        }
        let Some(user) = self.config.users.get(request.user_name()) else {
            return self.unauthorized("Invalid username or credentials");
        };
        // The password wins over the secret key when both are given.
        let authorised = match (request.password().filter(|p| !p.is_empty()), request.secret_key()) {
            (Some(password), _) => &user.password == password,
            (None, Some(key)) => self.config.secret_key.as_ref() == Some(key),
            (None, None) => false,
        };
        if !authorised {
            return self.unauthorized("Invalid username or credentials");
        }
        let level = request.effective_access_level();
        if level == AccessLevel::ReportBookView {
            let known = request
                .ts_object_id()
                .is_some_and(|id| self.config.objects.contains(id));
            if !known {
                return self.bad_parameter("Invalid parameter values tsObjectId");
            }
        }
        let org = match request.org_id() {
            None => user.orgs[0],
            Some(org) => match org.trim().parse::<u64>() {
                Ok(id) if user.orgs.contains(&id) => id,
                _ => return self.bad_parameter("Invalid parameter values orgId"),
            },
        };
        let lifetime = request.token_expiry().unwrap_or(self.config.token_lifetime);
        if lifetime > self.config.max_token_lifetime {
            return self.bad_parameter("Invalid parameter values tokenExpiryDuration");
        }
        let token = self.state.fresh_id("fake-token-");
        let record = FakeToken {
            token: AccessToken::new(token.clone()),
            user: user.name.clone(),
            access_level: level,
            object_id: request.ts_object_id().map(str::to_owned),
            org_id: org,
            created_at: self.now,
            expires_at: self.now + lifetime,
            revoked: false,
            rules: None,
            groups: Vec::new(),
        };
        let body = SessionLoginResponse::new()
            .with_user_name(&user.name)
            .with_token(record.token.clone())
            .with_token_type(TokenType::Bearer)
            .with_created_at(self.now);
        let body = match self.config.expiry_format {
            ExpiryFormat::Seconds => body.with_lifetime(lifetime),
            ExpiryFormat::AbsoluteMillis => body.with_absolute_expiry(record.expires_at),
        };
        self.state.tokens.insert(token, record);
        json_response(StatusCode::OK, &login_answer(&body))
    }

    fn revoke_token(&mut self) -> Response<Bytes> {
        let token = match self.token() {
            Ok(t) => t.token.secret().to_owned(),
            Err(why) => return self.unauthorized(why),
        };
        if let Some(record) = self.state.tokens.get_mut(&token) {
            record.revoked = true;
        }
        self.state
            .sessions
            .retain(|_, s| s.token.as_deref() != Some(token.as_str()));
        json_response(StatusCode::OK, &json!(true))
    }
}

fn decode_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, &'static str> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err("Request body is missing");
    }
    serde_json::from_slice(body).map_err(|_| "Request body is not valid JSON of the expected shape")
}

fn epoch_millis(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
        .try_into()
        .unwrap_or(u64::MAX)
}

/// A beta login or get token answer as the cluster writes it: the token in clear (the
/// model's own serialisation redacts it, as for any user's log).
fn login_answer(body: &SessionLoginResponse) -> serde_json::Value {
    let mut value = serde_json::to_value(body).unwrap_or_default();
    if let (Some(token), Some(fields)) = (body.token(), value.as_object_mut()) {
        fields.insert("token".to_owned(), token.secret().into());
    }
    value
}

fn json_response(status: StatusCode, body: &impl serde::Serialize) -> Response<Bytes> {
    // Serialising our own models and json! values cannot fail (string keys, no custom
    // errors); an empty body would surface as a decode error, never a panic.
    let mut bytes = Vec::with_capacity(256);
    let _ = serde_json::to_writer(&mut bytes, body);
    let mut response = plain(status, Bytes::from(bytes));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn html(status: StatusCode, title: &str) -> Response<Bytes> {
    let page = format!(
        "<!DOCTYPE html><html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>"
    );
    let mut response = plain(status, Bytes::from(page));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

fn plain(status: StatusCode, body: Bytes) -> Response<Bytes> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response
}
