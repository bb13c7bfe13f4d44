//! Who is asking: a bearer JWT from the application's OIDC provider, verified against the
//! provider's JWKS (signature, `iss`, `aud`, `exp` and `nbf` with leeway) with
//! `jsonwebtoken`. The keys are held by [`crate::keys`]: fetched apart from any caller,
//! one fetch at a time, again when they age or when a token names an unknown `kid` (at
//! most once per `jwks_min_refresh_secs`); its docs state the bounds.

use crate::config::IdentityConfig;
use crate::keys::{FetchCounts, Key, KeyRing};
use crate::mapping::MapResult;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde_json::{Map, Value};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
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

/// Verifies bearer JWTs. Cheap to share (`Arc`).
pub struct Verifier {
    config: IdentityConfig,
    algorithms: Vec<Algorithm>,
    /// The accepted `typ` values, as [`media_type`] reads them (made once).
    types: Vec<String>,
    ring: Arc<KeyRing>,
    verified: quick_cache::sync::Cache<Box<str>, Arc<Verified>>,
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
            algorithms,
            types,
            ring: Arc::new(KeyRing::new(
                config.jwks_url.clone(),
                Duration::from_secs(config.jwks_min_refresh_secs),
                Duration::from_secs(config.jwks_max_age_secs),
                transport,
            )),
            config,
            verified: quick_cache::sync::Cache::new(VERIFIED_CAPACITY),
        }
    }

    /// As [`new`](Self::new), holding the keys of `previous` when it fetches them from the
    /// same place under the same refresh settings (a reload: no key set is fetched again).
    /// Verifications are never carried over: each is made anew under the new settings.
    pub fn sharing_keys(
        config: IdentityConfig,
        transport: Arc<dyn HttpTransport>,
        previous: Option<&Verifier>,
    ) -> Self {
        let mut verifier = Self::new(config, transport);
        if let Some(previous) = previous {
            let (a, b) = (&verifier.config, &previous.config);
            if a.jwks_url == b.jwks_url
                && a.jwks_min_refresh_secs == b.jwks_min_refresh_secs
                && a.jwks_max_age_secs == b.jwks_max_age_secs
            {
                verifier.ring = previous.ring.clone();
            }
        }
        verifier
    }

    /// The issuer whose tokens it verifies.
    pub fn issuer(&self) -> &str {
        &self.config.issuer
    }

    /// Whether keys have been fetched (for readiness).
    pub fn has_keys(&self) -> bool {
        self.ring.has_keys()
    }

    /// Key fetches, by outcome (for the metrics).
    pub fn fetches(&self) -> &FetchCounts {
        &self.ring.fetches
    }

    /// Whether a remembered verification still holds now: within `exp` (and `nbf`) with
    /// the leeway, its key still published under its `kid`, the keys fresh.
    fn still_valid(&self, v: &Verified) -> bool {
        let now = unix_now();
        let leeway = self.config.leeway_secs;
        if v.exp.saturating_add(leeway) < now || v.nbf.is_some_and(|nbf| nbf > now.saturating_add(leeway)) {
            return false;
        }
        self.ring.still_published(v.kid.as_deref(), &v.key)
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

    /// The key a token names: held, or brought by the fetch in flight (joined, bounded by
    /// [`crate::keys::JOIN_WAIT`]) or by one started now when the refresh limit allows.
    async fn key(&self, kid: Option<&str>, alg: Algorithm) -> Result<Arc<Key>, Rejection> {
        let held = self.ring.lookup(kid, alg);
        if let Some(key) = &held.key
            && !held.stale
        {
            return Ok(key.clone());
        }
        // Unknown, or the set is stale: join (or start) the fetch, detached from us.
        if let Some(running) = self.ring.begin() {
            KeyRing::join(running).await;
        }
        // Looked up again in any case: a fetch may have ended since the first lookup.
        match self.ring.lookup(kid, alg).key.or(held.key) {
            Some(key) => Ok(key),
            // No key held at all is the provider's failure (503), not the caller's (401).
            None if !self.has_keys() => Err(Rejection::KeysUnavailable),
            None => Err(Rejection::UnknownKey),
        }
    }

    /// Fetches the keys if none are held yet and the refresh limit
    /// (`jwks_min_refresh_secs`) allows a fetch now (or joins the fetch in flight), and
    /// waits for it at most [`crate::keys::JOIN_WAIT`]: at start, so that the first
    /// caller does not wait, and for readiness, which never calls the provider more often
    /// than callers may.
    pub async fn warm(&self) {
        if !self.has_keys()
            && let Some(running) = self.ring.begin()
        {
            KeyRing::join(running).await;
        }
    }
}
