//! The v2.0 successor of a beta request: what a client on REST API v2.0 sends for the
//! beta's get token.

use super::request::{GetFullAccessTokenRequest, GetObjectAccessTokenRequest};
use crate::error::InvalidRequest;
use crate::model::{AccessLevel, GetTokenRequest};

/// A beta get token request in v2.0 terms: `token/full`, or `token/object` for
/// `REPORT_BOOK_VIEW`.
#[derive(Debug)]
pub(crate) enum TokenRequest {
    Full(GetFullAccessTokenRequest),
    Object(GetObjectAccessTokenRequest),
}

impl TokenRequest {
    /// Maps `request`: `tokenExpiryDuration` becomes `validity_time_in_sec` and `orgId`
    /// becomes the integer `org_id` (anything else is refused, never guessed).
    pub(crate) fn from_beta(request: &GetTokenRequest) -> Result<Self, InvalidRequest> {
        let org_id = match request.org_id() {
            None => None,
            Some(org) => Some(org.trim().parse::<i32>().map_err(|_| {
                InvalidRequest::new("get token: REST API v2.0 takes an integer org id (orgId is not one)")
            })?),
        };
        macro_rules! options {
            ($r:expr) => {{
                let mut r = $r;
                if let Some(lifetime) = request.token_expiry() {
                    r = r.with_validity(lifetime);
                }
                if let Some(org) = org_id {
                    r = r.with_org_id(org);
                }
                r
            }};
        }
        let user = request.user_name();
        let neither = || InvalidRequest::new("get token: needs a password or a secret key");
        if request.effective_access_level() == AccessLevel::ReportBookView {
            let object = request.ts_object_id().unwrap_or_default();
            let r = match (request.secret_key(), request.password()) {
                (Some(key), _) => GetObjectAccessTokenRequest::with_secret_key(user, object, key.clone()),
                (None, Some(password)) => {
                    GetObjectAccessTokenRequest::with_password(user, object, password.clone())
                }
                (None, None) => return Err(neither()),
            };
            return Ok(Self::Object(options!(r)));
        }
        let r = match (request.secret_key(), request.password()) {
            (Some(key), _) => GetFullAccessTokenRequest::with_secret_key(user, key.clone()),
            (None, Some(password)) => GetFullAccessTokenRequest::with_password(user, password.clone()),
            (None, None) => return Err(neither()),
        };
        Ok(Self::Full(options!(r)))
    }
}
