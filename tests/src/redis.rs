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
        Self::start_free(None)
    }

    /// A server that requires `password` (the default user's, as `requirepass` sets it).
    pub fn start_with_password(password: &str) -> Self {
        Self::start_free(Some(password.to_owned()))
    }

    /// A one-node Redis Cluster: a server in cluster mode that holds every slot, so that
    /// it refuses what a cluster refuses (a multi-key command across slots: `CROSSSLOT`)
    /// while one plain connection reaches all keys. Waits for `cluster_state:ok` (10 s).
    pub fn start_one_node_cluster() -> Self {
        let server = Self::start_cluster_node();
        server.cli(&["CLUSTER", "ADDSLOTSRANGE", "0", "16383"]);
        server.wait_cluster_ok(Instant::now() + Duration::from_secs(10));
        server
    }

    /// A server in cluster mode holding no slot yet (a node for [`RedisCluster`]).
    fn start_cluster_node() -> Self {
        Self::start_retrying(None, true)
    }

    /// Waits until this node reports `cluster_state:ok`, until `deadline` at most (the panic
    /// names the node and what it reported).
    fn wait_cluster_ok(&self, deadline: Instant) {
        loop {
            let info = String::from_utf8_lossy(&self.cli(&["CLUSTER", "INFO"])).into_owned();
            if info.contains("cluster_state:ok") {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the cluster node on 127.0.0.1:{} did not reach cluster_state:ok in time: {info}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A free port is free only until another process binds it: when the server cannot
    /// listen on the one picked, another is picked (five tries).
    fn start_free(password: Option<String>) -> Self {
        Self::start_retrying(password, false)
    }

    fn start_retrying(password: Option<String>, cluster: bool) -> Self {
        let mut last = String::new();
        for _ in 0..5 {
            match Self::try_start(free_port(), password.clone(), cluster) {
                Ok(server) => return server,
                Err(why) => last = why,
            }
        }
        panic!("{last}");
    }

    /// A server on `port` (to restart one where the clients expect it).
    pub fn start_on(port: u16, password: Option<String>) -> Self {
        Self::try_start_on(port, password).unwrap_or_else(|why| panic!("{why}"))
    }

    fn try_start_on(port: u16, password: Option<String>) -> Result<Self, String> {
        Self::try_start(port, password, false)
    }

    fn try_start(port: u16, password: Option<String>, cluster: bool) -> Result<Self, String> {
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
        if cluster {
            command.args(["--cluster-enabled", "yes", "--cluster-config-file"]);
            command.arg(dir.join("nodes.conf"));
        }
        let child = command.spawn().expect("redis-server starts");
        let mut server = Self {
            child: Some(child),
            port,
            dir,
            password,
        };
        server.wait_ready()?;
        Ok(server)
    }

    /// Waits until this server, not another process, listens on its port (10 s at most).
    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                return Err(format!(
                    "redis-server on 127.0.0.1:{} exited at start ({status}): is the port taken?",
                    self.port
                ));
            }
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                // Something listens: it must be this server (its own directory).
                let dir = self.cli(&["CONFIG", "GET", "dir"]);
                let ours = self.dir.canonicalize().unwrap_or_else(|_| self.dir.clone());
                if String::from_utf8_lossy(&dir).contains(ours.to_string_lossy().as_ref()) {
                    return Ok(());
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.stop();
        Err(format!(
            "redis-server did not listen on 127.0.0.1:{} within 10 s",
            self.port
        ))
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

/// A Redis Cluster on loopback: `primaries` primaries with `replicas` replicas each
/// (`redis-cli --cluster create`), stopped when dropped.
pub struct RedisCluster {
    /// Its nodes, primaries first as `redis-cli` was given them.
    pub nodes: Vec<RedisServer>,
}

impl RedisCluster {
    /// Starts the nodes, creates the cluster and waits until every node reports
    /// `cluster_state:ok` (20 s at most; the panic names the node that did not).
    pub fn start(primaries: usize, replicas: usize) -> Self {
        let nodes: Vec<RedisServer> = (0..primaries * (1 + replicas))
            .map(|_| RedisServer::start_cluster_node())
            .collect();
        let addresses: Vec<String> = nodes.iter().map(|n| format!("127.0.0.1:{}", n.port)).collect();
        let out = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&addresses)
            .args(["--cluster-replicas", &replicas.to_string(), "--cluster-yes"])
            .output()
            .expect("redis-cli runs");
        assert!(
            out.status.success(),
            "redis-cli --cluster create failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        for node in &nodes {
            node.wait_cluster_ok(deadline);
        }
        Self { nodes }
    }

    /// The nodes' URLs, to seed a client.
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(RedisServer::url).collect()
    }
}
