//! `thoughtspot-token-service`: see the crate docs, `--help` and the sample configuration.

use clap::Parser;
use std::path::PathBuf;
use thoughtspot_token_service::config::{Config, Env, LogFormat, ProcessEnv};
use thoughtspot_token_service::telemetry::Traces;
use thoughtspot_token_service::{SAMPLE_CONFIG, Service};

/// The trusted-authentication token service of a ThoughtSpot embedding: verifies the
/// caller's ID token (OIDC, JWKS), maps its claims to a ThoughtSpot user, org, groups and
/// ABAC rules, and answers a ThoughtSpot token (cached, shared through Redis).
///
/// With no configuration it runs on an embedded fake cluster with a built-in test identity
/// provider, and prints a ready curl line. Against a real cluster (TS_BASE_URL) it needs an
/// identity provider ([identity] or OIDC_ISSUER, OIDC_AUDIENCE, OIDC_JWKS_URL).
///
/// Secrets come from the environment only: TS_SECRET_KEY (or TS_SECRET_KEY_FILE), TS_TOKEN_KEYS
/// (or TS_TOKEN_KEYS_FILE), a Redis password inside TOKEN_SERVICE_REDIS. Other overrides:
/// TOKEN_SERVICE_ADDR, TOKEN_SERVICE_ORIGINS, TOKEN_SERVICE_LOG, TS_BASE_URL, TS_API.
///
/// Endpoints: GET|POST /token, POST /token/invalidate, GET /healthz, GET /readyz, GET /metrics.
#[derive(Parser, Debug)]
#[command(name = "thoughtspot-token-service", version)]
struct Cli {
    /// The configuration file (TOML; see --print-sample-config).
    #[arg(long, short, env = "TOKEN_SERVICE_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Prints the sample configuration and exits.
    #[arg(long)]
    print_sample_config: bool,
    /// Checks the configuration (and the environment's secrets) and exits.
    #[arg(long)]
    check: bool,
    /// Reloads the configuration file when it changes (checked every second), as on
    /// SIGHUP.
    #[arg(long, env = "TOKEN_SERVICE_WATCH_CONFIG")]
    watch_config: bool,
}

/// Reloads the configuration file on SIGHUP and, with `watch`, when its modification time
/// length or inode changes (a ConfigMap's symlink swap included: the file is followed).
#[cfg(unix)]
async fn reload_on_signal(
    mut hangup: tokio::signal::unix::Signal,
    path: Option<PathBuf>,
    reloader: thoughtspot_token_service::reload::Reloader,
    watch: bool,
) {
    use std::os::unix::fs::MetadataExt;
    // The file's inode too: a file replaced by a rename within the clock's resolution, at
    // the same length, is still seen.
    let stamp = |path: &PathBuf| {
        std::fs::metadata(path)
            .ok()
            .map(|m| (m.modified().ok(), m.len(), m.ino()))
    };
    let mut seen = path.as_ref().and_then(stamp);
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    loop {
        let signalled = tokio::select! {
            _ = hangup.recv() => true,
            _ = tick.tick(), if watch && path.is_some() => false,
        };
        let Some(path) = &path else {
            tracing::warn!(
                "SIGHUP: the service runs with no configuration file (--config): nothing to reload"
            );
            continue;
        };
        let now = stamp(path);
        if !signalled && now == seen {
            continue;
        }
        seen = now;
        tracing::info!(signal = signalled, "reloading the configuration");
        let read = Config::from_file(path).and_then(|c| c.with_env(&ProcessEnv));
        let _ = reloader.reload(read).await;
    }
}

/// Logs in `format` (filtered by TOKEN_SERVICE_LOG_LEVEL, `info` by default) and, when the
/// environment asks for them, traces (see the `telemetry` module): the service's own
/// spans and events at `info` and above, and the library's warnings, whatever the log
/// level.
fn init_logs(format: LogFormat) -> Result<Option<Traces>, thoughtspot_token_service::BoxError> {
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    use tracing_subscriber::{EnvFilter, Layer as _, filter::Targets};
    let filter =
        || EnvFilter::try_from_env("TOKEN_SERVICE_LOG_LEVEL").unwrap_or_else(|_| EnvFilter::new("info"));
    let (logs, text) = match format {
        LogFormat::Json => (
            Some(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(false)
                    .with_target(false)
                    .with_filter(filter()),
            ),
            None,
        ),
        LogFormat::Text => (
            None,
            Some(
                tracing_subscriber::fmt::layer()
                    .with_target(false)
                    .with_filter(filter()),
            ),
        ),
        _ => (None, None),
    };
    let registry = tracing_subscriber::registry().with(logs).with(text);
    match Traces::from_env(&ProcessEnv)? {
        Some((traces, layer)) => {
            let spans = Targets::new()
                .with_target("thoughtspot_token_service", tracing::Level::INFO)
                .with_target("thoughtspot_session_core", tracing::Level::WARN)
                .with_target("thoughtspot_session_redis", tracing::Level::WARN);
            registry.with(layer.with_filter(spans)).init();
            Ok(Some(traces))
        }
        None => {
            registry.init();
            Ok(None)
        }
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if cli.print_sample_config {
        print!("{SAMPLE_CONFIG}");
        return std::process::ExitCode::SUCCESS;
    }
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("thoughtspot-token-service: {e}");
            std::process::ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli) -> Result<std::process::ExitCode, thoughtspot_token_service::BoxError> {
    // With no file: on the embedded fake, the sample configuration (so that the offline run
    // shows groups and ABAC rules); against a cluster, the defaults and the environment.
    let config = match &cli.config {
        Some(path) => Config::from_file(path)?,
        None if ProcessEnv.var("TS_BASE_URL").is_none() => Config::from_toml(SAMPLE_CONFIG)?,
        None => Config::default(),
    }
    .with_env(&ProcessEnv)?;
    config.validate()?;
    let traces = init_logs(config.log)?;
    let code = serve(cli, config).await;
    if let Some(traces) = traces {
        // The spans still queued, sent within the exporter's timeout.
        let _ = tokio::task::spawn_blocking(move || traces.shutdown()).await;
    }
    code
}

async fn serve(
    cli: Cli,
    config: Config,
) -> Result<std::process::ExitCode, thoughtspot_token_service::BoxError> {
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let local = listener.local_addr()?;
    let service = Service::build(&config, &ProcessEnv, local).await?;
    if cli.check {
        println!("the configuration is valid");
        return Ok(std::process::ExitCode::SUCCESS);
    }
    // Listened for before the first line is printed: a SIGHUP from then on reloads, and
    // never ends the process (its default action).
    #[cfg(unix)]
    let hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .map_err(|e| format!("cannot listen for SIGHUP: {e}"))?;
    for note in &service.notes {
        println!("{note}");
    }
    println!("token service on http://{local}");
    if let Some(idp) = &service.test_idp {
        let claims = serde_json::json!({"email": "alice@example.com", "region": ["west"]});
        let token = idp.sign(claims.as_object().expect("an object"));
        println!("try (alice, with an ABAC region rule; the ID token is valid for an hour):");
        println!("  curl -i -H 'Authorization: Bearer {token}' http://{local}/token");
    }
    println!("stop with Ctrl-C or SIGTERM; reload the configuration with SIGHUP");
    #[cfg(unix)]
    tokio::spawn(reload_on_signal(
        hangup,
        cli.config.clone(),
        service.reloader(),
        cli.watch_config,
    ));
    let drained = service
        .run(listener, thoughtspot_token_service::serve::signal())
        .await;
    Ok(if drained {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::from(1)
    })
}
