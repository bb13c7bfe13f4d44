//! A test identity provider: Ed25519 keys generated in memory, a JWKS, and a sign-in that
//! signs ID tokens for whatever claims it is given. The service runs it at `/test-idp/` on
//! the embedded fake (so that the offline run needs nothing else); tests run it on a
//! loopback port of their own as the "real" issuer, and rotate its keys mid-run.
//!
//! **Anyone may sign in as anyone here.** The service refuses to run it unless both it and
//! the cluster are on loopback.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Map, Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

struct SigningKeyEntry {
    kid: String,
    encoding: EncodingKey,
    public: [u8; 32],
}

struct Keys {
    current: usize,
    all: Vec<SigningKeyEntry>,
    made: u64,
}

/// An in-memory OIDC issuer for tests and the offline run.
#[derive(Clone)]
pub struct TestIdp {
    issuer: String,
    audience: String,
    keys: Arc<Mutex<Keys>>,
}

impl std::fmt::Debug for TestIdp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestIdp")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

fn new_key(n: u64) -> SigningKeyEntry {
    let mut seed = zeroize::Zeroizing::new([0u8; 32]);
    // The OS's generator; should it fail, no key can be trusted: stop.
    getrandom::fill(seed.as_mut()).expect("the operating system's random generator failed");
    let signing = SigningKey::from_bytes(&seed);
    let der = signing.to_pkcs8_der().expect("an Ed25519 key always encodes");
    SigningKeyEntry {
        kid: format!(
            "test-{n}-{}",
            &URL_SAFE_NO_PAD.encode(signing.verifying_key().as_bytes())[..8]
        ),
        encoding: EncodingKey::from_ed_der(der.as_bytes()),
        public: signing.verifying_key().to_bytes(),
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

impl TestIdp {
    /// An issuer named `issuer` signing tokens for `audience`, with one fresh key.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            keys: Arc::new(Mutex::new(Keys {
                current: 0,
                all: vec![new_key(1)],
                made: 1,
            })),
        }
    }

    /// Its `iss`.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The `aud` its tokens carry.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// The `kid` it signs with now.
    pub fn current_kid(&self) -> String {
        let keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        keys.all[keys.current].kid.clone()
    }

    /// Makes a new key and signs with it from now on. With `retire`, the old keys leave the
    /// JWKS (a token they signed no longer verifies once the service fetches again).
    pub fn rotate(&self, retire: bool) -> String {
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        keys.made += 1;
        let key = new_key(keys.made);
        let kid = key.kid.clone();
        if retire {
            keys.all.clear();
        }
        keys.all.push(key);
        keys.current = keys.all.len() - 1;
        kid
    }

    /// The published key set.
    pub fn jwks(&self) -> Value {
        let keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        let keys: Vec<Value> = keys
            .all
            .iter()
            .map(|k| {
                json!({"kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA", "kid": k.kid,
                    "x": URL_SAFE_NO_PAD.encode(k.public)})
            })
            .collect();
        json!({ "keys": keys })
    }

    /// Signs `claims` exactly as given (tests craft expired or foreign tokens with it).
    pub fn sign_raw(&self, claims: &Value) -> String {
        self.sign_raw_with(claims, |_| {})
    }

    /// As [`sign_raw`](Self::sign_raw), with the header (`alg` EdDSA, `kid`, `typ` JWT)
    /// changed by `edit` first: tests craft `typ` and `crit` headers with it.
    pub fn sign_raw_with(&self, claims: &Value, edit: impl FnOnce(&mut Header)) -> String {
        let keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        let key = &keys.all[keys.current];
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(key.kid.clone());
        edit(&mut header);
        jsonwebtoken::encode(&header, claims, &key.encoding).expect("an Ed25519 key signs any JSON")
    }

    /// An ID token for `claims`, with `iss`, `aud`, `iat`, `exp` (an hour), `sub` (the
    /// `email`, if none is given) and, beside an `email`, `email_verified: true` (if not
    /// given: this provider takes every address as verified) added.
    pub fn sign(&self, claims: &Map<String, Value>) -> String {
        self.sign_for(claims, Duration::from_secs(3600))
    }

    /// As [`sign`](Self::sign), valid for `lifetime`.
    pub fn sign_for(&self, claims: &Map<String, Value>, lifetime: Duration) -> String {
        let mut all = claims.clone();
        let now = now();
        all.insert("iss".into(), self.issuer.clone().into());
        all.insert("aud".into(), self.audience.clone().into());
        all.insert("iat".into(), now.into());
        all.insert("exp".into(), (now + lifetime.as_secs()).into());
        if all.contains_key("email") && !all.contains_key("email_verified") {
            all.insert("email_verified".into(), true.into());
        }
        if !all.contains_key("sub") {
            let sub = all.get("email").cloned().unwrap_or_else(|| "test-user".into());
            all.insert("sub".into(), sub);
        }
        self.sign_raw(&Value::Object(all))
    }

    /// Its routes: `GET /jwks.json` and `POST /sign-in` (a JSON object of claims in, `{"id_token": …}`
    /// out), to nest under a path.
    pub fn router(&self) -> axum::Router {
        axum::Router::new()
            .route("/jwks.json", axum::routing::get(jwks))
            .route("/sign-in", axum::routing::post(sign_in))
            .with_state(self.clone())
    }
}

async fn jwks(State(idp): State<TestIdp>) -> Response {
    (
        [(axum::http::header::CACHE_CONTROL, "max-age=60")],
        Json(idp.jwks()),
    )
        .into_response()
}

async fn sign_in(State(idp): State<TestIdp>, body: axum::body::Bytes) -> Response {
    let claims: Map<String, Value> = match serde_json::from_slice(&body) {
        Ok(Value::Object(claims)) => claims,
        _ => {
            let body = json!({"error": "bad_claims", "message": "send the claims to sign as a JSON object"});
            return (StatusCode::BAD_REQUEST, Json(body)).into_response();
        }
    };
    Json(json!({ "id_token": idp.sign(&claims), "token_type": "Bearer" })).into_response()
}
