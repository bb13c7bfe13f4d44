//! A real redis-server for the tests: started on a free 127.0.0.1 port, in a temporary
//! directory, without persistence; stopped when dropped.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A redis-server of this test's own.
pub struct RedisServer {
    child: Option<Child>,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// Its working directory (where `SAVE` writes dump.rdb).
    pub dir: PathBuf,
    password: Option<String>,
}

fn redis_server() -> &'static str {
    if Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_err()
    {
        panic!(
            "redis-server is not installed: the Redis token store's tests start their own. \
             Install it with `apt-get install redis-server` (Debian) or run `scripts/test`, \
             which installs it."
        );
    }
    "redis-server"
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl RedisServer {
    /// A server on a free port.
    pub fn start() -> Self {
        Self::start_on(free_port(), None)
    }

    /// A server that requires `password` (the default user's, as `requirepass` sets it).
    pub fn start_with_password(password: &str) -> Self {
        Self::start_on(free_port(), Some(password.to_owned()))
    }

    /// A server on `port` (to restart one where the clients expect it).
    pub fn start_on(port: u16, password: Option<String>) -> Self {
        static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("ts-redis-{}-{port}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let mut command = Command::new(redis_server());
        command
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(p) = &password {
            command.args(["--requirepass", p]);
        }
        let child = command.spawn().expect("redis-server starts");
        let server = Self {
            child: Some(child),
            port,
            dir,
            password,
        };
        server.wait_ready();
        server
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "redis-server did not listen on 127.0.0.1:{} within 10 s",
            self.port
        );
    }

    /// Its URL (with the password, if any).
    pub fn url(&self) -> String {
        match &self.password {
            Some(p) => format!("redis://:{p}@127.0.0.1:{}", self.port),
            None => format!("redis://127.0.0.1:{}", self.port),
        }
    }

    /// Runs `redis-cli` against it and returns its output.
    pub fn cli(&self, args: &[&str]) -> Vec<u8> {
        let mut command = Command::new("redis-cli");
        command.args(["-p", &self.port.to_string()]);
        if let Some(p) = &self.password {
            command.args(["-a", p, "--no-auth-warning"]);
        }
        command.args(args).output().expect("redis-cli runs").stdout
    }

    /// Stops it (as a crash would: no save).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
