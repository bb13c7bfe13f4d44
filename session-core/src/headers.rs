//! Which headers carry credentials: their values are never printed and are marked
//! sensitive wherever the client or an error holds them.

use http::header::{self, HeaderName};

/// Headers whose values are credentials: never printed, marked sensitive.
pub(crate) fn is_sensitive_header(name: &HeaderName) -> bool {
    name == header::AUTHORIZATION
        || name == header::COOKIE
        || name == header::SET_COOKIE
        || name == header::PROXY_AUTHORIZATION
        || name.as_str() == "x-auth-token"
}
