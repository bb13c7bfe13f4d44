//! `BlockingClient`: the client for code without async (feature `blocking`).

use crate::api::SessionApi;
use crate::client::SessionClient;
use crate::error::{ConfigError, Error, InvalidRequest};
use crate::model::{GetTokenRequest, LoginRequest, SessionInfo, SessionLoginResponse};
use crate::transport::HttpTransport;
use crate::v2::{
    AuthApi, AuthSettings, ConfigureAuthSettingsRequest, CustomAccessToken, GetCustomAccessTokenRequest,
    GetFullAccessTokenRequest, GetObjectAccessTokenRequest, GetTokenResponse, RevokeTokenRequest,
    SearchAuthSettingsRequest, Token, TokenValidation, User, ValidateTokenRequest,
};
use std::future::Future;
use std::sync::Arc;

/// A [`SessionClient`] for synchronous code (CLI tools, batch jobs, sync web frameworks):
/// every operation of [`SessionApi`] and [`AuthApi`] as a plain method that blocks until it
/// is done, on a tokio runtime the client owns (one worker thread). Cheap to clone; clones
/// share the client and the runtime, and may be used from several threads at once.
///
/// Each call runs on the client's own runtime thread; the caller waits for its answer on a
/// channel. That works from a plain thread and wherever tokio says blocking code belongs,
/// on either runtime flavour (`spawn_blocking`, `block_in_place`, under `Handle::enter`),
/// and on a multi-thread runtime's worker too (the wait hands its other tasks to another
/// thread first). Only where the wait would stall the caller's runtime, on the thread
/// that drives a current-thread runtime (inside its `block_on`, a task of it, a
/// `LocalSet`), does a method return [`Error::InvalidRequest`] instead of blocking, before
/// anything is sent: call the async client there, or move the call into `spawn_blocking`.
///
/// ```
/// use thoughtspot_session_core::{BlockingClient, GetTokenRequest, SessionClient, TokioSleep};
/// # use thoughtspot_session_mock::{FakeThoughtSpot, FakeUser};
/// # let fake = FakeThoughtSpot::builder().user(FakeUser::new("analyst", "pw")).secret_key("key").build();
/// # let transport = fake.clone();
/// # let base_url = thoughtspot_session_mock::FAKE_BASE_URL;
///
/// let client = BlockingClient::new(
///     SessionClient::builder(base_url).sleep(TokioSleep::new()).build(transport).unwrap(),
/// )
/// .unwrap();
/// let issued = client.get_token(&GetTokenRequest::with_secret_key("analyst", "key")).unwrap();
/// assert!(issued.token().is_some());
/// ```
pub struct BlockingClient<T> {
    client: SessionClient<T>,
    runtime: Arc<OwnedRuntime>,
}

impl<T> Clone for BlockingClient<T> {
    fn clone(&self) -> Self {
        Self {
            client: self.client.clone(),
            runtime: Arc::clone(&self.runtime),
        }
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for BlockingClient<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockingClient")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

/// The runtime, shut down without blocking when the last clone drops inside another
/// runtime (dropping a runtime there would panic).
struct OwnedRuntime(Option<tokio::runtime::Runtime>);

impl Drop for OwnedRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take()
            && tokio::runtime::Handle::try_current().is_ok()
        {
            runtime.shutdown_background();
        }
    }
}

impl<T: HttpTransport> BlockingClient<T> {
    /// Wraps `client`, starting the runtime its calls run on.
    pub fn new(client: SessionClient<T>) -> Result<Self, ConfigError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("thoughtspot-session-blocking")
            .enable_all()
            .build()
            .map_err(|e| ConfigError::with_source("the blocking client's runtime could not start", e))?;
        Ok(Self {
            client,
            runtime: Arc::new(OwnedRuntime(Some(runtime))),
        })
    }

    /// The async client underneath (its token, cookies and settings are this client's).
    pub fn client(&self) -> &SessionClient<T> {
        &self.client
    }

    /// Runs `call` on the client's own runtime thread and waits for its answer on a
    /// channel. Where the caller is itself on a runtime, the wait is made safe or refused:
    /// - no runtime (a plain thread): waits;
    /// - a multi-thread runtime (a worker, `spawn_blocking`, `block_in_place`, under
    ///   `Handle::enter`): waits inside `block_in_place`, which hands a worker's other tasks
    ///   to another thread first;
    /// - a current-thread runtime, off the thread that drives it (`spawn_blocking`, under
    ///   `Handle::enter`): waits, since that runtime's thread goes on meanwhile;
    /// - the thread that drives a current-thread runtime: refused, since waiting there
    ///   would stall it.
    fn block_on<O, F>(&self, call: F) -> Result<O, Error>
    where
        O: Send + 'static,
        F: Future<Output = Result<O, Error>> + Send + 'static,
    {
        use tokio::runtime::{Handle, RuntimeFlavor};
        let on_multi_thread = match Handle::try_current() {
            Err(_) => false,
            Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => true,
            Ok(_) if !driving_a_runtime() => false,
            Ok(_) => {
                return Err(InvalidRequest::new(
                    "a BlockingClient method was called on the thread that drives a \
                     current-thread async runtime, where waiting would stall it: call the \
                     async SessionClient (client()) there, or move the call into \
                     tokio::task::spawn_blocking",
                )
                .into());
            }
        };
        let Some(runtime) = &self.runtime.0 else {
            // Taken only in drop, so never seen by a live client.
            return Err(InvalidRequest::new("the blocking client's runtime is gone").into());
        };
        let (answer, wait) = std::sync::mpsc::sync_channel(1);
        runtime.spawn(async move {
            let _ = answer.send(call.await);
        });
        // The call ends within the client's timeout; the runtime outlives it (held here).
        let receive = || {
            wait.recv().unwrap_or_else(|_| {
                Err(InvalidRequest::new("the blocking client's runtime stopped before the call ended").into())
            })
        };
        if on_multi_thread {
            tokio::task::block_in_place(receive)
        } else {
            receive()
        }
    }
}

/// Whether this thread is polling futures for a tokio runtime right now (inside a
/// runtime's `block_on`, one of its tasks or a `LocalSet`), as opposed to a thread merely
/// inside a runtime's context (a `spawn_blocking` thread, under `Handle::enter`).
///
/// tokio says so only through its cooperative budget: a runtime polls every future under a
/// budget (128 units), while blocking threads and plain threads run unconstrained. So the
/// budget is drawn down here, unit by unit, with each unit's guard held, and every guard is
/// then given back newest first, leaving the budget as it was. A budget that runs out
/// within [`BUDGET_PROBE`] units is a runtime's. Code that polls a future inside
/// `tokio::task::unconstrained` on the runtime's thread opts out of budgets, and so out of
/// this check.
fn driving_a_runtime() -> bool {
    use std::task::{Context, Poll, Waker};
    use tokio::task::coop;
    if !coop::has_budget_remaining() {
        return true;
    }
    let mut cx = Context::from_waker(Waker::noop());
    let mut held = Vec::with_capacity(BUDGET_PROBE);
    let budgeted = loop {
        if held.len() == BUDGET_PROBE {
            break false;
        }
        match coop::poll_proceed(&mut cx) {
            Poll::Ready(unit) => held.push(unit),
            Poll::Pending => break true,
        }
    };
    // Each guard restores the budget it found: given back newest first, the last one
    // restores the budget as it was before the probe.
    while let Some(unit) = held.pop() {
        drop(unit);
    }
    budgeted
}

/// More units than tokio's budget holds (128 since tokio 0.2): a budget that lasts this
/// long is no budget.
const BUDGET_PROBE: usize = 512;

macro_rules! blocking {
    ($($(#[$doc:meta])* $trait:ident::$name:ident($($arg:ident: $ty:ty),*) -> $out:ty;)*) => {
        impl<T: HttpTransport + 'static> BlockingClient<T> {
            $(
                $(#[$doc])*
                pub fn $name(&self, $($arg: $ty),*) -> Result<$out, Error> {
                    let client = self.client.clone();
                    $(let $arg = $arg.clone();)*
                    self.block_on(async move { <SessionClient<T> as $trait>::$name(&client, $(&$arg),*).await })
                }
            )*
        }
    };
}

blocking! {
    /// [`SessionApi::get_session_info`], blocking.
    SessionApi::get_session_info() -> SessionInfo;
    /// [`SessionApi::login`], blocking.
    SessionApi::login(request: &LoginRequest) -> SessionLoginResponse;
    /// [`SessionApi::logout`], blocking.
    SessionApi::logout() -> bool;
    /// [`SessionApi::get_token`], blocking.
    SessionApi::get_token(request: &GetTokenRequest) -> SessionLoginResponse;
    /// [`SessionApi::revoke_token`], blocking.
    SessionApi::revoke_token() -> bool;
    /// [`AuthApi::session_user`], blocking.
    AuthApi::session_user() -> User;
    /// [`AuthApi::session_token`], blocking.
    AuthApi::session_token() -> GetTokenResponse;
    /// [`AuthApi::session_login`], blocking.
    AuthApi::session_login(request: &crate::v2::SessionLoginRequest) -> ();
    /// [`AuthApi::session_logout`], blocking.
    AuthApi::session_logout() -> ();
    /// [`AuthApi::token_full`], blocking.
    AuthApi::token_full(request: &GetFullAccessTokenRequest) -> Token;
    /// [`AuthApi::token_object`], blocking.
    AuthApi::token_object(request: &GetObjectAccessTokenRequest) -> Token;
    /// [`AuthApi::token_custom`], blocking.
    AuthApi::token_custom(request: &GetCustomAccessTokenRequest) -> CustomAccessToken;
    /// [`AuthApi::token_revoke`], blocking.
    AuthApi::token_revoke(request: &RevokeTokenRequest) -> ();
    /// [`AuthApi::token_validate`], blocking.
    AuthApi::token_validate(request: &ValidateTokenRequest) -> TokenValidation;
    /// [`AuthApi::configure_auth_settings`], blocking.
    AuthApi::configure_auth_settings(request: &ConfigureAuthSettingsRequest) -> ();
    /// [`AuthApi::search_auth_settings`], blocking.
    AuthApi::search_auth_settings(request: &SearchAuthSettingsRequest) -> AuthSettings;
}
