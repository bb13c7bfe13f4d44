//! Spawn, injected like [`Sleep`](crate::Sleep): the manager's background work (the
//! removals a shared store missed) runs on the caller's runtime, never on a user's request.

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;

/// The future a [`Spawn`] runs.
pub type SpawnFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Runs a future in the background, to its end, apart from whoever spawned it.
///
/// Enable the `rt-tokio` feature for `TokioSpawn`; code that runs several runtimes, or
/// another one, wraps its own spawn:
///
/// ```
/// use thoughtspot_session_core::{Spawn, SpawnFuture};
///
/// /// Spawns on one runtime's handle, wherever the manager is called from.
/// #[derive(Debug)]
/// struct OnRuntime(tokio::runtime::Handle);
///
/// impl Spawn for OnRuntime {
///     fn spawn(&self, future: SpawnFuture) {
///         drop(self.0.spawn(future));
///     }
/// }
///
/// let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// let spawn = OnRuntime(runtime.handle().clone());
/// let (done, finished) = std::sync::mpsc::channel();
/// spawn.spawn(Box::pin(async move { done.send(()).unwrap() }));
/// runtime.block_on(tokio::task::yield_now());
/// finished.recv_timeout(std::time::Duration::from_secs(5)).unwrap();
/// ```
pub trait Spawn: Send + Sync + Debug {
    /// Starts `future` and returns at once.
    fn spawn(&self, future: SpawnFuture);
}

impl<T: Spawn + ?Sized> Spawn for std::sync::Arc<T> {
    fn spawn(&self, future: SpawnFuture) {
        (**self).spawn(future)
    }
}

/// [`Spawn`] on the tokio runtime of the caller (`tokio::spawn`). Called outside any
/// runtime it spawns nothing and logs a warning; the manager starts its work again on its
/// next call from inside one.
#[cfg(feature = "rt-tokio")]
#[derive(Clone, Copy, Debug, Default)]
pub struct TokioSpawn;

#[cfg(feature = "rt-tokio")]
impl TokioSpawn {
    /// A tokio spawner.
    pub fn new() -> Self {
        TokioSpawn
    }
}

#[cfg(feature = "rt-tokio")]
impl Spawn for TokioSpawn {
    fn spawn(&self, future: SpawnFuture) {
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn(future)),
            Err(_) => {
                tracing::warn!("TokioSpawn was called outside a tokio runtime; the background work waits")
            }
        }
    }
}

#[cfg(all(test, feature = "rt-tokio"))]
mod tests {
    use super::*;

    #[test]
    fn tokio_spawn_outside_a_runtime_drops_the_work_without_a_panic() {
        struct Dropped(std::sync::Arc<std::sync::atomic::AtomicBool>);
        impl Drop for Dropped {
            fn drop(&mut self) {
                self.0.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        }
        let dropped = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let guard = Dropped(dropped.clone());
        TokioSpawn.spawn(Box::pin(async move { drop(guard) }));
        assert!(
            dropped.load(std::sync::atomic::Ordering::SeqCst),
            "dropped, not kept"
        );
        // Inside a runtime the same spawn runs the work.
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let (done, finished) = std::sync::mpsc::channel();
        runtime.block_on(async {
            TokioSpawn.spawn(Box::pin(async move { done.send(()).unwrap() }));
            tokio::task::yield_now().await;
        });
        finished.recv_timeout(std::time::Duration::from_secs(5)).unwrap();
    }
}
