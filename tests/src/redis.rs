//! A real redis-server for the tests: started on a free 127.0.0.1 port, in a temporary
//! directory, without persistence; stopped when dropped.

use std::io::Write;
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
    /// The CA file a client trusts, when it serves TLS only.
    tls: Option<PathBuf>,
}

/// The files a test's redis-server serves TLS with (a certificate for 127.0.0.1 from a CA
/// made for the test), in a temporary directory removed when dropped.
pub struct RedisTls {
    dir: PathBuf,
    /// The CA's certificate (PEM), for the client to trust.
    pub ca_pem: String,
}

impl RedisTls {
    /// A new CA and server certificate, written out.
    pub fn new() -> Self {
        static MADE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = MADE.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("ts-redis-tls-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let ca = crate::tls::PrivateCa::new();
        std::fs::write(dir.join("ca.pem"), &ca.ca_pem).expect("the CA file");
        std::fs::write(dir.join("server.pem"), ca.server_cert.pem()).expect("the certificate file");
        std::fs::write(dir.join("server.key"), ca.server_key.serialize_pem()).expect("the key file");
        Self {
            dir,
            ca_pem: ca.ca_pem,
        }
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

impl Default for RedisTls {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for RedisTls {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
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

/// Adds `password` and TLS (trusting the CA file `ca`) to a `redis-cli` command.
fn cli_access(command: &mut Command, password: Option<&str>, ca: Option<&std::path::Path>) {
    if let Some(p) = password {
        command.args(["-a", p, "--no-auth-warning"]);
    }
    if let Some(ca) = ca {
        command.arg("--tls").arg("--cacert").arg(ca);
    }
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
        Self::start_retrying(None, Mode::ClusterNode, None)
    }

    /// A server that serves TLS only (`rediss://`), with `tls`'s certificate.
    pub fn start_tls(tls: &RedisTls) -> Self {
        Self::start_retrying(None, Mode::Plain, Some(tls))
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
        Self::start_retrying(password, Mode::Plain, None)
    }

    fn start_retrying(password: Option<String>, mode: Mode, tls: Option<&RedisTls>) -> Self {
        let mut last = String::new();
        for _ in 0..5 {
            match Self::try_start(free_port(), password.clone(), mode.clone(), tls) {
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
        Self::try_start(port, password, Mode::Plain, None)
    }

    fn try_start(
        port: u16,
        password: Option<String>,
        mode: Mode,
        tls: Option<&RedisTls>,
    ) -> Result<Self, String> {
        static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("ts-redis-{}-{port}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let mut command = Command::new(redis_server());
        if let Mode::Sentinel { primary, auth } = &mode {
            // A sentinel reads (and rewrites) a configuration file of its own.
            let conf = dir.join("sentinel.conf");
            let mut text = format!(
                "sentinel monitor {SERVICE} 127.0.0.1 {primary} 2\n\
                 sentinel down-after-milliseconds {SERVICE} 1000\n\
                 sentinel failover-timeout {SERVICE} 4000\n\
                 sentinel parallel-syncs {SERVICE} 1\n"
            );
            if let Some(auth) = auth {
                text.push_str(&format!("sentinel auth-pass {SERVICE} {auth}\n"));
            }
            if let Some(own) = &password {
                // The sentinels speak to each other with the password they require.
                text.push_str(&format!("sentinel sentinel-pass {own}\n"));
            }
            std::fs::write(&conf, text).expect("a sentinel configuration");
            command.arg(conf).arg("--sentinel");
        }
        match tls {
            // TLS only: replication and the cluster bus too.
            Some(tls) => {
                command.args(["--port", "0", "--tls-port", &port.to_string()]);
                command.arg("--tls-cert-file").arg(tls.file("server.pem"));
                command.arg("--tls-key-file").arg(tls.file("server.key"));
                command.arg("--tls-ca-cert-file").arg(tls.file("ca.pem"));
                command.args(["--tls-auth-clients", "no", "--tls-replication", "yes"]);
                if !matches!(mode, Mode::Sentinel { .. }) {
                    command.args(["--tls-cluster", "yes"]);
                }
            }
            None => {
                command.args(["--port", &port.to_string()]);
            }
        }
        command
            .args(["--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            // A replica syncs at once, not after the default 5 s wait for others.
            .args(["--repl-diskless-sync-delay", "0"])
            // `DEBUG SLEEP` stalls a server in the tests.
            .args(["--enable-debug-command", "yes"])
            .arg("--dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(p) = &password {
            command.args(["--requirepass", p]);
            if !matches!(mode, Mode::Sentinel { .. }) {
                // A replica (or a primary demoted by a failover) syncs with the same one.
                command.args(["--masterauth", p]);
            }
        }
        match &mode {
            Mode::ClusterNode => {
                // A primary silent for 2 s is failed over (the default is 15 s), by a replica
                // however long ago it last heard from it (a replica that heard nothing
                // since it synced would otherwise wait for a data-age check it fails).
                command.args(["--cluster-enabled", "yes", "--cluster-node-timeout", "2000"]);
                command.args(["--cluster-replica-validity-factor", "0"]);
                command.arg("--cluster-config-file").arg(dir.join("nodes.conf"));
            }
            &Mode::ReplicaOf(primary) => {
                command.args(["--replicaof", "127.0.0.1", &primary.to_string()]);
            }
            Mode::Plain | Mode::Sentinel { .. } => {}
        }
        let child = command.spawn().expect("redis-server starts");
        let mut server = Self {
            child: Some(child),
            port,
            dir,
            password,
            tls: tls.map(|t| t.file("ca.pem")),
        };
        server.wait_ready(matches!(mode, Mode::Sentinel { .. }))?;
        Ok(server)
    }

    /// Waits until this server, not another process, listens on its port (10 s at most).
    fn wait_ready(&mut self, sentinel: bool) -> Result<(), String> {
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
                let dir = if sentinel {
                    self.cli(&["INFO", "server"])
                } else {
                    self.cli(&["CONFIG", "GET", "dir"])
                };
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

    /// Its URL (with the password, if any; `rediss://` when it serves TLS).
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "rediss" } else { "redis" };
        match &self.password {
            Some(p) => format!("{scheme}://:{p}@127.0.0.1:{}", self.port),
            None => format!("{scheme}://127.0.0.1:{}", self.port),
        }
    }

    /// `redis-cli` with what it needs to reach this server: port, password, TLS.
    fn redis_cli(&self) -> Command {
        let mut command = Command::new("redis-cli");
        command.args(["-p", &self.port.to_string()]);
        cli_access(&mut command, self.password.as_deref(), self.tls.as_deref());
        command
    }

    /// Runs `redis-cli` against it and returns its output.
    pub fn cli(&self, args: &[&str]) -> Vec<u8> {
        self.redis_cli()
            .args(args)
            .output()
            .expect("redis-cli runs")
            .stdout
    }

    /// Sends `commands` (one a line) on one connection; its answers, one a line.
    pub fn cli_lines(&self, commands: &str) -> String {
        let mut command = self.redis_cli();
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-cli runs");
        if let Some(mut stdin) = child.stdin.take() {
            let _ = stdin.write_all(commands.as_bytes());
        }
        let out = child.wait_with_output().expect("redis-cli ends");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until `replicas` replicas acknowledge a write on this primary (`WAIT` after a
    /// probe key, then deleted), so that a failover loses nothing written before: a
    /// replica's link can be `up` seconds before it streams its primary's writes. A
    /// cluster node refuses a key of another's slots (`MOVED`): the probe's name is varied
    /// until it is this node's.
    fn wait_streaming(&self, replicas: usize, deadline: Instant) {
        let mut probe = 0u32;
        loop {
            let answer = self.cli_lines(&format!(
                "SET ts-harness-probe-{probe} 1\nWAIT {replicas} 500\nDEL ts-harness-probe-{probe}\n"
            ));
            let acked = answer.lines().nth(1).and_then(|l| l.trim().parse::<usize>().ok());
            if acked.is_some_and(|n| n >= replicas) {
                return;
            }
            if answer.contains("MOVED") {
                probe += 1;
            }
            assert!(
                Instant::now() < deadline,
                "the replicas of 127.0.0.1:{} did not acknowledge its writes in time ({answer:?})",
                self.port
            );
            if !answer.contains("MOVED") {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    /// Its role as `INFO replication` says it: `master` or `slave`.
    pub fn role(&self) -> String {
        let info = String::from_utf8_lossy(&self.cli(&["INFO", "replication"])).into_owned();
        info.lines()
            .find_map(|l| l.strip_prefix("role:"))
            .unwrap_or("")
            .trim()
            .to_owned()
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

/// How a test's redis-server runs.
#[derive(Clone)]
enum Mode {
    Plain,
    ClusterNode,
    ReplicaOf(u16),
    /// A sentinel watching `primary`, whose password is `auth`.
    Sentinel {
        primary: u16,
        auth: Option<String>,
    },
}

/// The service name the sentinels of [`RedisSentinel`] monitor.
pub const SERVICE: &str = "ts-tokens";

/// A primary, a replica and three sentinels on loopback (quorum 2, a primary silent for 1 s
/// is failed over), stopped when dropped.
pub struct RedisSentinel {
    /// The primary it started with, then its replica.
    pub servers: Vec<RedisServer>,
    /// The three sentinels.
    pub sentinels: Vec<RedisServer>,
}

impl RedisSentinel {
    /// Starts them and waits until the replica is in sync and every sentinel knows the
    /// replica and the two other sentinels (20 s at most; the panic says what was missing).
    pub fn start() -> Self {
        Self::start_with_passwords(None, None)
    }

    /// As [`start`](Self::start), with the primary and its replica requiring `data` (and
    /// syncing with it), the sentinels knowing it, and the sentinels requiring `sentinels`
    /// of their clients and of each other.
    pub fn start_with_passwords(data: Option<&str>, sentinels: Option<&str>) -> Self {
        Self::start_with(data, sentinels, None)
    }

    /// As [`start`](Self::start), every server and sentinel serving TLS only (replication
    /// and the sentinels' own links included) with `tls`'s certificate.
    pub fn start_tls(tls: &RedisTls) -> Self {
        Self::start_with(None, None, Some(tls))
    }

    fn start_with(data: Option<&str>, sentinels: Option<&str>, tls: Option<&RedisTls>) -> Self {
        let data = data.map(str::to_owned);
        let primary = RedisServer::start_retrying(data.clone(), Mode::Plain, tls);
        let replica = RedisServer::start_retrying(data.clone(), Mode::ReplicaOf(primary.port), tls);
        let sentinels: Vec<RedisServer> = (0..3)
            .map(|_| {
                RedisServer::start_retrying(
                    sentinels.map(str::to_owned),
                    Mode::Sentinel {
                        primary: primary.port,
                        auth: data.clone(),
                    },
                    tls,
                )
            })
            .collect();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let synced = String::from_utf8_lossy(&replica.cli(&["INFO", "replication"]))
                .contains("master_link_status:up");
            let known = sentinels.iter().all(|s| {
                let info = String::from_utf8_lossy(&s.cli(&["INFO", "sentinel"])).into_owned();
                info.contains("status=ok") && info.contains("slaves=1") && info.contains("sentinels=3")
            });
            if synced && known {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the Sentinel setup did not come up in 20 s: replica in sync {synced}, every sentinel \
                 knowing the replica and the others {known}: {}",
                String::from_utf8_lossy(&sentinels[0].cli(&["INFO", "sentinel"]))
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        primary.wait_streaming(1, deadline);
        Self {
            servers: vec![primary, replica],
            sentinels,
        }
    }

    /// The sentinels' URLs.
    pub fn urls(&self) -> Vec<String> {
        self.sentinels.iter().map(RedisServer::url).collect()
    }

    /// The port of the primary the sentinels name now.
    pub fn primary_port(&self) -> Option<u16> {
        let out = String::from_utf8_lossy(&self.sentinels[0].cli(&[
            "SENTINEL",
            "get-master-addr-by-name",
            SERVICE,
        ]))
        .into_owned();
        out.lines().nth(1).and_then(|p| p.trim().parse().ok())
    }

    /// Waits until every sentinel names a primary other than `old` and that server says it
    /// is a primary (30 s at most); returns how long that took.
    pub fn wait_promoted(&self, old: u16) -> Duration {
        let started = Instant::now();
        loop {
            let named: Vec<Option<u16>> = self
                .sentinels
                .iter()
                .map(|s| {
                    let out =
                        String::from_utf8_lossy(&s.cli(&["SENTINEL", "get-master-addr-by-name", SERVICE]))
                            .into_owned();
                    out.lines().nth(1).and_then(|p| p.trim().parse().ok())
                })
                .collect();
            if let Some(Some(new)) = named.first()
                && *new != old
                && named.iter().all(|n| *n == Some(*new))
                && self
                    .servers
                    .iter()
                    .any(|s| s.port == *new && s.role() == "master")
            {
                return started.elapsed();
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "no failover within 30 s: the sentinels name {named:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
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
    /// `cluster_state:ok` and every primary's writes reach its replicas (20 s at most; the
    /// panic names the node that did not).
    pub fn start(primaries: usize, replicas: usize) -> Self {
        Self::start_with_password(primaries, replicas, None)
    }

    /// As [`start`](Self::start), every node requiring `password` (and its replicas
    /// syncing with it).
    pub fn start_with_password(primaries: usize, replicas: usize, password: Option<&str>) -> Self {
        Self::start_with(primaries, replicas, password, None)
    }

    /// As [`start`](Self::start), every node serving TLS only (clients, replication and
    /// the cluster bus) with `tls`'s certificate.
    pub fn start_tls(primaries: usize, replicas: usize, tls: &RedisTls) -> Self {
        Self::start_with(primaries, replicas, None, Some(tls))
    }

    fn start_with(primaries: usize, replicas: usize, password: Option<&str>, tls: Option<&RedisTls>) -> Self {
        let nodes: Vec<RedisServer> = (0..primaries * (1 + replicas))
            .map(|_| RedisServer::start_retrying(password.map(str::to_owned), Mode::ClusterNode, tls))
            .collect();
        let addresses: Vec<String> = nodes.iter().map(|n| format!("127.0.0.1:{}", n.port)).collect();
        let mut create = Command::new("redis-cli");
        cli_access(&mut create, password, nodes[0].tls.as_deref());
        let out = create
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
        // A replica that has not synced would lose everything on failover.
        for node in &nodes[primaries..] {
            while !String::from_utf8_lossy(&node.cli(&["INFO", "replication"]))
                .contains("master_link_status:up")
            {
                assert!(
                    Instant::now() < deadline,
                    "the replica on 127.0.0.1:{} did not sync with its primary in time",
                    node.port
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        for node in &nodes[..primaries] {
            node.wait_streaming(replicas, deadline);
        }
        Self { nodes }
    }

    /// The nodes' URLs, to seed a client.
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(RedisServer::url).collect()
    }
}

impl RedisCluster {
    /// The port of the primary that holds `slot`, as node `asked` sees it.
    pub fn owner_of(&self, asked: usize, slot: u16) -> Option<u16> {
        let out = String::from_utf8_lossy(&self.nodes[asked].cli(&["CLUSTER", "SLOTS"])).into_owned();
        // redis-cli prints each range as: start, end, then the primary's ip, port, id, ...
        let lines: Vec<&str> = out.lines().map(str::trim).collect();
        let mut i = 0;
        while i + 3 < lines.len() {
            if let (Ok(start), Ok(end)) = (lines[i].parse::<u16>(), lines[i + 1].parse::<u16>())
                && lines[i + 2].starts_with("127.0.0.1")
                && start <= slot
                && slot <= end
            {
                return lines[i + 3].parse().ok();
            }
            i += 1;
        }
        None
    }

    /// How many slots primary `n` holds (its line of `CLUSTER NODES`).
    pub fn slots_of(&self, n: usize) -> usize {
        let id = self.id(n);
        let nodes = String::from_utf8_lossy(&self.nodes[n].cli(&["CLUSTER", "NODES"])).into_owned();
        let line = nodes.lines().find(|l| l.starts_with(&id)).unwrap_or("");
        line.split_whitespace()
            .skip(8)
            .map(|range| match range.split_once('-') {
                Some((a, b)) => b.parse::<usize>().unwrap_or(0) + 1 - a.parse::<usize>().unwrap_or(0),
                None => usize::from(range.parse::<usize>().is_ok()),
            })
            .sum()
    }

    /// Node `n`'s id.
    pub fn id(&self, n: usize) -> String {
        String::from_utf8_lossy(&self.nodes[n].cli(&["CLUSTER", "MYID"]))
            .trim()
            .to_owned()
    }

    /// Kills primary `n` (as a crash would) and waits until every other node sees its slot
    /// `slot` served by another primary and reports `cluster_state:ok` (30 s at most):
    /// until then a client that asks a node still on the old map is sent to the dead one.
    /// Returns how long the promotion took.
    pub fn kill_and_wait_promoted(&mut self, n: usize, slot: u16) -> Duration {
        let old = self.nodes[n].port;
        self.nodes[n].stop();
        let started = Instant::now();
        loop {
            let seen: Vec<(usize, Option<u16>, bool)> = (0..self.nodes.len())
                .filter(|&i| i != n)
                .map(|i| {
                    let ok = String::from_utf8_lossy(&self.nodes[i].cli(&["CLUSTER", "INFO"]))
                        .contains("cluster_state:ok");
                    (i, self.owner_of(i, slot), ok)
                })
                .collect();
            let moved = |(_, owner, ok): &(usize, Option<u16>, bool)| *ok && owner.is_some_and(|p| p != old);
            if seen.iter().all(moved) {
                return started.elapsed();
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "no replica of 127.0.0.1:{old} was promoted as every node sees it within 30 s (slot \
                 {slot}: node, owner, cluster ok: {seen:?})"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Moves every slot of primary `from` to primary `to` (`redis-cli --cluster reshard`,
    /// keys and all, `ASK` while each slot moves); returns how long it took (120 s at most).
    pub fn move_slots(&self, from: usize, to: usize) -> Duration {
        let started = Instant::now();
        let slots = self.slots_of(from);
        let mut reshard = Command::new("timeout");
        reshard.arg("120").arg("redis-cli");
        cli_access(
            &mut reshard,
            self.nodes[to].password.as_deref(),
            self.nodes[to].tls.as_deref(),
        );
        let out = reshard
            .args([
                "--cluster",
                "reshard",
                &format!("127.0.0.1:{}", self.nodes[to].port),
            ])
            .args(["--cluster-from", &self.id(from), "--cluster-to", &self.id(to)])
            .args(["--cluster-slots", &slots.to_string(), "--cluster-yes"])
            .output()
            .expect("redis-cli runs");
        assert!(
            out.status.success(),
            "redis-cli --cluster reshard failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .rev()
                .take(5)
                .collect::<Vec<_>>()
                .join("\n"),
            String::from_utf8_lossy(&out.stderr)
        );
        started.elapsed()
    }
}
