//! Replacing the configuration while the service runs (SIGHUP, or a change of the file
//! with `--watch-config`).
//!
//! What changes live: the tenants and their identity providers, mappings and rules
//! (`[identity]`, `[mapping]`, `[abac]`, `[[tenants]]`), `allowed_origins`, and the limits
//! `per_user_per_minute`, `per_user_burst`, `body_limit_bytes` and `token_recheck_secs`.
//! A new configuration is checked as `--check` checks it; one that fails is refused
//! whole, the one in force is kept, and the refusal is logged and counted
//! (`config_last_reload_success` 0). A request in flight finishes under the policy it
//! began with.
//!
//! What needs a restart ([`RESTART_ONLY`]): the listeners, the log format, the cluster
//! (and its secret key), Redis (and its keys), the test identity provider, and the
//! serving bounds (request, header-read and shutdown timeouts). A change to one of them
//! is applied nowhere and reported: logged by name (never by value: a Redis URL may hold
//! a password) and shown as `config_restart_pending` 1, until a restart or a file that
//! matches the running values again.

use crate::config::{Config, ConfigError};
use crate::http::AppState;
use crate::metrics::{ReloadOutcome, unix_seconds};
use crate::policy::{KeySources, Policy};
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// The settings a reload does not change, by name.
pub const RESTART_ONLY: &[&str] = &[
    "listen",
    "admin_listen",
    "log",
    "cluster",
    "redis",
    "test_idp",
    "limits.request_timeout_ms",
    "limits.header_read_timeout_ms",
    "limits.shutdown_grace_ms",
];

/// What a reload applied.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReloadReport {
    /// The restart-only settings ([`RESTART_ONLY`]) the new file changes, which keep their
    /// running values until a restart.
    pub restart_pending: Vec<&'static str>,
}

/// Replaces the configuration in force. Cheap to clone; one reload runs at a time.
#[derive(Clone)]
pub struct Reloader {
    inner: Arc<Inner>,
}

struct Inner {
    state: Arc<AppState>,
    sources: KeySources,
    /// The configuration in force (restart-only settings at their running values).
    running: tokio::sync::Mutex<Config>,
}

impl std::fmt::Debug for Reloader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reloader").finish_non_exhaustive()
    }
}

/// The restart-only settings in which `a` and `b` differ. Compared by value, reported by
/// name only.
fn restart_only_changes(a: &Config, b: &Config) -> Vec<&'static str> {
    let mut changed = Vec::new();
    let mut differs = |name: &'static str, x: String, y: String| {
        if x != y {
            changed.push(name);
        }
    };
    differs("listen", a.listen.clone(), b.listen.clone());
    differs(
        "admin_listen",
        format!("{:?}", a.admin_listen),
        format!("{:?}", b.admin_listen),
    );
    differs("log", format!("{:?}", a.log), format!("{:?}", b.log));
    differs("cluster", format!("{:?}", a.cluster), format!("{:?}", b.cluster));
    differs("redis", redis_fingerprint(a), redis_fingerprint(b));
    differs(
        "test_idp",
        a.test_idp_enabled().to_string(),
        b.test_idp_enabled().to_string(),
    );
    let (x, y) = (&a.limits, &b.limits);
    differs(
        "limits.request_timeout_ms",
        x.request_timeout_ms.to_string(),
        y.request_timeout_ms.to_string(),
    );
    differs(
        "limits.header_read_timeout_ms",
        x.header_read_timeout_ms.to_string(),
        y.header_read_timeout_ms.to_string(),
    );
    differs(
        "limits.shutdown_grace_ms",
        x.shutdown_grace_ms.to_string(),
        y.shutdown_grace_ms.to_string(),
    );
    changed
}

/// Redis's settings whole (URLs with their passwords), for comparing only: never shown.
fn redis_fingerprint(config: &Config) -> String {
    match &config.redis {
        None => String::new(),
        Some(r) => format!(
            "{:?}|{:?}|{:?}|{:?}|{:?}|{}|{}",
            r.url, r.nodes, r.sentinels, r.service, r.primary_user, r.timeout_ms, r.store_wait_ms
        ),
    }
}

/// `new` with the restart-only settings of `running`: what a reload puts in force.
fn effective(new: &Config, running: &Config) -> Config {
    let mut effective = new.clone();
    effective.listen = running.listen.clone();
    effective.admin_listen = running.admin_listen.clone();
    effective.log = running.log;
    effective.cluster = running.cluster.clone();
    effective.redis = running.redis.clone();
    effective.test_idp = Some(running.test_idp_enabled());
    effective.limits.request_timeout_ms = running.limits.request_timeout_ms;
    effective.limits.header_read_timeout_ms = running.limits.header_read_timeout_ms;
    effective.limits.shutdown_grace_ms = running.limits.shutdown_grace_ms;
    effective
}

impl Reloader {
    /// A reloader of the service whose state is `state`, running `config`.
    pub fn new(state: Arc<AppState>, sources: KeySources, config: Config) -> Self {
        Self {
            inner: Arc::new(Inner {
                state,
                sources,
                running: tokio::sync::Mutex::new(config),
            }),
        }
    }

    /// Puts `new` in force, or refuses it whole and keeps the configuration in force.
    /// New identity providers' keys are fetched before the swap (each within
    /// [`crate::identity::JWKS_TIMEOUT`]); a provider kept keeps its keys.
    pub async fn reload(&self, new: Result<Config, ConfigError>) -> Result<ReloadReport, ConfigError> {
        let inner = &self.inner;
        let mut running = inner.running.lock().await;
        let metrics = inner.state.metrics();
        let outcome = async {
            let new = new?;
            let pending = restart_only_changes(&new, &running);
            let effective = effective(&new, &running);
            effective.validate()?;
            let previous = inner.state.policy.load_full();
            let policy = Policy::build(&effective, &inner.sources, Some(&previous))?;
            policy.warm().await;
            Ok::<_, ConfigError>((effective, policy, pending))
        }
        .await;
        match outcome {
            Ok((effective, policy, pending)) => {
                let state = &inner.state;
                state.policy.store(Arc::new(policy));
                state.origins.set(&effective.allowed_origins);
                state
                    .body_limit
                    .store(effective.limits.body_limit_bytes, Ordering::Relaxed);
                *running = effective;
                metrics.reload_success.set(1);
                metrics.reload_success_time.set(unix_seconds());
                metrics
                    .reloads
                    .get_or_create(&ReloadOutcome { outcome: "applied" })
                    .inc();
                metrics.restart_pending.set(i64::from(!pending.is_empty()));
                if pending.is_empty() {
                    tracing::info!("configuration reloaded");
                } else {
                    tracing::warn!(
                        restart_needed = ?pending,
                        "configuration reloaded; these settings changed in the file but take effect only after a restart, and keep their running values"
                    );
                }
                Ok(ReloadReport {
                    restart_pending: pending,
                })
            }
            Err(e) => {
                metrics.reload_success.set(0);
                metrics
                    .reloads
                    .get_or_create(&ReloadOutcome { outcome: "refused" })
                    .inc();
                // The error names settings and lines, never a value of the file.
                tracing::error!(error = %e, "configuration reload refused; the configuration in force is kept");
                Err(e)
            }
        }
    }
}
