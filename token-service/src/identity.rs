//! Who is asking: a bearer JWT from the application's OIDC provider, verified against the
//! provider's JWKS (signature, `iss`, `aud`, `exp` and `nbf` with leeway) with
//! `jsonwebtoken`. Keys are fetched once, cached, fetched again when they age or when a
//! token names an unknown `kid` (at most once per `jwks_min_refresh_secs`).

use crate::config::IdentityConfig;
use crate::mapping::MapResult;
use bytes::Bytes;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use thoughtspot_session_core::HttpTransport;

/// The longest bearer token read, in bytes.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;
/// The largest JWKS document read, in bytes.
pub const MAX_JWKS_LEN: usize = 256 * 1024;
/// How many verified tokens are remembered.
pub const VERIFIED_CAPACITY: usize = 10_000;
/// The bound on one JWKS fetch.
pub const JWKS_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a bearer token was refused (answered 401). The texts name the reason, never the
/// token or a claim's value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection {
    /// No `Authorization: Bearer` header.
    Missing,
    /// Not a signed JWT (`alg: none`, not three parts, not base64url JSON, too long).
    Malformed,
    /// Signed with an algorithm not accepted.
    Algorithm,
    /// Signed by a key the provider does not publish.
    UnknownKey,
    /// The signature does not verify.
    Signature,
    /// `exp` has passed.
    Expired,
    /// `nbf` is still ahead.
    NotYetValid,
    /// `iss` is not the provider.
    Issuer,
    /// `aud` names no accepted audience.
    Audience,
    /// A claim that must be there is missing or of the wrong form.
    Claim(String),
    /// The `typ` header names a purpose other than the accepted ones (`logout+jwt`, say).
    Type,
    /// The `crit` header names an extension the service does not understand (RFC 7515
    /// §4.1.11: such a token must be refused).
    Critical,
    /// The token has several audiences and no `azp` naming an accepted one, or an `azp`
    /// naming another party (OpenID Connect Core §3.1.3.7).
    AuthorizedParty,
    /// The provider's keys could not be fetched (answered 503, not 401).
    KeysUnavailable,
}

impl Rejection {
    /// A short code for the answer and the metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::Missing => "missing_token",
            Rejection::Malformed => "malformed_token",
            Rejection::Algorithm => "algorithm_not_accepted",
            Rejection::UnknownKey => "unknown_signing_key",
            Rejection::Signature => "bad_signature",
            Rejection::Expired => "token_expired",
            Rejection::NotYetValid => "token_not_yet_valid",
            Rejection::Issuer => "wrong_issuer",
            Rejection::Audience => "wrong_audience",
            Rejection::Claim(_) => "missing_claim",
            Rejection::Type => "token_type_not_accepted",
            Rejection::Critical => "unsupported_critical_header",
            Rejection::AuthorizedParty => "wrong_authorized_party",
            Rejection::KeysUnavailable => "identity_provider_unavailable",
        }
    }
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rejection::Missing => {
                f.write_str("no bearer token: send the ID token as `Authorization: Bearer <token>`")
            }
            Rejection::Malformed => f.write_str("the bearer token is not a signed JWT"),
            Rejection::Algorithm => {
                f.write_str("the bearer token is signed with an algorithm that is not accepted")
            }
            Rejection::UnknownKey => {
                f.write_str("the bearer token is signed by a key the identity provider does not publish")
            }
            Rejection::Signature => f.write_str("the bearer token's signature does not verify"),
            Rejection::Expired => f.write_str("the bearer token has expired"),
            Rejection::NotYetValid => f.write_str("the bearer token is not valid yet (nbf)"),
            Rejection::Issuer => f.write_str("the bearer token is from another issuer"),
            Rejection::Audience => f.write_str("the bearer token is for another audience"),
            Rejection::Claim(c) => write!(f, "the bearer token lacks a valid {c} claim"),
            Rejection::Type => f.write_str("the bearer token is typed for another purpose (typ)"),
            Rejection::Critical => f.write_str(
                "the bearer token names a critical header extension that is not understood (crit)",
            ),
            Rejection::AuthorizedParty => f.write_str(
                "the bearer token has several audiences and no authorized party (azp) accepted here",
            ),
            Rejection::KeysUnavailable => f.write_str("the identity provider's keys cannot be fetched"),
        }
    }
}

/// A JWT `typ` as RFC 8725 §3.11 compares it: without case, without an `application/`
/// prefix.
fn media_type(typ: &str) -> String {
    let typ = typ.trim().to_ascii_lowercase();
    match typ.strip_prefix("application/") {
        Some(bare) => bare.to_owned(),
        None => typ,
    }
}

struct Key {
    key: DecodingKey,
    algorithm: Algorithm,
}

/// A caller whose token verified: its claims, and what the service derived from them.
pub struct Verified {
    /// The token's claims.
    pub claims: Map<String, Value>,
    /// What the service made of the claims, made once per token.
    pub mapped: MapResult,
    exp: u64,
    nbf: Option<u64>,
    kid: Option<String>,
    key: Arc<Key>,
}

impl std::fmt::Debug for Verified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verified")
            .field("exp", &self.exp)
            .finish_non_exhaustive()
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[derive(Default)]
struct Keys {
    by_kid: HashMap<String, Arc<Key>>,
    /// Keys with no `kid`, tried when a token names none.
    anonymous: Vec<Arc<Key>>,
    fetched_at: Option<Instant>,
    attempted_at: Option<Instant>,
}

/// Counts of key fetches, for the metrics.
#[derive(Debug, Default)]
pub struct FetchCounts {
    /// Fetches that brought a key set.
    pub ok: std::sync::atomic::AtomicU64,
    /// Fetches that failed.
    pub failed: std::sync::atomic::AtomicU64,
}

/// Verifies bearer JWTs. Cheap to share (`Arc`).
pub struct Verifier {
    config: IdentityConfig,
    algorithms: Vec<Algorithm>,
    /// The accepted `typ` values, as [`media_type`] reads them (made once).
    types: Vec<String>,
    transport: Arc<dyn HttpTransport>,
    keys: RwLock<Keys>,
    fetching: tokio::sync::Mutex<()>,
    verified: quick_cache::sync::Cache<Box<str>, Arc<Verified>>,
    /// Key fetches, by outcome.
    pub fetches: FetchCounts,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("issuer", &self.config.issuer)
            .field("audiences", &self.config.audiences)
            .field("jwks_url", &self.config.jwks_url)
            .finish_non_exhaustive()
    }
}

fn algorithm_of(jwk: &jsonwebtoken::jwk::Jwk) -> Option<Algorithm> {
    if let Some(alg) = jwk.common.key_algorithm {
        return match alg {
            KeyAlgorithm::RS256 => Some(Algorithm::RS256),
            KeyAlgorithm::RS384 => Some(Algorithm::RS384),
            KeyAlgorithm::RS512 => Some(Algorithm::RS512),
            KeyAlgorithm::PS256 => Some(Algorithm::PS256),
            KeyAlgorithm::PS384 => Some(Algorithm::PS384),
            KeyAlgorithm::PS512 => Some(Algorithm::PS512),
            KeyAlgorithm::ES256 => Some(Algorithm::ES256),
            KeyAlgorithm::ES384 => Some(Algorithm::ES384),
            KeyAlgorithm::EdDSA => Some(Algorithm::EdDSA),
            _ => None,
        };
    }
    match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Some(Algorithm::RS256),
        AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
            EllipticCurve::P256 => Some(Algorithm::ES256),
            EllipticCurve::P384 => Some(Algorithm::ES384),
            _ => None,
        },
        AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => {
            Some(Algorithm::EdDSA)
        }
        _ => None,
    }
}

impl Verifier {
    /// A verifier for `config`, fetching keys through `transport`.
    pub fn new(config: IdentityConfig, transport: Arc<dyn HttpTransport>) -> Self {
        let algorithms = config
            .algorithms
            .iter()
            .filter_map(|a| Algorithm::from_str(a).ok())
            .filter(|a| !matches!(a, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512))
            .collect();
        let types = config.typ.iter().map(|t| media_type(t)).collect();
        Self {
            config,
            algorithms,
            types,
            transport,
            keys: RwLock::new(Keys::default()),
            fetching: tokio::sync::Mutex::new(()),
            verified: quick_cache::sync::Cache::new(VERIFIED_CAPACITY),
            fetches: FetchCounts::default(),
        }
    }

    /// Whether keys have been fetched (for readiness).
    pub fn has_keys(&self) -> bool {
        self.keys.read().map(|k| k.fetched_at.is_some()).unwrap_or(false)
    }

    /// Whether a remembered verification still holds now: within `exp` (and `nbf`) with
    /// the leeway, its key still published under its `kid`, the keys fresh.
    fn still_valid(&self, v: &Verified) -> bool {
        let now = unix_now();
        let leeway = self.config.leeway_secs;
        if v.exp.saturating_add(leeway) < now || v.nbf.is_some_and(|nbf| nbf > now.saturating_add(leeway)) {
            return false;
        }
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        let fresh = keys
            .fetched_at
            .is_some_and(|at| at.elapsed() < Duration::from_secs(self.config.jwks_max_age_secs));
        let published = match &v.kid {
            Some(kid) => keys.by_kid.get(kid).is_some_and(|k| Arc::ptr_eq(k, &v.key)),
            None => keys.anonymous.iter().any(|k| Arc::ptr_eq(k, &v.key)),
        };
        fresh && published
    }

    /// Verifies `token` and answers the verified caller, with what `map` makes of its
    /// claims (kept with it while it is remembered).
    pub async fn verify(
        &self,
        token: &str,
        map: impl FnOnce(&Map<String, Value>) -> MapResult,
    ) -> Result<Arc<Verified>, Rejection> {
        if token.is_empty() || token.len() > MAX_TOKEN_LEN {
            return Err(Rejection::Malformed);
        }
        if let Some(v) = self.verified.get(token) {
            if self.still_valid(&v) {
                return Ok(v);
            }
            self.verified.remove(token);
        }
        let verified = Arc::new(self.verify_anew(token, map).await?);
        self.verified.insert(token.into(), verified.clone());
        Ok(verified)
    }

    async fn verify_anew(
        &self,
        token: &str,
        map: impl FnOnce(&Map<String, Value>) -> MapResult,
    ) -> Result<Verified, Rejection> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| Rejection::Malformed)?;
        if !self.algorithms.contains(&header.alg) {
            return Err(Rejection::Algorithm);
        }
        // No extension is understood here, so any `crit` (even an empty one, which RFC
        // 7515 forbids) refuses the token.
        if header.crit.is_some() {
            return Err(Rejection::Critical);
        }
        if let Some(typ) = &header.typ
            && !self.types.contains(&media_type(typ))
        {
            return Err(Rejection::Type);
        }
        let key = self.key(header.kid.as_deref(), header.alg).await?;
        if key.algorithm != header.alg {
            // The key is published for another algorithm: no confusion between them.
            return Err(Rejection::Algorithm);
        }
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_audience(&self.config.audiences);
        validation.leeway = self.config.leeway_secs;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        match jsonwebtoken::decode::<Map<String, Value>>(token, &key.key, &validation) {
            Ok(data) => {
                let seconds = |name: &str| {
                    data.claims
                        .get(name)
                        .and_then(Value::as_f64)
                        .map(|v| v.max(0.0) as u64)
                };
                let Some(exp) = seconds("exp") else {
                    return Err(Rejection::Claim("exp".into()));
                };
                // RFC 7519 §4.1.1: `iss` is one string (the library also takes an array).
                if data.claims.get("iss").and_then(Value::as_str) != Some(self.config.issuer.as_str()) {
                    return Err(Rejection::Issuer);
                }
                // OIDC Core §3.1.3.7: with several audiences, `azp` must name ours; an
                // `azp` present must be ours in any case.
                let several = data
                    .claims
                    .get("aud")
                    .and_then(Value::as_array)
                    .is_some_and(|a| a.len() > 1);
                match data.claims.get("azp") {
                    None if several => return Err(Rejection::AuthorizedParty),
                    None => {}
                    Some(azp) => {
                        let ours = azp
                            .as_str()
                            .is_some_and(|azp| self.config.audiences.iter().any(|a| a == azp));
                        if !ours {
                            return Err(Rejection::AuthorizedParty);
                        }
                    }
                }
                Ok(Verified {
                    exp,
                    nbf: seconds("nbf"),
                    kid: header.kid,
                    key,
                    mapped: map(&data.claims),
                    claims: data.claims,
                })
            }
            Err(e) => Err(match e.kind() {
                ErrorKind::ExpiredSignature => Rejection::Expired,
                ErrorKind::ImmatureSignature => Rejection::NotYetValid,
                ErrorKind::InvalidIssuer => Rejection::Issuer,
                ErrorKind::InvalidAudience => Rejection::Audience,
                ErrorKind::InvalidSignature => Rejection::Signature,
                ErrorKind::InvalidAlgorithm => Rejection::Algorithm,
                ErrorKind::MissingRequiredClaim(c) | ErrorKind::InvalidClaimFormat(c) => {
                    Rejection::Claim(c.clone())
                }
                _ => Rejection::Malformed,
            }),
        }
    }

    fn lookup(&self, kid: Option<&str>, alg: Algorithm) -> (Option<Arc<Key>>, bool, bool) {
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        let max_age = Duration::from_secs(self.config.jwks_max_age_secs);
        let stale = keys.fetched_at.is_none_or(|at| at.elapsed() >= max_age);
        let may_fetch = keys
            .attempted_at
            .is_none_or(|at| at.elapsed() >= Duration::from_secs(self.config.jwks_min_refresh_secs));
        let found = match kid {
            Some(kid) => keys.by_kid.get(kid).cloned(),
            None => keys.anonymous.iter().find(|k| k.algorithm == alg).cloned(),
        };
        (found, stale, may_fetch)
    }

    async fn key(&self, kid: Option<&str>, alg: Algorithm) -> Result<Arc<Key>, Rejection> {
        let (found, stale, may_fetch) = self.lookup(kid, alg);
        match found {
            Some(key) if !stale || !may_fetch => return Ok(key),
            // No key held at all is the provider's failure (503), not the caller's (401).
            None if !may_fetch && !self.has_keys() => return Err(Rejection::KeysUnavailable),
            None if !may_fetch => return Err(Rejection::UnknownKey),
            _ => {}
        }
        // One fetch at a time; whoever waited finds its result.
        let guard = self.fetching.lock().await;
        let (found, stale, may_fetch) = self.lookup(kid, alg);
        if let Some(key) = &found
            && (!stale || !may_fetch)
        {
            return Ok(key.clone());
        }
        if may_fetch {
            self.fetch().await;
        }
        drop(guard);
        let (after, _, _) = self.lookup(kid, alg);
        match after.or(found) {
            Some(key) => Ok(key),
            None if !self.has_keys() => Err(Rejection::KeysUnavailable),
            None => Err(Rejection::UnknownKey),
        }
    }

    /// Fetches the key set now; a failure keeps the keys held.
    async fn fetch(&self) {
        use std::sync::atomic::Ordering::Relaxed;
        self.keys.write().unwrap_or_else(|e| e.into_inner()).attempted_at = Some(Instant::now());
        match self.fetch_set().await {
            Ok(set) => {
                let mut fresh = Keys {
                    fetched_at: Some(Instant::now()),
                    attempted_at: Some(Instant::now()),
                    ..Keys::default()
                };
                for jwk in &set.keys {
                    if jwk
                        .common
                        .public_key_use
                        .as_ref()
                        .is_some_and(|u| !matches!(u, jsonwebtoken::jwk::PublicKeyUse::Signature))
                    {
                        continue;
                    }
                    let (Some(algorithm), Ok(key)) = (algorithm_of(jwk), DecodingKey::from_jwk(jwk)) else {
                        continue;
                    };
                    let key = Arc::new(Key { key, algorithm });
                    match &jwk.common.key_id {
                        Some(kid) => {
                            fresh.by_kid.insert(kid.clone(), key);
                        }
                        None => fresh.anonymous.push(key),
                    }
                }
                self.fetches.ok.fetch_add(1, Relaxed);
                tracing::info!(
                    keys = fresh.by_kid.len() + fresh.anonymous.len(),
                    "fetched the identity provider's keys"
                );
                *self.keys.write().unwrap_or_else(|e| e.into_inner()) = fresh;
            }
            Err(why) => {
                self.fetches.failed.fetch_add(1, Relaxed);
                tracing::warn!(reason = %why, "could not fetch the identity provider's keys");
            }
        }
    }

    async fn fetch_set(&self) -> Result<JwkSet, String> {
        let request = http::Request::get(&self.config.jwks_url)
            .header(http::header::ACCEPT, "application/json")
            .body(Bytes::new())
            .map_err(|e| format!("bad JWKS URL: {e}"))?;
        let response = tokio::time::timeout(JWKS_TIMEOUT, self.transport.send(request))
            .await
            .map_err(|_| format!("no answer within {JWKS_TIMEOUT:?}"))?
            .map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("the JWKS URL answered {}", response.status()));
        }
        let body = response.body();
        if body.len() > MAX_JWKS_LEN {
            return Err(format!("the key set is over {MAX_JWKS_LEN} bytes"));
        }
        serde_json::from_slice(body).map_err(|e| format!("the key set is not a JWKS: {e}"))
    }

    /// Fetches the keys if none are held yet and the refresh limit
    /// (`jwks_min_refresh_secs`) allows a fetch now: for readiness, which must not call
    /// the provider more often than callers may.
    pub async fn warm_if_due(&self) {
        let due = {
            let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
            keys.attempted_at
                .is_none_or(|at| at.elapsed() >= Duration::from_secs(self.config.jwks_min_refresh_secs))
        };
        if due {
            self.warm().await;
        }
    }

    /// Fetches the keys if none are held yet (at start, so that the first caller does not
    /// wait).
    pub async fn warm(&self) {
        if !self.has_keys() {
            let _guard = self.fetching.lock().await;
            if !self.has_keys() {
                self.fetch().await;
            }
        }
    }
}
