//! Prometheus metrics (`prometheus-client`), served at `/metrics`: requests by outcome,
//! latency histograms, cluster errors by kind, and the token manager's cache counters read
//! at scrape time. No label holds a user, a token or a key.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;
use thoughtspot_session_core::TokenManagerStats;

/// A route and the outcome of a request to it.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Outcome {
    /// `token`, `invalidate`.
    pub route: &'static str,
    /// `served`, `invalidated` or an error code (`token_expired`, `rate_limited`, …).
    pub outcome: &'static str,
}

/// A route.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Route {
    /// `token`, `invalidate`.
    pub route: &'static str,
}

/// A kind of cluster error.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorKind {
    /// `refused`, `unavailable`, `timeout`, `store`, `invalid`.
    pub kind: &'static str,
}

/// Everything counted.
pub struct Metrics {
    registry: Registry,
    /// Requests by route and outcome.
    pub requests: Family<Outcome, Counter>,
    /// Request latency by route, in seconds.
    pub latency: Family<Route, Histogram>,
    /// Cluster errors by kind.
    pub cluster_errors: Family<ErrorKind, Counter>,
    /// Whether the last reload was applied (1) or refused (0); 1 before any.
    pub reload_success: Gauge,
    /// When the configuration in force was applied, in seconds since the epoch.
    pub reload_success_time: Gauge<f64, AtomicU64>,
    /// Reloads by outcome (`applied`, `refused`).
    pub reloads: Family<ReloadOutcome, Counter>,
    /// 1 while the file names a setting that changes only with a restart, and the running
    /// one differs.
    pub restart_pending: Gauge,
}

/// The outcome of a reload.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReloadOutcome {
    /// `applied` or `refused`.
    pub outcome: &'static str,
}

/// Seconds since the epoch, now.
pub fn unix_seconds() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

type StatsFn = Arc<dyn Fn() -> TokenManagerStats + Send + Sync>;

/// The token manager's and the identity verifier's counters, read at each scrape.
struct Reads {
    stats: StatsFn,
    policy: Arc<arc_swap::ArcSwap<crate::policy::Policy>>,
    store: Option<thoughtspot_session_redis::RedisTokenStore>,
}

impl std::fmt::Debug for Reads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Reads")
    }
}

fn counter(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    value: u64,
) -> Result<(), std::fmt::Error> {
    let c = ConstCounter::new(value);
    c.encode(encoder.encode_descriptor(name, help, None, c.metric_type())?)
}

impl Collector for Reads {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let s = (self.stats)();
        counter(
            &mut encoder,
            "token_cache_hits",
            "Tokens served from the cache (in process or shared)",
            s.hits + s.store_hits,
        )?;
        counter(
            &mut encoder,
            "token_cache_misses",
            "Token requests that found no cached token",
            s.misses,
        )?;
        counter(
            &mut encoder,
            "cluster_token_calls",
            "Tokens asked of the cluster",
            s.fetches,
        )?;
        counter(
            &mut encoder,
            "cluster_token_errors",
            "Token calls the cluster failed",
            s.errors,
        )?;
        counter(
            &mut encoder,
            "token_requests_joined",
            "Requests that waited on another's cluster call",
            s.joined,
        )?;
        counter(
            &mut encoder,
            "token_store_errors",
            "Shared store calls that failed",
            s.store_errors,
        )?;
        counter(
            &mut encoder,
            "token_store_fallbacks",
            "Tokens fetched locally because the store failed",
            s.store_fallbacks,
        )?;
        counter(
            &mut encoder,
            "token_revoke_errors",
            "Revocations that failed",
            s.revoke_errors,
        )?;
        let cached = ConstGauge::new(s.cached as i64);
        cached.encode(encoder.encode_descriptor(
            "tokens_cached",
            "Tokens held in this process",
            None,
            cached.metric_type(),
        )?)?;
        if let Some(store) = &self.store {
            counter(
                &mut encoder,
                "token_store_removals_unreplicated",
                "Removals (sign-outs, invalidations) no Redis replica acknowledged in time",
                store.removals_unreplicated(),
            )?;
            counter(
                &mut encoder,
                "token_store_unreadable_values",
                "Values in Redis that did not open (corrupt, foreign, or under a key this replica lacks)",
                store.unreadable_values(),
            )?;
            let info = ConstGauge::new(1);
            let mut family = encoder.encode_descriptor(
                "token_store_topology",
                "The shared store's Redis topology (one_node, cluster or sentinel)",
                None,
                info.metric_type(),
            )?;
            info.encode(family.encode_family(&[("topology", store.topology().as_str())])?)?;
        }
        // Summed over the providers in force (a reload keeps a provider's counts when it
        // keeps its keys).
        let policy = self.policy.load();
        let (ok, failed) = policy.tenants().iter().fold((0, 0), |(ok, failed), t| {
            let f = t.verifier().fetches();
            (ok + f.ok.load(Relaxed), failed + f.failed.load(Relaxed))
        });
        counter(&mut encoder, "jwks_fetches", "Key set fetches that succeeded", ok)?;
        counter(
            &mut encoder,
            "jwks_fetch_failures",
            "Key set fetches that failed",
            failed,
        )?;
        Ok(())
    }
}

impl Metrics {
    /// The metrics, reading the manager's counters through `stats` at each scrape.
    pub fn new(
        stats: impl Fn() -> TokenManagerStats + Send + Sync + 'static,
        policy: Arc<arc_swap::ArcSwap<crate::policy::Policy>>,
        store: Option<thoughtspot_session_redis::RedisTokenStore>,
    ) -> Self {
        let mut registry = Registry::with_prefix("token_service");
        let requests = Family::<Outcome, Counter>::default();
        registry.register("requests", "Requests by route and outcome", requests.clone());
        let latency = Family::<Route, Histogram>::new_with_constructor(|| {
            // 100 µs to about 6.5 s.
            Histogram::new(exponential_buckets(0.0001, 2.0, 17))
        });
        registry.register(
            "request_duration_seconds",
            "Request latency by route",
            latency.clone(),
        );
        let cluster_errors = Family::<ErrorKind, Counter>::default();
        registry.register("cluster_errors", "Cluster errors by kind", cluster_errors.clone());
        let reload_success = Gauge::default();
        reload_success.set(1);
        registry.register(
            "config_last_reload_success",
            "Whether the last configuration reload was applied (1) or refused (0)",
            reload_success.clone(),
        );
        let reload_success_time = Gauge::<f64, AtomicU64>::default();
        reload_success_time.set(unix_seconds());
        registry.register(
            "config_last_reload_success_timestamp_seconds",
            "When the configuration in force was applied (start or reload)",
            reload_success_time.clone(),
        );
        let reloads = Family::<ReloadOutcome, Counter>::default();
        registry.register(
            "config_reloads",
            "Configuration reloads by outcome",
            reloads.clone(),
        );
        let restart_pending = Gauge::default();
        registry.register(
            "config_restart_pending",
            "1 while the configuration changes a setting that takes effect only after a restart",
            restart_pending.clone(),
        );
        registry.register_collector(Box::new(Reads {
            stats: Arc::new(stats),
            policy,
            store,
        }));
        Self {
            registry,
            requests,
            latency,
            cluster_errors,
            reload_success,
            reload_success_time,
            reloads,
            restart_pending,
        }
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
