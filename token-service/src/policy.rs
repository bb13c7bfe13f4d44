//! What the service decides with, built from a configuration and replaced whole on reload:
//! the tenants (each an identity provider's verifier and the mapping of its callers), the
//! per-user rate limiter and the recheck rule.
//!
//! A request loads the policy once, when it begins, and keeps it to its end: a reload
//! never changes the rules under a request in flight, and never drops one.
//!
//! With several tenants, the token's `iss` (read before verification, only to choose)
//! picks the tenants of that provider; among several, their `select` claim picks one. The
//! token is then verified with that tenant's provider alone (its keys, `iss`, audiences),
//! and its claims are mapped with that tenant's rules alone, `select` checked again on
//! the verified claims. A token matching no tenant gets no token.

use crate::config::{Config, ConfigError, IdentityConfig, SelectConfig};
use crate::identity::{Rejection, Verified, Verifier};
use crate::mapping::{MapResult, Mapping, Unmapped};
use crate::recheck::Recheck;
use crate::test_idp::TestIdp;
use base64::Engine;
use governor::{DefaultKeyedRateLimiter, Quota};
use serde_json::{Map, Value};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;
use thoughtspot_session_core::HttpTransport;

/// One tenant: its provider's verifier and its callers' mapping.
pub struct Tenant {
    name: Arc<str>,
    issuer: String,
    verifier: Arc<Verifier>,
    mapping: Mapping,
    select: Option<SelectConfig>,
}

impl std::fmt::Debug for Tenant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tenant")
            .field("name", &self.name)
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl Tenant {
    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its provider's verifier.
    pub fn verifier(&self) -> &Arc<Verifier> {
        &self.verifier
    }

    fn map(&self, claims: &Map<String, Value>) -> MapResult {
        if let Some(select) = &self.select
            && !select.matches(claims)
        {
            return Err(Unmapped {
                code: "no_tenant",
                message: format!(
                    "the token's {} claim picks no tenant of its identity provider",
                    select.claim
                ),
            });
        }
        self.mapping.map(claims)
    }
}

/// Where verifiers fetch keys: the provider over HTTP, or the built-in test provider in
/// process.
#[derive(Clone)]
pub struct KeySources {
    /// The client that fetches providers' key sets (under its own size cap).
    pub http: Arc<dyn HttpTransport>,
    /// The built-in test identity provider, when it runs.
    pub test_idp: Option<TestIdp>,
}

impl std::fmt::Debug for KeySources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySources")
            .field("test_idp", &self.test_idp)
            .finish_non_exhaustive()
    }
}

/// Answers the test identity provider's key set to the verifier in process, with no HTTP
/// call to the service itself.
#[derive(Clone, Debug)]
struct InProcessJwks(TestIdp);

#[async_trait::async_trait]
impl HttpTransport for InProcessJwks {
    async fn send(
        &self,
        _request: ::http::Request<bytes::Bytes>,
    ) -> Result<::http::Response<bytes::Bytes>, thoughtspot_session_core::TransportError> {
        let body = bytes::Bytes::from(self.0.jwks().to_string());
        Ok(::http::Response::new(body))
    }
}

/// The rate limiter and the quota it was made for.
struct Limiter {
    quota: (u32, u32),
    limiter: DefaultKeyedRateLimiter<String>,
}

/// The tenants, the rate limiter and the recheck rule in force.
pub struct Policy {
    tenants: Vec<Tenant>,
    limiter: Arc<Limiter>,
    recheck: Arc<Recheck>,
}

impl std::fmt::Debug for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policy")
            .field("tenants", &self.tenants)
            .finish_non_exhaustive()
    }
}

/// The largest JWT payload read to choose a tenant (the whole token is bounded too).
const MAX_PAYLOAD: usize = crate::identity::MAX_TOKEN_LEN;

/// The claims of a JWT, unverified: only to choose whose keys verify it.
fn unverified_claims(token: &str) -> Option<Map<String, Value>> {
    let mut parts = token.split('.');
    let (_, payload) = (parts.next()?, parts.next()?);
    if payload.len() > MAX_PAYLOAD {
        return None;
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

impl Policy {
    /// The policy `config` describes. Tenants kept from `previous` (same name and key-set
    /// settings) keep their provider's keys, so a reload fetches no key set again; every
    /// verification and mapping is made anew under the new rules.
    pub fn build(
        config: &Config,
        sources: &KeySources,
        previous: Option<&Policy>,
    ) -> Result<Policy, ConfigError> {
        let mut tenants = Vec::new();
        for view in config.tenant_views() {
            let (identity, transport): (IdentityConfig, Arc<dyn HttpTransport>) =
                match (view.identity, &sources.test_idp) {
                    (Some(identity), _) => (identity.clone(), sources.http.clone()),
                    (None, Some(idp)) => (
                        IdentityConfig::for_issuer(
                            idp.issuer(),
                            idp.audience(),
                            format!("{}/jwks.json", idp.issuer()),
                        ),
                        Arc::new(InProcessJwks(idp.clone())),
                    ),
                    (None, None) => return Err(ConfigError("no identity provider".into())),
                };
            let before = previous.and_then(|p| p.tenants.iter().find(|t| &*t.name == view.name));
            let verifier = Verifier::sharing_keys(identity, transport, before.map(|t| &*t.verifier));
            tenants.push(Tenant {
                name: view.name.into(),
                issuer: verifier.issuer().to_owned(),
                verifier: Arc::new(verifier),
                mapping: Mapping::new(view.mapping.clone(), view.abac)?,
                select: view.select.cloned(),
            });
        }
        let limits = &config.limits;
        let quota = (limits.per_user_per_minute, limits.per_user_burst);
        // Unchanged limits keep the limiter, and with it every user's state.
        let limiter = match previous {
            Some(p) if p.limiter.quota == quota => p.limiter.clone(),
            _ => {
                let per_minute = NonZeroU32::new(quota.0).unwrap_or(NonZeroU32::MIN);
                let burst = NonZeroU32::new(quota.1).unwrap_or(NonZeroU32::MIN);
                Arc::new(Limiter {
                    quota,
                    limiter: DefaultKeyedRateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst)),
                })
            }
        };
        let after = Duration::from_secs(limits.token_recheck_secs);
        let recheck = match previous {
            Some(p) if p.recheck.after() == after => p.recheck.clone(),
            _ => Arc::new(Recheck::new(after)),
        };
        Ok(Policy {
            tenants,
            limiter,
            recheck,
        })
    }

    /// The tenants.
    pub fn tenants(&self) -> &[Tenant] {
        &self.tenants
    }

    /// The per-user rate limiter.
    pub fn limiter(&self) -> &DefaultKeyedRateLimiter<String> {
        &self.limiter.limiter
    }

    /// When cached tokens are checked at the cluster.
    pub fn recheck(&self) -> &Recheck {
        &self.recheck
    }

    /// The tenant whose provider is to verify `token`: the only one, or the one its
    /// unverified `iss` (and `select` claim) picks. `None`: no tenant's provider issued it.
    fn tenant_for(&self, token: &str) -> Result<&Tenant, Rejection> {
        if let [only] = self.tenants.as_slice() {
            return Ok(only);
        }
        let claims = unverified_claims(token).ok_or(Rejection::Malformed)?;
        let issuer = claims
            .get("iss")
            .and_then(Value::as_str)
            .ok_or(Rejection::Issuer)?;
        let mut of_issuer = self.tenants.iter().filter(|t| t.issuer == issuer).peekable();
        let first = of_issuer.peek().copied().ok_or(Rejection::Issuer)?;
        // With several, the select claim picks; none matching is verified by the first,
        // whose mapping then refuses it (no_tenant) once the token is shown genuine.
        Ok(of_issuer
            .find(|t| t.select.as_ref().is_some_and(|s| s.matches(&claims)))
            .unwrap_or(first))
    }

    /// Verifies `token` with the provider of its tenant and maps its claims with that
    /// tenant's rules.
    pub async fn verify(&self, token: &str) -> Result<Arc<Verified>, Rejection> {
        let tenant = self.tenant_for(token)?;
        if self.tenants.len() > 1 {
            tracing::Span::current().record("tenant", tenant.name());
        }
        tenant.verifier.verify(token, |claims| tenant.map(claims)).await
    }

    /// Fetches the keys of every provider that holds none yet, together, each within its
    /// refresh limit and [`crate::identity::JWKS_TIMEOUT`].
    pub async fn warm(&self) {
        let mut fetches = tokio::task::JoinSet::new();
        for tenant in &self.tenants {
            let verifier = tenant.verifier.clone();
            fetches.spawn(async move { verifier.warm().await });
        }
        let _ = tokio::time::timeout(crate::identity::JWKS_TIMEOUT, fetches.join_all()).await;
    }

    /// Forgets rate-limit state of users idle long enough to be back at full burst.
    pub fn prune(&self) {
        self.limiter.limiter.retain_recent();
        self.limiter.limiter.shrink_to_fit();
    }
}
