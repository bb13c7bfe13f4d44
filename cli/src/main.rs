//! `thoughtspot-session`: mint, check and revoke ThoughtSpot tokens from a shell.
//!
//! ```sh
//! export TS_BASE_URL=https://my-company.thoughtspot.cloud TS_SECRET_KEY=…
//! thoughtspot-session token --user analyst@example.com | xargs -I{} curl -H "Authorization: Bearer {}" …
//! ```
//!
//! Secrets never come as plain arguments (they would show in `ps` and in shell history):
//! from the environment (`TS_PASSWORD`, `TS_SECRET_KEY`, `TS_TOKEN`), from a file
//! (`--password-file`, `--secret-key-file`, `--token-file`), or from a prompt when a
//! terminal is attached.

// The doc comments of the arguments are the --help text, where a URL reads best bare.
#![allow(rustdoc::bare_urls)]

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use thoughtspot_session_reqwest::v2::{AuthApi, ValidateTokenRequest};
use thoughtspot_session_reqwest::{
    AccessToken, ApiVersion, Error, GetTokenRequest, LoginRequest, Password, ReqwestTransport, SecretKey,
    SessionApi, SessionClient, TokioSleep,
};

/// Exit codes, as `--help` documents them.
/// Writes a line to stdout. A closed pipe (`| head`) ends the command quietly with exit
/// code 0, as the reader wanted no more; any other write error is a failure.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        match writeln!(out, $($arg)*) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(Failure::closed_pipe()),
            Err(e) => Err(Failure { code: exit::OTHER, message: format!("cannot write the output: {e}") }),
        }
    }};
}

mod exit {
    pub const OK: u8 = 0;
    pub const OTHER: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const REFUSED: u8 = 3;
    pub const UNREACHABLE: u8 = 4;
}

#[derive(Parser)]
#[command(
    name = "thoughtspot-session",
    version,
    about = "Mint, check and revoke ThoughtSpot tokens (REST API v2.0 and v2 beta)",
    after_help = "SECRETS are never taken as plain arguments: set TS_PASSWORD, TS_SECRET_KEY or TS_TOKEN, \
give a file (--password-file, --secret-key-file, --token-file), or type them at the prompt when a terminal \
is attached.\n\nEXIT CODES: 0 success; 1 other failure; 2 usage error; 3 credentials refused (401/403); \
4 cluster unreachable or timed out."
)]
struct Cli {
    /// The cluster, e.g. https://my-company.thoughtspot.cloud
    #[arg(long, env = "TS_BASE_URL", global = true)]
    base_url: Option<String>,
    /// The API generation: v2 (every current cluster), beta (before 9.0.0.cl), auto
    #[arg(long, value_enum, default_value_t = Api::V2, env = "TS_API", global = true)]
    api: Api,
    /// A PEM file of root CAs to trust besides the platform's
    #[arg(long, value_name = "FILE", global = true)]
    ca_cert: Option<std::path::PathBuf>,
    /// Give up after this many seconds
    #[arg(long, value_name = "SECS", default_value_t = 30, global = true)]
    timeout: u64,
    /// Trace the calls on stderr (-v: debug, -vv: trace); never a secret
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Api {
    V2,
    Beta,
    Auto,
}

#[derive(Subcommand)]
enum Command {
    /// Mint a token for a user and print it alone (for pipes), or as JSON
    Token(TokenArgs),
    /// Show the signed-in user: name, orgs, privileges, release
    Whoami(Credentials),
    /// Ask the cluster whether a token is valid
    Validate(TokenSource),
    /// Revoke a token
    Revoke(TokenSource),
    /// Which API generations a cluster serves, and how fast it answers
    Probe,
    /// Print a shell completion script
    Completions {
        /// bash, zsh, fish, elvish or powershell
        shell: clap_complete::Shell,
    },
}

#[derive(Args)]
struct TokenArgs {
    /// The user the token is for
    #[arg(long)]
    user: String,
    /// A view-only token for this object (a Liveboard or Answer GUID)
    #[arg(long, value_name = "GUID")]
    object: Option<String>,
    /// The org id
    #[arg(long)]
    org: Option<String>,
    /// The token's lifetime in seconds
    #[arg(long, value_name = "SECS")]
    lifetime: Option<u64>,
    /// Print JSON (token, user, expiry) instead of the token alone
    #[arg(long)]
    json: bool,
    /// Authorise with the user's password (TS_PASSWORD, --password-file or a prompt)
    /// instead of the trusted-authentication secret key
    #[arg(long)]
    with_password: bool,
    /// A file holding the secret key
    #[arg(long, value_name = "FILE")]
    secret_key_file: Option<std::path::PathBuf>,
    /// A file holding the password
    #[arg(long, value_name = "FILE")]
    password_file: Option<std::path::PathBuf>,
}

#[derive(Args)]
struct Credentials {
    /// Sign in as this user with a password (TS_PASSWORD, --password-file or a prompt);
    /// without it the token in TS_TOKEN or --token-file is used
    #[arg(long)]
    user: Option<String>,
    /// A file holding the password
    #[arg(long, value_name = "FILE")]
    password_file: Option<std::path::PathBuf>,
    /// A file holding the token
    #[arg(long, value_name = "FILE")]
    token_file: Option<std::path::PathBuf>,
}

#[derive(Args)]
struct TokenSource {
    /// A file holding the token (else TS_TOKEN, else a prompt)
    #[arg(long, value_name = "FILE")]
    token_file: Option<std::path::PathBuf>,
}

/// A failure with the exit code it maps to and a message that says what to do.
struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    fn usage(message: impl Into<String>) -> Self {
        Self {
            code: exit::USAGE,
            message: message.into(),
        }
    }

    /// The reader closed stdout: stop, quietly, with success.
    fn closed_pipe() -> Self {
        Self {
            code: exit::OK,
            message: String::new(),
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        let (code, hint) = if e.is_unauthorized() || e.is_forbidden() {
            (
                exit::REFUSED,
                "check the user, the password, the secret key or the token",
            )
        } else if e.is_timeout() || matches!(&e, Error::Transport(t) if t.is_connect()) {
            (exit::UNREACHABLE, "check --base-url, the network and --timeout")
        } else if matches!(e, Error::Config(_) | Error::InvalidRequest(_)) {
            (exit::USAGE, "check the flags")
        } else {
            (exit::OTHER, "run again with -v for a trace")
        };
        Self {
            code,
            message: format!("{e}\n({hint})"),
        }
    }
}

/// A secret from the environment, a file, or a prompt on a terminal.
fn secret(env: &str, file: Option<&std::path::Path>, prompt: &str) -> Result<String, Failure> {
    if let Some(path) = file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))?;
        return Ok(text.trim_end_matches(['\r', '\n']).to_owned());
    }
    if let Ok(value) = std::env::var(env)
        && !value.is_empty()
    {
        return Ok(value);
    }
    if std::io::stdin().is_terminal() {
        return rpassword::prompt_password(prompt)
            .map_err(|e| Failure::usage(format!("cannot read the prompt: {e}")));
    }
    Err(Failure::usage(format!(
        "no {prompt} given: set {env}, give a file, or run on a terminal to be asked"
    )))
}

/// The reqwest transport every command uses, with `--ca-cert`'s roots when given.
fn transport(cli: &Cli) -> Result<ReqwestTransport, Failure> {
    let mut transport = ReqwestTransport::builder();
    if let Some(path) = &cli.ca_cert {
        let pem = std::fs::read(path)
            .map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))?;
        transport = transport.add_root_certificate_pem(pem);
    }
    transport.build().map_err(|e| Failure::usage(e.to_string()))
}

fn client(cli: &Cli) -> Result<SessionClient<ReqwestTransport>, Failure> {
    let base = cli
        .base_url
        .as_deref()
        .ok_or_else(|| Failure::usage("no cluster given: pass --base-url or set TS_BASE_URL"))?;
    let transport = transport(cli)?;
    let version = match cli.api {
        Api::V2 => ApiVersion::V2,
        Api::Beta => ApiVersion::V2Beta,
        Api::Auto => ApiVersion::Auto,
    };
    SessionClient::builder(base)
        .sleep(TokioSleep::new())
        .timeout(Duration::from_secs(cli.timeout.max(1)))
        .api_version(version)
        .build(transport)
        .map_err(|e| Failure::usage(format!("{e}")))
}

fn epoch_secs(at: Option<std::time::SystemTime>) -> serde_json::Value {
    at.and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(serde_json::Value::Null, |d| d.as_secs().into())
}

async fn run(cli: Cli) -> Result<(), Failure> {
    match &cli.command {
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(
                *shell,
                &mut <Cli as clap::CommandFactory>::command(),
                "thoughtspot-session",
                &mut script,
            );
            say!("{}", String::from_utf8_lossy(&script).trim_end())?;
            Ok(())
        }
        Command::Token(args) => {
            let c = client(&cli)?;
            let mut request = if args.with_password {
                let pw = secret("TS_PASSWORD", args.password_file.as_deref(), "password")?;
                GetTokenRequest::with_password(args.user.as_str(), Password::new(pw))
            } else {
                let key = secret("TS_SECRET_KEY", args.secret_key_file.as_deref(), "secret key")?;
                GetTokenRequest::with_secret_key(args.user.as_str(), SecretKey::new(key))
            };
            if let Some(object) = &args.object {
                request = request.with_report_book_view(object.as_str());
            }
            if let Some(org) = &args.org {
                request = request.with_org_id(org.as_str());
            }
            if let Some(secs) = args.lifetime {
                request = request.with_token_expiry(Duration::from_secs(secs));
            }
            let issued = c.get_token(&request).await?;
            let token = issued.token().ok_or_else(|| Failure {
                code: exit::OTHER,
                message: "the cluster answered without a token".into(),
            })?;
            if args.json {
                let out = serde_json::json!({
                    "token": token.secret(),
                    "user": issued.user_name(),
                    "created_at": epoch_secs(issued.created_at()),
                    "expires_at": epoch_secs(issued.expires_at()),
                    "lifetime_secs": issued.lifetime().map(|l| l.as_secs()),
                });
                say!("{out}")?;
            } else {
                say!("{}", token.secret())?;
            }
            Ok(())
        }
        Command::Whoami(creds) => {
            let c = client(&cli)?;
            match &creds.user {
                Some(user) => {
                    let pw = secret("TS_PASSWORD", creds.password_file.as_deref(), "password")?;
                    c.login(&LoginRequest::with_password(user.as_str(), Password::new(pw)))
                        .await?;
                }
                None => {
                    let token = secret("TS_TOKEN", creds.token_file.as_deref(), "token")?;
                    c.set_access_token(AccessToken::new(token))?;
                }
            }
            let info = c.get_session_info().await?;
            say!("user:       {}", info.user_name().unwrap_or("unknown"))?;
            say!("name:       {}", info.user_display_name().unwrap_or("unknown"))?;
            say!(
                "org:        {}",
                info.current_org_id().as_deref().unwrap_or("unknown")
            )?;
            let orgs: Vec<String> = match info.get("orgs").or_else(|| info.get("orgIds")) {
                Some(serde_json::Value::Array(list)) => list
                    .iter()
                    .map(|o| o.get("id").unwrap_or(o).to_string())
                    .collect(),
                _ => Vec::new(),
            };
            say!(
                "orgs:       {}",
                if orgs.is_empty() {
                    "unknown".to_owned()
                } else {
                    orgs.join(", ")
                }
            )?;
            let privileges: Vec<&str> = info.privileges().collect();
            say!(
                "privileges: {}",
                if privileges.is_empty() {
                    "none".to_owned()
                } else {
                    privileges.join(", ")
                }
            )?;
            say!("release:    {}", info.release_version().unwrap_or("unknown"))?;
            if creds.user.is_some() {
                let _ = c.logout().await;
            }
            Ok(())
        }
        Command::Validate(source) => {
            let c = client(&cli)?;
            let token = AccessToken::new(secret("TS_TOKEN", source.token_file.as_deref(), "token")?);
            c.set_access_token(token.clone())?;
            // v2.0 has token/validate; the beta has none, so the token's own session info
            // answers there.
            let on_v2 = match c.get_session_info().await {
                Ok(_) => c.api_version() == ApiVersion::V2,
                Err(e) => return Err(e.into()),
            };
            if on_v2 {
                let v = c.token_validate(&ValidateTokenRequest::new(token)).await?;
                let left = v
                    .expiration_time
                    .duration_since(std::time::SystemTime::now())
                    .ok();
                say!(
                    "valid: a {} token with {} access, for about {} more seconds (by the cluster's clock)",
                    v.token_type,
                    v.scope.access_type,
                    left.map_or(0, |l| l.as_secs())
                )?;
            } else {
                say!("valid: the cluster accepts the token")?;
            }
            Ok(())
        }
        Command::Revoke(source) => {
            let c = client(&cli)?;
            let token = AccessToken::new(secret("TS_TOKEN", source.token_file.as_deref(), "token")?);
            c.revoke_access_token(&token).await?;
            say!("revoked")?;
            Ok(())
        }
        Command::Probe => {
            let mut served = Vec::new();
            let mut rtt = None;
            for (name, version) in [("v2.0", ApiVersion::V2), ("v2 beta", ApiVersion::V2Beta)] {
                let c = SessionClient::builder(client(&cli)?.base_url())
                    .sleep(TokioSleep::new())
                    .timeout(Duration::from_secs(cli.timeout.max(1)))
                    .retry(thoughtspot_session_reqwest::RetryPolicy::disabled())
                    .api_version(version)
                    .build(transport(&cli)?)
                    .map_err(|e| Failure::usage(e.to_string()))?;
                let started = Instant::now();
                let answer = c.get_session_info().await;
                let elapsed = started.elapsed();
                match answer {
                    Ok(_) => served.push(name),
                    Err(e) if e.status().is_some_and(|s| s.as_u16() != 404) => served.push(name),
                    Err(e) if e.status().is_some() => {}
                    Err(e) => return Err(e.into()),
                }
                rtt.get_or_insert(elapsed);
            }
            say!(
                "served:      {}",
                if served.is_empty() {
                    "neither generation (check --base-url)".to_owned()
                } else {
                    served.join(", ")
                }
            )?;
            say!("round trip:  {} ms", rtt.map_or(0, |d| d.as_millis()))?;
            // The token is optional here: read from TS_TOKEN only, never asked for.
            let release = match std::env::var("TS_TOKEN").ok().filter(|t| !t.is_empty()) {
                Some(token) => {
                    let c = client(&cli)?;
                    c.set_access_token(AccessToken::new(token))?;
                    c.get_session_info()
                        .await
                        .ok()
                        .and_then(|i| i.release_version().map(str::to_owned))
                }
                None => None,
            };
            say!(
                "release:     {}",
                release.as_deref().unwrap_or("unknown (set TS_TOKEN to read it)")
            )?;
            if served.is_empty() {
                return Err(Failure {
                    code: exit::OTHER,
                    message: "the cluster serves neither API generation".into(),
                });
            }
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { exit::USAGE } else { exit::OK });
        }
    };
    if cli.verbose > 0 {
        let level = if cli.verbose > 1 {
            tracing_subscriber::filter::LevelFilter::TRACE
        } else {
            tracing_subscriber::filter::LevelFilter::DEBUG
        };
        tracing_subscriber::fmt()
            .with_max_level(level)
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .init();
    }
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("thoughtspot-session: cannot start: {e}");
            return ExitCode::from(exit::OTHER);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::from(exit::OK),
        Err(failure) => {
            eprintln!("thoughtspot-session: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}
