//! What the Visual Embed SDK asks of a cluster: the callosum session endpoints it verifies
//! tokens and sessions with, the pre-auth info it reads after login, the page its iframe
//! loads, and CORS as a cluster's allow-list answers it.

use super::{Call, html, json_response, plain};
use crate::fake::state::FakeSession;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use serde_json::json;
use thoughtspot_session_core::AccessLevel;

const IS_ACTIVE: &str = "/callosum/v1/session/isactive";
const SESSION_INFO: &str = "/callosum/v1/session/info";
const PREAUTH_INFO: &str = "/prism/preauth/info";
const LOGIN_TOKEN: &str = "/callosum/v1/session/login/token";
const LOGOUT: &str = "/callosum/v1/session/logout";
/// The fake's own: what it recorded of the bearer token (no real cluster has it).
const TOKEN_RECORD: &str = "/_fake/token";

/// The embed operation a path names.
pub(crate) fn operation(path: &str) -> Option<&'static str> {
    let path = path.trim_end_matches('/');
    [
        (IS_ACTIVE, "embed: isactive"),
        (SESSION_INFO, "embed: session info"),
        (PREAUTH_INFO, "embed: preauth info"),
        (LOGIN_TOKEN, "embed: login token"),
        (LOGOUT, "embed: logout"),
        (TOKEN_RECORD, "fake: token record"),
    ]
    .into_iter()
    .find(|(suffix, _)| path.ends_with(suffix))
    .map(|(_, name)| name)
    .or_else(|| is_embed_page(path).then_some("embed: page"))
}

/// The page the SDK's iframe loads: `/` (and `/v2/`) with the app in the fragment.
fn is_embed_page(path: &str) -> bool {
    matches!(path, "" | "/" | "/v2")
}

impl Call<'_> {
    pub(super) fn embed(&mut self, operation: &'static str) -> Response<Bytes> {
        let method = self.request.method().clone();
        match (operation, method) {
            ("embed: isactive", Method::GET) => match self.embed_user() {
                Ok(_) => json_response(StatusCode::OK, &json!({})),
                Err(why) => self.embed_unauthorized(why),
            },
            ("embed: session info", Method::GET) => match self.embed_user() {
                Ok((user, org)) => self.embed_info(&user, org),
                Err(why) => self.embed_unauthorized(why),
            },
            ("embed: preauth info", Method::GET) => match self.embed_user() {
                Ok((user, org)) => {
                    let info = self.embed_info_json(&user, org);
                    json_response(StatusCode::OK, &json!({ "info": info }))
                }
                Err(why) => self.embed_unauthorized(why),
            },
            ("embed: login token", Method::POST | Method::GET) => self.login_token(),
            // A test outside the process (a browser test, say) reads what a token carries,
            // as `FakeToken` shows it in process: only with the token itself.
            ("fake: token record", Method::GET) => match self.token() {
                Ok(t) => json_response(
                    StatusCode::OK,
                    &json!({
                        "user": t.user,
                        "org_id": t.org_id,
                        "access_level": t.access_level.as_str(),
                        "object_id": t.object_id,
                        "groups": t.groups,
                        "rules": t.rules,
                    }),
                ),
                Err(why) => self.embed_unauthorized(why),
            },
            ("embed: logout", Method::POST) => {
                if let Some(id) = self.session_id() {
                    self.state.sessions.remove(&id);
                }
                let mut response = plain(StatusCode::NO_CONTENT, Bytes::new());
                response.headers_mut().append(
                    header::SET_COOKIE,
                    HeaderValue::from_static("JSESSIONID=; Path=/; Max-Age=0; SameSite=None; Secure"),
                );
                response
            }
            ("embed: page", Method::GET) => page(),
            _ => plain(StatusCode::METHOD_NOT_ALLOWED, Bytes::new()),
        }
    }

    /// The user (and org) of this request: its live session cookie, else its bearer token
    /// (a full-access one; revoked or expired tokens are refused as on every path).
    fn embed_user(&self) -> Result<(String, u64), &'static str> {
        if let Some(id) = self.session_id() {
            let s = &self.state.sessions[&id];
            return Ok((s.user.clone(), s.org_id));
        }
        let token = self.token()?;
        if token.access_level != AccessLevel::Full {
            return Err("Token only grants view access to one object");
        }
        Ok((token.user.clone(), token.org_id))
    }

    fn embed_unauthorized(&mut self, why: &str) -> Response<Bytes> {
        json_response(
            StatusCode::UNAUTHORIZED,
            &json!({"type": "UNAUTHORIZED", "message": why}),
        )
    }

    /// Session info with the fields the SDK reads.
    fn embed_info_json(&self, user: &str, org: u64) -> serde_json::Value {
        let u = self.config.users.get(user);
        json!({
            "userGUID": u.map(|u| u.guid.as_str()),
            "userName": user,
            "userDisplayName": u.map(|u| u.display_name.as_str()),
            "releaseVersion": self.config.release_version,
            "currentOrgId": org,
            "privileges": u.map(|u| u.privileges.clone()).unwrap_or_default(),
            "configInfo": {
                "isPublicUser": false,
                "selfClusterId": "fake-thoughtspot",
                "selfClusterName": "fake ThoughtSpot",
                "mixpanelConfig": {"devSdkKey": "", "prodSdkKey": "", "production": false},
            },
        })
    }

    fn embed_info(&self, user: &str, org: u64) -> Response<Bytes> {
        json_response(StatusCode::OK, &self.embed_info_json(user, org))
    }

    /// `login/token`: `username` (optional) and `auth_token`, as a form body (POST) or as
    /// query parameters (GET); a session cookie a browser sends cross-site.
    fn login_token(&mut self) -> Response<Bytes> {
        let text = if self.request.method() == Method::GET {
            self.request.uri().query().unwrap_or("").to_owned()
        } else {
            String::from_utf8_lossy(self.request.body()).into_owned()
        };
        let fields: Vec<(String, String)> = url::form_urlencoded::parse(text.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let Some(token) = field("auth_token").filter(|t| !t.is_empty()) else {
            return self.embed_unauthorized("auth_token is missing");
        };
        let record = match self.state.tokens.get(token) {
            None => return self.embed_unauthorized("Invalid token"),
            Some(r) if r.revoked => return self.embed_unauthorized("Token has been revoked"),
            Some(r) if self.now >= r.expires_at => return self.embed_unauthorized("Token has expired"),
            Some(r) if r.access_level != AccessLevel::Full => {
                return self.embed_unauthorized("Token only grants view access to one object");
            }
            Some(r) => r.clone(),
        };
        if field("username").is_some_and(|u| !u.is_empty() && u != record.user) {
            return self.embed_unauthorized("The token belongs to another user");
        }
        let id = self.state.fresh_id("JS");
        self.state.sessions.insert(
            id.clone(),
            FakeSession {
                user: record.user.clone(),
                org_id: record.org_id,
                created_at: self.now,
                expires_at: self.now + self.config.session_lifetime,
                from_token: true,
                token: Some(token.to_owned()),
            },
        );
        let mut response = plain(StatusCode::NO_CONTENT, Bytes::new());
        // Sent cross-site by a browser only as `SameSite=None; Secure` (Chromium counts
        // http://localhost and 127.0.0.1 as secure).
        if let Ok(value) = HeaderValue::try_from(format!(
            "JSESSIONID={id}; Path=/; HttpOnly; SameSite=None; Secure"
        )) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
        response
    }
}

/// The page the SDK's iframe loads.
fn page() -> Response<Bytes> {
    let mut response = html(StatusCode::OK, "fake ThoughtSpot");
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

/// CORS as a cluster's allow-list answers it: for an origin on `allowed`, its exact origin
/// echoed with credentials (a preflight answered 204 with the methods and headers the SDK
/// sends); for any other origin, or with no list, no CORS header at all. `None` when the
/// request is not a preflight; `Some` answers it.
pub(crate) fn preflight(allowed: &[String], request: &Request<Bytes>) -> Option<Response<Bytes>> {
    if request.method() != Method::OPTIONS || !request.headers().contains_key(header::ORIGIN) {
        return None;
    }
    request.headers().get(header::ACCESS_CONTROL_REQUEST_METHOD)?;
    let mut response = plain(StatusCode::NO_CONTENT, Bytes::new());
    if allow(allowed, request.headers(), response.headers_mut()) {
        let headers = response.headers_mut();
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, PUT, DELETE, OPTIONS"),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("authorization, x-requested-by, content-type, accept, x-auth-token"),
        );
        headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
        Some(response)
    } else {
        // Not on the list: a preflight the browser will refuse.
        Some(plain(StatusCode::FORBIDDEN, Bytes::new()))
    }
}

/// Adds the CORS headers of an allowed origin to `out`; `false` for any other origin.
pub(crate) fn allow(allowed: &[String], request: &HeaderMap, out: &mut HeaderMap) -> bool {
    let Some(origin) = request.get(header::ORIGIN) else {
        return false;
    };
    if !allowed.iter().any(|a| a.as_bytes() == origin.as_bytes()) {
        return false;
    }
    out.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    out.insert(
        header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
        HeaderValue::from_static("true"),
    );
    out.append(header::VARY, HeaderValue::from_static("Origin"));
    true
}
