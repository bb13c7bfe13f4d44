//! The service's configuration: a TOML file (see `token-service.sample.toml`), then the
//! environment over it. Secrets are never read from the file or from arguments: only from
//! the environment or from files the environment names.

use serde::Deserialize;
use std::path::Path;
use std::time::Duration;
use thoughtspot_session_core::SecretKey;

/// The whole configuration. Every field has a safe default; see the sample file for each.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct Config {
    /// The address to serve on (`TOKEN_SERVICE_ADDR`).
    pub listen: String,
    /// A second listener for `/healthz`, `/readyz` and `/metrics`, which then leave the
    /// main one (`TOKEN_SERVICE_ADMIN_ADDR`): keep probes and scrapes off the address the
    /// internet reaches. The sample puts it on loopback; in a pod, name the pod's address
    /// for the kubelet's probes.
    pub admin_listen: Option<String>,
    /// The exact origins whose pages may call the service, with credentials
    /// (`TOKEN_SERVICE_ORIGINS`, comma-separated). None: no browser may read the answers.
    pub allowed_origins: Vec<String>,
    /// Log lines: `json` (the default), `text` or `off` (`TOKEN_SERVICE_LOG`).
    pub log: LogFormat,
    /// The cluster asked for tokens.
    pub cluster: ClusterConfig,
    /// Who may ask: the application's OIDC provider. Required against a real cluster.
    pub identity: Option<IdentityConfig>,
    /// The built-in test identity provider (`/test-idp/`): anyone may sign in as anyone.
    /// Refused unless the cluster is the embedded fake or on loopback and the service
    /// listens on loopback. On by default only on the embedded fake with no `identity`.
    pub test_idp: Option<bool>,
    /// How claims become the cluster user, org and groups.
    pub mapping: MappingConfig,
    /// How claims become row-level (ABAC) rules.
    pub abac: AbacConfig,
    /// Rate limits, timeouts and sizes.
    pub limits: LimitsConfig,
    /// The shared token cache, when several replicas run.
    pub redis: Option<RedisConfig>,
    /// Several identity providers or rule sets in one deployment, each with its own
    /// audiences, mapping, rules and orgs (`[[tenants]]`). With tenants, the top-level
    /// `[identity]`, `[mapping]` and `[abac]` are refused: each tenant names its own.
    pub tenants: Vec<TenantConfig>,
    /// Whether the file wrote a top-level `[identity]`, `[mapping]` or `[abac]`.
    #[serde(skip)]
    top_level_policy: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8787".to_owned(),
            admin_listen: None,
            allowed_origins: Vec::new(),
            log: LogFormat::Json,
            cluster: ClusterConfig::default(),
            identity: None,
            test_idp: None,
            mapping: MappingConfig::default(),
            abac: AbacConfig::default(),
            limits: LimitsConfig::default(),
            redis: None,
            tenants: Vec::new(),
            top_level_policy: false,
        }
    }
}

/// One tenant: an identity provider (chosen by the token's `iss`) and the mapping, rules
/// and orgs its callers get. Tenants that share an issuer are told apart by `select`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct TenantConfig {
    /// A name for logs, metrics and readiness (not a secret; unique).
    pub name: String,
    /// The provider whose tokens this tenant takes.
    pub identity: IdentityConfig,
    /// How its callers' claims become the cluster user, org and groups. Each tenant names
    /// its orgs: a fixed `org`, or `org_claim` with `orgs_allowed`; no org is shared
    /// between tenants, so one tenant's callers never get another's org.
    #[serde(default)]
    pub mapping: MappingConfig,
    /// Its row-level rules.
    #[serde(default)]
    pub abac: AbacConfig,
    /// Among tenants sharing an issuer: the claim and values that pick this one (a rule
    /// set per org, say). A token matching none is refused.
    #[serde(default)]
    pub select: Option<SelectConfig>,
}

/// Which tokens of an issuer a tenant takes: those whose `claim` is one of `values`.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SelectConfig {
    /// The claim read (a string or a number).
    pub claim: String,
    /// The values that pick the tenant.
    pub values: Vec<String>,
}

impl SelectConfig {
    /// Whether `claims` pick the tenant.
    pub fn matches(&self, claims: &serde_json::Map<String, serde_json::Value>) -> bool {
        let value = match claims.get(&self.claim) {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Number(n)) => n.to_string(),
            _ => return false,
        };
        self.values.contains(&value)
    }
}

/// A tenant as the service runs it: the single one of a configuration without
/// `[[tenants]]` (named `default`), or one of the list.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TenantView<'a> {
    /// Its name.
    pub name: &'a str,
    /// Its provider; `None` for the built-in test identity provider.
    pub identity: Option<&'a IdentityConfig>,
    /// Its mapping.
    pub mapping: &'a MappingConfig,
    /// Its rules.
    pub abac: &'a AbacConfig,
    /// What picks it among tenants sharing its issuer.
    pub select: Option<&'a SelectConfig>,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum LogFormat {
    /// One JSON object a line.
    Json,
    /// Human-readable lines.
    Text,
    /// None.
    Off,
}

/// The cluster.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct ClusterConfig {
    /// Its base URL (`TS_BASE_URL`). None: the embedded fake cluster, for trying the service.
    /// The secret key comes from `TS_SECRET_KEY` or the file `TS_SECRET_KEY_FILE` names.
    pub url: Option<String>,
    /// The API generation: `v2` (REST API v2.0, the default) or `v2-beta` (`TS_API`). ABAC
    /// rules and groups need `v2`.
    pub api: Api,
    /// The lifetime asked for each token, in seconds.
    pub token_lifetime_secs: u64,
    /// The bound on one cluster call, in milliseconds.
    pub timeout_ms: u64,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        Self {
            url: None,
            api: Api::V2,
            token_lifetime_secs: 600,
            timeout_ms: 10_000,
        }
    }
}

/// The cluster's API generation.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub enum Api {
    /// REST API v2.0 (`/api/rest/2.0/auth/`).
    #[serde(rename = "v2")]
    V2,
    /// The v2 beta `SessionController`.
    #[serde(rename = "v2-beta")]
    V2Beta,
}

/// The application's OIDC provider, whose ID tokens (or JWT access tokens) callers present
/// as `Authorization: Bearer`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct IdentityConfig {
    /// The `iss` the tokens must carry (`OIDC_ISSUER`).
    pub issuer: String,
    /// The `aud` values accepted: a token must name one (`OIDC_AUDIENCE`, comma-separated).
    pub audiences: Vec<String>,
    /// Where the provider publishes its keys (`OIDC_JWKS_URL`).
    pub jwks_url: String,
    /// The signature algorithms accepted (default `RS256`, `ES256`, `EdDSA`). `none` and the
    /// HMAC ones are never accepted: a JWKS holds public keys.
    #[serde(default = "default_algorithms")]
    pub algorithms: Vec<String>,
    /// Clock leeway for `exp` and `nbf`, in seconds (default 30).
    #[serde(default = "default_leeway")]
    pub leeway_secs: u64,
    /// The least time between two key fetches, in seconds (default 30): a new key is
    /// refused for at most this long (plus one fetch) after the provider publishes it.
    #[serde(default = "default_refresh_interval")]
    pub jwks_min_refresh_secs: u64,
    /// The longest fetched keys are trusted before they are fetched again, in seconds
    /// (default 3600); the provider's `Cache-Control: max-age` shortens it (never under
    /// `jwks_min_refresh_secs`), and the refresh starts in the background at three
    /// quarters of it.
    #[serde(default = "default_jwks_max_age")]
    pub jwks_max_age_secs: u64,
    /// The JWT `typ` header values accepted, compared without case and without an
    /// `application/` prefix (RFC 8725 §3.11); a token with no `typ` is accepted. Default
    /// `JWT` (ID tokens) and `at+jwt` (RFC 9068 access tokens): a token typed for another
    /// purpose (`logout+jwt`, `secevent+jwt`) is refused.
    #[serde(default = "default_typ")]
    pub typ: Vec<String>,
}

impl IdentityConfig {
    /// Tokens from `issuer` for `audience`, keys at `jwks_url`, every other setting at its
    /// default.
    pub fn for_issuer(
        issuer: impl Into<String>,
        audience: impl Into<String>,
        jwks_url: impl Into<String>,
    ) -> Self {
        Self {
            issuer: issuer.into(),
            audiences: vec![audience.into()],
            jwks_url: jwks_url.into(),
            algorithms: default_algorithms(),
            leeway_secs: default_leeway(),
            jwks_min_refresh_secs: default_refresh_interval(),
            jwks_max_age_secs: default_jwks_max_age(),
            typ: default_typ(),
        }
    }
}

fn default_typ() -> Vec<String> {
    ["JWT", "at+jwt"].map(str::to_owned).to_vec()
}

fn default_algorithms() -> Vec<String> {
    ["RS256", "ES256", "EdDSA"].map(str::to_owned).to_vec()
}
fn default_leeway() -> u64 {
    30
}
fn default_refresh_interval() -> u64 {
    30
}
fn default_jwks_max_age() -> u64 {
    3600
}

/// How the verified claims name the cluster user, org and groups.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct MappingConfig {
    /// The claim that is the cluster user name (default `email`; `sub` is the provider's
    /// stable subject, and needs no verification flag).
    pub user_claim: String,
    /// With `user_claim = "email"`: the token must carry `email_verified: true` (default
    /// on). OpenID Connect Core (§5.1, §5.7) says an email identifies a person only when
    /// the provider verified it; where anyone may register any address, an unverified
    /// email is anyone's claim to be that user. Turn it off only for a provider that sends
    /// no such claim and verifies every address itself.
    pub require_email_verified: bool,
    /// A claim holding the org id; it wins over `org`.
    pub org_claim: Option<String>,
    /// The org every token is for, when no `org_claim` says.
    pub org: Option<String>,
    /// A claim holding the user's groups (a string or an array of strings). Only the
    /// groups `groups_allowed` names pass (with `auto_create`, a group named in a token is
    /// made on the cluster: a user who can edit their own groups at the provider must not
    /// name any ThoughtSpot group).
    pub groups_claim: Option<String>,
    /// The groups from `groups_claim` that may pass: exact names, or a prefix ending in
    /// `*` (`"sales-*"`). Others are dropped, never passed. Required with `groups_claim`.
    pub groups_allowed: Vec<String>,
    /// Groups every user is put in.
    pub groups: Vec<String>,
    /// With `org_claim`: the org ids a token may name; a token naming another gets no
    /// token (403). Empty: any (only without `[[tenants]]`, where it is required).
    pub orgs_allowed: Vec<String>,
}

impl Default for MappingConfig {
    fn default() -> Self {
        Self {
            user_claim: "email".to_owned(),
            require_email_verified: true,
            org_claim: None,
            org: None,
            groups_claim: None,
            groups_allowed: Vec::new(),
            groups: Vec::new(),
            orgs_allowed: Vec::new(),
        }
    }
}

impl MappingConfig {
    /// The orgs a token may be for under this mapping: the fixed `org` and `orgs_allowed`.
    pub fn orgs(&self) -> Vec<&str> {
        self.org
            .iter()
            .chain(&self.orgs_allowed)
            .map(String::as_str)
            .collect()
    }
}

/// Row-level rules from claims: each rule's claim fills in a filter or a parameter of a
/// custom token (`token/custom`). A caller whose token lacks a rule's claim (absent,
/// `null`, `""` or `[]`) gets no token (403), unless that rule says `when_missing =
/// "skip"`; a caller to whom no rule applies gets a full token.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct AbacConfig {
    /// How the rules combine with the user's persisted ones: `NONE` (this token only, the
    /// default), `APPEND`, `REPLACE` or `RESET`.
    pub persist_option: String,
    /// The rules.
    pub rules: Vec<RuleConfig>,
}

impl Default for AbacConfig {
    fn default() -> Self {
        Self {
            persist_option: "NONE".to_owned(),
            rules: Vec::new(),
        }
    }
}

/// One rule: the values of `claim` become a filter on `column` or the values of
/// `parameter`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RuleConfig {
    /// The claim whose values the rule takes (a string, number, boolean or array of them).
    pub claim: String,
    /// A column to filter: `column operator values`.
    pub column: Option<String>,
    /// The filter's operator (default `IN`).
    #[serde(default = "default_operator")]
    pub operator: String,
    /// A parameter to set to the values, instead of a filter.
    pub parameter: Option<String>,
    /// What a token without the claim gets: `refuse` (the default: no token, 403) or
    /// `skip` (the rule does not apply to that caller, who sees what the rule would have
    /// hidden; name it only where that is meant).
    #[serde(default)]
    pub when_missing: WhenMissing,
}

/// What a rule does for a token that lacks its claim.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum WhenMissing {
    /// No token (403): the safe default, since a missing rule is more access.
    #[default]
    Refuse,
    /// The rule does not apply to this caller.
    Skip,
}

fn default_operator() -> String {
    "IN".to_owned()
}

/// Rate limits, timeouts and sizes.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct LimitsConfig {
    /// Token requests a user may make per minute, sustained (default 60).
    pub per_user_per_minute: u32,
    /// Token requests a user may make at once before the rate applies (default 20).
    pub per_user_burst: u32,
    /// The bound on a whole request, in milliseconds (default 15000).
    pub request_timeout_ms: u64,
    /// The bound on reading a request's headers, in milliseconds (default 5000).
    pub header_read_timeout_ms: u64,
    /// The largest request body, in bytes (default 16384).
    pub body_limit_bytes: usize,
    /// The bound on finishing requests in flight after SIGTERM, in milliseconds (default
    /// 20000).
    pub shutdown_grace_ms: u64,
    /// A cached token older than this many seconds is checked at the cluster before it is
    /// served again, at most once per token in this time (default 10; 0 checks every
    /// token served a second time): one revoked behind the service's back (by an
    /// administrator, an org change) is replaced, not served to the Visual Embed SDK again,
    /// which would refuse it as a "duplicate token".
    pub token_recheck_secs: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            per_user_per_minute: 60,
            per_user_burst: 20,
            request_timeout_ms: 15_000,
            header_read_timeout_ms: 5_000,
            body_limit_bytes: 16 * 1024,
            shutdown_grace_ms: 20_000,
            token_recheck_secs: 10,
        }
    }
}

impl LimitsConfig {
    /// The whole-request bound.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }
}

/// The shared token cache, on one of three topologies: one node (`url`), a Redis Cluster
/// (`nodes`, seed nodes' URLs) or a primary under Sentinel (`sentinels` and `service`);
/// exactly one. URLs may carry passwords: prefer the environment (`TOKEN_SERVICE_REDIS`,
/// `TOKEN_SERVICE_REDIS_NODES`, `TOKEN_SERVICE_REDIS_SENTINELS` comma-separated,
/// `TOKEN_SERVICE_REDIS_SERVICE`; under Sentinel the primary's own password is
/// `TOKEN_SERVICE_REDIS_PRIMARY_PASSWORD`). The keys that seal tokens at rest come from
/// `TS_TOKEN_KEYS` (or the file `TS_TOKEN_KEYS_FILE` names), written `id:base64` and
/// comma-separated, the first one sealing.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RedisConfig {
    /// One node: a `redis://` or `rediss://` URL.
    #[serde(default)]
    pub url: Option<String>,
    /// A Redis Cluster: seed nodes' URLs (one is enough; more survive a seed that is down).
    #[serde(default)]
    pub nodes: Vec<String>,
    /// Sentinel: the sentinels' URLs (with the sentinels' own credentials, if any).
    #[serde(default)]
    pub sentinels: Vec<String>,
    /// Sentinel: the name the sentinels monitor the primary under.
    #[serde(default)]
    pub service: Option<String>,
    /// Sentinel: the primary's user, when not the default user (its password comes from
    /// `TOKEN_SERVICE_REDIS_PRIMARY_PASSWORD`).
    #[serde(default)]
    pub primary_user: Option<String>,
    /// The bound on one Redis call, in milliseconds (default 250).
    #[serde(default = "default_redis_timeout")]
    pub timeout_ms: u64,
    /// The longest a request waits for another replica's fetch of the same token (its
    /// lease) before it asks the cluster itself, in milliseconds (default 3000). A lease
    /// planted by a writer to Redis, or left by a replica that died, costs a request at
    /// most this. It must leave room, inside `limits.request_timeout_ms`, for the cluster
    /// call that follows and a few Redis calls: `store_wait_ms + cluster.timeout_ms + 4 ×
    /// timeout_ms` below the request timeout, or the service does not start.
    #[serde(default = "default_store_wait")]
    pub store_wait_ms: u64,
}

/// Where the shared token cache is, as [`RedisConfig`] names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RedisTopology<'a> {
    /// One node.
    OneNode(&'a str),
    /// A Redis Cluster's seed nodes.
    Cluster(&'a [String]),
    /// Sentinels and the service they monitor.
    Sentinel(&'a [String], &'a str),
}

impl RedisConfig {
    /// The topology named: exactly one of `url`, `nodes`, or `sentinels` with `service`.
    pub fn topology(&self) -> Result<RedisTopology<'_>, ConfigError> {
        let named = usize::from(self.url.is_some())
            + usize::from(!self.nodes.is_empty())
            + usize::from(!self.sentinels.is_empty());
        if named != 1 {
            return Err(bad(
                "[redis] names one topology: url (one node), nodes (a Redis Cluster) or sentinels with service (Sentinel)",
            ));
        }
        if self.service.is_some() == self.sentinels.is_empty()
            || self.primary_user.is_some() && self.sentinels.is_empty()
        {
            return Err(bad(
                "[redis] service and primary_user go with sentinels, and sentinels need a service",
            ));
        }
        let urls = self.url.iter().chain(&self.nodes).chain(&self.sentinels);
        for url in urls {
            if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
                return Err(bad("every [redis] URL starts with redis:// or rediss://"));
            }
        }
        Ok(match (&self.url, &self.service) {
            (Some(url), _) => RedisTopology::OneNode(url),
            (None, Some(service)) => RedisTopology::Sentinel(&self.sentinels, service),
            (None, None) => RedisTopology::Cluster(&self.nodes),
        })
    }
}

fn default_redis_timeout() -> u64 {
    250
}

fn default_store_wait() -> u64 {
    3000
}

impl std::fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password.
        let shown = |urls: &[String]| format!("{} URL(s), [redacted]", urls.len());
        f.debug_struct("RedisConfig")
            .field("url", &self.url.as_ref().map(|_| "[redacted]"))
            .field("nodes", &shown(&self.nodes))
            .field("sentinels", &shown(&self.sentinels))
            .field("service", &self.service)
            .field("primary_user", &self.primary_user)
            .field("timeout_ms", &self.timeout_ms)
            .field("store_wait_ms", &self.store_wait_ms)
            .finish()
    }
}

/// A configuration that cannot be used, and why.
#[derive(Debug)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

fn bad(message: impl Into<String>) -> ConfigError {
    ConfigError(message.into())
}

/// Where the environment is read from: the process's, or a map in tests.
pub trait Env {
    /// The value of `name`, if set and not empty.
    fn var(&self, name: &str) -> Option<String>;
}

/// The process's environment.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

impl<const N: usize> Env for [(&str, &str); N] {
    fn var(&self, name: &str) -> Option<String> {
        self.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
            .filter(|v| !v.is_empty())
    }
}

impl Env for Vec<(&str, &str)> {
    fn var(&self, name: &str) -> Option<String> {
        self.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
            .filter(|v| !v.is_empty())
    }
}

fn list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Config {
    /// Parses a TOML text. A secret written in it is refused with a pointer to the
    /// environment variable that takes it.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        for (field, variable) in [
            ("secret_key", "TS_SECRET_KEY or TS_SECRET_KEY_FILE"),
            ("token_keys", "TS_TOKEN_KEYS or TS_TOKEN_KEYS_FILE"),
            ("password", "TOKEN_SERVICE_REDIS"),
        ] {
            if text.lines().any(|l| l.trim_start().starts_with(field)) {
                return Err(bad(format!(
                    "the configuration file names `{field}`: secrets are read from the environment only ({variable})"
                )));
            }
        }
        // The error names the line and what is wrong, not the line's text: a Redis URL in
        // the file may hold a password, and reload refusals are logged.
        let invalid = |e: toml::de::Error| {
            let line = e
                .span()
                .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
            let at = line.map(|l| format!(" (line {l})")).unwrap_or_default();
            bad(format!(
                "the configuration file is not valid{at}: {}",
                e.message()
            ))
        };
        let mut config: Config = toml::from_str(text).map_err(invalid)?;
        let table: toml::Table = toml::from_str(text).map_err(invalid)?;
        config.top_level_policy = ["identity", "mapping", "abac"]
            .iter()
            .any(|k| table.contains_key(*k));
        Ok(config)
    }

    /// Reads the TOML file at `path`.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            bad(format!(
                "cannot read the configuration file {}: {e}",
                path.display()
            ))
        })?;
        Self::from_toml(&text)
    }

    /// Applies the environment's overrides (see the crate docs' table).
    pub fn with_env(mut self, env: &impl Env) -> Result<Self, ConfigError> {
        if let Some(v) = env.var("TOKEN_SERVICE_ADDR") {
            self.listen = v;
        }
        if let Some(v) = env.var("TOKEN_SERVICE_ADMIN_ADDR") {
            self.admin_listen = Some(v);
        }
        if let Some(v) = env.var("TOKEN_SERVICE_ORIGINS") {
            self.allowed_origins = list(&v);
        }
        if let Some(v) = env.var("TOKEN_SERVICE_LOG") {
            self.log = match v.as_str() {
                "json" => LogFormat::Json,
                "text" => LogFormat::Text,
                "off" => LogFormat::Off,
                other => {
                    return Err(bad(format!(
                        "TOKEN_SERVICE_LOG is {other:?}: use json, text or off"
                    )));
                }
            };
        }
        if let Some(v) = env.var("TS_BASE_URL") {
            self.cluster.url = Some(v);
        }
        if let Some(v) = env.var("TS_API") {
            self.cluster.api = match v.as_str() {
                "v2" => Api::V2,
                "v2-beta" => Api::V2Beta,
                other => return Err(bad(format!("TS_API is {other:?}: use v2 or v2-beta"))),
            };
        }
        // Each sets the topology it names, in place of the file's.
        let url = env.var("TOKEN_SERVICE_REDIS");
        let nodes = env.var("TOKEN_SERVICE_REDIS_NODES");
        let sentinels = env.var("TOKEN_SERVICE_REDIS_SENTINELS");
        let service = env.var("TOKEN_SERVICE_REDIS_SERVICE");
        if url.is_some() || nodes.is_some() || sentinels.is_some() || service.is_some() {
            let redis = self.redis.get_or_insert_with(|| RedisConfig {
                timeout_ms: default_redis_timeout(),
                store_wait_ms: default_store_wait(),
                ..RedisConfig::default()
            });
            if url.is_some() || nodes.is_some() || sentinels.is_some() {
                redis.url = url;
                redis.nodes = nodes.as_deref().map(list).unwrap_or_default();
                redis.sentinels = sentinels.as_deref().map(list).unwrap_or_default();
                if redis.sentinels.is_empty() {
                    // The file's Sentinel settings go with the topology replaced.
                    redis.service = None;
                    redis.primary_user = None;
                }
            }
            if service.is_some() {
                redis.service = service;
            }
        }
        let issuer = env.var("OIDC_ISSUER");
        let audience = env.var("OIDC_AUDIENCE");
        let jwks = env.var("OIDC_JWKS_URL");
        match &mut self.identity {
            Some(identity) => {
                if let Some(v) = issuer {
                    identity.issuer = v;
                }
                if let Some(v) = audience {
                    identity.audiences = list(&v);
                }
                if let Some(v) = jwks {
                    identity.jwks_url = v;
                }
            }
            None if issuer.is_some() || audience.is_some() || jwks.is_some() => {
                let (Some(issuer), Some(audience), Some(jwks_url)) = (issuer, audience, jwks) else {
                    return Err(bad(
                        "an identity provider from the environment needs all of OIDC_ISSUER, OIDC_AUDIENCE and OIDC_JWKS_URL",
                    ));
                };
                let mut identity = IdentityConfig::for_issuer(issuer, "", jwks_url);
                identity.audiences = list(&audience);
                self.identity = Some(identity);
            }
            None => {}
        }
        Ok(self)
    }

    /// The tenants the service runs: `[[tenants]]`, or the single one the top-level
    /// `[identity]` (or the test identity provider), `[mapping]` and `[abac]` make.
    pub fn tenant_views(&self) -> Vec<TenantView<'_>> {
        if self.tenants.is_empty() {
            return vec![TenantView {
                name: "default",
                identity: self.identity.as_ref(),
                mapping: &self.mapping,
                abac: &self.abac,
                select: None,
            }];
        }
        self.tenants
            .iter()
            .map(|t| TenantView {
                name: &t.name,
                identity: Some(&t.identity),
                mapping: &t.mapping,
                abac: &t.abac,
                select: t.select.as_ref(),
            })
            .collect()
    }

    /// Whether the cluster is the embedded fake (no URL configured).
    pub fn is_embedded(&self) -> bool {
        self.cluster.url.is_none()
    }

    /// Whether the built-in test identity provider runs.
    pub fn test_idp_enabled(&self) -> bool {
        self.test_idp
            .unwrap_or(self.is_embedded() && self.identity.is_none() && self.tenants.is_empty())
    }

    /// Checks what the service refuses to start with: a real cluster with no identity
    /// provider, the test identity provider anywhere but loopback, an identity provider
    /// with no audience, rules the API cannot carry, tenants that overlap.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !self.tenants.is_empty() {
            self.validate_tenants()?;
        }
        for tenant in self.tenant_views() {
            let what = if self.tenants.is_empty() {
                String::new()
            } else {
                format!("tenant {:?}: ", tenant.name)
            };
            if let Some(identity) = tenant.identity {
                identity.validate().map_err(|e| bad(format!("{what}{e}")))?;
            }
            self.validate_rules(tenant.mapping, tenant.abac)
                .map_err(|e| bad(format!("{what}{e}")))?;
        }
        if self.test_idp_enabled() {
            let cluster_local = self.cluster.url.as_deref().is_none_or(is_loopback_url);
            if !cluster_local || !is_loopback_addr(&self.listen) {
                return Err(bad(
                    "the test identity provider lets anyone sign in as anyone: it runs only on the embedded fake or a loopback cluster, listening on loopback",
                ));
            }
        } else if self.identity.is_none() && self.tenants.is_empty() {
            return Err(bad(
                "no identity provider: set [identity] (issuer, audiences, jwks_url) or OIDC_ISSUER, OIDC_AUDIENCE and OIDC_JWKS_URL; the service will not hand out tokens to callers it cannot identify",
            ));
        }
        for origin in &self.allowed_origins {
            if origin == "*" || http::HeaderValue::from_str(origin).is_err() || !origin.contains("://") {
                return Err(bad(format!(
                    "allowed_origins holds {origin:?}: name each origin exactly (scheme://host[:port]); `*` cannot go with credentials"
                )));
            }
        }
        if let Some(redis) = &self.redis {
            redis.topology()?;
            let worst = redis
                .store_wait_ms
                .saturating_add(self.cluster.timeout_ms)
                .saturating_add(redis.timeout_ms.saturating_mul(4));
            if worst >= self.limits.request_timeout_ms {
                return Err(bad(format!(
                    "redis.store_wait_ms ({}) + cluster.timeout_ms ({}) + 4 × redis.timeout_ms ({}) is {worst} ms, not below limits.request_timeout_ms ({}): a request waiting on another replica's lease would time out before it asks the cluster itself; lower store_wait_ms or raise request_timeout_ms",
                    redis.store_wait_ms,
                    self.cluster.timeout_ms,
                    redis.timeout_ms,
                    self.limits.request_timeout_ms
                )));
            }
        }
        if self.limits.per_user_per_minute == 0 || self.limits.per_user_burst == 0 {
            return Err(bad(
                "limits.per_user_per_minute and per_user_burst must be at least 1",
            ));
        }
        Ok(())
    }
}

impl Config {
    /// What several tenants must hold to keep apart: unique names, no top-level policy
    /// beside them, no test identity provider, an org set each, disjoint from every
    /// other's, and a `select` on each of the tenants sharing an issuer, with disjoint
    /// values on one claim.
    fn validate_tenants(&self) -> Result<(), ConfigError> {
        if self.top_level_policy || self.identity.is_some() {
            return Err(bad(
                "[[tenants]] go without a top-level [identity], [mapping] or [abac] (nor OIDC_ISSUER, OIDC_AUDIENCE, OIDC_JWKS_URL): each tenant names its own",
            ));
        }
        if self.test_idp == Some(true) {
            return Err(bad("the test identity provider does not run with [[tenants]]"));
        }
        let mut orgs: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
        for (i, tenant) in self.tenants.iter().enumerate() {
            let name = tenant.name.as_str();
            if name.trim().is_empty() || self.tenants[..i].iter().any(|t| t.name == name) {
                return Err(bad(format!(
                    "every tenant needs a name of its own ({name:?} is empty or repeated)"
                )));
            }
            let m = &tenant.mapping;
            if m.org_claim.is_some() && m.orgs_allowed.is_empty() {
                return Err(bad(format!(
                    "tenant {name:?}: org_claim needs orgs_allowed, the orgs its tokens may name: with several tenants, a claim must never reach another tenant's org"
                )));
            }
            if m.org_claim.is_none() && !m.orgs_allowed.is_empty() {
                return Err(bad(format!("tenant {name:?}: orgs_allowed goes with org_claim")));
            }
            if m.orgs().is_empty() {
                return Err(bad(format!(
                    "tenant {name:?} names no org: set mapping.org, or mapping.org_claim with orgs_allowed; with several tenants, each has orgs of its own"
                )));
            }
            for org in m.orgs() {
                if let Some(other) = orgs.insert(org, name)
                    && other != name
                {
                    return Err(bad(format!(
                        "org {org:?} belongs to tenants {other:?} and {name:?}: an org has one tenant, or one tenant's callers could get another's rules"
                    )));
                }
            }
            if let Some(select) = &tenant.select
                && select.values.is_empty()
            {
                return Err(bad(format!("tenant {name:?}: select names no values")));
            }
            let shared: Vec<&TenantConfig> = self
                .tenants
                .iter()
                .filter(|t| t.identity.issuer == tenant.identity.issuer)
                .collect();
            if shared.len() > 1 {
                let Some(select) = &tenant.select else {
                    return Err(bad(format!(
                        "tenants {:?} share the issuer {}: each needs a select (claim and values) to tell them apart",
                        shared.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
                        tenant.identity.issuer
                    )));
                };
                for other in shared.iter().filter(|t| t.name != name) {
                    let apart = other.select.as_ref().is_some_and(|o| {
                        o.claim == select.claim && !o.values.iter().any(|v| select.values.contains(v))
                    });
                    if !apart {
                        return Err(bad(format!(
                            "tenants {name:?} and {:?} share an issuer: their select must read one claim with values apart",
                            other.name
                        )));
                    }
                }
            }
        }
        Ok(())
    }

    /// Checks one tenant's mapping and rules.
    fn validate_rules(&self, mapping: &MappingConfig, abac: &AbacConfig) -> Result<(), ConfigError> {
        if mapping.groups_claim.is_some() && mapping.groups_allowed.is_empty() {
            return Err(bad(
                "mapping.groups_claim needs mapping.groups_allowed: the groups (or prefixes ending in *) a token may name; groups are made on the cluster when missing, so a claim must not name any",
            ));
        }
        let shaped = !abac.rules.is_empty() || mapping.groups_claim.is_some() || !mapping.groups.is_empty();
        if shaped && self.cluster.api == Api::V2Beta {
            return Err(bad(
                "ABAC rules and groups need REST API v2.0: set cluster.api = \"v2\"",
            ));
        }
        abac.persist()?;
        for rule in &abac.rules {
            match (&rule.column, &rule.parameter) {
                (Some(_), None) => {
                    operator(&rule.operator)?;
                }
                (None, Some(_)) => {}
                _ => {
                    return Err(bad(format!(
                        "the rule on claim {:?} needs exactly one of column or parameter",
                        rule.claim
                    )));
                }
            }
        }
        Ok(())
    }
}

impl IdentityConfig {
    /// Checks the provider's settings: https URLs (http only on loopback), an audience, a
    /// `typ`, public-key algorithms only.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let identity = self;
        if identity.issuer.is_empty() || identity.jwks_url.is_empty() {
            return Err(bad("identity needs an issuer and a jwks_url"));
        }
        for (name, url) in [("issuer", &identity.issuer), ("jwks_url", &identity.jwks_url)] {
            if !is_https_or_loopback(url) {
                return Err(bad(format!(
                    "identity.{name} must be an https URL (http only on loopback): keys and issuers fetched in the clear can be replaced on the way"
                )));
            }
        }
        if identity.typ.is_empty() {
            return Err(bad(
                "identity.typ names no token type: list the JWT typ values accepted (default JWT and at+jwt)",
            ));
        }
        if identity.audiences.is_empty() {
            return Err(bad(
                "identity needs at least one audience: a token for another application must not pass",
            ));
        }
        for alg in &identity.algorithms {
            if !matches!(
                alg.as_str(),
                "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512" | "ES256" | "ES384" | "EdDSA"
            ) {
                return Err(bad(format!(
                    "identity.algorithms names {alg:?}: only public-key algorithms are accepted"
                )));
            }
        }
        Ok(())
    }
}

impl AbacConfig {
    /// The persist option, parsed.
    pub fn persist(&self) -> Result<thoughtspot_session_core::v2::PersistOption, ConfigError> {
        use thoughtspot_session_core::v2::PersistOption;
        Ok(match self.persist_option.as_str() {
            "NONE" => PersistOption::None,
            "APPEND" => PersistOption::Append,
            "REPLACE" => PersistOption::Replace,
            "RESET" => PersistOption::Reset,
            other => {
                return Err(bad(format!(
                    "abac.persist_option is {other:?}: use NONE, APPEND, REPLACE or RESET"
                )));
            }
        })
    }
}

/// Whether `url`'s host, as the client's own URL parser (the `url` crate, which reqwest
/// uses) reads it, is loopback: `localhost`, 127.0.0.0/8 or `[::1]`. A URL it cannot parse
/// is not loopback.
pub fn is_loopback_url(url: &str) -> bool {
    match url::Url::parse(url).ok().as_ref().and_then(url::Url::host) {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Whether `url` may carry keys or name an issuer: `https`, or `http` on loopback.
fn is_https_or_loopback(url: &str) -> bool {
    match url::Url::parse(url) {
        Ok(parsed) => parsed.scheme() == "https" || (parsed.scheme() == "http" && is_loopback_url(url)),
        Err(_) => false,
    }
}

/// Parses a filter operator of the configuration (`IN`, `EQ`, …).
pub fn operator(name: &str) -> Result<thoughtspot_session_core::v2::FilterOperator, ConfigError> {
    use thoughtspot_session_core::v2::FilterOperator::*;
    Ok(match name {
        "EQ" => Eq,
        "NE" => Ne,
        "LT" => Lt,
        "LE" => Le,
        "GT" => Gt,
        "GE" => Ge,
        "IN" => In,
        "NOT_IN" => NotIn,
        "BW" => Bw,
        "BW_INC" => BwInc,
        "BW_INC_MIN" => BwIncMin,
        "BW_INC_MAX" => BwIncMax,
        "CONTAINS" => Contains,
        "BEGINS_WITH" => BeginsWith,
        "ENDS_WITH" => EndsWith,
        "LIKE" => Like,
        other => return Err(ConfigError(format!("unknown filter operator {other:?}"))),
    })
}

fn is_loopback_addr(addr: &str) -> bool {
    addr.parse::<std::net::SocketAddr>()
        .is_ok_and(|a| a.ip().is_loopback())
        || addr.starts_with("localhost:")
}

/// A secret from the environment: `NAME`, or the contents of the file `NAME_FILE` names
/// (trailing newline dropped).
pub fn secret_from_env(env: &impl Env, name: &str) -> Result<Option<String>, ConfigError> {
    if let Some(v) = env.var(name) {
        return Ok(Some(v));
    }
    let file = format!("{name}_FILE");
    match env.var(&file) {
        Some(path) => {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| bad(format!("cannot read {file} ({path}): {e}")))?;
            Ok(Some(text.trim_end_matches(['\n', '\r']).to_owned()))
        }
        None => Ok(None),
    }
}

/// The cluster's trusted-authentication secret key, from `TS_SECRET_KEY` or
/// `TS_SECRET_KEY_FILE`.
pub fn secret_key(env: &impl Env) -> Result<Option<SecretKey>, ConfigError> {
    Ok(secret_from_env(env, "TS_SECRET_KEY")?.map(SecretKey::new))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_configuration_parses_and_is_valid_on_the_embedded_fake() {
        let config = Config::from_toml(crate::SAMPLE_CONFIG)
            .unwrap()
            .with_env(&[])
            .unwrap();
        config.validate().unwrap();
        assert!(config.test_idp_enabled());
        assert_eq!(config.abac.rules.len(), 2);
    }

    #[test]
    fn a_real_cluster_without_an_identity_provider_is_refused() {
        let env = [("TS_BASE_URL", "https://analytics.example.com")];
        let config = Config::default().with_env(&env).unwrap();
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("no identity provider"), "{err}");
        // Nor may the test identity provider stand in for one there.
        let mut config = config;
        config.test_idp = Some(true);
        assert!(config.validate().unwrap_err().to_string().contains("anyone"));
        let env = [
            ("TS_BASE_URL", "https://analytics.example.com"),
            ("OIDC_ISSUER", "https://id.example.com"),
            ("OIDC_AUDIENCE", "app"),
            ("OIDC_JWKS_URL", "https://id.example.com/jwks"),
        ];
        Config::default().with_env(&env).unwrap().validate().unwrap();
    }

    #[test]
    fn redis_names_one_topology_and_the_environment_picks_another() {
        let topology = |toml: &str| Config::from_toml(toml).and_then(|c| c.validate().map(|()| c));
        for bad in [
            "[redis]\n",
            "[redis]\nurl = \"redis://a:6379\"\nnodes = [\"redis://b:6379\"]\n",
            "[redis]\nsentinels = [\"redis://s:26379\"]\n",
            "[redis]\nnodes = [\"redis://b:6379\"]\nservice = \"ts\"\n",
            "[redis]\nurl = \"http://a:6379\"\n",
            "[redis]\nurl = \"redis://a:6379\"\nprimary_user = \"u\"\n",
        ] {
            let err = topology(bad)
                .err()
                .unwrap_or_else(|| panic!("{bad:?} is refused"))
                .to_string();
            assert!(err.contains("[redis]"), "{bad:?}: {err}");
        }
        let sentinel =
            topology("[redis]\nsentinels = [\"redis://s1:26379\", \"redis://s2:26379\"]\nservice = \"ts\"\n")
                .unwrap();
        let redis = sentinel.redis.as_ref().unwrap();
        assert!(matches!(redis.topology().unwrap(), RedisTopology::Sentinel(s, "ts") if s.len() == 2));
        // The environment's topology replaces the file's, and a password in it stays out of Debug.
        let env = [(
            "TOKEN_SERVICE_REDIS_NODES",
            "redis://:hunter2@n1:6379, redis://:hunter2@n2:6379",
        )];
        let config = sentinel.with_env(&env).unwrap();
        config.validate().unwrap();
        let redis = config.redis.as_ref().unwrap();
        assert!(
            matches!(redis.topology().unwrap(), RedisTopology::Cluster(n) if n.len() == 2),
            "{redis:?}"
        );
        assert!(!format!("{config:?}").contains("hunter2"));
    }

    #[test]
    fn the_test_identity_provider_needs_loopback_on_both_sides() {
        let env = [("TOKEN_SERVICE_ADDR", "0.0.0.0:8787")];
        assert!(Config::default().with_env(&env).unwrap().validate().is_err());
        let env = [
            ("TS_BASE_URL", "http://localhost:9000"),
            ("TOKEN_SERVICE_ADDR", "127.0.0.1:0"),
        ];
        let mut config = Config::default().with_env(&env).unwrap();
        config.test_idp = Some(true);
        config.validate().unwrap();
        assert!(is_loopback_url("http://[::1]:80/x") && !is_loopback_url("http://localhost.evil.com/"));
        assert!(!is_loopback_url("http://127.0.0.1@evil.com/"));
        // The client's parser reads `\` as `/`: this URL asks real-cluster, not 127.0.0.1.
        assert!(!is_loopback_url("https://real-cluster\\@127.0.0.1/"));
        assert!(!is_loopback_url("not a url") && is_loopback_url("http://LOCALHOST:1/"));
    }

    #[test]
    fn secrets_in_the_file_wildcard_origins_and_beta_rules_are_refused() {
        let err = Config::from_toml("[cluster]\nsecret_key = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("TS_SECRET_KEY") && !err.contains("\"x\""), "{err}");
        let config = Config::from_toml("allowed_origins = [\"*\"]").unwrap();
        assert!(config.validate().unwrap_err().to_string().contains("exactly"));
        let config = Config::from_toml(
            "[cluster]\napi = \"v2-beta\"\n[[abac.rules]]\nclaim = \"region\"\ncolumn = \"Region\"\n",
        )
        .unwrap();
        assert!(config.validate().unwrap_err().to_string().contains("v2.0"));
        assert!(Config::from_toml("[limits]\nper_user_burst = 1\nunknown = 2\n").is_err());
    }
}
