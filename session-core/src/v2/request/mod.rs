//! REST API v2.0 request bodies: snake_case keys in the spec's schema order, unset fields
//! omitted (never `null`), numbers as JSON numbers, secrets written only on the wire.
//!
//! One file per endpoint family; the helpers they share are here.

mod custom;
mod login;
mod revoke;
mod runtime;
mod settings;
mod token;

pub use custom::*;
pub use login::*;
pub use revoke::*;
pub use runtime::*;
pub use settings::*;
pub use token::*;

use crate::error::InvalidRequest;
use std::time::Duration;

/// Any of the three token requests of REST API v2.0: what
/// [`SessionApi::get_v2_token`](crate::SessionApi::get_v2_token) sends, and what a
/// [`TokenManager`](crate::TokenManager) asks for a key with groups or rules.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum AnyTokenRequest {
    /// `token/full`.
    Full(GetFullAccessTokenRequest),
    /// `token/object`.
    Object(GetObjectAccessTokenRequest),
    /// `token/custom`.
    Custom(GetCustomAccessTokenRequest),
}

/// Whole seconds of `lifetime`, rounded up, at most `i32::MAX` (the field is an int32).
pub(super) fn validity_secs(lifetime: Duration) -> i32 {
    let secs = lifetime.as_secs() + u64::from(lifetime.subsec_nanos() > 0);
    i32::try_from(secs).unwrap_or(i32::MAX)
}

pub(super) fn non_empty(what: &str, value: &str) -> Result<(), InvalidRequest> {
    if value.trim().is_empty() {
        return Err(InvalidRequest::new(format!("{what} is empty")));
    }
    Ok(())
}

/// A lifetime asked must be at least one second: `validity_time_in_sec` 0 is refused.
pub(super) fn positive_validity(operation: &str, validity: Option<i32>) -> Result<(), InvalidRequest> {
    match validity {
        Some(secs) if secs <= 0 => Err(InvalidRequest::new(format!(
            "{operation}: a token lifetime must be at least one second"
        ))),
        _ => Ok(()),
    }
}
