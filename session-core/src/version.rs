//! `ApiVersion`: which generation of the REST API a client speaks, and auto-detection.

use std::sync::atomic::{AtomicU8, Ordering};

/// The generation of ThoughtSpot's REST API that [`SessionApi`](crate::SessionApi)'s five
/// operations go to. [`AuthApi`](crate::v2::AuthApi) always speaks v2.0.
///
/// | version | paths | pick it for |
/// |---|---|---|
/// | `V2Beta` | `/tspublic/rest/v2/session/...` | clusters older than 9.0.0.cl, or code that depends on the beta's answers |
/// | `V2` (default) | `/api/rest/2.0/auth/...` | every current cluster (9.0.0.cl and later); the beta is deprecated |
/// | `Auto` | v2.0 first; on a 404, the beta | a tool that meets clusters of both ages |
///
/// Under `V2` the operations map to their successors and return the same types: get
/// session info reads `session/user`, login posts v2.0 login (its answer says a cookie
/// session started), logout posts v2.0 logout, get token posts `token/full` (or
/// `token/object` for `REPORT_BOOK_VIEW`), revoke token posts `token/revoke` with the
/// client's token in the body.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ApiVersion {
    /// REST API v2 beta, the original `SessionController`.
    V2Beta,
    /// REST API v2.0.
    #[default]
    V2,
    /// v2.0 first; a 404 for the v2.0 path sends the same call to the beta path. The first
    /// answer settles the generation for the client and its clones
    /// ([`SessionClient::api_version`](crate::SessionClient::api_version) then says which).
    Auto,
}

const UNSETTLED: u8 = 0;
const BETA: u8 = 1;
const V2: u8 = 2;

/// The generation a client speaks: set at build, or settled by the first answer of `Auto`.
#[derive(Debug)]
pub(crate) struct Generation(AtomicU8);

impl Generation {
    pub(crate) fn new(version: ApiVersion) -> Self {
        Self(AtomicU8::new(match version {
            ApiVersion::V2Beta => BETA,
            ApiVersion::V2 => V2,
            ApiVersion::Auto => UNSETTLED,
        }))
    }

    /// The generation in force; `Auto` while unsettled.
    pub(crate) fn get(&self) -> ApiVersion {
        match self.0.load(Ordering::Acquire) {
            BETA => ApiVersion::V2Beta,
            V2 => ApiVersion::V2,
            _ => ApiVersion::Auto,
        }
    }

    /// Settles an unsettled generation (a settled one stays as it is).
    pub(crate) fn settle(&self, version: ApiVersion) {
        let value = if version == ApiVersion::V2 { V2 } else { BETA };
        let _ = self
            .0
            .compare_exchange(UNSETTLED, value, Ordering::AcqRel, Ordering::Acquire);
    }
}
