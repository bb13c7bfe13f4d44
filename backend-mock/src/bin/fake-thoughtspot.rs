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

const HELP: &str = "\
fake-thoughtspot: a fake ThoughtSpot cluster on 127.0.0.1 (REST API v2.0 and v2 beta)

USAGE:
    fake-thoughtspot [OPTIONS]

OPTIONS:
    --config FILE             read settings from a TOML file (flags given too win)
    --port N                  the port on 127.0.0.1 (default 0: any free port)
    --user NAME:PASSWORD[:ORGS[:PRIVILEGES]]
                              a user; ORGS is a comma list of org ids (default 0),
                              PRIVILEGES a comma list (default AUTHORING); repeatable
    --secret-key KEY          turn on trusted authentication with this secret key
    --object GUID             an object that object tokens may open; repeatable
    --token-lifetime SECS     lifetime of a token asked without one (default 300)
    --session-lifetime SECS   lifetime of a cookie session (default 1800)
    --api both|beta|v2        the API generations served (default both)
    --release-version V       the release the session info reports (default 9.12.0.cl)
    --latency-ms MS           answer every request this much later (default 0)
    --fail-next N:STATUS      answer the first N requests with STATUS (500: the error body)
    --quiet                   no request log on stderr
    -h, --help                this text

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
    #[serde(skip)]
    fail_next: Option<(u32, u16)>,
    #[serde(skip)]
    quiet: bool,
}

#[derive(Debug, serde::Deserialize)]
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

fn number<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("{flag} takes a number, not {value:?}"))
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
        .map(|o| number::<u64>("--user ORGS", o))
        .collect::<Result<_, _>>()?;
    Ok(UserSettings {
        name: name.to_owned(),
        password: password.to_owned(),
        orgs,
        privileges: list(parts.next()),
        display_name: None,
    })
}

fn settings(args: Vec<String>) -> Result<Option<Settings>, String> {
    let mut from_flags = Settings::default();
    let mut config = None;
    let mut args = args.into_iter();
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| format!("{flag} needs a value (try --help)"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--quiet" => from_flags.quiet = true,
            "--config" => config = Some(value()?),
            "--port" => from_flags.port = Some(number(&flag, &value()?)?),
            "--user" => from_flags.users.push(user(&value()?)?),
            "--secret-key" => from_flags.secret_key = Some(value()?),
            "--object" => from_flags.objects.push(value()?),
            "--token-lifetime" => from_flags.token_lifetime_secs = Some(number(&flag, &value()?)?),
            "--session-lifetime" => from_flags.session_lifetime_secs = Some(number(&flag, &value()?)?),
            "--api" => from_flags.api = Some(value()?),
            "--release-version" => from_flags.release_version = Some(value()?),
            "--latency-ms" => from_flags.latency_ms = Some(number(&flag, &value()?)?),
            "--fail-next" => {
                let v = value()?;
                let (n, status) = v
                    .split_once(':')
                    .ok_or_else(|| format!("--fail-next takes N:STATUS, not {v:?}"))?;
                from_flags.fail_next = Some((number(&flag, n)?, number(&flag, status)?));
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
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
        Ok(None) => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
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
        .with_request_log(!settings.quiet);
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
