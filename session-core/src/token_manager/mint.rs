//! The REST API v2.0 request the manager sends for a key with groups or rules.

use super::key::TokenKey;
use crate::error::{Error, InvalidRequest};
use crate::secret::SecretKey;
use crate::v2::{
    AnyTokenRequest, GetCustomAccessTokenRequest, GetFullAccessTokenRequest, GetObjectAccessTokenRequest,
    GroupRef,
};
use std::time::Duration;

/// The REST API v2.0 request for a key with groups or rules: `token/custom` when it has
/// rules, else `token/full` or `token/object` with the groups (JIT provisioning, so
/// `auto_create` is on).
pub(super) fn v2_request(
    key: &TokenKey,
    secret_key: &SecretKey,
    lifetime: Option<Duration>,
) -> Result<AnyTokenRequest, Error> {
    if let Some(rules) = &key.rules {
        if key.object_id.is_some() {
            return Err(InvalidRequest::new(
                "a custom (ABAC) token cannot be scoped to one object: drop the object or the rules",
            )
            .into());
        }
        let mut request = rules.apply(GetCustomAccessTokenRequest::with_secret_key(
            key.user.as_str(),
            secret_key.clone(),
            rules.persist_option(),
        ));
        if let Some(org) = &key.org {
            request = request.with_org_identifier(org.as_str());
        }
        if !key.groups.is_empty() {
            request = request.with_groups(key.groups.iter().map(GroupRef::new));
        }
        if let Some(lifetime) = lifetime {
            request = request.with_validity(lifetime);
        }
        return Ok(AnyTokenRequest::Custom(request));
    }
    let org = match &key.org {
        Some(org) => Some(org.parse::<i32>().map_err(|_| {
            InvalidRequest::new(
                "token/full and token/object take an integer org id: the key's org is not one",
            )
        })?),
        None => None,
    };
    macro_rules! with_common {
        ($request:expr) => {{
            let mut request = $request
                .with_group_identifiers(key.groups.iter().map(String::as_str))
                .with_auto_create(true);
            if let Some(org) = org {
                request = request.with_org_id(org);
            }
            if let Some(lifetime) = lifetime {
                request = request.with_validity(lifetime);
            }
            request
        }};
    }
    Ok(match &key.object_id {
        Some(object) => AnyTokenRequest::Object(with_common!(GetObjectAccessTokenRequest::with_secret_key(
            key.user.as_str(),
            object.as_str(),
            secret_key.clone()
        ))),
        None => AnyTokenRequest::Full(with_common!(GetFullAccessTokenRequest::with_secret_key(
            key.user.as_str(),
            secret_key.clone()
        ))),
    })
}
