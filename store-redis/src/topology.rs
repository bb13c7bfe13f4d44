//! Where the store's Redis is (one node, a Redis Cluster, or a primary under Sentinel) and
//! the connection to it, made on first use and, under Sentinel, made anew when the primary
//! may have moved.

use redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use redis::sentinel::SentinelClient;
use redis::{AsyncConnectionConfig, RedisError};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use thoughtspot_session_core::{StoreError, StoreErrorKind};

/// Where the store's Redis is.
pub(crate) enum Topology {
    /// One node; its connection manager reconnects to the same address.
    One(redis::Client, ConnectionManagerConfig),
    /// A Redis Cluster; its client follows the slots.
    Cluster(redis::cluster::ClusterClient),
    /// A primary the sentinels name; the lookup is asked again whenever the primary may have
    /// moved (the `redis` crate's own Sentinel connection stays on the node it found first).
    Sentinel {
        client: tokio::sync::Mutex<SentinelClient>,
        config: AsyncConnectionConfig,
    },
}

/// The store's connection. Cheap to clone: clones share the connection.
#[derive(Clone)]
pub(crate) enum Connection {
    One(ConnectionManager),
    Cluster(redis::cluster_async::ClusterConnection),
    Sentinel(MultiplexedConnection),
}

impl redis::aio::ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a redis::Cmd) -> redis::RedisFuture<'a, redis::Value> {
        match self {
            Connection::One(c) => c.req_packed_command(cmd),
            Connection::Cluster(c) => c.req_packed_command(cmd),
            Connection::Sentinel(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> redis::RedisFuture<'a, Vec<redis::Value>> {
        match self {
            Connection::One(c) => c.req_packed_commands(cmd, offset, count),
            Connection::Cluster(c) => c.req_packed_commands(cmd, offset, count),
            Connection::Sentinel(c) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Connection::One(c) => c.get_db(),
            Connection::Cluster(c) => c.get_db(),
            Connection::Sentinel(c) => c.get_db(),
        }
    }
}

/// The topology and its current connection, with the number of the connection so that a
/// failure seen by many calls at once makes one new connection, not one each.
pub(crate) struct Link {
    pub(crate) topology: Topology,
    current: Mutex<Option<(u64, Connection)>>,
    /// Connections made so far: the next one's number.
    made: AtomicU64,
    timeout: Duration,
}

impl Link {
    pub(crate) fn new(topology: Topology, timeout: Duration) -> Self {
        Self {
            topology,
            current: Mutex::new(None),
            made: AtomicU64::new(0),
            timeout,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(u64, Connection)>> {
        // Only ever replaced whole: a poisoned lock holds a whole value.
        self.current.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The current connection and its number, made now if there is none (within a few
    /// timeouts).
    pub(crate) async fn get(&self) -> Result<(u64, Connection), StoreError> {
        if let Some(current) = self.lock().as_ref() {
            return Ok(current.clone());
        }
        let made = tokio::time::timeout(self.timeout * 4, self.make()).await;
        let made = made
            .map_err(|_| StoreError::new(StoreErrorKind::Timeout, "connecting to Redis timed out"))?
            .map_err(|e| {
                StoreError::new(StoreErrorKind::Unavailable, "connecting to Redis failed").with_source(e)
            })?;
        let number = self.made.fetch_add(1, Ordering::Relaxed);
        // Another call may have connected meanwhile: the first connection made is kept.
        Ok(self.lock().get_or_insert((number, made)).clone())
    }

    async fn make(&self) -> Result<Connection, RedisError> {
        match &self.topology {
            Topology::One(client, config) => client
                .get_connection_manager_with_config(config.clone())
                .await
                .map(Connection::One),
            Topology::Cluster(client) => client.get_async_connection().await.map(Connection::Cluster),
            Topology::Sentinel { client, config } => {
                // One lookup at a time: the calls that queue here find the connection it made.
                let mut client = client.lock().await;
                if let Some((_, made)) = self.lock().as_ref() {
                    return Ok(made.clone());
                }
                let primary = client.async_get_client().await?;
                primary
                    .get_multiplexed_async_connection_with_config(config)
                    .await
                    .map(Connection::Sentinel)
            }
        }
    }

    /// Under Sentinel, forgets connection `number` after `error` (or no answer, `None`) when
    /// the primary may have moved: refused, dropped, silent, or now a replica (`READONLY`).
    /// The next call asks the sentinels where the primary is. Returns whether it was
    /// forgotten. One node and a cluster reconnect on their own.
    pub(crate) fn failed(&self, number: u64, error: Option<&RedisError>) -> bool {
        if !matches!(self.topology, Topology::Sentinel { .. }) || error.is_some_and(|e| !moved(e)) {
            return false;
        }
        let mut current = self.lock();
        if current.as_ref().is_some_and(|(n, _)| *n == number) {
            *current = None;
            return true;
        }
        false
    }
}

/// Whether `error` says the node may no longer be the primary.
fn moved(error: &RedisError) -> bool {
    use redis::{ErrorKind, ServerErrorKind};
    error.is_io_error()
        || error.is_connection_dropped()
        || error.is_connection_refusal()
        || error.is_timeout()
        || matches!(
            error.kind(),
            ErrorKind::Server(ServerErrorKind::ReadOnly | ServerErrorKind::MasterDown)
        )
}
