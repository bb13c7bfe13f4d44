//! How a client under `ApiVersion::Auto` picks the generation a cluster serves: v2.0 first,
//! the beta on a 404, settled by the first answer.

use super::SessionClient;
use crate::error::{ConfigError, Error};
use crate::transport::HttpTransport;
use crate::version::ApiVersion;
use std::future::Future;

impl<T: HttpTransport> SessionClient<T> {
    /// Runs the call of the generation in force; under `Auto` and unsettled, tries v2.0 and,
    /// on a 404, the beta, and settles the generation by the first that answered.
    pub(super) async fn by_generation<'a, O, B, BF, V, VF>(&'a self, beta: B, v2: V) -> Result<O, Error>
    where
        B: FnOnce() -> BF,
        BF: Future<Output = Result<O, Error>> + 'a,
        V: FnOnce() -> VF,
        VF: Future<Output = Result<O, Error>> + 'a,
    {
        let generation = &self.inner.generation;
        match generation.get() {
            ApiVersion::V2Beta => beta().await,
            ApiVersion::V2 => v2().await,
            _ => {
                let not_found = |r: &Result<O, Error>| matches!(r, Err(e) if e.status() == Some(http::StatusCode::NOT_FOUND));
                let answered = |r: &Result<O, Error>| r.as_ref().err().is_none_or(|e| e.status().is_some());
                let first = v2().await;
                if !not_found(&first) {
                    if answered(&first) {
                        generation.settle(ApiVersion::V2);
                    }
                    return first;
                }
                // Not held across the second call: it would grow this future by an answer.
                drop(first);
                let second = beta().await;
                if not_found(&second) {
                    return Err(ConfigError::new(
                        "neither REST API v2.0 (/api/rest/2.0/auth/...) nor v2 beta (/tspublic/rest/v2/session/...) \
                         is served at this base URL (both answered 404): check the base URL",
                    )
                    .into());
                }
                if answered(&second) {
                    generation.settle(ApiVersion::V2Beta);
                }
                second
            }
        }
    }
}
