//! Fixed answers and the hand-written request and answer types of the raw clients.

use crate::*;
use bytes::Bytes;
use http_body_util::Full;
use serde::{Deserialize, Serialize};
use thoughtspot_session_core::GetTokenRequest;

pub(crate) const TOKEN_BODY: &str = r#"{"userName":"analyst","token":"eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.ZmFrZQ.c2ln","tokenCreatedTime":"1648051501240","tokenExpiryDuration":"1648052401240","tokenType":"Bearer"}"#;

pub(crate) const V2_TOKEN_BODY: &str = r#"{"token":"eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.ZmFrZQ.c2ln","creation_time_in_millis":1648051501240,"expiration_time_in_millis":1648052401240,"scope":{"access_type":"FULL","org_id":0,"metadata_id":null},"valid_for_user_id":"0f0e0d0c-0000-4000-8000-000000000001","valid_for_username":"analyst"}"#;

pub(crate) fn answer(path: &str) -> &'static str {
    if path.ends_with("/token/full") {
        V2_TOKEN_BODY
    } else if path.ends_with("/gettoken") || path.ends_with("/login") {
        TOKEN_BODY
    } else if path.ends_with("/session") {
        r#"{"userName":"analyst","privileges":["AUTHORING"]}"#
    } else {
        "true"
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawTokenRequest<'a> {
    pub(crate) user_name: &'a str,
    pub(crate) secret_key: &'a str,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub(crate) struct RawTokenResponse {
    pub(crate) user_name: Option<String>,
    pub(crate) token: Option<String>,
    pub(crate) token_created_time: Option<String>,
    pub(crate) token_expiry_duration: Option<String>,
    pub(crate) token_type: Option<String>,
}

/// The v2.0 token/full body, as a careful user writes it by hand.
#[derive(Serialize)]
pub(crate) struct RawFullTokenRequest<'a> {
    pub(crate) username: &'a str,
    pub(crate) secret_key: &'a str,
}

/// The v2.0 token/full answer, with the fields the SDK reads.
#[derive(Deserialize)]
#[allow(dead_code)]
pub(crate) struct RawFullToken {
    pub(crate) token: String,
    pub(crate) creation_time_in_millis: f64,
    pub(crate) expiration_time_in_millis: f64,
    pub(crate) scope: RawScope,
    pub(crate) valid_for_user_id: String,
    pub(crate) valid_for_username: String,
}

#[derive(Deserialize)]
#[allow(dead_code)]
pub(crate) struct RawScope {
    pub(crate) access_type: String,
    pub(crate) org_id: Option<i64>,
    pub(crate) metadata_id: Option<String>,
}

pub(crate) fn raw_full_request(uri: &http::Uri) -> http::Request<Full<Bytes>> {
    raw_post(
        uri,
        &RawFullTokenRequest {
            username: "analyst",
            secret_key: "trusted-key",
        },
    )
}

pub(crate) fn sdk_request() -> GetTokenRequest {
    GetTokenRequest::with_secret_key("analyst", "trusted-key")
}

pub(crate) fn v2_request() -> thoughtspot_session_core::v2::GetFullAccessTokenRequest {
    thoughtspot_session_core::v2::GetFullAccessTokenRequest::with_secret_key("analyst", "trusted-key")
}
