//! `fake-thoughtspot`: a fake ThoughtSpot cluster on 127.0.0.1, for testing pages, token
//! services and clients in any language without a cluster.
//!
//! ```sh
//! cargo run -p thoughtspot-session-mock --features server --bin fake-thoughtspot -- \
//!     --user analyst:analyst-pw --secret-key trusted-key --port 8088
//! ```
//!
//! The first line of stdout is the base URL; one line per request goes to stderr.

use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use thoughtspot_session_mock::{ApiGenerations, FakeServer, FakeThoughtSpot, FakeUser, ServeOptions};

/// The flags, parsed by clap. Each flag's help is its line in `--help`.
#[derive(clap::Parser, Debug)]
#[command(
    name = "fake-thoughtspot",
    about = "fake-thoughtspot: a fake ThoughtSpot cluster on 127.0.0.1 (REST API v2.0 and v2 beta)",
    disable_version_flag = true,
    disable_help_flag = true,
    after_help = AFTER_HELP
)]
struct Flags {
    /// read settings from a TOML file (flags given too win)
    #[arg(long, value_name = "FILE")]
    config: Option<String>,
    /// the port on 127.0.0.1 (default 0: any free port)
    #[arg(long, value_name = "N", value_parser = number::<u16>("--port"))]
    port: Option<u16>,
    /// a user; ORGS is a comma list of org ids (default 0), PRIVILEGES a comma list
    /// (default AUTHORING); repeatable
    #[arg(long = "user", value_name = "NAME:PASSWORD[:ORGS[:PRIVILEGES]]", value_parser = user)]
    users: Vec<UserSpec>,
    /// turn on trusted authentication with this secret key
    #[arg(long, value_name = "KEY")]
    secret_key: Option<String>,
    /// an object that object tokens may open; repeatable
    #[arg(long = "object", value_name = "GUID")]
    objects: Vec<String>,
    /// lifetime of a token asked without one (default 300)
    #[arg(long, value_name = "SECS", value_parser = number::<u64>("--token-lifetime"))]
    token_lifetime: Option<u64>,
    /// lifetime of a cookie session (default 1800)
    #[arg(long, value_name = "SECS", value_parser = number::<u64>("--session-lifetime"))]
    session_lifetime: Option<u64>,
    /// the API generations served (default both)
    #[arg(long, value_name = "both|beta|v2")]
    api: Option<String>,
    /// the release the session info reports (default 9.12.0.cl)
    #[arg(long, value_name = "V")]
    release_version: Option<String>,
    /// answer every request this much later (default 0)
    #[arg(long, value_name = "MS", value_parser = number::<u64>("--latency-ms"))]
    latency_ms: Option<u64>,
    /// answer the first N requests with STATUS (500: the error body)
    #[arg(long, value_name = "N:STATUS", value_parser = fail_next)]
    fail_next: Option<(u32, u16)>,
    /// allow this page origin by CORS, as a cluster's allow-list (e.g.
    /// http://localhost:3000); repeatable; none: no CORS headers
    #[arg(long = "cors-origin", value_name = "ORIGIN")]
    cors_origins: Vec<String>,
    /// no request log on stderr
    #[arg(long)]
    quiet: bool,
    /// this text
    #[arg(short = 'h', long, action = clap::ArgAction::Help)]
    help: Option<bool>,
}

const AFTER_HELP: &str = "\
The values here are test values: they show in `ps`. Never give a real cluster's secret.
Stop with Ctrl-C or SIGTERM.

TOML FILE:
    port = 8088
    secret_key = \"trusted-key\"
    token_lifetime_secs = 300
    session_lifetime_secs = 1800
    api = \"both\"
    release_version = \"10.1.0.cl\"
    latency_ms = 0
    objects = [\"0f6b4c33-58a9-4b3c-9d6b-ef2f7c1b2a10\"]
    cors_origins = [\"http://localhost:3000\"]
    [[users]]
    name = \"analyst\"
    password = \"analyst-pw\"
    orgs = [0, 7]
    privileges = [\"AUTHORING\", \"ADMINISTRATION\"]
    display_name = \"An Analyst\"

EXIT CODES:
    0  stopped by a signal    2  bad flags or configuration    1  could not serve
";

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    port: Option<u16>,
    secret_key: Option<String>,
    token_lifetime_secs: Option<u64>,
    session_lifetime_secs: Option<u64>,
    api: Option<String>,
    release_version: Option<String>,
    latency_ms: Option<u64>,
    #[serde(default)]
    objects: Vec<String>,
    #[serde(default)]
    users: Vec<UserSettings>,
    #[serde(default)]
    cors_origins: Vec<String>,
    #[serde(skip)]
    fail_next: Option<(u32, u16)>,
    #[serde(skip)]
    quiet: bool,
}

#[derive(Clone, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct UserSettings {
    name: String,
    password: String,
    #[serde(default)]
    orgs: Vec<u64>,
    #[serde(default)]
    privileges: Vec<String>,
    display_name: Option<String>,
}

type UserSpec = UserSettings;

/// A parser of a number for `flag`, saying so when the value is not one.
fn number<T: std::str::FromStr>(flag: &'static str) -> impl Fn(&str) -> Result<T, String> + Clone {
    move |value| {
        value
            .parse()
            .map_err(|_| format!("{flag} takes a number, not {value:?}"))
    }
}

fn fail_next(value: &str) -> Result<(u32, u16), String> {
    let (n, status) = value
        .split_once(':')
        .ok_or_else(|| format!("--fail-next takes N:STATUS, not {value:?}"))?;
    Ok((number("--fail-next")(n)?, number("--fail-next")(status)?))
}

fn user(spec: &str) -> Result<UserSettings, String> {
    let mut parts = spec.splitn(4, ':');
    let (Some(name), Some(password)) = (parts.next(), parts.next()) else {
        return Err(format!(
            "--user takes NAME:PASSWORD[:ORGS[:PRIVILEGES]], not {spec:?}"
        ));
    };
    let list = |s: Option<&str>| -> Vec<String> {
        s.map(|s| {
            s.split(',')
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
    };
    let orgs = list(parts.next())
        .iter()
        .map(|o| number::<u64>("--user ORGS")(o))
        .collect::<Result<_, _>>()?;
    Ok(UserSettings {
        name: name.to_owned(),
        password: password.to_owned(),
        orgs,
        privileges: list(parts.next()),
        display_name: None,
    })
}

/// The settings from the flags and the configuration file they name; `None` for `--help`
/// (printed here).
fn settings(args: Vec<String>) -> Result<Option<Settings>, String> {
    use clap::Parser;
    let flags = match Flags::try_parse_from(std::iter::once("fake-thoughtspot".to_owned()).chain(args)) {
        Ok(flags) => flags,
        Err(e) => {
            use clap::error::{ContextKind, ErrorKind};
            return match e.kind() {
                ErrorKind::DisplayHelp => {
                    print!("{}", e.render());
                    Ok(None)
                }
                ErrorKind::UnknownArgument => {
                    let arg = e
                        .get(ContextKind::InvalidArg)
                        .map(ToString::to_string)
                        .unwrap_or_default();
                    Err(format!("unknown argument {arg:?} (try --help)"))
                }
                _ => {
                    let rendered = e.render().to_string();
                    Err(rendered.trim().trim_start_matches("error: ").to_owned())
                }
            };
        }
    };
    let config = flags.config.clone();
    let from_flags = Settings {
        port: flags.port,
        secret_key: flags.secret_key,
        token_lifetime_secs: flags.token_lifetime,
        session_lifetime_secs: flags.session_lifetime,
        api: flags.api,
        release_version: flags.release_version,
        latency_ms: flags.latency_ms,
        objects: flags.objects,
        users: flags.users,
        cors_origins: flags.cors_origins,
        fail_next: flags.fail_next,
        quiet: flags.quiet,
    };
    let mut settings = match config {
        None => Settings::default(),
        Some(path) => {
            let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
            toml::from_str(&text).map_err(|e| format!("{path} is not a valid configuration: {e}"))?
        }
    };
    // Flags win; lists add to the file's.
    settings.port = from_flags.port.or(settings.port);
    settings.secret_key = from_flags.secret_key.or(settings.secret_key);
    settings.token_lifetime_secs = from_flags.token_lifetime_secs.or(settings.token_lifetime_secs);
    settings.session_lifetime_secs = from_flags
        .session_lifetime_secs
        .or(settings.session_lifetime_secs);
    settings.api = from_flags.api.or(settings.api);
    settings.release_version = from_flags.release_version.or(settings.release_version);
    settings.latency_ms = from_flags.latency_ms.or(settings.latency_ms);
    settings.objects.extend(from_flags.objects);
    settings.users.extend(from_flags.users);
    settings.cors_origins.extend(from_flags.cors_origins);
    settings.fail_next = from_flags.fail_next;
    settings.quiet = from_flags.quiet;
    Ok(Some(settings))
}

fn fake(settings: &Settings) -> Result<FakeThoughtSpot, String> {
    let mut b = FakeThoughtSpot::builder();
    for u in &settings.users {
        let mut user = FakeUser::new(u.name.as_str(), u.password.as_str());
        if !u.orgs.is_empty() {
            user = user.orgs(u.orgs.iter().copied());
        }
        if !u.privileges.is_empty() {
            user = user.privileges(u.privileges.iter().cloned());
        }
        if let Some(name) = &u.display_name {
            user = user.display_name(name.as_str());
        }
        b = b.user(user);
    }
    if let Some(key) = &settings.secret_key {
        b = b.secret_key(key.as_str());
    }
    for object in &settings.objects {
        b = b.object(object.as_str());
    }
    for origin in &settings.cors_origins {
        b = b.cors_origin(origin.as_str());
    }
    if let Some(secs) = settings.token_lifetime_secs {
        b = b.token_lifetime(Duration::from_secs(secs));
    }
    if let Some(secs) = settings.session_lifetime_secs {
        b = b.session_lifetime(Duration::from_secs(secs));
    }
    if let Some(v) = &settings.release_version {
        b = b.release_version(v.as_str());
    }
    b = b.generations(match settings.api.as_deref() {
        None | Some("both") => ApiGenerations::Both,
        Some("beta") => ApiGenerations::BetaOnly,
        Some("v2") => ApiGenerations::V2Only,
        Some(other) => return Err(format!("--api takes both, beta or v2, not {other:?}")),
    });
    let fake = b.build();
    if let Some(ms) = settings.latency_ms {
        fake.set_latency(Duration::from_millis(ms));
    }
    if let Some((n, status)) = settings.fail_next {
        fake.fail_next(n, status);
    }
    Ok(fake)
}

/// Waits for Ctrl-C or SIGTERM.
async fn stopped() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(term) => term,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let settings = match settings(std::env::args().skip(1).collect()) {
        Ok(Some(s)) => s,
        Ok(None) => return ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("fake-thoughtspot: {message}");
            return ExitCode::from(2);
        }
    };
    let fake = match fake(&settings) {
        Ok(f) => f,
        Err(message) => {
            eprintln!("fake-thoughtspot: {message}");
            return ExitCode::from(2);
        }
    };
    let options = ServeOptions::new()
        .with_port(settings.port.unwrap_or(0))
        .with_request_log(!settings.quiet)
        // --latency-ms to the millisecond, not to the clock's 20 ms tick.
        .with_real_time_latency(true);
    let server = match FakeServer::start_with(fake.clone(), options).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "fake-thoughtspot: cannot serve on 127.0.0.1:{}: {e}",
                settings.port.unwrap_or(0)
            );
            return ExitCode::FAILURE;
        }
    };
    println!("{}", server.base_url());
    let _ = std::io::stdout().flush();
    // The fake runs on a virtual clock: here it follows real time, so tokens and sessions
    // expire and latency elapses as on a cluster.
    let clock = fake.clock().clone();
    tokio::spawn(async move {
        let mut last = Instant::now();
        loop {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let now = Instant::now();
            clock.advance(now - last);
            last = now;
        }
    });
    stopped().await;
    server.shutdown().await;
    if !settings.quiet {
        eprintln!("fake-thoughtspot: stopped");
    }
    ExitCode::SUCCESS
}
