//! How a client under `ApiVersion::Auto` picks the generation a cluster serves: v2.0 first,
//! the beta on a 404, settled by the first answer.

use super::SessionClient;
use crate::error::{ConfigError, Error};
use crate::transport::HttpTransport;
use crate::version::ApiVersion;
use std::future::Future;

/// Which generation's error shape a body is in: v2.0 writes `{"error": {"message": {...}}}`,
/// the beta `{"error": {"errors": ...}}`.
fn error_shape(body: &[u8]) -> Option<ApiVersion> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let error = value.get("error")?.as_object()?;
    if error.get("message").is_some_and(serde_json::Value::is_object) {
        Some(ApiVersion::V2)
    } else if error.contains_key("errors") {
        Some(ApiVersion::V2Beta)
    } else {
        None
    }
}

/// Whether `result`, the answer to a call on `generation`'s paths, proves that the cluster
/// serves that generation: a 2xx that decoded, a 400, 401, 403 or 405 (the application
/// answered, not a proxy's page for a path it does not know), or any status with a body in
/// that generation's error shape. A 503, a 429, a redirect or an HTML page proves nothing.
fn proves<O>(result: &Result<O, Error>, generation: ApiVersion) -> bool {
    let (status, body) = match result {
        Ok(_) => return true,
        Err(Error::Api(e)) => (e.status(), e.body()),
        Err(Error::Status(e)) => (e.status(), e.body()),
        Err(_) => return false,
    };
    matches!(status.as_u16(), 400 | 401 | 403 | 405) || error_shape(body) == Some(generation)
}

impl<T: HttpTransport> SessionClient<T> {
    /// Runs the call of the generation in force; under `Auto` and unsettled, tries v2.0 and,
    /// on a 404 (or a request v2.0 cannot take), the beta, and settles the generation only
    /// on an answer that proves it (see `proves`).
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
                // A 404 proves nothing either, unless its body is in v2.0's error shape.
                let not_found = |r: &Result<O, Error>, generation| {
                    matches!(r, Err(e) if e.status() == Some(http::StatusCode::NOT_FOUND))
                        && !proves(r, generation)
                };
                let first = v2().await;
                if matches!(first, Err(Error::InvalidRequest(_))) {
                    // Refused before sending (a beta org id v2.0 cannot take): the beta may
                    // take it. That proves nothing of the cluster, so nothing is settled.
                    drop(first);
                    return beta().await;
                }
                if !not_found(&first, ApiVersion::V2) {
                    if proves(&first, ApiVersion::V2) {
                        generation.settle(ApiVersion::V2);
                    }
                    return first;
                }
                // Not held across the second call: it would grow this future by an answer.
                drop(first);
                let second = beta().await;
                if not_found(&second, ApiVersion::V2Beta) {
                    return Err(ConfigError::new(
                        "neither REST API v2.0 (/api/rest/2.0/auth/...) nor v2 beta (/tspublic/rest/v2/session/...) \
                         is served at this base URL (both answered 404): check the base URL",
                    )
                    .into());
                }
                if proves(&second, ApiVersion::V2Beta) {
                    generation.settle(ApiVersion::V2Beta);
                }
                second
            }
        }
    }
}
